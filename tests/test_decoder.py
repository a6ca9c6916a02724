"""BasicDecoder + samplers + dynamic_decode: parity, known answers, the fast path, tf.function."""

import numpy as np
import pytest

from tests.conftest import assert_close, random_weights

LENGTHS = [3, 4, 3, 1, 0]
B, T, E, H, V = len(LENGTHS), 4, 3, 6, 7


def _parts(bk, cell_kind="LSTMCell"):
    cl = bk.cl
    cell = {"LSTMCell": lambda: cl.LSTMCell(H), "GRUCell": lambda: cl.GRUCell(H),
            "multi": lambda: cl.MultiRNNCell([cl.LSTMCell(H), cl.GRUCell(H)])}[cell_kind]()
    return cell, bk.dense(H, V)


def _load(bk, decoder, weights, x=None, build=None):
    """Build the decoder's layers with one call, then load (or export) the weights."""
    if build is not None:
        build()
    else:
        decoder(bk.float(x), sequence_length=bk.int([1] * x.shape[0]))
    if weights is None:
        weights = random_weights(bk.cl.export_weights(decoder))
    bk.cl.import_weights(decoder, weights)
    return weights


def _training_decode(bk, weights, cell_kind="LSTMCell", impute=False, maximum_iterations=None, x=None,
                     lengths=LENGTHS, initial_state=None):
    cell, out = _parts(bk, cell_kind)
    decoder = bk.cl.BasicDecoder(cell, bk.cl.TrainingSampler(), out, impute_finished=impute,
                                 maximum_iterations=maximum_iterations)
    x = np.random.default_rng(0).standard_normal((B, T, E)).astype(np.float32) if x is None else x
    weights = _load(bk, decoder, weights, x)
    result = decoder(bk.float(x), sequence_length=bk.int(lengths), initial_state=initial_state)
    return weights, decoder, result


@pytest.mark.parametrize("impute", [False, True])
@pytest.mark.parametrize("cell_kind", ["LSTMCell", "GRUCell", "multi"])
def test_training_decode_parity(tf_backend, torch_backend, impute, cell_kind):
    w, _, a = _training_decode(tf_backend, None, cell_kind, impute)
    _, _, b = _training_decode(torch_backend, w, cell_kind, impute)
    (a_out, a_state, a_len), (b_out, b_state, b_len) = tf_backend.np(a), torch_backend.np(b)
    assert_close(a_out.rnn_output, b_out.rnn_output, what="rnn_output")
    np.testing.assert_array_equal(a_out.sample_id, b_out.sample_id)
    np.testing.assert_array_equal(a_len, LENGTHS)
    np.testing.assert_array_equal(b_len, LENGTHS)
    assert_close(a_state, b_state, what="final_state")


@pytest.mark.parametrize("impute", [False, True])
@pytest.mark.parametrize("maximum_iterations", [None, 2, 0])
def test_fast_path_equals_step_loop(backend, impute, maximum_iterations):
    """A stock cell under teacher forcing runs fused; the generic loop gives the same result."""
    _, decoder, fast = _training_decode(backend, None, "multi", impute, maximum_iterations)
    weights = backend.cl.export_weights(decoder)
    _, loop_decoder, _ = _training_decode(backend, weights, "multi", impute, maximum_iterations)
    x = np.random.default_rng(0).standard_normal((B, T, E)).astype(np.float32)
    loop = backend.cl.dynamic_decode(  # dynamic_decode itself always runs the step loop
        loop_decoder, impute_finished=impute, maximum_iterations=maximum_iterations,
        decoder_init_input=backend.float(x), decoder_init_kwargs=dict(sequence_length=backend.int(LENGTHS)))
    fast, loop = backend.np(fast), backend.np(loop)
    assert_close(fast[0].rnn_output, loop[0].rnn_output, what="rnn_output")
    np.testing.assert_array_equal(fast[0].sample_id, loop[0].sample_id)
    np.testing.assert_array_equal(fast[2], loop[2])
    assert_close(fast[1], loop[1], what="state")
    steps = min(max(LENGTHS), T if maximum_iterations is None else maximum_iterations)
    assert fast[0].rnn_output.shape == (B, steps, V)


def test_teacher_forced_decode_equals_dynamic_rnn_then_output_layer(backend):
    w, decoder, (outputs, state, lengths) = _training_decode(backend, None, impute=True)
    x = np.random.default_rng(0).standard_normal((B, T, E)).astype(np.float32)
    rnn_out, rnn_state = backend.cl.dynamic_rnn(decoder.cell, backend.float(x), sequence_length=backend.int(LENGTHS))
    logits = backend.np(decoder.output_layer(rnn_out))
    mask = np.arange(T)[None, :] < np.asarray(LENGTHS)[:, None]
    got = backend.np(outputs.rnn_output)
    steps = max(LENGTHS)
    np.testing.assert_allclose(got[mask[:, :steps]], logits[:, :steps][mask[:, :steps]], atol=1e-5)
    assert not got[~mask[:, :steps]].any()
    assert_close(backend.np(state), backend.np(rnn_state))


def _greedy(bk, weights, end_token, impute=False, maximum_iterations=8, embedding=None):
    cell, out = _parts(bk)
    decoder = bk.cl.BasicDecoder(cell, bk.cl.GreedyEmbeddingSampler(), out, impute_finished=impute,
                                 maximum_iterations=maximum_iterations)
    emb = np.random.default_rng(5).standard_normal((V, E)).astype(np.float32) if embedding is None else embedding
    init = [bk.float(np.random.default_rng(6).standard_normal((B, H))), bk.float(np.zeros((B, H)))]

    def run():
        return decoder(bk.float(emb), start_tokens=bk.int([1] * B), end_token=end_token, initial_state=init)
    weights = _load(bk, decoder, weights, build=run)
    result = run()
    return weights, bk.np(result)


def _first_hit_lengths(ids, token, steps=8):
    """Each row's length if ``token`` ends it: its first occurrence + 1, else ``steps``."""
    return [int(np.flatnonzero(row == token)[0]) + 1 if (row == token).any() else steps for row in ids]


_SOME_ROWS_HIT = []  # (weights, token), found once per session


def _an_end_token_some_rows_hit(tf_backend):
    """Weights and an end token with which the rows of a greedy decode have different lengths:
    at least one row finishes early (after more than one step) and at least one never finishes
    (it runs on to ``maximum_iterations`` = 8)."""
    if _SOME_ROWS_HIT:
        return _SOME_ROWS_HIT[0]
    template, _ = _greedy(tf_backend, None, end_token=V + 5)
    for seed in range(20):
        weights = random_weights(template, seed=seed)
        _, (out, _, _) = _greedy(tf_backend, weights, end_token=V + 5)  # never emitted: full length
        for token in range(V):
            lengths = _first_hit_lengths(out.sample_id, token)
            if 8 in lengths and any(1 < n < 8 for n in lengths):
                _SOME_ROWS_HIT.append((weights, token))
                return weights, token
    raise AssertionError("no weights of 20 seeds give a greedy decode with rows of different lengths")


@pytest.mark.parametrize("impute", [False, True])
def test_greedy_parity_identical_ids_and_lengths(tf_backend, torch_backend, impute):
    weights, end = _an_end_token_some_rows_hit(tf_backend)
    _, a = _greedy(tf_backend, weights, end, impute)
    _, b = _greedy(torch_backend, weights, end, impute)
    assert len(set(a[2].tolist())) > 1, f"the rows should have different lengths: {a[2]}"
    np.testing.assert_array_equal(a[0].sample_id, b[0].sample_id)
    np.testing.assert_array_equal(a[2], b[2])
    assert_close(a[0].rnn_output, b[0].rnn_output)
    assert_close(a[1], b[1])


@pytest.mark.parametrize("impute", [False, True])
def test_end_token_stops_a_row(tf_backend, backend, impute):
    weights, end = _an_end_token_some_rows_hit(tf_backend)
    _, (out, _, lengths) = _greedy(backend, weights, end, impute)
    ids = out.sample_id
    for b in range(B):
        hits = np.flatnonzero(ids[b] == end)
        expected = hits[0] + 1 if hits.size else 8
        assert lengths[b] == expected, f"row {b}: ids {ids[b]}, length {lengths[b]}"
        if impute:
            assert not ids[b, expected:].any() and not out.rnn_output[b, expected:].any()
    assert (lengths < 8).any() and (lengths == 8).any(), f"some rows should stop early, others run on: {lengths}"
    assert len(set(lengths.tolist())) > 1, f"the rows should have different lengths: {lengths}"


def test_inference_sampler_continuous_parity(tf_backend, torch_backend):
    """Continuous outputs fed back as the next input (Tacotron-style), through InferenceSampler."""
    results, weights = [], None
    for bk in (tf_backend, torch_backend):
        cl = bk.cl
        cell, frame_layer = cl.GRUCell(H), bk.dense(H, E)
        fw = bk.fw
        sampler = cl.InferenceSampler(
            sample_fn=lambda outputs: outputs,
            sample_shape=[E], sample_dtype=fw.float32,
            end_fn=lambda frames: (frames[:, 0] > 10.0),
            next_inputs_fn=lambda frames: frames,
        )
        decoder = cl.BasicDecoder(cell, sampler, frame_layer, maximum_iterations=5)
        start = bk.float(np.random.default_rng(2).standard_normal((B, E)))
        decoder(start)
        weights = weights or random_weights(cl.export_weights(decoder))
        cl.import_weights(decoder, weights)
        results.append(bk.np(decoder(start)))
    assert_close(results[0][0], results[1][0], what="outputs")
    np.testing.assert_array_equal(results[0][2], [5] * B)
    np.testing.assert_array_equal(results[1][2], [5] * B)
    # the frame fed back is the previous output: rnn_output and sample_id are the same frames
    assert_close(results[0][0].rnn_output, results[0][0].sample_id)


def test_decode_without_maximum_iterations_stops_at_cap_and_warns(backend):
    cl = backend.cl
    sampler = cl.InferenceSampler(lambda o: o, [2], backend.fw.float32,
                                  end_fn=lambda s: s[:, 0] > 1e9, next_inputs_fn=None)
    decoder = cl.BasicDecoder(cl.SimpleRNNCell(2), sampler)
    with pytest.warns(RuntimeWarning, match="MAXIMUM_ITERATIONS_CAP"):
        out, _, lengths = decoder(backend.float(np.zeros((2, 2))))
    assert backend.np(lengths).tolist() == [cl.MAXIMUM_ITERATIONS_CAP] * 2
    assert backend.np(out.rnn_output).shape == (2, cl.MAXIMUM_ITERATIONS_CAP, 2)


def test_maximum_iterations_zero_gives_empty_outputs(backend):
    _, (out, _, lengths) = _greedy(backend, None, end_token=0, maximum_iterations=0)
    assert out.rnn_output.shape == (B, 0, V) and out.sample_id.shape == (B, 0)
    assert lengths.tolist() == [0] * B


def test_output_time_major(backend):
    cell, out = _parts(backend)
    x = np.random.default_rng(0).standard_normal((B, T, E)).astype(np.float32)
    results = []
    for time_major in (False, True):
        d = backend.cl.BasicDecoder(cell, backend.cl.TrainingSampler(), out, output_time_major=time_major)
        results.append(backend.np(d(backend.float(x), sequence_length=backend.int(LENGTHS))[0]))
    np.testing.assert_allclose(results[0].rnn_output, results[1].rnn_output.transpose(1, 0, 2))


def test_dynamic_decode_function_form(backend):
    """``dynamic_decode(decoder, ...)`` with initialize kwargs gives what calling the decoder gives."""
    cell, out = _parts(backend)
    x = backend.float(np.random.default_rng(0).standard_normal((B, T, E)))
    d = backend.cl.BasicDecoder(cell, backend.cl.TrainingSampler(), out)
    called = backend.np(d(x, sequence_length=backend.int(LENGTHS)))
    direct = backend.np(backend.cl.dynamic_decode(
        d, decoder_init_input=x, decoder_init_kwargs={"sequence_length": backend.int(LENGTHS)}))
    assert_close(called, direct)


def test_tf_function_equals_eager(tf_backend):
    import tensorflow as tf

    cl = tf_backend.cl
    weights, end = _an_end_token_some_rows_hit(tf_backend)
    cell, out = _parts(tf_backend)
    greedy = cl.BasicDecoder(cell, cl.GreedyEmbeddingSampler(), out, maximum_iterations=8)
    emb = tf_backend.float(np.random.default_rng(5).standard_normal((V, E)))
    run = lambda e: greedy(e, start_tokens=tf.ones([B], tf.int32), end_token=end)  # noqa: E731
    _load(tf_backend, greedy, weights, build=lambda: run(emb))
    assert_close(tf_backend.np(run(emb)), tf_backend.np(tf.function(run)(emb)))
    # the generic loop under tf.function (a graph while-loop) and a training decode
    train = cl.BasicDecoder(cell, cl.TrainingSampler(), out, impute_finished=True)
    x = tf_backend.float(np.random.default_rng(0).standard_normal((B, T, E)))
    run_t = lambda x: train(x, sequence_length=tf_backend.int(LENGTHS))  # noqa: E731
    assert_close(tf_backend.np(run_t(x)), tf_backend.np(tf.function(run_t)(x)))
    run_loop = lambda x: cl.dynamic_decode(train, impute_finished=True, decoder_init_input=x,  # noqa: E731
                                           decoder_init_kwargs=dict(sequence_length=tf_backend.int(LENGTHS)))
    assert_close(tf_backend.np(run_t(x)), tf_backend.np(tf.function(run_loop)(x)))
    assert_close(tf_backend.np(run_loop(x)), tf_backend.np(tf.function(run_loop)(x)))


def test_gradients_flow(backend):
    """Training through BasicDecoder: every weight gets a gradient (autograd / GradientTape)."""
    cell, out = _parts(backend)
    decoder = backend.cl.BasicDecoder(cell, backend.cl.TrainingSampler(), out)
    x = backend.float(np.random.default_rng(0).standard_normal((B, T, E)))
    targets = backend.int(np.random.default_rng(1).integers(0, V, (B, max(LENGTHS))))
    weights = backend.cl.sequence_mask(backend.int(LENGTHS), max(LENGTHS), dtype=backend.fw.float32)
    if backend.name == "tf":
        import tensorflow as tf
        decoder(x, sequence_length=backend.int(LENGTHS))
        with tf.GradientTape() as tape:
            logits = decoder(x, sequence_length=backend.int(LENGTHS))[0].rnn_output
            loss = backend.cl.sequence_loss(logits, targets, weights)
        grads = tape.gradient(loss, decoder.trainable_variables)
        assert len(grads) == 5 and all(g is not None and np.abs(g.numpy()).sum() > 0 for g in grads)
    else:
        logits = decoder(x, sequence_length=backend.int(LENGTHS))[0].rnn_output
        backend.cl.sequence_loss(logits, targets, weights).backward()
        params = list(decoder.parameters())
        assert len(params) == 5 and all(p.grad is not None and p.grad.abs().sum() > 0 for p in params)


def test_lengths_when_the_decoder_tracks_its_own_finished(backend):
    """A decoder with ``tracks_own_finished`` and no ``lengths`` in its state: each row's length
    is still its steps up to the finishing one (as tfa counts), not 0."""
    cl = backend.cl

    class OwnFinished(cl.BasicDecoder):
        @property
        def tracks_own_finished(self):
            return True

    cell, out = _parts(backend)
    decoder = OwnFinished(cell, cl.TrainingSampler(), out)
    x = backend.float(np.random.default_rng(0).standard_normal((B, T, E)))
    lengths = backend.np(cl.dynamic_decode(decoder, decoder_init_input=x,
                                           decoder_init_kwargs=dict(sequence_length=backend.int(LENGTHS)))[2])
    np.testing.assert_array_equal(lengths, LENGTHS)
