"""Chapter 3's exercise checkers, written once: cases, NumPy references, the usual mistakes,
hints, and the checker bodies (``check_x(bk, answer)``; ``bk``: see ``course_lib.chapters.binding``).

Pieces each binding gives its ``Backend``: ``weight_shapes(module)`` (``{key: shape}`` as
``export_weights`` names them, or a string for a layer not built yet), and hint words:
``method`` (``call`` / ``forward``), ``zero_state_hint``, ``projection_hint``, ``gru_build_hint``.
"""

from __future__ import annotations

import numpy as np

from course_lib.chapters.rnn_cases import (
    cell_weight_shapes, expect_final_state, expect_pair, explain_padding, inputs_for, rng_weights,
)
from course_lib.common.checking import CheckResult, Mismatch, as_state_leaves, call, expect_close, expect_shape, \
    run_check

#: what each exercise asks for, in one line: the hint when a problem has no more precise one
HINTS = {
    "check_running_sum_cell": "state_size = output_size = depth; the state starts at zeros; new = state + inputs "
                              "is both the output and the new state",
    "check_input_projection_wrapper": "keep self.cell and self.projection; project the inputs, then call the cell",
    "check_gru_cell": "create kernel, recurrent_kernel and bias on the first call, then apply the GRU formula",
}

#: activations a learner may put on the input projection by mistake, ``{name: NumPy function}``
PROJECTION_ACTIVATIONS = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0.0),
                          "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v))}

#: (batch, time, depth, sequence_length) for the cell checkers
CELL_CASES = [(3, 5, 4, [5, 2, 0]), (2, 3, 2, [3, 3])]


def running_sum(inputs: np.ndarray, lengths) -> tuple:
    """NumPy reference: outputs = the running sum inside each length (0 past it); final state =
    the sum over the row's valid steps. inputs ``[B, T, D]``."""
    B, T, _ = inputs.shape
    mask = (np.arange(T)[None, :] < np.asarray(lengths)[:, None])[..., None]  # (B, T, 1)
    sums = np.cumsum(inputs * mask, axis=1)
    return sums * mask, sums[:, -1]


def running_sum_variants(inputs: np.ndarray, lengths) -> dict:
    """The outputs ``[B, T, D]`` of the usual wrong running sums, ``{name: outputs}`` (0 past each
    row's length, as ``dynamic_rnn`` writes them), so that a checker can say which one it got."""
    T = inputs.shape[1]
    mask = (np.arange(T)[None, :] < np.asarray(lengths)[:, None])[..., None]  # (B, T, 1)
    x = inputs * mask
    sums = np.cumsum(x, axis=1)
    previous = np.concatenate([np.zeros_like(x[:, :1]), x[:, :-1]], axis=1)  # x at step t - 1
    return {"echo": x,                           # output = the step's input
            "one step late": (sums - x) * mask,  # output = the sum before this step's input
            "state is the input": (x + previous) * mask}  # new state = inputs, so output = x[t - 1] + x[t]


#: what each wrong running sum does, and how to fix it
RUNNING_SUM_SLIPS = {
    "echo": ("your output at each step is that step's input, not the sum so far",
             "new = state + inputs; return new, new (the sum is both the output and the new state)"),
    "one step late": ("your output is the sum *before* this step's input (the old state): one step late",
                      "return the new sum, new = state + inputs, as the output, not the state you were given"),
    "state is the input": ("your new state is the step's input, not the sum: each output adds only the "
                           "previous input to this one",
                           "the new state must be the new sum: return new, new with new = state + inputs"),
}


def gru_step_variants(x: np.ndarray, h: np.ndarray, weights: dict) -> dict:
    """One GRU step in NumPy: the right one (Keras ``reset_after=True``) and three classic slips,
    ``{name: h'}``, so that a checker can say which formula a learner wrote."""
    W, U, b = weights["kernel"], weights["recurrent_kernel"], weights["bias"]
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    xz, xr, xh = np.split(x @ W + b[0], 3, axis=-1)
    hz, hr, hh = np.split(h @ U + b[1], 3, axis=-1)
    z, r = sig(xz + hz), sig(xr + hr)
    right = z * h + (1 - z) * np.tanh(xh + r * hh)
    swapped = (1 - z) * h + z * np.tanh(xh + r * hh)
    U_h = U[:, 2 * U.shape[0]:]
    reset_before = z * h + (1 - z) * np.tanh(xh + (r * h) @ U_h + b[1][2 * U.shape[0]:])
    z_rz, r_rz = r, z  # the blocks read as r, z, h (PyTorch's nn.GRU order)
    order_rzh = z_rz * h + (1 - z_rz) * np.tanh(xh + r_rz * hh)
    return {"right": right, "swapped": swapped, "reset_before": reset_before, "order_rzh": order_rzh}


def _expect_attr(cell, attr, want, why):
    got = getattr(cell, attr, None)
    if got != want:
        raise Mismatch("structure", f"`{attr}` must be {want!r} ({why}), got {got!r}",
                       f"define `{attr}` as a property (or attribute) of the cell")


def _expect_zero_state(bk, cell, B, units):
    state = call(cell.get_initial_state, batch_size=B, dtype=bk.FLOAT_DTYPE,
                 what=f"cell.get_initial_state(batch_size={B}, dtype={bk.FLOAT_DTYPE_NAME})", hint=bk.zero_state_hint)
    leaf = as_state_leaves("initial state", state, [None], ["h"])[0]
    expect_close("initial state", bk.array(leaf), np.zeros((B, units), np.float32), ("row", "unit"),
                 hint="the initial state is zeros [batch_size, state_size]")
    return leaf


def _expect_weights(bk, module, want_shapes, hint):
    got = bk.weight_shapes(module)
    want = {k: list(v) for k, v in want_shapes.items()}
    if got != want:
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        wrong = [f"`{k}` is {got[k]}, expected {want[k]}" for k in sorted(set(got) & set(want)) if got[k] != want[k]]
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else []) + wrong
        unbuilt = any(isinstance(v, str) for v in got.values())
        raise Mismatch("shape" if wrong and not (missing or extra or unbuilt) else "structure",
                       "weights: " + "; ".join(parts), hint)


def _expect_like_reference(bk, ref, ref_inputs, cell, inputs, lengths, what: str, hint: str) -> None:
    """``cl.dynamic_rnn`` of the learner's ``cell`` on ``inputs`` gives what ``ref`` gives on ``ref_inputs``."""
    L = bk.ids(lengths)
    with bk.no_grad():
        want_out, want_state = bk.cl.dynamic_rnn(ref, ref_inputs, sequence_length=L)
        got_out, got_state = call(bk.cl.dynamic_rnn, cell, inputs, sequence_length=L, what=what, hint=hint)
    expect_close("outputs", bk.array(got_out), bk.array(want_out), ("row", "step", "unit"), hint=hint,
                 explain=explain_padding(lengths))
    expect_final_state(bk, got_state, want_state, lengths, hint)


def _expect_running_sum(got, want, variants: dict, lengths, hint: str) -> None:
    """The learner's outputs against the running sum, naming the usual slips."""
    if got.shape == want.shape and not np.allclose(got, want, atol=1e-5):
        for name, wrong in variants.items():
            if np.allclose(got, wrong, atol=1e-5):
                problem, fix = RUNNING_SUM_SLIPS[name]
                raise Mismatch("value", f"`outputs`: {problem}", fix)
    expect_close("outputs", got, want, ("row", "step", "unit"), hint=hint, explain=explain_padding(lengths))


def check_running_sum_cell(bk, RunningSumCell) -> CheckResult:
    """Exercise: ``RunningSumCell(depth)``: output and state are the sum of the inputs so far."""
    hint = f"in {bk.method}: new = state + inputs; return new, new"

    def body():
        for i, (B, T, D, lengths) in enumerate(CELL_CASES):
            cell = call(RunningSumCell, D, what=f"RunningSumCell({D})")
            _expect_attr(cell, "state_size", D, "the sum has the inputs' depth")
            _expect_attr(cell, "output_size", D, "the output is the sum")
            _expect_zero_state(bk, cell, B, D)
            x = inputs_for(30 + i, (B, T, D))
            out, state = call(bk.cl.dynamic_rnn, cell, bk.float32(x), sequence_length=bk.ids(lengths),
                              what="cl.dynamic_rnn(your cell, inputs, sequence_length)", hint=hint)
            want_out, want_state = running_sum(x, lengths)
            _expect_running_sum(bk.array(out), want_out, running_sum_variants(x, lengths), lengths, hint)
            expect_final_state(bk, state, want_state, lengths, hint)
        return "sums its inputs step by step, with the protocol dynamic_rnn needs (lengths 0 to 5)"
    return run_check("check_running_sum_cell", body, HINTS["check_running_sum_cell"])


def check_input_projection_wrapper(bk, InputProjectionWrapper) -> CheckResult:
    """Exercise: ``InputProjectionWrapper(cell, num_proj)``: a dense layer of ``num_proj`` units on the
    inputs (no activation), then the cell."""
    hint, cl = bk.projection_hint, bk.cl

    def body():
        B, T, D, lengths = CELL_CASES[0]
        H, P = 6, 3
        inner = cl.GRUCell(H)
        wrapper = call(InputProjectionWrapper, inner, P, what=f"InputProjectionWrapper(cell, {P})", hint=hint)
        _expect_attr(wrapper, "state_size", H, "the wrapped cell's")
        _expect_attr(wrapper, "output_size", H, "the wrapped cell's")
        state = _expect_zero_state(bk, wrapper, B, H)
        x = inputs_for(40, (B, T, D))
        out = call(wrapper, bk.float32(x[:, 0]), state, what=f"wrapper(inputs {[B, D]}, state)", hint=hint)
        out, _ = expect_pair(out, "the wrapper", "(output, new_state)")
        if list(np.shape(bk.array(out))) == [B, P]:
            raise Mismatch("shape", f"the wrapper's `output` has {P} units, the projection's num_proj: you "
                           "projected the cell's output; an input projection projects the *inputs* and returns "
                           "the cell's output unchanged", hint)
        expect_shape("output", bk.array(out), [B, H], "batch, units", hint=hint)
        shapes = {f"cell/{k}": s for k, s in cell_weight_shapes("GRUCell", P, H).items()}
        shapes.update({"projection/kernel": (D, P), "projection/bias": (P,)})
        try:
            _expect_weights(bk, wrapper, shapes, hint)
        except Mismatch as m:
            built_for = bk.weight_shapes(wrapper).get("cell/kernel")
            if isinstance(built_for, list) and built_for[:1] == [D]:
                m.problem += (f" — the wrapped cell was built for the raw inputs ({D} numbers): your wrapper never "
                              "passes them through the projection")
            raise
        weights = rng_weights(shapes, seed=41)
        cl.import_weights(wrapper, weights)
        ref_cell = cl.GRUCell(H)
        cl.import_weights(ref_cell, {k[5:]: v for k, v in weights.items() if k.startswith("cell/")})
        projected = x @ weights["projection/kernel"] + weights["projection/bias"]  # (B, T, P)
        L = bk.ids(lengths)
        with bk.no_grad():
            got_out, got_state = call(bk.cl.dynamic_rnn, wrapper, bk.float32(x), sequence_length=L,
                                      what="cl.dynamic_rnn(wrapper, inputs, sequence_length)", hint=hint)
            want_out, want_state = bk.cl.dynamic_rnn(ref_cell, bk.float32(projected), sequence_length=L)
            got_out = bk.array(got_out)
            if got_out.shape == bk.array(want_out).shape and not np.allclose(got_out, bk.array(want_out), atol=1e-5):
                for name, fn in PROJECTION_ACTIVATIONS.items():
                    wrong, _ = bk.cl.dynamic_rnn(ref_cell, bk.float32(fn(projected)), sequence_length=L)
                    if np.allclose(got_out, bk.array(wrong), atol=1e-5):
                        raise Mismatch("value", f"your projection applies an activation ({name}); the input "
                                       "projection is linear: inputs @ kernel + bias, no activation", hint)
        expect_close("outputs", got_out, bk.array(want_out), ("row", "step", "unit"), hint=hint,
                     explain=explain_padding(lengths))
        expect_final_state(bk, got_state, want_state, lengths, hint)
        return "projects the inputs, runs the wrapped cell, and keeps its state and sizes"
    return run_check("check_input_projection_wrapper", body, HINTS["check_input_projection_wrapper"])


def _expect_gru_step(got_h, variants, formula):
    """Step 0 of the learner's cell against the right formula, naming the two classic slips."""
    if np.allclose(got_h, variants["right"], atol=1e-5):
        return
    if np.allclose(got_h, variants["swapped"], atol=1e-5):
        raise Mismatch("value", "step 0: your h' = (1 − z) ⊙ h + z ⊙ ĥ",
                       "Keras (and cl.GRUCell) keep the old state where z is 1: h' = z ⊙ h + (1 − z) ⊙ ĥ")
    if np.allclose(got_h, variants["reset_before"], atol=1e-5):
        raise Mismatch("value", "step 0: you reset before the matrix product, (r ⊙ h) Uh",
                       "reset_after: multiply r with (h Uh + ch), after the product")
    if np.allclose(got_h, variants["order_rzh"], atol=1e-5):
        raise Mismatch("value", "step 0: you read the gate blocks in the order r, z, h (PyTorch's nn.GRU order)",
                       "here (as in Keras and cl.GRUCell) the kernel's three blocks along the last axis are "
                       "z, r, h: z comes first")
    expect_close("output at step 0", got_h, variants["right"], ("row", "unit"), hint=formula)


def check_gru_cell(bk, MyGRUCell) -> CheckResult:
    """Exercise: ``MyGRUCell(units)`` equal to ``cl.GRUCell`` (Keras ``reset_after=True``) with the same weights."""
    build_hint, cl = bk.gru_build_hint, bk.cl
    formula = ("z = σ(x Wz + bz + h Uz + cz), r = σ(x Wr + br + h Ur + cr), ĥ = tanh(x Wh + bh + r ⊙ (h Uh + ch)), "
               f"h' = z ⊙ h + (1 − z) ⊙ ĥ; W = kernel split in 3 along the last {bk.AXIS}, b, c = bias[0], bias[1]")

    def body():
        H = 4
        for i, (B, T, D, lengths) in enumerate(CELL_CASES):
            cell = call(MyGRUCell, H, what=f"MyGRUCell({H})")
            _expect_attr(cell, "state_size", H, "one state tensor [batch, units]")
            _expect_attr(cell, "output_size", H, "the output is the new state")
            x = inputs_for(50 + i, (B, T, D))
            h0 = np.random.default_rng(60 + i).standard_normal((B, H)).astype(np.float32)
            call(cell, bk.float32(x[:, 0]), bk.float32(h0), what=f"cell(inputs {[B, D]}, state {[B, H]})",
                 hint=build_hint)
            shapes = cell_weight_shapes("GRUCell", D, H)
            _expect_weights(bk, cell, shapes, build_hint)
            weights = rng_weights(shapes, seed=70 + i)
            cl.import_weights(cell, weights)
            with bk.no_grad():
                got = expect_pair(call(cell, bk.float32(x[:, 0]), bk.float32(h0), what="cell(inputs, state)"),
                                  "the cell", "(output, new_state)")
            got_h = bk.array(got[0])
            expect_shape("output", got_h, [B, H], "batch, units", hint=formula)
            _expect_gru_step(got_h, gru_step_variants(x[:, 0], h0, weights), formula)
            ref = cl.GRUCell(H)
            cl.import_weights(ref, weights)
            _expect_like_reference(bk, ref, bk.float32(x), cell, bk.float32(x), lengths,
                                   "cl.dynamic_rnn(your cell, inputs, sequence_length)", formula)
        return "builds kernel, recurrent_kernel and bias on its first call and equals cl.GRUCell step by step"
    return run_check("check_gru_cell", body, HINTS["check_gru_cell"])


#: the checkers, in the order the notebook uses them (``binding.bind`` binds them in this order)
CHECKERS = (check_running_sum_cell, check_input_projection_wrapper, check_gru_cell)
