"""``contrib.seq2seq``'s Helpers (PyTorch): TF1's, each bound at construction to a modern sampler.

The Helpers' logic and their argument docs are written once, in ``course_lib.common.contrib.helpers``;
here each is tied to this backend's sampler (``course_lib.torch.sampler``, ``scheduled_sampler``).
"""

from __future__ import annotations

from course_lib.common.contrib import Helper, HelperAsSampler  # noqa: F401  (Helper: one of this module's names)
from course_lib.common.contrib import helpers as _helpers
from course_lib.torch import sampler, scheduled_sampler


class TrainingHelper(_helpers.TrainingHelper):
    """TF1's ``TrainingHelper(inputs, sequence_length, time_major=False)`` on ``TrainingSampler``."""

    _sampler_class = sampler.TrainingSampler


class GreedyEmbeddingHelper(_helpers.GreedyEmbeddingHelper):
    """TF1's ``GreedyEmbeddingHelper(embedding, start_tokens, end_token)`` on ``GreedyEmbeddingSampler``."""

    _sampler_class = sampler.GreedyEmbeddingSampler


class SampleEmbeddingHelper(_helpers.SampleEmbeddingHelper):
    """TF1's ``SampleEmbeddingHelper(embedding, start_tokens, end_token, softmax_temperature=None, seed=None)``."""

    _sampler_class = sampler.SampleEmbeddingSampler


class ScheduledEmbeddingTrainingHelper(_helpers.ScheduledEmbeddingTrainingHelper):
    """TF1's ``ScheduledEmbeddingTrainingHelper(inputs, sequence_length, embedding, sampling_probability, ...)``."""

    _sampler_class = scheduled_sampler.ScheduledEmbeddingTrainingSampler


class ScheduledOutputTrainingHelper(_helpers.ScheduledOutputTrainingHelper):
    """TF1's ``ScheduledOutputTrainingHelper(inputs, sequence_length, sampling_probability, ...)``."""

    _sampler_class = scheduled_sampler.ScheduledOutputTrainingSampler


class InferenceHelper(_helpers.InferenceHelper):
    """TF1's ``InferenceHelper(sample_fn, sample_shape, sample_dtype, start_inputs, end_fn, next_inputs_fn=None)``."""

    _sampler_class = sampler.InferenceSampler


class CustomHelper(_helpers.CustomHelper):
    """TF1's ``CustomHelper(initialize_fn, sample_fn, next_inputs_fn, sample_ids_shape=None, ...)``."""

    _sampler_class = sampler.CustomSampler


class _HelperSampler(HelperAsSampler, sampler.Sampler):
    """Any TF1 Helper as a modern sampler, so that the modern ``BasicDecoder`` can drive it."""
