"""One weights dict for both backends: Keras names and layouts, ``/``-separated paths.

``export_weights(decoder)`` gives e.g. ``{"cell/kernel": [D, 4H], "cell/recurrent_kernel": [H, 4H],
"cell/bias": [4H], "output_layer/kernel": [H, V], "output_layer/bias": [V]}``; the TensorFlow
backend's ``import_weights`` takes it as it is, and the reverse.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course_lib.torch.cells import RNNCell


def _own_entries(module):
    """``{keras_name: (parameter, transposed)}`` for the parameters a module holds itself."""
    if isinstance(module, nn.Linear):
        out = {"kernel": (module.weight, True)}
        if module.bias is not None:
            out["bias"] = (module.bias, False)
        return out
    if isinstance(module, nn.Embedding):
        return {"embeddings": (module.weight, False)}
    if isinstance(module, nn.modules.rnn.RNNBase):
        raise TypeError(
            f"export/import_weights do not take {type(module).__name__} (PyTorch gate layout); "
            "use course_lib's LSTMCell/GRUCell, which keep the Keras layout"
        )
    if isinstance(module, nn.modules.conv._ConvNd):
        # Keras Conv1D kernel [width, in, out]; PyTorch weight [out, in, width]
        out = {"kernel": (module.weight, "conv")}
        if module.bias is not None:
            out["bias"] = (module.bias, False)
        return out
    return {name: (p, False) for name, p in module.named_parameters(recurse=False)}


def _walk(module, prefix=""):
    """Yield ``(path, module)`` for a module and its sub-modules (each once)."""
    seen = set()

    def visit(m, path):
        if id(m) in seen:
            return
        seen.add(id(m))
        yield path, m
        for name, child in m.named_children():
            yield from visit(child, f"{path}{name}/")

    yield from visit(module, prefix)


def _to_keras(value: torch.Tensor, transposed):
    if transposed == "conv":
        return value.permute(2, 1, 0)
    return value.t() if transposed else value


def export_weights(module) -> dict:
    """All weights of ``module`` as ``{path: float32 NumPy array}`` in Keras layout."""
    out = {}
    for path, m in _walk(module):
        for name, (param, transposed) in _own_entries(m).items():
            out[path + name] = _to_keras(param.detach(), transposed).cpu().numpy().astype(np.float32, copy=True)
    if not out:
        raise ValueError(
            f"`module` {type(module).__name__} has no weights yet: cells build on their first call "
            "(or give `input_size=`)"
        )
    return out


def _expected(module, weights):
    """``{path: (shape, setter)}`` for every weight; unbuilt stock cells count as built from
    the dict's kernel shape (they are built only once everything has been checked)."""
    expected, to_build = {}, []
    for path, m in _walk(module):
        if isinstance(m, RNNCell) and not m.built:
            kernel = weights.get(path + "kernel")
            if kernel is None or np.ndim(kernel) != 2:
                continue  # reported as missing below
            to_build.append((m, int(np.shape(kernel)[0])))
            D, H, G = int(np.shape(kernel)[0]), m.units, m.gates
            shapes = {"kernel": (D, G * H), "recurrent_kernel": (H, G * H), "bias": tuple(m._bias_shape())}
            for name, shape in shapes.items():
                expected[path + name] = (shape, (m, name, False))
            continue
        for name, (param, transposed) in _own_entries(m).items():
            shape = tuple(_to_keras(param, transposed).shape)
            expected[path + name] = (shape, (m, name, transposed))
    return expected, to_build


def import_weights(module, weights: dict) -> None:
    """Load ``{path: array}`` (Keras layout) into ``module``.

    Every key must be present with its exact shape and no key may be extra; otherwise a
    ``ValueError`` lists the problems and the module is left unchanged.
    """
    if not isinstance(weights, dict):
        raise TypeError(f"`weights` must be a dict {{path: array}}, got {type(weights).__name__}")
    expected, to_build = _expected(module, weights)
    problems = []
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing:
        problems.append(f"missing keys {missing}")
    if extra:
        problems.append(f"unexpected keys {extra}")
    for key in sorted(set(expected) & set(weights)):
        got = tuple(np.shape(weights[key]))
        if got != expected[key][0]:
            problems.append(f"`{key}` must have shape {list(expected[key][0])}, got {list(got)}")
    if problems:
        raise ValueError(f"`weights` do not fit {type(module).__name__}: " + "; ".join(problems))
    for cell, input_size in to_build:
        cell.build(input_size)
    with torch.no_grad():
        for path, m in _walk(module):
            for name, (param, transposed) in _own_entries(m).items():
                value = torch.as_tensor(np.asarray(weights[path + name]), dtype=param.dtype)
                if transposed == "conv":
                    value = value.permute(2, 1, 0)
                elif transposed:
                    value = value.t()
                param.copy_(value.to(param.device))
