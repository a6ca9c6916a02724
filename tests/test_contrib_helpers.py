"""contrib.seq2seq's Helpers, a user-defined Helper and Decoder, contrib.nn and TF1's sequence_loss flags."""

import numpy as np
import pytest

from tests import contrib_models as m
from tests.conftest import assert_close

Bt, T, D, H, V = 3, 4, 3, 5, 6
LENGTHS = [4, 2, 1]
RNG = np.random.default_rng(5)
X = RNG.standard_normal((Bt, T, D)).astype(np.float32)
AUX = RNG.standard_normal((Bt, T, 2)).astype(np.float32)
EMB = RNG.standard_normal((V, D)).astype(np.float32)


def _decode(bk, helper, cell, output_layer=None, **kwargs):
    seq2seq = m.contrib(bk).seq2seq
    decoder = seq2seq.BasicDecoder(cell, helper, cell.zero_state(helper.batch_size, m.dtype(bk)), output_layer)
    return seq2seq.dynamic_decode(decoder, **kwargs)


def _modern(bk, cell, sampler, inputs, output_layer=None, maximum_iterations=None, **init):
    decoder = bk.cl.BasicDecoder(cell, sampler, output_layer)
    return bk.cl.dynamic_decode(decoder, maximum_iterations=maximum_iterations, decoder_init_input=inputs,
                                decoder_init_kwargs=dict(init, initial_state=cell.zero_state(Bt, m.dtype(bk))))


def _same(bk, a, b, what):
    assert_close(bk.np(a[0]), bk.np(b[0]), what=f"{what}: outputs")
    assert np.array_equal(bk.np(a[2]), bk.np(b[2])), f"{what}: lengths"


def test_training_helpers_bind_their_inputs_and_match_the_samplers(backend):
    cl, seq2seq, rnn = backend.cl, m.contrib(backend).seq2seq, m.contrib(backend).rnn
    cell, x, lengths = rnn.GRUCell(H), backend.float(X), backend.int(LENGTHS)
    helper = seq2seq.TrainingHelper(x, lengths)
    assert helper.batch_size == Bt  # known at construction, as in TF1
    plain = _decode(backend, helper, cell)
    _same(backend, plain, _modern(backend, cell, cl.TrainingSampler(), x, sequence_length=lengths), "TrainingHelper")
    time_major = x.transpose(0, 1) if backend.name == "torch" else backend.fw.transpose(x, [1, 0, 2])
    _same(backend, _decode(backend, seq2seq.TrainingHelper(time_major, lengths, time_major=True), cell), plain,
          "time_major")
    dense = backend.dense(H, V)
    never = seq2seq.ScheduledEmbeddingTrainingHelper(x, lengths, backend.float(EMB), sampling_probability=0.0)
    assert_close(backend.np(_decode(backend, never, cell)[0].rnn_output), backend.np(plain[0].rnn_output),
                 what="scheduled sampling with probability 0 is teacher forcing")
    always = seq2seq.ScheduledEmbeddingTrainingHelper(x, lengths, backend.float(EMB), 1.0, seed=3, scheduling_seed=4)
    sampler = cl.ScheduledEmbeddingTrainingSampler(1.0, seed=3, scheduling_seed=4)
    _same(backend, _decode(backend, always, cell, dense),
          _modern(backend, cell, sampler, x, dense, sequence_length=lengths, embedding=backend.float(EMB)),
          "ScheduledEmbeddingTrainingHelper")


def test_scheduled_output_helper_with_auxiliary_inputs_and_next_inputs_fn(backend):
    cl, seq2seq, rnn = backend.cl, m.contrib(backend).seq2seq, m.contrib(backend).rnn
    cell, x, lengths, aux = rnn.BasicRNNCell(D), backend.float(X), backend.int(LENGTHS), backend.float(AUX)
    half = lambda outputs: outputs * 0.5  # noqa: E731
    helper = seq2seq.ScheduledOutputTrainingHelper(x, lengths, 1.0, seed=2, next_inputs_fn=half, auxiliary_inputs=aux)
    sampler = cl.ScheduledOutputTrainingSampler(1.0, seed=2, next_inputs_fn=half)
    outputs, _, _ = result = _decode(backend, helper, cell)
    _same(backend, result, _modern(backend, cell, sampler, x, sequence_length=lengths, auxiliary_inputs=aux),
          "ScheduledOutputTrainingHelper")
    assert backend.np(outputs.rnn_output).shape == (Bt, T, D)


def test_inference_custom_and_sample_helpers(backend):
    cl, seq2seq, rnn = backend.cl, m.contrib(backend).seq2seq, m.contrib(backend).rnn
    cell, start = rnn.BasicRNNCell(D), backend.float(X[:, 0])
    end_fn = lambda sample_ids: sample_ids[:, 0] > 0.5  # noqa: E731
    helper = seq2seq.InferenceHelper(lambda outputs: outputs, [D], m.dtype(backend), start, end_fn)
    sampler = cl.InferenceSampler(lambda outputs: outputs, [D], m.dtype(backend), end_fn)
    _same(backend, _decode(backend, helper, cell, maximum_iterations=6),
          _modern(backend, cell, sampler, start, maximum_iterations=6), "InferenceHelper")

    greedy = seq2seq.GreedyEmbeddingHelper(backend.float(EMB), backend.int([0] * Bt), 2)
    calls = []

    def initialize_fn():  # TF1's CustomHelper takes no argument
        calls.append(1)
        return greedy.initialize()

    custom = seq2seq.CustomHelper(initialize_fn, greedy.sample, greedy.next_inputs)
    with pytest.raises(ValueError, match="initialize"):
        custom.batch_size  # known after the first initialize, as in TF1
    dense = backend.dense(D, V)
    result = _decode_with_batch(backend, custom, cell, dense)
    assert calls and custom.batch_size == Bt
    _same(backend, result, _decode(backend, greedy, cell, dense, maximum_iterations=5), "CustomHelper")

    sampled = seq2seq.SampleEmbeddingHelper(backend.float(EMB), backend.int([0] * Bt), 2, softmax_temperature=2.0,
                                            seed=7)
    sampler = cl.SampleEmbeddingSampler(softmax_temperature=2.0, seed=7)
    _same(backend, _decode(backend, sampled, cell, dense, maximum_iterations=5),
          _modern(backend, cell, sampler, backend.float(EMB), dense, maximum_iterations=5,
                  start_tokens=backend.int([0] * Bt), end_token=2), "SampleEmbeddingHelper")


def _decode_with_batch(bk, helper, cell, output_layer):
    seq2seq = m.contrib(bk).seq2seq
    decoder = seq2seq.BasicDecoder(cell, helper, cell.zero_state(Bt, m.dtype(bk)), output_layer)
    return seq2seq.dynamic_decode(decoder, maximum_iterations=5)


def test_a_user_defined_helper_and_decoder_run_as_in_tf1(backend):
    """The tutorial's own Helper (TrainingHelper rewritten) and its copy of BasicDecoder.step."""
    seq2seq, rnn = m.contrib(backend).seq2seq, m.contrib(backend).rnn
    x, lengths = backend.float(X), backend.int(LENGTHS)

    class MyHelper(seq2seq.Helper):
        def __init__(self, inputs, sequence_length):
            self._inputs, self._sequence_length = inputs, sequence_length

        batch_size = property(lambda self: Bt)
        sample_ids_shape = property(lambda self: backend.fw.TensorShape([]) if backend.name == "tf"
                                    else backend.fw.Size([]))
        sample_ids_dtype = property(lambda self: backend.fw.int32 if backend.name == "tf" else backend.fw.int64)

        def initialize(self, name=None):
            return self._sequence_length <= 0, self._inputs[:, 0]

        def sample(self, time, outputs, state, name=None):
            if backend.name == "torch":
                return outputs.argmax(-1)
            return backend.fw.argmax(outputs, -1, output_type="int32")

        def next_inputs(self, time, outputs, state, sample_ids, name=None):
            finished = time + 1 >= self._sequence_length
            step = min(int(time) + 1, T - 1)
            return finished, self._inputs[:, step], state

    class MyDecoder(seq2seq.Decoder):
        def __init__(self, cell, helper, initial_state):
            super().__init__()
            self._cell, self._helper, self._initial_state = cell, helper, initial_state

        batch_size = property(lambda self: self._helper.batch_size)
        output_size = property(lambda self: seq2seq.BasicDecoderOutput(self._cell.output_size,
                                                                        self._helper.sample_ids_shape))
        output_dtype = property(lambda self: seq2seq.BasicDecoderOutput(m.dtype(backend),
                                                                         self._helper.sample_ids_dtype))

        def initialize(self, name=None):
            return self._helper.initialize() + (self._initial_state,)

        def step(self, time, inputs, state, name=None):
            cell_outputs, cell_state = self._cell(inputs, state)
            sample_ids = self._helper.sample(time=time, outputs=cell_outputs, state=cell_state)
            finished, next_inputs, next_state = self._helper.next_inputs(
                time=time, outputs=cell_outputs, state=cell_state, sample_ids=sample_ids)
            return seq2seq.BasicDecoderOutput(cell_outputs, sample_ids), next_state, next_inputs, finished

    cell = rnn.BasicLSTMCell(H)
    state = cell.zero_state(Bt, m.dtype(backend))
    mine = seq2seq.dynamic_decode(MyDecoder(cell, MyHelper(x, lengths), state))
    stock = seq2seq.dynamic_decode(seq2seq.BasicDecoder(cell, seq2seq.TrainingHelper(x, lengths), state))
    _same(backend, mine, stock, "user-defined Helper and Decoder")


def test_dynamic_rnn_is_tf1s_and_equals_the_modern_one(backend):
    rnn, nn, cl = m.contrib(backend).rnn, m.contrib(backend).nn, backend.cl
    cell, x, lengths = rnn.BasicLSTMCell(H, forget_bias=m.FORGET_BIAS), backend.float(X), [3, 1, 0]
    outputs, state = nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=m.dtype(backend))
    weights = cl.export_weights(cell)
    modern = cl.LSTMCell(H)
    cl.import_weights(modern, m.tf1_lstm_to_keras(weights["kernel"], weights["bias"], D, m.FORGET_BIAS))
    ref_outputs, ref_state = cl.dynamic_rnn(modern, x, sequence_length=backend.int(lengths))
    assert_close(backend.np(outputs), backend.np(ref_outputs), what="outputs")
    assert_close(backend.np(state.c), backend.np(ref_state[1]), what="c")
    assert np.all(backend.np(outputs)[1, 1:] == 0) and np.all(backend.np(state.h)[2] == 0)  # past each length
    swap = (lambda t: t.transpose(0, 1)) if backend.name == "torch" else (lambda t: backend.fw.transpose(t, [1, 0, 2]))
    tm_outputs, _ = nn.dynamic_rnn(cell, swap(x), sequence_length=lengths, dtype=m.dtype(backend), time_major=True)
    assert_close(backend.np(swap(tm_outputs)), backend.np(outputs), what="time-major")


def test_bidirectional_dynamic_rnn_reads_each_row_backwards(backend):
    rnn, nn = m.contrib(backend).rnn, m.contrib(backend).nn
    fw, bw = rnn.GRUCell(H), rnn.GRUCell(H)
    lengths = [4, 2, 1]
    (out_fw, out_bw), (state_fw, state_bw) = nn.bidirectional_dynamic_rnn(
        fw, bw, backend.float(X), sequence_length=lengths, dtype=m.dtype(backend))
    for row, n in enumerate(lengths):  # the backward cell alone on the row reversed, then re-reversed
        reversed_row = backend.float(X[row:row + 1, :n][:, ::-1].copy())
        alone, alone_state = nn.dynamic_rnn(bw, reversed_row, dtype=m.dtype(backend))
        assert_close(backend.np(out_bw)[row, :n], backend.np(alone)[0, ::-1], what=f"row {row}")
        assert_close(backend.np(state_bw)[row], backend.np(alone_state)[0], what=f"state of row {row}")
        assert np.all(backend.np(out_bw)[row, n:] == 0)
    assert backend.np(out_fw).shape == backend.np(out_bw).shape == (Bt, T, H)


def test_sequence_loss_keeps_tf1s_flag_rules(backend):
    seq2seq, cl = m.contrib(backend).seq2seq, backend.cl
    logits = backend.float(RNG.standard_normal((Bt, T, V)))
    targets = backend.int(RNG.integers(0, V, (Bt, T)))
    weights = backend.float([[1.0, 0.5, 0.25, 0.0], [0.5, 0.5, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    assert_close(backend.np(seq2seq.sequence_loss(logits, targets, weights)),
                 backend.np(cl.sequence_loss(logits, targets, weights)), what="defaults")
    per_row = cl.sequence_loss(logits, targets, weights, average_across_timesteps=True, average_across_batch=False)
    tf1 = seq2seq.sequence_loss(logits, targets, weights, average_across_timesteps=True, average_across_batch=False,
                                sum_over_batch=True)  # TF1 averages over time only; tfa refuses the pair
    assert_close(backend.np(tf1), backend.np(per_row), what="average over time with sum over batch")
    with pytest.raises(ValueError, match="`average_across_batch` and `sum_over_batch` cannot both be True"):
        seq2seq.sequence_loss(logits, targets, weights, sum_over_batch=True)


def test_a_user_defined_rnn_cell_as_in_the_tutorial(backend):
    """The tutorial's RNNCell subclasses: state + 0.1 per step (0.6 after six), and BasicRNNCell rewritten."""
    seq2seq, rnn = m.contrib(backend).seq2seq, m.contrib(backend).rnn
    ops = backend.fw

    class MyRnnWrapper(rnn.RNNCell):
        def __init__(self, state_dim, name=None):
            super().__init__(name=name)
            self.sate_size = state_dim  # sic, as in the tutorial

        output_size = property(lambda self: self.sate_size)
        state_size = property(lambda self: self.sate_size)

        def call(self, inputs, state):
            return inputs, state + 0.1

    class MyBasicRNNWrapper(MyRnnWrapper):
        def build(self, inputs_shape):  # TF1's tf.get_variable -> self.add_weight, the same call in both backends
            depth = int(inputs_shape[-1])
            self.kernel = self.add_weight(name="kernel", shape=(depth + self.sate_size, self.sate_size),
                                          initializer="glorot_uniform")
            self.bias = self.add_weight(name="bias", shape=(self.sate_size,), initializer="zeros")

        def call(self, inputs, state):
            cat = ops.concat([inputs, state], 1) if backend.name == "tf" else ops.cat([inputs, state], 1)
            output = ops.tanh(ops.matmul(cat, self.kernel) + self.bias)
            return output, output

    x = backend.float(np.ones((Bt, 6, 2)))
    cell = MyRnnWrapper(2, "xxx")
    helper = seq2seq.TrainingHelper(x, backend.int([6] * Bt))
    decoder = seq2seq.BasicDecoder(cell, helper, cell.zero_state(Bt, m.dtype(backend)))
    outputs, last_state, _ = seq2seq.dynamic_decode(decoder, impute_finished=True, maximum_iterations=10)
    np.testing.assert_allclose(backend.np(last_state), 0.6, rtol=1e-6)
    assert_close(backend.np(outputs.rnn_output), np.ones((Bt, 6, 2)), what="outputs are the inputs")

    mine, stock = MyBasicRNNWrapper(H), rnn.BasicRNNCell(H)
    state = backend.float(np.zeros((Bt, H)))
    stock(x[:, 0], state)
    mine(x[:, 0], state)
    backend.cl.import_weights(mine, backend.cl.export_weights(stock))
    assert_close(backend.np(mine(x[:, 0], state)[0]), backend.np(stock(x[:, 0], state)[0]), what="my BasicRNNCell")
