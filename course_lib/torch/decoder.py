"""Decoders and the decode loop.

A decoder is three parts (tfa's split): the **cell** computes, the **sampler** picks the
token and says what goes in next, the optional **output layer** turns the cell output into
logits. ``dynamic_decode`` runs ``decoder.step`` until every row has finished::

    finished, inputs, state = decoder.initialize(...)
    while not all(finished):
        outputs, state, inputs, finished = decoder.step(time, inputs, state)

Outputs are stacked over time; ``final_sequence_lengths`` counts each row's steps up to and
including the one on which it finished.
"""

from __future__ import annotations

import collections
import warnings

import torch
from torch import nn

from course_lib.common import nest
from course_lib.common.checks import check_state, describe
from course_lib.torch import _fused
from course_lib.torch.sampler import Sampler, TrainingSampler

#: ``dynamic_decode`` without ``maximum_iterations`` stops after this many steps and warns,
#: so that an inference decode whose rows never emit the end token cannot hang.
MAXIMUM_ITERATIONS_CAP = 500


class TensorArray:
    """An append-only list of same-shaped tensors: PyTorch's twin of ``tf.TensorArray``.

    Histories that grow by one entry per decode step (attention alignments) are kept in one,
    so that ``dynamic_decode(impute_finished=True)`` passes them through untouched.
    ``write`` returns a new array (the old one is unchanged), as in TensorFlow.
    """

    def __init__(self, items=()):
        self._items = tuple(items)

    def write(self, index: int, value: torch.Tensor) -> "TensorArray":
        if int(index) != len(self._items):
            raise ValueError(f"`index` must be the next free position {len(self._items)}, got {index}")
        return TensorArray(self._items + (value,))

    def read(self, index: int) -> torch.Tensor:
        return self._items[index]

    def size(self) -> int:
        return len(self._items)

    def stack(self) -> torch.Tensor:
        """All entries stacked on a new leading (time) axis: ``[T, ...]``."""
        if not self._items:
            raise ValueError("cannot stack an empty TensorArray")
        return torch.stack(self._items, dim=0)

    def __repr__(self) -> str:
        return f"TensorArray(size={len(self._items)})"


class BasicDecoderOutput(collections.namedtuple("BasicDecoderOutput", ("rnn_output", "sample_id"))):
    """One step's (or, stacked, all steps') output: ``rnn_output [B, (T,) V]``, ``sample_id [B, (T)]``."""


class Decoder(nn.Module):
    """Interface of a decoder, and calling it runs ``dynamic_decode``.

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

    @property
    def batch_size(self):
        raise NotImplementedError

    @property
    def output_size(self):
        """A structure of shapes (without batch) like one step's outputs."""
        raise NotImplementedError

    @property
    def output_dtype(self):
        raise NotImplementedError

    @property
    def tracks_own_finished(self) -> bool:
        """True when ``step``'s finished flags are final (beam search); False lets
        ``dynamic_decode`` OR them with the previous ones."""
        return False

    def initialize(self, inputs, initial_state=None, **kwargs):
        """Returns ``(finished [B], initial_inputs, initial_state)``."""
        raise NotImplementedError

    def step(self, time, inputs, state, training=None):
        """Returns ``(outputs, next_state, next_inputs, finished)``."""
        raise NotImplementedError

    def finalize(self, outputs, final_state, sequence_lengths):
        """Post-process the stacked (time-major) outputs; the default returns them as they are."""
        return outputs, final_state

    def forward(self, inputs, initial_state=None, training=None, **kwargs):
        """``decoder(inputs, initial_state=..., **kwargs)`` = ``dynamic_decode`` on this decoder.

        Returns ``(final_outputs, final_state, final_sequence_lengths)``.
        """
        init_kwargs = dict(kwargs, initial_state=initial_state)
        return dynamic_decode(
            self,
            output_time_major=self.output_time_major,
            impute_finished=self.impute_finished,
            maximum_iterations=self.maximum_iterations,
            training=training,
            decoder_init_input=inputs,
            decoder_init_kwargs=init_kwargs,
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
    inference; returns ``(BasicDecoderOutput, final_state, final_sequence_lengths)``.
    """

    def __init__(self, cell, sampler, output_layer=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(cell) or not hasattr(cell, "state_size"):
            raise TypeError(f"`cell` must be an RNN cell (callable with `state_size`), got {describe(cell)}")
        if not isinstance(sampler, Sampler):
            raise TypeError(f"`sampler` must be a Sampler, got {describe(sampler)}")
        if output_layer is not None and not callable(output_layer):
            raise TypeError(f"`output_layer` must be callable or None, got {describe(output_layer)}")
        self.cell = cell
        self.sampler = sampler
        self.output_layer = output_layer

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
        return BasicDecoderOutput(
            rnn_output=torch.Size([self._rnn_output_size()]),
            sample_id=torch.Size(self.sampler.sample_ids_shape),
        )

    @property
    def output_dtype(self):
        return BasicDecoderOutput(rnn_output=self._float_dtype, sample_id=self.sampler.sample_ids_dtype)

    def initialize(self, inputs, initial_state=None, **kwargs):
        """Initialize the sampler with ``inputs`` and ``kwargs``; check ``initial_state``.

        Returns ``(finished [B], first_inputs [B, D], initial_state)``.
        """
        finished, first_inputs = self.sampler.initialize(inputs, **kwargs)
        B = self.sampler.batch_size
        self._float_dtype = first_inputs.dtype if first_inputs.is_floating_point() else torch.float32
        if initial_state is None:
            initial_state = self.cell.get_initial_state(
                batch_size=B, dtype=self._float_dtype, device=first_inputs.device
            )
        else:
            initial_state = nest.like_state_size(self.cell.state_size, initial_state)
            check_state(self.cell.state_size, initial_state, B, "initial_state")
        return finished, first_inputs, initial_state

    def step(self, time, inputs, state, training=None):
        """One step: the cell computes, the output layer projects, the sampler picks.

        Args: time (int); inputs ``[B, D]``; state (the cell's). Returns
        ``(BasicDecoderOutput(rnn_output [B, V], sample_id [B]), next_state, next_inputs, finished [B])``.
        """
        cell_outputs, cell_state = self.cell(inputs, state)  # (B, H)
        if self.output_layer is not None:
            cell_outputs = self.output_layer(cell_outputs)  # (B, V)
        sample_ids = self.sampler.sample(time=time, outputs=cell_outputs, state=cell_state)
        finished, next_inputs, next_state = self.sampler.next_inputs(
            time=time, outputs=cell_outputs, state=cell_state, sample_ids=sample_ids
        )
        return BasicDecoderOutput(cell_outputs, sample_ids), next_state, next_inputs, finished

    def _unrolled_decode(self, initial_state, impute_finished, maximum_iterations):
        """Teacher forcing with a stock cell: the whole sequence in one fused kernel call.

        Gives what the step loop gives (tested); returns None when it does not apply.
        """
        if type(self.sampler) is not TrainingSampler:
            return None
        inputs = self.sampler.inputs.transpose(0, 1)  # (B, T, D)
        _fused.build_stock(self.cell, inputs.shape[-1], inputs.device)
        if not _fused.supports(self.cell):
            return None
        lengths = self.sampler.sequence_length
        steps = int(lengths.max()) if lengths.numel() else 0
        if maximum_iterations is not None:
            steps = min(steps, int(maximum_iterations))
            lengths = lengths.clamp(max=max(steps, 0))
        if steps <= 0:
            return None  # nothing to run: the loop handles the empty case
        inputs = inputs[:, :steps]
        run_lengths = lengths if impute_finished else None
        outputs, state = _fused.unroll(self.cell, inputs, run_lengths, initial_state, self.training)
        if self.output_layer is not None:
            outputs = self.output_layer(outputs)  # (B, T, V)
        sample_ids = outputs.argmax(dim=-1)  # (B, T)
        if impute_finished:
            valid = torch.arange(steps, device=outputs.device)[None, :] < lengths[:, None]  # (B, T)
            outputs = torch.where(valid[..., None], outputs, torch.zeros_like(outputs))
            sample_ids = torch.where(valid, sample_ids, torch.zeros_like(sample_ids))
        return BasicDecoderOutput(outputs, sample_ids), state, lengths


def _check_maximum_iterations(maximum_iterations):
    if maximum_iterations is None:
        return None
    value = maximum_iterations
    if isinstance(value, torch.Tensor):
        if value.dim() != 0:
            raise ValueError(f"`maximum_iterations` must be a scalar, got {describe(value)}")
        value = value.item()
    if isinstance(value, bool) or not float(value).is_integer():
        raise TypeError(f"`maximum_iterations` must be an integer, got {maximum_iterations!r}")
    if value < 0:
        raise ValueError(f"`maximum_iterations` must be >= 0, got {value}")
    return int(value)


def _expand_like(mask, x):
    return mask.reshape(tuple(mask.shape) + (1,) * (x.dim() - mask.dim()))


def dynamic_decode(decoder, output_time_major=False, impute_finished=False, maximum_iterations=None,
                   parallel_iterations=32, swap_memory=False, training=None, scope=None, **kwargs):
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
      **kwargs: ``decoder_init_input`` and ``decoder_init_kwargs`` for ``decoder.initialize``,
        or keyword arguments for it.

    Returns:
      ``(final_outputs, final_state, final_sequence_lengths [B])``.
    """
    if not isinstance(decoder, Decoder):
        raise TypeError(f"`decoder` must be a Decoder, got {describe(decoder)}")
    maximum_iterations = _check_maximum_iterations(maximum_iterations)
    if "decoder_init_input" in kwargs or "decoder_init_kwargs" in kwargs:
        init_input = kwargs.pop("decoder_init_input", None)
        init_kwargs = kwargs.pop("decoder_init_kwargs", None) or {}
        finished, inputs, state = decoder.initialize(init_input, **init_kwargs)
    else:
        finished, inputs, state = decoder.initialize(**kwargs)

    fast = getattr(decoder, "_unrolled_decode", None)
    result = fast(state, impute_finished, maximum_iterations) if fast is not None else None
    if result is not None:
        outputs, state, lengths = result
        outputs, state = decoder.finalize(_time_major(outputs), state, lengths)
        return _batch_major(outputs, output_time_major), state, lengths

    if maximum_iterations is not None:
        finished = finished | (maximum_iterations <= 0)
    lengths = torch.zeros(finished.shape, dtype=torch.int64, device=finished.device)
    steps = []
    time = 0
    while not bool(finished.all()):
        if maximum_iterations is None and time >= MAXIMUM_ITERATIONS_CAP:
            warnings.warn(
                f"dynamic_decode stopped after MAXIMUM_ITERATIONS_CAP = {MAXIMUM_ITERATIONS_CAP} steps with "
                f"{int((~finished).sum())} rows unfinished; pass `maximum_iterations` to choose the limit",
                RuntimeWarning, stacklevel=2,
            )
            break
        outputs, next_state, next_inputs, step_finished = decoder.step(time, inputs, state, training)
        next_finished = step_finished if decoder.tracks_own_finished else (step_finished | finished)
        lengths = torch.where(~finished, torch.full_like(lengths, time + 1), lengths)
        if decoder.tracks_own_finished and getattr(next_state, "lengths", None) is not None:
            lengths = next_state.lengths.to(torch.int64)  # beams move between slots: the decoder counts
        if maximum_iterations is not None:
            next_finished = next_finished | (time + 1 >= maximum_iterations)
        if impute_finished:
            # a row that had finished before this step emits zeros and keeps its state
            outputs = nest.map_structure(
                lambda out: torch.where(_expand_like(finished, out), torch.zeros_like(out), out), outputs
            )
            next_state = nest.map_structure(
                lambda new, cur: _impute_state(finished, new, cur), next_state, state
            )
        steps.append(outputs)
        state, inputs, finished = next_state, next_inputs, next_finished
        time += 1

    if steps:
        final_outputs = nest.map_structure(lambda *xs: torch.stack(xs, dim=0), *steps)  # (T, B, ...)
    else:
        final_outputs = _empty_outputs(decoder, finished)
    final_outputs, state = decoder.finalize(final_outputs, state, lengths)
    return _batch_major(final_outputs, output_time_major), state, lengths


def _impute_state(finished, new, cur):
    if isinstance(new, TensorArray) or not isinstance(new, torch.Tensor) or new.dim() == 0:
        return new
    return torch.where(_expand_like(finished, new), cur, new)


def _empty_outputs(decoder, finished):
    def empty(shape, dtype):
        return torch.zeros((0, decoder.batch_size) + tuple(shape), dtype=dtype, device=finished.device)
    try:
        sizes, dtypes = decoder.output_size, decoder.output_dtype
    except (AttributeError, NotImplementedError):
        return None
    if isinstance(sizes, tuple) and hasattr(sizes, "_fields"):  # a named tuple of shapes
        return type(sizes)(*[empty(s, d) for s, d in zip(sizes, dtypes)])
    return empty(sizes, dtypes)


def _time_major(outputs):
    return nest.map_structure(lambda x: x.transpose(0, 1) if x.dim() >= 2 else x, outputs)


def _batch_major(outputs, output_time_major):
    if output_time_major or outputs is None:
        return outputs
    return nest.map_structure(lambda x: x.transpose(0, 1) if x.dim() >= 2 else x, outputs)
