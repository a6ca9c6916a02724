"""One weights dict for both backends: Keras names and layouts, ``/``-separated paths.

``export_weights(decoder)`` gives e.g. ``{"cell/kernel": [D, 4H], "cell/recurrent_kernel": [H, 4H],
"cell/bias": [4H], "output_layer/kernel": [H, V], "output_layer/bias": [V]}``; the PyTorch
backend's ``import_weights`` takes it as it is, and the reverse.
"""

from __future__ import annotations

import keras
import numpy as np

from course_lib.tf.cells import RNNCell


def _children(layer):
    """``[(name, sublayer)]``: public attributes that are layers, lists of layers numbered."""
    out = []
    for name, value in vars(layer).items():
        if name.startswith("_"):
            continue
        if isinstance(value, keras.layers.Layer):
            out.append((name, value))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, keras.layers.Layer) for v in value):
            out.extend((f"{name}/{i}", v) for i, v in enumerate(value))
    return out


def _walk(layer, prefix=""):
    """Yield ``(path, layer, own_variables)`` for a layer and its sub-layers (each once)."""
    seen = set()

    def visit(m, path):
        if id(m) in seen:
            return
        seen.add(id(m))
        children = _children(m)
        child_vars = {id(v) for _, c in children for v in c.weights}
        own = [v for v in m.weights if id(v) not in child_vars]
        yield path, m, own
        for name, child in children:
            yield from visit(child, f"{path}{name}/")

    yield from visit(layer, prefix)


def export_weights(module) -> dict:
    """All weights of ``module`` as ``{path: float32 NumPy array}`` in Keras layout."""
    out = {}
    for path, _, own in _walk(module):
        for v in own:
            out[path + v.name] = np.array(v.numpy(), dtype=np.float32)
    if not out:
        raise ValueError(f"`module` {type(module).__name__} has no weights yet: layers build on their first call")
    return out


def _build_from(layer, path, weights):
    """Build an unbuilt cell or Dense from the dict's kernel shape; False if it cannot."""
    kernel = weights.get(path + "kernel")
    if kernel is None or np.ndim(kernel) != 2:
        return False
    if isinstance(layer, (RNNCell, keras.layers.Dense)):
        layer.build((None, int(np.shape(kernel)[0])))
        return True
    return False


def import_weights(module, weights: dict) -> None:
    """Load ``{path: array}`` (Keras layout) into ``module``.

    Every key must be present with its exact shape and no key may be extra; otherwise a
    ``ValueError`` lists the problems and the module's values are left unchanged (an unbuilt
    cell or Dense layer is built from the dict's kernel shape first).
    """
    if not isinstance(weights, dict):
        raise TypeError(f"`weights` must be a dict {{path: array}}, got {type(weights).__name__}")
    for path, layer, _ in list(_walk(module)):
        if not layer.built:
            _build_from(layer, path, weights)
    expected = {path + v.name: v for path, _, own in _walk(module) for v in own}
    problems = []
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing:
        problems.append(f"missing keys {missing}")
    if extra:
        problems.append(f"unexpected keys {extra}")
    for key in sorted(set(expected) & set(weights)):
        want, got = tuple(expected[key].shape), tuple(np.shape(weights[key]))
        if got != want:
            problems.append(f"`{key}` must have shape {list(want)}, got {list(got)}")
    if problems:
        raise ValueError(f"`weights` do not fit {type(module).__name__}: " + "; ".join(problems))
    for key, variable in expected.items():
        variable.assign(np.asarray(weights[key], dtype=variable.dtype))
