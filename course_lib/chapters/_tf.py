"""The TensorFlow side of the chapters' checkers: tensors in, NumPy out, and the backend ``cl``."""

from __future__ import annotations

import contextlib

import course_lib.tf as cl  # first: it quiets TensorFlow's start-up logging before TensorFlow loads

import keras  # noqa: E402  (after course_lib.tf, on purpose)
import numpy as np
import tensorflow as tf

NAME = "tf"
FRAMEWORK = "TensorFlow"

FLOAT_DTYPE = tf.float32
#: how a hint writes the float dtype and an axis argument
FLOAT_DTYPE_NAME = "tf.float32"
AXIS = "axis"


def float32(x):
    """A float32 tensor holding ``x``."""
    return tf.constant(np.asarray(x, dtype=np.float32))


def ids(x):
    """An integer tensor of ids holding ``x`` (int32, as tfa's samplers use)."""
    return tf.constant(np.asarray(x).astype(np.int32))


def bools(x):
    """A bool tensor holding ``x`` (a mask)."""
    return tf.constant(np.asarray(x, dtype=bool))


def numpy(x):
    """Tensors (nested) -> NumPy arrays."""
    return cl.to_numpy(x)


def no_grad():
    """A context without gradient bookkeeping (TensorFlow records only under a GradientTape)."""
    return contextlib.nullcontext()


def dense(in_features: int, units: int, use_bias: bool = True):
    """A dense layer built for ``in_features`` inputs."""
    layer = keras.layers.Dense(units, use_bias=use_bias)
    layer.build((None, in_features))
    return layer
