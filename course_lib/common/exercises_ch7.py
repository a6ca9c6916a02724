"""Chapter 7's exercise checkers, the framework-free half: cases, NumPy references, mistake finders.

The backends' ``course_lib.tf.exercises_ch7`` / ``course_lib.torch.exercises_ch7`` run a learner's
function on these cases and report with ``course_lib.common.exercises.run_check``.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from course_lib.common import exercises as common

#: the one-line hint of each exercise (shown for a stub, or when a problem has no precise hint)
HINTS = {
    "check_reverse_padded": "for row b with length L, position t < L takes x[b, L - 1 - t]; positions t >= L "
                            "(padding) stay where they are",
    "check_beam_start": "tile memory, lengths and encoder state with cl.tile_batch(x, beam_width); "
                        "setup_memory on the tiled memory; get_initial_state(batch_size=B * W).clone(cell_state=...)",
    "check_sampled_softmax": "logits of [true class, sampled classes], each minus log(expected count); sampled "
                             "classes equal to the true one get a huge negative logit; cross-entropy with the "
                             "true class as column 0",
}
for _name, _hint in HINTS.items():
    common.HINTS.setdefault(_name, _hint)

#: (batch, time, depth or None for 2-D, lengths) for check_reverse_padded
REVERSE_CASES = [(3, 5, 2, [5, 2, 0]), (2, 4, None, [1, 4]), (4, 3, 3, [3, 3, 3, 1])]


def reverse_inputs(case_index: int):
    B, T, D, lengths = REVERSE_CASES[case_index]
    shape = (B, T) if D is None else (B, T, D)
    x = (np.arange(np.prod(shape)).reshape(shape) + 1).astype(np.float32)
    return x, np.array(lengths, np.int64)


def reverse_padded_numpy(x: np.ndarray, lengths) -> np.ndarray:
    out = np.array(x, copy=True)
    for b, L in enumerate(lengths):
        out[b, :L] = x[b, :L][::-1]
    return out


def reverse_mistake(got: np.ndarray, x: np.ndarray, lengths) -> Optional[str]:
    """Name a common slip when ``got`` equals what it computes."""
    if np.array_equal(got, x[:, ::-1]):
        return ("you reversed whole rows, padding included: the padding moved to the front, so the first "
                "steps read <pad>. Reverse only each row's first `length` steps")
    if np.array_equal(got, x):
        return "nothing was reversed"
    return None


#: (N, A, V, num_sampled) and the labels of the sampled-softmax cases
SAMPLED_CASES = [((6, 4, 30, 8), [0, 2, 5, 29, 2, 0]), ((3, 5, 12, 5), [1, 1, 11])]


def sampled_case(case_index: int):
    """``(weights [V, A], biases [V], labels [N, 1], inputs [N, A], sampled_values)`` with accidental hits."""
    (N, A, V, S), labels = SAMPLED_CASES[case_index]
    rng = np.random.default_rng(70 + case_index)
    weights = rng.standard_normal((V, A)).astype(np.float32)
    biases = rng.standard_normal(V).astype(np.float32)
    inputs = rng.standard_normal((N, A)).astype(np.float32)
    labels = np.array(labels, np.int64)[:, None]
    hits = list(dict.fromkeys(labels[:2, 0].tolist()))  # distinct: samples never repeat
    sampled = np.array(hits + [k for k in rng.permutation(V) if k not in hits][:S - len(hits)], np.int64)
    p = np.log((np.arange(V) + 2) / (np.arange(V) + 1)) / np.log(V + 1)
    tries = 3 * S
    expected = (1 - (1 - p) ** tries).astype(np.float32)
    return weights, biases, labels, inputs, (sampled, expected[labels], expected[sampled])


def sampled_softmax_numpy(weights, biases, labels, inputs, sampled_values, subtract_log_q=True,
                          remove_accidental_hits=True) -> np.ndarray:
    """The reference, with switches for the two parts learners forget."""
    sampled, true_expected, sampled_expected = (np.asarray(v) for v in sampled_values)
    true_logits = (inputs * weights[labels[:, 0]]).sum(-1, keepdims=True) + biases[labels]  # (N, 1)
    sampled_logits = inputs @ weights[sampled].T + biases[sampled]  # (N, S)
    if remove_accidental_hits:
        sampled_logits = np.where(labels == sampled[None, :], -1e30, sampled_logits)
    if subtract_log_q:
        true_logits = true_logits - np.log(true_expected)
        sampled_logits = sampled_logits - np.log(sampled_expected)[None, :]
    logits = np.concatenate([true_logits, sampled_logits], 1).astype(np.float64)
    top = logits.max(1, keepdims=True)
    return (np.log(np.exp(logits - top).sum(1)) + top[:, 0]) - logits[:, 0]


def sampled_mistake(got: np.ndarray, case) -> Optional[str]:
    weights, biases, labels, inputs, values = case
    candidates = {
        "the logits are not corrected by log(expected count): subtract log(true_expected_count) from the true "
        "logit and log(sampled_expected_count) from each sampled one":
            sampled_softmax_numpy(weights, biases, labels, inputs, values, subtract_log_q=False),
        "accidental hits are not removed: where a sampled class equals the row's true class, that sampled "
        "logit must become a huge negative number (rows 0 and 1 have one)":
            sampled_softmax_numpy(weights, biases, labels, inputs, values, remove_accidental_hits=False),
    }
    for text, value in candidates.items():
        if np.allclose(got, value, atol=1e-4):
            return text
    return None
