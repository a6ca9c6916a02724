"""Chapter 6's checkers bound to PyTorch: ``from course_lib.chapters.ch06_attention import torch as ex``.

The checker bodies are ``checkers`` (written once); the adapter ``course_lib.chapters._torch`` is all they need.
"""

from course_lib.chapters import _torch
from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch06_attention import checkers
from course_lib.common.checking import CheckResult

check_context, check_bahdanau_score, check_masked_softmax = bind(checkers, Backend(_torch), __name__)

__all__ = ["CheckResult", "check_context", "check_bahdanau_score", "check_masked_softmax"]
