"""Bahdanau (additive) and Luong (multiplicative) attention (TensorFlow / Keras 3), as tfa 0.23.

Both score a query `[B, query_depth]` against the keys `[B, T, U]` that the base class
computed from the memory when it was set up (`course_lib.tf.attention.base`).
"""

from __future__ import annotations

import math

import keras

from course_lib.common.args import check_positive_int
from course_lib.common.checks import describe
from course_lib.tf.attention.base import AttentionMechanism, _additive_score, _multiplicative_score


class _Additive(AttentionMechanism):
    """Shared set-up of the Bahdanau-style mechanisms: query and memory layers, v, g, b."""

    def __init__(self, units, memory, memory_sequence_length, normalize, probability_fn,
                 kernel_initializer, dtype, name, memory_layer=None, query_layer=None, **kwargs):
        check_positive_int(units, "units")
        super().__init__(memory_layer=memory_layer, query_layer=query_layer,
                         probability_fn=probability_fn, dtype=dtype, name=name, **kwargs)
        self.memory_layer = self._default_dense(memory_layer, units, "memory_layer")
        self.query_layer = self._default_dense(query_layer, units, "query_layer")
        self.units = units
        self.normalize = normalize
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.attention_v = self.add_weight(name="attention_v", shape=(units,), initializer=self.kernel_initializer)
        self.attention_g = self.attention_b = None
        if normalize:
            self.attention_g = self.add_weight(name="attention_g", shape=(),
                                               initializer=keras.initializers.Constant(math.sqrt(1.0 / units)))
            self.attention_b = self.add_weight(name="attention_b", shape=(units,), initializer="zeros")
        self._maybe_setup(memory, memory_sequence_length)

    def _mechanism_config(self):
        return {"units": self.units, "normalize": self.normalize, "probability_fn": self._probability_fn_config(),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}

    def _score(self, query, state):
        return _additive_score(self.query_layer(query), self.keys, self._weight(self.attention_v),
                               self._weight(self.attention_g), self._weight(self.attention_b))


@keras.saving.register_keras_serializable(package="course_lib")
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
      dtype, name: as for a Keras layer (`dtype` may be a policy such as `'mixed_float16'`).
      memory_layer, query_layer: Keras layers replacing the default `Dense(units, use_bias=False)`
        of the memory and of the query (their outputs must both have depth `units`).
    """

    def __init__(self, units, memory=None, memory_sequence_length=None, normalize=False,
                 probability_fn="softmax", kernel_initializer="glorot_uniform", dtype=None,
                 name="BahdanauAttention", *, memory_layer=None, query_layer=None, **kwargs):
        super().__init__(units, memory, memory_sequence_length, normalize, probability_fn,
                         kernel_initializer, dtype, name, memory_layer, query_layer, **kwargs)


@keras.saving.register_keras_serializable(package="course_lib")
class LuongAttention(AttentionMechanism):
    """Multiplicative attention: `score = query . (W_k memory)` (Luong et al., 2015).

    The query is not projected (unless a `query_layer` is given), so its depth must equal
    `units`. With `scale=True` the score is multiplied by a learned scalar `attention_g` (starts
    at 1). Weights: `memory_layer/kernel [D, U]`, `attention_g []`.

    Args:
      units: U, the depth of the keys; must equal the query depth.
      memory, memory_sequence_length, probability_fn, dtype, name: as `BahdanauAttention`.
      scale: learn a scalar factor of the score.
      memory_layer: a Keras layer replacing the default `Dense(units, use_bias=False)`.
      query_layer: (course_lib; tfa has none here) an optional Keras layer projecting the query
        to depth `units` first.
    """

    def __init__(self, units, memory=None, memory_sequence_length=None, scale=False,
                 probability_fn="softmax", dtype=None, name="LuongAttention", *, memory_layer=None,
                 query_layer=None, **kwargs):
        check_positive_int(units, "units")
        super().__init__(memory_layer=memory_layer, query_layer=query_layer, probability_fn=probability_fn,
                         dtype=dtype, name=name, **kwargs)
        self.memory_layer = self._default_dense(memory_layer, units, "memory_layer")
        self.units = units
        self.scale = scale
        self.attention_g = None
        if scale:
            self.attention_g = self.add_weight(name="attention_g", shape=(), initializer="ones")
        self._maybe_setup(memory, memory_sequence_length)

    def _mechanism_config(self):
        return {"units": self.units, "scale": self.scale, "probability_fn": self._probability_fn_config()}

    def _score(self, query, state):
        if self.query_layer is not None:
            query = self.query_layer(query)  # (B, U)
        _check_query_depth(query, self.units, type(self).__name__)
        return _multiplicative_score(query, self.keys, self._weight(self.attention_g))


def _check_query_depth(query, units, owner):
    if query.shape[-1] is not None and query.shape[-1] != units:
        raise ValueError(f"`query` of {owner} must have depth `units` = {units} (Luong scores the "
                         f"query against the keys without projecting it), got {describe(query)}")
