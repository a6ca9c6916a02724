"""Bahdanau (additive) and Luong (multiplicative) attention (TensorFlow / Keras 3), as tfa 0.23.

Both score a query `[B, query_depth]` against the keys `[B, T, U]` that the base class
computed from the memory when it was set up (`course_lib.tf.attention.base`).
"""

from __future__ import annotations

import math

import keras

from course_lib.common.args import check_positive_int
from course_lib.common.checks import describe
from course_lib.tf.attention.base import (AttentionMechanism, _additive_score, _dense,
                                          _multiplicative_score)


class _Additive(AttentionMechanism):
    """Shared set-up of the Bahdanau-style mechanisms: query and memory layers, v, g, b."""

    def __init__(self, units, memory, memory_sequence_length, normalize, probability_fn,
                 kernel_initializer, dtype, name, **kwargs):
        check_positive_int(units, "units")
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
        check_positive_int(units, "units")
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
