"""Checkers for the exercises of chapters 1-3 (PyTorch): ``from course_lib.torch import exercises as ex``.

Each ``check_*`` runs your function or class on small cases, compares it with ``course_lib``
and prints ✓, or ✗ with what is wrong (shape, value, which row and step) and a hint. It
returns a ``CheckResult`` (true when it passed) and never raises for a wrong answer. The
TensorFlow backend has the same checkers under the same names.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import course_lib.torch as cl
from course_lib.common import exercises as common
from course_lib.common import nest
from course_lib.common.exercises import CheckResult, Mismatch, call, expect_close, expect_shape, run_check

__all__ = [
    "CheckResult", "check_unroll", "check_masked_nll", "check_builtin_lstm", "check_decode_loop",
    "check_temperature", "check_lengths_from_ids", "check_running_sum_cell", "check_input_projection_wrapper",
    "check_gru_cell",
]


def _np(x):
    return np.asarray(cl.to_numpy(x))


def _t(x):
    return torch.tensor(np.asarray(x))


def _stock_cell(kind, units, depth, seed):
    cell = getattr(cl, kind)(units)
    cl.import_weights(cell, common.rng_weights(common.cell_weight_shapes(kind, depth, units), seed))
    return cell


def _pair(got, who, what):
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        given = f"a {type(got).__name__} of {len(got)}" if isinstance(got, (list, tuple)) else type(got).__name__
        raise Mismatch("structure", f"{who} must return {what}, got {given}", f"end with `return {what[1:-1]}`")
    return got


def _expect_state(got, want, lengths, hint):
    """Compare a final state leaf by leaf, explaining which step each row's state comes from."""
    want_leaves = [np.asarray(v) for v in nest.flatten(cl.to_numpy(want))]
    names = ["h", "c"] if len(want_leaves) == 2 else ["h"]
    got_leaves = common.as_state_leaves("final_state", got, want_leaves, names)

    def explain(idx):
        row = idx[0]
        if lengths is None:
            return ""
        L = lengths[row]
        return f"row {row} has length {L}: its final state is " + (
            "the initial state" if L == 0 else f"the state after step {L - 1}")

    for j, (g, w) in enumerate(zip(got_leaves, want_leaves)):
        name = f"final_state[{j}] ({names[j]})" if len(want_leaves) > 1 else "final_state"
        expect_close(name, _np(g), w, ("row", "unit"), hint=hint, explain=explain)


# -- chapter 1 ------------------------------------------------------------------------------

_UNROLL_HINT = ("loop over t: output, new_state = cell(inputs[:, t], state); where t >= sequence_length, "
                "write a zero output and keep the old state (torch.where, leaf by leaf)")


def check_unroll(my_dynamic_rnn) -> CheckResult:
    """Exercise: ``my_dynamic_rnn(cell, inputs [B, T, D], sequence_length [B]) -> (outputs [B, T, H], final_state)``."""
    def output_hint(idx):
        if idx is None:
            return "outputs are batch-major [batch, time, units]: stack the per-step outputs along dim 1"
        return _UNROLL_HINT

    def body():
        for i, (kind, H, B, T, D, lengths) in enumerate(common.UNROLL_CASES):
            cell = _stock_cell(kind, H, D, seed=i)
            x = _t(common.inputs_for(i, (B, T, D)))
            L = torch.tensor(lengths)
            with torch.no_grad():
                want_out, want_state = cl.dynamic_rnn(cell, x, sequence_length=L)
                got = call(my_dynamic_rnn, cell, x, L, what="my_dynamic_rnn(cell, inputs, sequence_length)",
                           hint=_UNROLL_HINT)
            got_out, got_state = _pair(got, "my_dynamic_rnn", "(outputs, final_state)")
            expect_close("outputs", _np(got_out), _np(want_out), ("row", "step", "unit"), hint=output_hint,
                         explain=common.explain_padding(lengths))
            _expect_state(got_state, want_state, lengths,
                          "past its length a row keeps its state: torch.where(t < sequence_length, new, old)")
        return (f"matches cl.dynamic_rnn on {len(common.UNROLL_CASES)} padded batches "
                "(LSTM, GRU and SimpleRNN cells; lengths include 0 and 1)")
    return run_check("check_unroll", body)


def check_masked_nll(masked_mean_nll) -> CheckResult:
    """Exercise: ``masked_mean_nll(logits [B, T, V], targets [B, T], lengths [B]) -> scalar``."""
    def body():
        cases = common.masked_nll_cases()
        for logits, targets, lengths in cases:
            T = targets.shape[1]
            weights = cl.sequence_mask(_t(lengths), T, dtype=torch.float32)
            want = float(cl.sequence_loss(_t(logits), _t(targets), weights))
            got = _np(call(masked_mean_nll, _t(logits), _t(targets), _t(lengths),
                           what="masked_mean_nll(logits, targets, lengths)"))
            expect_shape("loss", got, [], "a scalar",
                         hint="one number for the batch: sum over every real token, divide by their count")
            if abs(float(got) - want) > 1e-4:
                mistake = common.masked_nll_mistake(float(got), logits, targets, lengths)
                raise Mismatch(
                    "value", f"the loss for lengths {lengths.tolist()}: expected {want:.4f}, got {float(got):.4f}",
                    mistake or "NLL of a position = -log_softmax(logits)[target]; weight it by the mask "
                               "(t < length) and divide the sum by the number of real tokens")
        return f"equals cl.sequence_loss with sequence_mask weights on {len(cases)} batches (a length-0 row too)"
    return run_check("check_masked_nll", body)


def _builtin_lstm(cell, D):
    lstm = nn.LSTM(D, cell.units, batch_first=True)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(cell.kernel.T)
        lstm.weight_hh_l0.copy_(cell.recurrent_kernel.T)
        lstm.bias_ih_l0.copy_(cell.bias)
        lstm.bias_hh_l0.zero_()
    return lstm


def check_builtin_lstm(lstm_like_dynamic_rnn) -> CheckResult:
    """Exercise: ``lstm_like_dynamic_rnn(layer, inputs [B, T, D], sequence_length [B]) -> (outputs, [h, c])``
    with an ``nn.LSTM(D, H, batch_first=True)`` holding a cell's weights."""
    hint = ("pack_padded_sequence(inputs, lengths.clamp(min=1), batch_first=True, enforce_sorted=False) -> lstm -> "
            "pad_packed_sequence(..., batch_first=True, total_length=T); h = h_n[0], c = c_n[0]; packing refuses "
            "length 0, so clamp to 1 and put zeros back in those rows (outputs and state)")

    def body():
        for i, (B, T, D, lengths) in enumerate(common.BUILTIN_CASES):
            H = 4
            cell = _stock_cell("LSTMCell", H, D, seed=5 + i)
            x = _t(common.inputs_for(5 + i, (B, T, D)))
            L = torch.tensor(lengths)
            with torch.no_grad():
                want_out, want_state = cl.dynamic_rnn(cell, x, sequence_length=L)
                got = call(lstm_like_dynamic_rnn, _builtin_lstm(cell, D), x, L, hint=hint,
                           what="lstm_like_dynamic_rnn(layer, inputs, sequence_length)")
            got_out, got_state = _pair(got, "lstm_like_dynamic_rnn", "(outputs, [h, c])")
            expect_close("outputs", _np(got_out), _np(want_out), ("row", "step", "unit"), hint=hint,
                         explain=common.explain_padding(lengths))
            _expect_state(got_state, want_state, lengths, hint)
        return "nn.LSTM gives dynamic_rnn's outputs and final [h, c] on padded batches (a length 0 too)"
    return run_check("check_builtin_lstm", body)


# -- chapter 2 ------------------------------------------------------------------------------

def _decode_loop_decoder():
    """The decoder the checker runs, with the NumPy weights both backends share."""
    d = common.DECODE
    weights, embedding, state = common.decode_loop_arrays()
    decoder = cl.BasicDecoder(cl.LSTMCell(d["H"]), cl.GreedyEmbeddingSampler(),
                              output_layer=nn.Linear(d["H"], d["V"]))
    cl.import_weights(decoder, weights)
    return decoder, _t(embedding), [_t(s) for s in state]


def check_decode_loop(my_greedy_decode) -> CheckResult:
    """Exercise: ``my_greedy_decode(decoder, embedding, start_tokens, end_token, initial_state,
    maximum_iterations) -> (sample_ids [B, T], lengths [B])``, written with ``decoder.initialize``
    and ``decoder.step`` (no dynamic_decode)."""
    d = common.DECODE
    hint = ("finished, inputs, state = decoder.initialize(embedding, start_tokens=..., end_token=..., "
            "initial_state=...); then loop: outputs, state, inputs, step_finished = decoder.step(t, inputs, state)")

    def body():
        decoder, embedding, state = _decode_loop_decoder()
        start = torch.full((d["B"],), d["start_token"])
        end, limit = d["end_token"], d["maximum_iterations"]
        with torch.no_grad():
            want, _, want_len = cl.dynamic_decode(
                decoder, maximum_iterations=limit, decoder_init_input=embedding,
                decoder_init_kwargs=dict(start_tokens=start, end_token=end, initial_state=state))
            want_ids, want_len = _np(want.sample_id), _np(want_len)
            got = call(my_greedy_decode, decoder, embedding, start, end, state, limit, hint=hint,
                       what="my_greedy_decode(decoder, embedding, start_tokens, end_token, initial_state, "
                            "maximum_iterations)")
        got_ids, got_len = (_np(v) for v in _pair(got, "my_greedy_decode", "(sample_ids, lengths)"))
        expect_shape("lengths", got_len, [d["B"]], "batch")
        for row in range(d["B"]):
            if int(got_len[row]) != int(want_len[row]):
                ends = np.flatnonzero(want_ids[row] == end)
                why = (f"row {row} emits the end token {end} at step {ends[0]}, and that step counts"
                       if len(ends) else f"row {row} never emits the end token, so it stops at maximum_iterations "
                                         f"= {limit}")
                raise Mismatch("value", f"`lengths` at row {row}: expected {int(want_len[row])}, "
                               f"got {int(got_len[row])} ({why})",
                               "lengths[b] = the step on which row b first finished, + 1; a finished row stays "
                               "finished (finished = finished | step_finished); stop after maximum_iterations")
        expect_shape("sample_ids", got_ids, want_ids.shape, "batch, time",
                     hint="stack one [batch] vector per step along dim 1; stop once every row has finished "
                          "or after maximum_iterations steps")
        for row in range(d["B"]):
            for t in range(int(want_len[row])):
                if int(got_ids[row, t]) != int(want_ids[row, t]):
                    raise Mismatch("value", f"`sample_ids` at row {row}, step {t}: expected {int(want_ids[row, t])},"
                                   f" got {int(got_ids[row, t])}",
                                   "feed each step the next_inputs and the state that the previous step returned; "
                                   "sample_id is outputs.sample_id")
        return (f"matches dynamic_decode on {d['B']} rows (lengths {want_len.tolist()}, "
                f"maximum_iterations = {limit})")
    return run_check("check_decode_loop", body)


def check_temperature(temperature_probs) -> CheckResult:
    """Exercise: ``temperature_probs(logits [B, V], temperature) -> probabilities [B, V]``."""
    def body():
        logits = common.temperature_logits()
        for temperature in common.TEMPERATURES:
            want = common.softmax(logits / temperature)
            got = _np(call(temperature_probs, _t(logits), temperature,
                           what=f"temperature_probs(logits, {temperature})"))
            expect_shape("probs", got, want.shape, "batch, vocab", hint="one probability per token: softmax over "
                                                                         "the last dim")
            sums = got.sum(axis=-1)
            bad = np.flatnonzero(np.abs(sums - 1) > 1e-4)
            if len(bad):
                raise Mismatch("value", f"row {bad[0]} of `probs` sums to {sums[bad[0]]:.4f}, not 1 "
                               f"(temperature {temperature})", "finish with a softmax over the vocabulary")
            if not np.allclose(got, want, atol=1e-5) and np.allclose(got, common.softmax(logits * temperature),
                                                                      atol=1e-5):
                raise Mismatch("value", f"`probs` at temperature {temperature} are softmax(logits * temperature)",
                               "divide the logits by the temperature: a high temperature must flatten the "
                               "distribution, a low one sharpen it")
            expect_close("probs", got, want, ("row", "token"), explain=lambda idx, t=temperature: f"temperature {t}",
                         hint="probs = softmax(logits / temperature)")
        return f"softmax(logits / temperature) at temperatures {list(common.TEMPERATURES)}"
    return run_check("check_temperature", body)


def check_lengths_from_ids(lengths_from_ids) -> CheckResult:
    """Exercise: ``lengths_from_ids(sample_ids [B, T], end_token) -> lengths [B]`` as dynamic_decode counts."""
    def body():
        for ids, end in common.LENGTH_CASES:
            want = common.decode_lengths(ids, end)
            got = _np(call(lengths_from_ids, _t(ids), end, what="lengths_from_ids(sample_ids, end_token)"))
            expect_shape("lengths", got, want.shape, "batch", hint="one length per row")
            for row in range(len(want)):
                if int(got[row]) != int(want[row]):
                    why, hint = common.explain_length(row, int(got[row]), ids, end)
                    raise Mismatch("value", f"`lengths` at row {row}: expected {int(want[row])}, got "
                                   f"{int(got[row])} ({why})", hint)
        return f"counts like dynamic_decode on {sum(len(c[0]) for c in common.LENGTH_CASES)} rows"
    return run_check("check_lengths_from_ids", body)


# -- chapter 3 ------------------------------------------------------------------------------

def _expect_attr(cell, attr, want, why):
    got = getattr(cell, attr, None)
    if got != want:
        raise Mismatch("structure", f"`{attr}` must be {want!r} ({why}), got {got!r}",
                       f"define `{attr}` as a property (or attribute) of the cell")


def _expect_zero_state(cell, B, units):
    state = call(cell.get_initial_state, batch_size=B, dtype=torch.float32,
                 what=f"cell.get_initial_state(batch_size={B}, dtype=torch.float32)",
                 hint="def get_initial_state(self, batch_size=None, dtype=None, device=None): "
                      "return torch.zeros(batch_size, state_size, dtype=dtype, device=device)")
    leaf = common.as_state_leaves("initial state", state, [None], ["h"])[0]
    expect_close("initial state", _np(leaf), np.zeros((B, units), np.float32), ("row", "unit"),
                 hint="the initial state is zeros [batch_size, state_size]")
    return leaf


def check_running_sum_cell(RunningSumCell) -> CheckResult:
    """Exercise: ``RunningSumCell(depth)``: output and state are the sum of the inputs so far."""
    hint = "in forward: new = state + inputs; return new, new"

    def body():
        for i, (B, T, D, lengths) in enumerate(common.CELL_CASES):
            cell = call(RunningSumCell, D, what=f"RunningSumCell({D})")
            _expect_attr(cell, "state_size", D, "the sum has the inputs' depth")
            _expect_attr(cell, "output_size", D, "the output is the sum")
            _expect_zero_state(cell, B, D)
            x = common.inputs_for(30 + i, (B, T, D))
            out, state = call(cl.dynamic_rnn, cell, _t(x), sequence_length=torch.tensor(lengths),
                              what="cl.dynamic_rnn(your cell, inputs, sequence_length)", hint=hint)
            want_out, want_state = common.running_sum(x, lengths)
            expect_close("outputs", _np(out), want_out, ("row", "step", "unit"), hint=hint,
                         explain=common.explain_padding(lengths))
            _expect_state(state, want_state, lengths, hint)
        return "sums its inputs step by step, with the protocol dynamic_rnn needs (lengths 0 to 5)"
    return run_check("check_running_sum_cell", body)


def _weight_shapes(module):
    """``{key: shape}`` as export_weights would name them; an unbuilt lazy layer shows as "unbuilt"."""
    from course_lib.torch.weights import _own_entries, _walk

    shapes = {}
    for path, m in _walk(module):
        if isinstance(m, nn.modules.lazy.LazyModuleMixin) and m.has_uninitialized_params():
            shapes[path + "kernel"] = shapes[path + "bias"] = "unbuilt (never called)"
            continue
        for name, (param, transposed) in _own_entries(m).items():
            shape = list(param.shape)
            shapes[path + name] = shape[::-1] if transposed is True else shape
    return shapes


def _expect_weights(module, want_shapes, hint):
    got = _weight_shapes(module)
    want = {k: list(v) for k, v in want_shapes.items()}
    if got != want:
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        wrong = [f"`{k}` is {got[k]}, expected {want[k]}" for k in sorted(set(got) & set(want)) if got[k] != want[k]]
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else []) + wrong
        unbuilt = any(isinstance(v, str) for v in got.values())
        raise Mismatch("shape" if wrong and not (missing or extra or unbuilt) else "structure",
                       "weights: " + "; ".join(parts), hint)


def check_input_projection_wrapper(InputProjectionWrapper) -> CheckResult:
    """Exercise: ``InputProjectionWrapper(cell, num_proj)``: a linear layer on the inputs, then the cell."""
    hint = ("keep the inner cell as `self.cell` and `self.projection = nn.LazyLinear(num_proj)`; forward: "
            "return self.cell(self.projection(inputs), state); state_size and output_size are the cell's")

    def body():
        B, T, D, lengths = common.CELL_CASES[0]
        H, P = 6, 3
        inner = cl.GRUCell(H)
        wrapper = call(InputProjectionWrapper, inner, P, what=f"InputProjectionWrapper(cell, {P})", hint=hint)
        _expect_attr(wrapper, "state_size", H, "the wrapped cell's")
        _expect_attr(wrapper, "output_size", H, "the wrapped cell's")
        state = _expect_zero_state(wrapper, B, H)
        x = common.inputs_for(40, (B, T, D))
        out = call(wrapper, _t(x[:, 0]), state, what=f"wrapper(inputs {[B, D]}, state)", hint=hint)
        out, _ = _pair(out, "the wrapper", "(output, new_state)")
        expect_shape("output", _np(out), [B, H], "batch, units", hint=hint)
        shapes = {f"cell/{k}": s for k, s in common.cell_weight_shapes("GRUCell", P, H).items()}
        shapes.update({"projection/kernel": (D, P), "projection/bias": (P,)})
        _expect_weights(wrapper, shapes, hint)
        weights = common.rng_weights(shapes, seed=41)
        cl.import_weights(wrapper, weights)
        ref_cell = cl.GRUCell(H)
        cl.import_weights(ref_cell, {k[5:]: v for k, v in weights.items() if k.startswith("cell/")})
        projected = _t(x @ weights["projection/kernel"] + weights["projection/bias"])
        L = torch.tensor(lengths)
        with torch.no_grad():
            want_out, want_state = cl.dynamic_rnn(ref_cell, projected, sequence_length=L)
            got_out, got_state = call(cl.dynamic_rnn, wrapper, _t(x), sequence_length=L,
                                      what="cl.dynamic_rnn(wrapper, inputs, sequence_length)", hint=hint)
        expect_close("outputs", _np(got_out), _np(want_out), ("row", "step", "unit"), hint=hint,
                     explain=common.explain_padding(lengths))
        _expect_state(got_state, want_state, lengths, hint)
        return "projects the inputs, runs the wrapped cell, and keeps its state and sizes"
    return run_check("check_input_projection_wrapper", body)


def check_gru_cell(MyGRUCell) -> CheckResult:
    """Exercise: ``MyGRUCell(units)`` equal to ``cl.GRUCell`` (Keras ``reset_after=True``) with the same weights."""
    build_hint = ("on the first call: self.kernel = nn.Parameter(...) of shape (D, 3 * units), recurrent_kernel "
                  "(units, 3 * units), bias (2, 3 * units)")
    formula = ("z = σ(x Wz + bz + h Uz + cz), r = σ(x Wr + br + h Ur + cr), ĥ = tanh(x Wh + bh + r ⊙ (h Uh + ch)), "
               "h' = z ⊙ h + (1 − z) ⊙ ĥ; W = kernel split in 3 along the last dim, b, c = bias[0], bias[1]")

    def body():
        H = 4
        for i, (B, T, D, lengths) in enumerate(common.CELL_CASES):
            cell = call(MyGRUCell, H, what=f"MyGRUCell({H})")
            _expect_attr(cell, "state_size", H, "one state tensor [batch, units]")
            _expect_attr(cell, "output_size", H, "the output is the new state")
            x = common.inputs_for(50 + i, (B, T, D))
            h0 = np.random.default_rng(60 + i).standard_normal((B, H)).astype(np.float32)
            call(cell, _t(x[:, 0]), _t(h0), what=f"cell(inputs {[B, D]}, state {[B, H]})", hint=build_hint)
            shapes = common.cell_weight_shapes("GRUCell", D, H)
            _expect_weights(cell, shapes, build_hint)
            weights = common.rng_weights(shapes, seed=70 + i)
            cl.import_weights(cell, weights)
            with torch.no_grad():
                got = _pair(call(cell, _t(x[:, 0]), _t(h0), what="cell(inputs, state)"), "the cell",
                            "(output, new_state)")
            variants = common.gru_step_variants(x[:, 0], h0, weights)
            got_h = _np(got[0])
            expect_shape("output", got_h, [B, H], "batch, units", hint=formula)
            if not np.allclose(got_h, variants["right"], atol=1e-5):
                if np.allclose(got_h, variants["swapped"], atol=1e-5):
                    raise Mismatch("value", "step 0: your h' = (1 − z) ⊙ h + z ⊙ ĥ",
                                   "Keras (and cl.GRUCell) keep the old state where z is 1: h' = z ⊙ h + (1 − z) ⊙ ĥ")
                if np.allclose(got_h, variants["reset_before"], atol=1e-5):
                    raise Mismatch("value", "step 0: you reset before the matrix product, (r ⊙ h) Uh",
                                   "reset_after: multiply r with (h Uh + ch), after the product")
                expect_close("output at step 0", got_h, variants["right"], ("row", "unit"), hint=formula)
            ref = cl.GRUCell(H)
            cl.import_weights(ref, weights)
            L = torch.tensor(lengths)
            with torch.no_grad():
                want_out, want_state = cl.dynamic_rnn(ref, _t(x), sequence_length=L)
                got_out, got_state = call(cl.dynamic_rnn, cell, _t(x), sequence_length=L,
                                          what="cl.dynamic_rnn(your cell, inputs, sequence_length)", hint=formula)
            expect_close("outputs", _np(got_out), _np(want_out), ("row", "step", "unit"), hint=formula,
                         explain=common.explain_padding(lengths))
            _expect_state(got_state, want_state, lengths, formula)
        return "builds kernel, recurrent_kernel and bias on its first call and equals cl.GRUCell step by step"
    return run_check("check_gru_cell", body)
