"""The framework-free half of the ``contrib`` surface (TF1's ``tf.contrib.rnn`` / ``tf.contrib.seq2seq``).

Both backends' ``contrib`` packages (``course_lib.tf.contrib``, ``course_lib.torch.contrib``) build
on these: TF1's state tuples and their layout checks (``state``), TF1's Helper interface and the
Helpers that bind their inputs at construction to a modern sampler (``helpers``), the checks and
rules of TF1's decoders, mechanisms and loss (``args``), and how TF1's cell weights map to the
Keras layout of the modern cells (``layouts``).
"""

from course_lib.common.contrib.args import (  # noqa: F401
    check_decoder, check_mechanism_args, not_callable_message, tf1_loss_flags,
)
from course_lib.common.contrib.helpers import (  # noqa: F401
    CustomHelper, GreedyEmbeddingHelper, Helper, HelperAsSampler, InferenceHelper, SampleEmbeddingHelper,
    SamplerHelper, ScheduledEmbeddingTrainingHelper, ScheduledOutputTrainingHelper, TrainingHelper, check_helper,
)
from course_lib.common.contrib.layouts import (  # noqa: F401
    basic_rnn_from_keras, basic_rnn_to_keras, lstm_from_keras, lstm_to_keras,
)
from course_lib.common.contrib.state import (  # noqa: F401
    AttentionWrapperState, LSTMStateTuple, check_attention_state, check_keep_prob, check_state_layout,
    dropout_leaves, from_tfa_state, to_tfa_state, zero_state_of,
)
