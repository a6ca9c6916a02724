"""Samplers, decoders and beam search as tfa 0.23 has them, in both backends (issue 16).

Each test states tfa's behaviour (read in tfa's source) and checks it; where course_lib keeps a
deliberate difference, the test says so. The loss has its own file (``test_loss_fidelity.py``).
"""

import numpy as np
import pytest

from tests.conftest import assert_close, random_weights

B, T, E, H, V = 4, 5, 3, 6, 7


def _int_dtype(bk):
    """The backend's id dtype: int32 (TF, as tfa) or int64 (PyTorch)."""
    return bk.fw.int32 if bk.name == "tf" else bk.fw.int64


def _inputs(bk, seed=0, shape=(B, T, E)):
    return bk.float(np.random.default_rng(seed).standard_normal(shape))


def _errors_module(bk):
    """``course_lib.<backend>.errors``: the value checks and their error class."""
    import importlib

    return importlib.import_module(f"course_lib.{bk.name}.errors")


def _sampler_module(bk):
    """``course_lib.<backend>.sampler``: tfa's ``seq2seq.sampler`` module functions live there, as in tfa."""
    import importlib

    return importlib.import_module(f"course_lib.{bk.name}.sampler")


# -- item 7: ScheduledOutputTrainingSampler ids are integer 0/1; tfa's module samplers -------------

@pytest.mark.parametrize("p", [0.0, 1.0, [0.0, 1.0, 1.0, 0.0]])
def test_scheduled_output_sample_ids_are_integer_coins_drawn_per_row(backend, p):
    cl = backend.cl
    sampler = cl.ScheduledOutputTrainingSampler(p if np.isscalar(p) else backend.float(p), seed=3)
    decoder = cl.BasicDecoder(cl.LSTMCell(E), sampler)  # cell output [B, E] can be fed back
    assert sampler.sample_ids_dtype == _int_dtype(backend)
    outputs, _, _ = decoder(_inputs(backend))
    assert outputs.sample_id.dtype == _int_dtype(backend)
    assert decoder.output_dtype.sample_id == _int_dtype(backend)
    ids = backend.np(outputs.sample_id)
    assert ids.shape == (B, T)  # one coin per row and step (tfa drew [B, B] for a vector p)
    want = np.broadcast_to(np.asarray(p, dtype=np.int64).reshape(-1, 1) if not np.isscalar(p) else int(p), (B, T))
    np.testing.assert_array_equal(ids, want)


def test_scheduled_output_coin_of_one_feeds_the_output_back(backend):
    cl = backend.cl
    x = _inputs(backend)
    cell = cl.LSTMCell(E)
    fed = cl.BasicDecoder(cell, cl.ScheduledOutputTrainingSampler(1.0))(x)[0].rnn_output
    # by hand: step 0 reads the first input, step t + 1 reads step t's output
    state, inputs, steps = cell.get_initial_state(batch_size=B, dtype=backend.fw.float32), x[:, 0], []
    for _ in range(T):
        inputs, state = cell(inputs, state)  # (B, E)
        steps.append(backend.np(inputs))
    assert_close(backend.np(fed), np.stack(steps, 1))


@pytest.mark.parametrize("sample_shape, lead", [((), ()), (3, (3,)), ([2, 3], (2, 3))])
def test_categorical_sample_shapes_dtypes_and_certain_draws(backend, sample_shape, lead):
    cl = _sampler_module(backend)
    logits = np.full((B, V), -30.0, np.float32)
    logits[np.arange(B), [1, 4, 0, 6]] = 30.0  # each row is sure of its class
    draws = cl.categorical_sample(backend.float(logits), sample_shape=sample_shape, seed=1)
    assert draws.dtype == _int_dtype(backend)
    got = backend.np(draws)
    assert got.shape == lead + (B,)
    np.testing.assert_array_equal(got, np.broadcast_to([1, 4, 0, 6], lead + (B,)))
    assert cl.categorical_sample(backend.float(logits), dtype=backend.fw.float32).dtype == backend.fw.float32


def test_categorical_sample_follows_the_softmax(backend):
    logits = np.log(np.array([[0.1, 0.6, 0.3]], np.float32))  # (1, 3)
    draws = backend.np(_sampler_module(backend).categorical_sample(backend.float(logits), sample_shape=20000,
                                                                   seed=7))[:, 0]
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20000, [0.1, 0.6, 0.3], atol=0.02)


def test_bernoulli_sample_draws_per_element(backend):
    cl = _sampler_module(backend)
    probs = np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0]], np.float32)  # multi-label: one coin per label
    draws = cl.bernoulli_sample(probs=backend.float(probs), seed=2)
    assert draws.dtype == _int_dtype(backend)
    np.testing.assert_array_equal(backend.np(draws), probs.astype(int))
    by_logits = cl.bernoulli_sample(logits=backend.float((probs - 0.5) * 200), sample_shape=[2])
    np.testing.assert_array_equal(backend.np(by_logits), np.broadcast_to(probs.astype(int), (2, 2, 3)))
    coins = backend.np(cl.bernoulli_sample(probs=backend.float([0.3]), sample_shape=20000, seed=4))
    assert coins.shape == (20000, 1) and abs(coins.mean() - 0.3) < 0.02
    with pytest.raises(ValueError, match="give exactly one of `probs` and `logits`"):
        cl.bernoulli_sample()


def test_inference_sampler_with_bernoulli_sample_decodes_multilabel_steps(backend):
    """tfa's multi-label example: sample_fn = bernoulli_sample(logits=outputs), the labels fed back."""
    cl, fw, bernoulli_sample = backend.cl, backend.fw, _sampler_module(backend).bernoulli_sample
    sampler = cl.InferenceSampler(
        sample_fn=lambda outputs: bernoulli_sample(logits=outputs, dtype=fw.float32, seed=5),
        sample_shape=[E], sample_dtype=fw.float32,
        end_fn=lambda labels: labels[:, 0] > 2.0,  # never: run to maximum_iterations
        next_inputs_fn=lambda labels: labels)
    outputs, _, lengths = cl.BasicDecoder(cl.LSTMCell(E), sampler, maximum_iterations=4)(_inputs(backend, shape=(B, E)))
    labels = backend.np(outputs.sample_id)
    assert labels.shape == (B, 4, E) and set(np.unique(labels)) <= {0.0, 1.0}
    np.testing.assert_array_equal(backend.np(lengths), [4] * B)


# -- item 8: a mask given as a Python list; a left-padded mask is refused ------------------------

def test_training_sampler_takes_a_mask_as_a_python_list(backend):
    cl = backend.cl
    lengths = [3, 5, 1, 0]
    mask = [[t < n for t in range(T)] for n in lengths]  # nested Python lists of bools
    cell, x = cl.LSTMCell(H), _inputs(backend)
    by_mask = cl.BasicDecoder(cell, cl.TrainingSampler(), impute_finished=True)(x, mask=mask)
    by_length = cl.BasicDecoder(cell, cl.TrainingSampler(), impute_finished=True)(
        x, sequence_length=backend.int(lengths))
    np.testing.assert_array_equal(backend.np(by_mask[2]), lengths)
    assert_close(backend.np(by_mask), backend.np(by_length))


def test_time_major_mask_is_time_by_batch(backend):
    cl = backend.cl
    lengths = [2, 5, 1, 3]
    mask = (np.arange(T)[:, None] < np.array(lengths)[None, :]).astype(np.int32)  # (T, B), int: nonzero is a step
    sampler = cl.TrainingSampler(time_major=True)
    x = _inputs(backend, shape=(T, B, E))
    finished, _ = sampler.initialize(x, mask=backend.int(mask))
    np.testing.assert_array_equal(backend.np(sampler.sequence_length), lengths)
    assert not backend.np(finished).any()


def _left_padded():
    return [[True, True, False, False, False], [False, True, True, True, True],
            [True, False, False, False, False], [False, False, False, False, False]]


def test_left_padded_mask_is_refused(backend):
    cl = backend.cl
    pattern = (r"`mask` must be right padded \(each row True for its first steps, then only False: the input "
               r"sequence should be right padded\), got row 1 = \[0, 1, 1, 1, 1\]")
    with pytest.raises(_errors_module(backend).InvalidArgumentValueError, match=pattern) as caught:
        cl.TrainingSampler().initialize(_inputs(backend), mask=_left_padded())
    assert isinstance(caught.value, ValueError)
    if backend.name == "tf":  # tfa raised InvalidArgumentError: the error is both
        assert isinstance(caught.value, backend.fw.errors.InvalidArgumentError)
    time_major = np.array(_left_padded()).T.tolist()
    with pytest.raises(ValueError, match="got row 1"):
        cl.TrainingSampler(time_major=True).initialize(_inputs(backend, shape=(T, B, E)), mask=time_major)


def test_check_sequence_is_right_padded_is_in_the_sampler_module(backend):
    sampler = _sampler_module(backend)
    right = [[True, True, False, False], [True, True, True, False]]
    assert sampler._check_sequence_is_right_padded(right, False) is None
    with pytest.raises(ValueError, match="right padded"):
        sampler._check_sequence_is_right_padded([[False, False, True, True], [False, True, True, True]], False)


def test_left_padded_mask_fails_inside_tf_function(tf_backend):
    tf, cl = tf_backend.fw, tf_backend.cl
    mask = tf.constant(_left_padded())
    x = _inputs(tf_backend)
    decoder = cl.BasicDecoder(cl.LSTMCell(H), cl.TrainingSampler())
    run = tf.function(lambda x, mask: decoder(x, mask=mask)[2])
    np.testing.assert_array_equal(run(x, tf.sequence_mask([2, 5, 1, 0], T)).numpy(), [2, 5, 1, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"right padded.*got row 1 = \[0 1 1 1 1\]"):
        run(x, mask)


# -- item 9: InferenceSampler always feeds next_inputs_fn(sample_ids) ----------------------------

def test_inference_sampler_next_inputs_once_every_row_has_finished(backend):
    cl = backend.cl
    sampler = cl.InferenceSampler(sample_fn=lambda o: o, sample_shape=[E], sample_dtype=backend.fw.float32,
                                  end_fn=lambda ids: ids[:, 0] > -100.0,  # every row finishes at once
                                  next_inputs_fn=lambda ids: ids + 7.0)
    start = backend.float(np.zeros((B, E)))
    sampler.initialize(start)
    ids = backend.float(np.ones((B, E)))
    finished, next_inputs, _ = sampler.next_inputs(0, ids, None, ids)
    assert backend.np(finished).all()
    np.testing.assert_array_equal(backend.np(next_inputs), np.full((B, E), 8.0))  # not the start inputs


# -- item 10: enable_tflite_convertible ----------------------------------------------------------

def _greedy_decoder(bk, **kwargs):
    cl = bk.cl
    return cl.BasicDecoder(cl.LSTMCell(H), cl.GreedyEmbeddingSampler(), bk.dense(H, V), maximum_iterations=3, **kwargs)


def _tflite_decode(bk, decoder, batch):
    return bk.cl.dynamic_decode(
        decoder, maximum_iterations=3, enable_tflite_convertible=True, decoder_init_input=_inputs(bk, shape=(V, H)),
        decoder_init_kwargs=dict(start_tokens=bk.int([1] * batch), end_token=0))


def test_tflite_convertible_needs_batch_size_one(tf_backend):
    tf = tf_backend.fw
    decoder = _greedy_decoder(tf_backend)
    outputs, _, lengths = _tflite_decode(tf_backend, decoder, 1)
    assert outputs.sample_id.shape[0] == 1
    pattern = r"`enable_tflite_convertible=True` needs a batch size of 1 .*got batch size 2"
    with pytest.raises(ValueError, match=pattern) as caught:
        _tflite_decode(tf_backend, decoder, 2)
    assert isinstance(caught.value, tf.errors.InvalidArgumentError)  # tfa's type too

    embedding = _inputs(tf_backend, shape=(V, H))

    @tf.function
    def run(start_tokens):
        return tf_backend.cl.dynamic_decode(decoder, maximum_iterations=3, enable_tflite_convertible=True,
                                            decoder_init_input=embedding,
                                            decoder_init_kwargs=dict(start_tokens=start_tokens, end_token=0))[2]

    with pytest.raises(tf.errors.InvalidArgumentError, match="batch size"):  # known while tracing
        run.get_concrete_function(tf.TensorSpec([2], tf.int32))
    unknown = run.get_concrete_function(tf.TensorSpec([None], tf.int32))
    assert unknown(tf.constant([1], tf.int32)).shape == (1,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="got batch size 2"):  # known when it runs
        unknown(tf.constant([1, 1], tf.int32))


def test_tflite_convertible_decode_converts_to_tflite(tf_backend):
    """tfa's check: a batch-1 greedy decode under tf.function converts (TFLite builtins plus select TF ops)."""
    tf = tf_backend.fw
    decoder = _greedy_decoder(tf_backend)
    embedding = _inputs(tf_backend, shape=(V, H))

    @tf.function
    def run(start_tokens, end_token):
        state = [tf.zeros([tf.size(start_tokens), H])] * 2
        return tf_backend.cl.dynamic_decode(decoder, maximum_iterations=3, enable_tflite_convertible=True,
                                            decoder_init_input=embedding,
                                            decoder_init_kwargs=dict(initial_state=state, start_tokens=start_tokens,
                                                                     end_token=end_token))

    concrete = run.get_concrete_function(tf.TensorSpec([1], tf.int32), tf.TensorSpec([], tf.int32))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], run)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    assert len(converter.convert()) > 0


def test_tflite_convertible_is_accepted_and_unused_in_torch(torch_backend):
    decoder = _greedy_decoder(torch_backend)
    a = torch_backend.np(_tflite_decode(torch_backend, decoder, 2))
    b = torch_backend.np(torch_backend.cl.dynamic_decode(
        decoder, maximum_iterations=3, decoder_init_input=_inputs(torch_backend, shape=(V, H)),
        decoder_init_kwargs=dict(start_tokens=torch_backend.int([1] * 2), end_token=0)))
    assert_close(a, b)


# -- X9, X11, X12: ValueError where tfa raises ValueError ---------------------------------------

@pytest.mark.parametrize("make", ["TrainingSampler", "GreedyEmbeddingSampler", "ScheduledOutputTrainingSampler"])
def test_batch_size_before_initialize_is_a_value_error(backend, make):
    cl = backend.cl
    sampler = cl.ScheduledOutputTrainingSampler(0.5) if make == "ScheduledOutputTrainingSampler" \
        else getattr(cl, make)()
    with pytest.raises(ValueError, match=rf"{make}\.initialize\(\.\.\.\) must be called first"):
        sampler.batch_size


def test_scheduled_embedding_sampler_without_an_embedding(backend):
    sampler = backend.cl.ScheduledEmbeddingTrainingSampler(0.5)
    with pytest.raises(ValueError, match=r"`embedding` is required for ScheduledEmbeddingTrainingSampler when no "
                                         r"`embedding_fn` was given.*got None"):
        sampler.initialize(_inputs(backend))


@pytest.mark.parametrize("kind", ["list", "tensor"])
@pytest.mark.parametrize("name", ["ScheduledEmbeddingTrainingSampler", "ScheduledOutputTrainingSampler"])
def test_rank_two_sampling_probability_fails_at_construction(backend, kind, name):
    p = [[0.5]] if kind == "list" else backend.float([[0.5]])
    with pytest.raises(ValueError, match=r"`sampling_probability` must be 0-D or 1-D \(a scalar or a vector "
                                         r"\[batch_size\]\), got shape \[1, 1\] \(2-D\)"):
        getattr(backend.cl, name)(p)


def test_rank_two_sampling_probability_fails_while_tracing(tf_backend):
    tf = tf_backend.fw
    build = tf.function(lambda p: tf_backend.cl.ScheduledOutputTrainingSampler(p).seed)
    with pytest.raises(ValueError, match=r"`sampling_probability` must be 0-D or 1-D"):
        build.get_concrete_function(tf.TensorSpec([None, None], tf.float32))


# -- item 11 and X7: BeamSearchDecoder's call, in tfa's order -------------------------------------

W = 3


def _beam(bk, embedding_fn=None, cell=None, output_layer=None):
    cl = bk.cl
    return cl.BeamSearchDecoder(cell or cl.LSTMCell(H), beam_width=W, embedding_fn=embedding_fn,
                                output_layer=output_layer or bk.dense(H, V), maximum_iterations=5)


def test_beam_search_decoder_takes_tfas_positional_order(backend):
    cl = backend.cl
    decoder = _beam(backend)
    embedding = _inputs(backend, 1, (V, E))
    state = cl.tile_batch([_inputs(backend, 2, (2, H)), _inputs(backend, 3, (2, H))], W)
    start, end = backend.int([1, 2]), 0
    by_position = backend.np(decoder(embedding, start, end, state))
    by_keyword = backend.np(decoder(embedding, start_tokens=start, end_token=end, initial_state=state))
    assert_close(by_position, by_keyword)
    ids = by_position[0].predicted_ids
    assert ids.shape[0] == 2 and ids.shape[2] == W


def test_a_called_embedding_overrides_embedding_fn(backend):
    embedding = _inputs(backend, 1, (V, E))
    ones = backend.float(np.ones((V, E)))
    with_fn = _beam(backend, embedding_fn=lambda ids: _lookup(backend, ones, ids))
    plain = _beam(backend, cell=with_fn.cell, output_layer=with_fn.output_layer)
    start = backend.int([1, 2])
    overridden = backend.np(with_fn(embedding, start, 0))  # tfa: the call's embedding wins
    assert_close(overridden, backend.np(plain(embedding, start, 0)))
    by_fn = backend.np(with_fn(None, start, 0))  # no embedding: the constructor's embedding_fn
    assert_close(by_fn, backend.np(plain(ones, start, 0)))
    a, b = by_fn[0].beam_search_decoder_output.scores, overridden[0].beam_search_decoder_output.scores
    assert a.shape != b.shape or not np.allclose(a, b), "the two embeddings should give other searches"
    with pytest.raises(ValueError, match=r"`embedding` is None and no `embedding_fn` was given"):
        plain(None, start, 0)


def _lookup(bk, table, ids):
    if bk.name == "tf":
        return bk.fw.nn.embedding_lookup(table, ids)
    return bk.fw.nn.functional.embedding(ids, table)


# -- X1: a zero initial state for any cell (Keras 3 cells take no dtype) --------------------------

def _protocol_cell(bk):
    """A cell with only ``state_size``, ``output_size`` and a call: no ``get_initial_state``."""
    if bk.name == "tf":
        import keras
        import tensorflow as tf

        class Plain(keras.layers.Layer):
            state_size, output_size = H, H

            def __init__(self):
                super().__init__()
                self.dense = keras.layers.Dense(H)

            def call(self, inputs, state):
                h = tf.tanh(self.dense(tf.concat([inputs, state], -1)))
                return h, h
        return Plain()
    import torch

    class Plain(torch.nn.Module):
        state_size, output_size = H, H

        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(E + H, H)

        def forward(self, inputs, state):
            h = torch.tanh(self.linear(torch.cat([inputs, state], -1)))
            return h, h
    return Plain()


def test_a_cell_without_get_initial_state_starts_from_zeros(backend):
    cl = backend.cl
    cell = _protocol_cell(backend)
    x = _inputs(backend)
    zeros = backend.float(np.zeros((B, H)))
    given = backend.np(cl.BasicDecoder(cell, cl.TrainingSampler())(x, initial_state=zeros))
    assert_close(backend.np(cl.BasicDecoder(cell, cl.TrainingSampler())(x)), given)
    assert_close(backend.np(cl.dynamic_rnn(cell, x)), backend.np(cl.dynamic_rnn(cell, x, initial_state=zeros)))


def test_a_keras_cell_without_initial_state(tf_backend):
    import keras

    cl = tf_backend.cl
    x = _inputs(tf_backend)
    cell = keras.layers.LSTMCell(H)
    outputs, state, lengths = cl.BasicDecoder(cell, cl.TrainingSampler())(
        x, sequence_length=tf_backend.int([5, 2, 1, 0]))
    np.testing.assert_array_equal(lengths.numpy(), [5, 2, 1, 0])
    zeros = [tf_backend.float(np.zeros((B, H)))] * 2
    given = cl.BasicDecoder(cell, cl.TrainingSampler())(x, sequence_length=tf_backend.int([5, 2, 1, 0]),
                                                         initial_state=zeros)
    assert_close(tf_backend.np(outputs), tf_backend.np(given[0]))
    rnn_out, _ = cl.dynamic_rnn(cell, x)
    assert rnn_out.shape == (B, T, H)
    beam = cl.BeamSearchDecoder(keras.layers.LSTMCell(H), beam_width=W, output_layer=keras.layers.Dense(V),
                                maximum_iterations=4)
    final, _, _ = beam(_inputs(tf_backend, 1, (V, E)), tf_backend.int([1, 2]), 0)
    assert final.predicted_ids.shape[0] == 2 and final.predicted_ids.shape[2] == W


# -- item 6: output_dtype follows the initial state ----------------------------------------------

def test_output_dtype_follows_the_initial_state(backend):
    cl, fw = backend.cl, backend.fw
    decoder = cl.BasicDecoder(cl.LSTMCell(H), cl.TrainingSampler())
    state64 = [fw.zeros([B, H], dtype=fw.float64)] * 2 if backend.name == "tf" else \
        [fw.zeros(B, H, dtype=fw.float64)] * 2
    decoder.initialize(_inputs(backend), initial_state=state64)  # float32 inputs, float64 state
    assert decoder.output_dtype.rnn_output == fw.float64
    decoder.initialize(_inputs(backend))  # no state: the zero state, in the inputs' dtype
    assert decoder.output_dtype.rnn_output == fw.float32


def test_mixed_float16_decode_outputs_float16(tf_backend):
    import keras

    cl = tf_backend.cl
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        cell = keras.layers.LSTMCell(H)
        sampler = cl.ScheduledEmbeddingTrainingSampler(1.0, embedding_fn=keras.layers.Embedding(V, E), seed=1)
        decoder = cl.BasicDecoder(cell, sampler)
        outputs, _, lengths = decoder(_inputs(tf_backend), initial_state=cell.get_initial_state(batch_size=B),
                                      sequence_length=tf_backend.int([5, 3, 1, 2]))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert outputs.rnn_output.dtype == "float16"
    np.testing.assert_array_equal(lengths.numpy(), [5, 3, 1, 2])


@pytest.mark.parametrize("cell_name", ["LSTMCell", "GRUCell"])
def test_mixed_float16_with_course_cells_and_no_initial_state(tf_backend, cell_name):
    """Under mixed_float16 a course cell's zero state is float16 (its compute dtype, as a Keras
    cell's is): teacher forcing (the fused path and the step loop, the same numbers), dynamic_rnn,
    greedy and beam search decode in float16 without an initial state."""
    import keras

    cl, tf = tf_backend.cl, tf_backend.fw
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        cell, dense = getattr(cl, cell_name)(H), keras.layers.Dense(V)
        x, lengths = _inputs(tf_backend), tf_backend.int([5, 3, 1, 0])
        decoder = cl.BasicDecoder(cell, cl.TrainingSampler(), dense)
        fused = decoder(x, sequence_length=lengths)
        assert decoder.output_dtype.rnn_output == tf.float16
        loop = cl.dynamic_decode(decoder, decoder_init_input=x, decoder_init_kwargs=dict(sequence_length=lengths))
        rnn_outputs, _ = cl.dynamic_rnn(cell, x, sequence_length=lengths)
        embedding = _inputs(tf_backend, 1, (V, E))
        greedy, _, _ = cl.BasicDecoder(cell, cl.GreedyEmbeddingSampler(), dense, maximum_iterations=4)(
            embedding, start_tokens=tf_backend.int([1] * B), end_token=0)
        beam, _, _ = cl.BeamSearchDecoder(cell, beam_width=W, output_layer=dense, maximum_iterations=4)(
            embedding, tf_backend.int([1] * B), 0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    for got in (fused[0].rnn_output, loop[0].rnn_output, rnn_outputs, greedy.rnn_output):
        assert got.dtype == tf.float16
    np.testing.assert_allclose(tf_backend.np(fused[0].rnn_output).astype(np.float32),
                               tf_backend.np(loop[0].rnn_output).astype(np.float32), atol=1e-2)
    np.testing.assert_array_equal(tf_backend.np(fused[2]), [5, 3, 1, 0])
    assert beam.predicted_ids.shape[0] == B and beam.predicted_ids.shape[2] == W


# -- item 12: gather_tree checks parent ids within each entry's length --------------------------

def _tree():
    """(T=3, B=2, W=3) step ids and parents (tfa's hand-made case)."""
    step_ids = np.array([[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[2, 3, 4], [5, 6, 7], [8, 9, 10]]]).transpose(1, 0, 2)
    parents = np.array([[[0, 0, 0], [0, 1, 1], [2, 1, 2]], [[0, 0, 0], [1, 2, 0], [2, 1, 1]]]).transpose(1, 0, 2)
    return step_ids, parents


@pytest.mark.parametrize("bad", [-1, W])
def test_gather_tree_names_a_bad_parent_id(backend, bad):
    step_ids, parents = _tree()
    parents = parents.copy()
    parents[1, 1, 2] = bad  # time 1, batch 1, beam 2
    pattern = (rf"`parent_ids` must lie in \[0, beam_width = 3\) at every step time < max_sequence_lengths\[batch\]: "
               rf"saw invalid parent id {bad} at \(batch, time, beam\) == \(1, 1, 2\)")
    with pytest.raises(ValueError, match=pattern) as caught:
        backend.cl.gather_tree(backend.int(step_ids), backend.int(parents), backend.int([3, 3]), 11)
    assert isinstance(caught.value, _errors_module(backend).InvalidArgumentValueError)  # the same name in both
    if backend.name == "tf":
        assert isinstance(caught.value, backend.fw.errors.InvalidArgumentError)


def test_gather_tree_reads_no_parent_past_an_entrys_length(backend):
    step_ids, parents = _tree()
    parents = parents.copy()
    parents[2, 0] = -1  # entry 0 ends after 2 steps: its step 2 is padding
    got = backend.np(backend.cl.gather_tree(backend.int(step_ids), backend.int(parents), backend.int([2, 3]), 11))
    np.testing.assert_array_equal(got[:, 0], [[1, 2, 2], [4, 5, 6], [11, 11, 11]])  # by hand
    np.testing.assert_array_equal(got[:, 1], [[2, 4, 4], [7, 6, 6], [8, 9, 10]])  # tfa's expected values


def test_torch_gather_tree_does_not_wrap_minus_one(torch_backend):
    """Advanced indexing takes -1 as the last beam: without the check the result would be wrong beams."""
    step_ids = np.array([[[1, 2]], [[3, 4]]])  # (T=2, B=1, W=2)
    parents = np.array([[[0, 0]], [[-1, 0]]])
    with pytest.raises(ValueError, match=r"saw invalid parent id -1 at \(batch, time, beam\) == \(0, 1, 0\)"):
        torch_backend.cl.gather_tree(torch_backend.int(step_ids), torch_backend.int(parents), torch_backend.int([2]), 9)


def test_gather_tree_bad_parent_inside_tf_function(tf_backend):
    tf = tf_backend.fw
    step_ids, parents = _tree()
    run = tf.function(lambda p: tf_backend.cl.gather_tree(tf.constant(step_ids, tf.int32), p, tf.constant([3, 3]), 11))
    np.testing.assert_array_equal(run(tf.constant(parents, tf.int32)).numpy().shape, (3, 2, 3))
    parents = parents.copy()
    parents[0, 1, 0] = -1
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"saw invalid parent id -1 at \(batch, time, beam\) == \(1, 0, 0\)"):
        run(tf.constant(parents, tf.int32))


# -- decodes with ragged lengths: greedy rows that stop early while others run on; teacher forcing --

def _numpy_lstm(weights, x, lengths, impute):
    """A NumPy LSTM (Keras layout, gates i, f, c, o) over ``x [B, T, D]`` with a dense output layer:
    returns ``(logits [B, T, V], [h, c])``. Past a row's length, with ``impute``, its logits are
    zero and its state is frozen; without, the row steps on."""
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))
    K, R, b = weights["cell/kernel"], weights["cell/recurrent_kernel"], weights["cell/bias"]
    h = np.zeros((x.shape[0], R.shape[0]))
    c = np.zeros_like(h)
    logits = []
    for t in range(x.shape[1]):
        i, f, g, o = np.split(x[:, t] @ K + h @ R + b, 4, axis=-1)
        new_c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        new_h = sigmoid(o) * np.tanh(new_c)
        out = new_h @ weights["output_layer/kernel"] + weights["output_layer/bias"]
        live = (t < np.asarray(lengths))[:, None]
        if impute:
            out, new_h, new_c = np.where(live, out, 0), np.where(live, new_h, h), np.where(live, new_c, c)
        h, c = new_h, new_c
        logits.append(out)
    return np.stack(logits, 1), [h, c]


LENGTHS = [5, 2, 1, 0]


@pytest.mark.parametrize("impute", [False, True])
@pytest.mark.parametrize("path", ["fused", "step loop"])
def test_teacher_forced_decode_with_ragged_lengths(backend, path, impute):
    cl = backend.cl
    decoder = cl.BasicDecoder(cl.LSTMCell(H), cl.TrainingSampler(), backend.dense(H, V), impute_finished=impute)
    x = np.random.default_rng(0).standard_normal((B, T, E)).astype(np.float32)
    decoder(backend.float(x), sequence_length=backend.int([1] * B))  # build
    weights = random_weights(cl.export_weights(decoder), seed=3)
    cl.import_weights(decoder, weights)
    lengths = backend.int(LENGTHS)
    if path == "fused":
        outputs, state, got_lengths = decoder(backend.float(x), sequence_length=lengths)
    else:
        outputs, state, got_lengths = cl.dynamic_decode(decoder, impute_finished=impute,
                                                        decoder_init_input=backend.float(x),
                                                        decoder_init_kwargs=dict(sequence_length=lengths))
    np.testing.assert_array_equal(backend.np(got_lengths), LENGTHS)
    want_logits, want_state = _numpy_lstm(weights, x.astype(np.float64), LENGTHS, impute)
    got = backend.np(outputs.rnn_output)
    assert got.shape == (B, max(LENGTHS), V)
    inside = np.arange(max(LENGTHS))[None, :] < np.array(LENGTHS)[:, None]  # (B, T)
    np.testing.assert_allclose(got[inside], want_logits[inside], atol=1e-5)
    if impute:
        assert not got[~inside].any(), "outputs past a row's length must be zero"
        assert_close(backend.np(state), want_state)  # frozen at each row's length (a length 0 keeps zeros)
    else:  # rows past their length step on: their state is not the one at their length
        frozen = _numpy_lstm(weights, x.astype(np.float64), LENGTHS, impute=True)[1]
        assert not np.allclose(backend.np(state)[0][1:3], frozen[0][1:3], atol=1e-4)
        assert_close(backend.np(state), want_state)


@pytest.mark.parametrize("impute", [False, True])
def test_greedy_decode_rows_stop_early_while_others_run_on(backend, impute):
    """A greedy decode (8 steps at most) with the weights and end token of ``test_decoder``'s
    helper, chosen so that some rows stop early and others never do."""
    from tests import test_decoder as td

    weights, end = td._an_end_token_some_rows_hit(backend)
    _, (out, state, lengths) = td._greedy(backend, weights, end, impute)
    ids = out.sample_id
    want = np.array(td._first_hit_lengths(ids, end))
    np.testing.assert_array_equal(lengths, want)
    assert len(set(want.tolist())) > 1 and (want == 8).any() and (want < 8).any()
    early = [b for b in range(td.B) if want[b] < 8]
    for b in early:
        after = slice(int(want[b]), None)
        # the state of an early row, frozen or not, against a decode stopped at its length
        _, (_, stopped, _) = td._greedy(backend, weights, end, impute, maximum_iterations=int(want[b]))
        frozen = [leaf[b] for leaf in stopped]
        if impute:
            assert not ids[b, after].any() and not out.rnn_output[b, after].any(), f"row {b} past its end"
            assert_close([leaf[b] for leaf in state], frozen, what=f"row {b}'s frozen state")
        else:
            assert out.rnn_output[b, after].any(), f"row {b} steps on without impute_finished"
            assert not np.allclose(state[1][b], frozen[1], atol=1e-5), f"row {b}'s state moves on"


def test_decoders_accept_a_cell_whose_sizes_are_not_known_yet(backend):
    """tfa builds a decoder around an AttentionWrapper before its memory is set up: the cell check
    looks ``state_size`` up without evaluating it."""
    class NotReady:
        output_size = H

        @property
        def state_size(self):
            raise ValueError("the memory is not set up yet")

        def __call__(self, inputs, state):
            return inputs, state

    cl = backend.cl
    cl.BasicDecoder(NotReady(), cl.TrainingSampler())
    cl.BeamSearchDecoder(NotReady(), beam_width=W)
    with pytest.raises(TypeError, match=r"`cell` must be an RNN cell \(callable with `state_size`\), got str"):
        cl.BasicDecoder("lstm", cl.TrainingSampler())
