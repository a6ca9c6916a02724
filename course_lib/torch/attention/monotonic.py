"""Monotonic attention mechanisms (PyTorch): Bahdanau and Luong scores through a sigmoid.

Raffel et al., 2017, "Online and Linear-Time Attention by Enforcing Monotonic Alignments": each
memory entry is chosen with probability `sigmoid(score + attention_score_bias)`, scanning left to
right from where the previous step stopped (see `monotonic_attention`). Imported from
`course_lib.torch.attention`, where they belong to the public names.
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.torch.attention.base import _device_for
from course_lib.torch.attention.bahdanau_luong import LuongAttention, _Additive
from course_lib.torch.attention.ops import MONOTONIC_MODES, monotonic_probability_fn


class _Monotonic:
    """Mix-in of the monotonic mechanisms: score bias, sigmoid noise, Dirac initial alignments."""

    def _setup_monotonic(self, sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode):
        if mode not in MONOTONIC_MODES:
            raise ValueError(f"`mode` must be one of {MONOTONIC_MODES}, got {mode!r}")
        self.sigmoid_noise = sigmoid_noise
        self.sigmoid_noise_seed = sigmoid_noise_seed
        self.score_bias_init = score_bias_init
        self.mode = mode
        self.attention_score_bias = nn.Parameter(torch.full((), float(score_bias_init), **self._factory))
        self._noise_generators = {}

    def _monotonic_config(self):
        return {"sigmoid_noise": self.sigmoid_noise, "sigmoid_noise_seed": self.sigmoid_noise_seed,
                "score_bias_init": self.score_bias_init, "mode": self.mode}

    def probability_fn(self, score, state):
        """Sigmoid choosing probabilities (with noise) -> monotonic alignments `[B, T]`."""
        return monotonic_probability_fn(score, state, self.sigmoid_noise, self.mode,
                                        self._noise_generator(score.device))

    def _noise_generator(self, device):
        """A generator seeded with `sigmoid_noise_seed` on `device` (None: the global one)."""
        if self.sigmoid_noise_seed is None or self.sigmoid_noise <= 0:
            return None
        if device not in self._noise_generators:
            self._noise_generators[device] = torch.Generator(device=device).manual_seed(self.sigmoid_noise_seed)
        return self._noise_generators[device]

    def initial_alignments(self, batch_size, dtype=None, device=None):
        """`[batch_size, T]` one-hot at position 0 (all attention starts at the first entry)."""
        alignments = super().initial_alignments(batch_size, dtype, device)
        alignments[:, 0] = 1
        return alignments


class BahdanauMonotonicAttention(_Monotonic, _Additive):
    """Monotonic attention with the Bahdanau score plus `attention_score_bias` (Raffel et al., 2017).

    Args:
      units, memory, memory_sequence_length, normalize, kernel_initializer, dtype, name, device,
        memory_size, query_size: as `BahdanauAttention`.
      sigmoid_noise: std of the noise added to the scores before the sigmoid (0: none; > 0 pushes
        the choices to 0/1 in training).
      sigmoid_noise_seed: optional int seed of that noise.
      score_bias_init: start value of `attention_score_bias` (negative for long memories).
      mode: `'parallel'`, `'recursive'` or `'hard'` (see `monotonic_attention`).
      memory_layer, query_layer: as `BahdanauAttention`.
    """

    def __init__(self, units, memory=None, memory_sequence_length=None, normalize=False,
                 sigmoid_noise=0.0, sigmoid_noise_seed=None, score_bias_init=0.0, mode="parallel",
                 kernel_initializer="glorot_uniform", dtype=None, name="BahdanauMonotonicAttention", *,
                 memory_layer=None, query_layer=None, device=None, memory_size=None, query_size=None):
        _Additive.__init__(self, units, normalize, "softmax", kernel_initializer, dtype, _device_for(device, memory),
                           name, memory_size, query_size, memory_layer, query_layer)
        self._setup_monotonic(sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode)
        self._maybe_setup(memory, memory_sequence_length)

    def _mechanism_config(self):
        return {"units": self.units, "normalize": self.normalize, **self._monotonic_config(),
                "kernel_initializer": self.kernel_initializer, **self._layer_sizes()}

    def _score(self, query, state):
        return _Additive._score(self, query, state) + self.attention_score_bias


class LuongMonotonicAttention(_Monotonic, LuongAttention):
    """Monotonic attention with the Luong score plus `attention_score_bias` (Raffel et al., 2017).

    Args: as `LuongAttention` (with `memory_layer`, `query_layer`), plus `sigmoid_noise`,
    `sigmoid_noise_seed`, `score_bias_init` and `mode` as `BahdanauMonotonicAttention`.
    """

    def __init__(self, units, memory=None, memory_sequence_length=None, scale=False, sigmoid_noise=0.0,
                 sigmoid_noise_seed=None, score_bias_init=0.0, mode="parallel", dtype=None,
                 name="LuongMonotonicAttention", *, memory_layer=None, query_layer=None, device=None,
                 memory_size=None):
        LuongAttention.__init__(self, units, None, None, scale, "softmax", dtype, name, memory_layer=memory_layer,
                                query_layer=query_layer, device=_device_for(device, memory), memory_size=memory_size)
        self._setup_monotonic(sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode)
        self._maybe_setup(memory, memory_sequence_length)

    def _mechanism_config(self):
        return {"units": self.units, "scale": self.scale, **self._monotonic_config(),
                **self._layer_sizes(query=False)}

    def _score(self, query, state):
        return LuongAttention._score(self, query, state) + self.attention_score_bias
