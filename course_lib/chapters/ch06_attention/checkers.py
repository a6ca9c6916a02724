"""Chapter 6's exercise checkers, written once: cases, NumPy references, the usual mistakes,
hints, and the checker bodies (``check_x(bk, answer)``; ``bk``: see ``course_lib.chapters.binding``).

They need no framework pieces beyond the adapter's.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from course_lib.common.checking import CheckResult, Mismatch, call, expect_close, expect_shape, run_check

#: what each exercise asks for, in one line: the hint when a problem has no more precise one
HINTS = {
    "check_context": "context[n] = sum over s of alignments[n, s] * memory[n, s, :]",
    "check_bahdanau_score": "score[b, s] = (g * v / |v|) . tanh(keys[b, s] + query[b] @ query_kernel + b)",
    "check_masked_softmax": "set the scores past each row's length to a very negative number, softmax over the "
                            "last axis, then multiply by the mask so padding gets exactly 0",
}

# -- exercise 1: context vectors ------------------------------------------------------------------

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
    """Name the usual slips of the context vector (None if none matches)."""
    a, m = np.asarray(alignments, np.float64), np.asarray(memory, np.float64)
    candidates = {
        "you averaged the memory over time and ignored the alignments; weight each memory row by its alignment":
            m.mean(axis=1),
        "you summed the memory over time without the alignments": m.sum(axis=1),
        "you multiplied without summing over the memory's time axis: the context is a weighted *sum*":
            a[..., None] * m,
        "you summed alignments * memory over the depth axis; sum over time (axis 1) instead":
            (a[..., None] * m).sum(-1),
        "you multiplied alignments [N, S] by memory [N, S, D] as matrices, which broadcasts to [N, N, D] (every "
        "example's alignments against every memory); give the alignments a middle axis, [N, 1, S] @ [N, S, D]":
            np.einsum("ns,msd->mnd", a, m),
        "you kept the middle axis of the batched product, [N, 1, D]: squeeze it away to get [N, D]":
            np.einsum("ns,nsd->nd", a, m)[:, None, :],
    }
    for text, value in candidates.items():
        if got.shape == value.shape and np.allclose(got, value, atol=1e-4):
            return text
    return None


# -- exercise 2: the normalized Bahdanau score ----------------------------------------------------

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
                       squash=True, gain=True, unit=True, bias_inside=True):
    """The normalized Bahdanau score ``[B, S]`` (the flags switch parts off to name the usual slips:
    ``normalize`` both g and 1/|v|, ``gain`` g alone, ``unit`` 1/|v| alone; ``bias_inside=False`` adds b
    after the tanh)."""
    v = np.asarray(attention_v, np.float64)
    if normalize:
        v = (attention_g if gain else 1.0) * v / (np.sqrt((v ** 2).sum()) if unit else 1.0)
    hidden = np.asarray(keys, np.float64) + (np.asarray(query, np.float64) @ query_kernel)[:, None, :]
    if bias and bias_inside:
        hidden = hidden + attention_b
    hidden = np.tanh(hidden) if squash else hidden
    if bias and not bias_inside:
        hidden = hidden + attention_b
    return (hidden * v).sum(-1)


def bahdanau_mistake(got, *arrays) -> Optional[str]:
    """Name the usual slips of the normalized Bahdanau score (None if none matches)."""
    got = np.asarray(got, np.float64)
    candidates = {
        "you left out the weight normalisation: use g * v / |v| instead of v": dict(normalize=False),
        "you left out the bias b inside the tanh": dict(bias=False),
        "you left out both the normalisation of v and the bias b": dict(normalize=False, bias=False),
        "you left out the tanh": dict(squash=False),
        "you left out the gain g: the normalized v is g * v / |v|, not v / |v|": dict(gain=False),
        "you scaled v by g but did not divide it by its norm |v|: use g * v / |v|": dict(unit=False),
        "you added the bias b after the tanh; it goes inside: tanh(keys + W_q query + b)": dict(bias_inside=False),
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


# -- exercise 3: the masked softmax ---------------------------------------------------------------

#: a score this large overflows exp in float32 (exp(88.7) is float32's largest number)
OVERFLOW = 88.0


def masked_softmax_arrays(seed: int = 8):
    """``(scores [B, S], lengths [B])`` for check_masked_softmax (a length-0 row included, and a row of
    scores around 100, which a softmax that does not subtract the row's maximum turns into NaN)."""
    rng = np.random.default_rng(seed)
    scores = (rng.standard_normal((5, 6)) * 3).astype(np.float32)
    scores[1, 4:] = 50.0  # large scores on padding: they must not leak in
    large = (100 + 2 * rng.standard_normal((1, 6))).astype(np.float32)  # row 5: exp overflows float32
    return np.concatenate([scores, large]), np.array([6, 4, 1, 0, 3, 5])


def masked_softmax_reference(scores, lengths):
    """``[B, S]``: softmax over each row's first ``lengths`` scores, exactly 0 past them (a length-0 row: all 0)."""
    scores = np.asarray(scores, np.float64)
    mask = np.arange(scores.shape[1])[None, :] < np.asarray(lengths)[:, None]
    z = np.where(mask, scores, -1e30)
    e = np.exp(z - z.max(-1, keepdims=True)) * mask
    total = e.sum(-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def masked_softmax_mistake(got, scores, lengths) -> Optional[str]:
    """Name the usual slips of the masked softmax (None if none matches)."""
    got = np.asarray(got, np.float64)
    scores, lengths = np.asarray(scores, np.float64), np.asarray(lengths)
    ref = masked_softmax_reference(scores, lengths)
    bad = ~np.isfinite(got).all(-1) if got.shape == ref.shape else np.zeros(len(lengths), bool)
    overflowed = np.flatnonzero(bad & (lengths > 0) & (scores.max(-1) > OVERFLOW))
    if overflowed.size:
        row = int(overflowed[0])
        return (f"row {row} (length {lengths[row]}, scores up to {scores[row].max():.0f}) holds NaN: exp of a score "
                f"above {OVERFLOW:.0f} overflows float32 to inf, and inf / inf is NaN; subtract each row's largest "
                "score before exp (the softmax does not change: exp(s - m) / sum exp(s - m) = exp(s) / sum exp(s))")
    if np.isnan(got).any():
        row = int(np.argwhere(np.isnan(got))[0][0])
        return (f"row {row} (length {lengths[row]}) holds NaN: with every score masked to -inf the softmax divides "
                "0 by 0; mask with a large negative number and multiply by the mask afterwards")
    mask = np.arange(scores.shape[1])[None, :] < lengths[:, None]
    plain = _softmax(scores)
    if got.shape == plain.shape and np.allclose(got, plain, atol=1e-4):
        return "you took the softmax over every position; positions past a row's length must get exactly 0"
    slips = {
        "you zeroed the padding after a softmax over every position, so a row's real steps no longer sum to 1: "
        "mask the scores before the softmax": plain * mask,
        "you set the padded scores to 0 before the softmax: exp(0) still gives padding weight; use a very negative "
        "number": _softmax(np.where(mask, scores, 0.0)),
        "you set the padded scores to 0 before the softmax and multiplied by the mask after it, so a row's real "
        "steps no longer sum to 1; use a very negative number": _softmax(np.where(mask, scores, 0.0)) * mask,
        "your mask keeps position `length` of each row too: the real positions are 0 .. length - 1 (compare with <, "
        "not <=)": masked_softmax_reference(scores, np.minimum(lengths + 1, scores.shape[1])),
    }
    for text, value in slips.items():
        if got.shape == value.shape and np.allclose(got, value, atol=1e-4):
            return text
    zero_rows = lengths == 0
    if got.shape == ref.shape and np.allclose(got[~zero_rows], ref[~zero_rows], atol=1e-4) and zero_rows.any():
        row = int(np.flatnonzero(zero_rows)[0])
        return (f"row {row} has length 0: all its alignments must be 0 (cl gives zeros; a plain masked softmax gives "
                "a uniform row), so multiply by the mask after the softmax")
    return None


# -- the checkers -------------------------------------------------------------------------------

def check_context(bk, context_vectors) -> CheckResult:
    """Exercise: ``context_vectors(alignments [N, 20], memory [N, 20, 30]) -> contexts [N, 30]``."""
    def body():
        alignments, memory = context_arrays()
        got = call(context_vectors, bk.float32(alignments), bk.float32(memory),
                   what="context_vectors(alignments, memory)")
        got = bk.array(got).astype(np.float64)
        want = np.einsum("ns,nsd->nd", alignments.astype(np.float64), memory)
        mistake = None if (got.shape == want.shape and np.allclose(got, want, atol=1e-4)) else \
            context_mistake(got, alignments, memory)
        if mistake:
            raise Mismatch("value" if got.shape == want.shape else "shape", mistake)
        expect_close("contexts", got, want, ("example", "depth"), atol=1e-4,
                     hint="context[n, d] = sum over s of alignments[n, s] * memory[n, s, d]")
        return f"contexts {list(want.shape)} from alignments {list(alignments.shape)} and memory {list(memory.shape)}"
    return run_check("check_context", body, HINTS["check_context"])


def check_bahdanau_score(bk, normalized_bahdanau_score) -> CheckResult:
    """Exercise: ``normalized_bahdanau_score(query [B, Q], keys [B, S, U], query_kernel [Q, U], attention_v [U],
    attention_g [], attention_b [U]) -> scores [B, S]``."""
    def body():
        arrays = bahdanau_arrays()
        got = call(normalized_bahdanau_score, *[bk.float32(a) for a in arrays],
                   what="normalized_bahdanau_score(query, keys, query_kernel, attention_v, attention_g, attention_b)")
        got = bk.array(got).astype(np.float64)
        want = bahdanau_reference(*arrays)
        expect_shape("scores", got, want.shape, "batch, memory steps", hint="one score per (row, memory step): [B, S]")
        if not np.allclose(got, want, atol=1e-4):
            mistake = bahdanau_mistake(got, *arrays)
            if mistake:
                raise Mismatch("value", mistake)
        expect_close("scores", got, want, ("row", "memory step"), atol=1e-4)
        return "equals (g v / |v|) . tanh(keys + W_q query + b), BahdanauAttention(normalize=True)'s score"
    return run_check("check_bahdanau_score", body, HINTS["check_bahdanau_score"])


def check_masked_softmax(bk, masked_softmax) -> CheckResult:
    """Exercise: ``masked_softmax(scores [B, S], lengths [B]) -> alignments [B, S]``."""
    def body():
        scores, lengths = masked_softmax_arrays()
        got = call(masked_softmax, bk.float32(scores), bk.ids(lengths), what="masked_softmax(scores, lengths)")
        got = bk.array(got).astype(np.float64)
        want = masked_softmax_reference(scores, lengths)
        expect_shape("alignments", got, want.shape, "batch, memory steps")
        if not np.allclose(got, want, atol=1e-5):
            mistake = masked_softmax_mistake(got, scores, lengths)
            if mistake:
                raise Mismatch("value", mistake)

        def explain(idx):
            row, step = idx
            if step >= lengths[row]:
                return f"row {row} has length {lengths[row]}, so step {step} is padding and must get exactly 0"
            return f"step {step} is inside row {row}'s length {lengths[row]}"
        expect_close("alignments", got, want, ("row", "memory step"), atol=1e-5, explain=explain)
        return (f"exactly 0 past the lengths {lengths.tolist()} (a length-0 row included), rows sum to 1, "
                "scores around 100 included")
    return run_check("check_masked_softmax", body, HINTS["check_masked_softmax"])


#: the checkers, in the order the notebook uses them (``binding.bind`` binds them in this order)
CHECKERS = (check_context, check_bahdanau_score, check_masked_softmax)
