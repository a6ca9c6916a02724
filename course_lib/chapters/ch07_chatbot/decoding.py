"""The three ways a reply is decoded (greedy, beam search, sampling), written once against the backend ``cl``.

Both backends' ``Seq2SeqChatbot.decode`` encode the prompts with their own tensors, then call
``decode_replies``: the calls below are ``course_lib``'s API, the same in TensorFlow and PyTorch.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from course_lib.common.tokenizer import EOS_ID

METHODS = ("greedy", "beam", "sample")


def decode_replies(cl, model, memory, source_length, encoder_state, start_tokens, embeddings,
                   method: str = "greedy", maximum_iterations: int = 40, beam_width: int = 4,
                   length_penalty_weight: float = 0.0, temperature: float = 1.0, seed: Optional[int] = 0):
    """Reply ids for a batch of encoded prompts.

    Args:
      cl: the backend (``course_lib.tf`` or ``course_lib.torch``).
      model: the ``Seq2SeqChatbot`` (its ``decoder_cell``, ``output_layer``, ``decoder_start``, ``attention_type``).
      memory: ``[B, S, units]``, the encoder's outputs.
      source_length: ``[B]``, the prompts' lengths.
      encoder_state: ``[h, c]``, each ``[B, units]``: the decoder's cell starts from it.
      start_tokens: ``[B]``, ids of ``<s>``.
      embeddings: the embedding matrix ``[V, E]`` that the decoder's samplers look their inputs up in.
      method: ``"greedy"``, ``"beam"`` (``beam_width``, ``length_penalty_weight``) or ``"sample"``
        (``temperature``, ``seed``).

    Returns:
      NumPy ``(ids [B, T], lengths [B], alignments [B, T, S] or None)``; row ``b``'s reply is
      ``ids[b, :lengths[b]]`` (ending with ``</s>`` when it finished). Beam search gives its best beam.
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be 'greedy', 'beam' or 'sample', got {method!r}")
    if method == "beam":
        initial_state = model.decoder_start(memory, source_length, encoder_state, beam_width=beam_width)
        decoder = cl.BeamSearchDecoder(model.decoder_cell, beam_width, output_layer=model.output_layer,
                                       length_penalty_weight=length_penalty_weight,
                                       maximum_iterations=maximum_iterations)
        outputs, final_state, lengths = decoder(embeddings, start_tokens=start_tokens, end_token=EOS_ID,
                                                initial_state=initial_state)
        ids, lengths = outputs.predicted_ids[:, :, 0], lengths[:, 0]  # the best beam: (B, T), (B,)
        alignments = decoder.alignment_history(final_state)[:, 0] if model.attention_type else None  # (B, T, S)
    else:
        sampler = cl.GreedyEmbeddingSampler() if method == "greedy" else \
            cl.SampleEmbeddingSampler(softmax_temperature=temperature, seed=seed)
        decoder = cl.BasicDecoder(model.decoder_cell, sampler, output_layer=model.output_layer,
                                  maximum_iterations=maximum_iterations)
        initial_state = model.decoder_start(memory, source_length, encoder_state)
        outputs, final_state, lengths = decoder(embeddings, start_tokens=start_tokens, end_token=EOS_ID,
                                                initial_state=initial_state)
        ids = outputs.sample_id  # (B, T)
        alignments = cl.alignment_history_batch_major(final_state) if model.attention_type else None  # (B, T, S)
    return (np.asarray(cl.to_numpy(ids)).astype(np.int64), np.asarray(cl.to_numpy(lengths)).astype(np.int64),
            None if alignments is None else np.asarray(cl.to_numpy(alignments)))
