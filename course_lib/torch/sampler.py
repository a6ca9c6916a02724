"""Samplers (TF1: Helpers): what a decoder feeds itself at the next step.

A sampler answers three questions for ``BasicDecoder``:

* ``initialize(...) -> (finished [B], first_inputs)``: where does decoding start?
* ``sample(time, outputs, state) -> sample_ids``: which token did the step emit?
* ``next_inputs(time, outputs, state, sample_ids) -> (finished, next_inputs, next_state)``:
  what goes in next (ground truth under teacher forcing, the sample's embedding at inference),
  and which rows are done?

Ids are int64 (PyTorch's index type); the TensorFlow backend uses int32, as tfa does.
"""

from __future__ import annotations

import abc

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.common.checks import (
    check_ids_in_vocabulary, check_integer, check_length_values, check_rank, check_scalar, check_sequence_length, describe,
)


class Sampler(abc.ABC):
    """Interface of a sampler; see the module docstring."""

    @abc.abstractmethod
    def initialize(self, inputs, **kwargs):
        """Returns ``(finished [B] bool, first_inputs [B, ...])``."""

    @abc.abstractmethod
    def sample(self, time, outputs, state):
        """Returns ``sample_ids [B, *sample_ids_shape]``."""

    @abc.abstractmethod
    def next_inputs(self, time, outputs, state, sample_ids):
        """Returns ``(finished [B], next_inputs [B, ...], next_state)``."""

    @property
    @abc.abstractmethod
    def batch_size(self):
        """The batch size, known after ``initialize``."""

    @property
    def sample_ids_shape(self):
        return torch.Size([])

    @property
    def sample_ids_dtype(self):
        return torch.int64


def _check_initialized(sampler, value):
    if value is None:
        raise RuntimeError(f"{type(sampler).__name__}.initialize(...) must be called first")
    return value


def _embedding_fn(embedding, embedding_fn, name="embedding"):
    """The function ids -> vectors: ``embedding_fn`` if given, else a lookup in ``embedding``."""
    if embedding_fn is not None:
        if not callable(embedding_fn):
            raise TypeError(f"`embedding_fn` must be callable, got {describe(embedding_fn)}")
        return embedding_fn
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


class TrainingSampler(Sampler):
    """Teacher forcing: step ``t+1`` reads the ground-truth ``inputs[:, t+1]``.

    ``initialize(inputs [B, T, D], sequence_length=None [B], mask=None [B, T])``; a row is
    finished once ``t + 1 >= sequence_length``. ``sample`` is the argmax of the outputs.
    """

    def __init__(self, time_major: bool = False):
        self.time_major = time_major
        self.inputs = None  # time-major [T, B, D] after initialize
        self.sequence_length = None
        self._batch_size = None

    @property
    def batch_size(self):
        return _check_initialized(self, self._batch_size)

    def initialize(self, inputs, sequence_length=None, mask=None):
        """Args: inputs ``[B, T, D]`` (``[T, B, D]`` if time-major); sequence_length ``[B]``
        or mask ``[B, T]``. Returns ``(finished [B], inputs at t = 0 [B, D])``."""
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"`inputs` must be a tensor, got {describe(inputs)}")
        check_rank(inputs, (3, 4, 5), "inputs", "[batch, time, depth]" if not self.time_major else "[time, batch, depth]")
        if sequence_length is not None and mask is not None:
            raise ValueError("give `sequence_length` or `mask`, not both")
        self.inputs = inputs if self.time_major else inputs.transpose(0, 1)  # (T, B, D)
        T, B = self.inputs.shape[0], self.inputs.shape[1]
        self._batch_size = B
        if mask is not None:
            check_rank(mask, 2, "mask", f"[batch, time] = [{B}, {T}]")
            sequence_length = mask.to(torch.int64).sum(dim=1)
        if sequence_length is None:
            sequence_length = torch.full((B,), T, dtype=torch.int64, device=inputs.device)
        else:
            if not isinstance(sequence_length, torch.Tensor):
                sequence_length = torch.as_tensor(sequence_length, device=inputs.device)
            check_sequence_length(sequence_length, B, T)
            check_length_values(sequence_length.detach().cpu().numpy(), T)
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


class ScheduledEmbeddingTrainingSampler(TrainingSampler):
    """Scheduled sampling over ids (Bengio et al. 2015): each row, with probability
    ``sampling_probability``, feeds the embedding of a token sampled from the outputs
    instead of the ground truth. ``sample_ids`` is -1 where the ground truth is fed.
    """

    def __init__(self, sampling_probability, embedding_fn=None, time_major=False, seed=None, scheduling_seed=None):
        super().__init__(time_major=time_major)
        self.sampling_probability = _check_probability(sampling_probability)
        self.embedding_fn = embedding_fn
        self.seed = seed
        self.scheduling_seed = scheduling_seed

    def initialize(self, inputs, sequence_length=None, mask=None, embedding=None):
        """Like ``TrainingSampler.initialize``; ``embedding [V, E]`` embeds sampled ids."""
        self._embed = _embedding_fn(embedding, self.embedding_fn)
        out = super().initialize(inputs, sequence_length=sequence_length, mask=mask)
        self._gen = _generator(self.seed, inputs.device)
        self._sched_gen = _generator(self.scheduling_seed, inputs.device)
        _check_probability_batch(self.sampling_probability, self.batch_size)
        return out

    def sample(self, time, outputs, state):
        p = torch.as_tensor(self.sampling_probability, dtype=torch.float32, device=outputs.device)
        p = p.expand(outputs.shape[0])
        select = torch.bernoulli(p, generator=self._sched_gen).bool()
        sampled = _categorical(outputs, self._gen)
        return torch.where(select, sampled, torch.full_like(sampled, -1))

    def next_inputs(self, time, outputs, state, sample_ids):
        finished, base_next = self._next(time)
        if bool(finished.all()):
            return finished, base_next, state
        sampled = sample_ids > -1
        embedded = self._embed(torch.clamp(sample_ids, min=0)).to(base_next.dtype)
        return finished, torch.where(sampled[:, None], embedded, base_next), state


class ScheduledOutputTrainingSampler(TrainingSampler):
    """Scheduled sampling over continuous outputs: with probability ``sampling_probability``
    a row feeds its own output (through ``next_inputs_fn`` if given) instead of the ground truth.
    ``sample_ids`` is a bool per row: True where the output is fed back.
    """

    def __init__(self, sampling_probability, time_major=False, seed=None, next_inputs_fn=None):
        super().__init__(time_major=time_major)
        self.sampling_probability = _check_probability(sampling_probability)
        self.seed = seed
        self.next_inputs_fn = next_inputs_fn

    @property
    def sample_ids_dtype(self):
        return torch.bool

    def initialize(self, inputs, sequence_length=None, mask=None, auxiliary_inputs=None):
        """Like ``TrainingSampler.initialize``; ``auxiliary_inputs [B, T, A]`` are concatenated
        to every next input, fed back or not."""
        if auxiliary_inputs is None:
            maybe_concat = inputs
            self.auxiliary_inputs = None
        else:
            maybe_concat = torch.cat([inputs, auxiliary_inputs], dim=-1)
            self.auxiliary_inputs = auxiliary_inputs if self.time_major else auxiliary_inputs.transpose(0, 1)
        out = super().initialize(maybe_concat, sequence_length=sequence_length, mask=mask)
        self._gen = _generator(self.seed, inputs.device)
        _check_probability_batch(self.sampling_probability, self.batch_size)
        return out

    def sample(self, time, outputs, state):
        p = torch.as_tensor(self.sampling_probability, dtype=torch.float32, device=outputs.device)
        return torch.bernoulli(p.expand(outputs.shape[0]), generator=self._gen).bool()

    def next_inputs(self, time, outputs, state, sample_ids):
        finished, base_next = self._next(time)
        if bool(finished.all()):
            return finished, base_next, state
        sampled = outputs if self.next_inputs_fn is None else self.next_inputs_fn(outputs)
        if self.auxiliary_inputs is not None:
            sampled = torch.cat([sampled, self.auxiliary_inputs[time + 1]], dim=-1)
        return finished, torch.where(sample_ids[:, None], sampled.to(base_next.dtype), base_next), state


class GreedyEmbeddingSampler(Sampler):
    """Inference: feed back the embedding of the argmax token; a row finishes on ``end_token``.

    ``initialize(embedding [V, E], start_tokens [B], end_token scalar)``.
    """

    def __init__(self, embedding_fn=None):
        self.embedding_fn = embedding_fn
        self._batch_size = None

    @property
    def batch_size(self):
        return _check_initialized(self, self._batch_size)

    def initialize(self, embedding, start_tokens=None, end_token=None):
        """Returns ``(finished [B] all False, embedding of start_tokens [B, E])``."""
        self._embed = _embedding_fn(embedding, self.embedding_fn)
        if start_tokens is None or end_token is None:
            raise ValueError("`start_tokens` [batch] and `end_token` (a scalar) are required, got None")
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
        check_ids_in_vocabulary(self.start_tokens.cpu().numpy(), _vocab_size(embedding, self.embedding_fn),
                                "start_tokens")
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
        if softmax_temperature is not None and not float(softmax_temperature) > 0:
            raise ValueError(f"`softmax_temperature` must be > 0, got {softmax_temperature!r}")
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
        for name, fn in (("sample_fn", sample_fn), ("end_fn", end_fn)):
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable, got {describe(fn)}")
        self.sample_fn = sample_fn
        self._sample_shape = torch.Size(sample_shape)
        self._sample_dtype = sample_dtype
        self.end_fn = end_fn
        self.next_inputs_fn = next_inputs_fn
        self._batch_size = None

    @property
    def batch_size(self):
        return _check_initialized(self, self._batch_size)

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
        finished = self.end_fn(sample_ids)
        if bool(finished.all()):
            return finished, self.start_inputs, state
        next_inputs = sample_ids if self.next_inputs_fn is None else self.next_inputs_fn(sample_ids)
        return finished, next_inputs, state


class CustomSampler(Sampler):
    """A sampler from three functions: ``initialize_fn(inputs, **kw) -> (finished, first_inputs)``,
    ``sample_fn(time, outputs, state) -> sample_ids`` and
    ``next_inputs_fn(time, outputs, state, sample_ids) -> (finished, next_inputs, next_state)``.
    """

    def __init__(self, initialize_fn, sample_fn, next_inputs_fn, sample_ids_shape=None, sample_ids_dtype=None):
        for name, fn in (("initialize_fn", initialize_fn), ("sample_fn", sample_fn), ("next_inputs_fn", next_inputs_fn)):
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable, got {describe(fn)}")
        self.initialize_fn = initialize_fn
        self.sample_fn = sample_fn
        self.next_inputs_fn = next_inputs_fn
        self._sample_ids_shape = torch.Size(sample_ids_shape or [])
        self._sample_ids_dtype = sample_ids_dtype or torch.int64
        self._batch_size = None

    @property
    def batch_size(self):
        return _check_initialized(self, self._batch_size)

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


def _device_of(*values):
    for v in values:
        if isinstance(v, torch.Tensor):
            return v.device
        if isinstance(v, nn.Module):
            for p in v.parameters():
                return p.device
    return torch.device("cpu")


def _check_probability(p):
    t = torch.as_tensor(p, dtype=torch.float32)
    if t.dim() > 1:
        raise ValueError(f"`sampling_probability` must be a scalar or a vector [batch], got {describe(t)}")
    if t.numel() and (float(t.min()) < 0 or float(t.max()) > 1):
        raise ValueError(f"`sampling_probability` must lie in [0, 1], got {t.reshape(-1).tolist()}")
    return p


def _check_probability_batch(p, batch_size):
    t = torch.as_tensor(p)
    if t.dim() == 1 and t.shape[0] != batch_size:
        raise ValueError(
            f"`sampling_probability` must be a scalar or a vector [batch_size = {batch_size}], got {describe(t)}"
        )


# TF1 names (tf.contrib.seq2seq): a Helper is a Sampler.
TrainingHelper = TrainingSampler
GreedyEmbeddingHelper = GreedyEmbeddingSampler
SampleEmbeddingHelper = SampleEmbeddingSampler
ScheduledEmbeddingTrainingHelper = ScheduledEmbeddingTrainingSampler
ScheduledOutputTrainingHelper = ScheduledOutputTrainingSampler
InferenceHelper = InferenceSampler
CustomHelper = CustomSampler
