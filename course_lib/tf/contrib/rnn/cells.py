"""TF1's RNN cells (``tf.contrib.rnn`` = ``tf.nn.rnn_cell``) with TF1's variable layout (TensorFlow).

Each cell keeps the weights TF1 kept, under TF1's names: one ``kernel [D + H, G*H]`` over
``concat([inputs, h])`` and a ``bias`` (``course_lib.common.contrib.layouts`` maps them to the
Keras layout of the modern cells). LSTM states are ``LSTMStateTuple(c, h)``, c first; every cell
has ``zero_state(batch_size, dtype)``. Cells build their weights on the first call.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from course_lib.common import nest
from course_lib.common.args import check_positive_int
from course_lib.common.checks import check_rank, describe
from course_lib.common.contrib import LSTMStateTuple, check_state_layout


def _activation(activation):
    return tf.tanh if activation is None else keras.activations.get(activation)


def _initializer(initializer, default="glorot_uniform"):
    return keras.initializers.get(default if initializer is None else initializer)


class RNNCell(keras.layers.Layer):
    """TF1's ``RNNCell``: the base of the contrib cells, and of a cell you write.

    A subclass defines ``state_size``, ``output_size``, ``call(inputs, state) -> (output,
    new_state)`` and, for weights, ``build(inputs_shape)`` with ``self.add_weight(...)`` (TF1's
    ``tf.get_variable`` is gone). Calling the cell builds it once, then runs ``call`` directly
    (no Keras input conversion, so a state may hold ``LSTMStateTuple``s and ``tf.TensorArray``s).
    """

    def __init__(self, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)

    def __call__(self, inputs, state, *args, **kwargs):
        if not self.built:
            self.build(tf.TensorShape(inputs.shape))
            self.built = True
        return self.call(inputs, state, *args, **kwargs)

    def build(self, inputs_shape):
        self.built = True

    def zero_state(self, batch_size, dtype):
        """Zeros shaped like ``state_size``: ``[batch_size, size]`` per leaf (LSTMStateTuples kept)."""
        return nest.map_structure(lambda size: tf.zeros([batch_size, size], dtype=dtype), self.state_size)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """The zero state (later TF1's and the modern cells' name); ``inputs`` gives B and the dtype."""
        if inputs is not None:
            batch_size = (inputs.shape[0] if inputs.shape[0] is not None else tf.shape(inputs)[0]) \
                if batch_size is None else batch_size
            dtype = dtype or inputs.dtype
        if batch_size is None:
            raise ValueError("`batch_size` is needed (or `inputs` to read it from), got None")
        return self.zero_state(batch_size, dtype or self.compute_dtype)


class _LayerCell(RNNCell):
    """A stock cell: ``num_units``, the input depth set by the first call, and the call's checks."""

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(reuse=reuse, name=name, dtype=dtype, **kwargs)
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
        if inputs_shape.rank != 2 or inputs_shape[-1] is None:
            raise ValueError(f"`inputs` of {self.name} must be [batch, depth] with a known depth, got shape "
                             f"{inputs_shape}")
        self.input_depth = int(inputs_shape[-1])
        self._build_weights(self.input_depth, self.num_units)
        self.built = True

    def _check_call(self, inputs, state):
        check_rank(inputs, 2, "inputs", "[batch, depth]")
        if inputs.shape[-1] is not None and inputs.shape[-1] != self.input_depth:
            raise ValueError(f"`inputs` of {self.name} must have depth {self.input_depth} (set by its first "
                             f"call), got {describe(inputs)}")
        check_state_layout(self.state_size, state, "state")


class BasicRNNCell(_LayerCell):
    """TF1's ``BasicRNNCell``: ``h' = tanh(concat([x, h]) @ kernel + bias)``.

    Weights: ``kernel [D + H, H]`` (Glorot uniform), ``bias [H]`` (zeros). State: ``[B, H]``.
    """

    def _build_weights(self, D, H):
        self.kernel = self.add_weight(name="kernel", shape=(D + H, H), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(H,), initializer="zeros")

    def call(self, inputs, state):
        """Args: inputs ``[B, D]``; state ``[B, H]``. Returns ``(h', h')``."""
        self._check_call(inputs, state)
        h = self._activation(tf.matmul(tf.concat([inputs, state], 1), self.kernel) + self.bias)  # (B, H)
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
                 dtype=None, **kwargs):
        super().__init__(num_units, activation=activation, reuse=reuse, name=name, dtype=dtype, **kwargs)
        self.forget_bias = float(forget_bias)
        self.state_is_tuple = bool(state_is_tuple)

    @property
    def state_size(self):
        H = self.num_units
        return LSTMStateTuple(H, H) if self.state_is_tuple else 2 * H

    def _build_weights(self, D, H):
        self.kernel = self.add_weight(name="kernel", shape=(D + H, 4 * H), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(4 * H,), initializer="zeros")

    def call(self, inputs, state):
        """Args: inputs ``[B, D]``; state ``LSTMStateTuple(c, h)``. Returns ``(h', LSTMStateTuple(c', h'))``."""
        self._check_call(inputs, state)
        c, h = state if self.state_is_tuple else tf.split(state, 2, axis=1)
        gates = tf.matmul(tf.concat([inputs, h], 1), self.kernel) + self.bias  # (B, 4H)
        i, j, f, o = tf.split(gates, 4, axis=1)
        new_c = c * tf.sigmoid(f + self.forget_bias) + tf.sigmoid(i) * self._activation(j)
        new_h = self._activation(new_c) * tf.sigmoid(o)  # (B, H)
        return new_h, (LSTMStateTuple(new_c, new_h) if self.state_is_tuple else tf.concat([new_c, new_h], 1))


class LSTMCell(BasicLSTMCell):
    """TF1's ``LSTMCell``: ``BasicLSTMCell`` plus peepholes, clipping and an output projection.

    Args (TF1's): ``num_units``; ``use_peepholes`` (``w_f_diag``, ``w_i_diag``, ``w_o_diag [H]``);
    ``cell_clip`` (clip c); ``initializer`` (of the kernels, a Keras initializer); ``num_proj``
    (P: ``projection/kernel [H, P]``, the output and h are ``[B, P]``); ``proj_clip``;
    ``forget_bias``, ``state_is_tuple``, ``activation``, ``reuse``, ``name``, ``dtype``.
    ``num_unit_shards`` / ``num_proj_shards`` (deprecated in TF1) raise NotImplementedError.

    Weights: ``kernel [D + (P or H), 4H]``, ``bias [4H]``; state ``LSTMStateTuple(c [B, H], h [B, P or H])``.
    """

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None, num_proj=None,
                 proj_clip=None, num_unit_shards=None, num_proj_shards=None, forget_bias=1.0, state_is_tuple=True,
                 activation=None, reuse=None, name=None, dtype=None, **kwargs):
        if num_unit_shards is not None or num_proj_shards is not None:
            raise NotImplementedError("`num_unit_shards` / `num_proj_shards` (variable sharding, deprecated in "
                                      "TF1) are not supported: leave them None")
        super().__init__(num_units, forget_bias=forget_bias, state_is_tuple=state_is_tuple, activation=activation,
                         reuse=reuse, name=name, dtype=dtype, **kwargs)
        self.use_peepholes = bool(use_peepholes)
        self.cell_clip, self.proj_clip = cell_clip, proj_clip
        self.num_proj = None if num_proj is None else check_positive_int(num_proj, "num_proj")
        self._kernel_initializer = _initializer(initializer)
        self.projection = None
        if self.num_proj is not None:
            self.projection = keras.layers.Dense(self.num_proj, use_bias=False, name="projection",
                                                 kernel_initializer=self._kernel_initializer, dtype=dtype)

    @property
    def state_size(self):
        H, P = self.num_units, self.num_proj or self.num_units
        return LSTMStateTuple(H, P) if self.state_is_tuple else H + P

    @property
    def output_size(self):
        return self.num_proj or self.num_units

    def _build_weights(self, D, H):
        P = self.num_proj or H
        self.kernel = self.add_weight(name="kernel", shape=(D + P, 4 * H), initializer=self._kernel_initializer)
        self.bias = self.add_weight(name="bias", shape=(4 * H,), initializer="zeros")
        if self.use_peepholes:
            limit = math.sqrt(3.0 / H)  # Glorot uniform of a [H] vector
            for name in ("w_f_diag", "w_i_diag", "w_o_diag"):
                setattr(self, name, self.add_weight(
                    name=name, shape=(H,), initializer=keras.initializers.RandomUniform(-limit, limit)))
        if self.projection is not None:
            self.projection.build((None, H))

    def call(self, inputs, state):
        """Args: inputs ``[B, D]``; state ``LSTMStateTuple(c, h)``. Returns ``(h', LSTMStateTuple(c', h'))``."""
        self._check_call(inputs, state)
        H = self.num_units
        c, h = state if self.state_is_tuple else (state[:, :H], state[:, H:])
        i, j, f, o = tf.split(tf.matmul(tf.concat([inputs, h], 1), self.kernel) + self.bias, 4, axis=1)
        if self.use_peepholes:
            f, i = f + self.w_f_diag * c, i + self.w_i_diag * c
        new_c = c * tf.sigmoid(f + self.forget_bias) + tf.sigmoid(i) * self._activation(j)  # (B, H)
        if self.cell_clip is not None:
            new_c = tf.clip_by_value(new_c, -self.cell_clip, self.cell_clip)
        if self.use_peepholes:
            o = o + self.w_o_diag * new_c
        new_h = self._activation(new_c) * tf.sigmoid(o)  # (B, H)
        if self.projection is not None:
            new_h = self.projection(new_h)  # (B, P)
            if self.proj_clip is not None:
                new_h = tf.clip_by_value(new_h, -self.proj_clip, self.proj_clip)
        return new_h, (LSTMStateTuple(new_c, new_h) if self.state_is_tuple else tf.concat([new_c, new_h], 1))


class GRUCell(_LayerCell):
    """TF1's ``GRUCell`` (not Keras' default GRU: the reset gate acts before the candidate's matmul).

    ``r, u = split(sigmoid(concat([x, h]) @ gates/kernel + gates/bias), 2)``;
    ``c = tanh(concat([x, r * h]) @ candidate/kernel + candidate/bias)``; ``h' = u * h + (1 - u) * c``.

    Weights: ``gates/kernel [D + H, 2H]``, ``gates/bias [2H]`` (ones), ``candidate/kernel [D + H, H]``,
    ``candidate/bias [H]`` (zeros). ``kernel_initializer`` / ``bias_initializer``: Keras initializers.
    """

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None, bias_initializer=None,
                 name=None, dtype=None, **kwargs):
        super().__init__(num_units, activation=activation, reuse=reuse, name=name, dtype=dtype, **kwargs)
        kernel_init = _initializer(kernel_initializer)
        self.gates = keras.layers.Dense(2 * self.num_units, name="gates", kernel_initializer=kernel_init,
                                        bias_initializer=_initializer(bias_initializer, keras.initializers.Ones()),
                                        dtype=dtype)
        self.candidate = keras.layers.Dense(self.num_units, name="candidate", kernel_initializer=kernel_init,
                                            bias_initializer=_initializer(bias_initializer, "zeros"), dtype=dtype)

    def _build_weights(self, D, H):
        self.gates.build((None, D + H))
        self.candidate.build((None, D + H))

    def call(self, inputs, state):
        """Args: inputs ``[B, D]``; state ``[B, H]``. Returns ``(h', h')``."""
        self._check_call(inputs, state)
        value = tf.sigmoid(self.gates(tf.concat([inputs, state], 1)))  # (B, 2H)
        r, u = tf.split(value, 2, axis=1)
        c = self._activation(self.candidate(tf.concat([inputs, r * state], 1)))  # (B, H)
        h = u * state + (1 - u) * c
        return h, h
