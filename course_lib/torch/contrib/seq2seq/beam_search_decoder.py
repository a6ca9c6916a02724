"""``contrib.seq2seq``'s ``BeamSearchDecoder`` (PyTorch): TF1's signature on the modern beam search.

TF1 takes every input at construction, ``BeamSearchDecoder(cell, embedding, start_tokens,
end_token, initial_state, beam_width, ...)``, and ``dynamic_decode(decoder)`` runs it; the search
itself is ``course_lib.torch.beam_search``'s.
"""

from __future__ import annotations

from course_lib.common.contrib.decoding import BeamSearchDecoderLogic
from course_lib.torch import beam_search as modern
from course_lib.torch.beam_search import (  # noqa: F401  (part of this module's names)
    BeamSearchDecoderOutput, BeamSearchDecoderState, FinalBeamSearchDecoderOutput, gather_tree, tile_batch,
)
from course_lib.torch.contrib.seq2seq.basic_decoder import Decoder


class BeamSearchDecoder(BeamSearchDecoderLogic, modern.BeamSearchDecoder, Decoder):
    __doc__ = BeamSearchDecoderLogic.__doc__
