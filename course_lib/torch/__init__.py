"""The PyTorch backend of course_lib: ``from course_lib import torch as cl``.

The same names, signatures and result structures as ``course_lib.tf`` (tensorflow_addons.seq2seq
0.23 names; TF1 Helper names as aliases). Importing it never imports TensorFlow.
"""

from course_lib.torch.cells import (
    BasicRNNCell, GRUCell, LSTMCell, MultiRNNCell, OutputProjectionWrapper, ResidualWrapper, RNNCell,
    SimpleRNNCell,
)
from course_lib.torch.rnn import dynamic_rnn
from course_lib.torch.sampler import (
    CustomHelper, CustomSampler, GreedyEmbeddingHelper, GreedyEmbeddingSampler, InferenceHelper,
    InferenceSampler, Sampler, SampleEmbeddingHelper, SampleEmbeddingSampler, TrainingHelper, TrainingSampler,
)
from course_lib.torch.scheduled_sampler import (
    ScheduledEmbeddingTrainingHelper, ScheduledEmbeddingTrainingSampler, ScheduledOutputTrainingHelper,
    ScheduledOutputTrainingSampler,
)
from course_lib.torch.decoder import (
    MAXIMUM_ITERATIONS_CAP, BaseDecoder, BasicDecoder, BasicDecoderOutput, Decoder, TensorArray,
    dynamic_decode,
)
from course_lib.torch.loss import SequenceLoss, sequence_loss, sequence_mask
from course_lib.torch.weights import export_weights, import_weights
from course_lib.torch.utils import default_device, set_seed, to_device, to_numpy
from course_lib.common.checks import check_shape

from course_lib.torch.trace import TraceDecoder

from course_lib.torch.attention import *  # noqa: F401,F403,E402
from course_lib.torch.beam_search import *  # noqa: F401,F403,E402

BACKEND = "torch"
