"""``sequence_loss``: cross-entropy over a batch of sequences, with weights that mask padding."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from course_lib.common.args import check_loss_flags
from course_lib.common.checks import check_integer, check_rank, describe
from course_lib.torch.errors import _check_whole_ids


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
      targets: ``[B, T]`` integer ids, or ``[B, T, V]`` one-hot rows (any distribution over the
        classes: a soft cross-entropy).
      weights: ``[B, T]`` float; 0 masks a position (padding).
      average_across_timesteps / average_across_batch: divide the weighted sum over that axis
        by the sum of the weights.
      sum_over_timesteps / sum_over_batch: divide the weighted sum over that axis by the count of
        non-zero weights. Averaging one axis and summing the other is not allowed (ambiguous order).
      softmax_loss_function: optional ``fn(labels, logits) -> losses [B*T]`` replacing the
        cross-entropy; it gets ``logits [B*T, V]`` and ``labels [B*T]`` (ids) or ``[B*T, V]`` (one-hot).
      name: accepted for TensorFlow compatibility; unused.

    Returns: a scalar when both axes are reduced, ``[T]`` or ``[B]`` when one is, else ``[B, T]``.
    """
    check_loss_flags(average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch)
    check_rank(logits, 3, "logits", "[batch_size, sequence_length, num_classes]")
    check_rank(targets, (2, 3), "targets",
               "[batch_size, sequence_length] ids or [batch_size, sequence_length, num_classes] one-hot")
    check_rank(weights, 2, "weights", "[batch_size, sequence_length]")
    one_hot = targets.dim() == 3
    if one_hot and tuple(targets.shape) != tuple(logits.shape):
        raise ValueError(
            f"one-hot `targets` must be shaped like `logits` {list(logits.shape)}, got {describe(targets)}"
        )
    if not one_hot:
        check_integer(targets, "targets")
        if tuple(logits.shape[:2]) != tuple(targets.shape):
            raise ValueError(
                f"`targets` must be [batch, time] = {list(logits.shape[:2])} like `logits`, got {describe(targets)}"
            )
    if tuple(weights.shape) != tuple(targets.shape[:2]):
        raise ValueError(
            f"`weights` must be shaped like `targets` {list(targets.shape[:2])}, got {describe(weights)}"
        )
    B, T, V = logits.shape
    flat_logits = logits.reshape(-1, V)  # (B*T, V)
    flat_targets = targets.reshape(-1, V) if one_hot else targets.reshape(-1).to(torch.int64)  # (B*T, V) or (B*T,)
    if softmax_loss_function is not None:
        crossent = softmax_loss_function(labels=flat_targets, logits=flat_logits)
    elif one_hot:
        crossent = F.cross_entropy(flat_logits, flat_targets.to(flat_logits.dtype), reduction="none")  # (B*T,)
    else:
        crossent = F.cross_entropy(flat_logits, flat_targets, reduction="none")  # (B*T,)
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
    ``y_true`` is ``[B, T]`` ids or ``[B, T, V]`` one-hot; without ``sample_weight`` every position
    weighs 1. A plain callable (tfa's is a ``keras.losses.Loss``; PyTorch has no such base class).
    """

    def __init__(self, average_across_timesteps=False, average_across_batch=False,
                 sum_over_timesteps=True, sum_over_batch=True, softmax_loss_function=None, name=None):
        check_loss_flags(average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch)
        self.average_across_timesteps = average_across_timesteps
        self.average_across_batch = average_across_batch
        self.sum_over_timesteps = sum_over_timesteps
        self.sum_over_batch = sum_over_batch
        self.softmax_loss_function = softmax_loss_function
        self.name = name or "sequence_loss"

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Args: y_true ``[B, T]`` ids (floats that are whole numbers too) or ``[B, T, V]`` one-hot;
        y_pred ``[B, T, V]`` logits; sample_weight ``[B, T]`` or None. Returns the reduced loss (a
        scalar by default)."""
        y_true = torch.as_tensor(y_true)
        if y_true.dim() == 2 and y_true.is_floating_point():  # ids cast to float (as Keras does)
            y_true = _check_whole_ids(y_true)
        if sample_weight is None:
            sample_weight = torch.ones(y_pred.shape[:2], dtype=y_pred.dtype, device=y_pred.device)
        return sequence_loss(
            y_pred, y_true, sample_weight,
            average_across_timesteps=self.average_across_timesteps,
            average_across_batch=self.average_across_batch,
            sum_over_timesteps=self.sum_over_timesteps,
            sum_over_batch=self.sum_over_batch,
            softmax_loss_function=self.softmax_loss_function,
        )
