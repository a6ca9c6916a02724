"""Chapter 1's checkers bound to TensorFlow: ``from course_lib.chapters.ch01_dynamic_rnn import tf as ex``.

The checker bodies are ``checkers`` (written once); this module gives them TensorFlow's pieces.
"""

from course_lib.chapters import _tf  # first: through course_lib.tf, it quiets TensorFlow's start-up logging

import keras  # noqa: E402  (after course_lib.tf, on purpose)

from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch01_dynamic_rnn import checkers
from course_lib.common.checking import CheckResult


def _builtin_lstm(cell, depth: int):
    """``keras.layers.LSTM`` built for ``depth`` inputs, holding ``cell``'s weights (the same layout)."""
    layer = keras.layers.LSTM(cell.units, return_sequences=True, return_state=True)
    layer.build((None, None, depth))
    layer.set_weights([cell.kernel.numpy(), cell.recurrent_kernel.numpy(), cell.bias.numpy()])
    return layer


_BACKEND = Backend(
    _tf, where="tf.where", leaf_by_leaf="leaf by leaf with tf.nest.map_structure",
    builtin_lstm=_builtin_lstm, builtin_lstm_name="the Keras LSTM layer",
    builtin_lstm_hint="layer(inputs, mask=tf.sequence_mask(sequence_length, T)) returns [sequences, h, c] with the "
                      "state frozen at each row's end; Keras repeats the last output past it: "
                      "tf.where(mask[..., None], sequences, 0.0)",
    builtin_lstm_pad_hint="call the layer on the whole padded batch: it returns all T steps",
)

check_unroll, check_masked_nll, check_builtin_lstm = bind(checkers, _BACKEND, __name__)

__all__ = ["CheckResult", "check_unroll", "check_masked_nll", "check_builtin_lstm"]
