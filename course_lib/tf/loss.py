"""``sequence_loss``: cross-entropy over a batch of sequences, with weights that mask padding."""

from __future__ import annotations

import tensorflow as tf

from course_lib.common.args import check_loss_flags
from course_lib.common.checks import check_integer, check_rank, describe


def sequence_mask(lengths, maxlen=None, dtype=tf.bool):
    """``mask[b, t] = t < lengths[b]``. Args: lengths ``[B]``; returns ``[B, maxlen]``."""
    lengths = tf.convert_to_tensor(lengths)
    check_integer(lengths, "lengths")
    return tf.sequence_mask(lengths, maxlen=maxlen, dtype=dtype)


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
    logits = tf.convert_to_tensor(logits)
    targets = tf.convert_to_tensor(targets)
    weights = tf.convert_to_tensor(weights)
    check_rank(logits, 3, "logits", "[batch_size, sequence_length, num_classes]")
    check_rank(targets, 2, "targets", "[batch_size, sequence_length]")
    check_rank(weights, 2, "weights", "[batch_size, sequence_length]")
    check_integer(targets, "targets")
    if not logits.shape[:2].is_compatible_with(targets.shape):
        raise ValueError(
            f"`targets` must be [batch, time] = {logits.shape[:2].as_list()} like `logits`, got {describe(targets)}"
        )
    if not weights.shape.is_compatible_with(targets.shape):
        raise ValueError(
            f"`weights` must be shaped like `targets` {targets.shape.as_list()}, got {describe(weights)}"
        )
    num_classes = tf.shape(logits)[2]
    flat_logits = tf.reshape(logits, [-1, num_classes])
    flat_targets = tf.reshape(targets, [-1])
    if softmax_loss_function is None:
        crossent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=flat_targets, logits=flat_logits)
    else:
        crossent = softmax_loss_function(labels=flat_targets, logits=flat_logits)
    weights = tf.cast(weights, crossent.dtype)
    crossent = crossent * tf.reshape(weights, [-1])
    if average_across_timesteps and average_across_batch:
        return tf.math.divide_no_nan(tf.reduce_sum(crossent), tf.reduce_sum(weights))
    if sum_over_timesteps and sum_over_batch:
        count = tf.cast(tf.math.count_nonzero(weights), crossent.dtype)
        return tf.math.divide_no_nan(tf.reduce_sum(crossent), count)
    crossent = tf.reshape(crossent, tf.shape(logits)[0:2])
    if average_across_timesteps or average_across_batch:
        axis = 0 if average_across_batch else 1
        return tf.math.divide_no_nan(tf.reduce_sum(crossent, axis), tf.reduce_sum(weights, axis))
    if sum_over_timesteps or sum_over_batch:
        axis = 0 if sum_over_batch else 1
        count = tf.cast(tf.math.count_nonzero(weights, axis), crossent.dtype)
        return tf.math.divide_no_nan(tf.reduce_sum(crossent, axis), count)
    return crossent


class SequenceLoss:
    """``sequence_loss`` as a loss object: ``loss(y_true, y_pred, sample_weight=None)``.

    Defaults sum over both axes and divide by the count of non-zero weights (tfa's default).
    Usable as ``model.compile(loss=SequenceLoss())``.
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
        """Args: y_true ``[B, T]`` ids; y_pred ``[B, T, V]`` logits; sample_weight ``[B, T]`` or None."""
        if sample_weight is None:
            sample_weight = tf.ones(tf.shape(y_true), dtype=y_pred.dtype)
        return sequence_loss(
            y_pred, y_true, sample_weight,
            average_across_timesteps=self.average_across_timesteps,
            average_across_batch=self.average_across_batch,
            sum_over_timesteps=self.sum_over_timesteps,
            sum_over_batch=self.sum_over_batch,
            softmax_loss_function=self.softmax_loss_function,
        )
