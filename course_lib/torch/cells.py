"""RNN cells for PyTorch with the Keras weight layout, and wrappers around cells.

A cell follows one protocol (the same in the TensorFlow backend)::

    output, new_state = cell(inputs, state)   # inputs [B, D] -> output [B, cell.output_size]
    cell.state_size                           # int, or a list/tuple of them
    cell.output_size                          # int
    cell.get_initial_state(batch_size=B, dtype=torch.float32, device=None)

States: ``SimpleRNNCell`` and ``GRUCell`` keep one tensor ``[B, H]``; ``LSTMCell`` keeps a
list ``[h, c]``; ``MultiRNNCell`` a tuple of its cells' states.

Weights are stored as Keras stores them (``kernel [D, G*H]``, ``recurrent_kernel [H, G*H]``,
``bias``), so one weights dict loads into either backend. Cells build their weights on the
first call (as Keras does) or at construction when ``input_size`` is given.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from course_lib.common import nest
from course_lib.common.checks import check_rank, describe


def _zeros_like_state_size(state_size, batch_size, dtype, device):
    return nest.map_structure(
        lambda size: torch.zeros(batch_size, size, dtype=dtype, device=device), state_size
    )


def _glorot_uniform_(tensor: torch.Tensor) -> None:
    fan_in, fan_out = tensor.shape[0], tensor.shape[1]
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    nn.init.uniform_(tensor, -limit, limit)


def _orthogonal_blocks_(tensor: torch.Tensor) -> None:
    # Keras draws one orthogonal matrix of shape [H, G*H].
    nn.init.orthogonal_(tensor)


class RNNCell(nn.Module):
    """Base of the stock cells: lazy build, the zero initial state and argument checks."""

    #: how many gate blocks the kernel holds (1 for SimpleRNN, 3 for GRU, 4 for LSTM)
    gates = 1

    def __init__(self, units: int, input_size: int | None = None, dtype=None, device=None, name=None):
        super().__init__()
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"`units` must be a positive int, got {units!r}")
        self.units = units
        self.name = name or type(self).__name__.lower()
        self._factory = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        self.input_size = None
        if input_size is not None:
            self.build(input_size)

    # -- weights -----------------------------------------------------------------
    def build(self, input_size: int) -> None:
        """Create ``kernel [input_size, G*H]``, ``recurrent_kernel [H, G*H]`` and ``bias``."""
        H, G = self.units, self.gates
        self.input_size = int(input_size)
        self.kernel = nn.Parameter(torch.empty(self.input_size, G * H, **self._factory))
        self.recurrent_kernel = nn.Parameter(torch.empty(H, G * H, **self._factory))
        self.bias = nn.Parameter(torch.empty(self._bias_shape(), **self._factory))
        self.reset_parameters()

    def _bias_shape(self):
        return (self.gates * self.units,)

    def reset_parameters(self) -> None:
        """Keras' initialisers: Glorot-uniform kernel, orthogonal recurrent kernel, zero bias."""
        with torch.no_grad():
            _glorot_uniform_(self.kernel)
            _orthogonal_blocks_(self.recurrent_kernel)
            self.bias.zero_()

    @property
    def built(self) -> bool:
        return self.input_size is not None

    # -- protocol ----------------------------------------------------------------
    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None, device=None):
        """Zeros shaped like ``state_size``: ``[batch_size, H]`` per state tensor."""
        if inputs is not None:
            batch_size = inputs.shape[0] if batch_size is None else batch_size
            dtype = dtype or inputs.dtype
            device = device or inputs.device
        if batch_size is None:
            raise ValueError("`batch_size` is needed (or `inputs` to read it from), got None")
        if self.built:
            device = device or self.kernel.device
        return _zeros_like_state_size(
            self.state_size, int(batch_size), dtype or self._factory["dtype"], device
        )

    def _check_call(self, inputs, state):
        check_rank(inputs, 2, "inputs", "[batch, depth]")
        if not self.built:  # built lazily: on the device of the inputs (also after a `.to(device)`)
            self._factory["device"] = inputs.device
            self.build(inputs.shape[-1])
        elif inputs.shape[-1] != self.input_size:
            raise ValueError(
                f"`inputs` of {self.name} must have depth {self.input_size} (set by its first call), "
                f"got {describe(inputs)}"
            )
        nest.assert_same_structure(self.state_size, state, "state")

    def forward(self, inputs, state):  # pragma: no cover - subclasses
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"units={self.units}, input_size={self.input_size}"


class SimpleRNNCell(RNNCell):
    """Elman cell: ``h' = tanh(x W + h U + b)``. State: one tensor ``[B, H]``."""

    gates = 1

    def forward(self, inputs, state):
        """Args: inputs ``[B, D]``; state ``[B, H]``. Returns ``(h', h')``, each ``[B, H]``."""
        self._check_call(inputs, state)
        # x W + b + h U, as two fused multiply-adds (addmm(b, x, W) = b + x @ W)
        h = torch.tanh(torch.addmm(torch.addmm(self.bias, inputs, self.kernel), state, self.recurrent_kernel))
        return h, h


class GRUCell(RNNCell):
    """GRU cell (Keras ``reset_after=True``; gates z, r, h). State: one tensor ``[B, H]``.

    ``z = σ(x Wz + bz + h Uz + cz)``, ``r = σ(x Wr + br + h Ur + cr)``,
    ``ĥ = tanh(x Wh + bh + r ⊙ (h Uh + ch))``, ``h' = z ⊙ h + (1 - z) ⊙ ĥ``.
    ``bias`` is ``[2, 3H]``: the input bias ``b`` and the recurrent bias ``c``.
    """

    gates = 3

    def _bias_shape(self):
        return (2, 3 * self.units)

    def forward(self, inputs, state):
        """Args: inputs ``[B, D]``; state ``[B, H]``. Returns ``(h', h')``, each ``[B, H]``."""
        self._check_call(inputs, state)
        x = torch.addmm(self.bias[0], inputs, self.kernel)  # x W + b: (B, 3H)
        rec = torch.addmm(self.bias[1], state, self.recurrent_kernel)  # h U + c: (B, 3H)
        x_z, x_r, x_h = x.chunk(3, dim=-1)
        r_z, r_r, r_h = rec.chunk(3, dim=-1)
        z = torch.sigmoid(x_z + r_z)
        r = torch.sigmoid(x_r + r_r)
        h_tilde = torch.tanh(x_h + r * r_h)
        h = z * state + (1.0 - z) * h_tilde  # (B, H)
        return h, h


class LSTMCell(RNNCell):
    """LSTM cell (gates i, f, c, o as Keras). State: a list ``[h, c]``, each ``[B, H]``.

    The forget-gate bias starts at 1 (Keras ``unit_forget_bias=True``).
    """

    gates = 4

    @property
    def state_size(self):
        return [self.units, self.units]

    def reset_parameters(self) -> None:
        super().reset_parameters()
        with torch.no_grad():
            self.bias[self.units: 2 * self.units] = 1.0

    def forward(self, inputs, state):
        """Args: inputs ``[B, D]``; state ``[h, c]``. Returns ``(h', [h', c'])``."""
        self._check_call(inputs, state)
        h, c = state
        # x W + b + h U, as two fused multiply-adds (addmm(b, x, W) = b + x @ W): (B, 4H)
        z = torch.addmm(torch.addmm(self.bias, inputs, self.kernel), h, self.recurrent_kernel)
        i, f, g, o = z.chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)  # (B, H)
        return h, [h, c]


BasicRNNCell = SimpleRNNCell


class MultiRNNCell(nn.Module):
    """Cells stacked in depth: the output of cell k is the input of cell k+1.

    State: a tuple with one state per cell. Output: the last cell's output.
    """

    def __init__(self, cells, name=None):
        super().__init__()
        cells = list(cells)
        if not cells:
            raise ValueError("`cells` must hold at least one cell, got an empty list")
        self.cells = nn.ModuleList(cells)
        self.name = name or "multi_rnn_cell"

    @property
    def state_size(self):
        return tuple(cell.state_size for cell in self.cells)

    @property
    def output_size(self) -> int:
        return self.cells[-1].output_size

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None, device=None):
        """A tuple of each cell's zero state."""
        return tuple(
            cell.get_initial_state(inputs=inputs, batch_size=batch_size, dtype=dtype, device=device)
            for cell in self.cells
        )

    def forward(self, inputs, state):
        """Args: inputs ``[B, D]``; state a tuple of cell states. Returns ``(output, new_states)``."""
        nest.assert_same_structure(self.state_size, state, "state")
        new_states = []
        for cell, cell_state in zip(self.cells, state):
            inputs, cell_state = cell(inputs, cell_state)
            new_states.append(cell_state)
        return inputs, tuple(new_states)


class _Wrapper(nn.Module):
    def __init__(self, cell, name=None):
        super().__init__()
        self.cell = cell
        self.name = name or type(self).__name__.lower()

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self) -> int:
        return self.cell.output_size

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None, device=None):
        return self.cell.get_initial_state(inputs=inputs, batch_size=batch_size, dtype=dtype, device=device)


class OutputProjectionWrapper(_Wrapper):
    """Projects the wrapped cell's output to ``output_size`` with a dense layer (``projection``)."""

    def __init__(self, cell, output_size: int, name=None):
        super().__init__(cell, name)
        if not isinstance(output_size, int) or output_size <= 0:
            raise ValueError(f"`output_size` must be a positive int, got {output_size!r}")
        self.projection = nn.Linear(cell.output_size, output_size)
        with torch.no_grad():
            _glorot_uniform_(self.projection.weight.T)
            self.projection.bias.zero_()
        self._output_size = output_size

    @property
    def output_size(self) -> int:
        return self._output_size

    def forward(self, inputs, state):
        """Returns ``(projection(cell_output) [B, output_size], cell_state)``."""
        output, state = self.cell(inputs, state)
        return self.projection(output), state


class ResidualWrapper(_Wrapper):
    """Adds the cell's input to its output: ``output = inputs + cell(inputs)``.

    ``residual_fn(inputs, outputs)`` replaces the addition when given.
    """

    def __init__(self, cell, residual_fn=None, name=None):
        super().__init__(cell, name)
        self.residual_fn = residual_fn

    def forward(self, inputs, state):
        """Returns ``(inputs + cell_output, cell_state)``; depths must match."""
        output, state = self.cell(inputs, state)
        if self.residual_fn is not None:
            return self.residual_fn(inputs, output), state
        if inputs.shape[-1] != output.shape[-1]:
            raise ValueError(
                f"ResidualWrapper needs `inputs` of the cell's output depth {output.shape[-1]}, "
                f"got {describe(inputs)}"
            )
        return inputs + output, state
