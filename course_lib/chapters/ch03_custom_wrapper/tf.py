"""Chapter 3's checkers bound to TensorFlow: ``from course_lib.chapters.ch03_custom_wrapper import tf as ex``.

The checker bodies are ``checkers`` (written once); this module gives them TensorFlow's pieces.
"""

import course_lib.tf as cl
from course_lib.chapters import _tf
from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch03_custom_wrapper import checkers
from course_lib.common.checking import CheckResult


def _weight_shapes(module) -> dict:
    """``{key: shape}`` of what ``export_weights(module)`` gives."""
    return {k: list(v.shape) for k, v in cl.export_weights(module).items()}


_BACKEND = Backend(
    _tf, method="call", weight_shapes=_weight_shapes,
    zero_state_hint="return tf.zeros([batch_size, state_size], dtype)",
    projection_hint="keep the inner cell as `self.cell` and `self.projection = keras.layers.Dense(num_proj)`; call: "
                    "return self.cell(self.projection(inputs), states); state_size and output_size are the cell's",
    gru_build_hint="in build(input_shape): self.kernel = self.add_weight(name='kernel', shape=(D, 3 * units)), "
                   "recurrent_kernel (units, 3 * units), bias (2, 3 * units)",
)

check_running_sum_cell, check_input_projection_wrapper, check_gru_cell = bind(checkers, _BACKEND, __name__)

__all__ = ["CheckResult", "check_running_sum_cell", "check_input_projection_wrapper", "check_gru_cell"]
