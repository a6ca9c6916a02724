"""Exercise checkers of chapters 4-6, the framework-free half: the cases, NumPy references and
the messages that both backends share (NumPy in, NumPy out).

The checkers themselves are ``course_lib.tf.exercises_ch4_6`` and ``course_lib.torch.exercises_ch4_6``
(``from course_lib.tf import exercises_ch4_6 as ex``); they print ✓ or ✗ with what is wrong and a
hint, exactly like the checkers of chapters 1-3 (``course_lib.common.exercises``), and never raise
for a wrong answer.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from course_lib.common import exercises as base
from course_lib.common.exercises import CheckResult, Mismatch  # noqa: F401  (re-exported)

#: what each exercise asks for, in one line: the hint when a problem has no more precise one
HINTS = {
    # chapter 4
    "check_feed_mask_sampler": "teacher forcing as MyTrainingSampler, except that the next input of row b is the "
                               "embedding of sample_ids[b] where feed_sample[b, time + 1] is true",
    "check_frame_sampler": "cl.InferenceSampler(sample_fn=identity, sample_shape=[r * depth], sample_dtype=float32, "
                           "end_fn=max |step| < silence, next_inputs_fn=the last depth numbers)",
    "check_top_k_sampler": "keep the k largest logits of each row, draw one of them with probabilities "
                           "softmax(top k logits), and return the id it stands for",
    # chapter 5
    "check_tile_batch": "repeat each row beam_width times in place: rows a, b become a, a, a, b, b, b",
    "check_length_penalty": "GNMT: lp = ((5 + length) / 6) ** alpha; score = log_prob / lp; the best score wins",
    "check_gather_tree": "start from each final beam at the last step and follow parent_ids backwards; after "
                         "a sequence's first end token, write the end token",
    # chapter 6
    "check_context": "context[n] = sum over s of alignments[n, s] * memory[n, s, :]",
    "check_bahdanau_score": "score[b, s] = (g * v / |v|) . tanh(keys[b, s] + query[b] @ query_kernel + b)",
    "check_masked_softmax": "set the scores past each row's length to a very negative number, softmax over the "
                            "last axis, then multiply by the mask so padding gets exactly 0",
}


def run_check(name: str, body: Callable[[], str]) -> CheckResult:
    """``course_lib.common.exercises.run_check`` with the hints of these chapters."""
    def with_hint():
        try:
            return body()
        except Mismatch as m:
            if not m.hint:
                m.hint = HINTS.get(name, "")
            raise
    return base.run_check(name, with_hint)


# -- chapter 4, exercise 1: FeedMaskSampler ----------------------------------------------------

#: vocabulary, embedding, units, batch, time of the decoder the FeedMaskSampler checker runs
FEED = dict(V=7, E=4, H=6, B=4, T=6, lengths=[6, 3, 1, 5], seed=41)


def feed_mask_arrays():
    """``(weights, embedding [V, E], ids [B, T], lengths [B], masks)``: the decoder's weights (Keras
    layout), the ground-truth ids and three ``feed_sample`` masks ``[B, T]`` (random, all false =
    teacher forcing, all true = free running after the first step)."""
    d = FEED
    shapes = {f"cell/{k}": s for k, s in base.cell_weight_shapes("LSTMCell", d["E"], d["H"]).items()}
    shapes.update({"output_layer/kernel": (d["H"], d["V"]), "output_layer/bias": (d["V"],)})
    weights = base.rng_weights(shapes, d["seed"], scale=1.0)
    rng = np.random.default_rng(d["seed"] + 1)
    embedding = rng.standard_normal((d["V"], d["E"])).astype(np.float32)
    ids = rng.integers(0, d["V"], size=(d["B"], d["T"]))
    lengths = np.array(d["lengths"])
    random_mask = rng.random((d["B"], d["T"])) < 0.5
    random_mask[:, 0] = False
    masks = {"random": random_mask, "all false (teacher forcing)": np.zeros((d["B"], d["T"]), bool),
             "all true (free running)": np.ones((d["B"], d["T"]), bool)}
    return weights, embedding, ids, lengths, masks


def explain_feed(mask: np.ndarray, lengths) -> Callable[[tuple], str]:
    """For a wrong logit at (row, step, ...): what that step should have read."""
    def explain(idx):
        row, step = idx[0], idx[1]
        if step >= lengths[row]:
            return f"row {row} has length {lengths[row]}, so step {step} is past its end"
        if step == 0:
            return "step 0 reads the first ground-truth input inputs[:, 0]"
        if mask[row, step]:
            return (f"feed_sample[{row}, {step}] is True: step {step} must read the embedding of the token "
                    f"picked at step {step - 1}")
        return f"feed_sample[{row}, {step}] is False: step {step} must read the ground truth inputs[:, {step}]"
    return explain


# -- chapter 4, exercise 2: make_frame_sampler ---------------------------------------------------

#: (r, depth) cases of make_frame_sampler; silence threshold
FRAME_CASES = [(3, 1), (2, 4), (1, 2)]
FRAME_SILENCE = 0.1


def frame_outputs(r: int, depth: int) -> np.ndarray:
    """Step outputs ``[4, r * depth]`` that tell the usual mistakes apart: row 0 loud everywhere,
    row 1 loud except its last frame, row 2 silent, row 3 silent except its last frame."""
    rng = np.random.default_rng(100 * r + depth)
    loud = rng.uniform(0.3, 0.9, (4, r, depth)) * rng.choice([-1, 1], (4, r, depth))
    quiet = rng.uniform(-0.05, 0.05, (4, r, depth))
    frames = loud.copy()
    frames[1, -1] = quiet[1, -1]
    frames[2] = quiet[2]
    frames[3, :-1] = quiet[3, :-1]
    return frames.reshape(4, r * depth).astype(np.float32)


def frame_finished(outputs: np.ndarray, silence: float = FRAME_SILENCE) -> np.ndarray:
    return np.abs(outputs).max(axis=-1) < silence


FRAME_ROW_STORY = {
    0: "row 0 is loud in every frame: it goes on",
    1: "row 1's last frame is quiet but its other frames are loud: the step is not silent, so it goes on "
       "(look at every number of the step, not only the last frame)",
    2: "row 2 is quiet in every frame: a silent step, so it has finished",
    3: "row 3 is quiet except its last frame: the step is not silent, so it goes on",
}


def frame_next_inputs_mistake(got: np.ndarray, outputs: np.ndarray, depth: int) -> Optional[str]:
    """Name the usual mistakes of next_inputs_fn (None when ``got`` is right)."""
    if got.shape == outputs[:, -depth:].shape and np.allclose(got, outputs[:, -depth:]):
        return None
    if got.shape == outputs[:, :depth].shape and np.allclose(got, outputs[:, :depth]) and outputs.shape[1] > depth:
        return "you fed back the first frame; Tacotron feeds back the last one: outputs[:, -depth:]"
    if got.shape == outputs.shape:
        return "you fed back the whole step [B, r * depth]; the next input is one frame [B, depth]"
    return None


# -- chapter 4, exercise 3: TopKSampler ----------------------------------------------------------

#: logits of the top-k checker: two rows of logits, each repeated TOP_K_REPEATS times
TOP_K_LOGITS = np.array([[2.0, 1.5, 1.0, 0.2, -1.0, -2.0],
                         [0.0, 3.0, -1.0, 2.5, 1.0, 0.5]], np.float32)
TOP_K_REPEATS = 4000
TOP_K_CASES = (1, 3)
TOP_K_TOLERANCE = 0.035


def top_k_probabilities(logits: np.ndarray, k: int) -> np.ndarray:
    """``[rows, V]``: softmax over the k largest logits of each row, 0 elsewhere."""
    logits = np.asarray(logits, np.float64)
    out = np.zeros_like(logits)
    for row, z in enumerate(logits):
        top = np.argsort(-z, kind="stable")[:k]
        e = np.exp(z[top] - z[top].max())
        out[row, top] = e / e.sum()
    return out


def check_top_k_draws(ids: np.ndarray, k: int) -> str:
    """Raise a ``Mismatch`` unless ``ids`` ``[2 * TOP_K_REPEATS]`` look like top-k draws."""
    base.expect_shape("sample_ids", ids, [len(TOP_K_LOGITS) * TOP_K_REPEATS], "batch",
                      hint="one id per row: return sample_ids [B], not [B, 1] or [B, k]")
    if ids.dtype.kind not in "iu":
        raise Mismatch("value", f"`sample_ids` must be integer token ids, got dtype {ids.dtype}",
                       "return the ids of the drawn tokens, not their logits or probabilities")
    want = top_k_probabilities(TOP_K_LOGITS, k)
    rows = ids.reshape(len(TOP_K_LOGITS), TOP_K_REPEATS)
    for r, (drawn, p) in enumerate(zip(rows, want)):
        order = list(np.argsort(-TOP_K_LOGITS[r], kind="stable"))
        outside = [int(i) for i in drawn if i < 0 or i >= len(p) or p[int(i)] == 0]
        if outside:
            bad = outside[0]
            rank = order.index(bad) + 1 if 0 <= bad < len(p) else None
            what = f"the {rank}{_ordinal(rank)} likeliest" if rank else "not a token id"
            raise Mismatch("value", f"with k = {k}, a row with logits {TOP_K_LOGITS[r].tolist()} drew token {bad}, "
                           f"{what}; only the {k} likeliest may be drawn",
                           "take the k largest logits (top_k) and draw among those only")
        freq = np.bincount(drawn.astype(np.int64), minlength=len(p)) / len(drawn)
        worst = int(np.argmax(np.abs(freq - p)))
        if abs(freq[worst] - p[worst]) > TOP_K_TOLERANCE:
            uniform = np.where(p > 0, 1.0 / k, 0.0)
            if np.abs(freq - uniform).max() < TOP_K_TOLERANCE:
                why = "you drew the k tokens uniformly; weight them by their softmax probabilities"
            else:
                why = "draw with probabilities softmax(the k largest logits), renormalised over those k"
            raise Mismatch("value", f"with k = {k}, token {worst} was drawn {freq[worst]:.3f} of the time for logits "
                           f"{TOP_K_LOGITS[r].tolist()}; expected {p[worst]:.3f} (± {TOP_K_TOLERANCE})", why)
    return ""


def _ordinal(n) -> str:
    return {1: "st", 2: "nd", 3: "rd"}.get(n if n < 20 else n % 10, "th")


# -- chapter 5 ---------------------------------------------------------------------------------

#: (shapes of the leaves, beam width) for check_tile_batch
TILE_CASES = [([(3, 2)], 2), ([(2, 4), (2, 4)], 3), ([(4,), (4, 2, 3)], 2)]


def tile_arrays(shapes, seed):
    rng = np.random.default_rng(seed)
    return [np.round(rng.standard_normal(s), 2).astype(np.float32) + 10 * np.arange(s[0]).reshape((-1,) + (1,) * (len(s) - 1))
            for s in shapes]


def tile_mistake(got: np.ndarray, x: np.ndarray, multiplier: int) -> Optional[str]:
    """Name the usual mistake of tile_batch: the whole batch repeated (a, b, a, b)."""
    if got.shape == (x.shape[0] * multiplier,) + x.shape[1:]:
        if np.array_equal(got, np.concatenate([x] * multiplier, axis=0)):
            return ("you repeated the whole batch (rows a, b, a, b); beam search keeps the copies of one row next to "
                    "each other (a, a, b, b): each row repeated in place")
    if got.shape == (x.shape[0], multiplier) + x.shape[1:] or got.shape == (multiplier, x.shape[0]) + x.shape[1:]:
        return f"you added an axis: tile_batch merges the beams into the batch axis, [B * beam_width, ...] = {[x.shape[0] * multiplier] + list(x.shape[1:])}"
    return None


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


def penalty_mistake(got: np.ndarray, log_probs, lengths, alpha) -> Optional[str]:
    """Name the usual slips of the length-penalised score (None if none matches)."""
    lengths = np.asarray(lengths, np.float64)
    log_probs = np.asarray(log_probs, np.float64)
    candidates = {
        "you divided by length ** alpha; GNMT's penalty is ((5 + length) / 6) ** alpha": lengths ** alpha,
        "you forgot the exponent: the penalty is ((5 + length) / 6) ** alpha": (5 + lengths) / 6,
        "you multiplied (5 + length) / 6 by alpha; alpha is an exponent": (5 + lengths) / 6 * alpha,
        "you multiplied by the penalty; the score divides the log-probability by it": ((5 + lengths) / 6) ** -alpha,
    }
    for text, penalty in candidates.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            value = log_probs / penalty
        if got.shape == value.shape and np.allclose(got, value, atol=1e-4):
            return text
    return None


#: ``(step_ids [T, B, W], parent_ids [T, B, W], end_token)`` for check_gather_tree
def gather_tree_cases():
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
    from course_lib.common.trace import gather_tree

    T, B, _ = np.shape(step_ids)
    return gather_tree(step_ids, parent_ids, np.full(B, T), end_token)


def gather_tree_mistake(got, step_ids, parent_ids, end_token) -> Optional[str]:
    """Name the usual slips of gather_tree: no parent following, no end-token padding (else None)."""
    got = np.asarray(got)
    if got.shape == np.shape(step_ids) and np.array_equal(got, step_ids):
        return "you returned step_ids as they are: each step's token must come from the beam the path went through"
    T, B, W = np.shape(step_ids)  # the right paths, without the end-token padding
    paths = np.empty_like(step_ids)
    beam = np.broadcast_to(np.arange(W), (B, W)).copy()
    rows = np.arange(B)[:, None]
    for t in reversed(range(T)):
        paths[t] = step_ids[t][rows, beam]
        beam = parent_ids[t][rows, beam]
    if got.shape == paths.shape and np.array_equal(got, paths):
        return "the paths are right, but after a sequence's first end token every later token must be the end token"
    return None


# -- chapter 6 ---------------------------------------------------------------------------------

def context_arrays(seed: int = 6, N: int = 5, S: int = 20, D: int = 30, lengths=(20, 13, 1, 20, 7)):
    """``(alignments [N, S], memory [N, S, D])`` of the context exercise: alignments that sum to 1
    over each row's first ``lengths`` positions, memory zero past them (as an encoder's padding)."""
    rng = np.random.default_rng(seed)
    mask = np.arange(S)[None, :] < np.asarray(lengths)[:, None]
    scores = rng.standard_normal((N, S)) * 2
    alignments = np.where(mask, np.exp(scores), 0.0)
    alignments /= alignments.sum(-1, keepdims=True)
    memory = rng.standard_normal((N, S, D)) * mask[..., None]
    return alignments.astype(np.float32), memory.astype(np.float32)


def context_mistake(got: np.ndarray, alignments, memory) -> Optional[str]:
    a, m = np.asarray(alignments, np.float64), np.asarray(memory, np.float64)
    candidates = {
        "you averaged the memory over time and ignored the alignments; weight each memory row by its alignment":
            m.mean(axis=1),
        "you summed the memory over time without the alignments": m.sum(axis=1),
        "you multiplied without summing over the memory's time axis: the context is a weighted *sum*":
            a[..., None] * m,
        "you summed alignments * memory over the depth axis; sum over time (axis 1) instead": (a[..., None] * m).sum(-1),
    }
    for text, value in candidates.items():
        if got.shape == value.shape and np.allclose(got, value, atol=1e-4):
            return text
    return None


#: query depth, units, batch, memory time for check_bahdanau_score
SCORE = dict(Q=5, U=4, B=3, S=6, seed=17)


def bahdanau_arrays():
    """``(query [B, Q], keys [B, S, U], query_kernel [Q, U], attention_v [U], attention_g [], attention_b [U])``."""
    d = SCORE
    rng = np.random.default_rng(d["seed"])
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in
              [(d["B"], d["Q"]), (d["B"], d["S"], d["U"]), (d["Q"], d["U"]), (d["U"],)]]
    return (*arrays, np.float32(1.7), (0.5 * rng.standard_normal(d["U"])).astype(np.float32))


def bahdanau_reference(query, keys, query_kernel, attention_v, attention_g, attention_b, normalize=True, bias=True,
                       squash=True):
    """The normalized Bahdanau score ``[B, S]`` (the flags switch parts off to name the usual slips)."""
    v = np.asarray(attention_v, np.float64)
    if normalize:
        v = attention_g * v / np.sqrt((v ** 2).sum())
    hidden = np.asarray(keys, np.float64) + (np.asarray(query, np.float64) @ query_kernel)[:, None, :]
    if bias:
        hidden = hidden + attention_b
    return ((np.tanh(hidden) if squash else hidden) * v).sum(-1)


def bahdanau_mistake(got, *arrays) -> Optional[str]:
    """Name the usual slips of the normalized Bahdanau score (None if none matches)."""
    got = np.asarray(got, np.float64)
    candidates = {
        "you left out the weight normalisation: use g * v / |v| instead of v": dict(normalize=False),
        "you left out the bias b inside the tanh": dict(bias=False),
        "you left out both the normalisation of v and the bias b": dict(normalize=False, bias=False),
        "you left out the tanh": dict(squash=False),
    }
    for text, flags in candidates.items():
        value = bahdanau_reference(*arrays, **flags)
        if got.shape == value.shape and np.allclose(got, value, atol=1e-4):
            return text
    ref = bahdanau_reference(*arrays)
    e = np.exp(ref - ref.max(-1, keepdims=True))
    if got.shape == ref.shape and np.allclose(got, e / e.sum(-1, keepdims=True), atol=1e-4):
        return "you applied the softmax: the exercise asks for the score, before the softmax"
    return None


def masked_softmax_arrays(seed: int = 8):
    """``(scores [B, S], lengths [B])`` for check_masked_softmax (a length-0 row included)."""
    rng = np.random.default_rng(seed)
    scores = (rng.standard_normal((5, 6)) * 3).astype(np.float32)
    scores[1, 4:] = 50.0  # large scores on padding: they must not leak in
    return scores, np.array([6, 4, 1, 0, 3])


def masked_softmax_reference(scores, lengths):
    scores = np.asarray(scores, np.float64)
    mask = np.arange(scores.shape[1])[None, :] < np.asarray(lengths)[:, None]
    z = np.where(mask, scores, -1e30)
    e = np.exp(z - z.max(-1, keepdims=True)) * mask
    total = e.sum(-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def masked_softmax_mistake(got, scores, lengths) -> Optional[str]:
    got = np.asarray(got, np.float64)
    ref = masked_softmax_reference(scores, lengths)
    if np.isnan(got).any():
        row = int(np.argwhere(np.isnan(got))[0][0])
        return (f"row {row} (length {lengths[row]}) holds NaN: with every score masked to -inf the softmax divides "
                "0 by 0; mask with a large negative number and multiply by the mask afterwards")
    e = np.exp(np.asarray(scores, np.float64) - np.asarray(scores, np.float64).max(-1, keepdims=True))
    plain = e / e.sum(-1, keepdims=True)
    if got.shape == plain.shape and np.allclose(got, plain, atol=1e-4):
        return "you took the softmax over every position; positions past a row's length must get exactly 0"
    zero_rows = np.asarray(lengths) == 0
    if got.shape == ref.shape and np.allclose(got[~zero_rows], ref[~zero_rows], atol=1e-4) and zero_rows.any():
        row = int(np.flatnonzero(zero_rows)[0])
        return (f"row {row} has length 0: all its alignments must be 0 (cl gives zeros; a plain masked softmax gives "
                "a uniform row), so multiply by the mask after the softmax")
    return None
