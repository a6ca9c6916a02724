"""Samplers (TF1: Helpers): what a decoder feeds itself at the next step.

The interface (``initialize``, ``sample``, ``next_inputs``, ``batch_size``) is documented once,
in ``course_lib.common.interfaces``. This module has teacher forcing (``TrainingSampler``), the
inference samplers and the samplers built from functions; scheduled sampling is in
``course_lib.torch.scheduled_sampler``. The TF1 Helper names are aliases at the end.

Ids are int64 (PyTorch's index type); the TensorFlow backend uses int32, as tfa does. Random
samplers draw with a ``torch.Generator`` seeded by ``seed``, so a seeded decode repeats exactly.
``categorical_sample`` and ``bernoulli_sample`` are tfa's module functions, for
``InferenceSampler``'s ``sample_fn``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.common.args import check_callable, check_embedding_given, check_start_and_end, check_temperature
from course_lib.common.checks import (
    check_ids_in_vocabulary, check_integer, check_length_values, check_rank, check_scalar, check_sequence_length,
    describe,
)

from course_lib.common.interfaces import SamplerInterface
from course_lib.torch.errors import _check_sequence_is_right_padded, _host_check
from course_lib.torch.utils import device_of as _device_of


class Sampler(SamplerInterface):
    """Interface of a sampler (``course_lib.common.interfaces``): ``initialize``, ``sample``,
    ``next_inputs``, ``batch_size``; sample ids are int64 scalars per row unless a sampler says otherwise."""

    @property
    def sample_ids_shape(self):
        return torch.Size([])

    @property
    def sample_ids_dtype(self):
        return torch.int64


def _embedding_fn(embedding, embedding_fn, name="embedding", owner=None):
    """The function ids -> vectors: ``embedding_fn`` if given, else a lookup in ``embedding``."""
    if embedding_fn is not None:
        check_callable(embedding_fn, "embedding_fn")
        return embedding_fn
    check_embedding_given(embedding, owner)
    if isinstance(embedding, nn.Embedding):
        return embedding
    if isinstance(embedding, torch.Tensor):
        check_rank(embedding, 2, name, "[vocab_size, embedding_dim]")
        return lambda ids: F.embedding(ids, embedding)
    if callable(embedding):
        return embedding
    raise TypeError(
        f"`{name}` must be a 2-D tensor [vocab_size, embedding_dim], an nn.Embedding or a callable, "
        f"got {describe(embedding)}"
    )


def _vocab_size(embedding, embedding_fn):
    """The number of rows of a lookup table, or None when an ``embedding_fn`` does the lookup."""
    if embedding_fn is not None:
        return None
    if isinstance(embedding, nn.Embedding):
        return embedding.num_embeddings
    if isinstance(embedding, torch.Tensor) and embedding.dim() == 2:
        return embedding.shape[0]
    return None


def _categorical(logits, generator):
    probs = torch.softmax(logits.float(), dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def _generator(seed, device):
    if seed is None:
        return None
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


def _sample_shape(sample_shape):
    """``sample_shape`` (an int, a list or ``()``) as a tuple."""
    return (int(sample_shape),) if isinstance(sample_shape, int) else tuple(int(n) for n in sample_shape)


def categorical_sample(logits, dtype=torch.int64, sample_shape=(), seed=None):
    """Draws from the categorical distributions ``softmax(logits)`` (tfa's module function).

    Args:
      logits: ``[..., V]`` float.
      dtype: the dtype of the ids.
      sample_shape: independent draws in front; ``()`` draws one id per distribution.
      seed: seeds a ``torch.Generator`` for these draws.

    Returns:
      ``[*sample_shape, ...]`` ids in ``[0, V)``.
    """
    logits = torch.as_tensor(logits)
    check_rank(logits, tuple(range(1, 9)), "logits", "[..., num_classes]")
    shape = _sample_shape(sample_shape)
    n = math.prod(shape)  # draws per distribution
    probs = torch.softmax(logits.float().reshape(-1, logits.shape[-1]), dim=-1)  # (N, V): one distribution per row
    draws = torch.multinomial(probs, max(n, 1), replacement=True, generator=_generator(seed, logits.device))[:, :n]
    return draws.t().reshape(shape + tuple(logits.shape[:-1])).to(dtype)  # (*sample_shape, ...)


def bernoulli_sample(probs=None, logits=None, dtype=torch.int64, sample_shape=(), seed=None):
    """Draws 0/1 from Bernoulli distributions, one per element (tfa's module function).

    Args:
      probs: ``[...]`` float, the probability of a 1; or None, and then ``logits``.
      logits: ``[...]`` float, ``probs = sigmoid(logits)`` (multi-label outputs).
      dtype: the dtype of the draws.
      sample_shape: independent draws in front; ``()`` draws one per element.
      seed: seeds a ``torch.Generator`` for these draws.

    Returns:
      ``[*sample_shape, ...]`` 0/1 draws.
    """
    if (probs is None) == (logits is None):
        raise ValueError(f"give exactly one of `probs` and `logits`, got probs={describe(probs)} and "
                         f"logits={describe(logits)}")
    probs = torch.sigmoid(torch.as_tensor(logits)) if probs is None else torch.as_tensor(probs)
    if not probs.is_floating_point():
        probs = probs.float()
    shape = _sample_shape(sample_shape) + tuple(probs.shape)  # (*sample_shape, ...)
    uniform = torch.rand(shape, generator=_generator(seed, probs.device), device=probs.device, dtype=probs.dtype)
    return (uniform < probs).to(dtype)


class TrainingSampler(Sampler):
    """Teacher forcing: step ``t+1`` reads the ground-truth ``inputs[:, t+1]``.

    ``initialize(inputs [B, T, D], sequence_length=None [B], mask=None [B, T])``; a row is
    finished once ``t + 1 >= sequence_length``. ``sample`` is the argmax of the outputs. A
    ``mask`` (a tensor or a nested list; any dtype, nonzero meaning a step) must be right padded;
    with ``time_major`` it is ``[T, B]``, as in tfa.
    """

    def __init__(self, time_major: bool = False):
        self.time_major = time_major
        self.inputs = None  # time-major [T, B, D] after initialize
        self.sequence_length = None
        self._batch_size = None

    def initialize(self, inputs, sequence_length=None, mask=None):
        """Args: inputs ``[B, T, D]`` (``[T, B, D]`` if time-major); sequence_length ``[B]``
        or mask ``[B, T]``. Returns ``(finished [B], inputs at t = 0 [B, D])``."""
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"`inputs` must be a tensor, got {describe(inputs)}")
        check_rank(inputs, (3, 4, 5), "inputs",
                   "[batch, time, depth]" if not self.time_major else "[time, batch, depth]")
        if sequence_length is not None and mask is not None:
            raise ValueError("give `sequence_length` or `mask`, not both")
        self.inputs = inputs if self.time_major else inputs.transpose(0, 1)  # (T, B, D)
        T, B = self.inputs.shape[0], self.inputs.shape[1]
        self._batch_size = B
        if mask is not None:
            mask = torch.as_tensor(mask, device=inputs.device).bool()
            check_rank(mask, 2, "mask",
                       f"[time, batch] = [{T}, {B}]" if self.time_major else f"[batch, time] = [{B}, {T}]")
            _check_sequence_is_right_padded(mask, self.time_major)
            sequence_length = mask.to(torch.int64).sum(dim=0 if self.time_major else 1)
        if sequence_length is None:
            sequence_length = torch.full((B,), T, dtype=torch.int64, device=inputs.device)
        else:
            if not isinstance(sequence_length, torch.Tensor):
                sequence_length = torch.as_tensor(sequence_length, device=inputs.device)
            check_sequence_length(sequence_length, B, T)
            _check_length_values(sequence_length, T)
            sequence_length = sequence_length.to(device=inputs.device, dtype=torch.int64)
        self.sequence_length = sequence_length
        finished = sequence_length <= 0
        if T == 0 or bool(finished.all()):
            return finished, torch.zeros_like(self.inputs[0] if T else self.inputs.new_zeros(self.inputs.shape[1:]))
        return finished, self.inputs[0]

    def sample(self, time, outputs, state):
        return outputs.argmax(dim=-1)

    def _next(self, time):
        next_time = time + 1
        finished = next_time >= self.sequence_length
        if bool(finished.all()):
            return finished, torch.zeros_like(self.inputs[0])
        return finished, self.inputs[next_time]

    def next_inputs(self, time, outputs, state, sample_ids):
        finished, next_inputs = self._next(time)
        return finished, next_inputs, state


class GreedyEmbeddingSampler(Sampler):
    """Inference: feed back the embedding of the argmax token; a row finishes on ``end_token``.

    ``initialize(embedding [V, E], start_tokens [B], end_token scalar)``.
    """

    def __init__(self, embedding_fn=None):
        self.embedding_fn = embedding_fn
        self._batch_size = None

    def initialize(self, embedding, start_tokens=None, end_token=None):
        """Returns ``(finished [B] all False, embedding of start_tokens [B, E])``."""
        self._embed = _embedding_fn(embedding, self.embedding_fn, owner=type(self).__name__)
        check_start_and_end(start_tokens, end_token)
        start_tokens = torch.as_tensor(start_tokens)
        check_integer(start_tokens, "start_tokens")
        check_rank(start_tokens, 1, "start_tokens", "[batch_size]")
        end_token = torch.as_tensor(end_token)
        check_integer(end_token, "end_token")
        check_scalar(end_token, "end_token")
        device = _device_of(embedding, start_tokens)
        self.start_tokens = start_tokens.to(device=device, dtype=torch.int64)
        self.end_token = end_token.to(device=device, dtype=torch.int64)
        self._batch_size = self.start_tokens.shape[0]
        _check_start_tokens(self.start_tokens, _vocab_size(embedding, self.embedding_fn))
        self.start_inputs = self._embed(self.start_tokens)
        finished = torch.zeros(self._batch_size, dtype=torch.bool, device=device)
        return finished, self.start_inputs

    def sample(self, time, outputs, state):
        if not isinstance(outputs, torch.Tensor):
            raise TypeError(f"Expected `outputs` to be a single tensor, got {describe(outputs)}")
        return outputs.argmax(dim=-1)

    def next_inputs(self, time, outputs, state, sample_ids):
        finished = sample_ids == self.end_token
        if bool(finished.all()):
            return finished, self.start_inputs, state
        return finished, self._embed(sample_ids), state


class SampleEmbeddingSampler(GreedyEmbeddingSampler):
    """Inference by sampling: the next token is drawn from ``softmax(outputs / temperature)``.

    ``softmax_temperature`` > 1 flattens the distribution, < 1 sharpens it (None means 1).
    ``seed`` makes the draws repeat from one ``initialize`` to the next.
    """

    def __init__(self, embedding_fn=None, softmax_temperature=None, seed=None):
        super().__init__(embedding_fn)
        check_temperature(softmax_temperature)
        self.softmax_temperature = softmax_temperature
        self.seed = seed

    def initialize(self, embedding, start_tokens=None, end_token=None):
        out = super().initialize(embedding, start_tokens=start_tokens, end_token=end_token)
        self._gen = _generator(self.seed, self.start_tokens.device)
        return out

    def sample(self, time, outputs, state):
        if not isinstance(outputs, torch.Tensor):
            raise TypeError(f"Expected `outputs` to be a single tensor, got {describe(outputs)}")
        logits = outputs if self.softmax_temperature is None else outputs / self.softmax_temperature
        return _categorical(logits, self._gen)


class InferenceSampler(Sampler):
    """Inference on anything (continuous frames too), built from three functions:
    ``sample_fn(outputs) -> sample_ids``, ``end_fn(sample_ids) -> finished [B]`` and
    ``next_inputs_fn(sample_ids) -> next_inputs`` (identity when None).

    ``initialize(start_inputs [B, ...])``.
    """

    def __init__(self, sample_fn, sample_shape, sample_dtype, end_fn, next_inputs_fn=None):
        check_callable(sample_fn, "sample_fn")
        check_callable(end_fn, "end_fn")
        self.sample_fn = sample_fn
        self._sample_shape = torch.Size(sample_shape)
        self._sample_dtype = sample_dtype
        self.end_fn = end_fn
        self.next_inputs_fn = next_inputs_fn
        self._batch_size = None

    @property
    def sample_ids_shape(self):
        return self._sample_shape

    @property
    def sample_ids_dtype(self):
        return self._sample_dtype

    def initialize(self, start_inputs):
        """Returns ``(finished [B] all False, start_inputs)``."""
        if not isinstance(start_inputs, torch.Tensor) or start_inputs.dim() < 1:
            raise ValueError(f"`start_inputs` must be a tensor [batch, ...], got {describe(start_inputs)}")
        self.start_inputs = start_inputs
        self._batch_size = start_inputs.shape[0]
        return torch.zeros(self._batch_size, dtype=torch.bool, device=start_inputs.device), start_inputs

    def sample(self, time, outputs, state):
        return self.sample_fn(outputs)

    def next_inputs(self, time, outputs, state, sample_ids):
        """Always ``next_inputs_fn(sample_ids)`` (or the ids), even once every row has finished (as tfa)."""
        finished = self.end_fn(sample_ids)
        next_inputs = sample_ids if self.next_inputs_fn is None else self.next_inputs_fn(sample_ids)
        return finished, next_inputs, state


class CustomSampler(Sampler):
    """A sampler from three functions: ``initialize_fn(inputs, **kw) -> (finished, first_inputs)``,
    ``sample_fn(time, outputs, state) -> sample_ids`` and
    ``next_inputs_fn(time, outputs, state, sample_ids) -> (finished, next_inputs, next_state)``.
    """

    def __init__(self, initialize_fn, sample_fn, next_inputs_fn, sample_ids_shape=None, sample_ids_dtype=None):
        for name, fn in (("initialize_fn", initialize_fn), ("sample_fn", sample_fn),
                         ("next_inputs_fn", next_inputs_fn)):
            check_callable(fn, name)
        self.initialize_fn = initialize_fn
        self.sample_fn = sample_fn
        self.next_inputs_fn = next_inputs_fn
        self._sample_ids_shape = torch.Size(sample_ids_shape or [])
        self._sample_ids_dtype = sample_ids_dtype or torch.int64
        self._batch_size = None

    @property
    def sample_ids_shape(self):
        return self._sample_ids_shape

    @property
    def sample_ids_dtype(self):
        return self._sample_ids_dtype

    def initialize(self, inputs, **kwargs):
        finished, next_inputs = self.initialize_fn(inputs, **kwargs)
        self._batch_size = finished.shape[0]
        return finished, next_inputs

    def sample(self, time, outputs, state):
        return self.sample_fn(time=time, outputs=outputs, state=state)

    def next_inputs(self, time, outputs, state, sample_ids):
        return self.next_inputs_fn(time=time, outputs=outputs, state=state, sample_ids=sample_ids)


# TF1 names (tf.contrib.seq2seq): a Helper is a Sampler.
TrainingHelper = TrainingSampler
GreedyEmbeddingHelper = GreedyEmbeddingSampler
SampleEmbeddingHelper = SampleEmbeddingSampler
InferenceHelper = InferenceSampler
CustomHelper = CustomSampler


@_host_check
def _check_length_values(sequence_length, T):
    check_length_values(sequence_length.detach().cpu().numpy(), T)


@_host_check
def _check_start_tokens(start_tokens, vocab_size):
    check_ids_in_vocabulary(start_tokens.cpu().numpy(), vocab_size, "start_tokens")
