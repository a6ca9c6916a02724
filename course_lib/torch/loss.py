"""``sequence_loss``: cross-entropy over a batch of sequences, with weights that mask padding."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.common.args import check_loss_flags
from course_lib.common.checks import check_integer, check_rank, describe


def sequence_mask(lengths, maxlen=None, dtype=torch.bool):
    """``mask[b, t] = t < lengths[b]``. Args: lengths ``[B]``; returns ``[B, maxlen]``."""
    lengths = torch.as_tensor(lengths)
    check_integer(lengths, "lengths")
    if maxlen is None:
        maxlen = int(lengths.max()) if lengths.numel() else 0
    mask = torch.arange(int(maxlen), device=lengths.device) < lengths[..., None]
    return mask.to(dtype)


def _div_no_nan(a, b):
    b = b.to(a.dtype)
    return torch.where(b != 0, a / torch.where(b != 0, b, torch.ones_like(b)), torch.zeros_like(a))


def sequence_loss(logits, targets, weights, average_across_timesteps=True, average_across_batch=True,
                  sum_over_timesteps=False, sum_over_batch=False, softmax_loss_function=None, name=None):
    """Weighted cross-entropy for sequences (tfa semantics).

    Args:
      logits: ``[B, T, V]`` float.
      targets: ``[B, T]`` integer ids.
      weights: ``[B, T]`` float; 0 masks a position (padding).
      average_across_timesteps / average_across_batch: divide the weighted sum over that axis
        by the sum of the weights.
      sum_over_timesteps / sum_over_batch: divide the weighted sum over that axis by the count of
        non-zero weights. Averaging one axis and summing the other is not allowed.
      softmax_loss_function: optional ``fn(labels, logits) -> losses`` replacing the cross-entropy.

    Returns: a scalar when both axes are reduced, ``[T]`` or ``[B]`` when one is, else ``[B, T]``.
    """
    check_loss_flags(average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch)
    check_rank(logits, 3, "logits", "[batch_size, sequence_length, num_classes]")
    check_rank(targets, 2, "targets", "[batch_size, sequence_length]")
    check_rank(weights, 2, "weights", "[batch_size, sequence_length]")
    check_integer(targets, "targets")
    if tuple(logits.shape[:2]) != tuple(targets.shape):
        raise ValueError(
            f"`targets` must be [batch, time] = {list(logits.shape[:2])} like `logits`, got {describe(targets)}"
        )
    if tuple(weights.shape) != tuple(targets.shape):
        raise ValueError(
            f"`weights` must be shaped like `targets` {list(targets.shape)}, got {describe(weights)}"
        )
    B, T, V = logits.shape
    flat_logits = logits.reshape(-1, V)
    flat_targets = targets.reshape(-1).to(torch.int64)
    if softmax_loss_function is None:
        crossent = F.cross_entropy(flat_logits, flat_targets, reduction="none")  # (B*T,)
    else:
        crossent = softmax_loss_function(labels=flat_targets, logits=flat_logits)
    weights = weights.to(crossent.dtype)
    crossent = crossent * weights.reshape(-1)
    if average_across_timesteps and average_across_batch:
        return _div_no_nan(crossent.sum(), weights.sum())
    if sum_over_timesteps and sum_over_batch:
        return _div_no_nan(crossent.sum(), (weights != 0).sum())
    crossent = crossent.reshape(B, T)
    if average_across_timesteps or average_across_batch:
        axis = 0 if average_across_batch else 1
        return _div_no_nan(crossent.sum(axis), weights.sum(axis))
    if sum_over_timesteps or sum_over_batch:
        axis = 0 if sum_over_batch else 1
        return _div_no_nan(crossent.sum(axis), (weights != 0).sum(axis))
    return crossent


class SequenceLoss:
    """``sequence_loss`` as a loss object: ``loss(targets, logits, sample_weight=None)``.

    Defaults sum over both axes and divide by the count of non-zero weights (tfa's default).
    """

    def __init__(self, average_across_timesteps=False, average_across_batch=False,
                 sum_over_timesteps=True, sum_over_batch=True, softmax_loss_function=None, name=None):
        check_loss_flags(average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch)
        self.average_across_timesteps = average_across_timesteps
        self.average_across_batch = average_across_batch
        self.sum_over_timesteps = sum_over_timesteps
        self.sum_over_batch = sum_over_batch
        self.softmax_loss_function = softmax_loss_function
        self.name = name

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Args: y_true ``[B, T]`` ids; y_pred ``[B, T, V]`` logits; sample_weight ``[B, T]`` or None."""
        if sample_weight is None:
            sample_weight = torch.ones(y_true.shape, dtype=y_pred.dtype, device=y_pred.device)
        return sequence_loss(
            y_pred, y_true, sample_weight,
            average_across_timesteps=self.average_across_timesteps,
            average_across_batch=self.average_across_batch,
            sum_over_timesteps=self.sum_over_timesteps,
            sum_over_batch=self.sum_over_batch,
            softmax_loss_function=self.softmax_loss_function,
        )
