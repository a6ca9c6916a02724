"""What the two backends' model and trainer share and is not tensor code: the model's arguments,
its config, and the held-out evaluation (framework-free)."""

from __future__ import annotations

from typing import List, NamedTuple

import numpy as np

from course_lib.common.chat_data import Batch

ATTENTION_TYPES = ("bahdanau", "luong", None)


def model_config(vocab_size, embedding_size, units, attention, bidirectional, reverse_source, dropout) -> dict:
    """``Seq2SeqChatbot``'s arguments checked and made JSON-able: what a checkpoint stores to rebuild it.

    Raises:
      ValueError: naming the argument, what it must be and what was given.
    """
    for arg, value in (("vocab_size", vocab_size), ("embedding_size", embedding_size), ("units", units)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"`{arg}` must be a positive int, got {value!r}")
    if attention not in ATTENTION_TYPES:
        raise ValueError(f"`attention` must be one of {ATTENTION_TYPES}, got {attention!r}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"`dropout` must be in [0, 1), got {dropout!r}")
    if bidirectional and units % 2:
        raise ValueError(f"`units` must be even with bidirectional=True (two halves), got {units}")
    return dict(vocab_size=int(vocab_size), embedding_size=int(embedding_size), units=int(units),
                attention=attention, bidirectional=bool(bidirectional), reverse_source=bool(reverse_source),
                dropout=float(dropout))


def check_label_smoothing(value) -> float:
    """``value`` as a float in [0, 1); raises ValueError naming ``label_smoothing`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"`label_smoothing` must be a number in [0, 1), got {value!r}")
    return float(value)


class Configured:
    """A model built from ``model_config``'s dict, kept as ``self._hparams``."""

    def get_config(self) -> dict:
        """The constructor's arguments (JSON-able): what a checkpoint stores to rebuild the model."""
        return dict(self._hparams)


class Evaluation(NamedTuple):
    """Held-out loss: ``nll`` per token (nats), ``perplexity = exp(nll)``, the ``tokens`` counted."""

    nll: float
    perplexity: float
    tokens: int


class Evaluating:
    """``evaluate`` for a trainer whose ``loss(batch)`` is the masked mean NLL of one batch."""

    def loss(self, batch: Batch) -> float:  # pragma: no cover - each backend's Trainer defines it
        raise NotImplementedError

    def evaluate(self, batches: List[Batch]) -> Evaluation:
        """Per-token NLL and perplexity over ``batches`` (every real token counts once).

        Args:
          batches: ``Batch``es (``course_lib.common.chat_data``); ``target_length [B]`` counts each row's tokens.
        """
        total, tokens = 0.0, 0
        for batch in batches:
            n = int(batch.target_length.sum())
            total += self.loss(batch) * n
            tokens += n
        if not tokens:
            raise ValueError("`batches` hold no tokens")
        return Evaluation(total / tokens, float(np.exp(total / tokens)), tokens)
