"""TF1's RNN cells (``tf.contrib.rnn`` = ``tf.nn.rnn_cell``) with TF1's variable layout (PyTorch).

Each cell keeps the weights TF1 kept, under TF1's names: one ``kernel [D + H, G*H]`` over
``concat([inputs, h])`` and a ``bias`` (``course_lib.common.contrib.layouts`` maps them to the
Keras layout of the modern cells). LSTM states are ``LSTMStateTuple(c, h)``, c first; every cell
has ``zero_state(batch_size, dtype)``. Cells build their weights on the first call.
"""

from __future__ import annotations

import math
import re

import torch
from torch import nn

from course_lib.common import nest
from course_lib.common.args import check_positive_int
from course_lib.common.checks import check_rank, describe
from course_lib.common.contrib import LSTMStateTuple, check_state_layout

_INITIALIZERS = {"zeros": nn.init.zeros_, "ones": nn.init.ones_}


def _glorot_uniform_(tensor):
    """Keras' Glorot uniform for a Keras-layout tensor ``[in, out]`` (a vector ``[n]``: fans n, n)."""
    fan_in, fan_out = (tensor.shape[0], tensor.shape[0]) if tensor.dim() == 1 else tensor.shape[-2:]
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    nn.init.uniform_(tensor, -limit, limit)


def _activation(activation):
    if activation is None:
        return torch.tanh
    if not callable(activation):
        raise TypeError(f"`activation` must be a callable (e.g. torch.relu), got {describe(activation)}")
    return activation


def _initializer(initializer, default="glorot_uniform"):
    """A function filling a tensor in place: ``initializer`` if callable, else a named one."""
    initializer = default if initializer is None else initializer
    if callable(initializer):
        return initializer
    table = dict(_INITIALIZERS, glorot_uniform=_glorot_uniform_)
    if initializer not in table:
        raise ValueError(f"an initializer must be one of {sorted(table)} or a function filling a tensor in place, "
                         f"got {initializer!r}")
    return table[initializer]


class RNNCell(nn.Module):
    """TF1's ``RNNCell``: the base of the contrib cells, and of a cell you write.

    A subclass defines ``state_size``, ``output_size``, ``call(inputs, state) -> (output,
    new_state)`` and, for weights, ``build(inputs_shape)`` with ``self.add_weight(...)`` (TF1's
    ``tf.get_variable`` is gone). Calling the cell builds it once (on the inputs' device), then
    runs ``call``.
    """

    def __init__(self, reuse=None, name=None, dtype=None):
        super().__init__()
        self.name = name or re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()
        self._factory = {"dtype": dtype, "device": None}
        self.built = False

    def forward(self, inputs, state, *args, **kwargs):
        if not self.built:
            self._factory = {"dtype": self._factory["dtype"] or inputs.dtype, "device": inputs.device}
            self.build(inputs.shape)
            self.built = True
        return self.call(inputs, state, *args, **kwargs)

    def build(self, inputs_shape):
        self.built = True

    def call(self, inputs, state):  # pragma: no cover - subclasses
        raise NotImplementedError

    def add_weight(self, name, shape, initializer="glorot_uniform"):
        """A new ``nn.Parameter`` on the inputs' device (assign it: ``self.kernel = self.add_weight(...)``)."""
        weight = nn.Parameter(torch.empty(shape, **self._factory))
        with torch.no_grad():
            _initializer(initializer)(weight)
        return weight

    def _device(self):
        for p in self.parameters():
            return p.device
        return None

    def zero_state(self, batch_size, dtype=None, device=None):
        """Zeros shaped like ``state_size``: ``[batch_size, size]`` per leaf (LSTMStateTuples kept)."""
        dtype, device = dtype or torch.get_default_dtype(), device or self._device()
        return nest.map_structure(lambda size: torch.zeros(int(batch_size), size, dtype=dtype, device=device),
                                  self.state_size)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None, device=None):
        """The zero state (later TF1's and the modern cells' name); ``inputs`` gives B, dtype and device."""
        if inputs is not None:
            batch_size = inputs.shape[0] if batch_size is None else batch_size
            dtype, device = dtype or inputs.dtype, device or inputs.device
        if batch_size is None:
            raise ValueError("`batch_size` is needed (or `inputs` to read it from), got None")
        return self.zero_state(batch_size, dtype, device=device)


class _LayerCell(RNNCell):
    """A stock cell: ``num_units``, the input depth set by the first call, and the call's checks."""

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None):
        super().__init__(reuse=reuse, name=name, dtype=dtype)
        self.num_units = check_positive_int(num_units, "num_units")
        self._activation = _activation(activation)
        self.input_depth = None

    @property
    def state_size(self):
        return self.num_units

    @property
    def output_size(self):
        return self.num_units

    def build(self, inputs_shape):
        if len(inputs_shape) != 2:
            raise ValueError(f"`inputs` of {self.name} must be [batch, depth], got shape {list(inputs_shape)}")
        self.input_depth = int(inputs_shape[-1])
        self._build_weights(self.input_depth, self.num_units)
        self.built = True

    def _check_call(self, inputs, state):
        check_rank(inputs, 2, "inputs", "[batch, depth]")
        if inputs.shape[-1] != self.input_depth:
            raise ValueError(f"`inputs` of {self.name} must have depth {self.input_depth} (set by its first "
                             f"call), got {describe(inputs)}")
        check_state_layout(self.state_size, state, "state")


class BasicRNNCell(_LayerCell):
    """TF1's ``BasicRNNCell``: ``h' = tanh(concat([x, h]) @ kernel + bias)``.

    Weights: ``kernel [D + H, H]`` (Glorot uniform), ``bias [H]`` (zeros). State: ``[B, H]``.
    """

    def _build_weights(self, D, H):
        self.kernel = self.add_weight("kernel", (D + H, H), "glorot_uniform")
        self.bias = self.add_weight("bias", (H,), "zeros")

    def call(self, inputs, state):
        """Args: inputs ``[B, D]``; state ``[B, H]``. Returns ``(h', h')``."""
        self._check_call(inputs, state)
        h = self._activation(torch.addmm(self.bias, torch.cat([inputs, state], 1), self.kernel))  # (B, H)
        return h, h


class BasicLSTMCell(_LayerCell):
    """TF1's ``BasicLSTMCell``: gates i, j, f, o from one kernel; ``forget_bias`` added at every call.

    ``i, j, f, o = split(concat([x, h]) @ kernel + bias, 4)``;
    ``c' = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)``; ``h' = tanh(c') * sigmoid(o)``.

    Args:
      num_units: H.
      forget_bias: added to the forget gate's pre-activation at every step (not an initial value).
      state_is_tuple: True: the state is ``LSTMStateTuple(c, h)``; False: ``concat([c, h], 1)`` ``[B, 2H]``.
      activation: of the candidate and the output (default tanh).
      reuse, name, dtype: TF1's; ``reuse`` is unused.

    Weights: ``kernel [D + H, 4H]`` (Glorot uniform), ``bias [4H]`` (zeros).
    """

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None,
                 dtype=None):
        super().__init__(num_units, activation=activation, reuse=reuse, name=name, dtype=dtype)
        self.forget_bias = float(forget_bias)
        self.state_is_tuple = bool(state_is_tuple)

    @property
    def state_size(self):
        H = self.num_units
        return LSTMStateTuple(H, H) if self.state_is_tuple else 2 * H

    def _build_weights(self, D, H):
        self.kernel = self.add_weight("kernel", (D + H, 4 * H), "glorot_uniform")
        self.bias = self.add_weight("bias", (4 * H,), "zeros")

    def call(self, inputs, state):
        """Args: inputs ``[B, D]``; state ``LSTMStateTuple(c, h)``. Returns ``(h', LSTMStateTuple(c', h'))``."""
        self._check_call(inputs, state)
        c, h = state if self.state_is_tuple else state.chunk(2, dim=1)
        gates = torch.addmm(self.bias, torch.cat([inputs, h], 1), self.kernel)  # (B, 4H)
        i, j, f, o = gates.chunk(4, dim=1)
        new_c = c * torch.sigmoid(f + self.forget_bias) + torch.sigmoid(i) * self._activation(j)
        new_h = self._activation(new_c) * torch.sigmoid(o)  # (B, H)
        return new_h, (LSTMStateTuple(new_c, new_h) if self.state_is_tuple else torch.cat([new_c, new_h], 1))


class LSTMCell(BasicLSTMCell):
    """TF1's ``LSTMCell``: ``BasicLSTMCell`` plus peepholes, clipping and an output projection.

    Args (TF1's): ``num_units``; ``use_peepholes`` (``w_f_diag``, ``w_i_diag``, ``w_o_diag [H]``);
    ``cell_clip`` (clip c); ``initializer`` (of the kernels, a function filling a tensor in place);
    ``num_proj`` (P: ``projection/kernel [H, P]``, the output and h are ``[B, P]``); ``proj_clip``;
    ``forget_bias``, ``state_is_tuple``, ``activation``, ``reuse``, ``name``, ``dtype``.
    ``num_unit_shards`` / ``num_proj_shards`` (deprecated in TF1) raise NotImplementedError.

    Weights: ``kernel [D + (P or H), 4H]``, ``bias [4H]``; state ``LSTMStateTuple(c [B, H], h [B, P or H])``.
    """

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None, num_proj=None,
                 proj_clip=None, num_unit_shards=None, num_proj_shards=None, forget_bias=1.0, state_is_tuple=True,
                 activation=None, reuse=None, name=None, dtype=None):
        if num_unit_shards is not None or num_proj_shards is not None:
            raise NotImplementedError("`num_unit_shards` / `num_proj_shards` (variable sharding, deprecated in "
                                      "TF1) are not supported: leave them None")
        super().__init__(num_units, forget_bias=forget_bias, state_is_tuple=state_is_tuple, activation=activation,
                         reuse=reuse, name=name, dtype=dtype)
        self.use_peepholes = bool(use_peepholes)
        self.cell_clip, self.proj_clip = cell_clip, proj_clip
        self.num_proj = None if num_proj is None else check_positive_int(num_proj, "num_proj")
        self._kernel_initializer = _initializer(initializer)
        self.projection = None

    @property
    def state_size(self):
        H, P = self.num_units, self.num_proj or self.num_units
        return LSTMStateTuple(H, P) if self.state_is_tuple else H + P

    @property
    def output_size(self):
        return self.num_proj or self.num_units

    def _build_weights(self, D, H):
        P = self.num_proj or H
        self.kernel = self.add_weight("kernel", (D + P, 4 * H), self._kernel_initializer)
        self.bias = self.add_weight("bias", (4 * H,), "zeros")
        if self.use_peepholes:
            for name in ("w_f_diag", "w_i_diag", "w_o_diag"):
                setattr(self, name, self.add_weight(name, (H,), "glorot_uniform"))
        if self.num_proj is not None:
            self.projection = nn.Linear(H, self.num_proj, bias=False, **self._factory)
            with torch.no_grad():
                self._kernel_initializer(self.projection.weight.T)  # Keras layout [H, P]

    def call(self, inputs, state):
        """Args: inputs ``[B, D]``; state ``LSTMStateTuple(c, h)``. Returns ``(h', LSTMStateTuple(c', h'))``."""
        self._check_call(inputs, state)
        H = self.num_units
        c, h = state if self.state_is_tuple else (state[:, :H], state[:, H:])
        i, j, f, o = torch.addmm(self.bias, torch.cat([inputs, h], 1), self.kernel).chunk(4, dim=1)
        if self.use_peepholes:
            f, i = f + self.w_f_diag * c, i + self.w_i_diag * c
        new_c = c * torch.sigmoid(f + self.forget_bias) + torch.sigmoid(i) * self._activation(j)  # (B, H)
        if self.cell_clip is not None:
            new_c = torch.clamp(new_c, -self.cell_clip, self.cell_clip)
        if self.use_peepholes:
            o = o + self.w_o_diag * new_c
        new_h = self._activation(new_c) * torch.sigmoid(o)  # (B, H)
        if self.projection is not None:
            new_h = self.projection(new_h)  # (B, P)
            if self.proj_clip is not None:
                new_h = torch.clamp(new_h, -self.proj_clip, self.proj_clip)
        return new_h, (LSTMStateTuple(new_c, new_h) if self.state_is_tuple else torch.cat([new_c, new_h], 1))


class GRUCell(_LayerCell):
    """TF1's ``GRUCell`` (not Keras' default GRU: the reset gate acts before the candidate's matmul).

    ``r, u = split(sigmoid(concat([x, h]) @ gates/kernel + gates/bias), 2)``;
    ``c = tanh(concat([x, r * h]) @ candidate/kernel + candidate/bias)``; ``h' = u * h + (1 - u) * c``.

    Weights: ``gates/kernel [D + H, 2H]``, ``gates/bias [2H]`` (ones), ``candidate/kernel [D + H, H]``,
    ``candidate/bias [H]`` (zeros). ``kernel_initializer`` / ``bias_initializer``: functions filling
    a tensor in place (``"glorot_uniform"``, ``"zeros"``, ``"ones"`` by name).
    """

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None, bias_initializer=None,
                 name=None, dtype=None):
        super().__init__(num_units, activation=activation, reuse=reuse, name=name, dtype=dtype)
        self._kernel_initializer = _initializer(kernel_initializer)
        self._gates_bias_initializer = _initializer(bias_initializer, "ones")
        self._candidate_bias_initializer = _initializer(bias_initializer, "zeros")
        self.gates = self.candidate = None

    def _linear(self, in_features, units, bias_initializer):
        layer = nn.Linear(in_features, units, **self._factory)
        with torch.no_grad():
            self._kernel_initializer(layer.weight.T)  # Keras layout [in, units]
            bias_initializer(layer.bias)
        return layer

    def _build_weights(self, D, H):
        self.gates = self._linear(D + H, 2 * H, self._gates_bias_initializer)
        self.candidate = self._linear(D + H, H, self._candidate_bias_initializer)

    def call(self, inputs, state):
        """Args: inputs ``[B, D]``; state ``[B, H]``. Returns ``(h', h')``."""
        self._check_call(inputs, state)
        value = torch.sigmoid(self.gates(torch.cat([inputs, state], 1)))  # (B, 2H)
        r, u = value.chunk(2, dim=1)
        c = self._activation(self.candidate(torch.cat([inputs, r * state], 1)))  # (B, H)
        h = u * state + (1 - u) * c
        return h, h
