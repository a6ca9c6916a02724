"""TF1's state tuples, their layout checks and the dropout filter, without a framework.

TF1 keeps an LSTM's state as ``LSTMStateTuple(c, h)``: the cell state ``c`` first. course_lib's
modern cells (and Keras 3) keep a list ``[h, c]``: ``h`` first. A TF1 program ported literally
would put ``h`` where ``c`` belongs and nothing would fail, so wherever a contrib cell expects an
``LSTMStateTuple``, a plain list or tuple is refused with a message that names the argument and
the order (``check_state_layout``). TF1's ``AttentionWrapperState`` has a ``time`` field that
tfa dropped; ``to_tfa_state`` / ``from_tfa_state`` convert between the two.
"""

from __future__ import annotations

import collections
import inspect
import numbers

from course_lib.common import nest
from course_lib.common.checks import _shape_tuple, describe


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """TF1's LSTM state: ``c`` (the cell state) then ``h`` (the output), each ``[B, H]``.

    The modern cells keep ``[h, c]``, h first: build this tuple by name,
    ``LSTMStateTuple(c=..., h=...)``, when a state comes from elsewhere.
    """

    __slots__ = ()

    @property
    def dtype(self):
        """The dtype of ``c`` and ``h`` (a TypeError when they differ, as TF1)."""
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent internal state: `c` has dtype {c.dtype} but `h` has {h.dtype}")
        return c.dtype


class AttentionWrapperState(collections.namedtuple(
        "AttentionWrapperState",
        ("cell_state", "attention", "time", "alignments", "alignment_history", "attention_state"))):
    """TF1's state of an ``AttentionWrapper`` (TF 1.15's six fields; tfa dropped ``time``).

    Fields:
      cell_state: the wrapped cell's state.
      attention: ``[B, A]``, the attention emitted at the previous step.
      time: an int32 scalar, the number of steps taken.
      alignments: ``[B, T]`` of the previous step (a tuple per mechanism when there are several).
      alignment_history: a TensorArray of ``[B, T]`` per step when ``alignment_history=True``, else ``()``.
      attention_state: the mechanism's state (``[B, T]``).
    """

    __slots__ = ()

    def clone(self, **kwargs):
        """A copy with some fields replaced; a replaced tensor keeps its structure and shape.

        The TF1 idiom: ``wrapper.zero_state(B, dtype).clone(cell_state=encoder_state)``.
        """
        for field, new in kwargs.items():
            if field not in self._fields:
                raise TypeError(f"`{field}` is not a field of AttentionWrapperState {self._fields}")
            old = getattr(self, field)
            check_state_layout(old, new, field)
            if not nest.same_structure(old, new):
                raise ValueError(f"`{field}` must have the structure {nest.structure_string(old)} to clone "
                                 f"the AttentionWrapperState, got {nest.structure_string(new)}")
            for old_leaf, new_leaf in zip(nest.flatten(old), nest.flatten(new)):
                a, b = _shape_tuple(old_leaf), _shape_tuple(new_leaf)
                if hasattr(old_leaf, "shape") and hasattr(new_leaf, "shape") and (
                        len(a) != len(b) or any(x is not None and y is not None and x != y for x, y in zip(a, b))):
                    raise ValueError(f"The shape of the AttentionWrapperState is expected to be same as the one "
                                     f"to clone: `{field}` has a leaf of shape {list(a)}, got {describe(new_leaf)}")
        return self._replace(**kwargs)


def to_tfa_state(state, tfa_state_class):
    """A TF1 ``AttentionWrapperState`` as tfa's five-field one (``time`` dropped)."""
    return tfa_state_class(cell_state=state.cell_state, attention=state.attention, alignments=state.alignments,
                           alignment_history=state.alignment_history, attention_state=state.attention_state)


def from_tfa_state(state, time):
    """tfa's five-field ``AttentionWrapperState`` (or its sizes) as TF1's, with ``time``."""
    return AttentionWrapperState(cell_state=state.cell_state, attention=state.attention, time=time,
                                 alignments=state.alignments, alignment_history=state.alignment_history,
                                 attention_state=state.attention_state)


def check_attention_state(state, name: str = "state") -> None:
    """A contrib ``AttentionWrapper`` steps on TF1's six-field state; a TypeError otherwise."""
    if isinstance(state, AttentionWrapperState):
        return
    fields = getattr(type(state), "_fields", None)
    if fields and "alignments" in fields:
        raise TypeError(f"`{name}` must be TF1's AttentionWrapperState {AttentionWrapperState._fields} (with "
                        f"`time`), got {type(state).__name__} with the fields {fields} (tfa's and the modern "
                        "AttentionWrapper's): make it with the contrib wrapper's zero_state(batch_size, dtype)")
    raise TypeError(f"`{name}` must be an AttentionWrapperState from the wrapper's zero_state(batch_size, dtype), "
                    f"got {type(state).__name__} {nest.structure_string(state)}")


def _what(state) -> str:
    leaves = nest.flatten(state)
    shapes = ", ".join(str(list(_shape_tuple(leaf))) for leaf in leaves[:4]) if nest.is_nested(state) else ""
    if isinstance(state, list):
        return f"a list {nest.structure_string(state)} of shapes {shapes}"
    if isinstance(state, tuple) and not hasattr(state, "_fields"):
        return f"a plain tuple {nest.structure_string(state)} of shapes {shapes}"
    return describe(state) if hasattr(state, "shape") else f"{type(state).__name__} {nest.structure_string(state)}"


def lstm_state_message(name: str, state) -> str:
    """The error for a state that is not an ``LSTMStateTuple`` where one is expected."""
    return (f"`{name}` must be an LSTMStateTuple(c, h) (TF1's order: the cell state c first, then the output h), "
            f"got {_what(state)}. A plain list or tuple is refused because the order is ambiguous: course_lib's "
            "modern LSTMCell and Keras keep [h, c], TF1 (c, h); build LSTMStateTuple(c=..., h=...) by name")


def check_state_layout(state_size, state, name: str = "initial_state") -> None:
    """Where ``state_size`` (or a state used as the template) holds an ``LSTMStateTuple``, ``state``
    must hold one too, and TF1 attention states must be TF1's: a TypeError naming the place otherwise.

    Only what is detectable is checked; the rest of the structure is left to the shape checks.
    """
    if isinstance(state_size, LSTMStateTuple):
        if not isinstance(state, LSTMStateTuple):
            raise TypeError(lstm_state_message(name, state))
        return
    if isinstance(state_size, AttentionWrapperState):
        check_attention_state(state, name)
        for field in ("cell_state",):
            check_state_layout(getattr(state_size, field), getattr(state, field), f"{name}.{field}")
        return
    if isinstance(state_size, (list, tuple)) and isinstance(state, (list, tuple)) and len(state) == len(state_size):
        for i, (size, sub) in enumerate(zip(state_size, state)):
            check_state_layout(size, sub, f"{name}[{i}]")


def _accepted(fn, **kwargs) -> dict:
    """The keyword arguments that ``fn`` takes (all of them when it takes ``**kwargs``)."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in params}


def zero_state_of(cell, batch_size, dtype, **extra):
    """``cell.zero_state(batch_size, dtype)`` (TF1), or the modern ``get_initial_state`` of a cell without it.

    ``extra`` (PyTorch: ``device=``) goes to whichever takes it (a Keras 3 cell takes only ``batch_size``).
    """
    if hasattr(cell, "zero_state"):
        return cell.zero_state(batch_size, dtype, **_accepted(cell.zero_state, **extra))
    return cell.get_initial_state(**_accepted(cell.get_initial_state, batch_size=batch_size, dtype=dtype, **extra))


# -- DropoutWrapper ----------------------------------------------------------------------------------

def check_keep_prob(value, name: str) -> bool:
    """A keep probability in (0, 1] (or a tensor, checked by the framework); True when it is the number 1."""
    if isinstance(value, bool):
        raise TypeError(f"`{name}` must be a float in (0, 1] (a keep probability, not a rate), got {value!r}")
    if isinstance(value, numbers.Real):
        if not 0.0 < float(value) <= 1.0:
            raise ValueError(f"`{name}` must be between 0 and 1 (a keep probability in (0, 1], not a rate), "
                             f"got {value!r}")
        return float(value) == 1.0
    return False


def default_dropout_state_filter(substate, is_array=lambda x: False):
    """TF1's default: never drop the ``c`` of an ``LSTMStateTuple`` nor a TensorArray; drop the rest."""
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    return not is_array(substate)


def _children(structure):
    if isinstance(structure, dict):
        return [structure[k] for k in sorted(structure)]
    return list(structure)


def dropout_leaves(state, visitor) -> list:
    """One bool per leaf of ``state`` (in ``nest.flatten`` order): whether dropout applies to it.

    ``visitor(substate)`` is TF1's ``dropout_state_filter_visitor``: it returns a bool for the whole
    substate (True on a nested substate means: look inside with the visitor again) or a structure
    of bools over the substate's children.
    """
    def visit(sub, decision):
        if isinstance(decision, bool):
            if not decision:
                return [False] * len(nest.flatten(sub))
            if nest.is_nested(sub):
                return [flag for child in _children(sub) for flag in visit(child, visitor(child))]
            return [True]
        if not nest.is_nested(decision) or len(_children(decision)) != len(_children(sub)):
            raise ValueError(f"`dropout_state_filter_visitor` must return a bool or a structure of bools like "
                             f"{nest.structure_string(sub)}, got {decision!r}")
        return [flag for child, d in zip(_children(sub), _children(decision))
                for flag in (visit(child, visitor(child)) if d is True and nest.is_nested(child)
                             else visit(child, d))]

    return visit(state, visitor(state))


def check_no_attention_state(state, name: str = "initial_state") -> None:
    """``dynamic_rnn`` runs cells whose state leaves are ``[B, size]`` tensors: an attention state
    (an int ``time``, TensorArray histories) belongs in ``dynamic_decode``; a TypeError otherwise."""
    if isinstance(state, AttentionWrapperState):
        raise TypeError(f"`{name}` holds an AttentionWrapperState: run an AttentionWrapper with "
                        "dynamic_decode (TrainingHelper + BasicDecoder), not with dynamic_rnn")
    if isinstance(state, (list, tuple)):
        for i, sub in enumerate(state):
            check_no_attention_state(sub, f"{name}[{i}]")


def tf1_initial_state(cell, initial_state, dtype, batch_size, **extra):
    """TF1's ``dynamic_rnn`` rule: ``initial_state`` checked, or ``cell.zero_state(batch_size, dtype)``
    when it is None (then ``dtype`` is required). ``extra``: PyTorch's ``device=``."""
    if initial_state is None:
        if dtype is None:
            raise ValueError("`dtype` is required when `initial_state` is None (TF1: \"If there is no "
                             "initial_state, you must give a dtype.\"), got dtype=None")
        initial_state = zero_state_of(cell, batch_size, dtype, **extra)
    else:
        check_state_layout(cell.state_size, initial_state, "initial_state")
    check_no_attention_state(initial_state)
    return initial_state
