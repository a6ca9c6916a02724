"""Checks of the values inside a tensor: raised eagerly, asserted in a graph, with one error type.

Some checks look at values, not shapes: ``sequence_length`` within ``[0, T]``, parent ids of
``gather_tree`` within ``[0, beam_width)``, a ``mask`` that is right padded (``TrainingSampler``),
a batch size of 1 with ``enable_tflite_convertible=True`` (``dynamic_decode``), float class ids
that are whole numbers (``SequenceLoss``'s ``y_true``, which Keras may cast to float). Eagerly the values
are read in NumPy and a bad one raises at the call; inside a ``tf.function`` they are not known
yet, so the check becomes an assertion op that fails at run time with the same message (a
``tf.errors.InvalidArgumentError``). The messages are written once, in ``course_lib.common.args``.

tfa raised ``tf.errors.InvalidArgumentError`` for the last three; the course raises ``ValueError``
for bad arguments. ``InvalidArgumentValueError`` is both, so either ``except`` catches it.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.common.args import (
    first_bad_parent_id, first_fractional_value, first_left_padded_row, parent_ids_message, right_padding_message,
    tflite_batch_message, whole_ids_message,
)
from course_lib.common.checks import check_length_values


class InvalidArgumentValueError(tf.errors.InvalidArgumentError, ValueError):
    """A value inside a tensor argument is wrong: a ``ValueError`` and a ``tf.errors.InvalidArgumentError``."""

    def __init__(self, node_def=None, op=None, message=None, *args):
        """``InvalidArgumentValueError(message)``; also takes ``OpError``'s ``(node_def, op, message)``,
        which AutoGraph passes when it re-raises the error from inside a ``tf.function``."""
        if message is None and isinstance(node_def, str):
            node_def, message = None, node_def
        super().__init__(node_def, op, message, *args)


def _graph_assertion(condition, message_fn, values):
    """An assertion op that fails unless ``condition`` holds, with ``message_fn``'s message.

    Args:
      condition: a scalar bool tensor.
      message_fn: a function of ``len(values)`` arguments returning the message (from
        ``course_lib.common.args``); it is called with placeholders, which ``tf.strings.format``
        fills with ``values`` at run time.
      values: tensors (or Python values) for ``message_fn``'s arguments, in its order.

    Returns:
      The assertion op (for ``tf.control_dependencies``).
    """
    marks = [f"<<{i}>>" for i in range(len(values))]
    text = message_fn(*marks)
    order = sorted(range(len(values)), key=lambda i: text.index(marks[i]))  # the order they appear in the text
    for mark in marks:
        text = text.replace(mark, "{}")
    return tf.debugging.Assert(condition, [tf.strings.format(text, [values[i] for i in order])])


def _after(assertion, tensor):
    """``tensor``, computed after ``assertion`` has run (so a graph cannot skip the check)."""
    with tf.control_dependencies([assertion]):
        return tf.identity(tensor)


def _check_length_values(sequence_length, T_static, T):
    """``sequence_length`` within ``[0, T]``: eagerly a ValueError; in a graph an assertion naming it.

    Returns ``sequence_length`` (in a graph: after the assertions).
    """
    if tf.executing_eagerly():
        check_length_values(sequence_length.numpy(), T_static)
        return sequence_length
    checks = [
        tf.debugging.assert_non_negative(sequence_length, message="`sequence_length` must be >= 0"),
        tf.debugging.assert_less_equal(
            tf.cast(sequence_length, tf.int32), tf.cast(T, tf.int32),
            message="`sequence_length` must be <= the time axis of the inputs",
        ),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(sequence_length)


def _check_sequence_is_right_padded(mask, time_major):
    """Every row of ``mask`` is True for its first steps, then only False (tfa's helper).

    Args: mask ``[B, T]`` (``[T, B]`` if ``time_major``), any dtype (nonzero is True). Eagerly
    raises an ``InvalidArgumentValueError`` naming the first bad row and returns None; in a graph
    returns the assertion op.
    """
    mask = tf.cast(tf.convert_to_tensor(mask), tf.bool)
    mask = tf.transpose(mask) if time_major else mask  # (B, T)
    if tf.executing_eagerly():
        bad = first_left_padded_row(mask.numpy())
        if bad is not None:
            raise InvalidArgumentValueError(right_padding_message(*bad))
        return None
    lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)  # (B,)
    wrong = tf.reduce_any(tf.not_equal(mask, tf.sequence_mask(lengths, tf.shape(mask)[1])), axis=1)  # (B,)
    row = tf.argmax(tf.cast(wrong, tf.int32), output_type=tf.int32)  # the first wrong row (0 if none)
    return _graph_assertion(tf.logical_not(tf.reduce_any(wrong)), right_padding_message,
                           [row, tf.cast(tf.gather(mask, row), tf.int32)])


def _check_parent_ids(parent_ids, max_sequence_lengths, beam_width):
    """Parent ids within ``[0, beam_width)`` at every step ``t < max_sequence_lengths[b]`` (later
    steps are padding and may hold anything, e.g. -1).

    Args: parent_ids ``[T, B, W]`` int32; max_sequence_lengths ``[B]`` int32; beam_width an int
    (or a scalar tensor). Returns ``parent_ids`` (in a graph: after the assertion).
    """
    if tf.executing_eagerly():
        bad = first_bad_parent_id(parent_ids.numpy(), max_sequence_lengths.numpy(), int(beam_width))
        if bad is not None:
            raise InvalidArgumentValueError(parent_ids_message(*bad, beam_width=int(beam_width)))
        return parent_ids
    p = tf.transpose(parent_ids, [1, 0, 2])  # (B, T, W)
    inside = tf.range(tf.shape(p)[1])[None, :, None] < max_sequence_lengths[:, None, None]  # (B, T, 1)
    where = tf.cast(tf.where(inside & ((p < 0) | (p >= beam_width))), tf.int32)  # (n, 3): (batch, time, beam)
    b, t, w = tf.unstack(tf.concat([where, tf.zeros([1, 3], tf.int32)], 0)[0])  # the first bad one (0s if none)
    ok = tf.equal(tf.shape(where)[0], 0)
    return _after(_graph_assertion(ok, parent_ids_message, [p[b, t, w], b, t, w, beam_width]), parent_ids)


def _check_tflite_batch_size(batch_size, finished):
    """``batch_size`` is 1 (``enable_tflite_convertible=True``, as tfa). A known batch size is
    checked at once (also while tracing); an unknown one by an assertion. Returns ``finished``."""
    if isinstance(batch_size, int):
        if batch_size != 1:
            raise InvalidArgumentValueError(tflite_batch_message(batch_size))
        return finished
    if tf.executing_eagerly():
        return _check_tflite_batch_size(int(batch_size), finished)
    return _after(_graph_assertion(tf.equal(batch_size, 1), tflite_batch_message, [batch_size]), finished)


def _check_whole_ids(ids):
    """Float class ids (Keras casts ``y_true`` to float) that are whole numbers, as int32 ids.

    Args: ids ``[...]`` float. Eagerly a non-whole value raises an ``InvalidArgumentValueError``
    naming it; in a graph an assertion does. Returns ``ids`` cast to int32.
    """
    if tf.executing_eagerly():
        bad = first_fractional_value(ids.numpy())
        if bad is not None:
            raise InvalidArgumentValueError(whole_ids_message(bad))
        return tf.cast(ids, tf.int32)
    flat = tf.reshape(ids, [-1])
    bad = tf.logical_not(tf.math.is_finite(flat)) | tf.not_equal(flat, tf.round(flat))  # (N,)
    first = tf.argmax(tf.cast(bad, tf.int32), output_type=tf.int32)  # the first bad one (0 if none)
    assertion = _graph_assertion(tf.logical_not(tf.reduce_any(bad)), whole_ids_message, [tf.gather(flat, first)])
    return _after(assertion, tf.cast(ids, tf.int32))
