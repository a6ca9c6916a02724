"""Chapter 5's checkers bound to PyTorch: ``from course_lib.chapters.ch05_custom_decoder import torch as ex``.

The checker bodies are ``checkers`` (written once); this module gives them PyTorch's pieces.
"""

from course_lib.chapters import _torch
from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch05_custom_decoder import checkers
from course_lib.common.checking import CheckResult

_BACKEND = Backend(_torch, repeat_hint="torch.repeat_interleave(x, multiplier, dim=0)",
                   cast_hint="lengths.float() before the arithmetic")

check_tile_batch, check_length_penalty, check_gather_tree = bind(checkers, _BACKEND, __name__)

__all__ = ["CheckResult", "check_tile_batch", "check_length_penalty", "check_gather_tree"]
