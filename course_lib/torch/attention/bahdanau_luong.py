"""Bahdanau (additive) and Luong (multiplicative) attention (PyTorch), as tfa 0.23.

Both score a query `[B, query_depth]` against the keys `[B, T, U]` that the base class
computed from the memory when it was set up (`course_lib.torch.attention.base`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from course_lib.common.args import check_positive_int
from course_lib.common.checks import describe
from course_lib.torch.attention.base import (AttentionMechanism, _additive_score, _device_for,
                                             _initializer, _multiplicative_score)


class _Additive(AttentionMechanism):
    """Shared set-up of the Bahdanau-style mechanisms: query and memory layers, v, g, b."""

    def __init__(self, units, normalize, probability_fn, kernel_initializer, dtype, device, name,
                 memory_size=None, query_size=None, memory_layer=None, query_layer=None):
        check_positive_int(units, "units")
        super().__init__(memory_layer=memory_layer, query_layer=query_layer, probability_fn=probability_fn,
                         dtype=dtype, name=name, device=device, memory_units=units, query_units=units,
                         memory_size=memory_size, query_size=query_size)
        self.units = units
        self.normalize = normalize
        self.kernel_initializer = kernel_initializer
        self.attention_v = nn.Parameter(torch.empty(units, **self._factory))
        with torch.no_grad():
            _initializer(kernel_initializer)(self.attention_v)
        self.attention_g = self.attention_b = None
        if normalize:
            self.attention_g = nn.Parameter(torch.full((), math.sqrt(1.0 / units), **self._factory))
            self.attention_b = nn.Parameter(torch.zeros(units, **self._factory))

    def _mechanism_config(self):
        return {"units": self.units, "normalize": self.normalize, "probability_fn": self._probability_fn_arg,
                "kernel_initializer": self.kernel_initializer, **self._layer_sizes()}

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
      kernel_initializer: initialiser of `attention_v` (`'glorot_uniform'`, `'zeros'`, `'ones'`
        or a function filling a tensor in place).
      dtype, device, name: of the parameters (device default: the memory's, when given); a name
        for messages.
      memory_layer, query_layer: modules replacing the default `Dense(units, use_bias=False)`
        (an `nn.Linear(D, units, bias=False)`) of the memory and of the query (outputs of depth `units`).
      memory_size, query_size: (PyTorch only) D and the query depth, to build the layers now.
    """

    def __init__(self, units, memory=None, memory_sequence_length=None, normalize=False,
                 probability_fn="softmax", kernel_initializer="glorot_uniform", dtype=None,
                 name="BahdanauAttention", *, memory_layer=None, query_layer=None, device=None,
                 memory_size=None, query_size=None):
        super().__init__(units, normalize, probability_fn, kernel_initializer, dtype, _device_for(device, memory),
                         name, memory_size, query_size, memory_layer, query_layer)
        self._maybe_setup(memory, memory_sequence_length)


class LuongAttention(AttentionMechanism):
    """Multiplicative attention: `score = query . (W_k memory)` (Luong et al., 2015).

    The query is not projected (unless a `query_layer` is given), so its depth must equal
    `units`. With `scale=True` the score is multiplied by a learned scalar `attention_g` (starts
    at 1). Weights: `memory_layer/kernel [D, U]`, `attention_g []`.

    Args:
      units: U, the depth of the keys; must equal the query depth.
      memory, memory_sequence_length, probability_fn, dtype, name, device, memory_size: as
        `BahdanauAttention`.
      scale: learn a scalar factor of the score.
      memory_layer: a module replacing the default `Dense(units, use_bias=False)`.
      query_layer: (course_lib; tfa has none here) an optional module projecting the query to
        depth `units` first.
    """

    def __init__(self, units, memory=None, memory_sequence_length=None, scale=False,
                 probability_fn="softmax", dtype=None, name="LuongAttention", *, memory_layer=None,
                 query_layer=None, device=None, memory_size=None):
        check_positive_int(units, "units")
        super().__init__(memory_layer=memory_layer, query_layer=query_layer, probability_fn=probability_fn,
                         dtype=dtype, name=name, device=_device_for(device, memory), memory_units=units,
                         memory_size=memory_size)
        self.units = units
        self.scale = scale
        self.attention_g = nn.Parameter(torch.ones((), **self._factory)) if scale else None
        self._maybe_setup(memory, memory_sequence_length)

    def _mechanism_config(self):
        return {"units": self.units, "scale": self.scale, "probability_fn": self._probability_fn_arg,
                **self._layer_sizes(query=False)}

    def _score(self, query, state):
        if self.query_layer is not None:
            query = self.query_layer(query)  # (B, U)
        if query.shape[-1] != self.units:
            raise ValueError(f"`query` of {type(self).__name__} must have depth `units` = {self.units} "
                             "(Luong scores the query against the keys without projecting it), "
                             f"got {describe(query)}")
        return _multiplicative_score(query, self.keys, self.attention_g)
