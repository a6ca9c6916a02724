"""Saving and loading a chatbot, written once: the config, the weights file of the backend and the
tokenizer's own file, each checked by SHA-256 (``course_lib.common.checkpoint``; framework-free).

A binding passes how its framework writes and reads weights; everything else (checks, order of
writes, the errors) is here.
"""

from __future__ import annotations

from typing import Callable

from course_lib.common.checkpoint import CheckpointError, read_checkpoint, write_checkpoint
from course_lib.common.tokenizer import SubwordTokenizer


def save(directory, backend: str, model, tokenizer: SubwordTokenizer, weights_suffix: str,
         write_weights: Callable):
    """Save ``model``'s weights (``write_weights(path)``), ``tokenizer`` and config into ``directory``.

    New files first, then one atomic rename of ``checkpoint.json``: a failure leaves the checkpoint
    already there intact. Returns the folder's path.
    """
    if tokenizer.vocab_size != model.get_config()["vocab_size"]:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} ids, the model {model.get_config()['vocab_size']}")
    return write_checkpoint(directory, backend, model.get_config(), {
        "model": (weights_suffix, write_weights),
        "tokenizer": (".model", tokenizer.save),
    })


def load(directory, backend: str, build: Callable, read_weights: Callable):
    """``(model, tokenizer)`` from ``save``'s folder, every file checked first.

    Args:
      build: ``build(**config)`` makes the model (the backend's ``Seq2SeqChatbot``).
      read_weights: ``read_weights(model, path)`` loads the weights file into it; what it raises
        becomes a ``CheckpointError`` naming the file.

    Raises:
      FileNotFoundError: no checkpoint there.
      CheckpointError: a corrupted, incomplete or foreign checkpoint (naming the broken file).
    """
    config, paths = read_checkpoint(directory, backend, ["model", "tokenizer"])
    try:
        model = build(**config)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{directory}: the saved config cannot build a model ({exc})") from None
    try:
        read_weights(model, paths["model"])
    except Exception as exc:  # the framework's errors on a file that passed its checksum but does not fit
        raise CheckpointError(f"{paths['model']} does not hold this model's weights ({type(exc).__name__}: {exc})") \
            from None
    return model, load_tokenizer(paths["tokenizer"], config["vocab_size"])


def load_tokenizer(path, vocab_size) -> SubwordTokenizer:
    """The tokenizer of a checkpoint, checked to have the model's ``vocab_size`` ids.

    Raises ``CheckpointError`` naming the file when it is not a tokenizer or has other ids.
    """
    try:
        tokenizer = SubwordTokenizer.load(path)
    except ValueError as exc:
        raise CheckpointError(str(exc)) from None
    if tokenizer.vocab_size != vocab_size:
        raise CheckpointError(f"{path} has {tokenizer.vocab_size} ids, the model {vocab_size}")
    return tokenizer
