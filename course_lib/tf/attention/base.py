"""The base of the attention mechanisms (TensorFlow / Keras 3) and their scores.

``AttentionMechanism`` sets the memory up (zeroed past its lengths; keys computed once), masks
the scores and normalises them; a subclass defines ``_score(query, state) -> [B, T]``.
``_additive_score`` and ``_multiplicative_score`` are the two score families. Config, build and
functional-graph calls come from ``course_lib.tf.attention.keras_support``.

Eager and ``tf.function`` calls skip ``keras.layers.Layer.__call__`` (it would not take a nested
state or a ``tf.TensorArray``), so this module does what Keras would have done there: float
inputs and the weights are read in the layer's compute dtype (mixed precision), and a memory
that carries a Keras mask (``Embedding(mask_zero=True)`` upstream) is masked by it.
"""

from __future__ import annotations


import keras
import tensorflow as tf

from course_lib.common.attention import MechanismLogic, check_layer, pick_function, split_memory_inputs, \
    split_query_inputs
from course_lib.common.checks import check_dim, check_rank
from course_lib.tf.attention.keras_support import MechanismKeras, is_symbolic
from course_lib.tf.attention.ops import hardmax

_PROBABILITY_FNS = {"softmax": tf.nn.softmax, "hardmax": hardmax}


def _dtype_arg(dtype):
    """``dtype`` as a Keras layer takes it: None, a policy name (``'mixed_float16'``), a
    ``DTypePolicy`` or its serialized dict (``get_config``'s); other dtypes by name."""
    if dtype is None or isinstance(dtype, (str, dict, keras.DTypePolicy)):
        return dtype
    return tf.as_dtype(dtype).name


def _static_or_dynamic(tensor, axis):
    return tensor.shape[axis] if tensor.shape[axis] is not None else tf.shape(tensor)[axis]


def _to_dtype(x, dtype):
    """``x`` (a float tensor) in ``dtype``; other tensors as they are."""
    return tf.cast(x, dtype) if x.dtype.is_floating and x.dtype != dtype else x


class AttentionMechanism(MechanismLogic, MechanismKeras, keras.layers.Layer):
    """Base of the mechanisms: sets up the memory, masks scores, and calls `_score`.

    Subclasses define `_score(query, state) -> [B, T]`; they may override `probability_fn`
    (`(score, state) -> alignments`), `_next_state`, `state_size` and `initial_state`.
    Attributes after `setup_memory`: `values` `[B, T, D]` (memory, zero past the lengths),
    `keys` `[B, T, U]`, `batch_size`, `alignments_size` (T).

    Calls, as tfa 0.23: `mechanism([query, state])` (or `mechanism(query, state)`) ->
    `(alignments, next_state)`; `mechanism(memory, setup_memory=True, memory_sequence_length=None,
    mask=None)` (or `mechanism([memory, lengths], setup_memory=True)`) sets the memory up and
    returns the values. A Keras symbolic tensor as memory or query builds a functional graph
    (`course_lib.tf.attention.keras_support`). `get_config()` / `cls.from_config(config)`: tfa's
    config (`memory: None`), so a mechanism serialises, clones, saves and loads as a Keras layer.

    The keys are computed when the memory is set up: after new weights (`import_weights`, an
    optimizer step), set the memory up again; in training, set it up inside the training step.

    Kept from course_lib (tfa differs): a row of `memory_sequence_length` 0, or an all-False
    `memory_mask` row, gets all-zero alignments (tfa: an error, or uniform alignments): alignments
    are exactly 0 wherever the memory is masked. `mechanism(query, state)` with two positional
    arguments works as well as tfa's `[query, state]`; `probability_fn` may be a callable.
    """

    def __init__(self, memory=None, memory_sequence_length=None, memory_layer=None, query_layer=None,
                 probability_fn="softmax", dtype=None, name=None, **kwargs):
        super().__init__(dtype=_dtype_arg(dtype), name=name, **kwargs)
        check_layer(memory_layer, "memory_layer", keras.layers.Layer, "a Keras layer")
        check_layer(query_layer, "query_layer", keras.layers.Layer, "a Keras layer")
        self.supports_masking = True
        self.memory_layer = memory_layer
        self.query_layer = query_layer
        self._probability_fn_arg = probability_fn
        self._probability = pick_function(probability_fn, _PROBABILITY_FNS, "probability_fn")
        self.values = None
        self.keys = None
        self.batch_size = None
        self._alignments_size = None
        self._memory_mask = None
        self._symbolic_memory = None
        self._maybe_setup(memory, memory_sequence_length)

    def _default_dense(self, layer, units, name):
        """`layer`, or the default `Dense(units, use_bias=False)` in this layer's dtype policy."""
        if layer is not None:
            return layer
        return keras.layers.Dense(units, use_bias=False, name=name, dtype=self.dtype_policy)

    def _weight(self, variable):
        """A weight read in the compute dtype (float16 under `mixed_float16`), as Keras would."""
        if variable is None or variable.dtype == self.compute_dtype:
            return variable
        return tf.cast(variable, self.compute_dtype)

    # -- memory --------------------------------------------------------------------------
    def setup_memory(self, memory, memory_sequence_length=None, memory_mask=None):
        """Zero the memory past the lengths and compute the keys (once per memory).

        Args:
          memory: `[B, T, D]` encoder outputs.
          memory_sequence_length: optional `[B]` ints in [0, T]; a row of length 0 gets all-zero
            alignments.
          memory_mask: optional `[B, T]` bool, instead of `memory_sequence_length`. Without
            either, a Keras mask that `memory` carries (`memory._keras_mask`) is used.

        The memory is read in the layer's compute dtype. A Keras symbolic memory (a functional
        model) records a set-up node instead (`mechanism(memory, setup_memory=True)`).
        """
        if is_symbolic([memory, memory_sequence_length, memory_mask]):
            inputs = memory if memory_sequence_length is None else [memory, memory_sequence_length]
            self._symbolic_call(inputs, None, True, memory_mask, None)
            return
        if memory_sequence_length is None and memory_mask is None:
            memory_mask = getattr(memory, "_keras_mask", None)
        if not tf.is_tensor(memory):  # NumPy or lists: in the layer's dtype
            memory = tf.convert_to_tensor(memory, dtype=self.compute_dtype)
        check_rank(memory, 3, "memory", "[batch, max_time, depth]")
        memory = _to_dtype(memory, self.compute_dtype)
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
    def __call__(self, inputs, state=None, setup_memory=False, mask=None, memory_sequence_length=None,
                 **kwargs):
        # Eagerly and in tf.function, straight to `call` (Keras' __call__ would not take a nested
        # state); Keras symbolic tensors go through it (a functional graph's nodes).
        if is_symbolic(inputs) or is_symbolic(state):
            return self._symbolic_call(inputs, state, setup_memory, mask, memory_sequence_length)
        self.built = True
        return self.call(inputs, state, mask=mask, setup_memory=setup_memory,
                         memory_sequence_length=memory_sequence_length)

    def call(self, inputs, state=None, mask=None, setup_memory=False, memory_sequence_length=None):
        """Score a query against the keys and normalise, or set the memory up.

        Args:
          inputs: the query `[B, query_depth]` (usually the cell output), or `[query, state]`;
            with `setup_memory=True` the memory `[B, T, D]` or `[memory, memory_sequence_length]`.
          state: the previous state (`[B, T]` alignments); None means `initial_state`.
          mask: with `setup_memory=True`, an optional `[B, T]` bool memory mask.
          setup_memory: set the memory up (see `setup_memory`) instead of querying.
          memory_sequence_length: with `setup_memory=True`, optional `[B]` lengths.

        Returns:
          `(alignments [B, T], next_state)`, alignments 0 past the memory lengths; with
          `setup_memory=True` the values `[B, T, D]`.
        """
        if setup_memory:
            memory, lengths = split_memory_inputs(inputs, memory_sequence_length)
            self.setup_memory(memory, lengths, memory_mask=mask)
            return self.values
        query, state = split_query_inputs(inputs, state)
        self._check_memory()
        if tf.executing_eagerly() and tf.is_symbolic_tensor(self.keys):
            raise ValueError(f"`memory` of {type(self).__name__} '{self.name}' was set up inside a graph (a "
                             "`tf.function`, or a Keras model's call), whose tensors cannot be used eagerly: "
                             "set it up again with a tensor (`setup_memory(memory)`) before querying it here")
        if not tf.is_tensor(query):
            query = tf.convert_to_tensor(query, dtype=self.compute_dtype)
        check_rank(query, 2, "query", "[batch, query_depth]")
        query = _to_dtype(query, self.compute_dtype)
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

