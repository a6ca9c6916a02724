"""Sampled softmax (TensorFlow): the loss over the true class and a few sampled ones.

``tf.nn.sampled_softmax_loss`` and its log-uniform sampler, with the signature of the PyTorch twin
(``course_lib.torch.sampled_softmax``, written there). Chapter 7's
``Trainer(num_sampled=...)`` (``course_lib.chapters.ch07_chatbot``) trains with it.
"""

from __future__ import annotations

from typing import Optional

import tensorflow as tf

__all__ = ["log_uniform_candidates", "sampled_softmax_loss"]


def log_uniform_candidates(num_sampled: int, num_classes: int, labels, seed: Optional[int] = None):
    """``tf.random.log_uniform_candidate_sampler(unique=True)``: ``num_sampled`` distinct classes drawn
    with ``p(k) = log((k + 2) / (k + 1)) / log(V + 1)``, and their expected counts.

    Returns ``(sampled [num_sampled], true_expected_count [N, 1], sampled_expected_count [num_sampled])``.
    """
    return tf.random.log_uniform_candidate_sampler(tf.cast(labels, tf.int64), 1, num_sampled, True, num_classes,
                                                   seed=seed)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled: int, num_classes: int,
                         sampled_values=None, remove_accidental_hits: bool = True, seed: Optional[int] = None):
    """The softmax loss over the true class and ``num_sampled`` sampled classes only.

    ``tf.nn.sampled_softmax_loss`` (one true class): the log-uniform (Zipf) sampler draws distinct
    classes, each logit is corrected by ``- log(expected count)``, and a sample equal to the true
    class is masked out.

    Args:
      weights: ``[V, A]`` output weights (a Keras ``Dense`` kernel transposed); biases: ``[V]``.
      labels: ``[N, 1]`` int true classes; inputs: ``[N, A]``.
      num_sampled, num_classes: how many classes to sample, out of V.
      sampled_values: ``(sampled [num_sampled], true_expected_count [N, 1], sampled_expected_count
        [num_sampled])`` to use instead of sampling (the PyTorch twin takes the same).
      remove_accidental_hits, seed: as TensorFlow's.

    Returns:
      ``[N]`` per-example losses.
    """
    labels = tf.cast(labels, tf.int64)
    return tf.nn.sampled_softmax_loss(weights, biases, labels, inputs, num_sampled, num_classes,
                                      sampled_values=sampled_values, remove_accidental_hits=remove_accidental_hits,
                                      seed=seed)
