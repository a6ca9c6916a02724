"""Framework-free parts of the course library: NumPy in, NumPy out.

Nothing here imports TensorFlow or PyTorch, so both backends (and the widgets) can use it.
"""

from course_lib.common.checks import check_shape, describe
from course_lib.common import nest

__all__ = ["check_shape", "describe", "nest"]
