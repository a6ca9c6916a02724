"""Chapter 4's checkers bound to TensorFlow: ``from course_lib.chapters.ch04_custom_helper import tf as ex``.

The checker bodies are ``checkers`` (written once); this module gives them TensorFlow's pieces.
"""

import course_lib.tf as cl  # first: it quiets TensorFlow's start-up logging before TensorFlow loads

import tensorflow as tf  # noqa: E402  (after course_lib.tf, on purpose)

from course_lib.chapters import _tf
from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch04_custom_helper import cases, checkers
from course_lib.common.checking import CheckResult


class _FeedMaskReference(cases.FeedMaskReferenceBase, cl.Sampler):
    """The reference FeedMaskSampler (the checker compares with it)."""

    def __init__(self, feed_sample):
        self.feed_sample = tf.convert_to_tensor(feed_sample)

    def sample(self, time, outputs, state):
        return tf.argmax(outputs, axis=-1, output_type=tf.int32)

    def next_inputs(self, time, outputs, state, sample_ids):
        finished = time + 1 >= self.sequence_length
        t = tf.minimum(time + 1, self.inputs.shape[1] - 1)
        own = tf.nn.embedding_lookup(self.embedding, sample_ids)
        return finished, tf.where(self.feed_sample[:, t][:, None], own, self.inputs[:, t]), state


_BACKEND = Backend(
    _tf, FeedMaskReference=_FeedMaskReference, embedding_lookup=tf.nn.embedding_lookup,
    is_float_dtype=lambda dtype: dtype.is_floating, dtype_name=lambda dtype: dtype.name,
)

check_feed_mask_sampler, check_frame_sampler, check_top_k_sampler = bind(checkers, _BACKEND, __name__)

__all__ = ["CheckResult", "check_feed_mask_sampler", "check_frame_sampler", "check_top_k_sampler"]
