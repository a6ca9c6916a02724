"""``contrib.seq2seq``: TF1's ``tf.contrib.seq2seq`` (PyTorch), on the modern machinery.

``helper``: ``Helper`` and TF1's Helpers (inputs bound at construction); ``basic_decoder``:
``Decoder``, ``BasicDecoder(cell, helper, initial_state)``, ``dynamic_decode``;
``attention_wrapper``: the mechanisms and ``AttentionWrapper`` with TF1's state (``time``);
``beam_search_decoder``: ``BeamSearchDecoder(cell, embedding, start_tokens, end_token,
initial_state, beam_width)``, ``tile_batch``, ``gather_tree``; ``loss``: ``sequence_loss``.
"""

from course_lib.torch.contrib.seq2seq.helper import (  # noqa: F401
    CustomHelper, GreedyEmbeddingHelper, Helper, InferenceHelper, SampleEmbeddingHelper,
    ScheduledEmbeddingTrainingHelper, ScheduledOutputTrainingHelper, TrainingHelper,
)
from course_lib.torch.contrib.seq2seq.basic_decoder import BasicDecoder, BasicDecoderOutput, Decoder, dynamic_decode  # noqa: F401,E501
from course_lib.torch.contrib.seq2seq.attention_wrapper import (  # noqa: F401
    AttentionMechanism, AttentionWrapper, AttentionWrapperState, BahdanauAttention, BahdanauMonotonicAttention,
    LuongAttention, LuongMonotonicAttention, hardmax, monotonic_attention, safe_cumprod,
)
from course_lib.torch.contrib.seq2seq.beam_search_decoder import (  # noqa: F401
    BeamSearchDecoder, BeamSearchDecoderOutput, BeamSearchDecoderState, FinalBeamSearchDecoderOutput, gather_tree,
    tile_batch,
)
from course_lib.torch.contrib.seq2seq.loss import sequence_loss  # noqa: F401

__all__ = [
    "Helper", "TrainingHelper", "GreedyEmbeddingHelper", "SampleEmbeddingHelper", "ScheduledEmbeddingTrainingHelper",
    "ScheduledOutputTrainingHelper", "InferenceHelper", "CustomHelper", "Decoder", "BasicDecoder",
    "BasicDecoderOutput", "dynamic_decode", "AttentionMechanism", "BahdanauAttention", "LuongAttention",
    "BahdanauMonotonicAttention", "LuongMonotonicAttention", "AttentionWrapper", "AttentionWrapperState",
    "BeamSearchDecoder", "BeamSearchDecoderOutput", "BeamSearchDecoderState", "FinalBeamSearchDecoderOutput",
    "tile_batch", "gather_tree", "sequence_loss", "hardmax", "monotonic_attention", "safe_cumprod",
]
