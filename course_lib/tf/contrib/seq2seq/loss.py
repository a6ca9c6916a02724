"""``contrib.seq2seq.sequence_loss`` (TensorFlow): TF1's flags on the modern ``sequence_loss``."""

from __future__ import annotations

from course_lib.common.contrib import tf1_loss_flags
from course_lib.tf import loss as modern


def sequence_loss(logits, targets, weights, average_across_timesteps=True, average_across_batch=True,
                  sum_over_timesteps=False, sum_over_batch=False, softmax_loss_function=None, name=None):
    """TF1's weighted cross-entropy of sequences (``tf.contrib.seq2seq.sequence_loss``, 1.15).

    Args:
      logits: ``[B, T, V]``; targets: int ``[B, T]``; weights: ``[B, T]`` (0 masks padding).
      average_across_timesteps / average_across_batch: divide that axis' weighted sum by the sum
        of the weights; sum_over_timesteps / sum_over_batch: by the count of non-zero weights.
        TF1 takes the first that applies (both averages, both sums, one average, one sum), so an
        average with a sum over the other axis averages only (tfa refuses that pair).
      softmax_loss_function: optional ``fn(labels=, logits=) -> losses``.

    Returns: a scalar when both axes are reduced, ``[T]`` or ``[B]`` when one is, else ``[B, T]``.
    """
    flags = tf1_loss_flags(average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch)
    return modern.sequence_loss(logits, targets, weights, softmax_loss_function=softmax_loss_function, name=name,
                                **flags)
