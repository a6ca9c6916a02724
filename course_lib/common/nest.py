"""Nested structures (tuples, lists, named tuples, dicts) of leaves, without a framework.

Both backends use this to walk cell states, which are a tensor (SimpleRNN, GRU), a list
``[h, c]`` (LSTM), or a tuple of those (MultiRNNCell), and decoder outputs, which are
named tuples. ``None`` is an empty structure, as in ``tf.nest``.
"""

from __future__ import annotations


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def is_nested(x) -> bool:
    """True for a list, tuple (named or not) or dict; False for a leaf."""
    return isinstance(x, (list, tuple, dict))


def flatten(structure) -> list:
    """The leaves of ``structure`` in a fixed order (dicts by sorted key); ``None`` has none."""
    if structure is None:
        return []
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def _pack(template, leaves: list):
    if template is None:
        return None
    if isinstance(template, dict):
        return {key: _pack(template[key], leaves) for key in sorted(template)}
    if _is_namedtuple(template):
        return type(template)(*[_pack(item, leaves) for item in template])
    if isinstance(template, (list, tuple)):
        return type(template)(_pack(item, leaves) for item in template)
    return leaves.pop(0)


def pack_sequence_as(structure, flat_leaves):
    """Inverse of :func:`flatten`: put ``flat_leaves`` into the shape of ``structure``."""
    leaves = list(flat_leaves)
    expected = len(flatten(structure))
    if len(leaves) != expected:
        raise ValueError(f"structure has {expected} leaves but {len(leaves)} were given")
    return _pack(structure, leaves)


def map_structure(fn, *structures):
    """Apply ``fn`` leaf-wise over structures of the same shape and pack the results."""
    first = structures[0]
    for other in structures[1:]:
        assert_same_structure(first, other)
    flat = [flatten(s) for s in structures]
    return pack_sequence_as(first, [fn(*leaves) for leaves in zip(*flat)])


def structure_string(x) -> str:
    """A short text form of a structure: leaves shown as ``*`` (for error messages)."""
    if x is None:
        return "None"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {structure_string(x[k])}" for k in sorted(x)) + "}"
    if _is_namedtuple(x):
        return type(x).__name__ + "(" + ", ".join(structure_string(i) for i in x) + ")"
    if isinstance(x, list):
        return "[" + ", ".join(structure_string(i) for i in x) + "]"
    if isinstance(x, tuple):
        return "(" + ", ".join(structure_string(i) for i in x) + ("," if len(x) == 1 else "") + ")"
    return "*"


def same_structure(a, b) -> bool:
    """True when ``a`` and ``b`` nest the same way (lists and tuples count as alike)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and sorted(a) == sorted(b)
                and all(same_structure(a[k], b[k]) for k in a))
    if is_nested(a) or is_nested(b):
        if not (is_nested(a) and is_nested(b)) or len(a) != len(b):
            return False
        if _is_namedtuple(a) and _is_namedtuple(b) and type(a).__name__ != type(b).__name__:
            return False
        return all(same_structure(x, y) for x, y in zip(a, b))
    return True


def assert_same_structure(a, b, name: str = "structure") -> None:
    """Raise ``ValueError`` naming ``name`` when ``a`` and ``b`` nest differently."""
    if not same_structure(a, b):
        raise ValueError(
            f"`{name}` has the structure {structure_string(b)}, "
            f"expected {structure_string(a)}"
        )


def like_state_size(state_size, state):
    """``state`` re-nested like ``state_size`` (a tuple ``(h, c)`` becomes the list ``[h, c]``
    that an LSTM cell returns), so loops see one structure. Named tuples are kept as they are."""
    if state is None or (isinstance(state, tuple) and hasattr(state, "_fields")):
        return state
    if len(flatten(state)) != len(flatten(state_size)):
        return state
    return pack_sequence_as(state_size, flatten(state))
