"""Chapter 7 in TensorFlow: ``from course_lib.chapters.ch07_chatbot import tf as ch``.

The model, trainer, replies, checkpoints and exercise checkers of the chapter; the PyTorch binding,
``course_lib.chapters.ch07_chatbot.torch``, has the same names. Checkpoints hold Keras
``.weights.h5`` files (each backend reads its own weights format).
"""

from __future__ import annotations

import course_lib.tf as cl  # first: it quiets TensorFlow's start-up log lines
import tensorflow as tf

from course_lib.chapters import _tf as adapter
from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch07_chatbot import checkers, checkpoints, pretrained
from course_lib.chapters.ch07_chatbot.model_tf import Seq2SeqChatbot, Trainer, reverse_padded
from course_lib.chapters.ch07_chatbot.replies import METHODS, Chatbot, Reply
from course_lib.chapters.ch07_chatbot.training import ATTENTION_TYPES, Evaluation
from course_lib.chapters.ch07_chatbot.pretrained import DEFAULT_MODEL, NO_ATTENTION_MODEL, Pretrained
from course_lib.common.checking import CheckResult
from course_lib.common.checkpoint import CheckpointError
from course_lib.tf.sampled_softmax import log_uniform_candidates, sampled_softmax_loss

__all__ = ["ATTENTION_TYPES", "METHODS", "Seq2SeqChatbot", "reverse_padded", "Trainer", "Evaluation", "Chatbot",
           "Reply", "save_checkpoint", "load_checkpoint", "CheckpointError", "WEIGHTS_SUFFIX",
           "load_pretrained", "Pretrained", "DEFAULT_MODEL", "NO_ATTENTION_MODEL",
           "log_uniform_candidates", "sampled_softmax_loss",
           "CheckResult", "check_reverse_padded", "check_beam_start", "check_sampled_softmax"]

WEIGHTS_SUFFIX = ".weights.h5"


def save_checkpoint(directory, model: Seq2SeqChatbot, tokenizer):
    """Save the weights (Keras ``.weights.h5``), the tokenizer and the config into ``directory``.

    New files first, then one atomic rename of ``checkpoint.json``: a failure leaves the checkpoint
    already there intact. Returns the folder's path.
    """
    return checkpoints.save(directory, "tf", model, tokenizer, WEIGHTS_SUFFIX,
                            lambda path: model.save_weights(str(path)))


def load_checkpoint(directory):
    """``(model, tokenizer)`` from ``save_checkpoint``'s folder, every file checked first.

    Raises ``FileNotFoundError`` (no checkpoint) or ``CheckpointError`` (naming the broken file).
    """
    return checkpoints.load(directory, "tf", Seq2SeqChatbot, lambda model, path: model.load_weights(str(path)))


def load_pretrained(name=DEFAULT_MODEL) -> Pretrained:
    """A model shipped with the course (``notebooks/data/models/<name>``, or a folder), every file checked first.

    The weights are framework-neutral NumPy arrays: the PyTorch binding loads the same file and computes the
    same replies. Returns ``Pretrained(model, tokenizer, manifest, folder)``. Raises ``FileNotFoundError``
    (no such model) or ``CheckpointError`` (a changed or missing file, naming it).
    """
    return pretrained.load_pretrained(name, Seq2SeqChatbot, cl.import_weights)


_BACKEND = Backend(
    adapter, new_model=Seq2SeqChatbot, tensor=tf.constant, sampled_softmax_loss=sampled_softmax_loss,
    initial_state_call="model.decoder_cell.get_initial_state(batch_size=..., dtype=...)",
    row_tiling="tf.tile", sampled_reference="tf.nn.sampled_softmax_loss",
)
check_reverse_padded, check_beam_start, check_sampled_softmax = bind(checkers, _BACKEND, __name__)
