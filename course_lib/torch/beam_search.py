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

import warnings

import torch

from course_lib.common import nest
from course_lib.common.args import (
    check_callable, check_cell, check_float, check_positive_int, check_start_and_end, check_tiled_state,
)
from course_lib.common.checks import check_integer, check_rank, check_scalar
from course_lib.torch.beam_ops import _reorder_by_tree, gather_tree, gather_tree_from_array, tile_batch
from course_lib.torch.beam_step import (
    BeamSearchDecoderOutput, BeamSearchDecoderState, FinalBeamSearchDecoderOutput, _attention_probs, _attention_states,
    _beam_search_step,
)
from course_lib.torch.decoder import Decoder, TensorArray, _zero_state
from course_lib.torch.sampler import _embedding_fn
from course_lib.torch.utils import device_of as _device_of

__all__ = [
    "BeamSearchDecoder", "BeamSearchDecoderOutput", "BeamSearchDecoderState",
    "FinalBeamSearchDecoderOutput", "tile_batch", "gather_tree", "gather_tree_from_array",
]


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

    Calling it (tfa's order: ``decoder(embedding, start_tokens, end_token, initial_state)``)::

        decoder = BeamSearchDecoder(cell, beam_width=W, output_layer=proj, maximum_iterations=20)
        outputs, state, lengths = decoder(embedding, start_tokens=start [B], end_token=eos,
                                          initial_state=tile_batch(encoder_state, W))
        outputs.predicted_ids  # [B, T, W], best beam first
        lengths                # [B, W]

    An ``embedding`` given to the call overrides the constructor's ``embedding_fn`` for that call
    (tfa: for every later call too).

    The initial state (and an attention mechanism's memory) must have ``B * W`` rows made with
    ``tile_batch``. With an ``AttentionWrapper(alignment_history=True)`` cell,
    ``BeamSearchDecoder.alignment_history(state)`` gives the alignments ``[B, W, T, S]``.
    """

    def __init__(self, cell, beam_width, embedding_fn=None, output_layer=None, length_penalty_weight=0.0,
                 coverage_penalty_weight=0.0, reorder_tensor_arrays=True, output_all_scores=False, **kwargs):
        super().__init__(**kwargs)
        check_cell(cell)
        check_positive_int(beam_width, "beam_width")
        check_callable(output_layer, "output_layer", allow_none=True)
        check_callable(embedding_fn, "embedding_fn", allow_none=True)
        self.cell = cell
        self.output_layer = output_layer
        self.beam_width = int(beam_width)
        self.length_penalty_weight = check_float(length_penalty_weight, "length_penalty_weight")
        self.coverage_penalty_weight = check_float(coverage_penalty_weight, "coverage_penalty_weight")
        self.reorder_tensor_arrays = bool(reorder_tensor_arrays)
        self.output_all_scores = bool(output_all_scores)
        # kept out of the module tree: the embedding belongs to the caller's model (and weights)
        object.__setattr__(self, "_embedding_fn", embedding_fn)
        self._batch_size = None
        self._dtype_of_scores = torch.get_default_dtype()

    def forward(self, embedding, start_tokens=None, end_token=None, initial_state=None, training=None, **kwargs):
        """Run the search (``dynamic_decode``), with ``initialize``'s arguments in tfa's order.

        Returns ``(FinalBeamSearchDecoderOutput, BeamSearchDecoderState, lengths [B, W])``.
        """
        return super().forward(embedding, initial_state=initial_state, training=training,
                               start_tokens=start_tokens, end_token=end_token, **kwargs)

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
          embedding: ``[V, E]`` matrix, ``nn.Embedding`` or callable; None to use ``embedding_fn``,
            which a given ``embedding`` overrides.
          start_tokens: ``[B]`` int.
          end_token: int scalar.
          initial_state: the cell's state for ``B * W`` rows (``tile_batch``); zeros if None.

        Returns:
          ``(finished [B, W], start_inputs [B, W, E], BeamSearchDecoderState)``.
        """
        W = self.beam_width
        if embedding is None and self._embedding_fn is None:
            raise ValueError(
                "`embedding` is None and no `embedding_fn` was given: pass the embedding matrix "
                "[vocab_size, embedding_dim] to the call or an `embedding_fn` to the constructor"
            )
        # a plain attribute (not a registered child), like `_embedding_fn`
        embed = self._embedding_fn if embedding is None else _embedding_fn(embedding, None)
        object.__setattr__(self, "_embed", embed)
        check_start_and_end(start_tokens, end_token)
        start_tokens, end_token = torch.as_tensor(start_tokens), torch.as_tensor(end_token)
        check_integer(start_tokens, "start_tokens")
        check_rank(start_tokens, 1, "start_tokens", "[batch_size]")
        check_integer(end_token, "end_token")
        check_scalar(end_token, "end_token")
        B = start_tokens.shape[0]
        device = _device_of(initial_state, self.cell, embedding, self._embedding_fn, start_tokens)

        if initial_state is None:
            dtype = embedding.dtype if isinstance(embedding, torch.Tensor) else torch.get_default_dtype()
            initial_state = _zero_state(self.cell, B * W, dtype, device)  # any cell
        check_tiled_state(initial_state, B, W)

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
