"""Chapter 1's exercise checkers, written once: cases, NumPy references, the usual mistakes,
hints, and the checker bodies (``check_x(bk, answer)``; ``bk``: see ``course_lib.chapters.binding``).

Pieces each binding gives its ``Backend``: ``where`` (``tf.where``), ``leaf_by_leaf`` (how a hint
says to map over a state), ``builtin_lstm(cell, depth)`` (the framework's LSTM layer holding a
cell's weights), ``builtin_lstm_name``, ``builtin_lstm_hint`` and ``builtin_lstm_pad_hint`` (outputs
that stop at the longest row).
"""

from __future__ import annotations

import numpy as np

from course_lib.chapters.ch01_dynamic_rnn.mistakes import (
    masked_nll_mistake, named, outputs_mistake, state_mistake,
)
from course_lib.chapters.rnn_cases import expect_final_state, expect_pair, explain_padding, inputs_for, stock_cell
from course_lib.common import nest
from course_lib.common.checking import CheckResult, Mismatch, call, expect_close, expect_shape, run_check

#: what each exercise asks for, in one line: the hint when a problem has no more precise one
HINTS = {
    "check_unroll": "loop over the steps: cell(inputs[:, t], state); past a row's length, a zero output and "
                    "the old state",
    "check_masked_nll": "-log_softmax(logits) at the targets, times the mask (t < length), summed, divided by "
                        "the sum of the mask",
    "check_builtin_lstm": "run the layer on the padded batch, then make its outputs zero past each row's "
                          "length and its final state the state at each row's length",
}

#: (cell kind, units, batch, time, depth, sequence_length) for check_unroll
UNROLL_CASES = [
    ("LSTMCell", 4, 4, 6, 3, [6, 1, 0, 3]),
    ("GRUCell", 3, 2, 4, 2, [4, 2]),
    ("SimpleRNNCell", 5, 3, 5, 4, [5, 5, 5]),
]

#: (batch, time, depth, sequence_length) for check_builtin_lstm
BUILTIN_CASES = [(4, 6, 3, [6, 1, 0, 3]), (2, 5, 2, [5, 5]), (3, 5, 2, [3, 1, 2])]  # the last: no row fills T


def masked_nll_cases():
    """``[(logits [B, T, V], targets [B, T], lengths [B])]`` for check_masked_nll."""
    rng = np.random.default_rng(7)
    cases = []
    for B, T, V, lengths in [(3, 5, 6, [5, 2, 1]), (2, 4, 5, [4, 4]), (4, 3, 7, [3, 0, 2, 1])]:
        logits = (rng.standard_normal((B, T, V)) * 2).astype(np.float32)
        targets = rng.integers(0, V, size=(B, T)).astype(np.int64)
        cases.append((logits, targets, np.array(lengths, np.int64)))
    return cases


def rnn_variants(bk, cell, x, lengths) -> tuple:
    """``(outputs, state)`` of the usual wrong unrolls, as NumPy: ``{name: outputs [B, T, H]}`` and
    ``{name: [state leaves]}`` for ``unmasked`` (no lengths), ``one_more`` (each row one step
    longer) and ``clamped`` (lengths of 0 run one step)."""
    T = int(np.shape(bk.array(x))[1])
    runs = {"unmasked": None, "one_more": np.minimum(np.asarray(lengths) + 1, T),
            "clamped": np.maximum(np.asarray(lengths), 1)}
    outputs, states = {}, {}
    for name, L in runs.items():
        out, state = bk.cl.dynamic_rnn(cell, x, sequence_length=None if L is None else bk.ids(L))
        outputs[name] = bk.array(out)
        states[name] = [np.asarray(v) for v in nest.flatten(bk.numpy(state))]
    return outputs, states


def _state_leaves(state) -> list:
    """A learner's state as a list of leaves (a single tensor is one leaf)."""
    return list(state) if isinstance(state, (list, tuple)) else [state]


def expect_rnn_results(bk, got_out, got_state, want_out, want_state, lengths, variants, hint, output_hint,
                       keep_hint: bool = False) -> None:
    """Compare ``(outputs, final_state)`` with ``dynamic_rnn``'s, naming a recognised mistake
    (``keep_hint``: with ``hint`` rather than the mistake's own)."""
    out_variants, state_variants = variants
    try:
        expect_close("outputs", bk.array(got_out), bk.array(want_out), ("row", "step", "unit"), hint=output_hint,
                     explain=explain_padding(lengths))
    except Mismatch as m:
        if m.kind != "value":
            raise
        raise named(m, outputs_mistake(bk.array(got_out), bk.array(want_out), out_variants, lengths),
                    keep_hint) from None
    want_leaves = [np.asarray(v) for v in nest.flatten(bk.numpy(want_state))]
    for leaf in _state_leaves(got_state):
        shape = list(np.shape(bk.array(leaf)))
        if len(shape) == 3 and shape[0] == 1 and shape[1:] == list(want_leaves[0].shape):
            raise Mismatch("shape", f"a final state tensor has shape {shape}, expected "
                           f"{list(want_leaves[0].shape)} (batch, units): it still has the layer axis",
                           "nn.LSTM's h_n and c_n are [num_layers, batch, units]: take h_n[0] and c_n[0]")
    try:
        expect_final_state(bk, got_state, want_state, lengths, hint)
    except Mismatch as m:
        if m.kind != "value":
            raise
        got_leaves = [bk.array(v) for v in _state_leaves(got_state)]
        raise named(m, state_mistake(got_leaves, want_leaves, state_variants, bk.array(got_out)), keep_hint) from None


def check_unroll(bk, my_dynamic_rnn) -> CheckResult:
    """Exercise: ``my_dynamic_rnn(cell, inputs [B, T, D], sequence_length [B]) -> (outputs [B, T, H], final_state)``."""
    unroll_hint = ("loop over t: output, new_state = cell(inputs[:, t], state); where t >= sequence_length, "
                   f"write a zero output and keep the old state ({bk.where}, {bk.leaf_by_leaf})")

    def output_hint(idx):
        if idx is None:
            return f"outputs are batch-major [batch, time, units]: stack the per-step outputs along {bk.AXIS} 1"
        return unroll_hint

    def body():
        for i, (kind, H, B, T, D, lengths) in enumerate(UNROLL_CASES):
            cell = stock_cell(bk, kind, H, D, seed=i)
            x = bk.float32(inputs_for(i, (B, T, D)))
            L = bk.ids(lengths)
            with bk.no_grad():
                want_out, want_state = bk.cl.dynamic_rnn(cell, x, sequence_length=L)
                variants = rnn_variants(bk, cell, x, lengths)
                got = call(my_dynamic_rnn, cell, x, L, what="my_dynamic_rnn(cell, inputs, sequence_length)",
                           hint=unroll_hint)
            got_out, got_state = expect_pair(got, "my_dynamic_rnn", "(outputs, final_state)")
            expect_rnn_results(bk, got_out, got_state, want_out, want_state, lengths, variants,
                               f"past its length a row keeps its state: {bk.where}(t < sequence_length, new, old)",
                               output_hint)
        return (f"matches cl.dynamic_rnn on {len(UNROLL_CASES)} padded batches "
                "(LSTM, GRU and SimpleRNN cells; lengths include 0 and 1)")
    return run_check("check_unroll", body, HINTS["check_unroll"])


def check_masked_nll(bk, masked_mean_nll) -> CheckResult:
    """Exercise: ``masked_mean_nll(logits [B, T, V], targets [B, T], lengths [B]) -> scalar``."""
    def body():
        cases = masked_nll_cases()
        for logits, targets, lengths in cases:
            T = targets.shape[1]
            weights = bk.cl.sequence_mask(bk.ids(lengths), T, dtype=bk.FLOAT_DTYPE)
            want = float(bk.cl.sequence_loss(bk.float32(logits), bk.ids(targets), weights))
            got = bk.array(call(masked_mean_nll, bk.float32(logits), bk.ids(targets), bk.ids(lengths),
                                what="masked_mean_nll(logits, targets, lengths)"))
            expect_shape("loss", got, [], "a scalar",
                         hint="one number for the batch: sum over every real token, divide by their count")
            if not abs(float(got) - want) <= 1e-4:  # NaN fails too
                mistake = masked_nll_mistake(float(got), logits, targets, lengths)
                raise Mismatch(
                    "value", f"the loss for lengths {lengths.tolist()}: expected {want:.4f}, got {float(got):.4f}",
                    mistake or "NLL of a position = -log_softmax(logits)[target]; weight it by the mask "
                               "(t < length) and divide the sum by the number of real tokens")
        return f"equals cl.sequence_loss with sequence_mask weights on {len(cases)} batches (a length-0 row too)"
    return run_check("check_masked_nll", body, HINTS["check_masked_nll"])


def check_builtin_lstm(bk, lstm_like_dynamic_rnn) -> CheckResult:
    """Exercise: ``lstm_like_dynamic_rnn(layer, inputs [B, T, D], sequence_length [B]) -> (outputs, [h, c])``
    with the framework's built-in LSTM layer holding a cell's weights (``keras.layers.LSTM(H,
    return_sequences=True, return_state=True)`` / ``nn.LSTM(D, H, batch_first=True)``)."""
    hint = bk.builtin_lstm_hint

    def output_hint(idx):
        return hint

    def body():
        for i, (B, T, D, lengths) in enumerate(BUILTIN_CASES):
            H = 4
            cell = stock_cell(bk, "LSTMCell", H, D, seed=5 + i)
            x = bk.float32(inputs_for(5 + i, (B, T, D)))
            L = bk.ids(lengths)
            with bk.no_grad():
                want_out, want_state = bk.cl.dynamic_rnn(cell, x, sequence_length=L)
                variants = rnn_variants(bk, cell, x, lengths)
                got = call(lstm_like_dynamic_rnn, bk.builtin_lstm(cell, D), x, L, hint=hint,
                           what="lstm_like_dynamic_rnn(layer, inputs, sequence_length)")
            got_out, got_state = expect_pair(got, "lstm_like_dynamic_rnn", "(outputs, [h, c])")
            steps = list(np.shape(bk.array(got_out)))
            if len(steps) == 3 and steps[0] == B and steps[1] == max(lengths) < T:
                raise Mismatch("shape", f"`outputs` must have shape {[B, T, H]} (batch, time, units), got {steps}: "
                               f"they stop after the longest row's {max(lengths)} steps", bk.builtin_lstm_pad_hint)
            expect_rnn_results(bk, got_out, got_state, want_out, want_state, lengths, variants, hint, output_hint,
                               keep_hint=True)
        return (f"{bk.builtin_lstm_name} gives dynamic_rnn's outputs and final [h, c] on {len(BUILTIN_CASES)} "
                "padded batches (a length 0 too)")
    return run_check("check_builtin_lstm", body, HINTS["check_builtin_lstm"])


#: the checkers, in the order the notebook uses them (``binding.bind`` binds them in this order)
CHECKERS = (check_unroll, check_masked_nll, check_builtin_lstm)
