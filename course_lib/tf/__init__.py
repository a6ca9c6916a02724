"""The TensorFlow backend of course_lib: ``from course_lib import tf as cl``.

The same names, signatures and result structures as ``course_lib.torch`` (tensorflow_addons.seq2seq
0.23 names; TF1 Helper names as aliases), on TensorFlow 2 and Keras 3. Importing it never
imports PyTorch.
"""

import os as _os

# TF's C++ logging: level 3 hides its info, warning and spurious error lines (e.g. "oneDNN supports
# DT_INT32 only on platforms with AVX-512"); Python errors still raise. Set it first to override.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from course_lib.tf._quiet import import_tensorflow as _import_tensorflow  # noqa: E402

_import_tensorflow()  # without the start-up banner that TF prints before its logging starts

from course_lib.tf.cells import (  # noqa: E402
    BasicRNNCell, GRUCell, LSTMCell, MultiRNNCell, OutputProjectionWrapper, ResidualWrapper, RNNCell,
    SimpleRNNCell,
)
from course_lib.tf.rnn import dynamic_rnn  # noqa: E402
from course_lib.tf.sampler import (  # noqa: E402
    CustomHelper, CustomSampler, GreedyEmbeddingHelper, GreedyEmbeddingSampler, InferenceHelper,
    InferenceSampler, Sampler, SampleEmbeddingHelper, SampleEmbeddingSampler, TrainingHelper, TrainingSampler,
)
from course_lib.tf.scheduled_sampler import (  # noqa: E402
    ScheduledEmbeddingTrainingHelper, ScheduledEmbeddingTrainingSampler, ScheduledOutputTrainingHelper,
    ScheduledOutputTrainingSampler,
)
from course_lib.tf.decoder import (  # noqa: E402
    MAXIMUM_ITERATIONS_CAP, BaseDecoder, BasicDecoder, BasicDecoderOutput, Decoder, TensorArray, dynamic_decode,
)
from course_lib.tf.loss import SequenceLoss, sequence_loss, sequence_mask  # noqa: E402
from course_lib.tf.weights import export_weights, import_weights  # noqa: E402
from course_lib.tf.utils import default_device, set_seed, to_device, to_numpy  # noqa: E402
from course_lib.common.checks import check_shape  # noqa: E402

from course_lib.tf.trace import TraceDecoder  # noqa: E402

from course_lib.tf.attention import *  # noqa: F401,F403,E402
from course_lib.tf.beam_search import *  # noqa: F401,F403,E402

BACKEND = "tf"
