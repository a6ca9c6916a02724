"""Argument specs of the library's constructors and calls, written once for both backends.

Each check raises a ``ValueError`` or ``TypeError`` whose message names the argument (in
backticks), says what was expected and describes what was given. They read Python values,
NumPy arrays or the ``.shape``/``.dtype`` of a tensor, never a framework call, so both backends
call the same function before any framework op (see ``course_lib.common.checks`` for shapes,
ranks and dtypes).
"""

from __future__ import annotations

import numbers
from typing import Optional

import numpy as np

from course_lib.common import nest
from course_lib.common.checks import describe

#: ``dynamic_decode`` without ``maximum_iterations`` stops after this many steps and warns,
#: so that an inference decode whose rows never emit the end token cannot hang.
MAXIMUM_ITERATIONS_CAP = 500


def capped_message(unfinished: Optional[int] = None) -> str:
    """The warning of a decode that reached ``MAXIMUM_ITERATIONS_CAP`` with rows still running."""
    rows = "rows" if unfinished is None else f"{unfinished} rows"
    return (f"dynamic_decode stopped after MAXIMUM_ITERATIONS_CAP = {MAXIMUM_ITERATIONS_CAP} steps with {rows} "
            "unfinished; pass `maximum_iterations` to choose the limit")


def check_cell(cell, name: str = "cell") -> None:
    """An RNN cell is callable and has a ``state_size``."""
    if not callable(cell) or not hasattr(cell, "state_size"):
        raise TypeError(f"`{name}` must be an RNN cell (callable with `state_size`), got {describe(cell)}")


def check_callable(fn, name: str, allow_none: bool = False) -> None:
    """``fn`` is callable (or None when ``allow_none``)."""
    if fn is None and allow_none:
        return
    if not callable(fn):
        expected = "callable or None" if allow_none else "callable"
        raise TypeError(f"`{name}` must be {expected}, got {describe(fn)}")


def check_positive_int(value, name: str) -> int:
    """A positive Python int (not a bool); returns it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{name}` must be a positive int, got {value!r}")
    return int(value)


def check_float(value, name: str) -> float:
    """A real number (not a bool); returns it as ``float``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float, got {describe(value)}")
    return float(value)


def check_temperature(value) -> None:
    """``softmax_temperature``: None (meaning 1) or a number > 0."""
    if value is not None and not float(value) > 0:
        raise ValueError(f"`softmax_temperature` must be > 0, got {value!r}")


def check_maximum_iterations(value) -> Optional[int]:
    """``maximum_iterations``: None, or a non-negative whole number (a Python or NumPy value)."""
    if value is None:
        return None
    if isinstance(value, bool) or not float(value).is_integer():
        raise TypeError(f"`maximum_iterations` must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"`maximum_iterations` must be >= 0, got {value}")
    return int(value)


def check_initialized(owner, value):
    """``value`` once ``owner.initialize(...)`` has set it; a RuntimeError before."""
    if value is None:
        raise RuntimeError(f"{type(owner).__name__}.initialize(...) must be called first")
    return value


def check_probability_values(values: np.ndarray, name: str = "sampling_probability") -> None:
    """A probability given as a scalar or a vector ``[batch]``, every value in ``[0, 1]``."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim > 1:
        raise ValueError(f"`{name}` must be a scalar or a vector [batch], got {describe(values)}")
    flat = values.reshape(-1)
    if flat.size and (flat.min() < 0 or flat.max() > 1):
        raise ValueError(f"`{name}` must lie in [0, 1], got {flat.tolist()}")


def check_probability_batch(p, batch_size, name: str = "sampling_probability") -> None:
    """A vector probability has one value per row: ``[batch_size]``."""
    shape = getattr(p, "shape", None)
    try:
        if shape is None or len(shape) != 1 or not isinstance(batch_size, int):
            return
    except (TypeError, ValueError):  # a TensorShape of unknown rank
        return
    if shape[0] is not None and int(shape[0]) != batch_size:
        raise ValueError(f"`{name}` must be a scalar or a vector [batch_size = {batch_size}], got {describe(p)}")


def check_loss_flags(average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch) -> None:
    """The reductions of ``sequence_loss`` that cannot be combined (tfa's rules)."""
    pairs = [("average_across_timesteps", average_across_timesteps, "sum_over_timesteps", sum_over_timesteps),
             ("average_across_batch", average_across_batch, "sum_over_batch", sum_over_batch),
             ("average_across_batch", average_across_batch, "sum_over_timesteps", sum_over_timesteps),
             ("sum_over_batch", sum_over_batch, "average_across_timesteps", average_across_timesteps)]
    for name_a, a, name_b, b in pairs:
        if a and b:
            raise ValueError(f"`{name_a}` and `{name_b}` cannot both be True")


def check_tiled_state(initial_state, batch_size, beam_width) -> None:
    """Every state tensor of a beam search needs ``batch_size * beam_width`` rows.

    An untiled state (``batch_size`` rows) is the usual slip: the message says to use ``tile_batch``.
    Leaves without a known leading size (histories, scalars, unknown shapes) are skipped.
    """
    if not isinstance(batch_size, int):
        return
    B, W = batch_size, beam_width
    for leaf in nest.flatten(initial_state):
        shape = getattr(leaf, "shape", None)
        try:
            rows = None if shape is None or len(shape) == 0 else shape[0]
        except (TypeError, ValueError):  # a TensorShape of unknown rank
            rows = None
        if rows is None or int(rows) == B * W:
            continue
        hint = (f" It has one row per batch entry: tile it with tile_batch(initial_state, multiplier={W}) "
                f"(rows a, a, b, b) and make an attention cell's state with get_initial_state(batch_size={B * W})."
                if int(rows) == B else "")
        raise ValueError(f"`initial_state` must have batch size batch_size * beam_width = {B} * {W} = {B * W}, "
                         f"got a state tensor with {describe(leaf)}.{hint}")


def check_start_and_end(start_tokens, end_token) -> None:
    """Inference needs both ``start_tokens [batch]`` and a scalar ``end_token``."""
    if start_tokens is None or end_token is None:
        raise ValueError("`start_tokens` [batch_size] and `end_token` (a scalar) are required, got None")
