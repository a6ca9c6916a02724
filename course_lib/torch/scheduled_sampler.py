"""Scheduled sampling (Bengio et al., 2015): teacher forcing that sometimes feeds the model's own output.

Both samplers are ``TrainingSampler``s: a row, with probability ``sampling_probability``, feeds
what the model produced at the previous step instead of the ground truth. ``seed`` gives each
decode its own ``torch.Generator``, so a seeded decode repeats exactly.
"""

from __future__ import annotations

import torch

from course_lib.common.args import check_probability_batch, check_probability_values
from course_lib.common.checks import check_rank
from course_lib.torch.sampler import TrainingSampler, _categorical, _embedding_fn, _generator


def _checked_probability(p):
    """``sampling_probability`` as given, after checking it (at construction, as tfa): a scalar or
    a vector ``[batch]``, with values in ``[0, 1]``."""
    tensor = torch.as_tensor(p, dtype=torch.float32)
    check_rank(tensor, (0, 1), "sampling_probability", "(a scalar or a vector [batch_size])")
    check_probability_values(tensor.detach().cpu().numpy())
    return p


class ScheduledEmbeddingTrainingSampler(TrainingSampler):
    """Scheduled sampling over ids (Bengio et al. 2015): each row, with probability
    ``sampling_probability``, feeds the embedding of a token sampled from the outputs
    instead of the ground truth. ``sample_ids`` is -1 where the ground truth is fed.
    """

    def __init__(self, sampling_probability, embedding_fn=None, time_major=False, seed=None, scheduling_seed=None):
        super().__init__(time_major=time_major)
        self.sampling_probability = _checked_probability(sampling_probability)
        self.embedding_fn = embedding_fn
        self.seed = seed
        self.scheduling_seed = scheduling_seed

    def initialize(self, inputs, sequence_length=None, mask=None, embedding=None):
        """Like ``TrainingSampler.initialize``; ``embedding [V, E]`` embeds sampled ids."""
        self._embed = _embedding_fn(embedding, self.embedding_fn, owner=type(self).__name__)
        out = super().initialize(inputs, sequence_length=sequence_length, mask=mask)
        self._gen = _generator(self.seed, inputs.device)
        self._sched_gen = _generator(self.scheduling_seed, inputs.device)
        check_probability_batch(self.sampling_probability, self.batch_size)
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

    ``sample_ids`` is int64 0/1 per row (tfa's int32 0/1 in the TensorFlow backend): 1 where the
    output is fed back. One draw per row: with a vector probability ``[B]`` row ``b`` draws with
    ``p[b]`` (tfa drew ``[B, B]`` there, which its ``next_inputs`` could not use).
    """

    def __init__(self, sampling_probability, time_major=False, seed=None, next_inputs_fn=None):
        super().__init__(time_major=time_major)
        self.sampling_probability = _checked_probability(sampling_probability)
        self.seed = seed
        self.next_inputs_fn = next_inputs_fn

    @property
    def sample_ids_dtype(self):
        return torch.int64

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
        check_probability_batch(self.sampling_probability, self.batch_size)
        return out

    def sample(self, time, outputs, state):
        p = torch.as_tensor(self.sampling_probability, dtype=torch.float32, device=outputs.device)
        return torch.bernoulli(p.expand(outputs.shape[0]), generator=self._gen).to(torch.int64)

    def next_inputs(self, time, outputs, state, sample_ids):
        finished, base_next = self._next(time)
        sample_ids = sample_ids.bool()  # (B,): True where the output is fed back
        if bool(finished.all()):
            return finished, base_next, state
        sampled = outputs if self.next_inputs_fn is None else self.next_inputs_fn(outputs)
        if self.auxiliary_inputs is not None:
            sampled = torch.cat([sampled, self.auxiliary_inputs[time + 1]], dim=-1)
        return finished, torch.where(sample_ids[:, None], sampled.to(base_next.dtype), base_next), state


# TF1 names (tf.contrib.seq2seq): a Helper is a Sampler.
ScheduledEmbeddingTrainingHelper = ScheduledEmbeddingTrainingSampler
ScheduledOutputTrainingHelper = ScheduledOutputTrainingSampler
