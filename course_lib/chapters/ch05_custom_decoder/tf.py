"""Chapter 5's checkers bound to TensorFlow: ``from course_lib.chapters.ch05_custom_decoder import tf as ex``.

The checker bodies are ``checkers`` (written once); this module gives them TensorFlow's pieces.
"""

from course_lib.chapters import _tf
from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch05_custom_decoder import checkers
from course_lib.common.checking import CheckResult

_BACKEND = Backend(_tf, repeat_hint="tf.repeat(x, multiplier, axis=0)",
                   cast_hint="tf.cast(lengths, tf.float32) before the arithmetic")

check_tile_batch, check_length_penalty, check_gather_tree = bind(checkers, _BACKEND, __name__)

__all__ = ["CheckResult", "check_tile_batch", "check_length_penalty", "check_gather_tree"]
