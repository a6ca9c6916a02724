"""Chapter 3's checkers bound to PyTorch: ``from course_lib.chapters.ch03_custom_wrapper import torch as ex``.

The checker bodies are ``checkers`` (written once); this module gives them PyTorch's pieces.
"""

from torch import nn

from course_lib.chapters import _torch
from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch03_custom_wrapper import checkers
from course_lib.common.checking import CheckResult
from course_lib.torch.weights import _own_entries, _walk


def _weight_shapes(module) -> dict:
    """``{key: shape}`` as ``export_weights`` would name them; an unbuilt lazy layer shows as "unbuilt"."""
    shapes = {}
    for path, m in _walk(module):
        if isinstance(m, nn.modules.lazy.LazyModuleMixin) and m.has_uninitialized_params():
            shapes[path + "kernel"] = shapes[path + "bias"] = "unbuilt (never called)"
            continue
        for name, (param, transposed) in _own_entries(m).items():
            shape = list(param.shape)
            shapes[path + name] = shape[::-1] if transposed is True else shape
    return shapes


_BACKEND = Backend(
    _torch, method="forward", weight_shapes=_weight_shapes,
    zero_state_hint="def get_initial_state(self, batch_size=None, dtype=None, device=None): "
                    "return torch.zeros(batch_size, state_size, dtype=dtype, device=device)",
    projection_hint="keep the inner cell as `self.cell` and `self.projection = nn.LazyLinear(num_proj)`; forward: "
                    "return self.cell(self.projection(inputs), state); state_size and output_size are the cell's",
    gru_build_hint="on the first call: self.kernel = nn.Parameter(...) of shape (D, 3 * units), recurrent_kernel "
                   "(units, 3 * units), bias (2, 3 * units)",
)

check_running_sum_cell, check_input_projection_wrapper, check_gru_cell = bind(checkers, _BACKEND, __name__)

__all__ = ["CheckResult", "check_running_sum_cell", "check_input_projection_wrapper", "check_gru_cell"]
