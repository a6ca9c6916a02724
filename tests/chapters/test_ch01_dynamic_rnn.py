"""Chapter 1's checkers reject wrong answers with a message that says what is wrong (shape, value,
which row and step): an unrolled loop, the masked NLL, the built-in LSTM layer on a padded batch."""

from __future__ import annotations

import numpy as np

from tests.chapters.helpers import binding, rejects

PACKAGE = "ch01_dynamic_rnn"


def chapter(bk):
    """This chapter's checkers in backend ``bk`` (what its notebook imports as ``ex``)."""
    return binding(bk, PACKAGE)


def test_a_crash_is_reported_with_its_line_not_a_traceback(backend, capsys):
    def broken(cell, inputs, sequence_length):
        return inputs.no_such_method()

    rejects(chapter(backend).check_unroll(broken), "error", "AttributeError", "no_such_method")
    assert "Traceback" not in capsys.readouterr().out


def _transpose01(bk, x):
    return bk.fw.transpose(x, [1, 0, 2]) if bk.name == "tf" else x.transpose(0, 1)


def test_unroll_rejects_outputs_past_the_length(backend):
    cl = backend.cl
    result = chapter(backend).check_unroll(lambda cell, x, L: cl.dynamic_rnn(cell, x))
    rejects(result, "value", "`outputs` at row 1, step 1", "row 1 has length 1, so step 1 is padding")


def test_unroll_rejects_time_major_outputs(backend):
    cl = backend.cl

    def time_major(cell, x, L):
        out, state = cl.dynamic_rnn(cell, x, sequence_length=L)
        return _transpose01(backend, out), state

    rejects(chapter(backend).check_unroll(time_major), "shape", "`outputs` must have shape [4, 6, 4]",
            "got [6, 4, 4]")


def test_unroll_rejects_a_state_that_runs_past_the_length(backend):
    cl = backend.cl

    def unfrozen(cell, x, L):
        out, _ = cl.dynamic_rnn(cell, x, sequence_length=L)
        _, state = cl.dynamic_rnn(cell, x)
        return out, state

    rejects(chapter(backend).check_unroll(unfrozen), "value", "`final_state[0] (h)` at row 1",
            "its final state is the state after step 0")


def test_unroll_rejects_an_lstm_state_without_c(backend):
    cl = backend.cl

    def h_only(cell, x, L):
        out, state = cl.dynamic_rnn(cell, x, sequence_length=L)
        return out, state[0]

    rejects(chapter(backend).check_unroll(h_only), "structure", "list [h, c]")


def test_masked_nll_names_the_mistake(backend):
    cl, ex = backend.cl, chapter(backend)

    def unmasked(logits, targets, lengths):
        return cl.sequence_loss(logits, targets, backend.float(np.ones(tuple(targets.shape))))

    def over_all_positions(logits, targets, lengths):
        weights = cl.sequence_mask(lengths, targets.shape[1], dtype=backend.float(0.0).dtype)
        total = cl.sequence_loss(logits, targets, weights, average_across_timesteps=False,
                                 average_across_batch=False)  # [B, T]
        return backend.fw.reduce_sum(total) / (targets.shape[0] * targets.shape[1]) if backend.name == "tf" \
            else total.sum() / targets.numel()

    def per_row(logits, targets, lengths):
        weights = cl.sequence_mask(lengths, targets.shape[1], dtype=backend.float(0.0).dtype)
        return cl.sequence_loss(logits, targets, weights, average_across_batch=False)  # [B]

    rejects(ex.check_masked_nll(unmasked), "value", "expected", "padding positions")
    rejects(ex.check_masked_nll(over_all_positions), "value", "divided the masked sum by B*T")
    rejects(ex.check_masked_nll(per_row), "shape", "`loss` must have shape []", "got [3]")


def test_builtin_lstm_rejects_the_layer_as_it_comes(backend):
    """Without the padding fixes the built-in layer differs from dynamic_rnn past a row's end."""
    ex = chapter(backend)
    if backend.name == "tf":
        def masked_only(layer, x, L):  # Keras repeats the last output over the padding
            sequences, h, c = layer(x, mask=backend.fw.sequence_mask(L, x.shape[1]))
            return sequences, [h, c]

        def unmasked(layer, x, L):
            sequences, h, c = layer(x)
            return sequences, [h, c]

        rejects(ex.check_builtin_lstm(masked_only), "value", "`outputs` at row 1, step 1",
                "row 1 has length 1, so step 1 is padding", "repeats the last output")
    else:
        def unmasked(layer, x, L):
            output, (h_n, c_n) = layer(x)
            return output, [h_n[0], c_n[0]]

        def packed_no_zero_fix(layer, x, L):
            from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
            packed = pack_padded_sequence(x, L.clamp(min=1), batch_first=True, enforce_sorted=False)
            out, (h_n, c_n) = layer(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            return out, [h_n[0], c_n[0]]

        rejects(ex.check_builtin_lstm(packed_no_zero_fix), "value", "`outputs` at row 2, step 0",
                "row 2 has length 0, so step 0 is padding", "clamp to 1")
    rejects(ex.check_builtin_lstm(unmasked), "value", "`outputs` at row 1, step 1", "padding")
