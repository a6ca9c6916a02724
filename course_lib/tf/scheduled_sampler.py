"""Scheduled sampling (Bengio et al., 2015): teacher forcing that sometimes feeds the model's own output.

Both samplers are ``TrainingSampler``s: a row, with probability ``sampling_probability``, feeds
what the model produced at the previous step instead of the ground truth. Random draws are
stateless, seeded by ``(seed, time)``, so a seeded decode repeats exactly.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.common.args import check_probability_batch, check_probability_values
from course_lib.common.checks import check_rank
from course_lib.tf.sampler import TrainingSampler, _bernoulli, _categorical, _embedding_fn


def _checked_probability(p):
    """``sampling_probability`` as given: a scalar or a vector ``[batch]`` (checked at construction,
    as tfa), with values in ``[0, 1]`` where they are known (numbers, constants, eager tensors)."""
    tensor = p if isinstance(p, (tf.Tensor, tf.Variable)) else tf.convert_to_tensor(p, tf.float32)
    check_rank(tensor, (0, 1), "sampling_probability", "(a scalar or a vector [batch_size])")
    values = tensor.numpy() if tf.executing_eagerly() else tf.get_static_value(tensor)
    if values is not None:
        check_probability_values(values)
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
        check_probability_batch(self.sampling_probability, self.batch_size)
        return out

    def sample(self, time, outputs, state):
        B = tf.shape(outputs)[0]
        select = _bernoulli(self.sampling_probability, B, self.scheduling_seed, time)
        sampled = _categorical(outputs, self.seed, time)
        return tf.where(select, sampled, tf.fill([B], -1))

    def next_inputs(self, time, outputs, state, sample_ids):
        finished, base_next = self._next(time)

        def maybe_sample():
            sampled = sample_ids > -1
            embedded = tf.cast(self._embed(tf.maximum(sample_ids, 0)), base_next.dtype)
            return tf.where(sampled[:, None], embedded, base_next)

        next_inputs = tf.cond(tf.reduce_all(finished), lambda: base_next, maybe_sample)
        return finished, next_inputs, state


class ScheduledOutputTrainingSampler(TrainingSampler):
    """Scheduled sampling over continuous outputs: with probability ``sampling_probability``
    a row feeds its own output (through ``next_inputs_fn`` if given) instead of the ground truth.

    ``sample_ids`` is int32 0/1 per row, as tfa's: 1 where the output is fed back. One draw per
    row: with a vector probability ``[B]`` row ``b`` draws with ``p[b]`` (tfa drew ``[B, B]`` there,
    which its ``next_inputs`` could not use).
    """

    def __init__(self, sampling_probability, time_major=False, seed=None, next_inputs_fn=None):
        super().__init__(time_major=time_major)
        self.sampling_probability = _checked_probability(sampling_probability)
        self.seed = seed
        self.next_inputs_fn = next_inputs_fn

    @property
    def sample_ids_dtype(self):
        return tf.int32

    def initialize(self, inputs, sequence_length=None, mask=None, auxiliary_inputs=None):
        """Like ``TrainingSampler.initialize``; ``auxiliary_inputs [B, T, A]`` are concatenated
        to every next input, fed back or not."""
        if auxiliary_inputs is None:
            maybe_concat = inputs
            self.auxiliary_inputs = None
        else:
            maybe_concat = tf.concat([inputs, auxiliary_inputs], axis=-1)
            self.auxiliary_inputs = auxiliary_inputs if self.time_major else tf.transpose(auxiliary_inputs, [1, 0, 2])
        out = super().initialize(maybe_concat, sequence_length=sequence_length, mask=mask)
        check_probability_batch(self.sampling_probability, self.batch_size)
        return out

    def sample(self, time, outputs, state):
        return tf.cast(_bernoulli(self.sampling_probability, tf.shape(outputs)[0], self.seed, time), tf.int32)

    def next_inputs(self, time, outputs, state, sample_ids):
        finished, base_next = self._next(time)
        sample_ids = tf.cast(sample_ids, tf.bool)  # (B,): True where the output is fed back

        def maybe_sample():
            sampled = outputs if self.next_inputs_fn is None else self.next_inputs_fn(outputs)
            if self.auxiliary_inputs is not None:
                sampled = tf.concat([sampled, tf.gather(self.auxiliary_inputs, time + 1)], axis=-1)
            return tf.where(sample_ids[:, None], tf.cast(sampled, base_next.dtype), base_next)

        next_inputs = tf.cond(tf.reduce_all(finished), lambda: base_next, maybe_sample)
        return finished, next_inputs, state


# TF1 names (tf.contrib.seq2seq): a Helper is a Sampler.
ScheduledEmbeddingTrainingHelper = ScheduledEmbeddingTrainingSampler
ScheduledOutputTrainingHelper = ScheduledOutputTrainingSampler
