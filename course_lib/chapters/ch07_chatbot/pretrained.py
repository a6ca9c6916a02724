"""The chatbots that ship with the course: framework-neutral files that both backends load (framework-free).

A shipped model is a sealed checkpoint folder (``course_lib.common.checkpoint``) with backend ``"numpy"``::

    checkpoint.json          model config, training settings and history, the data's SHA-256, every file's
                             SHA-256, and the SHA-256 of its own text (``manifest_sha256``)
    weights-NNNNNN.npz       NumPy arrays in ``export_weights`` naming (compressed; no pickles)
    tokenizer-NNNNNN.model   the sentencepiece tokenizer it was trained with
    loss-NNNNNN.png          the training and validation loss curves

``read_pretrained`` checks every one of those bytes before anything is built; the bindings'
``load_pretrained(name)`` then build the backend's ``Seq2SeqChatbot`` from the config and
``import_weights`` the arrays, so the TensorFlow and the PyTorch model compute the same numbers.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Callable, Dict, NamedTuple, Optional

import numpy as np

from course_lib.common.checkpoint import NEUTRAL, CheckpointError, read_checkpoint, read_manifest, write_checkpoint
from course_lib.chapters.ch07_chatbot.checkpoints import load_tokenizer
from course_lib.common.tokenizer import SubwordTokenizer

#: the folder of the shipped models in a checkout of the course (``notebooks/data/models``); the environment
#: variable ``COURSE_LIB_MODELS`` names another folder of model folders
MODELS_DIR = Path(os.environ.get("COURSE_LIB_MODELS") or
                  Path(__file__).resolve().parents[3] / "notebooks" / "data" / "models")
#: the model that ``chat``, the chat widget and the notebook use unless told otherwise
DEFAULT_MODEL = "chatbotdata-attention"
#: the same recipe without attention: the baseline of the chapter's quality table
NO_ATTENTION_MODEL = "chatbotdata-no-attention"
_NAMES = ("weights", "tokenizer")


class Pretrained(NamedTuple):
    """A loaded shipped model: the backend's ``model``, its ``tokenizer``, the checked ``manifest`` (training
    settings, history, data hash) and the ``folder`` it came from."""

    model: object
    tokenizer: SubwordTokenizer
    manifest: dict
    folder: Path


def model_folder(name_or_path=DEFAULT_MODEL) -> Path:
    """The folder of a shipped model: a name under ``MODELS_DIR`` (``"chatbotdata-attention"``) or a path.

    Raises:
      FileNotFoundError: naming the folder and the models that are there.
    """
    text = os.fspath(name_or_path)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"`model` must be a model name or a folder, got {name_or_path!r}")
    path = Path(text)
    if not (path.is_absolute() or os.sep in text or "/" in text or path.exists()):
        path = MODELS_DIR / text
    if not path.is_dir():
        known = sorted(p.name for p in MODELS_DIR.iterdir() if (p / "checkpoint.json").is_file()) \
            if MODELS_DIR.is_dir() else []
        raise FileNotFoundError(f"no model at {str(path)!r}; shipped models: {known or 'none found'} "
                                f"(train one with: python -m course_lib train-chatbot)")
    return path


def save_pretrained(directory, weights: Dict[str, np.ndarray], tokenizer: SubwordTokenizer, config: dict,
                    extra: dict, loss_plot: Optional[Callable] = None) -> Path:
    """Write a sealed, framework-neutral model folder.

    Args:
      directory: the folder (created; an older version there is replaced atomically).
      weights: ``export_weights(model)``: ``{key: float32 array}``.
      tokenizer: the model's tokenizer.
      config: ``model.get_config()``.
      extra: JSON-able entries of the manifest (``training``, ``data``, ``history``).
      loss_plot: ``loss_plot(path)`` writes the loss curves' PNG (optional).
    """
    if tokenizer.vocab_size != config["vocab_size"]:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} ids, the model {config['vocab_size']}")
    arrays = {k: np.asarray(v, np.float32) for k, v in sorted(weights.items())}

    def write_weights(path):
        with open(path, "wb") as f:
            np.savez_compressed(f, **arrays)

    writers = {"weights": (".npz", write_weights), "tokenizer": (".model", tokenizer.save)}
    if loss_plot is not None:
        writers["loss"] = (".png", loss_plot)
    return write_checkpoint(directory, NEUTRAL, config, writers, extra=extra, seal=True)


def read_pretrained(name_or_path=DEFAULT_MODEL):
    """``(config, weights, tokenizer, manifest, folder)`` of a shipped model, every file checked first.

    The manifest's seal and the SHA-256 of every file it lists (the loss plot too) are checked before any
    file is read; the weights load with ``allow_pickle=False``.

    Raises:
      FileNotFoundError: no such model.
      CheckpointError: a changed, missing or unsealed file, naming it.
    """
    folder = model_folder(name_or_path)
    manifest = read_manifest(folder, require_seal=True)
    config, paths = read_checkpoint(folder, NEUTRAL, sorted(manifest["files"]), require_seal=True)
    if not set(_NAMES) <= set(paths):
        raise CheckpointError(f"{folder / 'checkpoint.json'} lists no {sorted(set(_NAMES) - set(paths))} file")
    try:
        with np.load(paths["weights"], allow_pickle=False) as data:
            weights = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{paths['weights']} is not a NumPy weights file ({type(exc).__name__}: {exc})") \
            from None
    return config, weights, load_tokenizer(paths["tokenizer"], config.get("vocab_size")), manifest, folder


def load_pretrained(name_or_path, build: Callable, import_weights: Callable) -> Pretrained:
    """A shipped model built in one backend: ``build(**config)``, then ``import_weights(model, weights)``.

    Raises:
      FileNotFoundError, CheckpointError: as ``read_pretrained``; a config or weights that do not fit the
      model give a ``CheckpointError`` too.
    """
    config, weights, tokenizer, manifest, folder = read_pretrained(name_or_path)
    try:
        model = build(**config)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{folder}: the saved config cannot build a model ({exc})") from None
    try:
        import_weights(model, weights)
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{folder}: the weights do not fit the model ({type(exc).__name__}: {exc})") from None
    return Pretrained(model, tokenizer, manifest, folder)
