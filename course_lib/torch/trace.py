"""``TraceDecoder``: a decoder that runs another one and records every step into a ``DecodeTrace``.

::

    tracer = TraceDecoder(decoder, top_k=5)       # decoder: BasicDecoder or BeamSearchDecoder
    outputs, state, lengths = tracer(embedding, start_tokens=start, end_token=eos)
    tracer.trace                                  # a course_lib.common.trace.DecodeTrace (NumPy)

The results are the wrapped decoder's, unchanged. Under teacher forcing pass the ground-truth
ids ``input_ids=[B, T]`` to the call so that the trace can show tokens instead of vectors.
The delegation and the recording are ``course_lib.common.trace.TraceDecoderLogic``'s; this
module adds the PyTorch hooks.
"""

from __future__ import annotations

import numpy as np
import torch

from course_lib.common.checks import describe
from course_lib.common.trace import TraceDecoderLogic
from course_lib.torch.decoder import Decoder
from course_lib.torch.utils import to_numpy

__all__ = ["TraceDecoder"]


class TraceDecoder(TraceDecoderLogic, Decoder):
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
            raise TypeError(f"`decoder` must be a course_lib.torch Decoder, got {describe(decoder)}")
        for option in ("output_time_major", "impute_finished", "maximum_iterations"):
            kwargs.setdefault(option, getattr(decoder, option, None))
        super().__init__(**kwargs)
        self._start_tracing(decoder, top_k)

    # -- the tensor hooks of TraceDecoderLogic ---------------------------------------------------
    @staticmethod
    def _numpy(x):
        return to_numpy(x)

    @staticmethod
    def _as_numpy_ids(x):
        return np.asarray(to_numpy(torch.as_tensor(x)))

    @staticmethod
    def _is_tensor(x):
        return isinstance(x, torch.Tensor)

    @staticmethod
    def _is_float_tensor(x):
        return isinstance(x, torch.Tensor) and x.is_floating_point()

    @staticmethod
    def _check_recordable():
        """PyTorch is always eager: every step can be recorded."""

    @staticmethod
    def _recording():
        return torch.no_grad()
