"""Chapter 4's checkers bound to PyTorch: ``from course_lib.chapters.ch04_custom_helper import torch as ex``.

The checker bodies are ``checkers`` (written once); this module gives them PyTorch's pieces.
"""

import torch
import torch.nn.functional as F

import course_lib.torch as cl
from course_lib.chapters import _torch
from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch04_custom_helper import cases, checkers
from course_lib.common.checking import CheckResult


class _FeedMaskReference(cases.FeedMaskReferenceBase, cl.Sampler):
    """The reference FeedMaskSampler (the checker compares with it)."""

    def __init__(self, feed_sample):
        self.feed_sample = torch.as_tensor(feed_sample)

    def sample(self, time, outputs, state):
        return outputs.argmax(dim=-1)

    def next_inputs(self, time, outputs, state, sample_ids):
        finished = time + 1 >= self.sequence_length
        t = min(time + 1, self.inputs.shape[1] - 1)
        own = F.embedding(sample_ids, self.embedding)
        return finished, torch.where(self.feed_sample[:, t][:, None], own, self.inputs[:, t]), state


def _embedding_lookup(embedding, ids):
    return F.embedding(ids, embedding)


_BACKEND = Backend(
    _torch, FeedMaskReference=_FeedMaskReference, embedding_lookup=_embedding_lookup,
    is_float_dtype=lambda dtype: isinstance(dtype, torch.dtype) and dtype.is_floating_point, dtype_name=str,
)

check_feed_mask_sampler, check_frame_sampler, check_top_k_sampler = bind(checkers, _BACKEND, __name__)

__all__ = ["CheckResult", "check_feed_mask_sampler", "check_frame_sampler", "check_top_k_sampler"]
