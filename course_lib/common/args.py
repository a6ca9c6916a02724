"""Argument specs of the library's constructors and calls, written once for both backends.

Each check raises a ``ValueError`` or ``TypeError`` whose message names the argument (in
backticks), says what was expected and describes what was given. They read Python values,
NumPy arrays or the ``.shape``/``.dtype`` of a tensor, never a framework call, so both backends
call the same function before any framework op (see ``course_lib.common.checks`` for shapes,
ranks and dtypes).
"""

from __future__ import annotations

import inspect
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
    """An RNN cell is callable and has a ``state_size`` (looked up, not evaluated: an
    ``AttentionWrapper`` knows its sizes only once its memory is set up, and tfa accepts it before)."""
    if not callable(cell) or inspect.getattr_static(cell, "state_size", None) is None:
        raise TypeError(f"`{name}` must be an RNN cell (callable with `state_size`), got {describe(cell)}")


def check_callable(fn, name: str, allow_none: bool = False) -> None:
    """``fn`` is callable (or None when ``allow_none``)."""
    if fn is None and allow_none:
        return
    if not callable(fn):
        expected = "callable or None" if allow_none else "callable"
        raise TypeError(f"`{name}` must be {expected}, got {describe(fn)}")


_SAMPLER_METHODS = ("initialize", "sample", "next_inputs")


def check_sampler(sampler, base) -> None:
    """``sampler`` is an instance of ``base`` (the backend's ``Sampler``); for another object the
    TypeError says which of ``initialize``, ``sample``, ``next_inputs`` it lacks."""
    if isinstance(sampler, base):
        return
    missing = [m for m in _SAMPLER_METHODS if not callable(getattr(sampler, m, None))]
    if missing:
        why = "it has no " + " and no ".join(f"`{m}`" for m in missing)
    else:
        why = "it has the methods but is not a subclass of `Sampler`"
    raise TypeError(
        "`sampler` must be a Sampler (a subclass of `Sampler` with `initialize`, `sample` and `next_inputs`, "
        f"or `CustomSampler(initialize_fn, sample_fn, next_inputs_fn)`), got {describe(sampler)}: {why}"
    )


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
    """``value`` once ``owner.initialize(...)`` has set it; a ValueError before (tfa's type, so that
    tfa code catching ``ValueError`` keeps working)."""
    if value is None:
        raise ValueError(f"{type(owner).__name__}.initialize(...) must be called first "
                         "(`batch_size` is known once it has run)")
    return value


def accepted_kwargs(fn, **kwargs) -> dict:
    """The keyword arguments of ``kwargs`` that ``fn`` takes (all of them when it takes ``**kwargs``).

    Used to call a cell's ``get_initial_state``: course_lib cells take ``dtype`` (and in PyTorch
    ``device``), Keras 3 cells take only ``batch_size``.
    """
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin without a signature: pass everything
        return dict(kwargs)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(kwargs)
    return {k: v for k, v in kwargs.items() if k in params}


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
    """The reductions of ``sequence_loss`` that cannot be combined (tfa's rules and, for the last
    two pairs, tfa's words)."""
    pairs = [("average_across_timesteps", average_across_timesteps, "sum_over_timesteps", sum_over_timesteps, ""),
             ("average_across_batch", average_across_batch, "sum_over_batch", sum_over_batch, ""),
             ("average_across_batch", average_across_batch, "sum_over_timesteps", sum_over_timesteps, _AMBIGUOUS),
             ("sum_over_batch", sum_over_batch, "average_across_timesteps", average_across_timesteps, _AMBIGUOUS)]
    for name_a, a, name_b, b, why in pairs:
        if a and b:
            raise ValueError(f"`{name_a}` and `{name_b}` cannot both be True{why}; set one of them to False")


_AMBIGUOUS = (" (they cannot be set to True at same time because of ambiguous order: averaging one axis "
              "and summing the other depends on which comes first)")


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


def check_embedding_given(embedding, owner=None) -> None:
    """Without an ``embedding_fn``, ids are looked up in ``embedding``: it must be given (a ValueError, as tfa's)."""
    if embedding is None:
        who = f" for {owner}" if owner else ""
        raise ValueError(f"`embedding` is required{who} when no `embedding_fn` was given to the constructor: "
                         "pass the embedding matrix [vocab_size, embedding_dim] (or a layer), got None")


def check_start_and_end(start_tokens, end_token) -> None:
    """Inference needs both ``start_tokens [batch]`` and a scalar ``end_token``."""
    if start_tokens is None or end_token is None:
        raise ValueError("`start_tokens` [batch_size] and `end_token` (a scalar) are required, got None")


# -- checks of the values in a tensor (NumPy in; a backend raises eagerly or asserts in a graph) ----
# Each message function takes its values as arguments (and its text has no quote or brace), so
# that a graph assertion can fill the same text in at run time (the TF backend passes "{}"
# placeholders for ``tf.strings.format``).

def parent_ids_message(parent_id, batch, time, beam, beam_width) -> str:
    """The error for a parent id outside ``[0, beam_width)`` inside its entry's length."""
    return (f"`parent_ids` must lie in [0, beam_width = {beam_width}) at every step time < "
            f"max_sequence_lengths[batch]: saw invalid parent id {parent_id} at (batch, time, beam) == "
            f"({batch}, {time}, {beam})")


def first_bad_parent_id(parent_ids: np.ndarray, max_sequence_lengths: np.ndarray, beam_width: int):
    """``(parent_id, batch, time, beam)`` of the first parent id (in batch, time, beam order) outside
    ``[0, beam_width)`` at a step ``t < max_sequence_lengths[b]``; None when there is none.

    Args: parent_ids ``[T, B, W]``; max_sequence_lengths ``[B]``.
    """
    T = parent_ids.shape[0]
    inside = np.arange(T)[:, None, None] < np.asarray(max_sequence_lengths).reshape(1, -1, 1)  # (T, B, 1)
    bad = inside & ((parent_ids < 0) | (parent_ids >= beam_width))  # (T, B, W)
    if not bad.any():
        return None
    b, t, w = (int(i) for i in np.argwhere(bad.transpose(1, 0, 2))[0])
    return int(parent_ids[t, b, w]), b, t, w


def right_padding_message(row, mask_row) -> str:
    """The error for a ``mask`` row that is not right padded (True first, then only False)."""
    return (f"`mask` must be right padded (each row True for its first steps, then only False: the input "
            f"sequence should be right padded), got row {row} = {mask_row}")


def first_left_padded_row(mask: np.ndarray):
    """``(row, row as 0/1 ints)`` of the first row of a ``[B, T]`` mask that is not right padded; None if all are."""
    mask = mask.astype(bool)
    lengths = mask.sum(axis=1)
    right = np.arange(mask.shape[1])[None, :] < lengths[:, None]  # (B, T): the right-padded mask
    wrong = np.flatnonzero((mask != right).any(axis=1))
    if not wrong.size:
        return None
    return int(wrong[0]), mask[wrong[0]].astype(int).tolist()


def tflite_batch_message(batch_size) -> str:
    """The error for ``enable_tflite_convertible=True`` with a batch size other than 1."""
    return (f"`enable_tflite_convertible=True` needs a batch size of 1 (TFLite conversion requires a batch size "
            f"of 1), got batch size {batch_size}")


def whole_ids_message(value) -> str:
    """The error for float class ids ``y_true [B, T]`` (Keras casts ids to float) that are not whole numbers."""
    return (f"`y_true` [batch_size, sequence_length] must hold class ids (integers, or floats that are whole "
            f"numbers, as Keras may cast them): saw the value {value}")


def first_fractional_value(values: np.ndarray):
    """The first value of ``values`` that is not a whole number (NaN and inf included); None if all are."""
    values = np.asarray(values).reshape(-1)
    bad = ~np.isfinite(values) | (values != np.round(values))
    return values[np.flatnonzero(bad)[0]].item() if bad.any() else None
