"""Attention for TensorFlow / Keras 3, following `tensorflow_addons.seq2seq` 0.23.

A mechanism holds the encoder's output (the *memory*) and scores a decoder query against it::

    mechanism = BahdanauAttention(units, memory, memory_sequence_length)  # keys computed once
    alignments, next_state = mechanism(query, state)                      # [B, T] each

The monotonic mechanisms (`attention_monotonic.py`), location-sensitive attention
(`attention_location.py`) and `AttentionWrapper` (`attention_wrapper.py`, a cell that attends at
every step) live beside this module and are re-exported here.
Shapes: B batch, T memory time, D memory depth, U `units`. Positions past
`memory_sequence_length` get exactly zero alignment.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from course_lib.common.checks import check_dim, check_rank, describe
from course_lib.tf.attention_ops import hardmax, monotonic_attention, safe_cumprod

_PROBABILITY_FNS = {"softmax": tf.nn.softmax, "hardmax": hardmax}


def _probability_fn(probability_fn):
    if callable(probability_fn):
        return probability_fn
    if probability_fn not in _PROBABILITY_FNS:
        raise ValueError(f"`probability_fn` must be one of {sorted(_PROBABILITY_FNS)} or a callable, "
                         f"got {probability_fn!r}")
    return _PROBABILITY_FNS[probability_fn]


def _dtype_name(dtype):
    return None if dtype is None else tf.as_dtype(dtype).name


def _static_or_dynamic(tensor, axis):
    return tensor.shape[axis] if tensor.shape[axis] is not None else tf.shape(tensor)[axis]


class AttentionMechanism(keras.layers.Layer):
    """Base of the mechanisms: sets up the memory, masks scores, and calls `_score`.

    Subclasses define `_score(query, state) -> [B, T]`; they may override `probability_fn`
    (`(score, state) -> alignments`), `_next_state`, `state_size` and `initial_state`.
    Attributes after `setup_memory`: `values` `[B, T, D]` (memory, zero past the lengths),
    `keys` `[B, T, U]`, `batch_size`, `alignments_size` (T).

    The keys are computed when the memory is set up: after new weights (`import_weights`, an
    optimizer step), set the memory up again; in training, set it up inside the training step.
    """

    def __init__(self, memory=None, memory_sequence_length=None, memory_layer=None, query_layer=None,
                 probability_fn="softmax", dtype=None, name=None, **kwargs):
        super().__init__(dtype=_dtype_name(dtype), name=name, **kwargs)
        self.memory_layer = memory_layer
        self.query_layer = query_layer
        self._probability = _probability_fn(probability_fn)
        self.values = None
        self.keys = None
        self.batch_size = None
        self._alignments_size = None
        self._memory_mask = None
        self._maybe_setup(memory, memory_sequence_length)

    def _maybe_setup(self, memory, memory_sequence_length):
        if memory is not None:
            self.setup_memory(memory, memory_sequence_length)
        elif memory_sequence_length is not None:
            raise ValueError("`memory_sequence_length` needs `memory`, got memory=None")

    # -- memory --------------------------------------------------------------------------
    def setup_memory(self, memory, memory_sequence_length=None, memory_mask=None):
        """Zero the memory past the lengths and compute the keys (once per memory).

        Args:
          memory: `[B, T, D]` encoder outputs.
          memory_sequence_length: optional `[B]` ints in [0, T]; a row of length 0 gets all-zero
            alignments.
          memory_mask: optional `[B, T]` bool, instead of `memory_sequence_length`.
        """
        if not tf.is_tensor(memory):  # NumPy or lists: in the layer's dtype
            memory = tf.convert_to_tensor(memory, dtype=self.compute_dtype)
        check_rank(memory, 3, "memory", "[batch, max_time, depth]")
        if memory_sequence_length is not None and memory_mask is not None:
            raise ValueError("give `memory_sequence_length` or `memory_mask`, not both")
        mask = None
        if memory_sequence_length is not None:
            lengths = tf.convert_to_tensor(memory_sequence_length)
            check_rank(lengths, 1, "memory_sequence_length", "[batch]")
            check_dim(lengths, 0, memory.shape[0], "memory_sequence_length", "the batch size of `memory`")
            if tf.executing_eagerly() and memory.shape[1] is not None:
                values = lengths.numpy()
                if values.size and (values.min() < 0 or values.max() > memory.shape[1]):
                    raise ValueError(f"`memory_sequence_length` must lie in [0, {memory.shape[1]}] "
                                     f"(the memory's max_time), got {values.tolist()}")
            mask = tf.sequence_mask(lengths, maxlen=tf.shape(memory)[1])  # (B, T)
        elif memory_mask is not None:
            mask = tf.cast(memory_mask, tf.bool)
            check_rank(mask, 2, "memory_mask", "[batch, max_time]")
            for axis in (0, 1):
                check_dim(mask, axis, memory.shape[axis], "memory_mask", "the size of `memory`")
        if mask is not None:
            memory = memory * tf.cast(mask, memory.dtype)[:, :, None]  # (B, T, D)
        self.values = memory
        self.keys = self.memory_layer(memory) if self.memory_layer is not None else memory  # (B, T, U)
        self._memory_mask = mask
        self.batch_size = _static_or_dynamic(self.keys, 0)
        self._alignments_size = _static_or_dynamic(self.keys, 1)

    def _check_memory(self):
        if self.values is None:
            raise ValueError(f"`memory` of {type(self).__name__} '{self.name}' was never set up: pass "
                             "`memory=` when constructing it or call `setup_memory(memory)` first")

    @property
    def alignments_size(self):
        """T, the memory's max_time (None until the memory is set up)."""
        return self._alignments_size

    @property
    def state_size(self):
        """The size of the mechanism's state: T (the previous alignments)."""
        return self.alignments_size

    def initial_alignments(self, batch_size, dtype):
        """`[batch_size, T]` zeros."""
        self._check_memory()
        return tf.zeros([batch_size, self.alignments_size], dtype=dtype)

    def initial_state(self, batch_size, dtype):
        """The state before the first step, structured like `state_size` (here the alignments)."""
        return self.initial_alignments(batch_size, dtype)

    # -- query ---------------------------------------------------------------------------
    def __call__(self, query, state=None, **kwargs):
        # Straight to `call`: Keras' __call__ would not take a nested state or a [query, state] list.
        if state is None and isinstance(query, (list, tuple)):
            query, state = query[0], query[1]  # tfa style: mechanism([query, state])
        self.built = True
        return self.call(query, state)

    def call(self, query, state=None):
        """Score `query` against the keys and normalise.

        Args:
          query: `[B, query_depth]`, usually the cell output.
          state: the previous state (`[B, T]` alignments); None means `initial_state`.

        Returns:
          `(alignments [B, T], next_state)`; alignments are 0 past the memory lengths.
        """
        self._check_memory()
        if not tf.is_tensor(query):
            query = tf.convert_to_tensor(query, dtype=self.compute_dtype)
        check_rank(query, 2, "query", "[batch, query_depth]")
        if state is None:
            state = self.initial_state(_static_or_dynamic(query, 0), query.dtype)
        score = self._score(query, state)  # (B, T)
        mask = self._memory_mask
        if mask is not None:
            score = tf.where(mask, score, tf.cast(score.dtype.min, score.dtype))
        alignments = self.probability_fn(score, state)  # (B, T)
        if mask is not None:
            alignments = alignments * tf.cast(mask, alignments.dtype)  # exactly 0 past the lengths
        return alignments, self._next_state(alignments, state)

    def probability_fn(self, score, state):
        """Masked scores `[B, T]` (and the previous state) -> alignments `[B, T]`."""
        return self._probability(score)

    def _score(self, query, state):
        raise NotImplementedError("an AttentionMechanism subclass defines `_score(query, state)`")

    def _next_state(self, alignments, state):
        return alignments


def _additive_score(processed_query, keys, attention_v, attention_g=None, attention_b=None, extra=None):
    """`sum_u v_u tanh(keys + query (+ extra) (+ b))_u` -> `[B, T]`; weight-normalised v with g."""
    hidden = keys + processed_query[:, None, :]  # (B, T, U)
    if extra is not None:
        hidden = hidden + extra
    v = tf.convert_to_tensor(attention_v)
    if attention_g is not None:
        v = attention_g * v * tf.math.rsqrt(tf.reduce_sum(tf.square(v)))
        hidden = hidden + attention_b
    return tf.reduce_sum(v * tf.tanh(hidden), axis=2)


def _multiplicative_score(query, keys, attention_g=None):
    """`query . key` for every memory position -> `[B, T]` (times g when scaled)."""
    score = tf.squeeze(tf.matmul(query[:, None, :], keys, transpose_b=True), 1)  # (B, T)
    return score if attention_g is None else attention_g * score


def _check_units(units):
    if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
        raise ValueError(f"`units` must be a positive int, got {units!r}")


def _dense(units, name, dtype):
    return keras.layers.Dense(units, use_bias=False, name=name, dtype=_dtype_name(dtype))


class _Additive(AttentionMechanism):
    """Shared set-up of the Bahdanau-style mechanisms: query and memory layers, v, g, b."""

    def __init__(self, units, memory, memory_sequence_length, normalize, probability_fn,
                 kernel_initializer, dtype, name, **kwargs):
        _check_units(units)
        super().__init__(memory_layer=_dense(units, "memory_layer", dtype),
                         query_layer=_dense(units, "query_layer", dtype),
                         probability_fn=probability_fn, dtype=dtype, name=name, **kwargs)
        self.units = units
        self.normalize = normalize
        self.attention_v = self.add_weight(name="attention_v", shape=(units,),
                                           initializer=keras.initializers.get(kernel_initializer))
        self.attention_g = self.attention_b = None
        if normalize:
            self.attention_g = self.add_weight(name="attention_g", shape=(),
                                               initializer=keras.initializers.Constant(math.sqrt(1.0 / units)))
            self.attention_b = self.add_weight(name="attention_b", shape=(units,), initializer="zeros")
        self._maybe_setup(memory, memory_sequence_length)

    def _score(self, query, state):
        return _additive_score(self.query_layer(query), self.keys, self.attention_v,
                               self.attention_g, self.attention_b)


class BahdanauAttention(_Additive):
    """Additive attention: `score = v . tanh(W_k memory + W_q query)` (Bahdanau et al., 2015).

    With `normalize=True`, v is weight-normalised (`g v / |v|`) and a bias b is added inside the
    tanh (Salimans and Kingma, 2016). Weights: `memory_layer/kernel [D, U]`,
    `query_layer/kernel [query_depth, U]`, `attention_v [U]`, and `attention_g []`, `attention_b [U]`.

    Args:
      units: U, the depth of keys and processed queries.
      memory: optional `[B, T, D]`; else call `setup_memory` before querying.
      memory_sequence_length: optional `[B]`.
      normalize: weight-normalise v.
      probability_fn: `'softmax'`, `'hardmax'` or a callable `score [B, T] -> [B, T]`.
      kernel_initializer: initialiser of `attention_v`.
      dtype, name: as for a Keras layer.
    """

    def __init__(self, units, memory=None, memory_sequence_length=None, normalize=False,
                 probability_fn="softmax", kernel_initializer="glorot_uniform", dtype=None,
                 name="BahdanauAttention", **kwargs):
        super().__init__(units, memory, memory_sequence_length, normalize, probability_fn,
                         kernel_initializer, dtype, name, **kwargs)


class LuongAttention(AttentionMechanism):
    """Multiplicative attention: `score = query . (W_k memory)` (Luong et al., 2015).

    The query is not projected, so its depth must equal `units`. With `scale=True` the score is
    multiplied by a learned scalar `attention_g` (starts at 1). Weights: `memory_layer/kernel [D, U]`,
    `attention_g []`.

    Args:
      units: U, the depth of the keys; must equal the query depth.
      memory, memory_sequence_length, probability_fn, dtype, name: as `BahdanauAttention`.
      scale: learn a scalar factor of the score.
    """

    def __init__(self, units, memory=None, memory_sequence_length=None, scale=False,
                 probability_fn="softmax", dtype=None, name="LuongAttention", **kwargs):
        _check_units(units)
        super().__init__(memory_layer=_dense(units, "memory_layer", dtype), probability_fn=probability_fn,
                         dtype=dtype, name=name, **kwargs)
        self.units = units
        self.scale = scale
        self.attention_g = None
        if scale:
            self.attention_g = self.add_weight(name="attention_g", shape=(), initializer="ones")
        self._maybe_setup(memory, memory_sequence_length)

    def _score(self, query, state):
        _check_query_depth(query, self.units, type(self).__name__)
        return _multiplicative_score(query, self.keys, self.attention_g)


def _check_query_depth(query, units, owner):
    if query.shape[-1] is not None and query.shape[-1] != units:
        raise ValueError(f"`query` of {owner} must have depth `units` = {units} (Luong scores the "
                         f"query against the keys without projecting it), got {describe(query)}")


# The monotonic and location-sensitive mechanisms and the wrapper live in their own modules;
# they are part of this module's public names. (They import this module, which is complete here.)
from course_lib.tf.attention_monotonic import BahdanauMonotonicAttention, LuongMonotonicAttention  # noqa: E402
from course_lib.tf.attention_location import (LocationSensitiveAttention,  # noqa: E402
                                              LocationSensitiveAttentionState)
from course_lib.tf.attention_wrapper import (AttentionWrapper, AttentionWrapperState,  # noqa: E402
                                             alignment_history_batch_major)

__all__ = [
    "AttentionMechanism", "BahdanauAttention", "LuongAttention", "BahdanauMonotonicAttention",
    "LuongMonotonicAttention", "LocationSensitiveAttention", "LocationSensitiveAttentionState",
    "AttentionWrapper", "AttentionWrapperState", "alignment_history_batch_major",
    "monotonic_attention", "safe_cumprod", "hardmax",
]
