"""AutoGraph converts course_lib's two loops only (``course_lib/tf/_autograph.py``).

Converting every library function a traced decode calls cost most of its first call; these tests
pin that the library is on AutoGraph's do-not-convert list while its loops, and code a learner
passes in, are still converted (a Python ``if`` over a tensor in a custom decoder's ``step``).
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.backends("tf")

tf = pytest.importorskip("tensorflow")


@pytest.fixture
def conversions(monkeypatch):
    from tensorflow.python.autograph.impl import api

    seen = []
    original = api._convert_actual

    def record(entity, program_ctx):
        seen.append(f"{getattr(entity, '__module__', '?')}.{getattr(entity, '__qualname__', entity)}")
        return original(entity, program_ctx)

    monkeypatch.setattr(api, "_convert_actual", record)
    return seen


def _attention_decoder(cl, B=3, S=5, H=8, V=11):
    rng = np.random.default_rng(0)
    memory = tf.constant(rng.normal(size=(B, S, H)).astype("float32"))
    mechanism = cl.BahdanauAttention(H, memory, memory_sequence_length=tf.constant([5, 3, 2]))
    cell = cl.AttentionWrapper(cl.LSTMCell(H), mechanism, attention_layer_size=H, alignment_history=True)
    decoder = cl.BasicDecoder(cell, cl.GreedyEmbeddingSampler(), tf.keras.layers.Dense(V), maximum_iterations=6)
    embedding = tf.constant(rng.normal(size=(V, 4)).astype("float32"))
    return memory, mechanism, cell, decoder, embedding, B


def test_a_traced_attention_decode_converts_only_the_loop(conversions):
    from course_lib import tf as cl

    memory, mechanism, cell, decoder, embedding, B = _attention_decoder(cl)

    @tf.function
    def run():
        mechanism.setup_memory(memory, memory_sequence_length=tf.constant([5, 3, 2]))
        state = cell.get_initial_state(batch_size=B, dtype=tf.float32)
        outputs, _, lengths = decoder(embedding, start_tokens=tf.fill([B], 1), end_token=2, initial_state=state)
        return outputs.rnn_output, lengths

    graph_logits, graph_lengths = run()
    # AutoGraph caches what it converted in the process, so the loop itself shows up only in the first
    # test that traces it; no other library function may show up at all
    ours = [name for name in conversions if name.startswith("course_lib.")]
    assert set(ours) <= {"course_lib.tf.decoder._decode_steps"}, ours
    # the same numbers as the eager loop
    state = cell.get_initial_state(batch_size=B, dtype=tf.float32)
    mechanism.setup_memory(memory, memory_sequence_length=tf.constant([5, 3, 2]))
    eager_outputs, _, eager_lengths = decoder(embedding, start_tokens=tf.fill([B], 1), end_token=2, initial_state=state)
    np.testing.assert_allclose(graph_logits.numpy(), eager_outputs.rnn_output.numpy(), atol=1e-5)
    np.testing.assert_array_equal(graph_lengths.numpy(), eager_lengths.numpy())


def test_the_library_is_on_autographs_do_not_convert_list_and_learner_code_is_not():
    from tensorflow.python.autograph.impl import conversion

    from course_lib.tf import decoder, sampler
    from course_lib.tf._autograph import LIBRARY_MODULES

    assert LIBRARY_MODULES == ("course_lib.tf", "course_lib.common")
    assert conversion.is_allowlisted(sampler.TrainingSampler.next_inputs)
    assert conversion.is_allowlisted(decoder.dynamic_decode)

    def learner_step(x):
        return x

    assert not conversion.is_allowlisted(learner_step)


def test_a_learners_step_with_a_python_if_over_a_tensor_still_converts():
    from course_lib import tf as cl

    class CountDown(cl.Decoder):
        """Emits its counter; a row finishes when its counter reaches zero (a Python ``if`` on a tensor)."""

        def __init__(self, start):
            super().__init__()
            self.start = start

        @property
        def batch_size(self):
            return 3

        @property
        def output_size(self):
            return tf.TensorShape([])

        @property
        def output_dtype(self):
            return tf.int32

        def initialize(self, inputs=None, **kwargs):
            return tf.zeros([3], tf.bool), self.start, self.start

        def step(self, time, inputs, state, training=None):
            if tf.reduce_any(state > 0):  # AutoGraph turns this into tf.cond in a graph
                nxt = tf.maximum(state - 1, 0)
            else:
                nxt = state
            return nxt, nxt, nxt, nxt <= 0

    decoder = CountDown(tf.constant([1, 3, 2]))
    eager = cl.dynamic_decode(decoder, maximum_iterations=5)
    graph = tf.function(lambda: cl.dynamic_decode(decoder, maximum_iterations=5))()
    np.testing.assert_array_equal(eager[2].numpy(), [1, 3, 2])
    np.testing.assert_array_equal(graph[2].numpy(), eager[2].numpy())
    np.testing.assert_array_equal(graph[0].numpy(), eager[0].numpy())
