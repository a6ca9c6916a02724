"""``contrib.rnn``: TF1's ``tf.contrib.rnn`` (= ``tf.nn.rnn_cell``) cells and wrappers (TensorFlow).

``cells``: ``RNNCell`` (the base), ``BasicRNNCell``, ``BasicLSTMCell``, ``LSTMCell``, ``GRUCell``;
``wrappers``: ``MultiRNNCell``, ``OutputProjectionWrapper``, ``ResidualWrapper``, ``DropoutWrapper``;
``LSTMStateTuple(c, h)``.
"""

from course_lib.common.contrib import LSTMStateTuple  # noqa: F401
from course_lib.tf.contrib.rnn.cells import BasicLSTMCell, BasicRNNCell, GRUCell, LSTMCell, RNNCell  # noqa: F401
from course_lib.tf.contrib.rnn.wrappers import (  # noqa: F401
    DropoutWrapper, MultiRNNCell, OutputProjectionWrapper, ResidualWrapper,
)

__all__ = ["RNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "LSTMStateTuple", "MultiRNNCell",
           "OutputProjectionWrapper", "ResidualWrapper", "DropoutWrapper"]
