"""One step of beam search: score every (beam, token) candidate and keep the best ``W``.

The decoder (``course_lib.tf.beam_search``) calls ``_beam_search_step`` once per decode step;
the state and output tuples live here. Shapes: ``B`` batch, ``W`` beam width, ``V`` vocabulary,
``S`` memory time.
"""


from __future__ import annotations

import collections

import tensorflow as tf

from course_lib.common import nest
from course_lib.common.attention import find_attention_states
from course_lib.tf.beam_ops import _dims, _gather_beams


class BeamSearchDecoderState(collections.namedtuple(
        "BeamSearchDecoderState",
        ("cell_state", "log_probs", "finished", "lengths", "accumulated_attention_probs"))):
    """The decoder's state: ``cell_state`` (leaves ``[B, W, ...]``), ``log_probs [B, W]`` (sum of
    the beam's token log-probs), ``finished [B, W]``, ``lengths [B, W]`` (tokens so far, the end
    token included), ``accumulated_attention_probs [B, W, S]`` (or ``()`` without coverage penalty)."""


class BeamSearchDecoderOutput(collections.namedtuple(
        "BeamSearchDecoderOutput", ("scores", "predicted_ids", "parent_ids"))):
    """One step's output, each ``[B, W]`` (stacked: ``[B, T, W]``): the survivors' ``scores``
    (``[B, W, V]`` for every candidate with ``output_all_scores``), their tokens and the beams
    they grew from."""


class FinalBeamSearchDecoderOutput(collections.namedtuple(
        "FinalBeamDecoderOutput", ("predicted_ids", "beam_search_decoder_output"))):
    """``predicted_ids [B, T, W]``: whole sequences, best beam first (column 0), padded with
    ``end_token`` after the first one; ``beam_search_decoder_output``: the raw per-step
    ``BeamSearchDecoderOutput`` (before ``gather_tree``)."""


def _mask_probs(log_probs, end_token, finished):
    """Finished beams may only emit ``end_token`` (log-prob 0); other tokens get the dtype minimum.

    ``log_probs [B, W, V]``, ``finished [B, W]`` -> ``[B, W, V]``.
    """
    V = tf.shape(log_probs)[-1]
    finished_row = tf.one_hot(end_token, V, on_value=tf.constant(0, log_probs.dtype),
                              off_value=log_probs.dtype.min, dtype=log_probs.dtype)  # (V,)
    return tf.where(finished[..., None], finished_row, log_probs)


def _length_penalty(sequence_lengths, penalty_factor):
    """GNMT's ``((5 + length) / 6) ** penalty_factor`` (https://arxiv.org/abs/1609.08144); 1 for 0."""
    if penalty_factor == 0:
        return 1.0
    lengths = tf.cast(sequence_lengths, tf.float32)
    return (5.0 + lengths) ** penalty_factor / (5.0 + 1.0) ** penalty_factor


def _get_scores(log_probs, sequence_lengths, length_penalty_weight, coverage_penalty_weight,
                finished, accumulated_attention_probs):
    """``log_probs [B, W, V]`` divided by the length penalty, plus the coverage penalty of beams
    that have finished: ``weight * sum_s log(min(attention accumulated on s, 1))`` (memory
    positions never attended, i.e. padding, count as 1)."""
    penalty = _length_penalty(sequence_lengths, length_penalty_weight)
    if isinstance(penalty, tf.Tensor):
        penalty = tf.cast(penalty, log_probs.dtype)
    scores = log_probs / penalty
    if coverage_penalty_weight == 0:
        return scores
    acc = accumulated_attention_probs  # (B, W, S)
    acc = tf.where(acc == 0, tf.ones_like(acc), acc)
    coverage = tf.reduce_sum(tf.math.log(tf.minimum(acc, 1.0)), axis=2)  # (B, W)
    coverage = coverage * tf.cast(finished, log_probs.dtype)
    return scores + (coverage * coverage_penalty_weight)[..., None]


def _attention_states(cell_state):
    """The attention-wrapper states in a cell state, found by their field names (so contrib's TF1
    ``AttentionWrapperState`` counts too): ``course_lib.common.attention.find_attention_states``."""
    return find_attention_states(cell_state)


def _attention_probs(cell_state, coverage_penalty_weight):
    """The alignments ``[B, W, S]`` the coverage penalty needs (averaged over several attention
    mechanisms or layers), or None when the penalty is off."""
    if coverage_penalty_weight == 0:
        return None
    states = _attention_states(cell_state)
    if not states:
        raise ValueError(
            f"`coverage_penalty_weight` must be 0.0 unless the cell is an AttentionWrapper (the penalty "
            f"measures how much of the memory was attended), got {coverage_penalty_weight!r} with a cell "
            f"state of structure {nest.structure_string(cell_state)}"
        )

    def mean_alignments(state):
        a = state.alignments
        return tf.reduce_mean(tf.stack(list(a), axis=-1), axis=-1) if isinstance(a, (tuple, list)) else a

    probs = [mean_alignments(s) for s in states]
    return probs[0] if len(probs) == 1 else tf.reduce_mean(tf.stack(probs, axis=-1), axis=-1)


def _beam_search_step(logits, next_cell_state, beam_state, end_token, length_penalty_weight,
                      coverage_penalty_weight, output_all_scores=False, time=None, batch_size=None,
                      beam_width=None):
    """Score every (beam, token) candidate and keep the best ``W`` per batch entry.

    Args:
      logits: ``[B, W, V]``, this step's logits of each beam.
      next_cell_state: the cell's new state, leaves ``[B, W, ...]``.
      beam_state: the ``BeamSearchDecoderState`` before this step.
      end_token: int32 scalar.
      length_penalty_weight, coverage_penalty_weight: floats (0 turns them off).
      output_all_scores: return the scores of all ``W * V`` candidates instead of the survivors'.
      time, batch_size, beam_width: tfa's private signature has them; unused (the shapes say them).

    Returns:
      ``(BeamSearchDecoderOutput, BeamSearchDecoderState)`` of the survivors.
    """
    B, W, V = _dims(logits)
    previously_finished = beam_state.finished  # (B, W)
    not_finished = tf.logical_not(previously_finished)

    # total log-probability of every candidate: the beam's so far plus the token's
    step_log_probs = _mask_probs(tf.nn.log_softmax(logits), end_token, previously_finished)
    total_probs = beam_state.log_probs[..., None] + step_log_probs  # (B, W, V)

    # each candidate's length: +1 for an unfinished beam, unless the token is end_token
    not_end = tf.one_hot(end_token, V, on_value=tf.constant(0, tf.int64), off_value=tf.constant(1, tf.int64))
    lengths_to_add = not_end * tf.cast(not_finished, tf.int64)[..., None]  # (B, W, V)
    new_prediction_lengths = beam_state.lengths[..., None] + lengths_to_add  # (B, W, V)

    # attention gathered so far, on beams that are still running
    accumulated_attention_probs = None
    attention_probs = _attention_probs(next_cell_state, coverage_penalty_weight)
    if attention_probs is not None:
        attention_probs = attention_probs * tf.cast(not_finished, attention_probs.dtype)[..., None]
        accumulated_attention_probs = beam_state.accumulated_attention_probs + attention_probs  # (B, W, S)

    scores = _get_scores(total_probs, new_prediction_lengths, length_penalty_weight,
                         coverage_penalty_weight, previously_finished, accumulated_attention_probs)

    # the W best of the W * V candidates; candidate index = beam * V + token
    next_beam_scores, word_indices = tf.math.top_k(tf.reshape(scores, [B, W * V]), k=W)  # (B, W)
    next_word_ids = word_indices % V  # (B, W)
    next_beam_ids = word_indices // V  # (B, W): parents
    next_beam_probs = tf.gather(tf.reshape(total_probs, [B, W * V]), word_indices, batch_dims=1)

    # follow the parents: finished flags, lengths, attention, cell state
    previously_finished = _gather_beams(previously_finished, next_beam_ids)
    next_finished = tf.logical_or(previously_finished, next_word_ids == end_token)
    next_lengths = _gather_beams(beam_state.lengths, next_beam_ids) + tf.cast(
        tf.logical_not(previously_finished), tf.int64)
    next_accumulated = ()
    if accumulated_attention_probs is not None:
        next_accumulated = _gather_beams(accumulated_attention_probs, next_beam_ids)

    def gather_state(t):
        if isinstance(t, tf.TensorArray) or t.shape.rank < 2:
            return t  # histories are reordered once, in finalize
        return _gather_beams(t, next_beam_ids)

    next_state = BeamSearchDecoderState(
        cell_state=nest.map_structure(gather_state, next_cell_state),
        log_probs=next_beam_probs,
        finished=next_finished,
        lengths=next_lengths,
        accumulated_attention_probs=next_accumulated,
    )
    output = BeamSearchDecoderOutput(
        scores=scores if output_all_scores else next_beam_scores,
        predicted_ids=next_word_ids,
        parent_ids=next_beam_ids,
    )
    return output, next_state
