"""Monotonic attention mechanisms (TensorFlow / Keras 3): Bahdanau and Luong scores through a sigmoid.

Raffel et al., 2017, "Online and Linear-Time Attention by Enforcing Monotonic Alignments": each
memory entry is chosen with probability `sigmoid(score + attention_score_bias)`, scanning left to
right from where the previous step stopped (see `monotonic_attention`). Imported from
`course_lib.tf.attention`, where they belong to the public names.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from course_lib.tf.attention.bahdanau_luong import LuongAttention, _Additive
from course_lib.tf.attention.ops import MONOTONIC_MODES, monotonic_probability_fn


class _Monotonic:
    """Mix-in of the monotonic mechanisms: score bias, sigmoid noise, Dirac initial alignments."""

    def _setup_monotonic(self, sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode):
        if mode not in MONOTONIC_MODES:
            raise ValueError(f"`mode` must be one of {MONOTONIC_MODES}, got {mode!r}")
        self.sigmoid_noise = sigmoid_noise
        self.sigmoid_noise_seed = sigmoid_noise_seed
        self.score_bias_init = score_bias_init
        self.mode = mode
        self.attention_score_bias = self.add_weight(name="attention_score_bias", shape=(),
                                                    initializer=keras.initializers.Constant(score_bias_init))
        generator = None
        if sigmoid_noise > 0 and sigmoid_noise_seed is not None:
            generator = tf.random.Generator.from_seed(sigmoid_noise_seed)
        self._noise_generator = generator

    def probability_fn(self, score, state):
        """Sigmoid choosing probabilities (with noise) -> monotonic alignments `[B, T]`."""
        return monotonic_probability_fn(score, state, self.sigmoid_noise, self.mode, self._noise_generator)

    def initial_alignments(self, batch_size, dtype):
        """`[batch_size, T]` one-hot at position 0 (all attention starts at the first entry)."""
        return tf.one_hot(tf.zeros([batch_size], tf.int32), self.alignments_size, dtype=dtype)

    def _monotonic_config(self):
        return {"sigmoid_noise": self.sigmoid_noise, "sigmoid_noise_seed": self.sigmoid_noise_seed,
                "score_bias_init": self.score_bias_init, "mode": self.mode}


@keras.saving.register_keras_serializable(package="course_lib")
class BahdanauMonotonicAttention(_Monotonic, _Additive):
    """Monotonic attention with the Bahdanau score plus `attention_score_bias` (Raffel et al., 2017).

    Args:
      units, memory, memory_sequence_length, normalize, kernel_initializer, dtype, name: as
        `BahdanauAttention`.
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
                 memory_layer=None, query_layer=None, **kwargs):
        _Additive.__init__(self, units, None, None, normalize, "softmax", kernel_initializer,
                           dtype, name, memory_layer, query_layer, **kwargs)
        self._setup_monotonic(sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode)
        self._maybe_setup(memory, memory_sequence_length)

    def _mechanism_config(self):
        return {"units": self.units, "normalize": self.normalize, **self._monotonic_config(),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}

    def _score(self, query, state):
        return _Additive._score(self, query, state) + self._weight(self.attention_score_bias)


@keras.saving.register_keras_serializable(package="course_lib")
class LuongMonotonicAttention(_Monotonic, LuongAttention):
    """Monotonic attention with the Luong score plus `attention_score_bias` (Raffel et al., 2017).

    Args: as `LuongAttention` (with `memory_layer`, `query_layer`), plus `sigmoid_noise`,
    `sigmoid_noise_seed`, `score_bias_init` and `mode` as `BahdanauMonotonicAttention`.
    """

    def __init__(self, units, memory=None, memory_sequence_length=None, scale=False, sigmoid_noise=0.0,
                 sigmoid_noise_seed=None, score_bias_init=0.0, mode="parallel", dtype=None,
                 name="LuongMonotonicAttention", *, memory_layer=None, query_layer=None, **kwargs):
        LuongAttention.__init__(self, units, None, None, scale, "softmax", dtype, name,
                                memory_layer=memory_layer, query_layer=query_layer, **kwargs)
        self._setup_monotonic(sigmoid_noise, sigmoid_noise_seed, score_bias_init, mode)
        self._maybe_setup(memory, memory_sequence_length)

    def _mechanism_config(self):
        return {"units": self.units, "scale": self.scale, **self._monotonic_config()}

    def _score(self, query, state):
        return LuongAttention._score(self, query, state) + self._weight(self.attention_score_bias)
