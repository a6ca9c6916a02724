"""TF1's cell wrappers and ``MultiRNNCell`` (PyTorch): ``tf.contrib.rnn``'s, with ``zero_state``.

A wrapper is itself a cell (``RNNCell``): it keeps its inner cell's ``state_size`` and
``zero_state`` and changes what goes in or comes out. Their logic is written once, in
``course_lib.common.contrib.wrappers``; here is the tensor code.
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.common.args import check_positive_int
from course_lib.common.contrib.wrappers import (
    DropoutWrapperLogic, MultiRNNCellLogic, ResidualWrapperLogic, WrapperLogic,
)
from course_lib.torch.contrib.rnn.cells import RNNCell, _activation
from course_lib.torch.tensor_array import TensorArray


class MultiRNNCell(MultiRNNCellLogic, RNNCell):
    __doc__ = MultiRNNCellLogic.__doc__

    def _cell_list(self, cells):
        return nn.ModuleList(cells)


class OutputProjectionWrapper(WrapperLogic, RNNCell):
    """Projects the cell's output: ``activation(output @ kernel + bias)``, ``[B, output_size]``.

    Weights (the wrapper's own, as TF1): ``kernel [cell.output_size, output_size]`` (Glorot
    uniform), ``bias [output_size]`` (zeros), built on the first call.
    """

    def __init__(self, cell, output_size, activation=None, reuse=None, **kwargs):
        super().__init__(cell, **kwargs)
        self._output_size = check_positive_int(output_size, "output_size")
        self._activation = None if activation is None else _activation(activation)

    @property
    def output_size(self):
        return self._output_size

    def build(self, inputs_shape):
        depth = self.cell.output_size
        if not isinstance(depth, int):
            raise ValueError(f"OutputProjectionWrapper needs a cell with an int `output_size`, got {depth!r}")
        self.kernel = self.add_weight("kernel", (depth, self._output_size), "glorot_uniform")
        self.bias = self.add_weight("bias", (self._output_size,), "zeros")
        self.built = True

    def call(self, inputs, state, **kwargs):
        """Returns ``(projected [B, output_size], cell_state)``."""
        output, new_state = self.cell(inputs, state, **kwargs)
        projected = torch.addmm(self.bias, output, self.kernel)  # (B, output_size)
        return (projected if self._activation is None else self._activation(projected)), new_state


class ResidualWrapper(ResidualWrapperLogic, RNNCell):
    __doc__ = ResidualWrapperLogic.__doc__


class DropoutWrapper(DropoutWrapperLogic, RNNCell):
    __doc__ = DropoutWrapperLogic.__doc__

    def _is_array(self, x):
        return isinstance(x, TensorArray)

    def _dropout(self, x, name, salt):
        """Zero each value with probability ``1 - keep``; kept values are scaled by ``1 / keep``."""
        keep, generator = self._keep[name], None
        if self._seed is not None:  # one seeded generator per device, drawn from step after step
            generators = self.__dict__.setdefault("_generators", {})
            if x.device not in generators:
                generators[x.device] = torch.Generator(device=x.device).manual_seed(self._seed)
            generator = generators[x.device]
        kept = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) < keep
        return x * kept / keep
