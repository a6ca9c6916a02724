"""Argument checks shared by both backends, with messages that name the argument,
what was expected and what was given.

The checks read only ``.shape``, ``.dtype`` and ``.ndim``-like attributes, so they work on
NumPy arrays, TensorFlow tensors and PyTorch tensors alike.
"""

from __future__ import annotations

from typing import Sequence


def _shape_tuple(x) -> tuple:
    shape = getattr(x, "shape", None)
    if shape is None:
        return ()
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except TypeError:  # a TensorShape of unknown rank
        return ()


def rank_of(x):
    """The rank of ``x``, or None when it is unknown (a TF graph tensor of unknown rank)."""
    shape = getattr(x, "shape", None)
    if shape is None:
        return 0
    try:
        return len(shape)
    except (TypeError, ValueError):
        return None


def describe(x) -> str:
    """A short description of a tensor-like value for an error message."""
    if x is None:
        return "None"
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        dtype = getattr(x.dtype, "name", None) or str(x.dtype).replace("torch.", "")
        shape = _shape_tuple(x)
        return f"shape {list(shape)} ({len(shape)}-D) and dtype {dtype}"
    return f"{type(x).__name__} {x!r}"[:120]


def check_rank(x, ranks, name: str, what: str = "") -> None:
    """Raise ``ValueError`` when the rank of ``x`` is not one of ``ranks``."""
    ranks = (ranks,) if isinstance(ranks, int) else tuple(ranks)
    r = rank_of(x)
    if r is not None and r not in ranks:
        expected = " or ".join(f"{k}-D" for k in ranks)
        if what:
            expected += f" {what}"
        raise ValueError(f"`{name}` must be {expected}, got {describe(x)}")


def check_dim(x, axis: int, size, name: str, what: str) -> None:
    """Raise ``ValueError`` when dimension ``axis`` of ``x`` is known and differs from ``size``."""
    shape = _shape_tuple(x)
    if size is None or not shape or shape[axis] is None:
        return
    if int(shape[axis]) != int(size):
        raise ValueError(f"`{name}` must have {what} = {size} along axis {axis}, got {describe(x)}")


def check_shape(x, expected: Sequence, name: str = "tensor") -> None:
    """Check ``x.shape`` against ``expected``; ``None`` or a letter in ``expected`` matches anything
    (the same letter must match the same size within one call).

    >>> import numpy as np
    >>> check_shape(np.zeros((2, 3)), ("B", 3), "outputs")
    """
    shape = _shape_tuple(x)
    if len(shape) != len(expected):
        raise ValueError(f"`{name}` must have shape {list(expected)}, got {describe(x)}")
    bound = {}
    for got, want in zip(shape, expected):
        if want is None or got is None:
            continue
        if isinstance(want, str):
            if bound.setdefault(want, got) != got:
                raise ValueError(
                    f"`{name}` must have shape {list(expected)} ({want} = {bound[want]}), got {describe(x)}"
                )
        elif int(got) != int(want):
            raise ValueError(f"`{name}` must have shape {list(expected)}, got {describe(x)}")


def is_integer_dtype_name(dtype_name: str) -> bool:
    return dtype_name.startswith(("int", "uint"))


def dtype_name(x) -> str:
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return type(x).__name__
    return getattr(dtype, "name", None) or str(dtype).replace("torch.", "")


def check_integer(x, name: str) -> None:
    """Raise ``TypeError`` when ``x`` holds no integers (ids must be int32 or int64)."""
    name_ = dtype_name(x)
    if isinstance(x, bool) or not (is_integer_dtype_name(name_) or name_ == "int"):
        raise TypeError(f"`{name}` must hold integer ids (int32 or int64), got {describe(x)}")


def check_scalar(x, name: str) -> None:
    """Raise ``ValueError`` when ``x`` is not a scalar (rank 0)."""
    r = rank_of(x)
    if r not in (0, None):
        raise ValueError(f"`{name}` must be a scalar, got {describe(x)}")


def check_sequence_length(sequence_length, batch_size, max_time, name: str = "sequence_length") -> None:
    """Check that ``sequence_length`` is an integer vector ``[batch_size]``; values are checked
    against ``[0, max_time]`` by the caller where they are known (eager)."""
    check_integer(sequence_length, name)
    check_rank(sequence_length, 1, name, f"[batch_size] (batch_size = {batch_size})")
    check_dim(sequence_length, 0, batch_size, name, "batch_size")


def check_length_values(values, max_time, name: str = "sequence_length") -> None:
    """Raise ``ValueError`` when a length (a NumPy vector) is negative or past ``max_time``."""
    if values.size == 0:
        return
    if values.min() < 0:
        raise ValueError(f"`{name}` must be >= 0, got {values.tolist()}")
    if max_time is not None and values.max() > max_time:
        raise ValueError(
            f"`{name}` must be <= the time axis ({max_time}) of the inputs, got max {int(values.max())}"
            f" in {values.tolist()[:16]}"
        )


def check_state(state_size, state, batch_size, name: str = "initial_state") -> None:
    """Check that ``state`` nests like ``state_size`` and each leaf is ``[batch_size, size]``."""
    from course_lib.common import nest

    nest.assert_same_structure(state_size, state, name)
    for size, leaf in zip(nest.flatten(state_size), nest.flatten(state)):
        if not hasattr(leaf, "shape") or isinstance(size, tuple) and not size:
            continue  # a TensorArray (a history that grows per step) has no fixed shape
        shape = _shape_tuple(leaf)
        want = [batch_size, size]
        if len(shape) != 2 or any(w is not None and g is not None and int(g) != int(w) for g, w in zip(shape, want)):
            raise ValueError(
                f"`{name}` must be shaped like the cell's state {nest.structure_string(state_size)} "
                f"with state_size {state_size}: each leaf [batch_size={batch_size}, size]; "
                f"a leaf expected {want} has {describe(leaf)}"
            )


def check_ids_in_vocabulary(ids, vocab_size, name: str) -> None:
    """Raise ``ValueError`` when an id (a NumPy array) lies outside ``[0, vocab_size)``."""
    if vocab_size is None or ids.size == 0:
        return
    bad = ids[(ids < 0) | (ids >= vocab_size)]
    if bad.size:
        raise ValueError(
            f"`{name}` must be ids in [0, {vocab_size}) (the embedding's vocabulary), got {sorted(set(bad.tolist()))[:8]}"
        )
