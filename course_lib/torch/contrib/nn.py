"""``contrib.nn``: TF1's ``tf.nn.dynamic_rnn`` and ``bidirectional_dynamic_rnn`` (PyTorch).

Both run the modern ``dynamic_rnn`` (``course_lib.torch.rnn``) after TF1's argument handling: without
``initial_state`` a ``dtype`` is required and the state is ``cell.zero_state(batch_size, dtype)``.
"""

from __future__ import annotations

import torch

from course_lib.common.checks import check_rank, describe
from course_lib.common.contrib.state import tf1_initial_state
from course_lib.torch import rnn


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None, parallel_iterations=None,
                swap_memory=False, time_major=False, scope=None):
    """TF1's ``tf.nn.dynamic_rnn``: unroll ``cell`` over ``inputs``.

    Args:
      cell: a cell (``contrib.rnn``'s, or a modern one).
      inputs: ``[B, T, D]`` float (``[T, B, D]`` if ``time_major``).
      sequence_length: optional int ``[B]``: past a row's length its outputs are zeros and its
        state stays the one at its last step.
      initial_state: the cell's state (``LSTMStateTuple(c, h)`` for TF1 LSTM cells); if None,
        ``cell.zero_state(B, dtype)``.
      dtype: the state's dtype, required when ``initial_state`` is None.
      parallel_iterations, swap_memory, scope: TF1's graph options; unused.
      time_major: whether ``inputs`` and the outputs are time-major.

    Returns:
      ``(outputs [B, T, cell.output_size], state)``.
    """
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"`inputs` must be a tensor, got {describe(inputs)}")
    check_rank(inputs, 3, "inputs", "[time, batch, depth]" if time_major else "[batch, time, depth]")
    B = inputs.shape[1 if time_major else 0]
    initial_state = tf1_initial_state(cell, initial_state, dtype, B, device=inputs.device)
    return rnn.dynamic_rnn(cell, inputs, sequence_length=sequence_length, initial_state=initial_state,
                           time_major=time_major)


def _reverse(x, sequence_length, time_major):
    """Each row's first ``sequence_length`` steps reversed (all steps without lengths)."""
    time_axis = 0 if time_major else 1
    if sequence_length is None:
        return x.flip(time_axis)
    lengths = torch.as_tensor(sequence_length, device=x.device).long()[:, None]  # (B, 1)
    t = torch.arange(x.shape[time_axis], device=x.device)[None, :]  # (1, T)
    index = torch.where(t < lengths, lengths - 1 - t, t)  # (B, T): where each position reads from
    if time_major:
        index = index.t()  # (T, B)
    index = index.reshape(tuple(index.shape) + (1,) * (x.dim() - 2)).expand_as(x)
    return torch.gather(x, time_axis, index)


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None, initial_state_fw=None,
                              initial_state_bw=None, dtype=None, parallel_iterations=None, swap_memory=False,
                              time_major=False, scope=None):
    """TF1's ``tf.nn.bidirectional_dynamic_rnn``: ``cell_fw`` forwards, ``cell_bw`` over each row reversed.

    Args: as ``dynamic_rnn``, with a cell and an initial state per direction.

    Returns:
      ``((outputs_fw, outputs_bw), (state_fw, state_bw))``; ``outputs_bw`` is re-reversed, so that
      step t of both reads the same input position (concatenate them on the last axis).
    """
    outputs_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length, initial_state_fw, dtype,
                                       time_major=time_major)
    reversed_inputs = _reverse(inputs, sequence_length, time_major)
    outputs_bw, state_bw = dynamic_rnn(cell_bw, reversed_inputs, sequence_length, initial_state_bw, dtype,
                                       time_major=time_major)
    return (outputs_fw, _reverse(outputs_bw, sequence_length, time_major)), (state_fw, state_bw)


__all__ = ["dynamic_rnn", "bidirectional_dynamic_rnn"]
