"""The beam tree: ``tile_batch`` (one row per beam) and ``gather_tree`` (walk the parent
pointers back from the last step to spell out each final beam).

Shapes: ``B`` batch, ``W`` beam width, ``T`` decode steps. ``tile_batch`` repeats each row in
place (a, a, b, b), not ``tile``'s (a, b, a, b), so the beams of one entry sit side by side.
"""

from __future__ import annotations

import numbers

import tensorflow as tf

from course_lib.common import nest
from course_lib.common.checks import check_rank, check_scalar, describe
from course_lib.tf.errors import _check_parent_ids


def _dims(t):
    """The shape of ``t`` as a list: Python ints where known, scalar tensors elsewhere."""
    static, dynamic = t.shape.as_list(), tf.shape(t)
    return [d if d is not None else dynamic[i] for i, d in enumerate(static)]


# -- helpers that work on any batch --------------------------------------------------------

def tile_batch(t, multiplier: int, name=None):
    """Repeat each batch row ``multiplier`` times in place: rows a, b -> a, a, b, b.

    Args:
      t: a tensor ``[B, ...]`` or a nested structure of them (e.g. an LSTM state ``[h, c]``).
      multiplier: a positive int (the beam width).
      name: a name scope for the ops.

    Returns:
      The same structure with tensors ``[B * multiplier, ...]``. This is not ``tf.tile``
      (a, b, a, b), which would pair beams with the wrong batch entry.
    """
    if isinstance(multiplier, bool) or not isinstance(multiplier, numbers.Integral) or multiplier < 1:
        raise ValueError(f"`multiplier` must be a positive int, got {multiplier!r}")

    def tile(x):
        x = tf.convert_to_tensor(x)
        if x.shape.rank is None or x.shape.rank < 1:
            raise ValueError(f"`t` must hold tensors with a known batch axis (rank >= 1), got {describe(x)}")
        return tf.repeat(x, int(multiplier), axis=0)  # (B * multiplier, ...)

    with tf.name_scope(name or "tile_batch"):
        return nest.map_structure(tile, t)


def gather_tree(step_ids, parent_ids, max_sequence_lengths, end_token):
    """Spell out each final beam by following its parents from the last step back to the first.

    Args:
      step_ids: ``[T, B, W]`` int, the token each beam chose at each step.
      parent_ids: ``[T, B, W]`` int, the beam (of the previous step) it grew from.
      max_sequence_lengths: ``[B]`` int, steps to trace per entry (longer is cut to ``T``).
      end_token: int scalar.

    Returns:
      ``[T, B, W]``: ``out[t, b, w]`` is the token at step ``t`` of the sequence that ends in
      beam ``w``; ``end_token`` at and after ``max_sequence_lengths[b]`` and after the first
      ``end_token`` of a sequence (as tfa's kernel).

    Raises:
      InvalidArgumentValueError (a ``ValueError`` and a ``tf.errors.InvalidArgumentError``): a
      parent id outside ``[0, W)`` at a step ``t < max_sequence_lengths[b]``, named with its
      (batch, time, beam); in a ``tf.function``, an assertion with the same message. Later steps
      are not read and may hold anything. int64 ids work too (tfa's kernel took int32 only).
    """
    step_ids = tf.convert_to_tensor(step_ids)
    parent_ids = tf.convert_to_tensor(parent_ids)
    check_rank(step_ids, 3, "step_ids", "[max_time, batch_size, beam_width]")
    if not parent_ids.shape.is_compatible_with(step_ids.shape):
        raise ValueError(
            f"`parent_ids` must have the shape of `step_ids` {step_ids.shape.as_list()}, got {describe(parent_ids)}"
        )
    lengths = tf.convert_to_tensor(max_sequence_lengths)
    check_rank(lengths, 1, "max_sequence_lengths", "[batch_size]")
    end_token = tf.convert_to_tensor(end_token)
    check_scalar(end_token, "end_token")
    lengths = tf.cast(lengths, tf.int32)
    end_token = tf.cast(end_token, step_ids.dtype)
    parent_ids = tf.cast(parent_ids, tf.int32)
    T, B, W = _dims(step_ids)
    parent_ids = _check_parent_ids(parent_ids, lengths, W)  # before tf.gather, which would fail or wrap
    start_beams = tf.broadcast_to(tf.range(W), [B, W])  # (B, W): each path starts in its own beam

    def step_back(carry, elems):
        beam, _ = carry  # (B, W): where each path is at step t + 1
        ids_t, parents_t, t = elems  # (B, W), (B, W), ()
        inside = (t < lengths)[:, None]  # (B, 1): steps past an entry's length are end tokens
        ids = tf.where(inside, tf.gather(ids_t, beam, batch_dims=1), end_token)
        beam = tf.where(inside, tf.gather(parents_t, beam, batch_dims=1), beam)  # to the parents
        return beam, ids

    # the loop of the PyTorch backend, from the last step to the first, as one graph op
    _, beams = tf.scan(
        step_back, (step_ids, parent_ids, tf.range(T)),
        initializer=(start_beams, tf.zeros_like(start_beams, dtype=step_ids.dtype)), reverse=True,
    )  # (T, B, W)
    # once a sequence has emitted end_token, everything after it is end_token too
    ended_before = tf.cumsum(tf.cast(beams == end_token, tf.int32), axis=0, exclusive=True) > 0
    return tf.where(ended_before, end_token, beams)


def _reorder_by_tree(t, step_beam_ids, parent_ids, sequence_length):
    """``t [T, B*W, ...]`` (or ``[T, B, W, ...]``) with its beams reordered so that column ``w``
    of step ``s`` holds the entry ``step_beam_ids[s]`` of the path that ends in beam ``w``."""
    T, B, W = _dims(parent_ids)
    sequence_length = tf.convert_to_tensor(sequence_length)
    max_lengths = tf.reduce_max(sequence_length, axis=1)  # (B,)
    sorted_ids = gather_tree(step_beam_ids, parent_ids, max_lengths, end_token=W + 1)  # (T, B, W)
    # past a beam's own length there is nothing to follow: keep the beam where it is
    beam_ids = tf.broadcast_to(tf.range(W), [T, B, W])
    in_bounds = tf.transpose(tf.sequence_mask(sequence_length, maxlen=T), [2, 0, 1])  # (T, B, W)
    sorted_ids = tf.where(in_bounds, tf.cast(sorted_ids, tf.int32), beam_ids)
    flat = tf.reshape(t, [T, B, W, -1])  # (T, B, W, rest)
    ordered = tf.gather(flat, sorted_ids, axis=2, batch_dims=2)
    return tf.reshape(ordered, tf.shape(t))


def gather_tree_from_array(t, parent_ids, sequence_length):
    """Reorder a per-step history so that column ``w`` follows the path of final beam ``w``.

    Args:
      t: ``[T, B * W, ...]`` or ``[T, B, W, ...]``, e.g. a stacked ``tf.TensorArray``.
      parent_ids: ``[T, B, W]`` int.
      sequence_length: ``[B, W]`` int, each final beam's length.

    Returns:
      ``t``'s shape; at step ``s < sequence_length[b, w]`` column ``w`` holds the entry of the
      beam that path ``w`` passed through at step ``s`` (tfa's semantics); later steps keep
      column ``w``.
    """
    parent_ids = tf.convert_to_tensor(parent_ids)
    check_rank(parent_ids, 3, "parent_ids", "[max_time, batch_size, beam_width]")
    T, B, W = _dims(parent_ids)
    beam_ids = tf.broadcast_to(tf.range(W), [T, B, W])
    return _reorder_by_tree(t, beam_ids, parent_ids, sequence_length)


# -- one step of beam search -----------------------------------------------------------------

def _gather_beams(t, beam_ids):
    """``t [B, W, ...]`` -> ``t[b, beam_ids[b, w], ...]`` for every ``b, w``: ``[B, W', ...]``."""
    return tf.gather(t, beam_ids, batch_dims=1)
