"""Stateless attention functions for TensorFlow: `hardmax`, `safe_cumprod`, `monotonic_attention`.

The attention mechanisms in `course_lib.tf.attention` use them; they are public there too.
Shapes: B batch, T memory time.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib.common.checks import check_rank, describe

MONOTONIC_MODES = ("recursive", "parallel", "hard")


def hardmax(logits, name=None):
    """One-hot vectors at the maximum of each row (ties go to the lower index).

    Args:
      logits: `[..., T]` float tensor.
      name: optional name scope.

    Returns:
      `[..., T]` tensor of `logits.dtype` with one 1 per row.
    """
    with tf.name_scope(name or "hardmax"):
        logits = tf.convert_to_tensor(logits)
        depth = logits.shape[-1] if logits.shape[-1] is not None else tf.shape(logits)[-1]
        return tf.one_hot(tf.argmax(logits, -1), depth, dtype=logits.dtype)


def safe_cumprod(x, *args, **kwargs):
    """Cumulative product computed as `exp(cumsum(log(x)))`, safe for tiny and zero `x`.

    Args:
      x: float tensor with values in [0, 1] (clipped to [tiny, 1]).
      *args, **kwargs: passed to `tf.cumsum` (`axis`, `exclusive`, `reverse`), as for `tf.math.cumprod`.

    Returns:
      a tensor shaped like `x`.
    """
    with tf.name_scope("safe_cumprod"):
        x = tf.convert_to_tensor(x)
        tiny = np.finfo(x.dtype.as_numpy_dtype).tiny
        return tf.exp(tf.cumsum(tf.math.log(tf.clip_by_value(x, tiny, 1)), *args, **kwargs))


def monotonic_attention(p_choose_i, previous_attention, mode):
    """Monotonic attention distribution from choosing probabilities (Raffel et al., 2017).

    Once memory entry j is attended to, later output steps cannot attend to entries before j:
    `attention[i] = p[i] * q[i]` with `q[i] = (1 - p[i-1]) * q[i-1] + previous_attention[i]`.

    Args:
      p_choose_i: `[B, T]` probabilities (in [0, 1]) of choosing memory entry i.
      previous_attention: `[B, T]` attention of the previous output step
        (`[1, 0, ..., 0]` at the first step).
      mode: `'recursive'` (a scan: exact, slow), `'parallel'` (cumulative sums and
        products: fast, approximate when `p` is near 0 or 1, clipped at 1e-10) or
        `'hard'` (exact, needs `p_choose_i` of 0s and 1s).

    Returns:
      `[B, T]` attention distribution (sums to at most 1 per row).
    """
    if mode not in MONOTONIC_MODES:
        raise ValueError(f"`mode` must be one of {MONOTONIC_MODES}, got {mode!r}")
    p = tf.convert_to_tensor(p_choose_i)
    previous = tf.convert_to_tensor(previous_attention, dtype=p.dtype)
    check_rank(p, 2, "p_choose_i", "[batch, memory_time]")
    check_rank(previous, 2, "previous_attention", "[batch, memory_time]")
    if p.shape.is_fully_defined() and previous.shape.is_fully_defined() and p.shape != previous.shape:
        raise ValueError(f"`previous_attention` must have the shape of `p_choose_i` {p.shape.as_list()}, "
                         f"got {describe(previous)}")
    if mode == "recursive":
        # [1, 1 - p[0], ..., 1 - p[T-2]]: the chance of moving on from the entry before
        shifted_1mp = tf.concat([tf.ones_like(p[:, :1]), 1 - p[:, :-1]], 1)  # (B, T)
        q = tf.scan(lambda q_prev, xs: xs[0] * q_prev + xs[1],
                    (tf.transpose(shifted_1mp), tf.transpose(previous)),
                    initializer=tf.zeros_like(p[:, 0]))  # (T, B)
        return p * tf.transpose(q)
    if mode == "parallel":
        cumprod_1mp = safe_cumprod(1 - p, axis=1, exclusive=True)  # (B, T)
        return p * cumprod_1mp * tf.cumsum(
            previous / tf.clip_by_value(cumprod_1mp, 1e-10, 1.0), axis=1)
    # hard: drop entries before last step's choice, then keep the first chosen one
    p = p * tf.cumsum(previous, axis=1)
    return p * tf.math.cumprod(1 - p, axis=1, exclusive=True)


def monotonic_probability_fn(score, previous_alignments, sigmoid_noise, mode, noise_generator=None):
    """Scores -> choosing probabilities (sigmoid, with optional noise) -> monotonic attention.

    Args:
      score: `[B, T]` unnormalised scores (score bias included).
      previous_alignments: `[B, T]` alignments of the previous step.
      sigmoid_noise: standard deviation of the Gaussian noise added before the sigmoid (0: none).
      mode: see `monotonic_attention`; `'hard'` chooses `score > 0` instead of a sigmoid.
      noise_generator: a `tf.random.Generator` for seeded noise, or None for `tf.random.normal`.

    Returns:
      `[B, T]` alignments.
    """
    if sigmoid_noise > 0:
        if noise_generator is not None:
            noise = noise_generator.normal(tf.shape(score), dtype=score.dtype)
        else:
            noise = tf.random.normal(tf.shape(score), dtype=score.dtype)
        score = score + sigmoid_noise * noise
    if mode == "hard":
        p_choose_i = tf.cast(score > 0, score.dtype)
    else:
        p_choose_i = tf.sigmoid(score)
    return monotonic_attention(p_choose_i, previous_alignments, mode)
