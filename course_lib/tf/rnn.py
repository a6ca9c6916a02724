"""``dynamic_rnn``: run a cell over a padded batch of sequences."""

from __future__ import annotations

import tensorflow as tf

from course_lib.common import nest
from course_lib.common.checks import check_rank, check_sequence_length, check_state, describe
from course_lib.tf import _fused
from course_lib.tf.decoder import _graph_loop, _zero_state
from course_lib.tf.errors import _check_length_values


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, time_major=False):
    """Unroll ``cell`` over ``inputs``, one step per time position.

    Args:
      cell: an RNN cell (see ``course_lib.tf.cells``).
      inputs: ``[B, T, D]`` float (``[T, B, D]`` if ``time_major``).
      sequence_length: optional int ``[B]``, each ``<= T``. Past a row's length its outputs are
        zero and its state stays as it was at the length (a length of 0 keeps the initial state).
      initial_state: a state shaped like ``cell.state_size`` with batch ``B``; the cell's zero
        state if None (for any cell: a Keras 3 cell takes no ``dtype`` and uses its compute dtype).
      time_major: whether ``inputs`` and the returned outputs are time-major.

    Returns:
      ``(outputs [B, T, cell.output_size], final_state)``. Stock cells (and ``MultiRNNCell``s of
      them) precompute every step's input projection in one matrix product (``_fused``); other
      cells run ``_step_loop``, a plain Python loop that AutoGraph turns into one graph loop
      under ``tf.function``.
    """
    inputs = tf.convert_to_tensor(inputs)
    check_rank(inputs, 3, "inputs", "[time, batch, depth]" if time_major else "[batch, time, depth]")
    if not inputs.dtype.is_floating:
        raise TypeError(f"`inputs` must be floating point, got {describe(inputs)}")
    x = inputs if time_major else tf.transpose(inputs, [1, 0, 2])  # (T, B, D)
    T_static, B_static = x.shape[0], x.shape[1]
    B = B_static if B_static is not None else tf.shape(x)[1]
    if sequence_length is not None:
        sequence_length = tf.convert_to_tensor(sequence_length)
        check_sequence_length(sequence_length, B_static, T_static)
        sequence_length = tf.cast(_check_length_values(sequence_length, T_static, tf.shape(x)[0]), tf.int32)
    if initial_state is None:
        initial_state = _zero_state(cell, B, inputs.dtype)  # any cell (Keras 3 cells take no dtype)
    else:
        initial_state = nest.like_state_size(cell.state_size, initial_state)
        check_state(cell.state_size, initial_state, B_static, "initial_state")

    _fused.build_stock(cell, x.shape[-1])
    if _fused.supports(cell):
        outputs, state = _fused.unroll(cell, x, sequence_length, initial_state)
    else:
        loop = _step_loop if tf.executing_eagerly() else _graph_loop(_step_loop)
        outputs, state = loop(cell, x, sequence_length, initial_state)
    if not time_major:
        outputs = tf.transpose(outputs, [1, 0, 2])
    return outputs, state


def _step_loop(cell, x, sequence_length, state):
    """The plain loop, one cell call per step (AutoGraph makes it a graph loop under ``tf.function``).

    ``x [T, B, D]`` time-major; returns ``(outputs [T, B, H], final_state)``.
    """
    T = tf.shape(x)[0]
    outputs_ta = tf.TensorArray(x.dtype, size=T)
    for t in tf.range(T):
        output, new_state = cell(x[t], state)  # (B, H)
        if sequence_length is not None:
            valid = (t < sequence_length)[:, None]  # (B, 1): rows still inside their length
            output = tf.where(valid, output, tf.zeros_like(output))
            new_state = tf.nest.map_structure(lambda new, old: tf.where(valid, new, old), new_state, state)
        outputs_ta = outputs_ta.write(t, output)
        state = nest.like_state_size(state, new_state)
    if x.shape[0] == 0:
        return tf.zeros([0, tf.shape(x)[1], cell.output_size], x.dtype), state
    return outputs_ta.stack(), state  # (T, B, H)
