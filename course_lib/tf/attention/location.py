"""Location-sensitive attention (TensorFlow / Keras 3), as in Tacotron 2.

Imported from `course_lib.tf.attention`, where it belongs to the public names.
"""

from __future__ import annotations

import collections

import keras
import tensorflow as tf

from course_lib.tf.attention.base import _additive_score
from course_lib.tf.attention.bahdanau_luong import _Additive


class LocationSensitiveAttentionState(collections.namedtuple(
        "LocationSensitiveAttentionState", ("alignments", "cumulative_alignments"))):
    """State of `LocationSensitiveAttention`: the previous alignments `[B, T]` and their running sum `[B, T]`."""


@keras.saving.register_keras_serializable(package="course_lib")
class LocationSensitiveAttention(_Additive):
    """Location-sensitive attention of Tacotron 2 (Chorowski et al., 2015; Shen et al., 2018).

    The Bahdanau score also sees where the attention has been::

        f = location_conv([previous_alignments, cumulative_alignments])   # [B, T, attention_filters]
        score = v . tanh(W_k memory + W_q query + location_layer(f))

    `location_conv` is a 1-D convolution without bias ('same' padding) over the two alignment
    channels, `location_layer` a dense layer without bias. The state is a
    `LocationSensitiveAttentionState(alignments, cumulative_alignments)`. Weights as
    `BahdanauAttention` plus `location_conv/kernel [attention_kernel_size, 2, attention_filters]`
    and `location_layer/kernel [attention_filters, U]`.

    Args:
      units, memory, memory_sequence_length, normalize, probability_fn, kernel_initializer, dtype,
        name: as `BahdanauAttention`.
      attention_filters: the number of convolution filters (location features).
      attention_kernel_size: the convolution's width in memory steps (odd keeps it centred).
      memory_layer, query_layer: as `BahdanauAttention`.
    """

    def __init__(self, units, memory=None, memory_sequence_length=None, attention_filters=32,
                 attention_kernel_size=31, normalize=False, probability_fn="softmax",
                 kernel_initializer="glorot_uniform", dtype=None, name="LocationSensitiveAttention", *,
                 memory_layer=None, query_layer=None, **kwargs):
        for arg, value in (("attention_filters", attention_filters),
                           ("attention_kernel_size", attention_kernel_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{arg}` must be a positive int, got {value!r}")
        super().__init__(units, None, None, normalize, probability_fn, kernel_initializer, dtype,
                         name, memory_layer, query_layer, **kwargs)
        self.attention_filters = attention_filters
        self.attention_kernel_size = attention_kernel_size
        self.location_conv = keras.layers.Conv1D(attention_filters, attention_kernel_size, padding="same",
                                                 use_bias=False, name="location_conv",
                                                 dtype=self.dtype_policy)
        self.location_conv.build((None, None, 2))  # two channels: previous and cumulative alignments
        self.location_layer = self._default_dense(None, units, "location_layer")  # built on its first call
        self._maybe_setup(memory, memory_sequence_length)

    def build(self, input_shape=None):
        """As `AttentionMechanism.build`, and `location_layer` too (a loaded model reads its weights)."""
        super().build(input_shape)
        if not self.location_layer.built:
            self.location_layer.build((None, None, self.attention_filters))

    def _mechanism_config(self):
        return {**super()._mechanism_config(), "attention_filters": self.attention_filters,
                "attention_kernel_size": self.attention_kernel_size}

    def _state_structure(self):
        return LocationSensitiveAttentionState(0, 0)

    @property
    def state_size(self):
        """`LocationSensitiveAttentionState(T, T)`."""
        return LocationSensitiveAttentionState(self.alignments_size, self.alignments_size)

    def initial_state(self, batch_size, dtype):
        """Zero previous and cumulative alignments, each `[batch_size, T]`."""
        zeros = self.initial_alignments(batch_size, dtype)
        return LocationSensitiveAttentionState(zeros, zeros)

    def _score(self, query, state):
        previous, cumulative = state
        channels = tf.stack([previous, cumulative], axis=2)  # (B, T, 2)
        location = self.location_layer(self.location_conv(channels))  # (B, T, U)
        return _additive_score(self.query_layer(query), self.keys, self._weight(self.attention_v),
                               self._weight(self.attention_g), self._weight(self.attention_b), extra=location)

    def _next_state(self, alignments, state):
        return LocationSensitiveAttentionState(alignments, state[1] + alignments)
