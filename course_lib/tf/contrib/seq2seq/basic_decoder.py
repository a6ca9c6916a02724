"""``contrib.seq2seq``'s ``Decoder``, ``BasicDecoder`` and ``dynamic_decode`` (TensorFlow), with TF1's signatures.

TF1 binds everything at construction (``BasicDecoder(cell, helper, initial_state)``) and runs the
decoder with ``dynamic_decode(decoder, ...)``, whose ``initialize()`` takes no inputs. These are the
modern classes (``course_lib.tf.decoder``) with that interface (``course_lib.common.contrib.decoding``):
the step and the loop are the modern ones.
"""

from __future__ import annotations

from course_lib.common.contrib import check_decoder
from course_lib.common.contrib.decoding import BasicDecoderLogic, DecoderLogic
from course_lib.tf import decoder as modern
from course_lib.tf.contrib.seq2seq.helper import _HelperSampler
from course_lib.tf.decoder import BasicDecoderOutput  # noqa: F401  (one of this module's names)


class Decoder(DecoderLogic, modern.Decoder):
    __doc__ = DecoderLogic.__doc__


class BasicDecoder(BasicDecoderLogic, modern.BasicDecoder, Decoder):
    __doc__ = BasicDecoderLogic.__doc__
    _helper_sampler = _HelperSampler


def dynamic_decode(decoder, output_time_major=False, impute_finished=False, maximum_iterations=None,
                   parallel_iterations=32, swap_memory=False, scope=None):
    """TF1's ``dynamic_decode``: run ``decoder`` (a contrib ``Decoder``) until every row has finished.

    The loop is the modern one (``course_lib.tf.decoder.dynamic_decode``). Unlike TF1, a decode
    without ``maximum_iterations`` cannot hang: it stops after ``MAXIMUM_ITERATIONS_CAP`` steps and warns.

    Args:
      decoder: a contrib ``Decoder`` (``BasicDecoder``, ``BeamSearchDecoder`` or yours).
      output_time_major: outputs ``[T, B, ...]`` instead of ``[B, T, ...]``.
      impute_finished: finished rows emit zeros and keep their state (scalars and TensorArrays pass).
      maximum_iterations: the most steps to run.
      parallel_iterations, swap_memory: options of the graph loop (TensorFlow); scope: unused.

    Returns:
      ``(final_outputs, final_state, final_sequence_lengths [B])``: three values, as from TF 1.3 on
      (TF 1.1-1.2 returned two).
    """
    check_decoder(decoder, Decoder, modern.Decoder)
    return modern.dynamic_decode(decoder, output_time_major=output_time_major, impute_finished=impute_finished,
                                 maximum_iterations=maximum_iterations, parallel_iterations=parallel_iterations,
                                 swap_memory=swap_memory)
