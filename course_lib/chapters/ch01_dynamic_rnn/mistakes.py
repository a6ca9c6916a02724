"""Chapter 1's usual wrong answers, recognised (framework-free, NumPy in): what a learner's
``(outputs, final_state)`` or loss equals when it is not ``dynamic_rnn``'s / ``sequence_loss``'s.

A checker first finds *where* an answer differs (``expect_close``); these functions then say
*which mistake* gives exactly that answer, so the message can name it (``named``).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from course_lib.chapters.rnn_cases import softmax
from course_lib.common.checking import Mismatch

#: a recognised mistake: (what the answer is, the hint that fixes it)
Mistake = tuple


def named(mismatch: Mismatch, mistake: Optional[Mistake], keep_hint: bool = False) -> Mismatch:
    """``mismatch`` with the recognised mistake added to its problem, or as is.

    The mistake's hint replaces the mismatch's unless ``keep_hint`` (a hint that is already the
    exercise's recipe, as for the built-in layer)."""
    if mistake is None:
        return mismatch
    text, hint = mistake
    return Mismatch(mismatch.kind, f"{mismatch.problem}; {text}",
                    mismatch.hint if keep_hint or not hint else hint)


def _same(got, want, atol: float = 1e-5) -> bool:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return got.shape == want.shape and bool(np.allclose(got, want, atol=atol, rtol=0))


def repeat_last(outputs: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    """``outputs [B, T, H]`` with each row's last real output repeated over its padding (zeros
    for a length of 0): what Keras' masking gives past a row's end."""
    out = np.array(outputs, np.float64)
    for row, L in enumerate(lengths):
        out[row, L:] = out[row, L - 1] if L > 0 else 0.0
    return out


def outputs_mistake(got, want, variants: dict, lengths: Sequence[int]) -> Optional[Mistake]:
    """Name the mistake whose outputs equal ``got [B, T, H]``, else None.

    Args:
        want: ``dynamic_rnn``'s outputs ``[B, T, H]`` with ``sequence_length``.
        variants: ``{"one_more", "clamped"}`` -> the outputs ``[B, T, H]`` of ``dynamic_rnn`` with
            ``min(length + 1, T)`` and with ``max(length, 1)`` as the lengths.
    """
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return None
    exact = [
        (repeat_last(want, lengths), "past each row's length you repeat its last output (what Keras' masking "
                                     "does); dynamic_rnn writes zeros there",
         "set the outputs past each row's length to zero"),
        (variants.get("one_more"), "off by one: each row runs one step past its length (t <= length); a row "
                                   "of length L has the steps 0 .. L-1",
         "a step t is inside a row when t < sequence_length"),
        (variants.get("clamped"), "the row of length 0 ran one step: packing needs lengths >= 1, so after "
                                  "clamping put zeros back in those rows",
         "rows of length 0 have zero outputs and keep the initial (zero) state"),
    ]
    for ref, text, hint in exact:
        if ref is not None and _same(got, ref):
            return text, hint
    inside = np.broadcast_to((np.arange(want.shape[1])[None, :] < np.asarray(lengths)[:, None])[..., None],
                             want.shape)  # (B, T, H): True inside each row's length
    padding_zero = np.allclose(got[~inside], 0.0, atol=1e-6)
    if _same(got[inside], want[inside]) and not padding_zero:
        return ("past each row's length your outputs are not zero (they are the cell's outputs on the "
                "padding); dynamic_rnn writes zeros there", "output = where(t < sequence_length, output, 0)")
    if inside.any() and np.allclose(got[inside], 0.0, atol=1e-6) and not padding_zero:
        return ("your outputs are zero inside each row's length and non-zero on its padding: the two "
                "branches of `where` are swapped", "where(valid, new, old): the *new* output where the step is "
                                                   "inside the length")
    return None


def state_mistake(got_leaves: list, want_leaves: list, variants: dict, got_outputs=None) -> Optional[Mistake]:
    """Name the mistake whose final state equals ``got_leaves``, else None.

    Args:
        got_leaves, want_leaves: the state's tensors as NumPy, ``[h]`` or ``[h, c]``, each ``[B, H]``.
        variants: ``{"unmasked", "one_more", "clamped"}`` -> the final state leaves of ``dynamic_rnn``
            without lengths, and of the runs of ``outputs_mistake``.
        got_outputs: the learner's outputs ``[B, T, H]``, to recognise ``h = outputs[:, -1]``.
    """
    if len(want_leaves) == 2 and all(_same(g, w) for g, w in zip(got_leaves, want_leaves[::-1])):
        return ("your state is [c, h]: TF1's `LSTMStateTuple(c, h)` order; course_lib and Keras keep "
                "[h, c], h first", "return the state in the order the cell gives it: [h, c]")
    if got_outputs is not None and np.ndim(got_outputs) == 3 and _same(got_leaves[0], np.asarray(got_outputs)[:, -1]):
        if not _same(got_leaves[0], want_leaves[0]):
            return ("your h is outputs[:, -1], the output of the last step, which is padding for rows "
                    "shorter than T", "the final state is each row's state at its own length, not at step T - 1")
    texts = {
        "unmasked": ("your final state ran through the padding: it is the state after all T steps",
                     "once t >= sequence_length a row keeps its old state"),
        "one_more": ("off by one: your final state is the state one step past each row's length",
                     "a step t is inside a row when t < sequence_length"),
        "clamped": ("the row of length 0 ran one step: its state must stay the initial (zero) state",
                    "put the initial state back in the rows of length 0 (packing needs lengths >= 1)"),
    }
    for key, (text, hint) in texts.items():
        if key in variants and all(_same(g, v) for g, v in zip(got_leaves, variants[key])):
            if not all(_same(v, w) for v, w in zip(variants[key], want_leaves)):
                return text, hint
    return None


def masked_nll_mistake(got: float, logits, targets, lengths) -> Optional[str]:
    """Name a common mistake of the masked mean NLL when ``got`` equals what it computes, else None.

    Args:
        logits: ``[B, T, V]``; targets: ``[B, T]``; lengths: ``[B]`` (NumPy).
    """
    B, T = targets.shape
    lengths = np.asarray(lengths)
    mask = (np.arange(T)[None, :] < lengths[:, None]).astype(np.float64)  # (B, T)
    if np.isnan(got):
        return ("your loss is NaN: " + ("a row of length 0 has no real tokens, so dividing row by row "
                "divides 0 by 0; divide the batch's total by its number of real tokens" if (lengths == 0).any()
                else "check for a division by zero or the log of a zero probability"))

    def nll_of(log_probs):
        return -np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]  # (B, T)

    nll = nll_of(np.log(softmax(logits)))
    one_more = (np.arange(T)[None, :] <= lengths[:, None]).astype(np.float64)
    valid_rows = lengths > 0
    candidates = {
        "you averaged over the padding positions too: weight each position by the mask": nll.mean(),
        "you divided the masked sum by B*T; divide by the number of real tokens (the sum of the weights)":
            (nll * mask).sum() / (B * T),
        "the sign is flipped: the loss is the *negative* log-likelihood": -(nll * mask).sum() / mask.sum(),
        "you averaged each row and then the rows; sequence_loss divides the total by the number of "
        "real tokens, so a long row counts more than a short one":
            ((nll * mask).sum(1)[valid_rows] / mask.sum(1)[valid_rows]).mean(),
        "you returned the masked *sum*; divide it by the number of real tokens": (nll * mask).sum(),
        "you took -logits at the targets without log_softmax: the logits are not log-probabilities":
            (nll_of(logits) * mask).sum() / mask.sum(),
        "your mask counts one position past each row's length (t <= length); position t is real when t < length":
            (nll * one_more).sum() / one_more.sum(),
    }
    for axis, name in ((0, "batch"), (1, "time")):
        wrong = nll_of(np.log(softmax(logits, axis=axis)))
        candidates[f"your log_softmax normalises over axis {axis} (the {name} axis), not over the vocabulary "
                   "(the last axis)"] = (wrong * mask).sum() / mask.sum()
    for text, value in candidates.items():
        if abs(got - value) < 1e-4:
            return text
    return None
