"""The base of the attention mechanisms (TensorFlow / Keras 3) and their scores.

``AttentionMechanism`` sets the memory up (zeroed past its lengths; keys computed once), masks
the scores and normalises them; a subclass defines ``_score(query, state) -> [B, T]``.
``_additive_score`` and ``_multiplicative_score`` are the two score families.
"""

from __future__ import annotations


import keras
import tensorflow as tf

from course_lib.common.attention import MechanismLogic, pick_function
from course_lib.common.checks import check_dim, check_rank
from course_lib.tf.attention.ops import hardmax

_PROBABILITY_FNS = {"softmax": tf.nn.softmax, "hardmax": hardmax}


def _dtype_name(dtype):
    return None if dtype is None else tf.as_dtype(dtype).name


def _static_or_dynamic(tensor, axis):
    return tensor.shape[axis] if tensor.shape[axis] is not None else tf.shape(tensor)[axis]


class AttentionMechanism(MechanismLogic, keras.layers.Layer):
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
        self._probability = pick_function(probability_fn, _PROBABILITY_FNS, "probability_fn")
        self.values = None
        self.keys = None
        self.batch_size = None
        self._alignments_size = None
        self._memory_mask = None
        self._maybe_setup(memory, memory_sequence_length)

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


def _dense(units, name, dtype):
    return keras.layers.Dense(units, use_bias=False, name=name, dtype=_dtype_name(dtype))
