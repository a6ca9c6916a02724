"""Decoders and the decode loop.

A decoder is three parts (tfa's split): the **cell** computes, the **sampler** picks the
token and says what goes in next, the optional **output layer** turns the cell output into
logits. ``dynamic_decode`` runs ``decoder.step`` until every row has finished::

    finished, inputs, state = decoder.initialize(...)
    while not all(finished):
        outputs, state, inputs, finished = decoder.step(time, inputs, state)

That is the loop below, in plain Python, the same as the TensorFlow backend's. Outputs are
collected in ``TensorArray``s and stacked over time; ``final_sequence_lengths`` counts each
row's steps up to and including the one on which it finished. The interface's concepts are
documented once, in ``course_lib.common.interfaces``.
"""

from __future__ import annotations

import collections
import warnings

import torch
from torch import nn

from course_lib.common import nest
from course_lib.common.args import (
    MAXIMUM_ITERATIONS_CAP, accepted_kwargs, capped_message, check_callable, check_cell, check_maximum_iterations,
    check_sampler,
)
from course_lib.common.checks import check_state, describe
from course_lib.common.interfaces import DecoderInterface
from course_lib.torch import _fused
from course_lib.torch.sampler import Sampler
from course_lib.torch.tensor_array import TensorArray


class BasicDecoderOutput(collections.namedtuple("BasicDecoderOutput", ("rnn_output", "sample_id"))):
    """One step's (or, stacked, all steps') output: ``rnn_output [B, (T,) V]``, ``sample_id [B, (T)]``."""


class Decoder(DecoderInterface, nn.Module):
    """Interface of a decoder (``course_lib.common.interfaces``), and calling it runs ``dynamic_decode``.

    A subclass defines ``batch_size``, ``output_size``, ``output_dtype``, ``initialize`` and
    ``step``, optionally ``finalize`` and ``tracks_own_finished``. Keyword arguments of the
    constructor (``output_time_major``, ``impute_finished``, ``maximum_iterations``) are
    ``dynamic_decode``'s, as in tfa.
    """

    def __init__(self, output_time_major=False, impute_finished=False, maximum_iterations=None,
                 parallel_iterations=32, swap_memory=False, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"unexpected keyword arguments for {type(self).__name__}: {sorted(kwargs)}")
        self.output_time_major = output_time_major
        self.impute_finished = impute_finished
        self.maximum_iterations = maximum_iterations
        self.parallel_iterations = parallel_iterations
        self.swap_memory = swap_memory

    def forward(self, inputs, initial_state=None, training=None, **kwargs):
        """``decoder(inputs, initial_state=..., **kwargs)`` = ``dynamic_decode`` on this decoder.

        Returns ``(final_outputs, final_state, final_sequence_lengths)``.
        """
        return dynamic_decode(
            self, output_time_major=self.output_time_major, impute_finished=self.impute_finished,
            maximum_iterations=self.maximum_iterations, training=training,
            decoder_init_input=inputs, decoder_init_kwargs=dict(kwargs, initial_state=initial_state),
        )


BaseDecoder = Decoder


class BasicDecoder(Decoder):
    """Cell + sampler + optional output layer.

    Args:
      cell: an RNN cell.
      sampler: a ``Sampler`` (``TrainingSampler`` for teacher forcing, ``GreedyEmbeddingSampler``
        at inference, ...).
      output_layer: optional module applied to the cell output (e.g. ``nn.Linear(H, vocab)``).
      **kwargs: ``dynamic_decode`` options (``maximum_iterations``, ``impute_finished``, ...).

    Calling it: ``decoder(inputs, initial_state=..., sequence_length=...)`` under teacher
    forcing, ``decoder(embedding, start_tokens=..., end_token=..., initial_state=...)`` at
    inference; returns ``(BasicDecoderOutput, final_state, final_sequence_lengths)``. Teacher
    forcing with a stock cell takes a fused path instead of the step loop (the same numbers):
    ``cl.dynamic_decode(decoder, ...)`` always runs the loop. ``output_dtype.rnn_output`` is the
    dtype of the initial state's first float leaf (tfa's rule); without ``initial_state`` the
    cell's zero state is used, for any cell.
    """

    def __init__(self, cell, sampler, output_layer=None, **kwargs):
        super().__init__(**kwargs)
        check_cell(cell)
        check_sampler(sampler, Sampler)
        check_callable(output_layer, "output_layer", allow_none=True)
        self.cell = cell
        self.sampler = sampler
        self.output_layer = output_layer
        self._float_dtype = torch.float32

    @property
    def batch_size(self):
        return self.sampler.batch_size

    def _rnn_output_size(self):
        if self.output_layer is None:
            return self.cell.output_size
        for attr in ("out_features", "units", "output_size"):
            if hasattr(self.output_layer, attr):
                return getattr(self.output_layer, attr)
        raise ValueError("cannot tell the output layer's size; give it `out_features`")

    @property
    def output_size(self):
        return BasicDecoderOutput(rnn_output=torch.Size([self._rnn_output_size()]),
                                  sample_id=torch.Size(self.sampler.sample_ids_shape))

    @property
    def output_dtype(self):
        return BasicDecoderOutput(rnn_output=self._float_dtype, sample_id=self.sampler.sample_ids_dtype)

    def initialize(self, inputs, initial_state=None, **kwargs):
        """Initialize the sampler with ``inputs`` and ``kwargs``; check ``initial_state``.

        Returns ``(finished [B], first_inputs [B, D], initial_state)``.
        """
        finished, first_inputs = self.sampler.initialize(inputs, **kwargs)
        B = self.sampler.batch_size
        inputs_dtype = first_inputs.dtype if first_inputs.is_floating_point() else torch.float32
        if initial_state is None:
            initial_state = _zero_state(self.cell, B, inputs_dtype, first_inputs.device)
        else:
            initial_state = nest.like_state_size(self.cell.state_size, initial_state)
            check_state(self.cell.state_size, initial_state, B, "initial_state")
        self._float_dtype = _first_float_dtype(initial_state, inputs_dtype)
        return finished, first_inputs, initial_state

    def step(self, time, inputs, state, training=None):
        """One step: the cell computes, the output layer projects, the sampler picks.

        Args: time (int); inputs ``[B, D]``; state (the cell's). Returns
        ``(BasicDecoderOutput(rnn_output [B, V], sample_id [B]), next_state, next_inputs, finished [B])``.
        """
        cell_outputs, cell_state = self.cell(inputs, state)  # (B, H)
        cell_state = nest.like_state_size(state, cell_state)  # the loop's structure
        if self.output_layer is not None:
            cell_outputs = self.output_layer(cell_outputs)  # (B, V)
        sample_ids = self.sampler.sample(time=time, outputs=cell_outputs, state=cell_state)
        finished, next_inputs, next_state = self.sampler.next_inputs(
            time=time, outputs=cell_outputs, state=cell_state, sample_ids=sample_ids)
        return BasicDecoderOutput(cell_outputs, sample_ids), next_state, next_inputs, finished

    def forward(self, inputs, initial_state=None, training=None, **kwargs):
        """Teacher forcing with a stock cell runs fused (``_fused.teacher_forced``); anything else
        runs ``dynamic_decode``'s step loop. Returns ``(final_outputs, final_state, final_sequence_lengths)``."""
        if _fused.takes_teacher_forcing(self, inputs):
            finished, _, state = self.initialize(inputs, initial_state=initial_state, **kwargs)
            limit = check_maximum_iterations(_python_scalar(self.maximum_iterations))
            result = _fused.teacher_forced(self, state, self.impute_finished, limit)
            if result is not None:
                outputs, state, lengths = result
                outputs, state = self.finalize(BasicDecoderOutput(*outputs), state, lengths)
                return _batch_major(outputs, self.output_time_major), state, lengths
        return super().forward(inputs, initial_state=initial_state, training=training, **kwargs)


def _zero_state(cell, batch_size, dtype, device):
    """The zero state of any cell for ``batch_size`` rows: its ``get_initial_state`` with the
    arguments it takes, else zeros ``[batch_size, size]`` for every size of ``cell.state_size``."""
    if not hasattr(cell, "get_initial_state"):
        return nest.map_structure(lambda size: torch.zeros(batch_size, size, dtype=dtype, device=device),
                                  cell.state_size)
    return cell.get_initial_state(**accepted_kwargs(cell.get_initial_state, batch_size=batch_size, dtype=dtype,
                                                    device=device))


def _first_float_dtype(state, default):
    """The dtype of the first floating tensor of ``state`` (``default`` if it has none)."""
    for leaf in nest.flatten(state):
        if isinstance(leaf, torch.Tensor) and leaf.is_floating_point():
            return leaf.dtype
    return default


def _python_scalar(value):
    """A 0-D tensor as a Python number (checked: a scalar); anything else as it is."""
    if isinstance(value, torch.Tensor):
        if value.dim() != 0:
            raise ValueError(f"`maximum_iterations` must be a scalar, got {describe(value)}")
        return value.item()
    return value


def _expand_like(mask, x):
    """``mask [B]`` reshaped to broadcast against ``x [B, ...]``."""
    return mask.reshape(tuple(mask.shape) + (1,) * (x.dim() - mask.dim()))


def _keep_finished(finished, new, old):
    """Rows that had finished keep ``old``; a history (``TensorArray``) or a scalar passes through."""
    if isinstance(new, TensorArray) or not isinstance(new, torch.Tensor) or new.dim() == 0:
        return new
    return torch.where(_expand_like(finished, new), old, new)


def _zero_finished(finished, out):
    """Rows that had finished emit zeros."""
    return torch.where(_expand_like(finished, out), torch.zeros_like(out), out)


def _batch_major(outputs, output_time_major=False):
    """``[T, B, ...]`` leaves -> ``[B, T, ...]`` (unless ``output_time_major``)."""
    if output_time_major or outputs is None:
        return outputs
    return nest.map_structure(lambda x: x.transpose(0, 1) if x.dim() >= 2 else x, outputs)


def _output_arrays(decoder):
    """One empty, growing ``TensorArray`` per output leaf (dtypes are leaves; a ``torch.Size`` is a tuple)."""
    return nest.map_structure(lambda dtype: TensorArray(), decoder.output_dtype)


def _stack(decoder, outputs_ta, device):
    """The stacked outputs ``[T, B, ...]``; zero steps give ``[0, B, *output_size]`` zeros."""
    arrays = nest.flatten(outputs_ta)
    if all(ta.size() for ta in arrays):
        return nest.map_structure(lambda ta: ta.stack(), outputs_ta)
    sizes, dtypes = decoder.output_size, nest.flatten(decoder.output_dtype)
    sizes = list(sizes) if len(dtypes) > 1 else [sizes]  # one torch.Size per output leaf
    empty = [torch.zeros((0, decoder.batch_size) + tuple(size), dtype=dtype, device=device)
             for size, dtype in zip(sizes, dtypes)]
    return nest.pack_sequence_as(decoder.output_dtype, empty)


def dynamic_decode(decoder, output_time_major=False, impute_finished=False, maximum_iterations=None,
                   parallel_iterations=32, swap_memory=False, training=None, scope=None,
                   enable_tflite_convertible=False, **kwargs):
    """Run ``decoder`` step by step until every row has finished.

    Args:
      decoder: a ``Decoder``.
      output_time_major: return ``[T, B, ...]`` outputs instead of ``[B, T, ...]``.
      impute_finished: once a row has finished, its outputs are zero and its state is frozen
        (``TensorArray`` leaves pass through).
      maximum_iterations: stop after this many steps. Without it the loop stops after
        ``MAXIMUM_ITERATIONS_CAP`` steps and warns, so an inference decode cannot hang.
      training: passed to ``decoder.step``.
      parallel_iterations, swap_memory, scope: accepted for tfa compatibility; unused.
      enable_tflite_convertible: accepted for tfa compatibility; unused (TFLite is TensorFlow's:
        there, it requires a batch size of 1).
      **kwargs: ``decoder_init_input`` and ``decoder_init_kwargs`` for ``decoder.initialize``,
        or keyword arguments for it.

    Returns:
      ``(final_outputs, final_state, final_sequence_lengths [B])``.
    """
    if not isinstance(decoder, Decoder):
        raise TypeError(f"`decoder` must be a Decoder, got {describe(decoder)}")
    limit = check_maximum_iterations(_python_scalar(maximum_iterations))
    if "decoder_init_input" in kwargs or "decoder_init_kwargs" in kwargs:
        init_input = kwargs.pop("decoder_init_input", None)
        init_kwargs = kwargs.pop("decoder_init_kwargs", None) or {}
        finished, inputs, state = decoder.initialize(init_input, **init_kwargs)
    else:
        finished, inputs, state = decoder.initialize(**kwargs)

    cap = limit if limit is not None else MAXIMUM_ITERATIONS_CAP
    lengths = torch.zeros(finished.shape, dtype=torch.int64, device=finished.device)
    outputs_ta = _output_arrays(decoder)
    time = 0
    while not bool(finished.all()) and time < cap:
        outputs, next_state, next_inputs, step_finished = decoder.step(time, inputs, state, training)
        next_finished = step_finished if decoder.tracks_own_finished else step_finished | finished
        next_lengths = torch.where(finished, lengths, time + 1)  # (B,): steps up to the finishing one
        if decoder.tracks_own_finished and hasattr(next_state, "lengths"):  # beams move between slots
            next_lengths = next_state.lengths.to(torch.int64)  # only the decoder knows each one's length
        if impute_finished:  # a row that had finished before this step emits zeros and keeps its state
            outputs = nest.map_structure(lambda out: _zero_finished(finished, out), outputs)
            next_state = nest.map_structure(lambda new, old: _keep_finished(finished, new, old), next_state, state)
        outputs_ta = nest.map_structure(lambda ta, out: ta.write(time, out), outputs_ta, outputs)
        state, inputs, finished, lengths = next_state, next_inputs, next_finished, next_lengths
        time = time + 1

    if limit is None and not bool(finished.all()):
        warnings.warn(capped_message(int((~finished).sum())), RuntimeWarning, stacklevel=2)
    final_outputs = _stack(decoder, outputs_ta, finished.device)  # (T, B, ...)
    final_outputs, state = decoder.finalize(final_outputs, state, lengths)
    return _batch_major(final_outputs, output_time_major), state, lengths
