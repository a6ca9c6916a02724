"""Location-sensitive attention (PyTorch), as in Tacotron 2.

Imported from `course_lib.torch.attention`, where it belongs to the public names.
"""

from __future__ import annotations

import collections

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.torch.attention.base import _additive_score, _device_for
from course_lib.torch.attention.bahdanau_luong import _Additive
from course_lib.torch.attention.ops import _dense, _glorot_uniform_


class LocationSensitiveAttentionState(collections.namedtuple(
        "LocationSensitiveAttentionState", ("alignments", "cumulative_alignments"))):
    """State of `LocationSensitiveAttention`: the previous alignments `[B, T]` and their running sum `[B, T]`."""


class LocationSensitiveAttention(_Additive):
    """Location-sensitive attention of Tacotron 2 (Chorowski et al., 2015; Shen et al., 2018).

    The Bahdanau score also sees where the attention has been::

        f = location_conv([previous_alignments, cumulative_alignments])   # [B, T, attention_filters]
        score = v . tanh(W_k memory + W_q query + location_layer(f))

    `location_conv` is a 1-D convolution without bias ('same' padding) over the two alignment
    channels, `location_layer` a dense layer without bias. The state is a
    `LocationSensitiveAttentionState(alignments, cumulative_alignments)`. Weights as
    `BahdanauAttention` plus `location_conv/kernel [attention_kernel_size, 2, attention_filters]`
    and `location_layer/kernel [attention_filters, U]` (Keras layouts).

    Args:
      units, memory, memory_sequence_length, normalize, probability_fn, kernel_initializer, dtype,
        name, device, memory_size, query_size: as `BahdanauAttention`.
      attention_filters: the number of convolution filters (location features).
      attention_kernel_size: the convolution's width in memory steps (odd keeps it centred).
      memory_layer, query_layer: as `BahdanauAttention`.
    """

    def __init__(self, units, memory=None, memory_sequence_length=None, attention_filters=32,
                 attention_kernel_size=31, normalize=False, probability_fn="softmax",
                 kernel_initializer="glorot_uniform", dtype=None, name="LocationSensitiveAttention", *,
                 memory_layer=None, query_layer=None, device=None, memory_size=None, query_size=None):
        for arg, value in (("attention_filters", attention_filters),
                           ("attention_kernel_size", attention_kernel_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{arg}` must be a positive int, got {value!r}")
        super().__init__(units, normalize, probability_fn, kernel_initializer, dtype, _device_for(device, memory),
                         name, memory_size, query_size, memory_layer, query_layer)
        self.attention_filters = attention_filters
        self.attention_kernel_size = attention_kernel_size
        self.location_conv = nn.Conv1d(2, attention_filters, attention_kernel_size, bias=False,
                                       **self._factory)  # 'same' padding is done in _score, as Keras pads
        with torch.no_grad():
            _glorot_uniform_(self.location_conv.weight.permute(2, 1, 0))  # Keras [width, in, filters]
        self.location_layer = _dense(attention_filters, units, **self._factory)
        self._maybe_setup(memory, memory_sequence_length)

    def _mechanism_config(self):
        return {**super()._mechanism_config(), "attention_filters": self.attention_filters,
                "attention_kernel_size": self.attention_kernel_size}

    @property
    def state_size(self):
        """`LocationSensitiveAttentionState(T, T)`."""
        return LocationSensitiveAttentionState(self.alignments_size, self.alignments_size)

    def initial_state(self, batch_size, dtype=None, device=None):
        """Zero previous and cumulative alignments, each `[batch_size, T]`."""
        zeros = self.initial_alignments(batch_size, dtype, device)
        return LocationSensitiveAttentionState(zeros, zeros)

    def _score(self, query, state):
        previous, cumulative = state
        channels = torch.stack([previous, cumulative], dim=1)  # (B, 2, T)
        pad = self.attention_kernel_size - 1  # 'same': the extra pad of an even kernel goes right
        channels = F.pad(channels, (pad // 2, pad - pad // 2))  # (B, 2, T + K - 1)
        features = self.location_conv(channels).transpose(1, 2)  # (B, T, attention_filters)
        location = self.location_layer(features)  # (B, T, U)
        return _additive_score(self.query_layer(query), self.keys, self.attention_v,
                               self.attention_g, self.attention_b, extra=location)

    def _next_state(self, alignments, state):
        return LocationSensitiveAttentionState(alignments, state[1] + alignments)
