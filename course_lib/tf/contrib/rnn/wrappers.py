"""TF1's cell wrappers and ``MultiRNNCell`` (TensorFlow): ``tf.contrib.rnn``'s, with ``zero_state``.

A wrapper is itself a cell (``RNNCell``): it keeps its inner cell's ``state_size`` and
``zero_state`` and changes what goes in or comes out. Their logic is written once, in
``course_lib.common.contrib.wrappers``; here is the tensor code.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from course_lib.common.args import check_positive_int
from course_lib.common.contrib.wrappers import (
    DropoutWrapperLogic, MultiRNNCellLogic, ResidualWrapperLogic, WrapperLogic,
)
from course_lib.tf.contrib.rnn.cells import RNNCell


class MultiRNNCell(MultiRNNCellLogic, RNNCell):
    __doc__ = MultiRNNCellLogic.__doc__

    def _cell_list(self, cells):
        return cells


class OutputProjectionWrapper(WrapperLogic, RNNCell):
    """Projects the cell's output: ``activation(output @ kernel + bias)``, ``[B, output_size]``.

    Weights (the wrapper's own, as TF1): ``kernel [cell.output_size, output_size]`` (Glorot
    uniform), ``bias [output_size]`` (zeros), built on the first call.
    """

    def __init__(self, cell, output_size, activation=None, reuse=None, **kwargs):
        super().__init__(cell, **kwargs)
        self._output_size = check_positive_int(output_size, "output_size")
        self._activation = None if activation is None else keras.activations.get(activation)

    @property
    def output_size(self):
        return self._output_size

    def build(self, inputs_shape):
        depth = self.cell.output_size
        if not isinstance(depth, int):
            raise ValueError(f"OutputProjectionWrapper needs a cell with an int `output_size`, got {depth!r}")
        self.kernel = self.add_weight(name="kernel", shape=(depth, self._output_size), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self._output_size,), initializer="zeros")
        self.built = True

    def call(self, inputs, state, **kwargs):
        """Returns ``(projected [B, output_size], cell_state)``."""
        output, new_state = self.cell(inputs, state, **kwargs)
        projected = tf.matmul(output, self.kernel) + self.bias  # (B, output_size)
        return (projected if self._activation is None else self._activation(projected)), new_state


class ResidualWrapper(ResidualWrapperLogic, RNNCell):
    __doc__ = ResidualWrapperLogic.__doc__


class DropoutWrapper(DropoutWrapperLogic, RNNCell):
    __doc__ = DropoutWrapperLogic.__doc__

    def _is_array(self, x):
        return isinstance(x, tf.TensorArray)

    def _dropout(self, x, name, salt):
        """``tf.nn.dropout`` with the rate ``1 - keep``; kept values are scaled by ``1 / keep``."""
        seed = None if self._seed is None else self._seed + salt
        return tf.nn.dropout(x, rate=1.0 - tf.cast(self._keep[name], x.dtype), seed=seed)
