"""Samplers (TF1: Helpers): what a decoder feeds itself at the next step.

The interface (``initialize``, ``sample``, ``next_inputs``, ``batch_size``) is documented once,
in ``course_lib.common.interfaces``. This module has teacher forcing (``TrainingSampler``), the
inference samplers and the samplers built from functions; scheduled sampling is in
``course_lib.tf.scheduled_sampler``. The TF1 Helper names are aliases at the end.

Ids are int32, as in tfa (the PyTorch backend uses int64). Random samplers draw with
stateless ops seeded by ``(seed, time)``, so a seeded decode repeats exactly (and draws other
numbers than tfa's stateful ops with the same seed). ``categorical_sample`` and
``bernoulli_sample`` are tfa's module functions, for ``InferenceSampler``'s ``sample_fn``.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.common.args import (
    check_callable, check_embedding_given, check_start_and_end, check_temperature,
)
from course_lib.common.checks import (
    check_ids_in_vocabulary, check_integer, check_rank, check_scalar, check_sequence_length, describe,
)

from course_lib.common.interfaces import SamplerInterface
from course_lib.tf.errors import _after, _check_length_values, _check_sequence_is_right_padded


class Sampler(SamplerInterface):
    """Interface of a sampler (``course_lib.common.interfaces``): ``initialize``, ``sample``,
    ``next_inputs``, ``batch_size``; sample ids are int32 scalars per row unless a sampler says otherwise."""

    @property
    def sample_ids_shape(self):
        return tf.TensorShape([])

    @property
    def sample_ids_dtype(self):
        return tf.int32


def _embedding_fn(embedding, embedding_fn, name="embedding", owner=None):
    """The function ids -> vectors: ``embedding_fn`` if given, else a lookup in ``embedding``."""
    if embedding_fn is not None:
        check_callable(embedding_fn, "embedding_fn")
        return embedding_fn
    check_embedding_given(embedding, owner)
    if isinstance(embedding, (tf.Tensor, tf.Variable)) or hasattr(embedding, "value") and hasattr(embedding, "shape"):
        check_rank(embedding, 2, name, "[vocab_size, embedding_dim]")
        return lambda ids: tf.nn.embedding_lookup(embedding, ids)
    if callable(embedding):
        return embedding
    try:
        embedding = tf.convert_to_tensor(embedding)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{name}` must be a 2-D tensor [vocab_size, embedding_dim], a keras Embedding or a callable, "
            f"got {describe(embedding)}"
        ) from None
    check_rank(embedding, 2, name, "[vocab_size, embedding_dim]")
    return lambda ids: tf.nn.embedding_lookup(embedding, ids)


def _vocab_size(embedding, embedding_fn):
    """The number of rows of a lookup table, or None when an ``embedding_fn`` does the lookup."""
    if embedding_fn is not None:
        return None
    if getattr(embedding, "input_dim", None) is not None:  # a keras Embedding layer
        return int(embedding.input_dim)
    shape = getattr(embedding, "shape", None)
    if shape is not None and len(shape) == 2 and shape[0] is not None:
        return int(shape[0])
    return None


def _seed_pair(seed, time):
    return tf.stack([tf.cast(seed, tf.int64), tf.cast(time, tf.int64)])


def _categorical(logits, seed, time, salt=0):
    """One draw per row from ``softmax(logits)``; stateless (repeatable) when ``seed`` is set."""
    if seed is None:
        return tf.random.categorical(logits, 1, dtype=tf.int32)[:, 0]
    return tf.random.stateless_categorical(logits, 1, seed=_seed_pair(seed + salt, time), dtype=tf.int32)[:, 0]


def _bernoulli(p, batch_size, seed, time):
    """One bool per row, True with probability ``p`` (a scalar or ``[batch_size]``)."""
    if seed is None:
        u = tf.random.uniform([batch_size])
    else:
        u = tf.random.stateless_uniform([batch_size], seed=_seed_pair(seed, time))
    return u < tf.cast(p, tf.float32)


def _sample_shape(sample_shape):
    """``sample_shape`` (an int, a list or ``()``) as an int32 vector."""
    return tf.reshape(tf.convert_to_tensor(sample_shape, tf.int32), [-1])


def categorical_sample(logits, dtype=tf.int32, sample_shape=(), seed=None):
    """Draws from the categorical distributions ``softmax(logits)`` (tfa's module function).

    Args:
      logits: ``[..., V]`` float.
      dtype: the dtype of the ids.
      sample_shape: independent draws in front; ``()`` draws one id per distribution.
      seed: an op seed (``tf.random.categorical``'s).

    Returns:
      ``[*sample_shape, ...]`` ids in ``[0, V)``.
    """
    logits = tf.convert_to_tensor(logits)
    check_rank(logits, tuple(range(1, 9)), "logits", "[..., num_classes]")
    shape = _sample_shape(sample_shape)
    flat = tf.reshape(logits, [-1, tf.shape(logits)[-1]])  # (N, V): one distribution per row
    draws = tf.random.categorical(flat, tf.reduce_prod(shape), dtype=tf.int64, seed=seed)  # (N, n)
    draws = tf.reshape(tf.transpose(draws), tf.concat([shape, tf.shape(logits)[:-1]], 0))  # (*sample_shape, ...)
    return tf.cast(draws, dtype)


def bernoulli_sample(probs=None, logits=None, dtype=tf.int32, sample_shape=(), seed=None):
    """Draws 0/1 from Bernoulli distributions, one per element (tfa's module function).

    Args:
      probs: ``[...]`` float, the probability of a 1; or None, and then ``logits``.
      logits: ``[...]`` float, ``probs = sigmoid(logits)`` (multi-label outputs).
      dtype: the dtype of the draws.
      sample_shape: independent draws in front; ``()`` draws one per element.
      seed: an op seed (``tf.random.uniform``'s).

    Returns:
      ``[*sample_shape, ...]`` 0/1 draws.
    """
    if (probs is None) == (logits is None):
        raise ValueError(f"give exactly one of `probs` and `logits`, got probs={describe(probs)} and "
                         f"logits={describe(logits)}")
    probs = tf.sigmoid(tf.convert_to_tensor(logits)) if probs is None else tf.convert_to_tensor(probs)
    shape = tf.concat([_sample_shape(sample_shape), tf.shape(probs)], 0)  # (*sample_shape, ...)
    return tf.cast(tf.random.uniform(shape, seed=seed, dtype=probs.dtype) < probs, dtype)


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
        if not isinstance(inputs, (tf.Tensor, tf.Variable)):
            inputs = tf.convert_to_tensor(inputs)
        check_rank(inputs, (3, 4, 5), "inputs", "[time, batch, depth]" if self.time_major else "[batch, time, depth]")
        if sequence_length is not None and mask is not None:
            raise ValueError("give `sequence_length` or `mask`, not both")
        perm = [1, 0] + list(range(2, inputs.shape.rank))
        self.inputs = inputs if self.time_major else tf.transpose(inputs, perm)  # (T, B, D)
        T_static, B_static = self.inputs.shape[0], self.inputs.shape[1]
        T, B = tf.shape(self.inputs)[0], tf.shape(self.inputs)[1]
        self._batch_size = B_static if B_static is not None else B
        if mask is not None:
            mask = tf.cast(tf.convert_to_tensor(mask), tf.bool)
            check_rank(mask, 2, "mask", "[time, batch]" if self.time_major else "[batch, time]")
            assertion = _check_sequence_is_right_padded(mask, self.time_major)
            sequence_length = tf.reduce_sum(tf.cast(mask, tf.int32), axis=0 if self.time_major else 1)
            sequence_length = sequence_length if assertion is None else _after(assertion, sequence_length)
        if sequence_length is None:
            sequence_length = tf.fill([B], T)
        else:
            sequence_length = tf.convert_to_tensor(sequence_length)
            check_sequence_length(sequence_length, B_static, T_static)
            sequence_length = _check_length_values(sequence_length, T_static, T)
        self.sequence_length = tf.cast(sequence_length, tf.int32)
        finished = tf.less_equal(self.sequence_length, 0)
        all_finished = tf.reduce_all(finished)
        if T_static == 0:  # no time steps at all: every row is finished, the first input is zeros
            return finished, tf.zeros(tf.shape(self.inputs)[1:], self.inputs.dtype)
        first = tf.cond(all_finished, lambda: tf.zeros_like(self.inputs[0]), lambda: self.inputs[0])
        return finished, first

    def sample(self, time, outputs, state):
        return tf.argmax(outputs, axis=-1, output_type=tf.int32)

    def _next(self, time):
        next_time = time + 1
        finished = next_time >= self.sequence_length
        all_finished = tf.reduce_all(finished)
        next_inputs = tf.cond(
            all_finished, lambda: tf.zeros_like(self.inputs[0]), lambda: tf.gather(self.inputs, next_time)
        )
        return finished, next_inputs

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
        start_tokens = tf.convert_to_tensor(start_tokens)
        check_integer(start_tokens, "start_tokens")
        check_rank(start_tokens, 1, "start_tokens", "[batch_size]")
        end_token = tf.convert_to_tensor(end_token)
        check_integer(end_token, "end_token")
        check_scalar(end_token, "end_token")
        self.start_tokens = tf.cast(start_tokens, tf.int32)
        self.end_token = tf.cast(end_token, tf.int32)
        B_static = self.start_tokens.shape[0]
        self._batch_size = B_static if B_static is not None else tf.shape(self.start_tokens)[0]
        if tf.executing_eagerly():
            check_ids_in_vocabulary(self.start_tokens.numpy(), _vocab_size(embedding, self.embedding_fn),
                                    "start_tokens")
        self.start_inputs = self._embed(self.start_tokens)
        finished = tf.zeros(tf.shape(self.start_tokens), dtype=tf.bool)
        return finished, self.start_inputs

    def sample(self, time, outputs, state):
        if not isinstance(outputs, tf.Tensor):
            raise TypeError(f"Expected `outputs` to be a single tensor, got {describe(outputs)}")
        return tf.argmax(outputs, axis=-1, output_type=tf.int32)

    def next_inputs(self, time, outputs, state, sample_ids):
        finished = tf.equal(sample_ids, self.end_token)
        next_inputs = tf.cond(
            tf.reduce_all(finished), lambda: self.start_inputs, lambda: self._embed(sample_ids)
        )
        return finished, next_inputs, state


class SampleEmbeddingSampler(GreedyEmbeddingSampler):
    """Inference by sampling: the next token is drawn from ``softmax(outputs / temperature)``.

    ``softmax_temperature`` > 1 flattens the distribution, < 1 sharpens it (None means 1).
    ``seed`` makes the draws repeat from one decode to the next.
    """

    def __init__(self, embedding_fn=None, softmax_temperature=None, seed=None):
        super().__init__(embedding_fn)
        check_temperature(softmax_temperature)
        self.softmax_temperature = softmax_temperature
        self.seed = seed

    def sample(self, time, outputs, state):
        if not isinstance(outputs, tf.Tensor):
            raise TypeError(f"Expected `outputs` to be a single tensor, got {describe(outputs)}")
        logits = outputs if self.softmax_temperature is None else outputs / self.softmax_temperature
        return _categorical(logits, self.seed, time)


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
        self._sample_shape = tf.TensorShape(sample_shape)
        self._sample_dtype = tf.as_dtype(sample_dtype)
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
        start_inputs = tf.convert_to_tensor(start_inputs)
        if start_inputs.shape.rank is not None and start_inputs.shape.rank < 1:
            raise ValueError(f"`start_inputs` must be a tensor [batch, ...], got {describe(start_inputs)}")
        self.start_inputs = start_inputs
        B_static = start_inputs.shape[0]
        self._batch_size = B_static if B_static is not None else tf.shape(start_inputs)[0]
        return tf.zeros([tf.shape(start_inputs)[0]], dtype=tf.bool), start_inputs

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
        self._sample_ids_shape = tf.TensorShape(sample_ids_shape or [])
        self._sample_ids_dtype = tf.as_dtype(sample_ids_dtype or tf.int32)
        self._batch_size = None

    @property
    def sample_ids_shape(self):
        return self._sample_ids_shape

    @property
    def sample_ids_dtype(self):
        return self._sample_ids_dtype

    def initialize(self, inputs, **kwargs):
        finished, next_inputs = self.initialize_fn(inputs, **kwargs)
        B_static = finished.shape[0]
        self._batch_size = B_static if B_static is not None else tf.shape(finished)[0]
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
