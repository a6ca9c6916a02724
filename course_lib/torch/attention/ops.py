"""Stateless attention functions for PyTorch: `hardmax`, `safe_cumprod`, `monotonic_attention`.

The attention mechanisms in `course_lib.torch.attention` use them (and the private layer helpers
below); the three functions are public there too.
Shapes: B batch, T memory time.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.common.checks import check_rank, describe

MONOTONIC_MODES = ("recursive", "parallel", "hard")


def _glorot_uniform_(tensor):
    """Keras' Glorot-uniform for a Keras-layout tensor: fans from `[..., in, out]` (1-D: n, n)."""
    if tensor.dim() == 1:
        fan_in = fan_out = tensor.shape[0]
    else:
        receptive = math.prod(tensor.shape[:-2])
        fan_in, fan_out = tensor.shape[-2] * receptive, tensor.shape[-1] * receptive
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    nn.init.uniform_(tensor, -limit, limit)


def _dense(in_features, units, dtype, device):
    """`Dense(units, use_bias=False)`: an `nn.Linear` with a Glorot-uniform kernel."""
    layer = nn.Linear(in_features, units, bias=False, dtype=dtype, device=device)
    with torch.no_grad():
        _glorot_uniform_(layer.weight.T)
    return layer


def hardmax(logits, name=None):
    """One-hot vectors at the maximum of each row (ties go to the lower index).

    Args:
      logits: `[..., T]` float tensor.
      name: unused (kept for the TensorFlow signature).

    Returns:
      `[..., T]` tensor of `logits.dtype` with one 1 per row.
    """
    logits = torch.as_tensor(logits)
    return F.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)


def _shift(x, dim, fill):
    """`[fill, x_0, ..., x_{n-2}]` along `dim` (an exclusive scan from an inclusive one)."""
    head = torch.full_like(x.narrow(dim, 0, 1), fill)
    return torch.cat([head, x.narrow(dim, 0, x.shape[dim] - 1)], dim)


def _cumsum(x, axis=0, exclusive=False, reverse=False):
    if reverse:
        x = x.flip(axis)
    out = torch.cumsum(x, axis)
    if exclusive:
        out = _shift(out, axis, 0.0)
    return out.flip(axis) if reverse else out


def safe_cumprod(x, *args, **kwargs):
    """Cumulative product computed as `exp(cumsum(log(x)))`, safe for tiny and zero `x`.

    Args:
      x: float tensor with values in [0, 1] (clipped to [tiny, 1]).
      *args, **kwargs: `axis` (or `dim`), `exclusive`, `reverse`, as `tf.math.cumprod`.

    Returns:
      a tensor shaped like `x`.
    """
    if "dim" in kwargs:
        kwargs["axis"] = kwargs.pop("dim")
    x = torch.as_tensor(x)
    tiny = torch.finfo(x.dtype).tiny
    return torch.exp(_cumsum(torch.log(torch.clamp(x, tiny, 1.0)), *args, **kwargs))


def monotonic_attention(p_choose_i, previous_attention, mode):
    """Monotonic attention distribution from choosing probabilities (Raffel et al., 2017).

    Once memory entry j is attended to, later output steps cannot attend to entries before j:
    `attention[i] = p[i] * q[i]` with `q[i] = (1 - p[i-1]) * q[i-1] + previous_attention[i]`.

    Args:
      p_choose_i: `[B, T]` probabilities (in [0, 1]) of choosing memory entry i.
      previous_attention: `[B, T]` attention of the previous output step
        (`[1, 0, ..., 0]` at the first step).
      mode: `'recursive'` (a loop: exact, slow), `'parallel'` (cumulative sums and
        products: fast, approximate when `p` is near 0 or 1, clipped at 1e-10) or
        `'hard'` (exact, needs `p_choose_i` of 0s and 1s).

    Returns:
      `[B, T]` attention distribution (sums to at most 1 per row).
    """
    if mode not in MONOTONIC_MODES:
        raise ValueError(f"`mode` must be one of {MONOTONIC_MODES}, got {mode!r}")
    p = torch.as_tensor(p_choose_i)
    previous = torch.as_tensor(previous_attention, dtype=p.dtype, device=p.device)
    check_rank(p, 2, "p_choose_i", "[batch, memory_time]")
    check_rank(previous, 2, "previous_attention", "[batch, memory_time]")
    if p.shape != previous.shape:
        raise ValueError(f"`previous_attention` must have the shape of `p_choose_i` {list(p.shape)}, "
                         f"got {describe(previous)}")
    if mode == "recursive":
        # [1, 1 - p[0], ..., 1 - p[T-2]]: the chance of moving on from the entry before
        shifted_1mp = _shift(1 - p, 1, 1.0)  # (B, T)
        q = torch.zeros_like(p[:, 0])
        qs = []
        for i in range(p.shape[1]):
            q = shifted_1mp[:, i] * q + previous[:, i]  # (B,)
            qs.append(q)
        return p * torch.stack(qs, 1) if qs else p
    if mode == "parallel":
        cumprod_1mp = safe_cumprod(1 - p, axis=1, exclusive=True)  # (B, T)
        return p * cumprod_1mp * torch.cumsum(previous / torch.clamp(cumprod_1mp, 1e-10, 1.0), 1)
    # hard: drop entries before last step's choice, then keep the first chosen one
    p = p * torch.cumsum(previous, 1)
    return p * _shift(torch.cumprod(1 - p, 1), 1, 1.0)


def monotonic_probability_fn(score, previous_alignments, sigmoid_noise, mode, noise_generator=None):
    """Scores -> choosing probabilities (sigmoid, with optional noise) -> monotonic attention.

    Args:
      score: `[B, T]` unnormalised scores (score bias included).
      previous_alignments: `[B, T]` alignments of the previous step.
      sigmoid_noise: standard deviation of the Gaussian noise added before the sigmoid (0: none).
      mode: see `monotonic_attention`; `'hard'` chooses `score > 0` instead of a sigmoid.
      noise_generator: a `torch.Generator` on `score`'s device for seeded noise, or None.

    Returns:
      `[B, T]` alignments.
    """
    if sigmoid_noise > 0:
        noise = torch.randn(score.shape, generator=noise_generator, dtype=score.dtype, device=score.device)
        score = score + sigmoid_noise * noise
    if mode == "hard":
        p_choose_i = (score > 0).to(score.dtype)
    else:
        p_choose_i = torch.sigmoid(score)
    return monotonic_attention(p_choose_i, previous_alignments, mode)
