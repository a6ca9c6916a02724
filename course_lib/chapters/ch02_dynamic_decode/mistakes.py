"""Chapter 2's usual wrong answers, recognised (framework-free, NumPy bookkeeping): the greedy
loop's slips, re-run on the checker's own decoder, and the temperature softmax's slips.

A checker first finds *that* an answer is wrong; these functions say *which mistake* gives
exactly that answer, so the message can name it.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from course_lib.chapters.rnn_cases import softmax

#: the greedy loop's usual slips: variant -> (what the answer did, the hint that fixes it)
LOOP_SLIPS = {
    "stale_inputs": ("you fed every step the first inputs (the <s> embeddings) again",
                     "feed each step the next_inputs that the previous step returned"),
    "stale_state": ("you fed every step the initial state again",
                    "feed each step the state that the previous step returned"),
    "not_sticky": ("a finished row came back to life: you replaced `finished` with the step's flags, so a row "
                   "that said the end token and then something else counts as unfinished again",
                   "a finished row stays finished: finished = finished | step_finished"),
    "any_finished": ("you stopped when the *first* row finished; the loop runs until *every* row has",
                     "stop when all(finished) (or after maximum_iterations steps), not any(finished)"),
}


def loop_variant(bk, decoder, embedding, start_tokens, end_token: int, initial_state, limit: int, variant: str):
    """Run the greedy loop with one slip (a key of ``LOOP_SLIPS``).

    Returns:
        ``(sample_ids [B, steps], lengths [B])`` as NumPy, what a learner's loop with that slip returns.
    """
    finished, inputs, state = decoder.initialize(embedding, start_tokens=start_tokens, end_token=end_token,
                                                 initial_state=initial_state)
    first_inputs, first_state = inputs, state
    finished = bk.array(finished).astype(bool)  # (B,)
    lengths, ids = np.zeros(len(finished), np.int64), []
    for t in range(limit):
        if finished.all() or (variant == "any_finished" and finished.any()):
            break
        outputs, next_state, next_inputs, step_finished = decoder.step(t, inputs, state)
        lengths = np.where(finished, lengths, t + 1)
        step_finished = bk.array(step_finished).astype(bool)
        finished = step_finished if variant == "not_sticky" else finished | step_finished
        ids.append(bk.array(outputs.sample_id))
        inputs = first_inputs if variant == "stale_inputs" else next_inputs
        state = first_state if variant == "stale_state" else next_state
    return np.stack(ids, axis=1) if ids else np.zeros((len(lengths), 0), np.int64), lengths


def loop_slip(got_ids: np.ndarray, got_lengths: np.ndarray, variants: dict) -> Optional[tuple]:
    """``(text, hint)`` of the slip whose loop returns exactly ``(got_ids, got_lengths)``, else None.

    Args:
        variants: ``{variant: (sample_ids [B, steps], lengths [B])}`` from ``loop_variant``.
    """
    got_ids, got_lengths = np.asarray(got_ids), np.asarray(got_lengths)
    for variant, (ids, lengths) in variants.items():
        if got_lengths.shape == lengths.shape and np.array_equal(got_lengths, lengths) \
                and got_ids.shape == ids.shape and np.array_equal(got_ids, ids):
            return LOOP_SLIPS[variant]
    return None


def temperature_slip(got: np.ndarray, logits: np.ndarray, temperature: float) -> Optional[tuple]:
    """``(text, hint)`` naming what ``got [B, V]`` is when it is not ``softmax(logits / temperature)``, else None."""
    got = np.asarray(got, np.float64)
    if got.shape != logits.shape:
        return None

    def close(ref):
        return bool(np.allclose(got, ref, atol=1e-5))

    divide_hint = ("divide the logits by the temperature: a high temperature must flatten the distribution, "
                   "a low one sharpen it")
    if np.isnan(got).any() or np.isinf(got).any():
        return (f"`probs` has NaN or inf at temperature {temperature} for logits up to {np.abs(logits).max():.0f}: "
                f"exp(logits / temperature) overflows float32 (above about 88)",
                "subtract each row's maximum before exp (softmax does): the probabilities do not change")
    if temperature != 1 and close(softmax(logits)):
        return (f"`probs` at temperature {temperature} are softmax(logits): the temperature is ignored", divide_hint)
    if close(softmax(logits * temperature)):
        return f"`probs` at temperature {temperature} are softmax(logits * temperature)", divide_hint
    if close(softmax(logits) / temperature):
        return (f"`probs` at temperature {temperature} are softmax(logits) / temperature: you divided the "
                "probabilities, not the logits", "softmax(logits / temperature): divide first, then normalise")
    z = logits / temperature
    if close(z - np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True)) - z.max(-1, keepdims=True)):
        return ("`probs` are log-probabilities (log_softmax): every one is <= 0",
                "the sampler draws from probabilities: softmax, not log_softmax")
    if logits.shape[0] > 1 and close(softmax(z, axis=0)):
        return ("`probs` are normalised over the batch axis: each *column* sums to 1",
                "take the softmax over the vocabulary, the last axis")
    return None
