"""Chapter 5's exercise checkers, written once: cases, NumPy references, the usual mistakes,
hints, and the checker bodies (``check_x(bk, answer)``; ``bk``: see ``course_lib.chapters.binding``).

Pieces each binding gives its ``Backend``: hint words ``repeat_hint`` (repeat rows in place) and
``cast_hint`` (lengths to floats).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from course_lib.common.checking import CheckResult, Mismatch, call, expect_close, expect_shape, run_check
from course_lib.common.trace import gather_tree

#: what each exercise asks for, in one line: the hint when a problem has no more precise one
HINTS = {
    "check_tile_batch": "repeat each row beam_width times in place: rows a, b become a, a, a, b, b, b",
    "check_length_penalty": "GNMT: lp = ((5 + length) / 6) ** alpha; score = log_prob / lp; the best score wins",
    "check_gather_tree": "start from each final beam at the last step and follow parent_ids backwards; after "
                         "a sequence's first end token, write the end token",
}

# -- exercise 1: tile_batch ---------------------------------------------------------------------

#: (shapes of the leaves, beam width) for check_tile_batch
TILE_CASES = [([(3, 2)], 2), ([(2, 4), (2, 4)], 3), ([(4,), (4, 2, 3)], 2)]


def tile_arrays(shapes, seed):
    """Seeded float32 arrays of ``shapes`` whose rows differ by 10s (row r near 10 r)."""
    rng = np.random.default_rng(seed)
    rows = [10 * np.arange(s[0]).reshape((-1,) + (1,) * (len(s) - 1)) for s in shapes]  # (B, 1, ...)
    return [(np.round(rng.standard_normal(s), 2) + r).astype(np.float32) for s, r in zip(shapes, rows)]


def tile_mistake(got: np.ndarray, x: np.ndarray, multiplier: int) -> Optional[str]:
    """Name the usual mistakes of tile_batch: the whole batch repeated (a, b, a, b), an added axis,
    no axis (a flattened tensor) or another axis than the batch's (None if none matches)."""
    if got.shape == (x.shape[0] * multiplier,) + x.shape[1:]:
        if np.array_equal(got, np.concatenate([x] * multiplier, axis=0)):
            return ("you repeated the whole batch (rows a, b, a, b); beam search keeps the copies of one row next to "
                    "each other (a, a, b, b): each row repeated in place")
    if got.shape == (x.shape[0], multiplier) + x.shape[1:] or got.shape == (multiplier, x.shape[0]) + x.shape[1:]:
        merged = [x.shape[0] * multiplier] + list(x.shape[1:])
        return f"you added an axis: tile_batch merges the beams into the batch axis, [B * beam_width, ...] = {merged}"
    if x.ndim > 1 and got.shape == (x.size * multiplier,) and np.array_equal(got, np.repeat(x, multiplier)):
        return (f"you repeated without an axis, which flattens the tensor {list(x.shape)} into one vector "
                f"{list(got.shape)}: repeat along the batch axis, axis 0")
    for axis in range(1, x.ndim):
        if got.shape == np.repeat(x, multiplier, axis=axis).shape and \
                np.array_equal(got, np.repeat(x, multiplier, axis=axis)):
            return (f"you repeated along axis {axis} ({list(x.shape)} -> {list(got.shape)}); the copies go into the "
                    f"batch axis, axis 0: [B * multiplier, ...]")
    return None


# -- exercise 2: the GNMT length penalty ----------------------------------------------------------

#: (log-probs, lengths, alpha) cases for check_length_penalty
PENALTY_CASES = [
    (np.array([-0.92, -1.05, -1.60]), np.array([2, 5, 9]), 0.0),
    (np.array([-0.92, -1.05, -1.60]), np.array([2, 5, 9]), 1.0),
    (np.array([-2.0, -2.3, -3.1, -0.7]), np.array([3, 4, 8, 1]), 0.6),
    (np.array([-4.0, -4.4]), np.array([6, 12]), 2.0),
]


def length_penalty(lengths, alpha):
    """GNMT's length penalty ``((5 + length) / 6) ** alpha`` (Wu et al., 2016)."""
    return ((5.0 + np.asarray(lengths, np.float64)) / 6.0) ** alpha


def penalty_slips(log_probs, lengths, alpha) -> dict:
    """The usual slips of the length-penalised score: ``{what went wrong: the scores it gives}``."""
    lengths, log_probs = np.asarray(lengths, np.float64), np.asarray(log_probs, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "you divided by length ** alpha; GNMT's penalty is ((5 + length) / 6) ** alpha": log_probs / lengths ** alpha,
            "you forgot the exponent: the penalty is ((5 + length) / 6) ** alpha": log_probs / ((5 + lengths) / 6),
            "you multiplied (5 + length) / 6 by alpha; alpha is an exponent": log_probs / ((5 + lengths) / 6 * alpha),
            "you multiplied by the penalty; the score divides the log-probability by it":
                log_probs * ((5 + lengths) / 6) ** alpha,
            "you raised only (5 + length) to the power alpha; the whole fraction is: ((5 + length) / 6) ** alpha":
                log_probs / ((5 + lengths) ** alpha / 6),
            "you subtracted the penalty; the score divides the log-probability by it":
                log_probs - ((5 + lengths) / 6) ** alpha,
            "you returned the penalty itself; the score is log_prob / penalty": ((5 + lengths) / 6) ** alpha,
            "you returned the log-probabilities unchanged; divide them by the penalty ((5 + length) / 6) ** alpha":
                log_probs,
        }


def penalty_mistake(answers) -> Optional[str]:
    """The slip that gives every answer, ``[(got, log_probs, lengths, alpha)]`` over the cases (else None)."""
    for text in penalty_slips(*answers[0][1:]):
        values = [penalty_slips(log_probs, lengths, alpha)[text] for _, log_probs, lengths, alpha in answers]
        if all(got.shape == value.shape and np.allclose(got, value, atol=1e-4)
               for (got, *_), value in zip(answers, values)):
            return text
    return None


# -- exercise 3: gather_tree --------------------------------------------------------------------

def gather_tree_cases():
    """``[(step_ids [T, B, W], parent_ids [T, B, W], end_token)]`` for check_gather_tree."""
    cases = []
    # tfa's hand-made case (max_time 3, batch 2, beam 3), no end token inside
    step = np.array([[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[2, 3, 4], [5, 6, 7], [8, 9, 10]]]).transpose(1, 0, 2)
    parent = np.array([[[0, 0, 0], [0, 1, 1], [2, 1, 2]], [[0, 0, 0], [1, 2, 0], [2, 1, 1]]]).transpose(1, 0, 2)
    cases.append((step, parent, 11))
    rng = np.random.default_rng(5)
    T, B, W, V, end = 6, 2, 3, 6, 1
    step = rng.integers(2, V, size=(T, B, W))
    step[2, 0, 1] = end  # a beam that ends early: the end token, then end tokens only
    step[4, 1, 0] = end
    parent = rng.integers(0, W, size=(T, B, W))
    parent[0] = 0
    cases.append((step, parent, end))
    return cases


def gather_tree_reference(step_ids, parent_ids, end_token):
    """NumPy ``gather_tree`` over all steps (no length limit)."""
    T, B, _ = np.shape(step_ids)
    return gather_tree(step_ids, parent_ids, np.full(B, T), end_token)


def _pad_after_end(ids: np.ndarray, end_token) -> np.ndarray:
    """``ids [T, B, W]`` with every token after the first ``end_token`` of a column set to it."""
    ended = np.cumsum(ids == end_token, axis=0) - (ids == end_token) > 0
    return np.where(ended, end_token, ids)


def _paths(step_ids, parent_ids, slip: str = "") -> np.ndarray:
    """The tokens along each final beam's path, traced back from the last step, without padding.

    ``slip``: ``"early"`` moves to the parent before reading a step's token; ``"parent_slot"`` reads
    a step's token in the slot its parent pointer names."""
    T, B, W = np.shape(step_ids)
    paths = np.empty_like(step_ids)
    beam = np.broadcast_to(np.arange(W), (B, W)).copy()
    rows = np.arange(B)[:, None]
    for t in reversed(range(T)):
        if slip == "early" and t < T - 1:
            beam = parent_ids[t][rows, beam]
        paths[t] = step_ids[t][rows, parent_ids[t][rows, beam] if slip == "parent_slot" else beam]
        if slip != "early":
            beam = parent_ids[t][rows, beam]
    return paths


def gather_tree_slips(step_ids, parent_ids, end_token) -> dict:
    """The usual slips of gather_tree: ``{what went wrong: the sequences [T, B, W] it gives}``."""
    step_ids, parent_ids = np.asarray(step_ids), np.asarray(parent_ids)
    padded = _pad_after_end(step_ids, end_token)
    one_step_off = ("you followed the parents one step off: step t's token is step_ids[t, b, beam] of the slot the "
                    "path is in at step t, and only then does parent_ids[t, b, beam] give its slot at step t - 1")
    slot_order = ("you padded slot by slot before following the parents: a slot holds different hypotheses at "
                  "different steps; trace each path back first, then pad it after its first end token")
    return {
        "you returned step_ids as they are: each step's token must come from the beam the path went through":
            [step_ids],
        "you padded step_ids after their end tokens but did not follow the parents: each step's token must come "
        "from the beam the path went through": [padded],
        "the paths are right, but after a sequence's first end token every later token must be the end token":
            [_paths(step_ids, parent_ids)],
        slot_order: [_paths(padded, parent_ids), _pad_after_end(_paths(padded, parent_ids), end_token)],
        one_step_off: [v for slip in ("early", "parent_slot") for off in [_paths(step_ids, parent_ids, slip)]
                       for v in (off, _pad_after_end(off, end_token))],
    }


def gather_tree_mistake(answers) -> Optional[str]:
    """The slip that gives every answer, ``[(got, step_ids, parent_ids, end_token)]`` over the cases (else None)."""
    slips = [gather_tree_slips(*case) for _, *case in answers]
    for text in slips[0]:
        if all(any(got.shape == v.shape and np.array_equal(got, v) for v in s[text])
               for (got, *_), s in zip(answers, slips)):
            return text
    return None


# -- the checkers -------------------------------------------------------------------------------

def _leaves_of(got, given: list) -> list:
    """The learner's result as a list like ``given`` (one tensor, or a list of as many)."""
    if len(given) == 1:
        return [got]
    if not isinstance(got, (list, tuple)) or len(got) != len(given):
        what = f"a {type(got).__name__} of {len(got)}" if isinstance(got, (list, tuple)) else "one tensor"
        raise Mismatch("structure", f"given a list of {len(given)} tensors, return a list of {len(given)}, "
                       f"got {what}", "tile each tensor of the list: [tile(x) for x in t]")
    return list(got)


def check_tile_batch(bk, my_tile_batch) -> CheckResult:
    """Exercise: ``my_tile_batch(t, multiplier)`` for a tensor ``[B, ...]`` or a list of them."""
    def body():
        for i, (shapes, multiplier) in enumerate(TILE_CASES):
            arrays = tile_arrays(shapes, seed=i)
            given = [bk.float32(a) for a in arrays]
            t = given[0] if len(given) == 1 else given
            got = call(my_tile_batch, t, multiplier, what=f"my_tile_batch(t, {multiplier})")
            want = [np.repeat(a, multiplier, axis=0) for a in arrays]
            for j, (g, w, a) in enumerate(zip(_leaves_of(got, given), want, arrays)):
                g = bk.array(g)
                name = "result" if len(given) == 1 else f"result[{j}]"
                mistake = tile_mistake(g, a, multiplier)
                if mistake and not (g.shape == w.shape and np.array_equal(g, w)):
                    raise Mismatch("value", f"{name}, multiplier {multiplier}: {mistake}", bk.repeat_hint)
                expect_close(name, g, w, ["row"] + [f"axis {k}" for k in range(1, w.ndim)],
                             hint="row r of the result is row r // multiplier of the input")
        return "repeats each row in place (a, a, b, b) for tensors and lists of them"
    return run_check("check_tile_batch", body, HINTS["check_tile_batch"])


def check_length_penalty(bk, gnmt_scores) -> CheckResult:
    """Exercise: ``gnmt_scores(log_probs [N], lengths [N], alpha) -> scores [N]``."""
    def body():
        answers = []
        for log_probs, lengths, alpha in PENALTY_CASES:
            got = call(gnmt_scores, bk.float32(log_probs), bk.ids(lengths), alpha,
                       what=f"gnmt_scores(log_probs, lengths, alpha={alpha})", hint=bk.cast_hint)
            got = bk.array(got).astype(np.float64)
            expect_shape("scores", got, [len(log_probs)], "hypotheses", hint="one score per hypothesis")
            answers.append((got, log_probs, lengths, alpha))
        for got, log_probs, lengths, alpha in answers:
            want = log_probs / length_penalty(lengths, alpha)
            if not np.allclose(got, want, atol=1e-4):
                mistake = penalty_mistake(answers)
                i = int(np.argmax(np.where(np.isfinite(got), np.abs(got - want), np.inf)))  # the worst
                raise Mismatch("value", f"with alpha = {alpha}, hypothesis {i} (log-prob {log_probs[i]}, length "
                               f"{lengths[i]}): expected {want[i]:.4f}, got {got[i]:.4f}", mistake or "")
            if int(np.argmax(got)) != int(np.argmax(want)):
                raise Mismatch("value", f"with alpha = {alpha} hypothesis {int(np.argmax(want))} should win, "
                               f"yours picks {int(np.argmax(got))}")
        return f"GNMT scores and winners right for alpha in {[c[2] for c in PENALTY_CASES]}"
    return run_check("check_length_penalty", body, HINTS["check_length_penalty"])


def check_gather_tree(bk, my_gather_tree) -> CheckResult:
    """Exercise: ``my_gather_tree(step_ids [T, B, W], parent_ids [T, B, W], end_token) -> [T, B, W]``."""
    def body():
        answers = []
        for step_ids, parent_ids, end in gather_tree_cases():
            got = call(my_gather_tree, bk.ids(step_ids), bk.ids(parent_ids), end,
                       what="my_gather_tree(step_ids, parent_ids, end_token)")
            got = bk.array(got)
            expect_shape("sequences", got, np.shape(step_ids), "time, batch, beam",
                         hint="the result has the shape of step_ids: [T, B, W]")
            answers.append((got, step_ids, parent_ids, end))
        for got, step_ids, parent_ids, end in answers:
            want = gather_tree_reference(step_ids, parent_ids, end)
            if not np.array_equal(got, want):
                mistake = gather_tree_mistake(answers)
                if mistake:
                    raise Mismatch("value", mistake)
                expect_close("sequences", got, want, ("step", "batch", "beam"),
                             hint="walk back from the last step: token = step_ids[t, b, beam], then "
                                  "beam = parent_ids[t, b, beam]")
        return "follows the parents back from every final beam and pads after the first end token (tfa's cases)"
    return run_check("check_gather_tree", body, HINTS["check_gather_tree"])


#: the checkers, in the order the notebook uses them (``binding.bind`` binds them in this order)
CHECKERS = (check_tile_batch, check_length_penalty, check_gather_tree)
