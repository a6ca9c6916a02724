"""What the checkers of several chapters share (framework-free): seeded weights in Keras layout,
stock cells holding them, padded inputs, and the checks of an RNN's ``(outputs, final_state)``.

NumPy in and out; functions that take ``bk`` (a ``course_lib.chapters.binding.Backend``) build
tensors or modules through it.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from course_lib.common import nest
from course_lib.common.checking import Mismatch, as_state_leaves, expect_close


def rng_weights(shapes: dict, seed: int, scale: float = 0.5) -> dict:
    """A weights dict (Keras layout) with seeded normal values: the same in both backends.

    Args:
        shapes: ``{key: shape}``, as ``export_weights`` names them.
    Returns:
        ``{key: float32 array of that shape}``, drawn in sorted key order.
    """
    rng = np.random.default_rng(seed)
    return {k: (rng.standard_normal(shape) * scale).astype(np.float32) for k, shape in sorted(shapes.items())}


def cell_weight_shapes(kind: str, input_size: int, units: int) -> dict:
    """Keras-layout shapes of a stock cell's weights (``kind``: SimpleRNNCell, GRUCell or LSTMCell)."""
    gates = {"SimpleRNNCell": 1, "GRUCell": 3, "LSTMCell": 4}[kind]
    bias = (2, 3 * units) if kind == "GRUCell" else (gates * units,)
    return {"kernel": (input_size, gates * units), "recurrent_kernel": (units, gates * units), "bias": bias}


def stock_cell(bk, kind: str, units: int, depth: int, seed: int):
    """``cl.<kind>(units)`` holding ``rng_weights`` for inputs of ``depth``."""
    cell = getattr(bk.cl, kind)(units)
    bk.cl.import_weights(cell, rng_weights(cell_weight_shapes(kind, depth, units), seed))
    return cell


def inputs_for(case_index: int, shape, seed: int = 100) -> np.ndarray:
    """Seeded standard-normal float32 inputs of ``shape`` for case ``case_index``."""
    return np.random.default_rng(seed + case_index).standard_normal(shape).astype(np.float32)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax over ``axis``, in float64."""
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def explain_padding(lengths, time_axis: int = 1) -> Callable[[tuple], str]:
    """For a mismatch at ``(row, step, ...)``: say whether the step is inside the row's length."""
    def explain(idx):
        if len(idx) <= time_axis:
            return ""
        row, step = idx[0], idx[time_axis]
        if step >= lengths[row]:
            return f"row {row} has length {lengths[row]}, so step {step} is padding"
        return f"step {step} is inside row {row}'s length {lengths[row]}"
    return explain


def expect_pair(got, who: str, what: str):
    """``got`` if it is a pair; else a ``Mismatch`` saying that ``who`` must return ``what``."""
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        given = f"a {type(got).__name__} of {len(got)}" if isinstance(got, (list, tuple)) else type(got).__name__
        raise Mismatch("structure", f"{who} must return {what}, got {given}", f"end with `return {what[1:-1]}`")
    return got


def expect_final_state(bk, got, want, lengths: Sequence[int], hint) -> None:
    """Compare a final state leaf by leaf, explaining which step each row's state comes from.

    Args:
        got: the learner's state (a tensor ``[B, H]`` or a list ``[h, c]`` of them).
        want: the reference state (tensors or NumPy, the same structure).
        lengths: ``[B]``, the rows' sequence lengths (None: no explanation).
    """
    want_leaves = [np.asarray(v) for v in nest.flatten(bk.numpy(want))]
    names = ["h", "c"] if len(want_leaves) == 2 else ["h"]
    got_leaves = as_state_leaves("final_state", got, want_leaves, names)

    def explain(idx):
        row = idx[0]
        if lengths is None:
            return ""
        L = lengths[row]
        return f"row {row} has length {L}: its final state is " + (
            "the initial state" if L == 0 else f"the state after step {L - 1}")

    for j, (g, w) in enumerate(zip(got_leaves, want_leaves)):
        name = f"final_state[{j}] ({names[j]})" if len(want_leaves) > 1 else "final_state"
        expect_close(name, bk.array(g), w, ("row", "unit"), hint=hint, explain=explain)
