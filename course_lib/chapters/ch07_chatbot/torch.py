"""Chapter 7 in PyTorch: ``from course_lib.chapters.ch07_chatbot import torch as ch``.

The model, trainer, replies, checkpoints and exercise checkers of the chapter; the TensorFlow binding,
``course_lib.chapters.ch07_chatbot.tf``, has the same names. Checkpoints hold ``torch.save`` state
dicts, loaded with ``weights_only=True`` (each backend reads its own weights format).
"""

from __future__ import annotations

import torch

import course_lib.torch as cl

from course_lib.chapters import _torch as adapter
from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch07_chatbot import checkers, checkpoints, pretrained
from course_lib.chapters.ch07_chatbot.model_torch import Seq2SeqChatbot, Trainer, reverse_padded
from course_lib.chapters.ch07_chatbot.replies import METHODS, Chatbot, Reply
from course_lib.chapters.ch07_chatbot.training import ATTENTION_TYPES, Evaluation
from course_lib.chapters.ch07_chatbot.pretrained import DEFAULT_MODEL, NO_ATTENTION_MODEL, Pretrained
from course_lib.common.checking import CheckResult
from course_lib.common.checkpoint import CheckpointError
from course_lib.torch.sampled_softmax import log_uniform_candidates, sampled_softmax_loss

__all__ = ["ATTENTION_TYPES", "METHODS", "Seq2SeqChatbot", "reverse_padded", "Trainer", "Evaluation", "Chatbot",
           "Reply", "save_checkpoint", "load_checkpoint", "CheckpointError", "WEIGHTS_SUFFIX",
           "load_pretrained", "Pretrained", "DEFAULT_MODEL", "NO_ATTENTION_MODEL",
           "log_uniform_candidates", "sampled_softmax_loss",
           "CheckResult", "check_reverse_padded", "check_beam_start", "check_sampled_softmax"]

WEIGHTS_SUFFIX = ".pt"


def save_checkpoint(directory, model: Seq2SeqChatbot, tokenizer):
    """Save the weights (``torch.save`` of the state dict), the tokenizer and the config into ``directory``.

    New files first, then one atomic rename of ``checkpoint.json``: a failure leaves the checkpoint
    already there intact. Returns the folder's path.
    """
    def write_weights(path):
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, path)
    return checkpoints.save(directory, "torch", model, tokenizer, WEIGHTS_SUFFIX, write_weights)


def load_checkpoint(directory, device=None):
    """``(model, tokenizer)`` from ``save_checkpoint``'s folder, every file checked first.

    The weights load with ``torch.load(weights_only=True)``: tensors only, no code. ``device``: where
    the model goes (default: the CPU). Raises ``FileNotFoundError`` (no checkpoint) or ``CheckpointError``.
    """
    def read_weights(model, path):
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    model, tokenizer = checkpoints.load(directory, "torch", Seq2SeqChatbot, read_weights)
    return model.to(device or "cpu"), tokenizer


def load_pretrained(name=DEFAULT_MODEL, device=None) -> Pretrained:
    """A model shipped with the course (``notebooks/data/models/<name>``, or a folder), every file checked first.

    The weights are framework-neutral NumPy arrays: the TensorFlow binding loads the same file and computes the
    same replies. ``device``: where the model goes (default: the CPU). Returns ``Pretrained(model, tokenizer,
    manifest, folder)``. Raises ``FileNotFoundError`` (no such model) or ``CheckpointError`` (naming the file).
    """
    def build(**config):
        return Seq2SeqChatbot(**config).to(device or "cpu").eval()
    return pretrained.load_pretrained(name, build, cl.import_weights)


def _new_model(vocab_size, **kwargs):
    """A ``Seq2SeqChatbot`` in eval mode (no dropout), for the checkers."""
    return Seq2SeqChatbot(vocab_size, **kwargs).eval()


_BACKEND = Backend(
    adapter, new_model=_new_model, tensor=torch.tensor, sampled_softmax_loss=sampled_softmax_loss,
    initial_state_call="model.decoder_cell.get_initial_state(batch_size=..., dtype=..., device=...)",
    row_tiling="torch's .repeat", sampled_reference="sampled_softmax_loss (TensorFlow's formula)",
)
check_reverse_padded, check_beam_start, check_sampled_softmax = bind(checkers, _BACKEND, __name__)
