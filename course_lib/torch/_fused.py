"""The fast path: stock cells unrolled by PyTorch's fused RNN kernels (the ones ``nn.LSTM``,
``nn.GRU`` and ``nn.RNN`` use), with the cells' own Keras-layout weights.

``dynamic_rnn`` and ``BasicDecoder`` choose it before they would run their step loop; the loops
a learner reads (``dynamic_decode``, ``rnn._step_loop``) have no fast path inside.

The step loop and this path give the same numbers (tested); this one is ~5x faster on a CPU
because the whole sequence runs in C++ (cuDNN on a GPU). Only the exact stock classes take it:
a subclass may change the step, so it takes the loop.
"""

from __future__ import annotations

import warnings

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from course_lib.torch.cells import GRUCell, LSTMCell, MultiRNNCell, SimpleRNNCell
from course_lib.torch.sampler import TrainingSampler

_STOCK = (LSTMCell, GRUCell, SimpleRNNCell)


def supports(cell) -> bool:
    """True when ``cell`` is a stock cell, or a ``MultiRNNCell`` of them, already built."""
    cells = list(cell.cells) if type(cell) is MultiRNNCell else [cell]
    return all(type(c) in _STOCK and c.built for c in cells)


def build_stock(cell, input_size: int, device=None) -> None:
    """Build unbuilt stock cells for ``input_size`` on ``device`` (as their first call would)."""
    cells = list(cell.cells) if type(cell) is MultiRNNCell else [cell]
    for c in cells:
        if type(c) not in _STOCK:
            return
        if c.built and c.input_size != int(input_size):
            raise ValueError(
                f"`inputs` of {c.name} must have depth {c.input_size} (set by its first call), "
                f"got depth {int(input_size)}"
            )
        if not c.built:
            if device is not None:  # as the first call would: on the device of the inputs
                c._factory["device"] = device
            c.build(input_size)
        input_size = c.units


def _flat_weights(cell):
    """Keras layout -> PyTorch layout ``[w_ih, w_hh, b_ih, b_hh]`` (views and cheap concats)."""
    if type(cell) is GRUCell:
        def reorder(w):  # Keras gates z, r, h -> PyTorch r, z, n
            z, r, h = w.chunk(3, dim=-1)
            return torch.cat([r, z, h], dim=-1)
        return [reorder(cell.kernel).t(), reorder(cell.recurrent_kernel).t(),
                reorder(cell.bias[0]), reorder(cell.bias[1])]
    return [cell.kernel.t(), cell.recurrent_kernel.t(), cell.bias, torch.zeros_like(cell.bias)]


def _run(cell, x, hx, training, batch_sizes=None):
    weights = _flat_weights(cell)
    args = (weights, True, 1, 0.0, training, False)
    packed = batch_sizes is not None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not part of single contiguous chunk.*")
        if type(cell) is LSTMCell:
            if packed:
                out, h, c = torch._VF.lstm(x, batch_sizes, (hx[0][None], hx[1][None]), *args)
            else:
                out, h, c = torch._VF.lstm(x, (hx[0][None], hx[1][None]), *args, True)
            return out, [h[0], c[0]]
        fn = torch._VF.gru if type(cell) is GRUCell else torch._VF.rnn_tanh
        out, h = fn(x, batch_sizes, hx[None], *args) if packed else fn(x, hx[None], *args, True)
        return out, h[0]


def _permute_state(state, index):
    if isinstance(state, list):
        return [s.index_select(0, index) for s in state]
    return state.index_select(0, index)


def unroll(cell, inputs, sequence_length, initial_state, training=False):
    """Run ``cell`` over ``inputs [B, T, D]`` (batch-major) with the fused kernels.

    Returns ``(outputs [B, T, H], final_state)`` with ``dynamic_rnn``'s semantics: outputs
    are zero past each row's length and the state is frozen there (length 0: the initial state).
    ``sequence_length`` None means every row runs all T steps.
    """
    cells = list(cell.cells) if type(cell) is MultiRNNCell else [cell]
    states = list(initial_state) if type(cell) is MultiRNNCell else [initial_state]
    T = inputs.shape[1]
    ragged = sequence_length is not None and bool((sequence_length != T).any())
    if not ragged:
        x, finals = inputs, []
        for c, s in zip(cells, states):
            x, s = _run(c, x, s, training)
            finals.append(s)
    else:
        lengths = sequence_length.clamp(min=1).cpu()  # packing needs >= 1; length-0 rows fixed below
        packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
        data, finals = packed.data, []
        for c, s in zip(cells, states):
            data, s = _run(c, data, _permute_state(s, packed.sorted_indices), training, packed.batch_sizes)
            finals.append(_permute_state(s, packed.unsorted_indices))
        x, _ = pad_packed_sequence(packed._replace(data=data), batch_first=True, total_length=T)
        empty = sequence_length == 0
        if bool(empty.any()):
            x = x.masked_fill(empty[:, None, None], 0.0)
            finals = [_select_state(empty, s0, s) for s0, s in zip(states, finals)]
    final_state = tuple(finals) if type(cell) is MultiRNNCell else finals[0]
    return x, final_state


def _select_state(mask, if_true, if_false):
    if isinstance(if_true, list):
        return [torch.where(mask[:, None], a, b) for a, b in zip(if_true, if_false)]
    return torch.where(mask[:, None], if_true, if_false)


def takes_teacher_forcing(decoder, inputs) -> bool:
    """True when ``decoder`` (a ``BasicDecoder``) teacher-forces a stock cell: an exact
    ``TrainingSampler``, and a stock cell built (or buildable) for the depth of ``inputs``."""
    if type(decoder.sampler) is not TrainingSampler or not isinstance(inputs, torch.Tensor) or inputs.dim() < 3:
        return False
    build_stock(decoder.cell, inputs.shape[-1], inputs.device)
    return supports(decoder.cell)


def teacher_forced(decoder, initial_state, impute_finished, maximum_iterations):
    """The whole teacher-forced decode of an initialized ``BasicDecoder`` in one fused call.

    Returns ``((rnn_output [T, B, V], sample_id [T, B]), final_state, lengths [B])``, time-major,
    what ``dynamic_decode``'s loop gives for it; None when there is no step to run (the loop
    handles that case).
    """
    inputs = decoder.sampler.inputs.transpose(0, 1)  # (B, T, D)
    lengths = decoder.sampler.sequence_length
    steps = int(lengths.max()) if lengths.numel() else 0
    if maximum_iterations is not None:
        steps = min(steps, int(maximum_iterations))
        lengths = lengths.clamp(max=max(steps, 0))
    if steps <= 0:
        return None
    outputs, state = unroll(decoder.cell, inputs[:, :steps], lengths if impute_finished else None,
                            initial_state, decoder.training)
    if decoder.output_layer is not None:
        outputs = decoder.output_layer(outputs)  # (B, T, V)
    sample_ids = outputs.argmax(dim=-1)  # (B, T)
    if impute_finished:
        valid = torch.arange(steps, device=outputs.device)[None, :] < lengths[:, None]  # (B, T)
        outputs = torch.where(valid[..., None], outputs, torch.zeros_like(outputs))
        sample_ids = torch.where(valid, sample_ids, torch.zeros_like(sample_ids))
    return (outputs.transpose(0, 1), sample_ids.transpose(0, 1)), state, lengths
