"""The framework-free half of ``TraceDecoder``: delegate to the wrapped decoder, record each step.

``course_lib.tf.TraceDecoder`` and ``course_lib.torch.TraceDecoder`` derive from
``TraceDecoderLogic`` and from their backend's ``Decoder``; they add only the tensor hooks
(``_numpy``, ``_as_numpy_ids``, ``_is_float_tensor``, ``_is_tensor``, ``_check_recordable``,
``_recording``).
"""

from __future__ import annotations

import numpy as np

from course_lib.common.trace.record import DecodeTrace
from course_lib.common.trace.recorder import TraceRecorder, feed_back, find_alignments, start_ids

#: (class name in the sampler's MRO, how its decoder chooses the next input), most specific first
_FEED_BY_SAMPLER = (("GreedyEmbeddingSampler", "sample"), ("ScheduledEmbeddingTrainingSampler", "scheduled_embedding"),
                    ("ScheduledOutputTrainingSampler", "scheduled_output"), ("TrainingSampler", "teacher_forcing"))


def _course_classes(obj) -> set:
    return {c.__name__ for c in type(obj).__mro__ if c.__module__.startswith("course_lib.")}


def feed_kind(decoder) -> str:
    """How ``decoder`` chooses its next input (see ``feed_back``), told from its (course_lib) classes."""
    if "BeamSearchDecoder" in _course_classes(decoder):
        return "beam"
    names = _course_classes(getattr(decoder, "sampler", None))
    for name, kind in _FEED_BY_SAMPLER:
        if name in names:
            return kind
    return "other"


class TraceDecoderLogic:
    """Wraps a decoder: the same results, plus a ``DecodeTrace`` of every step in ``.trace``."""

    def _start_tracing(self, decoder, top_k):
        self.decoder = decoder
        self.recorder = TraceRecorder(top_k)
        self._kind = feed_kind(decoder)

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
        self._check_recordable()
        finished, inputs, state = self.decoder.initialize(*args, **kwargs)
        self._ground_truth = None if input_ids is None else self._as_numpy_ids(input_ids)
        sampler = getattr(self.decoder, "sampler", None)
        end_token = getattr(sampler, "end_token", kwargs.get("end_token"))
        first = start_ids(self._kind, self._numpy(kwargs.get("start_tokens")), self._ground_truth,
                          self._numpy(finished))
        self.recorder.start(
            self._numpy(finished), first, sampler=type(sampler or self.decoder).__name__,
            end_token=None if end_token is None else int(self._as_numpy_ids(end_token)),
            tracks_own_finished=self.tracks_own_finished,
            temperature=getattr(sampler, "softmax_temperature", None),
        )
        return finished, inputs, state

    def step(self, time, inputs, state, training=None):
        """The wrapped decoder's ``step``, recorded; returns what it returns."""
        self._check_recordable()
        outputs, next_state, next_inputs, finished = self.decoder.step(time, inputs, state, training)
        with self._recording():
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
        to_np = self._numpy
        finished = to_np(finished)
        vectors = to_np(inputs) if self._is_tensor(inputs) else np.zeros(finished.shape + (0,))
        if self._kind == "beam":
            ids, parents = to_np(outputs.predicted_ids), to_np(outputs.parent_ids)
            scores = to_np(outputs.scores)
            if scores.ndim == 3:  # output_all_scores: [B, W, V], the survivors' are at parent * V + id
                V = scores.shape[-1]
                scores = np.take_along_axis(scores.reshape(scores.shape[0], -1), parents * V + ids, axis=1)
            self.recorder.record(
                time, vectors, ids, to_np(next_state.finished), next_input_ids=ids, fed_back_sample=True,
                alignments=to_np(find_alignments(next_state.cell_state)), parent_ids=parents, scores=scores,
                log_probs=to_np(next_state.log_probs), lengths=to_np(next_state.lengths),
            )
            return
        sample_ids, rnn_output = getattr(outputs, "sample_id", None), getattr(outputs, "rnn_output", None)
        sample_ids = to_np(sample_ids) if sample_ids is not None else np.full(finished.shape, -1)
        next_ids, fed_back = feed_back(self._kind, time, sample_ids, self._ground_truth)
        logits = to_np(rnn_output) if self._is_float_tensor(rnn_output) else None
        self.recorder.record(
            time, vectors, sample_ids, finished, next_input_ids=next_ids, fed_back_sample=fed_back,
            logits=logits, alignments=to_np(find_alignments(next_state)),
        )
