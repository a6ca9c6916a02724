"""``sequence_loss``: cross-entropy over a batch of sequences, with weights that mask padding."""

from __future__ import annotations

import keras
import tensorflow as tf

from course_lib.common.args import check_loss_flags
from course_lib.common.checks import check_integer, check_rank, describe
from course_lib.tf.errors import _check_whole_ids


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
      targets: ``[B, T]`` integer ids, or ``[B, T, V]`` one-hot rows (any distribution over the
        classes: a soft cross-entropy).
      weights: ``[B, T]`` float; 0 masks a position (padding).
      average_across_timesteps / average_across_batch: divide the weighted sum over that axis
        by the sum of the weights.
      sum_over_timesteps / sum_over_batch: divide the weighted sum over that axis by the count of
        non-zero weights. Averaging one axis and summing the other is not allowed (ambiguous order).
      softmax_loss_function: optional ``fn(labels, logits) -> losses [B*T]`` replacing the
        cross-entropy; it gets ``logits [B*T, V]`` and ``labels [B*T]`` (ids) or ``[B*T, V]`` (one-hot).
      name: a name scope for the ops.

    Returns: a scalar when both axes are reduced, ``[T]`` or ``[B]`` when one is, else ``[B, T]``.
    """
    check_loss_flags(average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch)
    logits = tf.convert_to_tensor(logits)
    targets = tf.convert_to_tensor(targets)
    weights = tf.convert_to_tensor(weights)
    check_rank(logits, 3, "logits", "[batch_size, sequence_length, num_classes]")
    check_rank(targets, (2, 3), "targets",
               "[batch_size, sequence_length] ids or [batch_size, sequence_length, num_classes] one-hot")
    check_rank(weights, 2, "weights", "[batch_size, sequence_length]")
    one_hot = targets.shape.rank == 3
    if one_hot and not logits.shape.is_compatible_with(targets.shape):
        raise ValueError(
            f"one-hot `targets` must be shaped like `logits` {logits.shape.as_list()}, got {describe(targets)}"
        )
    if not one_hot:
        check_integer(targets, "targets")
        if not logits.shape[:2].is_compatible_with(targets.shape):
            raise ValueError(
                f"`targets` must be [batch, time] = {logits.shape[:2].as_list()} like `logits`, got {describe(targets)}"
            )
    if not weights.shape.is_compatible_with(targets.shape[:2]):
        raise ValueError(
            f"`weights` must be shaped like `targets` {targets.shape[:2].as_list()}, got {describe(weights)}"
        )
    with tf.name_scope(name or "sequence_loss"):
        num_classes = tf.shape(logits)[2]
        flat_logits = tf.reshape(logits, [-1, num_classes])  # (B*T, V)
        flat_targets = tf.reshape(targets, [-1, num_classes] if one_hot else [-1])  # (B*T, V) or (B*T,)
        if softmax_loss_function is not None:
            crossent = softmax_loss_function(labels=flat_targets, logits=flat_logits)
        elif one_hot:
            crossent = tf.nn.softmax_cross_entropy_with_logits(labels=tf.cast(flat_targets, flat_logits.dtype),
                                                               logits=flat_logits)
        else:
            crossent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=flat_targets, logits=flat_logits)
        weights = tf.cast(weights, crossent.dtype)
        crossent = crossent * tf.reshape(weights, [-1])  # (B*T,)
        if average_across_timesteps and average_across_batch:
            return tf.math.divide_no_nan(tf.reduce_sum(crossent), tf.reduce_sum(weights))
        if sum_over_timesteps and sum_over_batch:
            count = tf.cast(tf.math.count_nonzero(weights), crossent.dtype)
            return tf.math.divide_no_nan(tf.reduce_sum(crossent), count)
        crossent = tf.reshape(crossent, tf.shape(logits)[0:2])  # (B, T)
        if average_across_timesteps or average_across_batch:
            axis = 0 if average_across_batch else 1
            return tf.math.divide_no_nan(tf.reduce_sum(crossent, axis), tf.reduce_sum(weights, axis))
        if sum_over_timesteps or sum_over_batch:
            axis = 0 if sum_over_batch else 1
            count = tf.cast(tf.math.count_nonzero(weights, axis), crossent.dtype)
            return tf.math.divide_no_nan(tf.reduce_sum(crossent, axis), count)
        return crossent


@keras.saving.register_keras_serializable(package="course_lib")
class SequenceLoss(keras.losses.Loss):
    """``sequence_loss`` as a Keras loss: ``loss(y_true, y_pred, sample_weight=None)``.

    Defaults sum over both axes and divide by the count of non-zero weights (tfa's default).
    ``model.compile(loss=SequenceLoss())`` then ``fit(x, targets, sample_weight=weights [B, T])``
    works with int targets ``[B, T]`` and one-hot targets ``[B, T, V]``: ``__call__`` is
    overridden (as tfa did), so Keras hands it the targets and the ``[B, T]`` weights unchanged
    and does no reduction of its own. Without ``sample_weight`` every position weighs 1. Ids
    cast to float (whole numbers) are taken as ids. Registered as ``course_lib>SequenceLoss``, so
    a model compiled with it saves and loads in Keras format.
    """

    def __init__(self, average_across_timesteps=False, average_across_batch=False,
                 sum_over_timesteps=True, sum_over_batch=True, softmax_loss_function=None, name=None):
        check_loss_flags(average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch)
        super().__init__(name=name or "sequence_loss", reduction=None)
        self.average_across_timesteps = average_across_timesteps
        self.average_across_batch = average_across_batch
        self.sum_over_timesteps = sum_over_timesteps
        self.sum_over_batch = sum_over_batch
        self.softmax_loss_function = softmax_loss_function

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Args: y_true ``[B, T]`` ids (floats that are whole numbers too) or ``[B, T, V]`` one-hot;
        y_pred ``[B, T, V]`` logits; sample_weight ``[B, T]`` or None. Returns the reduced loss (a
        scalar by default)."""
        y_pred, y_true = tf.convert_to_tensor(y_pred), tf.convert_to_tensor(y_true)
        if y_true.shape.rank == 2 and y_true.dtype.is_floating:  # ids cast to float (Keras does)
            y_true = _check_whole_ids(y_true)
        if sample_weight is None:
            sample_weight = tf.ones(tf.shape(y_pred)[:2], dtype=y_pred.dtype)
        return sequence_loss(
            y_pred, y_true, sample_weight,
            average_across_timesteps=self.average_across_timesteps,
            average_across_batch=self.average_across_batch,
            sum_over_timesteps=self.sum_over_timesteps,
            sum_over_batch=self.sum_over_batch,
            softmax_loss_function=self.softmax_loss_function,
        )

    def call(self, y_true, y_pred):
        """The loss with every position weighing 1 (``__call__`` does the work)."""
        return self(y_true, y_pred)

    def get_config(self):
        """The flags and the name (``softmax_loss_function`` is a Python function: not serialized)."""
        return {"name": self.name, "average_across_timesteps": self.average_across_timesteps,
                "average_across_batch": self.average_across_batch, "sum_over_timesteps": self.sum_over_timesteps,
                "sum_over_batch": self.sum_over_batch}
