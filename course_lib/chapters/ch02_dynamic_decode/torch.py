"""Chapter 2's checkers bound to PyTorch: ``from course_lib.chapters.ch02_dynamic_decode import torch as ex``.

The checker bodies are ``checkers`` (written once); the adapter ``course_lib.chapters._torch`` is all they need.
"""

from course_lib.chapters import _torch
from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch02_dynamic_decode import checkers
from course_lib.common.checking import CheckResult

check_decode_loop, check_temperature, check_lengths_from_ids = bind(checkers, Backend(_torch), __name__)

__all__ = ["CheckResult", "check_decode_loop", "check_temperature", "check_lengths_from_ids"]
