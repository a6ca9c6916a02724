"""Beam search: tfa's hand-made cases, brute force on a tiny vocabulary, width 1 = greedy,
alignments against teacher forcing, cross-backend parity, eager = tf.function, and errors."""

import importlib
import itertools

import numpy as np
import pytest

from tests.conftest import assert_close, random_weights

B, W, V, E, H, S, D = 2, 3, 7, 4, 6, 5, 3  # batch, beams, vocab, embedding, hidden, memory time/depth
START, END = 0, 1


def ops(bk):
    """The backend's beam_step module (one search step and its private helpers)."""
    return importlib.import_module(f"course_lib.{bk.name}.beam_step")


def fixed_inputs(seed=0, vocab=V, batch=B):
    rng = np.random.default_rng(seed)
    return {
        "embedding": rng.standard_normal((vocab, E)).astype(np.float32),
        "h": rng.standard_normal((batch, H)).astype(np.float32) * 0.5,
        "c": rng.standard_normal((batch, H)).astype(np.float32) * 0.5,
        "memory": rng.standard_normal((batch, S, D)).astype(np.float32),
        "memory_length": np.array([S, 2, 1, S][:batch]),
    }


def build(bk, data, beam_width=W, vocab=V, attention=False, alignment_history=False, **kwargs):
    """``(decoder, run)``: a beam search decoder over an LSTM (with Bahdanau attention if asked);
    ``run()`` decodes ``data`` and returns ``(outputs, state, lengths)``."""
    cl = bk.cl
    lstm = cl.LSTMCell(H)
    encoder_state = [bk.float(data["h"]), bk.float(data["c"])]
    if attention:
        memory = cl.tile_batch(bk.float(data["memory"]), beam_width)
        lengths = cl.tile_batch(bk.int(data["memory_length"]), beam_width)
        mechanism = cl.BahdanauAttention(H, memory=memory, memory_sequence_length=lengths)
        cell = cl.AttentionWrapper(lstm, mechanism, attention_layer_size=H, alignment_history=alignment_history)
    else:
        cell = lstm
    kwargs.setdefault("maximum_iterations", 5)
    decoder = cl.BeamSearchDecoder(cell, beam_width, output_layer=bk.dense(H, vocab), **kwargs)
    batch = data["h"].shape[0]

    def run():
        state = cl.tile_batch(encoder_state, beam_width)
        if attention:
            # the keys are computed when the memory is set up: again, after new weights came in
            mechanism.setup_memory(memory, memory_sequence_length=lengths)
            state = cell.get_initial_state(batch_size=batch * beam_width, dtype=bk.fw.float32).clone(cell_state=state)
        return decoder(bk.float(data["embedding"]), start_tokens=bk.int([START] * batch), end_token=END,
                       initial_state=state)

    run()  # builds the layers
    return decoder, run


def weights_for(decoder, bk, seed=0, end_bias=1.5):
    """Random weights for ``decoder``, with the end token made likelier so that beams finish."""
    weights = random_weights(bk.cl.export_weights(decoder), seed=seed)
    weights["output_layer/bias"][END] += end_bias
    return weights


def as_numpy(bk, result):
    outputs, state, lengths = result
    raw = outputs.beam_search_decoder_output
    return {
        "predicted_ids": bk.np(outputs.predicted_ids), "parent_ids": bk.np(raw.parent_ids),
        "step_ids": bk.np(raw.predicted_ids), "scores": bk.np(raw.scores), "lengths": bk.np(lengths),
        "state_lengths": bk.np(state.lengths), "log_probs": bk.np(state.log_probs),
    }


# -- tile_batch --------------------------------------------------------------------------------

def test_tile_batch_repeats_rows_in_place(backend):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)  # rows r0, r1
    tiled = backend.cl.tile_batch([backend.float(a), (backend.int([7, 8]),)], 3)
    got = backend.np(tiled)
    np.testing.assert_array_equal(got[0], a[[0, 0, 0, 1, 1, 1]])  # r0 r0 r0 r1 r1 r1, not r0 r1 r0 ...
    np.testing.assert_array_equal(got[1][0], [7, 7, 7, 8, 8, 8])
    assert isinstance(tiled, list) and isinstance(tiled[1], tuple)
    with pytest.raises(ValueError, match="`multiplier`"):
        backend.cl.tile_batch(backend.float(a), 0)


# -- gather_tree and gather_tree_from_array ------------------------------------------------------

def np_gather_tree(step_ids, parent_ids, max_lengths, end_token):
    """NumPy reference: tfa's kernel, loop for loop."""
    T, batch, width = step_ids.shape
    out = np.full_like(step_ids, end_token)
    for b, w in itertools.product(range(batch), range(width)):
        length = min(T, int(max_lengths[b]))
        if length <= 0:
            continue
        out[length - 1, b, w] = step_ids[length - 1, b, w]
        parent = parent_ids[length - 1, b, w]
        for t in range(length - 2, -1, -1):
            out[t, b, w] = step_ids[t, b, parent]
            parent = parent_ids[t, b, parent]
        ended = False
        for t in range(length):
            if ended:
                out[t, b, w] = end_token
            ended = ended or out[t, b, w] == end_token
    return out


def test_gather_tree_hand_made(backend):
    cl = backend.cl
    # tfa's case: (max_time 3, batch 2, beam 3), written batch-major and transposed
    step_ids = np.array([[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[2, 3, 4], [5, 6, 7], [8, 9, 10]]]).transpose(1, 0, 2)
    parents = np.array([[[0, 0, 0], [0, 1, 1], [2, 1, 2]], [[0, 0, 0], [1, 2, 0], [2, 1, 1]]]).transpose(1, 0, 2)
    expected = np.array([[[2, 2, 2], [6, 5, 6], [7, 8, 9]], [[2, 4, 4], [7, 6, 6], [8, 9, 10]]]).transpose(1, 0, 2)
    got = cl.gather_tree(backend.int(step_ids), backend.int(parents), backend.int([3, 3]), 11)
    np.testing.assert_array_equal(backend.np(got), expected)

    # one entry, two beams; beam 0's path passes an end token at step 1 (padded after it)
    step_ids = np.array([[3, 4], [5, 1], [6, 7], [8, 9]])[:, None, :]  # (T=4, B=1, W=2)
    parents = np.array([[0, 0], [0, 0], [1, 0], [0, 1]])[:, None, :]
    for max_length, expected in [(4, [[3, 3], [1, 5], [1, 7], [1, 9]]), (3, [[3, 3], [1, 5], [1, 7], [1, 1]])]:
        got = cl.gather_tree(backend.int(step_ids), backend.int(parents), backend.int([max_length]), 1)
        np.testing.assert_array_equal(backend.np(got)[:, 0, :], expected)
        np.testing.assert_array_equal(np_gather_tree(step_ids, parents, [max_length], 1)[:, 0, :], expected)


def test_gather_tree_matches_numpy_reference(backend):
    rng = np.random.default_rng(0)
    for T, batch, width in [(1, 1, 1), (5, 3, 4), (7, 2, 3)]:
        step_ids = rng.integers(0, 6, (T, batch, width))
        parents = rng.integers(0, width, (T, batch, width))
        max_lengths = rng.integers(0, T + 2, batch)
        got = backend.cl.gather_tree(backend.int(step_ids), backend.int(parents), backend.int(max_lengths), 5)
        np.testing.assert_array_equal(backend.np(got), np_gather_tree(step_ids, parents, max_lengths, 5))


def test_gather_tree_from_array(backend):
    # tfa's cases: a [T, B, W] array, with depth and with merged batch and beam axes
    array = np.array([[[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 0, 0]],
                      [[2, 3, 4], [5, 6, 7], [8, 9, 10], [11, 12, 0]]]).transpose(1, 0, 2)
    parents = np.array([[[0, 0, 0], [0, 1, 1], [2, 1, 2], [-1, -1, -1]],
                        [[0, 0, 0], [1, 1, 0], [2, 0, 1], [0, 1, 0]]]).transpose(1, 0, 2)
    expected = np.array([[[2, 2, 2], [6, 5, 6], [7, 8, 9], [0, 0, 0]],
                         [[2, 3, 2], [7, 5, 7], [8, 9, 8], [11, 12, 0]]]).transpose(1, 0, 2)
    lengths = backend.int([[3, 3, 3], [4, 4, 3]])
    for t, want in [(array, expected), (np.stack([array, array + 1], -1), np.stack([expected, expected + 1], -1)),
                    (array.reshape(4, 6), expected.reshape(4, 6))]:
        got = backend.cl.gather_tree_from_array(backend.float(t), backend.int(parents), lengths)
        np.testing.assert_array_equal(backend.np(got), want)


# -- one step, by hand (tfa's cases) -------------------------------------------------------------

def bools(bk, x):
    x = np.asarray(x, bool)
    return bk.fw.constant(x) if bk.name == "tf" else bk.fw.tensor(x)


def int64s(bk, x):
    x = np.asarray(x, np.int64)
    return bk.fw.constant(x) if bk.name == "tf" else bk.fw.tensor(x)


def beam_state(bk, log_probs, lengths, finished):
    """A hand-made ``BeamSearchDecoderState`` (the cell state is a dummy ``[B, W]``)."""
    return ops(bk).BeamSearchDecoderState(
        cell_state=bk.float(np.zeros(np.shape(finished))), log_probs=bk.float(log_probs),
        finished=bools(bk, finished), lengths=int64s(bk, lengths), accumulated_attention_probs=())


def step_logits(boost_12=2.7):
    logits = np.full([2, 3, 5], 0.0001, np.float32)
    logits[0, 0, 2], logits[0, 0, 3], logits[0, 1, 3], logits[0, 1, 4] = 1.9, 2.1, 3.1, 0.9
    logits[1, 0, 1], logits[1, 1, 2], logits[1, 2, 2], logits[1, 2, 3] = 0.5, boost_12, 10.0, 0.2
    return logits


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_beam_step_by_hand(backend):
    logits = step_logits()
    start = np.full([2, 3], np.log(1 / 3), np.float32)
    state = beam_state(backend, start, np.full([2, 3], 2), np.zeros([2, 3], bool))
    out, nxt = ops(backend)._beam_search_step(backend.float(logits), state.cell_state, state, 0, 0.6, 0.0)
    np.testing.assert_array_equal(backend.np(out.predicted_ids), [[3, 3, 2], [2, 2, 1]])
    np.testing.assert_array_equal(backend.np(out.parent_ids), [[1, 0, 0], [2, 1, 0]])
    np.testing.assert_array_equal(backend.np(nxt.lengths), [[3, 3, 3], [3, 3, 3]])
    assert not backend.np(nxt.finished).any()
    lp = log_softmax(logits)
    want = start + np.array([[lp[0, 1, 3], lp[0, 0, 3], lp[0, 0, 2]], [lp[1, 2, 2], lp[1, 1, 2], lp[1, 0, 1]]])
    np.testing.assert_allclose(backend.np(nxt.log_probs), want, atol=1e-6)


def test_beam_step_with_finished_beams_by_hand(backend):
    logits = step_logits(boost_12=5.7)
    start = np.full([2, 3], np.log(1 / 3), np.float32)
    finished = np.array([[False, True, False], [False, False, True]])
    state = beam_state(backend, start, [[2, 1, 2], [2, 2, 1]], finished)
    out, nxt = ops(backend)._beam_search_step(backend.float(logits), state.cell_state, state, 0, 0.6, 0.0)
    np.testing.assert_array_equal(backend.np(out.parent_ids), [[1, 0, 0], [1, 2, 0]])
    np.testing.assert_array_equal(backend.np(out.predicted_ids), [[0, 3, 2], [2, 0, 1]])
    np.testing.assert_array_equal(backend.np(nxt.lengths), [[1, 3, 3], [3, 1, 3]])
    np.testing.assert_array_equal(backend.np(nxt.finished), [[True, False, False], [False, True, False]])
    lp = log_softmax(logits)  # a finished beam adds 0 (its end token)
    want = start + np.array([[0, lp[0, 0, 3], lp[0, 0, 2]], [lp[1, 1, 2], 0, lp[1, 0, 1]]])
    np.testing.assert_allclose(backend.np(nxt.log_probs), want, atol=1e-6)


def test_first_step_expands_beam_zero_only(backend):
    # beam width 8 > vocabulary 5: the 3 beams left over stay at -inf with length 0
    width, logits = 8, np.zeros([2, 8, 5], np.float32)
    logits[:, 0] = step_logits()[:, 0]
    start = np.where(np.arange(width) == 0, 0.0, -np.inf) * np.ones([2, 1])
    finished = np.arange(width)[None].repeat(2, 0) > 0
    st = beam_state(backend, start, np.where(finished, 0, 2), finished)
    out, nxt = ops(backend)._beam_search_step(backend.float(logits), st.cell_state, st, 0, 0.6, 0.0)
    ids, log_probs, lengths = backend.np(out.predicted_ids), backend.np(nxt.log_probs), backend.np(nxt.lengths)
    assert ids[0, 0] == 3 and ids[0, 1] == 2 and ids[1, 0] == 1
    assert np.all(log_probs[:, -3:] == -np.inf) and np.all(log_probs[:, :-3] > -np.inf)
    assert np.all(lengths[:, -3:] == 0) and np.all(lengths[:, :-3] > 0)


def test_finished_beam_may_only_emit_the_end_token(backend):
    probs = np.array([[[-0.2] * 5, [-0.3, -0.3, -0.3, 3, 0], [5, 6, 0, 0, 0]],
                      [[-0.2, -0.2, -0.2, -0.2, 0], [-0.3, -0.3, -0.1, 3, 0], [5, 6, 3, 0, 0]]], np.float32)
    finished = np.array([[0, 1, 0], [0, 1, 1]], bool)
    masked = backend.np(ops(backend)._mask_probs(backend.float(probs), 0, bools(backend, finished)))
    np.testing.assert_array_equal(masked[~finished], probs[~finished])
    np.testing.assert_array_equal(masked[finished][:, 0], 0)
    np.testing.assert_array_equal(masked[finished][:, 1:], np.finfo(np.float32).min)


def test_length_penalty_is_gnmt(backend):
    lengths = backend.int([[0, 1, 4]])
    got = backend.np(ops(backend)._length_penalty(lengths, 0.6))
    np.testing.assert_allclose(got, ((5 + np.array([[0, 1, 4]])) / 6) ** 0.6, rtol=1e-6)
    assert ops(backend)._length_penalty(lengths, 0.0) == 1.0


# -- whole searches --------------------------------------------------------------------------

def test_initial_state_of_the_search(backend):
    decoder, _ = build(backend, fixed_inputs())
    finished, inputs, state = decoder.initialize(
        backend.float(fixed_inputs()["embedding"]), start_tokens=backend.int([START] * B), end_token=END,
        initial_state=backend.cl.tile_batch([backend.float(np.zeros((B, H)))] * 2, W))
    np.testing.assert_array_equal(backend.np(finished), [[False, True, True]] * B)  # tfa: beams 1.. finished
    np.testing.assert_array_equal(backend.np(state.log_probs), [[0, -np.inf, -np.inf]] * B)
    assert backend.np(inputs).shape == (B, W, E)
    assert backend.np(state.cell_state)[0].shape == (B, W, H)


def lstm_reference(weights, data, b):
    """NumPy LSTM + projection: log-probs of the next token after a prefix, for entry ``b``."""
    K, R, bias = weights["cell/kernel"], weights["cell/recurrent_kernel"], weights["cell/bias"]
    out_k, out_b = weights["output_layer/kernel"], weights["output_layer/bias"]
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731

    def next_log_probs(prefix):
        h, c = data["h"][b].astype(np.float64), data["c"][b].astype(np.float64)
        for token in [START] + list(prefix):
            i, f, g, o = np.split(data["embedding"][token] @ K + h @ R + bias, 4)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        return log_softmax(h @ out_k + out_b)

    return next_log_probs


def test_finds_the_most_likely_sequence_by_brute_force(backend):
    """Vocabulary 3 (end token 1), 3 steps: 15 hypotheses; 16 beams keep them all."""
    vocab, steps, width = 3, 3, 16
    data = fixed_inputs(seed=4, vocab=vocab)
    decoder, run = build(backend, data, beam_width=width, vocab=vocab, maximum_iterations=steps)
    weights = weights_for(decoder, backend, seed=4, end_bias=0.5)
    backend.cl.import_weights(decoder, weights)
    got = as_numpy(backend, run())
    for b in range(B):
        next_log_probs = lstm_reference(weights, data, b)
        hypotheses = {}  # sequence -> total log-prob

        def grow(prefix, total):
            if len(prefix) == steps or (prefix and prefix[-1] == END):
                hypotheses[tuple(prefix)] = total
                return
            for token, lp in enumerate(next_log_probs(prefix)):
                grow(prefix + [token], total + lp)

        grow([], 0.0)
        assert len(hypotheses) == 15
        ranked = sorted(hypotheses.items(), key=lambda kv: -kv[1])
        best = list(ranked[0][0]) + [END] * (steps - len(ranked[0][0]))
        np.testing.assert_array_equal(got["predicted_ids"][b, :, 0], best)
        np.testing.assert_allclose(got["log_probs"][b, :15], [s for _, s in ranked], atol=1e-5)
        np.testing.assert_allclose(got["scores"][b, -1, :15], [s for _, s in ranked], atol=1e-5)
        assert got["state_lengths"][b, 0] == len(ranked[0][0])
        for w, (sequence, _) in enumerate(ranked):  # every hypothesis, best first
            np.testing.assert_array_equal(got["predicted_ids"][b, :len(sequence), w], sequence)


def test_width_one_is_greedy_decoding(backend):
    cl, data = backend.cl, fixed_inputs(seed=1, batch=3)
    decoder, run = build(backend, data, beam_width=1, maximum_iterations=8)
    weights = weights_for(decoder, backend, seed=1, end_bias=1.0)
    cl.import_weights(decoder, weights)
    beam = as_numpy(backend, run())
    greedy = cl.BasicDecoder(decoder.cell, cl.GreedyEmbeddingSampler(), output_layer=decoder.output_layer,
                             maximum_iterations=8)
    g_out, _, g_lengths = greedy(backend.float(data["embedding"]), start_tokens=backend.int([START] * 3), end_token=END,
                                 initial_state=[backend.float(data["h"]), backend.float(data["c"])])
    g_ids, g_lengths = backend.np(g_out.sample_id), backend.np(g_lengths)
    g_log_probs = log_softmax(backend.np(g_out.rnn_output).astype(np.float64))
    assert 0 < g_lengths.min() < 8  # some row ends early, so finishing is tested too
    np.testing.assert_array_equal(beam["state_lengths"][:, 0], g_lengths)
    for b in range(3):
        L = g_lengths[b]
        np.testing.assert_array_equal(beam["predicted_ids"][b, :L, 0], g_ids[b, :L])
        assert np.all(beam["predicted_ids"][b, L:, 0] == END)
        running = np.cumsum(g_log_probs[b, np.arange(L), g_ids[b, :L]])
        np.testing.assert_allclose(beam["scores"][b, :L, 0], running, atol=1e-5)


def test_finished_beams_are_frozen(backend):
    data = fixed_inputs(seed=2)
    decoder, run = build(backend, data, beam_width=4, maximum_iterations=7)
    backend.cl.import_weights(decoder, weights_for(decoder, backend, seed=2, end_bias=1.0))
    got = as_numpy(backend, run())
    ids, parents, scores = got["step_ids"], got["parent_ids"], got["scores"]  # (B, T, W) each
    seen = 0
    for b in range(B):
        finished = np.arange(4) > 0  # before the first step: beams 1.. are finished
        for t in range(ids.shape[1]):
            frozen = finished[parents[b, t]]  # grew from a finished beam
            assert np.all(ids[b, t][frozen] == END)
            if t > 0:
                np.testing.assert_allclose(scores[b, t][frozen], scores[b, t - 1][parents[b, t]][frozen], atol=1e-6)
                seen += int(frozen.sum())
            finished = frozen | (ids[b, t] == END)
    assert seen > 0


def test_final_sequence_lengths_are_the_beams_lengths(backend):
    """As tfa 0.23: ``dynamic_decode`` takes the lengths from the search's state, so column ``w``
    is the length of sequence ``w``: its tokens up to and including the first end token."""
    data = fixed_inputs(seed=0)
    decoder, run = build(backend, data, beam_width=4, maximum_iterations=7)
    backend.cl.import_weights(decoder, weights_for(decoder, backend, seed=0, end_bias=1.0))
    outputs, state, lengths = run()
    lengths, ids = backend.np(lengths), backend.np(outputs.predicted_ids)
    np.testing.assert_array_equal(lengths, backend.np(state.lengths))
    assert lengths.shape == (B, 4) and lengths.min() < ids.shape[1]
    for b, w in itertools.product(range(B), range(4)):
        L = lengths[b, w]
        assert not np.any(ids[b, :L - 1, w] == END) and np.all(ids[b, L:, w] == END)
        assert L == ids.shape[1] or ids[b, L - 1, w] == END


def test_alignment_history_follows_the_final_beams(backend):
    """Row t of beam w's history is the attention paid when its token t was chosen: the same
    as feeding that beam's tokens to the cell (teacher forcing)."""
    cl, data = backend.cl, fixed_inputs(seed=3)
    decoder, run = build(backend, data, attention=True, alignment_history=True, maximum_iterations=6)
    cl.import_weights(decoder, weights_for(decoder, backend, seed=3))
    outputs, state, _ = run()
    history = backend.np(cl.BeamSearchDecoder.alignment_history(state))  # (B, W, T, S)
    ids, lengths = backend.np(outputs.predicted_ids), backend.np(state.lengths)
    T = ids.shape[1]
    assert history.shape == (B, W, T, S)
    # feed every (entry, beam) its own tokens, on the same tiled memory
    previous = np.concatenate([np.full((B, 1, W), START), ids[:, :-1]], axis=1)  # (B, T, W)
    inputs = data["embedding"][previous.transpose(0, 2, 1).reshape(B * W, T)]  # (B*W, T, E)
    cell_state = cl.tile_batch([backend.float(data["h"]), backend.float(data["c"])], W)
    st = decoder.cell.get_initial_state(batch_size=B * W, dtype=backend.fw.float32).clone(cell_state=cell_state)
    forced = []
    for t in range(T):
        _, st = decoder.cell(backend.float(inputs[:, t]), st)
        forced.append(backend.np(st.alignments).reshape(B, W, S))
    forced = np.stack(forced, axis=2)  # (B, W, T, S)
    inside = np.arange(T)[None, None, :] < lengths[:, :, None]
    np.testing.assert_allclose(np.where(inside[..., None], history, 0), np.where(inside[..., None], forced, 0),
                               atol=1e-5)
    assert np.all(history[1][..., data["memory_length"][1]:] == 0)  # padded memory is never attended


def test_history_is_left_alone_without_reordering(backend):
    decoder, run = build(backend, fixed_inputs(), attention=True, alignment_history=True,
                         reorder_tensor_arrays=False)
    _, state, _ = run()
    assert isinstance(state.cell_state.alignment_history, backend.cl.TensorArray)
    with pytest.raises(ValueError, match="reorder_tensor_arrays=True"):
        backend.cl.BeamSearchDecoder.alignment_history(state)


def test_embedding_fn_gives_the_same_search(backend):
    data = fixed_inputs()
    decoder, run = build(backend, data)
    want = as_numpy(backend, run())
    if backend.name == "tf":
        embedding = backend.keras.layers.Embedding(V, E)
        embedding.build((None,))
        embedding.embeddings.assign(data["embedding"])
    else:
        embedding = backend.fw.nn.Embedding.from_pretrained(backend.float(data["embedding"]))
    with_fn = backend.cl.BeamSearchDecoder(decoder.cell, W, embedding_fn=embedding, output_layer=decoder.output_layer,
                                           maximum_iterations=5)
    state = backend.cl.tile_batch([backend.float(data["h"]), backend.float(data["c"])], W)
    got = as_numpy(backend, with_fn(None, start_tokens=backend.int([START] * B), end_token=END, initial_state=state))
    np.testing.assert_array_equal(got["predicted_ids"], want["predicted_ids"])
    assert_close(got["scores"], want["scores"], what="scores")
    assert not any("embedding" in key for key in backend.cl.export_weights(with_fn))  # the caller's weights


def test_output_all_scores(backend):
    decoder, run = build(backend, fixed_inputs(), maximum_iterations=4, output_all_scores=True)
    outputs, _, _ = run()
    scores = backend.np(outputs.beam_search_decoder_output.scores)
    assert scores.shape[0] == B and scores.shape[2:] == (W, V)
    assert tuple(decoder.output_size.scores) == (W, V)


# -- parity and graphs ---------------------------------------------------------------------------

@pytest.mark.parametrize("attention,length_penalty,coverage_penalty", [
    (False, 0.0, 0.0), (False, 0.8, 0.0), (True, 0.0, 0.0), (True, 0.8, 0.4),
])
def test_parity_across_backends(tf_backend, torch_backend, attention, length_penalty, coverage_penalty):
    data, results, weights = fixed_inputs(seed=5), [], None
    for bk in (tf_backend, torch_backend):
        decoder, run = build(bk, data, attention=attention, alignment_history=attention, maximum_iterations=7,
                             length_penalty_weight=length_penalty, coverage_penalty_weight=coverage_penalty)
        weights = weights or weights_for(decoder, bk, seed=5)
        bk.cl.import_weights(decoder, weights)
        result = run()
        got = as_numpy(bk, result)
        if attention:
            got["history"] = bk.np(bk.cl.BeamSearchDecoder.alignment_history(result[1]))
        results.append(got)
    tf_got, torch_got = results
    assert 0 < tf_got["state_lengths"].min() < 7  # some beams finished early
    for key in ("predicted_ids", "parent_ids", "step_ids", "lengths", "state_lengths"):
        np.testing.assert_array_equal(tf_got[key], torch_got[key], err_msg=key)
    for key in ("scores", "log_probs") + (("history",) if attention else ()):
        assert_close(tf_got[key], torch_got[key], atol=1e-5, what=key)


@pytest.mark.parametrize("dynamic_batch", [False, True])
def test_tf_function_matches_eager(tf_backend, dynamic_batch):
    tf, cl = tf_backend.fw, tf_backend.cl
    data = fixed_inputs(seed=6)
    decoder, _ = build(tf_backend, data, attention=True, alignment_history=True, maximum_iterations=6,
                       length_penalty_weight=0.5, coverage_penalty_weight=0.3)
    cl.import_weights(decoder, weights_for(decoder, tf_backend, seed=6))
    mechanism = decoder.cell.attention_mechanism

    def decode(embedding, start_tokens, h, c, memory, memory_length):
        batch = tf.shape(start_tokens)[0] if dynamic_batch else start_tokens.shape[0]
        mechanism.setup_memory(cl.tile_batch(memory, W), memory_sequence_length=cl.tile_batch(memory_length, W))
        state = decoder.cell.get_initial_state(batch_size=batch * W, dtype=tf.float32)
        state = state.clone(cell_state=cl.tile_batch([h, c], W))
        outputs, state, lengths = decoder(embedding, start_tokens=start_tokens, end_token=END, initial_state=state)
        return (outputs.predicted_ids, outputs.beam_search_decoder_output.scores, lengths,
                cl.BeamSearchDecoder.alignment_history(state))

    args = (tf.constant(data["embedding"]), tf.constant([START] * B), tf.constant(data["h"]),
            tf.constant(data["c"]), tf.constant(data["memory"]), tf.constant(data["memory_length"], tf.int32))
    signature = None
    if dynamic_batch:
        signature = [tf.TensorSpec([V, E]), tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, H]),
                     tf.TensorSpec([None, H]), tf.TensorSpec([None, S, D]), tf.TensorSpec([None], tf.int32)]
    eager = tf_backend.np(decode(*args))
    graph = tf_backend.np(tf.function(decode, input_signature=signature)(*args))
    np.testing.assert_array_equal(eager[0], graph[0])
    np.testing.assert_array_equal(eager[2], graph[2])
    assert_close(eager[1], graph[1], atol=1e-5, what="scores")
    assert_close(eager[3], graph[3], atol=1e-5, what="alignment history")


# -- errors ----------------------------------------------------------------------------------------

def test_untiled_initial_state_says_to_use_tile_batch(backend):
    data = fixed_inputs()
    decoder, _ = build(backend, data)
    untiled = [backend.float(data["h"]), backend.float(data["c"])]  # B rows, not B * W
    with pytest.raises(ValueError) as info:
        decoder(backend.float(data["embedding"]), start_tokens=backend.int([START] * B), end_token=END,
                initial_state=untiled)
    message = str(info.value)
    for part in ("`initial_state`", f"= {B * W}", "tile_batch", f"[{B}, {H}]"):
        assert part in message, (part, message)


def test_bad_arguments_are_named(backend):
    cl, data = backend.cl, fixed_inputs()
    cell = cl.LSTMCell(H)
    for width in (0, -2, 2.5, "3", True):
        with pytest.raises(ValueError, match="`beam_width`"):
            cl.BeamSearchDecoder(cell, width)
    decoder, _ = build(backend, data)
    state = cl.tile_batch([backend.float(data["h"]), backend.float(data["c"])], W)
    embedding = backend.float(data["embedding"])
    with pytest.raises(ValueError, match="`start_tokens`"):
        decoder(embedding, start_tokens=backend.int([[START] * B]), end_token=END, initial_state=state)
    with pytest.raises(ValueError, match="`end_token`"):
        decoder(embedding, start_tokens=backend.int([START] * B), end_token=backend.int([END]), initial_state=state)
    with pytest.raises(ValueError, match="`embedding`"):
        decoder(None, start_tokens=backend.int([START] * B), end_token=END, initial_state=state)
    coverage = cl.BeamSearchDecoder(decoder.cell, W, output_layer=decoder.output_layer, coverage_penalty_weight=0.5)
    with pytest.raises(ValueError, match="`coverage_penalty_weight`"):
        coverage(embedding, start_tokens=backend.int([START] * B), end_token=END, initial_state=state)
