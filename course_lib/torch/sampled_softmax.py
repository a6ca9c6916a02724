"""Sampled softmax (PyTorch): the loss over the true class and a few sampled ones.

PyTorch has no sampled softmax, so it is written here, the twin of ``tf.nn.sampled_softmax_loss``
(``course_lib.tf.sampled_softmax``): the same formula and signature, and the same numbers given the
same samples. Chapter 7's ``Trainer(num_sampled=...)``
(``course_lib.chapters.ch07_chatbot``) trains with it.
"""

from __future__ import annotations

import math
from typing import Optional

import torch

__all__ = ["log_uniform_candidates", "sampled_softmax_loss"]


def log_uniform_candidates(num_sampled: int, num_classes: int, labels, seed: Optional[int] = None, generator=None):
    """TensorFlow's ``log_uniform_candidate_sampler`` with ``unique=True``.

    Class ``k`` has probability ``p(k) = log((k + 2) / (k + 1)) / log(V + 1)`` (Zipf-like: small ids,
    the frequent tokens of a sorted vocabulary, are drawn more). Draws repeat until ``num_sampled``
    distinct classes came up; after ``n`` draws a class is expected ``1 - (1 - p)^n`` times.

    ``seed`` (or a ``torch.Generator``) makes the draws repeat.

    Returns ``(sampled [num_sampled], true_expected_count [N, 1], sampled_expected_count [num_sampled])``.
    """
    labels = torch.as_tensor(labels)
    device = labels.device
    if generator is None and seed is not None:
        generator = torch.Generator(device=device)
        generator.manual_seed(int(seed))
    log_range = math.log(num_classes + 1)
    chosen, seen, tries = [], set(), 0
    while len(chosen) < num_sampled:
        u = torch.rand(2 * num_sampled, generator=generator, device=device, dtype=torch.float64)
        draws = (torch.exp(u * log_range).floor().to(torch.int64) - 1).clamp_(0, num_classes - 1).tolist()
        for k in draws:
            tries += 1
            if k not in seen:
                seen.add(k)
                chosen.append(k)
                if len(chosen) == num_sampled:
                    break
    sampled = torch.tensor(chosen, dtype=torch.int64, device=device)

    def expected(ids):
        p = torch.log((ids.double() + 2) / (ids.double() + 1)) / log_range
        return (-torch.expm1(tries * torch.log1p(-p))).float()

    return sampled, expected(labels), expected(sampled)


def sampled_softmax_loss(weights, biases, labels, inputs, num_sampled: int, num_classes: int,
                         sampled_values=None, remove_accidental_hits: bool = True, seed: Optional[int] = None,
                         generator=None):
    """The softmax loss over the true class and ``num_sampled`` sampled classes only.

    The twin of ``tf.nn.sampled_softmax_loss`` (one true class): with the same ``sampled_values``
    it gives the same numbers. Each logit is corrected by ``- log(expected count)`` of its class, so
    that frequent classes, sampled often, are not over-penalised; a sample equal to the true class
    (an accidental hit) is masked out.

    Args:
      weights: ``[V, A]`` output weights (an ``nn.Linear``'s ``weight``); biases: ``[V]``.
      labels: ``[N, 1]`` int true classes; inputs: ``[N, A]``.
      num_sampled, num_classes: how many classes to sample, out of V.
      sampled_values: ``(sampled [num_sampled], true_expected_count [N, 1], sampled_expected_count
        [num_sampled])``; None draws them with ``log_uniform_candidates``.
      remove_accidental_hits: mask sampled classes equal to the true one.
      seed, generator: make the draws repeat (a seed, or, PyTorch only, a ``torch.Generator`` that advances).

    Returns:
      ``[N]`` per-example losses.
    """
    labels = torch.as_tensor(labels).to(torch.int64).reshape(-1, 1)  # (N, 1)
    if sampled_values is None:
        sampled_values = log_uniform_candidates(num_sampled, num_classes, labels, seed, generator)
    sampled, true_expected, sampled_expected = (torch.as_tensor(v, device=inputs.device) for v in sampled_values)
    sampled = sampled.to(torch.int64)
    true_logits = (inputs * weights[labels[:, 0]]).sum(-1, keepdim=True) + biases[labels]  # (N, 1)
    sampled_logits = inputs @ weights[sampled].T + biases[sampled]  # (N, num_sampled)
    if remove_accidental_hits:
        hits = labels == sampled[None, :]  # (N, num_sampled)
        sampled_logits = sampled_logits.masked_fill(hits, -torch.finfo(sampled_logits.dtype).max)
    true_logits = true_logits - torch.log(true_expected.to(inputs.dtype).reshape(-1, 1))
    sampled_logits = sampled_logits - torch.log(sampled_expected.to(inputs.dtype))[None, :]
    logits = torch.cat([true_logits, sampled_logits], 1)  # (N, 1 + num_sampled): the true class is column 0
    return torch.nn.functional.cross_entropy(logits, torch.zeros_like(labels[:, 0]), reduction="none")
