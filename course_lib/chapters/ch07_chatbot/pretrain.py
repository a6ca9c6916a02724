"""The recipe of the shipped chatbots: ChatbotData's grouped split, the tokenizer, and training to convergence
(framework-free: the backend comes in as the chapter's binding ``ch`` and ``cl``).

``python -m course_lib train-chatbot`` runs it (``course_lib.chapters.ch07_chatbot.cli``); the notebook and
``bench/chatbot_quality.py`` call ``corpus(Recipe())`` to get the same split and token ids.

Training: Adam on bucketed batches with dropout and label smoothing; after each epoch the validation
perplexity decides: a new best keeps the weights (early stopping), ``patience`` epochs without one halve
the learning rate (``reduce on plateau``), and training stops at ``min_learning_rate``, at ``max_epochs`` or
when the next epoch would pass ``max_minutes``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, List, NamedTuple, Optional, Sequence

import numpy as np

from course_lib.common import chat_data
from course_lib.common.chat_splits import GroupedSplits, split_pairs_grouped
from course_lib.common.checkpoint import sha256_of
from course_lib.common.tokenizer import BOS_ID, EOS_ID, PAD_ID, SubwordTokenizer

Encoded = List[tuple]  # [(prompt ids, reply ids)]


class Recipe(NamedTuple):
    """Every setting of a training run (stored in the shipped model's manifest)."""

    vocab_size: int = 3000
    embedding_size: int = 128
    units: int = 256
    attention: Optional[str] = "bahdanau"
    bidirectional: bool = True
    reverse_source: bool = False
    dropout: float = 0.5
    label_smoothing: float = 0.1
    learning_rate: float = 3e-3
    decay: float = 0.5
    patience: int = 2
    min_learning_rate: float = 2e-4
    batch_size: int = 64
    max_epochs: int = 60
    max_minutes: float = 30.0
    clip_norm: float = 5.0
    seed: int = 0
    split_seed: int = 0
    near_duplicate_threshold: float = 0.5

    def model_kwargs(self) -> dict:
        return dict(vocab_size=self.vocab_size, embedding_size=self.embedding_size, units=self.units,
                    attention=self.attention, bidirectional=self.bidirectional, reverse_source=self.reverse_source,
                    dropout=self.dropout)


#: the chapter's live model: small, and a fixed number of epochs (no time limit), so the notebook's and the
#: bench's runs are the same computation
LIVE = Recipe(embedding_size=64, units=128, dropout=0.3, batch_size=128, max_epochs=2, max_minutes=1e6)


class Corpus(NamedTuple):
    """ChatbotData ready to train on: ``grouped`` (the splits and what grouping moved), the ``tokenizer``
    (trained on the training split), the ``train`` / ``valid`` / ``test`` token ids and the CSV's ``sha256``."""

    grouped: GroupedSplits
    tokenizer: SubwordTokenizer
    train: Encoded
    valid: Encoded
    test: Encoded
    sha256: str


def corpus(recipe: Recipe = Recipe(), path=None) -> Corpus:
    """ChatbotData (``path``, default: the shipped CSV), split with near-duplicate prompts grouped, tokenized.

    The tokenizer is trained on the training split's prompts and replies only; the same recipe gives the
    same split and a byte-identical tokenizer on every machine.
    """
    path = chat_data.CHATBOTDATA_PATH if path is None else path
    pairs = chat_data.load_chatbotdata_csv(path)
    grouped = split_pairs_grouped(pairs, 0.1, 0.1, seed=recipe.split_seed,
                                  threshold=recipe.near_duplicate_threshold)
    tokenizer = SubwordTokenizer.train([t for pair in grouped.splits.train for t in pair], recipe.vocab_size)
    train, valid, test = ([(tokenizer.encode(p), tokenizer.encode(r)) for p, r in split] for split in grouped.splits)
    return Corpus(grouped, tokenizer, train, valid, test, sha256_of(path))


def epoch_batches(encoded: Encoded, batch_size: int = 64, seed: int = 0, bucketing: bool = True) -> list:
    """One epoch of padded ``Batch``es (``<s> reply`` -> ``reply </s>``), bucketed by length."""
    lengths = [max(len(p), len(r) + 1) for p, r in encoded]
    order = chat_data.bucket_batches(lengths, batch_size, bucketing=bucketing, seed=seed)
    return [chat_data.make_batch([encoded[i][0] for i in rows], [encoded[i][1] for i in rows], PAD_ID, BOS_ID,
                                 EOS_ID) for rows in order]


class TrainResult(NamedTuple):
    """``model`` (the best validation epoch's weights), the per-step ``losses``, the per-epoch ``history``
    (dicts: epoch, train_loss, valid_nll, valid_perplexity, learning_rate, seconds), ``best_epoch``,
    ``stopped`` (why training ended), ``wall_s`` and ``load`` (the 1-minute load average at each epoch's end)."""

    model: object
    losses: List[float]
    history: List[dict]
    best_epoch: int
    stopped: str
    wall_s: float
    load: List[float]


class TqdmMonitor:
    """``TrainingMonitor``'s ``update`` / ``log`` / ``close`` on a terminal progress bar (tqdm, to stderr)."""

    def __init__(self, total: int, description: str = "training"):
        import sys

        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=description, unit="step", file=sys.stderr, mininterval=1.0)

    def update(self, loss) -> None:
        self.bar.update(1)
        self.bar.set_postfix_str(f"loss {float(loss):.3f}", refresh=False)

    def log(self, **metrics) -> None:
        self.bar.write(", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))

    def close(self) -> None:
        self.bar.close()


def train(ch, cl, recipe: Recipe, data: Corpus, new_model: Callable = None, monitor: Callable = None,
          log: Optional[Callable] = print) -> TrainResult:
    """Train ``recipe``'s model on ``data.train``, early-stopped on ``data.valid``.

    Args:
      ch, cl: the chapter's binding and the backend (``Seq2SeqChatbot``, ``Trainer``; ``set_seed``,
        ``export_weights``, ``import_weights``).
      new_model: ``new_model(**kwargs)`` builds the model (default ``ch.Seq2SeqChatbot``; PyTorch: put it on
        a device there).
      monitor: ``monitor(total_steps)`` gives an object with ``update(loss)``, ``log(valid_loss=...)`` and
        ``close()`` (``TrainingMonitor`` in a notebook, ``TqdmMonitor`` in a terminal), or None.
      log: where a line per epoch goes (None: nowhere).
    """
    cl.set_seed(recipe.seed)
    model = (new_model or ch.Seq2SeqChatbot)(**recipe.model_kwargs())
    trainer = ch.Trainer(model, learning_rate=recipe.learning_rate, clip_norm=recipe.clip_norm,
                         label_smoothing=recipe.label_smoothing)
    valid = epoch_batches(data.valid, 128, bucketing=True)
    steps = len(epoch_batches(data.train, recipe.batch_size))
    bar = monitor(recipe.max_epochs * steps) if monitor else None
    losses, history, load = [], [], []
    best, best_epoch, best_weights, waited = float("inf"), 0, None, 0
    start, stopped = time.perf_counter(), f"max_epochs ({recipe.max_epochs})"
    for epoch in range(1, recipe.max_epochs + 1):
        began = time.perf_counter()
        for batch in epoch_batches(data.train, recipe.batch_size, seed=recipe.seed * 1000 + epoch):
            losses.append(trainer.train_step(batch))
            if bar is not None:
                bar.update(losses[-1])
        result = trainer.evaluate(valid)
        if bar is not None:
            bar.log(valid_loss=result.nll)
        seconds = time.perf_counter() - began
        history.append(dict(epoch=epoch, train_loss=float(np.mean(losses[-steps:])), valid_nll=result.nll,
                            valid_perplexity=result.perplexity, learning_rate=trainer.learning_rate,
                            seconds=round(seconds, 1)))
        load.append(round(os.getloadavg()[0], 2))
        improved = result.nll < best - 1e-3
        if improved:
            best, best_epoch, best_weights, waited = result.nll, epoch, cl.export_weights(model), 0
        else:
            waited += 1
        if log is not None:
            log(f"epoch {epoch:2d}: train loss {history[-1]['train_loss']:.3f}, valid perplexity "
                f"{result.perplexity:6.2f}{' (best)' if improved else ''}, lr {trainer.learning_rate:.2g}, "
                f"{seconds:.0f} s, load {load[-1]}")
        if waited >= recipe.patience:
            trainer.learning_rate = trainer.learning_rate * recipe.decay  # reduce on plateau
            waited = 0
            if trainer.learning_rate < recipe.min_learning_rate:
                stopped = f"learning rate below {recipe.min_learning_rate:g} (converged)"
                break
        elapsed = time.perf_counter() - start
        if elapsed + seconds > 60 * recipe.max_minutes:
            stopped = f"time budget ({recipe.max_minutes:g} min)"
            break
    if bar is not None:
        bar.close()
    cl.import_weights(model, best_weights)  # early stopping: the best validation epoch
    return TrainResult(model, losses, history, best_epoch, stopped, time.perf_counter() - start, load)


def manifest_entries(recipe: Recipe, data: Corpus, result: TrainResult, backend: str, data_file=None) -> dict:
    """The shipped model's manifest entries besides config and files: training, data and history."""
    import platform

    return {
        "training": {**recipe._asdict(), "backend": backend, "best_epoch": result.best_epoch,
                     "epochs_run": len(result.history), "stopped": result.stopped,
                     "wall_seconds": round(result.wall_s, 1), "load_average": result.load,
                     "cpus": os.cpu_count(), "python": platform.python_version()},
        "data": {"name": "ChatbotData (songys/Chatbot_data, MIT)" if data_file is None else "a CSV with Q,A columns",
                 "file": "notebooks/data/ChatbotData/ChatbotData.csv" if data_file is None else Path(data_file).name,
                 "sha256": data.sha256, "split": [len(s) for s in data.grouped.splits],
                 "moved_by_grouping": data.grouped.moved},
        "history": result.history,
    }


def loss_plot_writer(result: TrainResult, steps_per_epoch: int, title: str) -> Callable:
    """``write(path)``: the PNG of the training loss per step and the validation NLL per epoch."""
    def write(path):
        from course_lib.common.widgets import plot_loss_curve

        valid = [(h["epoch"] * steps_per_epoch, h["valid_nll"]) for h in result.history]
        fig = plot_loss_curve(result.losses, {"validation NLL (no smoothing)": valid}, title=title)
        fig.savefig(path, format="png", dpi=90)
    return write


def steps_per_epoch(encoded: Sequence, batch_size: int) -> int:
    return -(-len(encoded) // batch_size)
