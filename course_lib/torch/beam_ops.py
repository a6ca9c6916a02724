"""The beam tree: ``tile_batch`` (one row per beam) and ``gather_tree`` (walk the parent
pointers back from the last step to spell out each final beam).

Shapes: ``B`` batch, ``W`` beam width, ``T`` decode steps. ``tile_batch`` repeats each row in
place (a, a, b, b), not ``tile``'s (a, b, a, b), so the beams of one entry sit side by side.
"""

from __future__ import annotations

import numbers

import torch

from course_lib.common import nest
from course_lib.common.checks import check_rank, check_scalar, describe
from course_lib.torch.errors import _check_parent_ids


def tile_batch(t, multiplier: int, name=None):
    """Repeat each batch row ``multiplier`` times in place: rows a, b -> a, a, b, b.

    Args:
      t: a tensor ``[B, ...]`` or a nested structure of them (e.g. an LSTM state ``[h, c]``).
      multiplier: a positive int (the beam width).
      name: accepted for TensorFlow compatibility; unused.

    Returns:
      The same structure with tensors ``[B * multiplier, ...]``. This is not ``Tensor.repeat``
      (a, b, a, b), which would pair beams with the wrong batch entry.
    """
    if isinstance(multiplier, bool) or not isinstance(multiplier, numbers.Integral) or multiplier < 1:
        raise ValueError(f"`multiplier` must be a positive int, got {multiplier!r}")

    def tile(x):
        x = torch.as_tensor(x)
        if x.dim() < 1:
            raise ValueError(f"`t` must hold tensors with a batch axis (rank >= 1), got {describe(x)}")
        return torch.repeat_interleave(x, int(multiplier), dim=0)  # (B * multiplier, ...)

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
      ValueError: a parent id outside ``[0, W)`` at a step ``t < max_sequence_lengths[b]``, named
      with its (batch, time, beam); indexing would wrap -1 round to the last beam. Later steps are
      not read and may hold anything.
    """
    step_ids, parent_ids = torch.as_tensor(step_ids), torch.as_tensor(parent_ids)
    check_rank(step_ids, 3, "step_ids", "[max_time, batch_size, beam_width]")
    if parent_ids.shape != step_ids.shape:
        raise ValueError(
            f"`parent_ids` must have the shape of `step_ids` {list(step_ids.shape)}, got {describe(parent_ids)}"
        )
    T, B, W = step_ids.shape
    if T == 0:
        return step_ids.clone()
    lengths = torch.as_tensor(max_sequence_lengths, device=step_ids.device)
    check_rank(lengths, 1, "max_sequence_lengths", f"[batch_size] (batch_size = {B})")
    if lengths.shape[0] != B:
        raise ValueError(f"`max_sequence_lengths` must be [batch_size = {B}], got {describe(lengths)}")
    end_token = torch.as_tensor(end_token)
    check_scalar(end_token, "end_token")
    end_token = end_token.to(device=step_ids.device, dtype=step_ids.dtype)
    parent_ids = parent_ids.to(device=step_ids.device, dtype=torch.int64)
    parent_ids = _check_parent_ids(parent_ids, lengths, W)  # before indexing, which would wrap -1 round

    batch = torch.arange(B, device=step_ids.device)[:, None]  # (B, 1)
    beam = torch.arange(W, device=step_ids.device).expand(B, W)  # (B, W): where each path is now
    out = [None] * T
    for t in reversed(range(T)):
        inside = (t < lengths)[:, None]  # (B, 1): steps past an entry's length are end tokens
        out[t] = torch.where(inside, step_ids[t][batch, beam], end_token)  # (B, W)
        beam = torch.where(inside, parent_ids[t][batch, beam], beam)  # step back to the parents
    beams = torch.stack(out)  # (T, B, W)
    # once a sequence has emitted end_token, everything after it is end_token too
    is_end = (beams == end_token).to(torch.int64)
    ended_before = (torch.cumsum(is_end, dim=0) - is_end) > 0  # an end token at an earlier step
    return torch.where(ended_before, end_token, beams)


def _reorder_by_tree(t, step_beam_ids, parent_ids, sequence_length):
    """``t [T, B*W, ...]`` (or ``[T, B, W, ...]``) with its beams reordered so that column ``w``
    of step ``s`` holds the entry ``step_beam_ids[s]`` of the path that ends in beam ``w``."""
    T, B, W = parent_ids.shape
    sequence_length = torch.as_tensor(sequence_length, device=parent_ids.device)
    max_lengths = sequence_length.max(dim=1).values  # (B,)
    sorted_ids = gather_tree(step_beam_ids, parent_ids, max_lengths, end_token=W + 1)  # (T, B, W)
    # past a beam's own length there is nothing to follow: keep the beam where it is
    beam_ids = torch.arange(W, device=parent_ids.device).expand(T, B, W)
    in_bounds = torch.arange(T, device=parent_ids.device)[:, None, None] < sequence_length[None]  # (T, B, W)
    sorted_ids = torch.where(in_bounds, sorted_ids, beam_ids)
    flat = t.reshape(T, B, W, -1)  # (T, B, W, rest)
    time = torch.arange(T, device=t.device)[:, None, None]
    batch = torch.arange(B, device=t.device)[None, :, None]
    return flat[time, batch, sorted_ids.to(t.device)].reshape(t.shape)


def gather_tree_from_array(t, parent_ids, sequence_length):
    """Reorder a per-step history so that column ``w`` follows the path of final beam ``w``.

    Args:
      t: ``[T, B * W, ...]`` or ``[T, B, W, ...]``, e.g. a stacked ``TensorArray``.
      parent_ids: ``[T, B, W]`` int.
      sequence_length: ``[B, W]`` int, each final beam's length.

    Returns:
      ``t``'s shape; at step ``s < sequence_length[b, w]`` column ``w`` holds the entry of the
      beam that path ``w`` passed through at step ``s`` (tfa's semantics); later steps keep
      column ``w``.
    """
    parent_ids = torch.as_tensor(parent_ids)
    check_rank(parent_ids, 3, "parent_ids", "[max_time, batch_size, beam_width]")
    T, B, W = parent_ids.shape
    beam_ids = torch.arange(W, device=parent_ids.device).expand(T, B, W)
    return _reorder_by_tree(t, beam_ids, parent_ids, sequence_length)


# -- one step of beam search -----------------------------------------------------------------

def _gather_beams(t, beam_ids):
    """``t [B, W, ...]`` -> ``t[b, beam_ids[b, w], ...]`` for every ``b, w``: ``[B, W', ...]``."""
    batch = torch.arange(t.shape[0], device=t.device)[:, None]  # (B, 1)
    return t[batch, beam_ids]
