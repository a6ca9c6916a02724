"""``dynamic_rnn``: run a cell over a padded batch of sequences."""

from __future__ import annotations

import torch

from course_lib.common import nest
from course_lib.common.checks import (
    check_length_values, check_rank, check_sequence_length, check_state, describe,
)
from course_lib.torch import _fused
from course_lib.torch.decoder import _zero_state
from course_lib.torch.tensor_array import TensorArray


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, time_major=False):
    """Unroll ``cell`` over ``inputs``, one step per time position.

    Args:
      cell: an RNN cell (see ``course_lib.torch.cells``).
      inputs: ``[B, T, D]`` float (``[T, B, D]`` if ``time_major``).
      sequence_length: optional int ``[B]``, each ``<= T``. Past a row's length its outputs are
        zero and its state stays as it was at the length (a length of 0 keeps the initial state).
      initial_state: a state shaped like ``cell.state_size`` with batch ``B``; the cell's zero
        state if None (for any cell).
      time_major: whether ``inputs`` and the returned outputs are time-major.

    Returns:
      ``(outputs [B, T, cell.output_size], final_state)``. Stock cells (and ``MultiRNNCell``s
      of them) run PyTorch's fused kernel; other cells run the step loop.
    """
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"`inputs` must be a tensor, got {describe(inputs)}")
    check_rank(inputs, 3, "inputs", "[time, batch, depth]" if time_major else "[batch, time, depth]")
    if not inputs.is_floating_point():
        raise TypeError(f"`inputs` must be floating point, got {describe(inputs)}")
    x = inputs.transpose(0, 1) if time_major else inputs  # (B, T, D)
    B, T = x.shape[0], x.shape[1]
    if sequence_length is not None:
        sequence_length = torch.as_tensor(sequence_length, device=inputs.device)
        check_sequence_length(sequence_length, B, T)
        check_length_values(sequence_length.detach().cpu().numpy(), T)
        sequence_length = sequence_length.to(torch.int64)
    if initial_state is None:
        initial_state = _zero_state(cell, B, inputs.dtype, inputs.device)  # any cell
    else:
        initial_state = nest.like_state_size(cell.state_size, initial_state)
        check_state(cell.state_size, initial_state, B, "initial_state")

    _fused.build_stock(cell, x.shape[-1], x.device)
    if _fused.supports(cell) and T > 0:
        outputs, state = _fused.unroll(cell, x, sequence_length, initial_state, cell.training)
    else:
        outputs, state = _step_loop(cell, x, sequence_length, initial_state)
    if time_major:
        outputs = outputs.transpose(0, 1)
    return outputs, state


def _step_loop(cell, x, sequence_length, state):
    """The plain loop, one cell call per step.

    ``x [B, T, D]`` batch-major; returns ``(outputs [B, T, H], final_state)``.
    """
    B, T = x.shape[0], x.shape[1]
    outputs_ta = TensorArray()
    for t in range(T):
        output, new_state = cell(x[:, t], state)  # (B, H)
        if sequence_length is not None:
            valid = (t < sequence_length)[:, None]  # (B, 1): rows still inside their length
            output = torch.where(valid, output, torch.zeros_like(output))
            new_state = nest.map_structure(lambda new, old: torch.where(valid, new, old), new_state, state)
        outputs_ta = outputs_ta.write(t, output)
        state = nest.like_state_size(state, new_state)
    if T == 0:
        return x.new_zeros(B, 0, cell.output_size), state
    return outputs_ta.stack().transpose(0, 1), state  # (B, T, H)
