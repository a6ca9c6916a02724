"""Chapter 7's exercise checkers, written once: cases, NumPy references, mistake finders and the
checker bodies ``check_x(bk, answer)`` (framework-free).

``bk`` is a ``course_lib.chapters.binding.Backend``: the adapter (``cl``, ``float32``, ``ids``,
``no_grad``, ``array``) plus what the bindings ``tf`` / ``torch`` add for this chapter:
``new_model(vocab_size, **kwargs)`` (the backend's ``Seq2SeqChatbot``, ready to run), ``tensor``
(a NumPy array -> a tensor of its dtype), ``sampled_softmax_loss`` (the backend's), and the words of
messages: ``initial_state_call``, ``row_tiling`` (the framework's own tiling, a, b, a, b) and
``sampled_reference``. Each check runs the learner's function on small cases and prints ✓, or ✗ with
what is wrong and a hint; it returns a ``CheckResult`` and never raises for a wrong answer.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from course_lib.chapters.rnn_cases import explain_padding, rng_weights
from course_lib.common import nest
from course_lib.common.checking import CheckResult, Mismatch, call, expect_close, expect_shape, run_check

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
    if np.array_equal(got, x[::-1]):
        return ("you reversed the batch axis (the order of the rows): reverse along the time axis, axis 1, "
                "each row within its own length")
    zeroed = reverse_padded_numpy(x, lengths)
    for b, L in enumerate(lengths):
        zeroed[b, L:] = 0
    if np.array_equal(got, zeroed):
        return ("the padding positions became 0: they must keep their values (x[b, t] for t >= length), "
                "so the result is x itself wherever a row has ended")
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
    sampled, true_expected, sampled_expected = (np.asarray(v) for v in values)
    flipped = (sampled, 1.0 / true_expected, 1.0 / sampled_expected)  # log(1/q) = -log q: the sign flipped
    candidates["the log(expected count) correction has the wrong sign: subtract it from each logit "
               "(logit - log q), do not add it"] = sampled_softmax_numpy(weights, biases, labels, inputs, flipped)
    for text, value in candidates.items():
        if np.allclose(got, value, atol=1e-4):
            return text
    return None


# -- the checkers -----------------------------------------------------------------------------------

def check_reverse_padded(bk, my_reverse_padded) -> CheckResult:
    """Exercise: ``my_reverse_padded(x [B, T, ...], lengths [B]) -> [B, T, ...]``, each row reversed
    within its length (what the backward half of a bidirectional encoder reads)."""
    def body():
        for i, (_, _, _, lengths) in enumerate(REVERSE_CASES):
            x, L = reverse_inputs(i)
            want = reverse_padded_numpy(x, L)
            got = bk.array(call(my_reverse_padded, bk.float32(x), bk.ids(L), what="my_reverse_padded(x, lengths)"))
            expect_shape("result", got, want.shape, hint="the result has the shape of `x`")
            if not np.array_equal(got, want):
                mistake = reverse_mistake(got, x, L)
                if mistake:
                    raise Mismatch("value", f"for lengths {lengths}: {mistake}")
                axes = ("row", "step", "feature")[:x.ndim]
                expect_close("result", got, want, axes, explain=explain_padding(lengths))
        return (f"reverses {len(REVERSE_CASES)} padded batches within their lengths "
                "(2-D and 3-D, lengths 0 and 1 too)")
    return run_check("check_reverse_padded", body, HINTS["check_reverse_padded"])


def _beam_case(bk):
    """A small attention model with fixed weights, an encoded batch of 2 prompts, beam width 3."""
    model = bk.new_model(20, embedding_size=6, units=8, attention="bahdanau")
    weights = bk.cl.export_weights(model)
    bk.cl.import_weights(model, rng_weights({k: v.shape for k, v in weights.items()}, seed=77))
    source = bk.ids([[5, 6, 7, 8], [9, 10, 0, 0]])  # (2, 4)
    lengths = bk.ids([4, 2])
    with bk.no_grad():
        memory, state = model.encode(source, lengths)  # (2, 4, 8), [h, c] each (2, 8)
    return model, memory, lengths, state, 3


def check_beam_start(bk, beam_start) -> CheckResult:
    """Exercise: ``beam_start(model, memory [B, S, U], source_length [B], encoder_state [h, c], beam_width)
    -> AttentionWrapperState`` for ``B * beam_width`` rows, with the attention memory set up for them."""
    def body():
        model, memory, lengths, state, W = _beam_case(bk)
        mechanism = model.decoder_cell.attention_mechanism
        want = model.decoder_start(memory, lengths, state, beam_width=W)
        want_values = bk.array(mechanism.values)
        model.decoder_start(memory, lengths, state)  # back to B rows: your function must set it up
        got = call(beam_start, model, memory, lengths, state, W,
                   what="beam_start(model, memory, source_length, encoder_state, beam_width)")
        if not isinstance(got, bk.cl.AttentionWrapperState):
            raise Mismatch("structure", f"beam_start must return an AttentionWrapperState, got {type(got).__name__}",
                           f"{bk.initial_state_call}.clone(cell_state=...)")
        B = int(memory.shape[0])
        rows = bk.array(mechanism.values).shape[0]
        if rows != B * W:
            raise Mismatch("value", f"the attention memory has {rows} rows after beam_start, expected "
                           f"{B} x {W} = {B * W}",
                           "call model.decoder_cell.attention_mechanism.setup_memory(tiled memory, "
                           "memory_sequence_length=tiled lengths)")
        got_values = bk.array(mechanism.values)
        if not np.allclose(got_values, want_values, atol=1e-6):
            tiled_wrong = np.tile(bk.array(memory), (W, 1, 1))
            if got_values.shape == tiled_wrong.shape and np.allclose(got_values, tiled_wrong, atol=1e-6):
                raise Mismatch("value", "the memory rows are in the order a, b, a, b, ...: beam search keeps the "
                               "beams of one prompt next to each other (a, a, a, b, b, b)",
                               f"cl.tile_batch(x, beam_width) repeats each row in place; {bk.row_tiling} does not")
            expect_close("the attention memory", got_values, want_values, ("row", "step", "unit"),
                         hint="tile the memory with cl.tile_batch and mask it with the tiled lengths")
        got_state = [bk.array(g) for g in nest.flatten(got.cell_state)]
        if got_state and got_state[0].shape[:1] == (B,):
            raise Mismatch("shape", f"the cell state has {B} rows, the memory {B * W}: the encoder state was not "
                           "tiled", "tile the encoder state too: cl.tile_batch(encoder_state, beam_width)")
        if got_state and not any(np.any(g) for g in got_state):
            raise Mismatch("value", "the cell state is all zeros: the decoder would start without the encoder's "
                           "final state", ".clone(cell_state=cl.tile_batch(encoder_state, beam_width))")
        for j, (g, w) in enumerate(zip(nest.flatten(got.cell_state), nest.flatten(want.cell_state))):
            name = f"cell_state[{j}] ({'hc'[j]})"
            expect_shape(name, bk.array(g), bk.array(w).shape, "rows = batch x beam_width, units",
                         hint="tile the encoder state too: cl.tile_batch(encoder_state, beam_width)")
            expect_close(name, bk.array(g), bk.array(w), ("row", "unit"),
                         hint="cl.tile_batch(encoder_state, beam_width): the beams of one prompt side by side")
        expect_shape("attention", bk.array(got.attention), bk.array(want.attention).shape, "rows, attention units")
        return f"a beam-search start for {B} prompts x {W} beams: memory, lengths and state tiled in place"
    return run_check("check_beam_start", body, HINTS["check_beam_start"])


def check_sampled_softmax(bk, my_sampled_softmax_loss) -> CheckResult:
    """Exercise: ``my_sampled_softmax_loss(weights [V, A], biases [V], labels [N, 1], inputs [N, A],
    sampled_values) -> [N]``, equal to the backend's ``sampled_softmax_loss`` (the formula of
    ``tf.nn.sampled_softmax_loss``) with those sampled values."""
    def body():
        for i in range(len(SAMPLED_CASES)):
            case = sampled_case(i)
            weights, biases, labels, inputs, values = case
            S, V = len(values[0]), weights.shape[0]
            tensors = [bk.tensor(a) for a in (weights, biases, labels, inputs)]
            sampled_values = tuple(bk.tensor(v) for v in values)
            want = bk.array(bk.sampled_softmax_loss(*tensors, S, V, sampled_values=sampled_values))
            got = bk.array(call(my_sampled_softmax_loss, *tensors, sampled_values,
                                what="my_sampled_softmax_loss(weights, biases, labels, inputs, sampled_values)"))
            expect_shape("loss", got, want.shape, "one loss per row", hint="no mean: one loss per row, [N]")
            if not np.allclose(got, want, atol=1e-4):
                mistake = sampled_mistake(got, case)
                if mistake:
                    raise Mismatch("value", f"case {i}: {mistake}")
                expect_close("loss", got, want, ("row",), atol=1e-4)
        return f"equals {bk.sampled_reference} on {len(SAMPLED_CASES)} batches (accidental hits included)"
    return run_check("check_sampled_softmax", body, HINTS["check_sampled_softmax"])


#: the checkers, in the order the bindings export them
CHECKERS = (check_reverse_padded, check_beam_start, check_sampled_softmax)
