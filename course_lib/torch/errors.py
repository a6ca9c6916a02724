"""Checks of the values inside a tensor (the twin of the TensorFlow backend's ``errors``).

Some checks look at values, not shapes: parent ids of ``gather_tree`` within ``[0, beam_width)``
a ``mask`` that is right padded (``TrainingSampler``) and float class ids that are whole numbers
(``SequenceLoss``'s ``y_true``). PyTorch runs eagerly, so the values
are read in NumPy and a bad one raises an ``InvalidArgumentValueError`` (a ``ValueError``) at the
call; the TensorFlow backend's error of that name is also a ``tf.errors.InvalidArgumentError``,
as tfa's was. The messages are written once,
in ``course_lib.common.args``. ``enable_tflite_convertible``'s batch-size check is TensorFlow's only.
"""

from __future__ import annotations

import torch

from course_lib.common.args import (
    first_bad_parent_id, first_fractional_value, first_left_padded_row, parent_ids_message, right_padding_message,
    whole_ids_message,
)



class InvalidArgumentValueError(ValueError):
    """A value inside a tensor argument is wrong (the twin of TensorFlow's, which is also a
    ``tf.errors.InvalidArgumentError``)."""


def _host_check(fn):
    """A check that reads tensor values on the host (NumPy). Under ``torch.compile`` it runs as
    written, outside the compiled graph (one graph break), instead of being traced: Dynamo turns
    NumPy calls into tensor ops, and its guard on them fails under ``inference_mode``."""
    return torch.compiler.disable(fn)


@_host_check
def _check_sequence_is_right_padded(mask, time_major):
    """Every row of ``mask`` is True for its first steps, then only False (tfa's helper).

    Args: mask ``[B, T]`` (``[T, B]`` if ``time_major``), any dtype (nonzero is True). Raises an
    ``InvalidArgumentValueError`` naming the first bad row.
    """
    mask = torch.as_tensor(mask).bool()
    mask = mask.t() if time_major else mask  # (B, T)
    bad = first_left_padded_row(mask.cpu().numpy())
    if bad is not None:
        raise InvalidArgumentValueError(right_padding_message(*bad))


@_host_check
def _check_parent_ids(parent_ids, max_sequence_lengths, beam_width):
    """Parent ids within ``[0, beam_width)`` at every step ``t < max_sequence_lengths[b]`` (later
    steps are padding and may hold anything, e.g. -1). Advanced indexing would take -1 as the
    last beam, silently.

    Args: parent_ids ``[T, B, W]``; max_sequence_lengths ``[B]``; beam_width an int.
    Returns ``parent_ids``.
    """
    bad = first_bad_parent_id(parent_ids.cpu().numpy(), max_sequence_lengths.cpu().numpy(), int(beam_width))
    if bad is not None:
        raise InvalidArgumentValueError(parent_ids_message(*bad, beam_width=int(beam_width)))
    return parent_ids


@_host_check
def _check_whole_ids(ids):
    """Float class ids (Keras-style code may cast ``y_true`` to float) that are whole numbers, as
    int64 ids. Args: ids ``[...]`` float. Raises an ``InvalidArgumentValueError`` naming a value
    that is not whole."""
    bad = first_fractional_value(ids.detach().cpu().numpy())
    if bad is not None:
        raise InvalidArgumentValueError(whole_ids_message(bad))
    return ids.to(torch.int64)
