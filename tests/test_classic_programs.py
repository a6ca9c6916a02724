"""Chapter 8's programs: each classic tutorial's model lines on ``contrib`` equal the modern API.

One test per seed program (``../shared/seeds/``), in both backends, with the tutorial's own
configuration from ``course_lib.chapters.ch08_classic_tutorials``: the TF1 program runs on the
backend's ``contrib``, its weights go through ``ch.tf1_to_modern`` / ``ch.modern_to_tf1`` into the
modern model, and the two must give the same numbers. Where the tutorial states a result (0.6, a
shape, a quiz answer, lengths) the test computes it. The last tests load one set of weights into
both backends' ``contrib`` programs.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from course_lib.chapters import ch08_classic_tutorials as ch
from tests.conftest import assert_close, random_weights


def contrib(bk):
    return importlib.import_module(f"course_lib.{bk.name}.contrib")


def lookup(bk, table, ids):
    table = bk.float(table) if isinstance(table, np.ndarray) else table
    if bk.name == "tf":
        return bk.fw.nn.embedding_lookup(table, bk.int(ids))
    return bk.fw.nn.functional.embedding(bk.int(ids), table)


def zeros(bk, *shape):
    return bk.float(np.zeros(shape))


def build_and_load(bk, module, call, seed):
    """Call ``module`` once (contrib cells build on their first call), then load seeded random weights."""
    call()
    weights = random_weights(bk.cl.export_weights(module), seed=seed)
    bk.cl.import_weights(module, weights)
    return weights


def no_grad(bk):
    if bk.name == "torch":
        return bk.fw.no_grad()
    import contextlib
    return contextlib.nullcontext()


# -- hccho2 part -1 -------------------------------------------------------------------------------------

def test_part_minus_1_dynamic_rnn_with_output_projection(backend):
    bk, toy = backend, ch.PART_MINUS_1
    rnn, seq2seq, nn = contrib(bk).rnn, contrib(bk).seq2seq, contrib(bk).nn
    cell = rnn.OutputProjectionWrapper(rnn.BasicRNNCell(num_units=toy.hidden_dim), toy.vocab_size)
    inputs = lookup(bk, toy.arange_embedding(), toy.x_data)
    lengths = [toy.seq_length] * toy.batch_size

    def run():
        return nn.dynamic_rnn(cell, inputs, sequence_length=lengths, initial_state=cell.zero_state(3, bk.fw.float32))

    weights = build_and_load(bk, cell, run, seed=1)
    with no_grad(bk):
        outputs, last_state = run()
        loss = seq2seq.sequence_loss(outputs, bk.int(toy.y_data), bk.float(np.ones((3, 6))))
    logits = bk.np(outputs)
    assert logits.shape == (3, 6, 5) and bk.np(last_state).shape == (3, 6)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    assert abs(float(bk.np(loss)) - ch.hand_loss(p, toy.y_data)) < 1e-5  # the tutorial's check by hand

    modern = bk.cl.OutputProjectionWrapper(bk.cl.SimpleRNNCell(toy.hidden_dim), toy.vocab_size)

    def modern_run():
        return bk.cl.dynamic_rnn(modern, inputs, initial_state=modern.get_initial_state(batch_size=3,
                                                                                        dtype=bk.fw.float32))

    modern_run()
    bk.cl.import_weights(modern, ch.tf1_to_modern(weights, {"cell/": ("rnn", toy.embedding_dim)},
                                                  rename={"kernel": "projection/kernel", "bias": "projection/bias"}))
    with no_grad(bk):
        ref_outputs, ref_state = modern_run()
    assert_close(logits, bk.np(ref_outputs), what="part -1 outputs")
    assert_close(bk.np(last_state), bk.np(ref_state), what="part -1 last state")


# -- hccho2 part 0: the two-layer decoder with per-layer initial states -----------------------------------

def _part0(bk, weights=None):
    """The TF1 program (training and greedy, zero_state or LSTMStateTuple(zeros, h0)) and its modern twin."""
    toy = ch.PART_0
    rnn, seq2seq = contrib(bk).rnn, contrib(bk).seq2seq
    cell = rnn.MultiRNNCell([rnn.BasicLSTMCell(num_units=toy.hidden_dim) for _ in range(2)])
    output_layer = bk.dense(toy.hidden_dim, toy.vocab_size)
    embedding = np.random.default_rng(0).standard_normal((toy.vocab_size, toy.embedding_dim)).astype(np.float32)
    h0 = np.random.default_rng(1).standard_normal((3, toy.hidden_dim)).astype(np.float32)

    def program(train_mode, init_state_flag):
        if init_state_flag == 0:
            state = cell.zero_state(3, bk.fw.float32)
        else:
            h, z = bk.float(h0), zeros(bk, 3, toy.hidden_dim)
            state = (rnn.LSTMStateTuple(z, h), rnn.LSTMStateTuple(z, z))
        if train_mode:
            helper = seq2seq.TrainingHelper(lookup(bk, embedding, toy.x_data), np.array([6, 6, 6]))
        else:
            helper = seq2seq.GreedyEmbeddingHelper(bk.float(embedding), bk.int([toy.sos_token] * 3), toy.eos_token)
        decoder = seq2seq.BasicDecoder(cell, helper, state, output_layer=output_layer)
        return seq2seq.dynamic_decode(decoder, output_time_major=False, impute_finished=True, maximum_iterations=10), \
            decoder

    program(True, 0)
    template = bk.cl.export_weights(program(True, 0)[1])
    weights = random_weights(template, seed=3) if weights is None else weights
    bk.cl.import_weights(program(True, 0)[1], weights)

    cl = bk.cl
    modern_cell = cl.MultiRNNCell([cl.LSTMCell(toy.hidden_dim) for _ in range(2)])
    modern_out = bk.dense(toy.hidden_dim, toy.vocab_size)
    train = cl.BasicDecoder(modern_cell, cl.TrainingSampler(), modern_out, impute_finished=True, maximum_iterations=10)
    greedy = cl.BasicDecoder(modern_cell, cl.GreedyEmbeddingSampler(), modern_out, impute_finished=True,
                             maximum_iterations=10)
    inputs = lookup(bk, embedding, toy.x_data)
    train(inputs, sequence_length=bk.int([6, 6, 6]))
    cl.import_weights(train, ch.tf1_to_modern(weights, {"cell/cells/0/": ("lstm", toy.embedding_dim),
                                                        "cell/cells/1/": ("lstm", toy.hidden_dim)}))
    z = zeros(bk, 3, toy.hidden_dim)
    modern_states = {0: modern_cell.get_initial_state(batch_size=3, dtype=bk.fw.float32),
                     1: ([bk.float(h0), z], [z, z])}  # [h, c]

    def modern(train_mode, flag):
        if train_mode:
            return train(inputs, initial_state=modern_states[flag], sequence_length=bk.int([6, 6, 6]))
        return greedy(bk.float(embedding), start_tokens=bk.int([toy.sos_token] * 3), end_token=toy.eos_token,
                      initial_state=modern_states[flag])

    return program, modern, weights


@pytest.mark.parametrize("init_state_flag", [0, 1])
def test_part_0_multirnncell_decoder_equals_the_modern_api(backend, init_state_flag):
    program, modern, _ = _part0(backend)
    with no_grad(backend):
        for train_mode in (True, False):
            (outputs, state, lengths), _ = program(train_mode, init_state_flag)
            ref_outputs, ref_state, ref_lengths = modern(train_mode, init_state_flag)
            assert isinstance(state[0], contrib(backend).rnn.LSTMStateTuple)
            assert_close(backend.np(outputs.rnn_output), backend.np(ref_outputs.rnn_output), what="part 0 logits")
            assert np.array_equal(backend.np(outputs.sample_id), backend.np(ref_outputs.sample_id))
            assert np.array_equal(backend.np(lengths), backend.np(ref_lengths))
            for layer in range(2):  # (c, h) against [h, c]
                assert_close(backend.np(state[layer].c), backend.np(ref_state[layer][1]), what=f"c {layer}")
                assert_close(backend.np(state[layer].h), backend.np(ref_state[layer][0]), what=f"h {layer}")


def test_part_0_the_bottom_layer_h0_reaches_the_outputs(backend):
    """LSTMStateTuple(zeros, h0) must change the logits against zero_state: h0 is read as h, not c."""
    program, _, _ = _part0(backend)
    with no_grad(backend):
        zero, with_h0 = (backend.np(program(True, flag)[0][0].rnn_output) for flag in (0, 1))
    assert np.abs(zero - with_h0).max() > 1e-3


# -- hccho2 part 1: the +0.1 cell -----------------------------------------------------------------------

def _plus_point_one(bk):
    rnn = contrib(bk).rnn

    class MyRnnWrapper(rnn.RNNCell):
        def __init__(self, state_dim, name=None):
            super().__init__(name=name)
            self.state_dim = state_dim

        @property
        def output_size(self):
            return self.state_dim

        @property
        def state_size(self):
            return self.state_dim

        def call(self, inputs, state):
            return inputs, state + 0.1

    return MyRnnWrapper


@pytest.mark.parametrize("lengths, impute, expected", [((6, 6, 6), True, (0.6, 0.6, 0.6)),
                                                       ((2, 4, 6), True, (0.2, 0.4, 0.6)),
                                                       ((2, 4, 6), False, (0.6, 0.6, 0.6))])
def test_part_1_why_the_last_state_is_0_6(backend, lengths, impute, expected):
    bk, toy = backend, ch.PART_1
    seq2seq = contrib(bk).seq2seq
    cell = _plus_point_one(bk)(toy.embedding_dim, "xxx")
    inputs = lookup(bk, toy.arange_embedding(), toy.x_data)
    helper = seq2seq.TrainingHelper(inputs, np.array(lengths, np.int32))
    decoder = seq2seq.BasicDecoder(cell, helper, cell.zero_state(3, bk.fw.float32), output_layer=None)
    outputs, state, steps = seq2seq.dynamic_decode(decoder, impute_finished=impute, maximum_iterations=10)
    np.testing.assert_allclose(bk.np(state), np.repeat(np.array(expected)[:, None], 2, 1), atol=1e-6)
    assert np.array_equal(bk.np(steps), lengths)
    if lengths == (6, 6, 6):
        assert np.array_equal(bk.np(outputs.rnn_output), bk.np(inputs))  # the cell passes its inputs through


# -- hccho2 parts 2 and 3: Tacotron's helper, a user Decoder with a stop token --------------------------

def _countdown(bk):
    rnn, fw = contrib(bk).rnn, bk.fw

    class CountdownCell(rnn.RNNCell):
        def __init__(self, frame_dim, r, stop_token=False):
            super().__init__()
            self.frame_dim, self.r, self.stop_token = frame_dim, r, stop_token

        @property
        def state_size(self):
            return 1

        @property
        def output_size(self):
            return self.frame_dim * self.r

        def call(self, inputs, state):
            if bk.name == "tf":
                level = fw.reduce_mean(inputs, axis=1, keepdims=True) + state
                frames = fw.repeat(fw.nn.relu(level - fw.range(1, self.r + 1, dtype=fw.float32)), self.frame_dim, 1)
                stop = fw.cast(level <= self.r, fw.float32)
            else:
                level = inputs.mean(dim=1, keepdim=True) + state
                frames = fw.relu(level - fw.arange(1, self.r + 1, dtype=fw.float32)).repeat_interleave(
                    self.frame_dim, dim=1)
                stop = (level <= self.r).float()
            return ((frames, stop) if self.stop_token else frames), state * 0

    return CountdownCell


def _taco_helper(bk, output_dim, r, stop_column=False):
    seq2seq, fw = contrib(bk).seq2seq, bk.fw

    class TacoTestHelper(seq2seq.Helper):
        batch_size = 3
        sample_ids_shape = fw.TensorShape([]) if bk.name == "tf" else fw.Size([])
        sample_ids_dtype = fw.int32 if bk.name == "tf" else fw.long

        def initialize(self, name=None):
            return bk.int([0, 0, 0]) > 0, zeros(bk, 3, output_dim)

        def sample(self, time, outputs, state, name=None):
            return bk.int([0, 0, 0])

        def next_inputs(self, time, outputs, state, sample_ids, name=None):
            if stop_column:
                return outputs[:, -1] > 0.5, outputs[:, -1 - output_dim:-1], state
            silent = outputs == 0.0
            finished = fw.reduce_all(silent, axis=1) if bk.name == "tf" else fw.all(silent, dim=1)
            return finished, outputs[:, -output_dim:], state

    return TacoTestHelper()


LEVELS = np.array([[5.0], [8.0], [12.0]], np.float32)  # start levels: silent after 3, 4 and 5 steps
R, FRAME = 3, 2


def test_part_2_tacotron_helper_feeds_back_the_last_of_r_frames(backend):
    bk = backend
    seq2seq = contrib(bk).seq2seq
    cell = _countdown(bk)(FRAME, R)
    decoder = seq2seq.BasicDecoder(cell, _taco_helper(bk, FRAME, R), bk.float(LEVELS))
    outputs, _, lengths = seq2seq.dynamic_decode(decoder, maximum_iterations=20)
    expected = np.ceil((LEVELS[:, 0] - 1) / R).astype(int) + 1  # silent after this many steps
    assert np.array_equal(bk.np(lengths), expected)
    frames = bk.np(outputs.rnn_output)
    assert frames.shape == (3, expected.max(), FRAME * R)
    np.testing.assert_array_equal(frames[0, 0], [4, 4, 3, 3, 2, 2])
    np.testing.assert_array_equal(frames[0, 1], [1, 1, 0, 0, 0, 0])  # the level fed back is the last frame, 2

    cl = bk.cl

    class TacoTestSampler(cl.Sampler):
        def initialize(self, inputs, **kwargs):
            self._batch_size = inputs.shape[0]
            return bk.int([0, 0, 0]) > 0, inputs

        def sample(self, time, outputs, state):
            return bk.int([0, 0, 0])

        def next_inputs(self, time, outputs, state, sample_ids):
            silent = outputs == 0.0
            finished = bk.fw.reduce_all(silent, axis=1) if bk.name == "tf" else bk.fw.all(silent, dim=1)
            return finished, outputs[:, -FRAME:], state

    ref, _, ref_lengths = cl.BasicDecoder(cell, TacoTestSampler(), maximum_iterations=20)(
        zeros(bk, 3, FRAME), initial_state=bk.float(LEVELS))
    assert np.array_equal(bk.np(ref_lengths), expected)
    np.testing.assert_array_equal(bk.np(ref.rnn_output), frames)


def test_part_3_user_decoder_and_packed_helper_agree(backend):
    bk = backend
    seq2seq, rnn, fw = contrib(bk).seq2seq, contrib(bk).rnn, bk.fw
    cell = _countdown(bk)(FRAME, R, stop_token=True)
    shape = fw.TensorShape if bk.name == "tf" else fw.Size

    class MyDecoder(seq2seq.Decoder):
        def __init__(self):
            super().__init__()

        batch_size = 3
        output_size = (shape([FRAME * R]), shape([1]))
        output_dtype = (fw.float32, fw.float32)

        def initialize(self, name=None):
            return bk.int([0, 0, 0]) > 0, zeros(bk, 3, FRAME), bk.float(LEVELS)

        def step(self, time, inputs, state, name=None):
            (frames, stop), state = cell(inputs, state)
            return (frames, stop), state, frames[:, -FRAME:], stop[:, 0] > 0.5

    (frames, stops), _, lengths = seq2seq.dynamic_decode(MyDecoder(), maximum_iterations=20)
    expected = np.ceil((LEVELS[:, 0] - R) / R).astype(int) + 1  # the first step whose level is at most r
    assert np.array_equal(bk.np(lengths), expected)

    class Pack(rnn.RNNCell):
        state_size, output_size = 1, FRAME * R + 1

        def call(self, inputs, state):
            (f, s), state = cell(inputs, state)
            return (fw.concat([f, s], 1) if bk.name == "tf" else fw.cat([f, s], 1)), state

    packed, _, packed_lengths = seq2seq.dynamic_decode(
        seq2seq.BasicDecoder(Pack(), _taco_helper(bk, FRAME, R, stop_column=True), bk.float(LEVELS)),
        maximum_iterations=20)
    assert np.array_equal(bk.np(packed_lengths), expected)
    np.testing.assert_array_equal(bk.np(packed.rnn_output)[..., :-1], bk.np(frames))
    np.testing.assert_array_equal(bk.np(packed.rnn_output)[..., -1], bk.np(stops)[..., 0])


# -- hccho2 part 4: AttentionWrapper 6 / 11 / 13 -------------------------------------------------------

def _attention(bk, weights=None):
    toy = ch.ATTENTION
    rnn, seq2seq = contrib(bk).rnn, contrib(bk).seq2seq
    memory = bk.float(np.random.default_rng(1).standard_normal(toy.extra["memory_shape"]))
    lengths = list(toy.extra["memory_lengths"])
    inner = rnn.BasicRNNCell(toy.hidden_dim)
    mechanism = seq2seq.BahdanauAttention(num_units=toy.extra["num_units"], memory=memory,
                                          memory_sequence_length=lengths, normalize=False)
    cell = seq2seq.AttentionWrapper(inner, mechanism, attention_layer_size=toy.extra["attention_layer_size"],
                                    initial_cell_state=inner.zero_state(3, bk.fw.float32), alignment_history=True,
                                    output_attention=True)
    cell = rnn.OutputProjectionWrapper(cell, toy.vocab_size)
    inputs = lookup(bk, toy.arange_embedding(), toy.x_data)

    def run():
        mechanism.setup_memory(memory, memory_sequence_length=lengths)
        helper = seq2seq.TrainingHelper(inputs, np.array([6, 6, 6]))
        decoder = seq2seq.BasicDecoder(cell, helper, cell.zero_state(3, bk.fw.float32))
        return seq2seq.dynamic_decode(decoder, impute_finished=True)

    run()
    weights = random_weights(bk.cl.export_weights(cell), seed=4) if weights is None else weights
    bk.cl.import_weights(cell, weights)
    with no_grad(bk):
        result = run()
    return cell, memory, lengths, inputs, weights, result


def test_part_4_attention_shapes_quiz_and_the_modern_api(backend):
    bk = backend
    _, memory, lengths, inputs, weights, (outputs, state, steps) = _attention(bk)
    shapes = {k: tuple(v.shape) for k, v in weights.items()}
    assert shapes["cell/cell/kernel"] == (8 + 13 + 6, 6)  # the cell reads [input 8, attention 13] and h 6
    assert shapes["cell/attention_mechanism/memory_layer/kernel"] == (30, 11)
    assert shapes["cell/attention_mechanism/query_layer/kernel"] == (6, 11)
    assert shapes["cell/attention_layer/kernel"] == (6 + 30, 13) and shapes["kernel"] == (13, 5)
    assert int(bk.np(state.time)) == 6 and np.array_equal(bk.np(steps), [6, 6, 6])
    history = bk.np(state.alignment_history.stack())
    assert history.shape == (6, 3, 20)  # T_e = 20: the memory's time axis, whatever the lengths
    np.testing.assert_allclose(history.sum(-1), 1, atol=1e-5)
    for b, n in enumerate(lengths):
        assert np.all(history[:, b, n:] == 0)
    # the quiz: c = sum_t a[:, t] h[:, t]; the attention layer of [cell output, c] is the state's attention
    a, h = bk.np(state.alignments), bk.np(memory)
    c = (a[:, :, None] * h).sum(1)
    np.testing.assert_allclose(c, np.einsum("bt,btd->bd", a, h), atol=1e-5)
    attention = np.concatenate([bk.np(state.cell_state), c], 1) @ weights["cell/attention_layer/kernel"]
    np.testing.assert_allclose(attention, bk.np(state.attention), atol=1e-5)

    cl = bk.cl
    mechanism = cl.BahdanauAttention(11, memory, memory_sequence_length=lengths, normalize=False)
    modern_cell = cl.AttentionWrapper(cl.SimpleRNNCell(6), mechanism, attention_layer_size=13, alignment_history=True,
                                      output_attention=True)
    decoder = cl.BasicDecoder(modern_cell, cl.TrainingSampler(), bk.dense(13, 5), impute_finished=True)

    def run():
        return decoder(inputs, sequence_length=bk.int([6, 6, 6]),
                       initial_state=modern_cell.get_initial_state(batch_size=3, dtype=bk.fw.float32))

    run()
    cl.import_weights(decoder, ch.tf1_to_modern(weights, {"cell/cell/": ("rnn", 21)},
                                                rename={"kernel": "output_layer/kernel", "bias": "output_layer/bias"}))
    mechanism.setup_memory(memory, memory_sequence_length=lengths)
    with no_grad(bk):
        ref_outputs, ref_state, _ = run()
    assert_close(bk.np(outputs.rnn_output), bk.np(ref_outputs.rnn_output), what="attention logits")
    assert_close(history, bk.np(ref_state.alignment_history.stack()), what="alignment history")


# -- tfa InferenceSampler (seed 000) --------------------------------------------------------------------

def test_hello_inference_helper_equals_inference_sampler(backend):
    bk, toy, cl = backend, ch.HELLO, backend.cl
    rnn, seq2seq = contrib(bk).rnn, contrib(bk).seq2seq
    embedding = bk.float(toy.arange_embedding() / 40)
    cell, projection = cl.LSTMCell(toy.hidden_dim), bk.dense(toy.hidden_dim, toy.vocab_size)
    if bk.name == "tf":
        argmax = lambda o: bk.fw.argmax(o, axis=-1, output_type=bk.fw.int32)
        embed = lambda ids: bk.fw.nn.embedding_lookup(embedding, ids)
    else:
        argmax = lambda o: bk.fw.argmax(o, dim=-1)
        embed = lambda ids: bk.fw.nn.functional.embedding(ids, embedding)
    is_end = lambda ids: ids == toy.eos_token
    start = embed(bk.int([toy.sos_token] * 5))
    sampler = cl.InferenceSampler(sample_fn=argmax, sample_shape=[], sample_dtype=bk.int([0]).dtype, end_fn=is_end,
                                  next_inputs_fn=embed)
    modern = cl.BasicDecoder(cell, sampler, output_layer=projection, maximum_iterations=toy.seq_length)
    state = cell.get_initial_state(batch_size=5, dtype=bk.fw.float32)
    modern(start, initial_state=state)
    build_and_load(bk, modern, lambda: None, seed=6)
    with no_grad(bk):
        ref, _, ref_lengths = modern(start, initial_state=state)
        tf1_cell = rnn.LSTMCell(toy.hidden_dim, forget_bias=0.0)
        tf1_cell(start, tf1_cell.zero_state(5, bk.fw.float32))
        cl.import_weights(tf1_cell, ch.modern_to_tf1(cl.export_weights(cell), {"": ("lstm", 0.0)}))
        helper = seq2seq.InferenceHelper(argmax, [], bk.int([0]).dtype, start, is_end, next_inputs_fn=embed)
        outputs, _, lengths = seq2seq.dynamic_decode(
            seq2seq.BasicDecoder(tf1_cell, helper, tf1_cell.zero_state(5, bk.fw.float32), output_layer=projection),
            maximum_iterations=toy.seq_length)
    assert_close(bk.np(outputs.rnn_output), bk.np(ref.rnn_output), what="InferenceHelper logits")
    assert np.array_equal(bk.np(lengths), bk.np(ref_lengths))


# -- google/seq2seq (seed 001) ----------------------------------------------------------------------------

@pytest.mark.parametrize("probability", [0.0, 1.0])
def test_scheduled_output_helper_with_auxiliary_inputs_equals_the_modern_sampler(backend, probability):
    bk, toy, cl = backend, ch.SEQ2SEQ_NOTE, backend.cl
    rnn, seq2seq = contrib(bk).rnn, contrib(bk).seq2seq
    rng = np.random.default_rng(2)
    embedding = rng.standard_normal((toy.vocab_size, toy.embedding_dim)).astype(np.float32)
    inputs = lookup(bk, embedding, toy.x_data)
    aux = bk.float(rng.standard_normal((4, toy.seq_length, 2)))
    lengths = np.array(toy.extra["lengths"], np.int32)
    table = bk.float(embedding)
    if bk.name == "tf":
        to_embedding = lambda o: bk.fw.matmul(bk.fw.nn.softmax(o), table)
    else:
        to_embedding = lambda o: bk.fw.softmax(o, -1) @ table
    cell, out = rnn.LSTMCell(toy.hidden_dim), bk.dense(toy.hidden_dim, toy.vocab_size)

    def tf1():
        helper = seq2seq.ScheduledOutputTrainingHelper(inputs, lengths, probability, next_inputs_fn=to_embedding,
                                                       auxiliary_inputs=aux, seed=0)
        return seq2seq.dynamic_decode(seq2seq.BasicDecoder(cell, helper, cell.zero_state(4, bk.fw.float32),
                                                           output_layer=out))

    weights = build_and_load(bk, cell, lambda: tf1(), seed=7)
    modern_cell = cl.LSTMCell(toy.hidden_dim)
    modern = cl.BasicDecoder(modern_cell, cl.ScheduledOutputTrainingSampler(probability, next_inputs_fn=to_embedding),
                             out)
    modern(inputs, sequence_length=bk.int(lengths), auxiliary_inputs=aux)
    cl.import_weights(modern_cell, ch.tf1_to_modern(weights, {"": ("lstm", toy.embedding_dim + 2)}))
    with no_grad(bk):
        outputs, _, steps = tf1()
        ref, _, ref_steps = modern(inputs, sequence_length=bk.int(lengths), auxiliary_inputs=aux)
    assert_close(bk.np(outputs.rnn_output), bk.np(ref.rnn_output), what=f"scheduled p={probability}")
    assert np.array_equal(bk.np(steps), lengths) and np.array_equal(bk.np(ref_steps), lengths)


# -- the Keras chatbot (seed 002) and Géron's NMT (seed 003) ----------------------------------------------

def test_return_state_on_contrib_and_cl(backend):
    """dynamic_rnn's (outputs, state): the last output is h; contrib's LSTMStateTuple(c, h) = cl's [h, c]."""
    bk, cl = backend, backend.cl
    rnn, nn = contrib(bk).rnn, contrib(bk).nn
    x = bk.float(np.random.default_rng(0).standard_normal((1, 4, 5)))
    cell = cl.LSTMCell(3)
    cl.dynamic_rnn(cell, x)
    build_and_load(bk, cell, lambda: None, seed=8)
    tf1_cell = rnn.BasicLSTMCell(3)
    tf1_cell(x[:, 0], tf1_cell.zero_state(1, bk.fw.float32))
    cl.import_weights(tf1_cell, ch.modern_to_tf1(cl.export_weights(cell), {"": ("lstm",)}))
    with no_grad(bk):
        outputs, (h, c) = cl.dynamic_rnn(cell, x)
        tf1_outputs, tf1_state = nn.dynamic_rnn(tf1_cell, x, dtype=bk.fw.float32)
    assert_close(bk.np(outputs)[:, -1], bk.np(h), what="return_sequences' last step = return_state's h")
    assert_close(bk.np(tf1_outputs), bk.np(outputs), what="contrib outputs")
    assert_close(bk.np(tf1_state.c), bk.np(c), what="c")
    assert_close(bk.np(tf1_state.h), bk.np(h), what="h")


def test_geron_decoder_with_an_encoder_state_on_contrib_and_cl(backend):
    bk, cl, toy = backend, backend.cl, ch.GERON
    rnn, seq2seq = contrib(bk).rnn, contrib(bk).seq2seq
    X, X_decoder, lengths, Y = ch.random_translation_data(6)
    assert X.shape == (6, 10) and Y.shape == (6, 15) and np.array_equal(X_decoder[:, 1:], Y[:, :-1])
    assert np.all(X_decoder[:, 0] == 0) and np.all(lengths == 15)
    units = 16  # the tutorial's 512 would only slow the test; the layouts are the same
    embedding = np.random.default_rng(9).standard_normal((toy.vocab_size, toy.embedding_dim)).astype(np.float32)
    inputs = lookup(bk, embedding, X_decoder)
    h, c = (bk.float(np.random.default_rng(s).standard_normal((6, units))) for s in (10, 11))
    cell, out = cl.LSTMCell(units), bk.dense(units, toy.vocab_size)
    decoder = cl.BasicDecoder(cell, cl.TrainingSampler(), output_layer=out)
    decoder(inputs, initial_state=[h, c], sequence_length=bk.int(lengths))
    build_and_load(bk, cell, lambda: None, seed=12)
    tf1_cell = rnn.LSTMCell(units)
    tf1_cell(inputs[:, 0], tf1_cell.zero_state(6, bk.fw.float32))
    cl.import_weights(tf1_cell, ch.modern_to_tf1(cl.export_weights(cell), {"": ("lstm",)}))
    with no_grad(bk):
        ref, _, _ = decoder(inputs, initial_state=[h, c], sequence_length=bk.int(lengths))
        helper = seq2seq.TrainingHelper(inputs, lengths)
        outputs, _, _ = seq2seq.dynamic_decode(seq2seq.BasicDecoder(tf1_cell, helper, rnn.LSTMStateTuple(c=c, h=h),
                                                                    output_layer=out))
    assert_close(bk.np(outputs.rnn_output), bk.np(ref.rnn_output), what="Géron decoder logits")
    with pytest.raises((TypeError, ValueError), match=r"LSTMStateTuple|\(c, h\)"):
        seq2seq.BasicDecoder(tf1_cell, helper, [h, c], output_layer=out)  # the modern [h, c] is refused


# -- one set of weights in both backends -------------------------------------------------------------------

def test_part_0_and_part_4_give_the_same_numbers_in_both_backends(tf_backend, torch_backend):
    tf_program, _, weights = _part0(tf_backend)
    torch_program, _, _ = _part0(torch_backend, weights)
    with torch_backend.fw.no_grad():
        for train_mode in (True, False):
            tf_out = tf_program(train_mode, 1)[0][0]
            torch_out = torch_program(train_mode, 1)[0][0]
            assert_close(tf_backend.np(tf_out.rnn_output), torch_backend.np(torch_out.rnn_output), what="part 0")
    *_, weights, (tf_outputs, _, _) = _attention(tf_backend)
    *_, (torch_outputs, _, _) = _attention(torch_backend, weights)
    assert_close(tf_backend.np(tf_outputs.rnn_output), torch_backend.np(torch_outputs.rnn_output), what="part 4")
