"""``TraceDecoder``: a decoder that runs another one and records every step into a ``DecodeTrace``.

::

    tracer = TraceDecoder(decoder, top_k=5)       # decoder: BasicDecoder or BeamSearchDecoder
    outputs, state, lengths = tracer(embedding, start_tokens=start, end_token=eos)
    tracer.trace                                  # a course_lib.common.trace.DecodeTrace (NumPy)

The results are the wrapped decoder's, unchanged. It records NumPy values at every step, so it
runs eagerly only (not inside ``tf.function``). Under teacher forcing pass the ground-truth
ids ``input_ids=[B, T]`` to the call so that the trace can show tokens instead of vectors.
The delegation and the recording are ``course_lib.common.trace.TraceDecoderLogic``'s; this
module adds the TensorFlow hooks.
"""

from __future__ import annotations

import contextlib

import numpy as np
import tensorflow as tf

from course_lib.common.checks import describe
from course_lib.common.trace import TraceDecoderLogic
from course_lib.tf.decoder import Decoder
from course_lib.tf.utils import to_numpy

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
            raise TypeError(f"`decoder` must be a course_lib.tf Decoder, got {describe(decoder)}")
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
        return np.asarray(to_numpy(tf.convert_to_tensor(x)))

    @staticmethod
    def _is_tensor(x):
        return isinstance(x, tf.Tensor)

    @staticmethod
    def _is_float_tensor(x):
        return isinstance(x, tf.Tensor) and x.dtype.is_floating

    @staticmethod
    def _check_recordable():
        if not tf.executing_eagerly():
            raise RuntimeError(
                "TraceDecoder records NumPy values at every step and runs eagerly only: call it outside "
                "tf.function (a tf.function-compiled decode cannot be traced step by step)"
            )

    @staticmethod
    def _recording():
        return contextlib.nullcontext()
