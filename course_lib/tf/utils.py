"""Seeds, devices and NumPy conversion for the TensorFlow backend."""

from __future__ import annotations

import random

import keras
import numpy as np
import tensorflow as tf

from course_lib.common import nest


def set_seed(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras so a run repeats."""
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def default_device() -> str:
    """``"/GPU:0"`` when TensorFlow sees a GPU, else ``"/CPU:0"`` (TF places ops on the GPU itself)."""
    return "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"


def to_numpy(structure):
    """Tensors and variables (nested in tuples, lists, named tuples, dicts) -> NumPy arrays.

    A ``tf.TensorArray`` becomes its stacked contents ``[T, ...]``.
    """
    def convert(x):
        if isinstance(x, tf.TensorArray):
            return x.stack().numpy()
        if isinstance(x, (tf.Tensor, tf.Variable)) or hasattr(x, "numpy"):
            return np.asarray(x.numpy())
        return x
    return nest.map_structure(convert, structure)


def to_device(structure, device):
    """Copy the tensors of a nested structure onto ``device`` (e.g. ``"/GPU:0"``)."""
    with tf.device(device):
        return nest.map_structure(lambda x: tf.identity(x) if isinstance(x, tf.Tensor) else x, structure)


def device_of(*values) -> str:
    """The device of the first tensor or variable found in ``values`` (nested structures too);
    ``default_device()`` when there is none."""
    for v in values:
        for leaf in nest.flatten(v) if nest.is_nested(v) else [v]:
            if isinstance(leaf, (tf.Tensor, tf.Variable)) and getattr(leaf, "device", ""):
                return leaf.device
    return default_device()
