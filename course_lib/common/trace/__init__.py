"""Decode traces: what a decoder did at every step, as NumPy arrays, the same for both backends.

``record``: ``DecodeTrace`` (the format the widgets read) and ``gather_tree``; ``recorder``:
``TraceRecorder`` and how each step's next input was chosen; ``decoder``: the framework-free
half of ``TraceDecoder``. This package only re-exports.
"""

from course_lib.common.trace.record import Alignments, DecodeTrace, gather_tree
from course_lib.common.trace.recorder import FEED_KINDS, TraceRecorder, feed_back, find_alignments, start_ids, top_k_of
from course_lib.common.trace.decoder import TraceDecoderLogic, feed_kind

__all__ = ["Alignments", "DecodeTrace", "gather_tree", "FEED_KINDS", "TraceRecorder", "feed_back", "find_alignments",
           "start_ids", "top_k_of", "TraceDecoderLogic", "feed_kind"]
