"""Beam search: keep the ``beam_width`` best partial sequences of every batch entry.

At each step every beam proposes every token; the candidates are scored (the sum of the
token log-probabilities, optionally divided by a length penalty and plus a coverage
penalty) and the ``beam_width`` best survive. Each survivor remembers its token
(``predicted_ids``) and the beam it grew from (``parent_ids``); ``finalize`` walks these
back-pointers from the last step to the first (``gather_tree``) to spell out whole sequences.

Shapes: ``B`` batch, ``W`` beam width, ``V`` vocabulary, ``T`` decode steps, ``S`` memory
(encoder) time. The cell runs on ``B * W`` rows, beams of one entry next to each other
(``tile_batch`` order: a, a, b, b); the decoder's own state keeps them as ``[B, W, ...]``.

Semantics follow ``tfa.seq2seq.BeamSearchDecoder`` 0.23: beams 1..W-1 start finished with
log-probability -inf (so the first step expands beam 0 only); a finished beam may only emit
``end_token`` (log-prob 0, every other token gets the dtype's minimum); top-k ties go to the
lower index (a stable sort here, since ``torch.topk`` does not promise it).
"""

from __future__ import annotations

import collections
import numbers
import warnings

import torch
import torch.nn.functional as F

from course_lib.common import nest
from course_lib.common.checks import check_integer, check_rank, check_scalar, describe
from course_lib.torch.beam_tree import tile_batch, gather_tree, _reorder_by_tree, gather_tree_from_array, _gather_beams  # noqa: F401  (re-exported)
from course_lib.torch.decoder import Decoder, TensorArray
from course_lib.torch.sampler import _embedding_fn

__all__ = [
    "BeamSearchDecoder", "BeamSearchDecoderOutput", "BeamSearchDecoderState",
    "FinalBeamSearchDecoderOutput", "tile_batch", "gather_tree", "gather_tree_from_array",
]


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


# -- helpers that work on any batch --------------------------------------------------------

def _mask_probs(log_probs, end_token, finished):
    """Finished beams may only emit ``end_token`` (log-prob 0); other tokens get the dtype minimum.

    ``log_probs [B, W, V]``, ``finished [B, W]`` -> ``[B, W, V]``.
    """
    V = log_probs.shape[-1]
    is_end = torch.arange(V, device=log_probs.device) == end_token  # (V,)
    finished_row = torch.where(is_end, 0.0, torch.finfo(log_probs.dtype).min).to(log_probs.dtype)
    return torch.where(finished[..., None], finished_row, log_probs)


def _length_penalty(sequence_lengths, penalty_factor):
    """GNMT's ``((5 + length) / 6) ** penalty_factor`` (https://arxiv.org/abs/1609.08144); 1 for 0."""
    if penalty_factor == 0:
        return 1.0
    lengths = sequence_lengths.to(torch.float32)
    return (5.0 + lengths) ** penalty_factor / (5.0 + 1.0) ** penalty_factor


def _get_scores(log_probs, sequence_lengths, length_penalty_weight, coverage_penalty_weight,
                finished, accumulated_attention_probs):
    """``log_probs [B, W, V]`` divided by the length penalty, plus the coverage penalty of beams
    that have finished: ``weight * sum_s log(min(attention accumulated on s, 1))`` (memory
    positions never attended, i.e. padding, count as 1)."""
    penalty = _length_penalty(sequence_lengths, length_penalty_weight)
    if isinstance(penalty, torch.Tensor):
        penalty = penalty.to(log_probs.dtype)
    scores = log_probs / penalty
    if coverage_penalty_weight == 0:
        return scores
    acc = accumulated_attention_probs  # (B, W, S)
    acc = torch.where(acc == 0, torch.ones_like(acc), acc)
    coverage = torch.log(torch.clamp(acc, max=1.0)).sum(dim=2)  # (B, W)
    coverage = coverage * finished.to(log_probs.dtype)
    return scores + (coverage * coverage_penalty_weight)[..., None]


def _top_k(scores, k):
    """The ``k`` largest per row, ties to the lower index (as ``tf.math.top_k``).

    ``torch.topk`` does not promise which of equal values it returns, and a full stable sort of
    ``[B, W * V]`` per step is slow, so: find the k-th largest value, keep everything above it
    plus the lowest-index ties, and stable-sort only those k.
    """
    kth = torch.topk(scores, k, dim=-1).values[:, -1:]  # (B, 1)
    above = scores > kth
    ties = scores == kth
    missing = k - above.sum(dim=-1, keepdim=True)  # how many ties to keep, lowest index first
    keep = above | (ties & (torch.cumsum(ties.to(torch.int32), dim=-1) <= missing))
    indices = keep.nonzero()[:, 1].reshape(scores.shape[0], k)  # (B, k), in index order
    values = scores.gather(1, indices)
    order = torch.sort(values, dim=-1, descending=True, stable=True).indices
    return values.gather(1, order), indices.gather(1, order)


def _attention_states(cell_state):
    """The ``AttentionWrapperState``s in a cell state: itself, or those in a tuple of states."""
    try:
        from course_lib.torch.attention import AttentionWrapperState
    except ImportError:  # pragma: no cover - no attention module, no attention state
        return []
    if isinstance(cell_state, AttentionWrapperState):
        return [cell_state]
    if isinstance(cell_state, (tuple, list)):
        return [s for s in cell_state if isinstance(s, AttentionWrapperState)]
    return []


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
        return torch.stack(list(a), dim=-1).mean(dim=-1) if isinstance(a, (tuple, list)) else a

    probs = [mean_alignments(s) for s in states]
    return probs[0] if len(probs) == 1 else torch.stack(probs, dim=-1).mean(dim=-1)


def _beam_search_step(logits, next_cell_state, beam_state, end_token, length_penalty_weight,
                      coverage_penalty_weight, output_all_scores=False):
    """Score every (beam, token) candidate and keep the best ``W`` per batch entry.

    Args:
      logits: ``[B, W, V]``, this step's logits of each beam.
      next_cell_state: the cell's new state, leaves ``[B, W, ...]``.
      beam_state: the ``BeamSearchDecoderState`` before this step.
      end_token: int scalar.
      length_penalty_weight, coverage_penalty_weight: floats (0 turns them off).
      output_all_scores: return the scores of all ``W * V`` candidates instead of the survivors'.

    Returns:
      ``(BeamSearchDecoderOutput, BeamSearchDecoderState)`` of the survivors.
    """
    B, W, V = logits.shape
    previously_finished = beam_state.finished  # (B, W)
    not_finished = ~previously_finished

    # total log-probability of every candidate: the beam's so far plus the token's
    step_log_probs = _mask_probs(F.log_softmax(logits, dim=-1), end_token, previously_finished)
    total_probs = beam_state.log_probs[..., None] + step_log_probs  # (B, W, V)

    # each candidate's length: +1 for an unfinished beam, unless the token is end_token
    not_end = (torch.arange(V, device=logits.device) != end_token).to(torch.int64)  # (V,)
    lengths_to_add = not_end * not_finished[..., None].to(torch.int64)  # (B, W, V)
    new_prediction_lengths = beam_state.lengths[..., None] + lengths_to_add  # (B, W, V)

    # attention gathered so far, on beams that are still running
    accumulated_attention_probs = None
    attention_probs = _attention_probs(next_cell_state, coverage_penalty_weight)
    if attention_probs is not None:
        attention_probs = attention_probs * not_finished[..., None].to(attention_probs.dtype)
        accumulated_attention_probs = beam_state.accumulated_attention_probs + attention_probs  # (B, W, S)

    scores = _get_scores(total_probs, new_prediction_lengths, length_penalty_weight,
                         coverage_penalty_weight, previously_finished, accumulated_attention_probs)

    # the W best of the W * V candidates; candidate index = beam * V + token
    next_beam_scores, word_indices = _top_k(scores.reshape(B, W * V), W)  # (B, W)
    next_word_ids = word_indices % V  # (B, W)
    next_beam_ids = torch.div(word_indices, V, rounding_mode="floor")  # (B, W): parents
    next_beam_probs = torch.gather(total_probs.reshape(B, W * V), 1, word_indices)  # (B, W)

    # follow the parents: finished flags, lengths, attention, cell state
    previously_finished = _gather_beams(previously_finished, next_beam_ids)
    next_finished = previously_finished | (next_word_ids == end_token)
    next_lengths = _gather_beams(beam_state.lengths, next_beam_ids) + (~previously_finished).to(torch.int64)
    next_accumulated = ()
    if accumulated_attention_probs is not None:
        next_accumulated = _gather_beams(accumulated_attention_probs, next_beam_ids)

    def gather_state(t):
        if isinstance(t, TensorArray) or not isinstance(t, torch.Tensor) or t.dim() < 2:
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


# -- the decoder -----------------------------------------------------------------------------

def _check_weight(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float, got {describe(value)}")
    return float(value)


class BeamSearchDecoder(Decoder):
    """Beam search over a cell: the ``beam_width`` best sequences of every batch entry.

    Args:
      cell: an RNN cell (e.g. ``LSTMCell`` or an ``AttentionWrapper``).
      beam_width: positive int, the number of beams ``W``.
      embedding_fn: optional callable ids -> vectors; otherwise pass the embedding matrix to the call.
      output_layer: optional module applied to the cell output (e.g. ``nn.Linear(H, V)``).
      length_penalty_weight: GNMT length penalty weight (0 turns it off).
      coverage_penalty_weight: GNMT coverage penalty weight; needs an ``AttentionWrapper`` cell.
      reorder_tensor_arrays: in ``finalize``, turn the ``TensorArray``s of the cell state (the
        alignment history) into tensors ``[T, B*W, ...]`` whose column ``w`` follows final beam ``w``.
      output_all_scores: step outputs carry the scores of all candidates ``[B, W, V]``.
      **kwargs: ``dynamic_decode`` options, e.g. ``maximum_iterations``.

    Calling it::

        decoder = BeamSearchDecoder(cell, beam_width=W, output_layer=proj, maximum_iterations=20)
        outputs, state, lengths = decoder(embedding, start_tokens=start [B], end_token=eos,
                                          initial_state=tile_batch(encoder_state, W))
        outputs.predicted_ids  # [B, T, W], best beam first
        lengths                # [B, W]

    The initial state (and an attention mechanism's memory) must have ``B * W`` rows made with
    ``tile_batch``. With an ``AttentionWrapper(alignment_history=True)`` cell,
    ``BeamSearchDecoder.alignment_history(state)`` gives the alignments ``[B, W, T, S]``.
    """

    def __init__(self, cell, beam_width, embedding_fn=None, output_layer=None, length_penalty_weight=0.0,
                 coverage_penalty_weight=0.0, reorder_tensor_arrays=True, output_all_scores=False, **kwargs):
        super().__init__(**kwargs)
        if not callable(cell) or not hasattr(cell, "state_size"):
            raise TypeError(f"`cell` must be an RNN cell (callable with `state_size`), got {describe(cell)}")
        if isinstance(beam_width, bool) or not isinstance(beam_width, numbers.Integral) or beam_width < 1:
            raise ValueError(f"`beam_width` must be a positive int, got {beam_width!r}")
        if output_layer is not None and not callable(output_layer):
            raise TypeError(f"`output_layer` must be callable or None, got {describe(output_layer)}")
        if embedding_fn is not None and not callable(embedding_fn):
            raise TypeError(f"`embedding_fn` must be callable or None, got {describe(embedding_fn)}")
        self.cell = cell
        self.output_layer = output_layer
        self.beam_width = int(beam_width)
        self.length_penalty_weight = _check_weight(length_penalty_weight, "length_penalty_weight")
        self.coverage_penalty_weight = _check_weight(coverage_penalty_weight, "coverage_penalty_weight")
        self.reorder_tensor_arrays = bool(reorder_tensor_arrays)
        self.output_all_scores = bool(output_all_scores)
        # kept out of the module tree: the embedding belongs to the caller's model (and weights)
        object.__setattr__(self, "_embedding_fn", embedding_fn)
        self._batch_size = None
        self._dtype_of_scores = torch.get_default_dtype()

    # -- the Decoder interface ---------------------------------------------------------------
    @property
    def batch_size(self):
        """``B``, known after ``initialize`` (the cell runs on ``B * beam_width`` rows)."""
        return self._batch_size

    @property
    def tracks_own_finished(self) -> bool:
        """True: beams move between slots every step, so only the decoder knows which finished."""
        return True

    def _vocab_size(self):
        layer = self.output_layer
        if layer is None:
            return self.cell.output_size
        for attr in ("out_features", "units", "output_size"):
            if hasattr(layer, attr):
                return getattr(layer, attr)
        raise ValueError("cannot tell the output layer's size; give it `out_features`")

    @property
    def output_size(self):
        W = self.beam_width
        return BeamSearchDecoderOutput(
            scores=torch.Size([W, self._vocab_size()]) if self.output_all_scores else torch.Size([W]),
            predicted_ids=torch.Size([W]),
            parent_ids=torch.Size([W]),
        )

    @property
    def output_dtype(self):
        return BeamSearchDecoderOutput(scores=self._dtype_of_scores, predicted_ids=torch.int64, parent_ids=torch.int64)

    def initialize(self, embedding, start_tokens=None, end_token=None, initial_state=None):
        """Set up the search.

        Args:
          embedding: ``[V, E]`` matrix, ``nn.Embedding`` or callable (None with ``embedding_fn``).
          start_tokens: ``[B]`` int.
          end_token: int scalar.
          initial_state: the cell's state for ``B * W`` rows (``tile_batch``); zeros if None.

        Returns:
          ``(finished [B, W], start_inputs [B, W, E], BeamSearchDecoderState)``.
        """
        W = self.beam_width
        if embedding is not None and self._embedding_fn is not None:
            raise ValueError("give either `embedding` (to the call) or `embedding_fn` (to the constructor), not both")
        if embedding is None and self._embedding_fn is None:
            raise ValueError(
                "`embedding` is None and no `embedding_fn` was given: pass the embedding matrix "
                "[vocab_size, embedding_dim] to the call or an `embedding_fn` to the constructor"
            )
        # a plain attribute (not a registered child), like `_embedding_fn`
        object.__setattr__(self, "_embed", _embedding_fn(embedding, self._embedding_fn))
        if start_tokens is None or end_token is None:
            raise ValueError("`start_tokens` [batch_size] and `end_token` (a scalar) are required, got None")
        start_tokens, end_token = torch.as_tensor(start_tokens), torch.as_tensor(end_token)
        check_integer(start_tokens, "start_tokens")
        check_rank(start_tokens, 1, "start_tokens", "[batch_size]")
        check_integer(end_token, "end_token")
        check_scalar(end_token, "end_token")
        B = start_tokens.shape[0]
        device = _device_of(initial_state, self.cell, embedding, self._embedding_fn, start_tokens)

        if initial_state is None:
            dtype = embedding.dtype if isinstance(embedding, torch.Tensor) else torch.get_default_dtype()
            initial_state = self.cell.get_initial_state(batch_size=B * W, dtype=dtype, device=device)
        _check_tiled(initial_state, B, W)

        self._batch_size = B
        self._end_token = end_token.to(device=device, dtype=torch.int64)
        start_tokens = start_tokens.to(device=device, dtype=torch.int64)
        self._start_inputs = self._embed(start_tokens[:, None].expand(B, W))  # (B, W, E)
        cell_state = nest.map_structure(self._maybe_split_beams, initial_state)  # leaves (B, W, ...)
        floats = [x for x in nest.flatten(cell_state) if isinstance(x, torch.Tensor) and x.is_floating_point()]
        self._dtype_of_scores = floats[0].dtype if floats else self._start_inputs.dtype

        # only beam 0 is alive at first: the others are finished with log-prob -inf, so the
        # first step expands beam 0 alone instead of W copies of it
        first_beam = torch.arange(W, device=device) == 0  # (W,)
        finished = (~first_beam).expand(B, W).clone()  # (B, W)
        log_probs = torch.where(first_beam, 0.0, float("-inf")).to(self._dtype_of_scores).expand(B, W).clone()
        accumulated = _attention_probs(cell_state, self.coverage_penalty_weight)
        state = BeamSearchDecoderState(
            cell_state=cell_state,
            log_probs=log_probs,
            finished=finished,
            lengths=torch.zeros(B, W, dtype=torch.int64, device=device),
            accumulated_attention_probs=() if accumulated is None else accumulated,
        )
        return finished, self._start_inputs, state

    def step(self, time, inputs, state, training=None):
        """One step for all beams: the cell runs on ``B * W`` rows, then ``W`` survivors are picked.

        Args: time (int); inputs ``[B, W, E]``; state a ``BeamSearchDecoderState``.
        Returns ``(BeamSearchDecoderOutput, next_state, next_inputs [B, W, E], finished [B, W])``.
        """
        cell_inputs = nest.map_structure(self._merge_beams, inputs)  # (B*W, E)
        cell_state = nest.map_structure(self._maybe_merge_beams, state.cell_state)
        cell_outputs, next_cell_state = self.cell(cell_inputs, cell_state)  # (B*W, H)
        cell_outputs = nest.map_structure(self._split_beams, cell_outputs)  # (B, W, H)
        next_cell_state = nest.map_structure(self._maybe_split_beams, next_cell_state)
        logits = cell_outputs if self.output_layer is None else self.output_layer(cell_outputs)  # (B, W, V)

        output, next_state = _beam_search_step(
            logits, next_cell_state, state, self._end_token, self.length_penalty_weight,
            self.coverage_penalty_weight, self.output_all_scores,
        )
        finished = next_state.finished
        if bool(finished.all()):
            next_inputs = self._start_inputs  # nothing left to feed; any input will do
        else:
            next_inputs = self._embed(output.predicted_ids)  # (B, W, E)
        return output, next_state, next_inputs, finished

    def finalize(self, outputs, final_state, sequence_lengths):
        """Trace the back-pointers: ``predicted_ids [T, B, W]`` (time-major here; ``dynamic_decode``
        transposes) and, with ``reorder_tensor_arrays``, the alignment history along the same paths.

        ``sequence_lengths`` is not used: ``final_state.lengths`` has each final beam's length.
        """
        max_lengths = final_state.lengths.max(dim=1).values  # (B,)
        predicted_ids = gather_tree(outputs.predicted_ids, outputs.parent_ids, max_lengths, self._end_token)
        if self.reorder_tensor_arrays:
            cell_state = nest.map_structure(
                lambda t: self._maybe_sort_array_beams(t, outputs.parent_ids, final_state.lengths),
                final_state.cell_state,
            )
            final_state = final_state._replace(cell_state=cell_state)
        outputs = FinalBeamSearchDecoderOutput(predicted_ids=predicted_ids, beam_search_decoder_output=outputs)
        return outputs, final_state

    @staticmethod
    def alignment_history(final_state):
        """The reordered alignment history of a finished search, batch-major: ``[B, W, T, S]``.

        Row ``[b, w, t]`` is the attention paid when token ``predicted_ids[b, t, w]`` was chosen.
        Needs an ``AttentionWrapper(..., alignment_history=True)`` cell and
        ``reorder_tensor_arrays=True``. The one line it runs on the history ``h [T, B*W, S]``:
        ``h.reshape(T, B, W, S).permute(1, 2, 0, 3)``. A tuple of them for several mechanisms.
        """
        states = _attention_states(final_state.cell_state)
        if not states:
            raise ValueError("`final_state.cell_state` holds no AttentionWrapperState: the cell has no attention")
        B, W = final_state.log_probs.shape

        def batch_major(h):
            if isinstance(h, TensorArray):
                raise ValueError(
                    "the alignment history is still a TensorArray: decode with reorder_tensor_arrays=True"
                )
            T = h.shape[0]
            return h.reshape(T, B, W, *h.shape[-1:]).permute(1, 2, 0, 3)  # (B, W, T, S)

        history = states[0].alignment_history
        if isinstance(history, (tuple, list)) and not history:
            raise ValueError("no alignment history was kept: build the AttentionWrapper with alignment_history=True")
        return nest.map_structure(batch_major, history)

    # -- reshaping between [B*W, ...] (the cell's view) and [B, W, ...] (the search's view) ----
    def _merge_beams(self, t):
        return t.reshape(self._batch_size * self.beam_width, *t.shape[2:])

    def _split_beams(self, t):
        return t.reshape(self._batch_size, self.beam_width, *t.shape[1:])

    def _maybe_merge_beams(self, t):
        if isinstance(t, torch.Tensor) and t.dim() >= 2:
            return self._merge_beams(t)
        return t  # TensorArrays and scalars pass through

    def _maybe_split_beams(self, t):
        if isinstance(t, torch.Tensor) and t.dim() >= 1:
            return self._split_beams(t)
        return t

    def _maybe_sort_array_beams(self, t, parent_ids, sequence_lengths):
        """A ``TensorArray`` history -> a tensor ``[T, B*W, ...]`` reordered along the final beams.

        Entry ``s`` of the history was computed by the cell at step ``s`` for the beams *before*
        that step's selection, i.e. for the parents of step ``s``'s survivors. So the entry for
        path ``w`` at step ``s`` sits at the path's beam of step ``s - 1``: ``parent_ids[s]`` of the
        path. (tfa 0.23 reorders with the path's beam of step ``s`` itself, which pairs an
        alignment with a neighbouring beam wherever beams swap places.)
        """
        if not isinstance(t, TensorArray) or t.size() == 0:
            return t
        stacked = t.stack()  # (T, B*W, ...) or (T, B, W, ...)
        B, W = self._batch_size, self.beam_width
        fits = stacked.dim() >= 2 and (
            stacked.shape[1] == B * W or (stacked.dim() >= 3 and stacked.shape[1:3] == (B, W))
        )
        if not fits or stacked.shape[0] != parent_ids.shape[0]:
            warnings.warn(
                f"a TensorArray in the cell state has entries {list(stacked.shape[1:])}, which do not split "
                f"into [batch_size={B}, beam_width={W}, ...]; it is left as it is "
                "(pass reorder_tensor_arrays=False to silence this)",
                RuntimeWarning, stacklevel=3,
            )
            return t
        return _reorder_by_tree(stacked, parent_ids, parent_ids, sequence_lengths)


def _device_of(*values):
    """The device of the first tensor (or module with parameters) among ``values``."""
    for v in values:
        for leaf in nest.flatten(v) if nest.is_nested(v) else [v]:
            if isinstance(leaf, torch.Tensor):
                return leaf.device
            if isinstance(leaf, torch.nn.Module):
                for p in leaf.parameters():
                    return p.device
    return torch.device("cpu")


def _check_tiled(initial_state, B, W):
    """Every state tensor needs ``B * W`` rows; an untiled state (``B`` rows) is the usual slip."""
    for leaf in nest.flatten(initial_state):
        if isinstance(leaf, TensorArray) or not isinstance(leaf, torch.Tensor) or leaf.dim() == 0:
            continue
        if leaf.shape[0] != B * W:
            hint = (
                f" It has one row per batch entry: tile it with tile_batch(initial_state, multiplier={W}) "
                f"(rows a, a, b, b) and make an attention cell's state with get_initial_state(batch_size={B * W})."
                if leaf.shape[0] == B else ""
            )
            raise ValueError(
                f"`initial_state` must have batch size batch_size * beam_width = {B} * {W} = {B * W}, "
                f"got a state tensor with {describe(leaf)}.{hint}"
            )
