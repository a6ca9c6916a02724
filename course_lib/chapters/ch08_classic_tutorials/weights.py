"""Whole weight dicts between TF1's cell layout (``contrib``) and the modern one (``cl``), NumPy only.

``cl.export_weights(module)`` keys a contrib cell's weights as TF1 kept them (``<prefix>kernel
[D + H, G*H]``, ``<prefix>bias``); the modern cells keep ``kernel [D, G*H]``,
``recurrent_kernel [H, G*H]`` and ``bias`` in Keras' gate order. ``tf1_to_modern`` converts the
cells named in ``cells`` with ``course_lib.common.contrib.layouts`` and renames the other keys
(e.g. an ``OutputProjectionWrapper``'s ``kernel`` to a decoder's ``output_layer/kernel``);
``modern_to_tf1`` goes back. The result loads with ``cl.import_weights`` into either backend.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from course_lib.common.contrib import layouts

_KINDS = ("lstm", "rnn")


def _spec(prefix: str, spec) -> tuple:
    spec = tuple(spec) if isinstance(spec, (tuple, list)) else (spec,)
    if not spec or spec[0] not in _KINDS:
        raise ValueError(f"`cells[{prefix!r}]` must start with one of {list(_KINDS)} (the cell kind), got {spec!r}")
    return spec


def _take(weights: Mapping, prefix: str, names) -> list:
    missing = [prefix + n for n in names if prefix + n not in weights]
    if missing:
        raise ValueError(f"`weights` has no {missing} (cell prefix {prefix!r}); its keys are {sorted(weights)}")
    return [np.asarray(weights[prefix + n]) for n in names]


def _renamed(key: str, rename: Mapping | None) -> str:
    """``rename[key]``, else the longest prefix of ``key`` that ``rename`` maps (keys ending in "/")."""
    if not rename:
        return key
    if key in rename:
        return rename[key]
    prefixes = [p for p in rename if p.endswith("/") and key.startswith(p)]
    if not prefixes:
        return key
    best = max(prefixes, key=len)
    return rename[best] + key[len(best):]


def tf1_to_modern(weights: Mapping, cells: Mapping, rename: Mapping | None = None) -> dict:
    """A contrib model's weights in the modern cells' layout.

    Args:
      weights: ``cl.export_weights`` of the contrib model (NumPy arrays).
      cells: ``{prefix: ("lstm", input_depth[, forget_bias]) or ("rnn", input_depth)}`` for each TF1
        cell, e.g. ``{"cells/0/": ("lstm", 8), "cells/1/": ("lstm", 6)}``; ``forget_bias`` (default
        1.0, TF1's) moves into the f block of the modern bias.
      rename: ``{old key or prefix ending in "/": new}`` for the other weights.

    Returns:
      a new dict: each cell's ``kernel``, ``recurrent_kernel``, ``bias`` in Keras layout, the rest renamed.
    """
    out, used = {}, set()
    for prefix, spec in cells.items():
        kind, depth, *rest = _spec(prefix, spec)
        kernel, bias = _take(weights, prefix, ("kernel", "bias"))
        if kind == "lstm":
            converted = layouts.lstm_to_keras(kernel, bias, depth, forget_bias=rest[0] if rest else 1.0)
        else:
            converted = layouts.basic_rnn_to_keras(kernel, bias, depth)
        out.update({_renamed(prefix, rename) + name: value for name, value in converted.items()})
        used |= {prefix + "kernel", prefix + "bias"}
    out.update({_renamed(key, rename): np.asarray(value) for key, value in weights.items() if key not in used})
    return out


def modern_to_tf1(weights: Mapping, cells: Mapping, rename: Mapping | None = None) -> dict:
    """The inverse of ``tf1_to_modern``: modern cells' weights as TF1's.

    Args:
      weights: ``cl.export_weights`` of the modern model.
      cells: ``{prefix: ("lstm"[, forget_bias]) or ("rnn",)}`` for each modern cell; TF1 adds
        ``forget_bias`` (default 1.0) at every call, so it is taken out of the bias here.
      rename: ``{old key or prefix ending in "/": new}`` for the other weights.
    """
    out, used = {}, set()
    for prefix, spec in cells.items():
        kind, *rest = _spec(prefix, spec)
        kernel, recurrent_kernel, bias = _take(weights, prefix, ("kernel", "recurrent_kernel", "bias"))
        if kind == "lstm":
            converted = layouts.lstm_from_keras(kernel, recurrent_kernel, bias, forget_bias=rest[0] if rest else 1.0)
        else:
            converted = layouts.basic_rnn_from_keras(kernel, recurrent_kernel, bias)
        out.update({_renamed(prefix, rename) + name: value for name, value in converted.items()})
        used |= {prefix + "kernel", prefix + "recurrent_kernel", prefix + "bias"}
    out.update({_renamed(key, rename): np.asarray(value) for key, value in weights.items() if key not in used})
    return out
