"""RNN cells for TensorFlow / Keras 3, and wrappers around cells.

A cell follows one protocol (the same in the PyTorch backend)::

    output, new_state = cell(inputs, state)   # inputs [B, D] -> output [B, cell.output_size]
    cell.state_size                           # int, or a list/tuple of them
    cell.output_size                          # int
    cell.get_initial_state(batch_size=B, dtype=tf.float32)

States: ``SimpleRNNCell`` and ``GRUCell`` keep one tensor ``[B, H]``; ``LSTMCell`` keeps a
list ``[h, c]``; ``MultiRNNCell`` a tuple of its cells' states.

The cells are Keras layers that build ``kernel [D, G*H]``, ``recurrent_kernel [H, G*H]`` and
``bias`` on their first call, with Keras' initialisers; they also work inside
``keras.layers.RNN``.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from course_lib.common import nest
from course_lib.common.checks import check_rank, describe


def _zeros_like_state_size(state_size, batch_size, dtype):
    return nest.map_structure(lambda size: tf.zeros([batch_size, size], dtype=dtype), state_size)


class RNNCell(keras.layers.Layer):
    """Base of the stock cells: weights, the zero initial state and argument checks."""

    gates = 1

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"`units` must be a positive int, got {units!r}")
        self.units = units

    def _bias_shape(self):
        return (self.gates * self.units,)

    def build(self, input_shape):
        """Create ``kernel [D, G*H]``, ``recurrent_kernel [H, G*H]`` and ``bias``."""
        input_dim = int(input_shape[-1])
        H, G = self.units, self.gates
        self.input_size = input_dim
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, G * H), initializer="glorot_uniform")
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(H, G * H), initializer="orthogonal"
        )
        self.bias = self.add_weight(name="bias", shape=self._bias_shape(), initializer=self._bias_initializer())
        self.built = True

    def _bias_initializer(self):
        return "zeros"

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zeros shaped like ``state_size``: ``[batch_size, H]`` per state tensor."""
        if inputs is not None:
            batch_size = tf.shape(inputs)[0] if batch_size is None else batch_size
            dtype = dtype or inputs.dtype
        if batch_size is None:
            raise ValueError("`batch_size` is needed (or `inputs` to read it from), got None")
        return _zeros_like_state_size(self.state_size, batch_size, dtype or self.compute_dtype)

    def _check_call(self, inputs, state):
        check_rank(inputs, 2, "inputs", "[batch, depth]")
        if self.built and inputs.shape[-1] is not None and inputs.shape[-1] != self.input_size:
            raise ValueError(
                f"`inputs` of {self.name} must have depth {self.input_size} (set by its first call), "
                f"got {describe(inputs)}"
            )
        if isinstance(self.state_size, int) and isinstance(state, (list, tuple)) and len(state) == 1:
            state = state[0]  # keras.layers.RNN hands a one-tensor state over as a list
        nest.assert_same_structure(self.state_size, state, "state")
        return state

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class SimpleRNNCell(RNNCell):
    """Elman cell: ``h' = tanh(x W + h U + b)``. State: one tensor ``[B, H]``."""

    gates = 1

    def call(self, inputs, states, training=None):
        """Args: inputs ``[B, D]``; state ``[B, H]``. Returns ``(h', h')``, each ``[B, H]``."""
        state = self._check_call(inputs, states)
        h = tf.tanh(tf.matmul(inputs, self.kernel) + tf.matmul(state, self.recurrent_kernel) + self.bias)
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

    def call(self, inputs, states, training=None):
        """Args: inputs ``[B, D]``; state ``[B, H]``. Returns ``(h', h')``, each ``[B, H]``."""
        state = self._check_call(inputs, states)
        x = tf.matmul(inputs, self.kernel) + self.bias[0]  # (B, 3H)
        rec = tf.matmul(state, self.recurrent_kernel) + self.bias[1]  # (B, 3H)
        x_z, x_r, x_h = tf.split(x, 3, axis=-1)
        r_z, r_r, r_h = tf.split(rec, 3, axis=-1)
        z = tf.sigmoid(x_z + r_z)
        r = tf.sigmoid(x_r + r_r)
        h_tilde = tf.tanh(x_h + r * r_h)
        h = z * state + (1.0 - z) * h_tilde  # (B, H)
        return h, h


class _UnitForgetBias(keras.initializers.Initializer):
    def __init__(self, units):
        self.units = units

    def __call__(self, shape, dtype=None):
        H = self.units
        return tf.concat([tf.zeros([H], dtype), tf.ones([H], dtype), tf.zeros([2 * H], dtype)], axis=0)

    def get_config(self):
        return {"units": self.units}


class LSTMCell(RNNCell):
    """LSTM cell (gates i, f, c, o as Keras). State: a list ``[h, c]``, each ``[B, H]``.

    The forget-gate bias starts at 1 (Keras ``unit_forget_bias=True``).
    """

    gates = 4

    def _bias_initializer(self):
        return _UnitForgetBias(self.units)

    @property
    def state_size(self):
        return [self.units, self.units]

    def call(self, inputs, states, training=None):
        """Args: inputs ``[B, D]``; state ``[h, c]``. Returns ``(h', [h', c'])``."""
        state = self._check_call(inputs, states)
        h, c = state
        z = tf.matmul(inputs, self.kernel) + tf.matmul(h, self.recurrent_kernel) + self.bias  # (B, 4H)
        i, f, g, o = tf.split(z, 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        h = tf.sigmoid(o) * tf.tanh(c)  # (B, H)
        return h, [h, c]


BasicRNNCell = SimpleRNNCell


class MultiRNNCell(keras.layers.Layer):
    """Cells stacked in depth: the output of cell k is the input of cell k+1.

    State: a tuple with one state per cell. Output: the last cell's output.
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError("`cells` must hold at least one cell, got an empty list")
        self.cells = cells

    def build(self, input_shape):
        self.built = True

    @property
    def state_size(self):
        return tuple(cell.state_size for cell in self.cells)

    @property
    def output_size(self) -> int:
        return self.cells[-1].output_size

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """A tuple of each cell's zero state."""
        return tuple(
            cell.get_initial_state(inputs=inputs, batch_size=batch_size, dtype=dtype) for cell in self.cells
        )

    def call(self, inputs, states, training=None):
        """Args: inputs ``[B, D]``; states a tuple of cell states. Returns ``(output, new_states)``."""
        nest.assert_same_structure(self.state_size, tuple(states), "state")
        new_states = []
        for cell, cell_state in zip(self.cells, states):
            inputs, cell_state = cell(inputs, cell_state)
            new_states.append(cell_state)
        return inputs, tuple(new_states)


class _Wrapper(keras.layers.Layer):
    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell

    def build(self, input_shape):
        self.built = True

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self) -> int:
        return self.cell.output_size

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        return self.cell.get_initial_state(inputs=inputs, batch_size=batch_size, dtype=dtype)


class OutputProjectionWrapper(_Wrapper):
    """Projects the wrapped cell's output to ``output_size`` with a dense layer (``projection``)."""

    def __init__(self, cell, output_size: int, **kwargs):
        super().__init__(cell, **kwargs)
        if not isinstance(output_size, int) or output_size <= 0:
            raise ValueError(f"`output_size` must be a positive int, got {output_size!r}")
        self.projection = keras.layers.Dense(output_size, name="projection")
        self._output_size = output_size

    @property
    def output_size(self) -> int:
        return self._output_size

    def call(self, inputs, states, training=None):
        """Returns ``(projection(cell_output) [B, output_size], cell_state)``."""
        output, state = self.cell(inputs, states)
        return self.projection(output), state


class ResidualWrapper(_Wrapper):
    """Adds the cell's input to its output: ``output = inputs + cell(inputs)``.

    ``residual_fn(inputs, outputs)`` replaces the addition when given.
    """

    def __init__(self, cell, residual_fn=None, **kwargs):
        super().__init__(cell, **kwargs)
        self.residual_fn = residual_fn

    def call(self, inputs, states, training=None):
        """Returns ``(inputs + cell_output, cell_state)``; depths must match."""
        output, state = self.cell(inputs, states)
        if self.residual_fn is not None:
            return self.residual_fn(inputs, output), state
        if inputs.shape[-1] is not None and output.shape[-1] is not None and inputs.shape[-1] != output.shape[-1]:
            raise ValueError(
                f"ResidualWrapper needs `inputs` of the cell's output depth {output.shape[-1]}, "
                f"got {describe(inputs)}"
            )
        return inputs + output, state
