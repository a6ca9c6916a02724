"""Chapter 1's checkers reject wrong answers with a message that says what is wrong (shape, value,
which row and step) and names the mistake: an unrolled loop, the masked NLL, the built-in LSTM
layer on a padded batch. Each wrong answer is one a learner would plausibly write."""

from __future__ import annotations

import numpy as np
import pytest

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
    rejects(result, "value", "`outputs` at row 1, step 1", "row 1 has length 1, so step 1 is padding",
            "past each row's length your outputs are not zero")


def _stack(bk, tensors):
    return bk.fw.stack(tensors, axis=1) if bk.name == "tf" else bk.fw.stack(tensors, dim=1)


def _loop(bk, variant=None):
    """A learner's unroll: right by default, with one usual slip as asked."""
    fw = bk.fw

    def my_dynamic_rnn(cell, inputs, sequence_length):
        B, T = inputs.shape[0], inputs.shape[1]
        state = cell.get_initial_state(batch_size=B)
        outputs = []
        for t in range(T):
            output, new_state = cell(inputs[:, t], state)
            valid = ((t <= sequence_length) if variant == "off_by_one" else (t < sequence_length))[:, None]
            zero = fw.zeros_like(output)
            if variant == "swapped_where":
                output = fw.where(valid, zero, output)
            elif variant != "no_zero_outputs":
                output = fw.where(valid, output, zero)
            outputs.append(output)
            if variant == "unfrozen_state":
                state = new_state
            elif isinstance(new_state, list):  # LSTM: [h, c]
                state = [fw.where(valid, n, o) for n, o in zip(new_state, state)]
            else:
                state = fw.where(valid, new_state, state)
        outputs = _stack(bk, outputs)  # (B, T, H)
        if variant == "c_h" and isinstance(state, list):
            state = [state[1], state[0]]  # TF1's LSTMStateTuple(c, h) order
        if variant == "h_from_outputs" and isinstance(state, list):
            state = [outputs[:, -1], state[1]]
        return outputs, state
    return my_dynamic_rnn


def test_the_learner_loop_is_right_when_it_makes_no_slip(backend):
    assert chapter(backend).check_unroll(_loop(backend))


@pytest.mark.parametrize("variant,words", [
    ("no_zero_outputs", ["`outputs` at row 1, step 1", "past each row's length your outputs are not zero"]),
    ("off_by_one", ["`outputs` at row 1, step 1", "off by one", "t < sequence_length"]),
    ("swapped_where", ["`outputs` at row 0, step 0", "the two branches of `where` are swapped"]),
    ("unfrozen_state", ["`final_state[0] (h)` at row 1", "ran through the padding"]),
    ("c_h", ["`final_state[0] (h)` at row 0", "your state is [c, h]", "LSTMStateTuple(c, h)"]),
    ("h_from_outputs", ["`final_state[0] (h)` at row 1", "your h is outputs[:, -1]", "padding"]),
])
def test_unroll_names_the_usual_slips(backend, variant, words):
    rejects(chapter(backend).check_unroll(_loop(backend, variant)), "value", *words)


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


def _numpy_nll(variant):
    """A learner's masked mean NLL in NumPy (a checker takes a NumPy scalar too), with one slip as asked."""
    def masked_mean_nll(logits, targets, lengths):
        z, y, L = (np.asarray(a) for a in (logits, targets, lengths))
        axis = {"softmax_over_time": 1}.get(variant, -1)
        log_probs = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
        if variant == "no_log_softmax":
            log_probs = z
        nll = -np.take_along_axis(log_probs, y[..., None], axis=-1)[..., 0]  # (B, T)
        steps = np.arange(y.shape[1])[None, :]
        mask = (steps <= L[:, None]) if variant == "mask_off_by_one" else (steps < L[:, None])
        if variant == "sum":
            return (nll * mask).sum()
        if variant == "per_row_mean":
            rows = L > 0
            return ((nll * mask).sum(1)[rows] / mask.sum(1)[rows]).mean()
        if variant == "sign":
            return (-nll * mask).sum() / mask.sum()
        return (nll * mask).sum() / mask.sum()
    return masked_mean_nll


def test_the_numpy_nll_is_right_when_it_makes_no_slip(backend):
    assert chapter(backend).check_masked_nll(_numpy_nll(None))


@pytest.mark.parametrize("variant,words", [
    ("no_log_softmax", ["without log_softmax"]),
    ("softmax_over_time", ["normalises over axis 1 (the time axis)"]),
    ("mask_off_by_one", ["one position past each row's length"]),
    ("sum", ["the masked *sum*"]),
    ("per_row_mean", ["averaged each row and then the rows"]),
    ("sign", ["the sign is flipped"]),
])
def test_masked_nll_names_more_slips(backend, variant, words):
    rejects(chapter(backend).check_masked_nll(_numpy_nll(variant)), "value", "the loss for lengths", *words)


def test_masked_nll_names_a_nan_from_a_row_of_length_0(backend):
    def row_by_row(logits, targets, lengths):
        z, y, L = (np.asarray(a) for a in (logits, targets, lengths))
        log_probs = z - np.log(np.exp(z).sum(-1, keepdims=True))
        nll = -np.take_along_axis(log_probs, y[..., None], axis=-1)[..., 0]
        mask = np.arange(y.shape[1])[None, :] < L[:, None]
        with np.errstate(invalid="ignore"):
            per_row = (nll * mask).sum(1) / mask.sum(1)  # 0 / 0 for a row of length 0
        return (per_row * mask.sum(1)).sum() / mask.sum()  # right when no row is empty
    rejects(chapter(backend).check_masked_nll(row_by_row), "value", "lengths [3, 0, 2, 1]", "got nan",
            "NaN", "a row of length 0")


def _zero_padding(bk, sequences, lengths):
    mask = bk.fw.sequence_mask(lengths, sequences.shape[1])[..., None]
    return bk.fw.where(mask, sequences, 0.0)


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
                "row 1 has length 1, so step 1 is padding", "repeats the last output", "you repeat its last output")
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
                "row 2 has length 0, so step 0 is padding", "clamp to 1", "the row of length 0 ran one step")
    rejects(ex.check_builtin_lstm(unmasked), "value", "`outputs` at row 1, step 1", "padding",
            "your outputs are not zero")


def test_builtin_lstm_names_a_state_that_ran_through_the_padding_and_one_in_tf1_order(backend):
    """Zeroing the outputs is not enough: the state must stop at each row's end; and h comes first."""
    ex, fw = chapter(backend), backend.fw
    if backend.name == "tf":
        def zeroed_unmasked(layer, x, L):
            sequences, h, c = layer(x)  # no mask: the state runs on through the padding
            return _zero_padding(backend, sequences, L), [h, c]

        def tf1_order(layer, x, L):
            sequences, c, h = layer(x, mask=fw.sequence_mask(L, x.shape[1]))  # as if it were LSTMStateTuple(c, h)
            return _zero_padding(backend, sequences, L), [h, c]

        def last_output_as_h(layer, x, L):
            sequences, _, c = layer(x, mask=fw.sequence_mask(L, x.shape[1]))
            sequences = _zero_padding(backend, sequences, L)
            return sequences, [sequences[:, -1], c]
    else:
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        def packed(layer, x, L):
            out, (h_n, c_n) = layer(pack_padded_sequence(x, L.clamp(min=1), batch_first=True, enforce_sorted=False))
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            empty = (L == 0)[:, None]
            out = out.masked_fill(empty[..., None], 0.0)
            h, c = (fw.where(empty, fw.zeros_like(s[0]), s[0]) for s in (h_n, c_n))
            return out, h, c

        def zeroed_unmasked(layer, x, L):
            output, (h_n, c_n) = layer(x)
            mask = (fw.arange(x.shape[1])[None, :] < L[:, None])[..., None]
            return output * mask, [h_n[0], c_n[0]]

        def tf1_order(layer, x, L):
            out, h, c = packed(layer, x, L)
            return out, [c, h]

        def last_output_as_h(layer, x, L):
            out, _, c = packed(layer, x, L)
            return out, [out[:, -1], c]
    rejects(ex.check_builtin_lstm(zeroed_unmasked), "value", "`final_state[0] (h)` at row 1",
            "ran through the padding")
    rejects(ex.check_builtin_lstm(tf1_order), "value", "your state is [c, h]", "LSTMStateTuple(c, h)")
    rejects(ex.check_builtin_lstm(last_output_as_h), "value", "your h is outputs[:, -1]")


def test_builtin_lstm_names_the_layer_axis_and_outputs_cut_at_the_longest_row(torch_backend):
    """PyTorch only: h_n keeps its layer axis; pad_packed_sequence pads to the longest row unless told T."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    ex, fw = chapter(torch_backend), torch_backend.fw

    def packed(layer, x, L, total_length):
        out, (h_n, c_n) = layer(pack_padded_sequence(x, L.clamp(min=1), batch_first=True, enforce_sorted=False))
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=total_length)
        empty = (L == 0)[:, None]
        return out.masked_fill(empty[..., None], 0.0), [fw.where(empty, 0.0, s) for s in (h_n, c_n)]

    def with_layer_axis(layer, x, L):
        return packed(layer, x, L, x.shape[1])

    def no_total_length(layer, x, L):
        out, (h, c) = packed(layer, x, L, None)
        return out, [h[0], c[0]]

    rejects(ex.check_builtin_lstm(with_layer_axis), "shape", "has shape [1, 4, 4]", "the layer axis", "h_n[0]")
    rejects(ex.check_builtin_lstm(no_total_length), "shape", "`outputs` must have shape [3, 5, 4]", "got [3, 3, 4]",
            "longest row's 3 steps", "total_length=T")
