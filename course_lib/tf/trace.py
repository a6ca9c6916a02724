"""``TraceDecoder``: a decoder that runs another one and records every step into a ``DecodeTrace``.

::

    tracer = TraceDecoder(decoder, top_k=5)       # decoder: BasicDecoder or BeamSearchDecoder
    outputs, state, lengths = tracer(embedding, start_tokens=start, end_token=eos)
    tracer.trace                                  # a course_lib.common.trace.DecodeTrace (NumPy)

The results are the wrapped decoder's, unchanged. It records NumPy values at every step, so it
runs eagerly only (not inside ``tf.function``). Under teacher forcing pass the ground-truth
ids ``input_ids=[B, T]`` to the call so that the trace can show tokens instead of vectors.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib.common.checks import describe
from course_lib.common.trace import DecodeTrace, TraceRecorder, feed_back, find_alignments, start_ids
from course_lib.tf.beam_search import BeamSearchDecoder
from course_lib.tf.decoder import Decoder
from course_lib.tf.sampler import (
    GreedyEmbeddingSampler, ScheduledEmbeddingTrainingSampler, ScheduledOutputTrainingSampler, TrainingSampler,
)
from course_lib.tf.utils import to_numpy

__all__ = ["TraceDecoder"]


def _feed_kind(decoder) -> str:
    """How the wrapped decoder chooses its next input (see ``course_lib.common.trace.feed_back``)."""
    if isinstance(decoder, BeamSearchDecoder):
        return "beam"
    sampler = getattr(decoder, "sampler", None)
    for cls, kind in ((GreedyEmbeddingSampler, "sample"), (ScheduledEmbeddingTrainingSampler, "scheduled_embedding"),
                      (ScheduledOutputTrainingSampler, "scheduled_output"), (TrainingSampler, "teacher_forcing")):
        if isinstance(sampler, cls):
            return kind
    return "other"


def _check_eager():
    if not tf.executing_eagerly():
        raise RuntimeError(
            "TraceDecoder records NumPy values at every step and runs eagerly only: call it outside "
            "tf.function (a tf.function-compiled decode cannot be traced step by step)"
        )


class TraceDecoder(Decoder):
    """Wraps a ``Decoder``: the same results, plus a ``DecodeTrace`` of every step in ``.trace``.

    Args:
      decoder: the decoder to run (``BasicDecoder`` with any sampler, ``BeamSearchDecoder``, ...).
      top_k: how many of the most likely next tokens to keep per step (0: none); from the
        softmax of ``rnn_output`` (divided by a sampler's ``softmax_temperature``).
      **kwargs: ``dynamic_decode`` options; by default the wrapped decoder's.

    Calling it runs ``dynamic_decode`` on the wrapper; the keyword ``input_ids [B, T]`` (optional,
    teacher forcing) gives the ground-truth ids behind the input vectors.
    """

    def __init__(self, decoder, top_k=5, **kwargs):
        if not isinstance(decoder, Decoder):
            raise TypeError(f"`decoder` must be a course_lib.tf Decoder, got {describe(decoder)}")
        for option in ("output_time_major", "impute_finished", "maximum_iterations"):
            kwargs.setdefault(option, getattr(decoder, option, None))
        super().__init__(**kwargs)
        self.decoder = decoder
        self.recorder = TraceRecorder(top_k)
        self._kind = _feed_kind(decoder)

    # -- the Decoder interface, delegated ---------------------------------------------------------
    @property
    def batch_size(self):
        return self.decoder.batch_size

    @property
    def output_size(self):
        return self.decoder.output_size

    @property
    def output_dtype(self):
        return self.decoder.output_dtype

    @property
    def tracks_own_finished(self) -> bool:
        return self.decoder.tracks_own_finished

    def initialize(self, *args, input_ids=None, **kwargs):
        """The wrapped decoder's ``initialize``; starts a new trace.

        Args: as the wrapped decoder's, plus ``input_ids [B, T]`` (ground-truth ids, optional).
        """
        _check_eager()
        finished, inputs, state = self.decoder.initialize(*args, **kwargs)
        self._ground_truth = None if input_ids is None else np.asarray(to_numpy(tf.convert_to_tensor(input_ids)))
        sampler = getattr(self.decoder, "sampler", None)
        end_token = getattr(sampler, "end_token", kwargs.get("end_token"))
        first = start_ids(self._kind, to_numpy(kwargs.get("start_tokens")), self._ground_truth, to_numpy(finished))
        self.recorder.start(
            to_numpy(finished), first, sampler=type(sampler or self.decoder).__name__,
            end_token=None if end_token is None else int(to_numpy(tf.convert_to_tensor(end_token))),
            tracks_own_finished=self.tracks_own_finished,
            temperature=getattr(sampler, "softmax_temperature", None),
        )
        return finished, inputs, state

    def step(self, time, inputs, state, training=None):
        """The wrapped decoder's ``step``, recorded; returns what it returns."""
        _check_eager()
        outputs, next_state, next_inputs, finished = self.decoder.step(time, inputs, state, training)
        self._record(int(time), inputs, outputs, next_state, finished)
        return outputs, next_state, next_inputs, finished

    def finalize(self, outputs, final_state, sequence_lengths):
        return self.decoder.finalize(outputs, final_state, sequence_lengths)

    @property
    def trace(self) -> DecodeTrace:
        """The last decode's ``DecodeTrace``."""
        return self.recorder.trace()

    # -- recording ---------------------------------------------------------------------------------
    def _record(self, time, inputs, outputs, next_state, finished):
        finished = to_numpy(finished)
        vectors = to_numpy(inputs) if isinstance(inputs, tf.Tensor) else np.zeros(finished.shape + (0,))
        if self._kind == "beam":
            ids, parents = to_numpy(outputs.predicted_ids), to_numpy(outputs.parent_ids)
            scores = to_numpy(outputs.scores)
            if scores.ndim == 3:  # output_all_scores: [B, W, V], the survivors' are at parent * V + id
                V = scores.shape[-1]
                scores = np.take_along_axis(scores.reshape(scores.shape[0], -1), parents * V + ids, axis=1)
            self.recorder.record(
                time, vectors, ids, to_numpy(next_state.finished), next_input_ids=ids, fed_back_sample=True,
                alignments=to_numpy(find_alignments(next_state.cell_state)), parent_ids=parents, scores=scores,
                log_probs=to_numpy(next_state.log_probs), lengths=to_numpy(next_state.lengths),
            )
            return
        sample_ids, rnn_output = getattr(outputs, "sample_id", None), getattr(outputs, "rnn_output", None)
        sample_ids = to_numpy(sample_ids) if sample_ids is not None else np.full(finished.shape, -1)
        next_ids, fed_back = feed_back(self._kind, time, sample_ids, self._ground_truth)
        floating = isinstance(rnn_output, tf.Tensor) and rnn_output.dtype.is_floating
        logits = to_numpy(rnn_output) if floating else None
        self.recorder.record(
            time, vectors, sample_ids, finished, next_input_ids=next_ids, fed_back_sample=fed_back,
            logits=logits, alignments=to_numpy(find_alignments(next_state)),
        )

