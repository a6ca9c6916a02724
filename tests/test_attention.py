"""Attention: cross-backend parity through one weights dict, known answers, properties, errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tests.conftest import BACKENDS, Backend, assert_close, random_weights

B, T, D, U, H, V, E = 4, 6, 5, 7, 7, 11, 3
RNG = np.random.default_rng(0)
MEMORY = RNG.standard_normal((B, T, D)).astype(np.float32)
LENGTHS = np.array([6, 3, 1, 0])  # full, ragged, length 1 and length 0
QUERIES = RNG.standard_normal((2, B, U)).astype(np.float32)

MECHANISMS = {
    "bahdanau": ("BahdanauAttention", {}),
    "bahdanau_normalize": ("BahdanauAttention", {"normalize": True}),
    "bahdanau_hardmax": ("BahdanauAttention", {"probability_fn": "hardmax"}),
    "luong": ("LuongAttention", {}),
    "luong_scale": ("LuongAttention", {"scale": True}),
    "bahdanau_monotonic_parallel": ("BahdanauMonotonicAttention", {"mode": "parallel", "normalize": True}),
    "bahdanau_monotonic_recursive": ("BahdanauMonotonicAttention", {"mode": "recursive"}),
    "bahdanau_monotonic_hard": ("BahdanauMonotonicAttention", {"mode": "hard"}),
    "luong_monotonic_parallel": ("LuongMonotonicAttention", {"mode": "parallel", "scale": True}),
    "luong_monotonic_recursive": ("LuongMonotonicAttention", {"mode": "recursive"}),
    "luong_monotonic_hard": ("LuongMonotonicAttention", {"mode": "hard", "score_bias_init": -0.5}),
    "location": ("LocationSensitiveAttention", {"attention_filters": 4, "attention_kernel_size": 3}),
    "location_normalize_even_kernel": ("LocationSensitiveAttention",
                                       {"attention_filters": 3, "attention_kernel_size": 4, "normalize": True}),
}
PUBLIC = ["AttentionMechanism", "BahdanauAttention", "LuongAttention", "BahdanauMonotonicAttention",
          "LuongMonotonicAttention", "LocationSensitiveAttention", "LocationSensitiveAttentionState",
          "AttentionWrapper", "AttentionWrapperState", "alignment_history_batch_major",
          "monotonic_attention", "safe_cumprod", "hardmax"]


def _sync(backends, build, run):
    """Build in each backend, share one random weights dict, re-set the memory, run; NumPy results.

    `build(bk) -> (module, mechanisms)`; `run(bk, module) -> results`. Layers build on their first
    call; keys are computed when the memory is set up, so it is set up again after the import.
    """
    results, weights = [], None
    for bk in backends:
        module, mechanisms = build(bk)
        run(bk, module)
        if weights is None:
            weights = random_weights(bk.cl.export_weights(module), seed=3)
        bk.cl.import_weights(module, weights)
        for m in mechanisms:
            m.setup_memory(bk.float(MEMORY), bk.int(LENGTHS))
        results.append(bk.np(run(bk, module)))
    return results


def _mechanism(bk, name, memory=True, **extra):
    cls, kwargs = MECHANISMS[name]
    kwargs = dict(kwargs, **extra)
    if memory:
        return getattr(bk.cl, cls)(U, bk.float(MEMORY), bk.int(LENGTHS), **kwargs)
    return getattr(bk.cl, cls)(U, **kwargs)


def test_attention_modules_define_the_same_public_names(tf_backend, torch_backend):
    from course_lib.tf import attention as tf_attention
    from course_lib.torch import attention as torch_attention

    assert sorted(tf_attention.__all__) == sorted(torch_attention.__all__) == sorted(PUBLIC)
    for bk in (tf_backend, torch_backend):
        assert all(hasattr(bk.cl, name) for name in PUBLIC), bk


# -- parity ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MECHANISMS))
def test_mechanism_parity(tf_backend, torch_backend, name):
    def build(bk):
        m = _mechanism(bk, name)
        return m, [m]

    def run(bk, m):
        state = m.initial_state(B, bk.fw.float32)
        a1, s1 = m(bk.float(QUERIES[0]), state)
        a2, s2 = m(bk.float(QUERIES[1]), s1)
        return a1, s1, a2, s2

    tf_result, torch_result = _sync((tf_backend, torch_backend), build, run)
    assert_close(tf_result, torch_result, what=name)


def _wrapper(bk, mechanisms, **kwargs):
    return bk.cl.AttentionWrapper(bk.cl.LSTMCell(H), mechanisms, **kwargs)


def _comparable(bk, state):
    """The state's tensors, with the alignment history made a batch-major tensor."""
    history = bk.cl.alignment_history_batch_major(state) if state.alignment_history != () else ()
    return state._replace(alignment_history=history)


def test_wrapper_step_parity_with_two_mechanisms(tf_backend, torch_backend):
    x = RNG.standard_normal((2, B, E)).astype(np.float32)

    def build(bk):
        mechanisms = [_mechanism(bk, "bahdanau_normalize"), _mechanism(bk, "location")]
        return _wrapper(bk, mechanisms, attention_layer_size=[4, 3], alignment_history=True), mechanisms

    def run(bk, cell):
        state = cell.get_initial_state(batch_size=B, dtype=bk.fw.float32)
        out1, state = cell(bk.float(x[0]), state)
        out2, state = cell(bk.float(x[1]), state)
        return out1, out2, _comparable(bk, state)

    tf_result, torch_result = _sync((tf_backend, torch_backend), build, run)
    assert_close(tf_result, torch_result, what="two-mechanism wrapper")
    assert tf_result[1].shape == (B, 7)
    assert tf_result[2].alignment_history[0].shape == (B, 2, T)


def _training_decoder(bk, attention_layer_size, output_attention, mechanism="bahdanau", alignment_history=True):
    m = _mechanism(bk, mechanism)
    cell = _wrapper(bk, m, attention_layer_size=attention_layer_size, alignment_history=alignment_history,
                    output_attention=output_attention)
    decoder = bk.cl.BasicDecoder(cell, bk.cl.TrainingSampler(), output_layer=bk.dense(cell.output_size, V))
    return decoder, [m]


DECODER_INPUTS = RNG.standard_normal((B, 5, E)).astype(np.float32)
DECODER_LENGTHS = np.array([5, 4, 2, 1])


@pytest.mark.parametrize("attention_layer_size", [None, 6])
@pytest.mark.parametrize("output_attention", [True, False])
def test_teacher_forced_decode_parity(tf_backend, torch_backend, attention_layer_size, output_attention):
    def build(bk):
        return _training_decoder(bk, attention_layer_size, output_attention)

    def run(bk, decoder):
        outputs, state, lengths = decoder(bk.float(DECODER_INPUTS), sequence_length=bk.int(DECODER_LENGTHS))
        return outputs, _comparable(bk, state), lengths

    tf_result, torch_result = _sync((tf_backend, torch_backend), build, run)
    assert_close(tf_result, torch_result, what="teacher-forced decode")
    np.testing.assert_array_equal(tf_result[0].sample_id, torch_result[0].sample_id)
    history = tf_result[1].alignment_history  # (B, decoder_time, T)
    assert history.shape == (B, 5, T)
    mask = np.broadcast_to((np.arange(T) < LENGTHS[:, None])[:, None, :], history.shape)
    assert np.all(history[~mask] == 0.0)
    np.testing.assert_allclose(history.sum(-1)[LENGTHS > 0], 1.0, atol=1e-5)


@pytest.mark.parametrize("alignment_history", [False, True])
def test_decode_from_a_cloned_initial_state(backend, alignment_history):
    """tfa's pattern: `get_initial_state(...).clone(cell_state=encoder_state)` passed to the decoder."""
    decoder, _ = _training_decoder(backend, 6, True, alignment_history=alignment_history)
    encoder_state = [backend.float(np.full((B, H), 0.5)), backend.float(np.zeros((B, H)))]
    state = decoder.cell.get_initial_state(batch_size=B, dtype=backend.fw.float32).clone(cell_state=encoder_state)
    outputs, final_state, _ = decoder(backend.float(DECODER_INPUTS), initial_state=state,
                                      sequence_length=backend.int(DECODER_LENGTHS))
    assert backend.np(outputs.rnn_output).shape == (B, 5, V)
    assert isinstance(final_state, backend.cl.AttentionWrapperState)


def test_decoder_built_before_the_memory_is_set_up(backend):
    """tfa's NMT pattern: build the decoder once, set the memory up in each step."""
    m = backend.cl.BahdanauAttention(U)
    cell = _wrapper(backend, m, attention_layer_size=6, alignment_history=True)
    decoder = backend.cl.BasicDecoder(cell, backend.cl.TrainingSampler(), output_layer=backend.dense(6, V))
    assert cell.state_size.alignments is None and cell.output_size == 6
    with pytest.raises(ValueError, match="`memory`.*never set up"):
        decoder(backend.float(DECODER_INPUTS), sequence_length=backend.int(DECODER_LENGTHS))
    m.setup_memory(backend.float(MEMORY), backend.int(LENGTHS))
    outputs, state, _ = decoder(backend.float(DECODER_INPUTS), sequence_length=backend.int(DECODER_LENGTHS))
    assert backend.np(backend.cl.alignment_history_batch_major(state)).shape == (B, 5, T)


def test_greedy_decode_with_attention_gives_identical_ids(tf_backend, torch_backend):
    embedding = RNG.standard_normal((V, E)).astype(np.float32)
    start, end = 1, 2

    def build(bk):
        m = _mechanism(bk, "luong_scale")
        cell = _wrapper(bk, m, attention_layer_size=U)
        decoder = bk.cl.BasicDecoder(cell, bk.cl.GreedyEmbeddingSampler(), output_layer=bk.dense(U, V),
                                     maximum_iterations=7)
        return decoder, [m]

    def run(bk, decoder):
        outputs, _, lengths = decoder(bk.float(embedding), start_tokens=bk.int([start] * B), end_token=end)
        return outputs, lengths

    tf_result, torch_result = _sync((tf_backend, torch_backend), build, run)
    np.testing.assert_array_equal(tf_result[0].sample_id, torch_result[0].sample_id)
    np.testing.assert_array_equal(tf_result[1], torch_result[1])
    assert_close(tf_result[0].rnn_output, torch_result[0].rnn_output, what="greedy logits")


def test_tf_function_matches_eager_with_memory_set_up_inside(tf_backend):
    import tensorflow as tf

    decoder, (m,) = _training_decoder(tf_backend, 6, True, mechanism="location")
    memory, lengths = tf_backend.float(MEMORY), tf_backend.int(LENGTHS)
    inputs, input_lengths = tf_backend.float(DECODER_INPUTS), tf_backend.int(DECODER_LENGTHS)

    def step(memory, lengths, inputs, input_lengths):
        m.setup_memory(memory, lengths)  # inside the step, as a training step does
        outputs, state, _ = decoder(inputs, sequence_length=input_lengths)
        return outputs.rnn_output, tf.transpose(state.alignment_history.stack(), [1, 0, 2])

    eager = step(memory, lengths, inputs, input_lengths)
    graph = tf.function(step)(memory, lengths, inputs, input_lengths)
    assert_close(eager, graph, atol=1e-6, what="eager vs tf.function")


def test_torch_gradients_reach_every_parameter(torch_backend):
    decoder, (m,) = _training_decoder(torch_backend, 6, False, mechanism="bahdanau_normalize")
    outputs, _, _ = decoder(torch_backend.float(DECODER_INPUTS), sequence_length=torch_backend.int(DECODER_LENGTHS))
    outputs.rnn_output.square().sum().backward()
    missing = [n for n, p in decoder.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


# -- known answers -------------------------------------------------------------------------------
def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_context_is_the_alignment_weighted_sum_of_memory_rows(backend):
    """Luong with an identity memory layer; a cell whose output is tanh(bias) = [0.6, 0]."""
    memory = np.array([[[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]], np.float32)  # the third row is padding
    m = backend.cl.LuongAttention(2, backend.float(memory), backend.int([2]))
    cell = backend.cl.AttentionWrapper(backend.cl.SimpleRNNCell(2), m)
    state = cell.get_initial_state(batch_size=1, dtype=backend.fw.float32)
    cell(backend.float([[0.0]]), state)
    backend.cl.import_weights(cell, {
        "attention_mechanism/memory_layer/kernel": np.eye(2, dtype=np.float32),
        "cell/kernel": np.zeros((3, 2), np.float32), "cell/recurrent_kernel": np.zeros((2, 2), np.float32),
        "cell/bias": np.array([math.atanh(0.6), 0.0], np.float32)})
    m.setup_memory(backend.float(memory), backend.int([2]))
    output, next_state = cell(backend.float([[0.0]]), state)
    e = math.exp(0.6)  # scores: 0.6 . [1, 0] = 0.6 and 0.6 . [0, 1] = 0
    expected_alignments = [[e / (e + 1), 1 / (e + 1), 0.0]]
    np.testing.assert_allclose(backend.np(next_state.alignments), expected_alignments, atol=1e-6)
    np.testing.assert_allclose(backend.np(output), [[e / (e + 1), 1 / (e + 1)]], atol=1e-6)
    assert backend.np(next_state.alignments)[0, 2] == 0.0


MEMORY_2X3 = np.array([[[1.0, 2.0], [0.5, -1.0], [0.0, 1.0]],
                       [[-1.0, 0.0], [2.0, 1.0], [1.0, 1.0]]], np.float32)  # (B=2, T=3, D=2)
QUERY_2 = np.array([[1.0, -1.0], [0.5, 2.0]], np.float32)
W_MEMORY = np.array([[1.0, 0.5], [-0.5, 1.0]], np.float32)
W_QUERY = np.array([[0.2, -0.3], [0.4, 0.1]], np.float32)
V_2 = np.array([1.5, -2.0], np.float32)


@pytest.mark.parametrize("scale", [False, True])
def test_luong_scores_by_hand(backend, scale):
    m = backend.cl.LuongAttention(2, backend.float(MEMORY_2X3), scale=scale)
    weights = {"memory_layer/kernel": W_MEMORY}
    if scale:
        weights["attention_g"] = np.float32(2.5)
    backend.cl.import_weights(m, weights)
    m.setup_memory(backend.float(MEMORY_2X3))
    alignments, _ = m(backend.float(QUERY_2), backend.float(np.zeros((2, 3))))
    keys = MEMORY_2X3 @ W_MEMORY  # (2, 3, 2)
    score = np.einsum("bu,btu->bt", QUERY_2, keys) * (2.5 if scale else 1.0)
    np.testing.assert_allclose(backend.np(alignments), _softmax(score), atol=1e-6)


@pytest.mark.parametrize("normalize", [False, True])
def test_bahdanau_scores_by_hand(backend, normalize):
    m = backend.cl.BahdanauAttention(2, backend.float(MEMORY_2X3), normalize=normalize)
    m(backend.float(QUERY_2), backend.float(np.zeros((2, 3))))  # build the query layer
    weights = {"memory_layer/kernel": W_MEMORY, "query_layer/kernel": W_QUERY, "attention_v": V_2}
    g, b = np.float32(0.8), np.array([0.1, -0.2], np.float32)
    if normalize:
        weights.update(attention_g=g, attention_b=b)
    backend.cl.import_weights(m, weights)
    m.setup_memory(backend.float(MEMORY_2X3))
    alignments, _ = m(backend.float(QUERY_2), backend.float(np.zeros((2, 3))))
    hidden = MEMORY_2X3 @ W_MEMORY + (QUERY_2 @ W_QUERY)[:, None, :]  # (2, 3, 2)
    v = V_2
    if normalize:
        hidden, v = hidden + b, g * V_2 / np.linalg.norm(V_2)
    score = np.tanh(hidden) @ v
    np.testing.assert_allclose(backend.np(alignments), _softmax(score), atol=1e-6)


def test_monotonic_attention_by_hand(backend):
    p = np.array([[0.5, 0.5, 0.5]], np.float32)
    previous = np.array([[1.0, 0.0, 0.0]], np.float32)
    for mode in ("recursive", "parallel"):
        got = backend.np(backend.cl.monotonic_attention(backend.float(p), backend.float(previous), mode))
        np.testing.assert_allclose(got, [[0.5, 0.25, 0.125]], atol=1e-6)
    hard = backend.cl.monotonic_attention(backend.float([[0, 1, 1]]), backend.float(previous), "hard")
    np.testing.assert_array_equal(backend.np(hard), [[0, 1, 0]])
    np.testing.assert_array_equal(backend.np(backend.cl.hardmax(backend.float([[1, 3, 3], [2, 0, 1]]))),
                                  [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(backend.np(backend.cl.safe_cumprod(backend.float([[0.5, 0.5, 0.0]]), axis=1)),
                               [[0.5, 0.25, 0.0]], atol=1e-7)


def test_a_learners_mechanism_needs_only_a_score(backend):
    """Subclass AttentionMechanism, define `_score`; masking and normalising come from the base."""
    fw = backend.fw

    class DotAttention(backend.cl.AttentionMechanism):
        def _score(self, query, state):
            return fw.einsum("btd,bd->bt", self.keys, query)  # keys are the memory itself

    m = DotAttention(backend.float(MEMORY), backend.int(LENGTHS))
    alignments, _ = m(backend.float(QUERIES[0][:, :D]))
    score = np.einsum("btd,bd->bt", MEMORY, QUERIES[0][:, :D])
    rows = LENGTHS > 0
    valid = (np.arange(T) < LENGTHS[:, None])[rows]
    expected = np.where(valid, _softmax(np.where(valid, score[rows], -np.inf)), 0.0)
    np.testing.assert_allclose(backend.np(alignments)[rows], expected, atol=1e-6)
    assert np.all(backend.np(alignments)[~rows] == 0.0)
    cell = backend.cl.AttentionWrapper(backend.cl.LSTMCell(D), m)  # the query is the cell output
    output, _ = cell(backend.float(np.zeros((B, E))), cell.get_initial_state(batch_size=B, dtype=fw.float32))
    assert backend.np(output).shape == (B, D)


def test_sigmoid_noise_is_seeded(backend):
    def alignments(noise, seed):
        m = _mechanism(backend, "bahdanau_monotonic_parallel", sigmoid_noise=noise, sigmoid_noise_seed=seed)
        m(backend.float(QUERIES[0]), m.initial_state(B, backend.fw.float32))
        backend.cl.import_weights(m, random_weights(backend.cl.export_weights(m), seed=5))
        m.setup_memory(backend.float(MEMORY), backend.int(LENGTHS))
        return backend.np(m(backend.float(QUERIES[0]), m.initial_state(B, backend.fw.float32))[0])

    np.testing.assert_array_equal(alignments(1.0, 7), alignments(1.0, 7))
    assert not np.allclose(alignments(1.0, 7), alignments(0.0, None))
    np.testing.assert_array_equal(alignments(0.0, 7), alignments(0.0, None))


def test_state_structure_clone_and_history(backend):
    m = _mechanism(backend, "location")
    cell = _wrapper(backend, m, attention_layer_size=6)
    size = cell.state_size
    assert size.cell_state == [H, H] and size.attention == 6 and size.alignments == T
    assert size.alignment_history == () and tuple(size.attention_state) == (T, T)
    assert cell.output_size == 6
    state = cell.get_initial_state(batch_size=B, dtype=backend.fw.float32)
    cell_state = [backend.float(np.ones((B, H))), backend.float(np.ones((B, H)))]
    assert np.all(backend.np(state.clone(cell_state=cell_state).cell_state[0]) == 1.0)
    with pytest.raises(ValueError, match="`cell_state`"):
        state.clone(cell_state=[backend.float(np.ones((B, H + 1)))] * 2)
    with pytest.raises(ValueError, match="alignment_history=True"):
        backend.cl.alignment_history_batch_major(state)
    monotonic = _mechanism(backend, "luong_monotonic_hard")
    np.testing.assert_array_equal(backend.np(monotonic.initial_alignments(2, backend.fw.float32)),
                                  np.eye(1, T).repeat(2, 0))


def test_memory_mask_equals_lengths(backend):
    mask = np.arange(T) < LENGTHS[:, None]
    a = _mechanism(backend, "bahdanau", memory=False)
    a.setup_memory(backend.float(MEMORY), memory_mask=mask if backend.name == "tf" else backend.fw.tensor(mask))
    first, _ = a(backend.float(QUERIES[0]))
    a.setup_memory(backend.float(MEMORY), backend.int(LENGTHS))
    second, _ = a(backend.float(QUERIES[0]))
    third, _ = a([backend.float(QUERIES[0]), a.initial_state(B, backend.fw.float32)])  # tfa's call style
    np.testing.assert_array_equal(backend.np(first), backend.np(second))
    np.testing.assert_array_equal(backend.np(first), backend.np(third))


# -- properties ----------------------------------------------------------------------------------
@st.composite
def memories(draw):
    b, t = draw(st.integers(1, 3)), draw(st.integers(1, 6))
    lengths = draw(st.lists(st.integers(0, t), min_size=b, max_size=b))
    seed = draw(st.integers(0, 2**16))
    return b, t, np.array(lengths), seed


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("cls", ["BahdanauAttention", "LuongAttention", "LocationSensitiveAttention",
                                 "BahdanauMonotonicAttention"])
@settings(max_examples=12, deadline=None)
@given(example=memories())
def test_alignments_are_distributions_over_valid_positions(backend_name, cls, example):
    bk = Backend(backend_name)
    b, t, lengths, seed = example
    rng = np.random.default_rng(seed)
    memory = rng.standard_normal((b, t, 3)).astype(np.float32) * 3
    kwargs = {"attention_kernel_size": 3, "attention_filters": 2} if cls.startswith("Location") else {}
    m = getattr(bk.cl, cls)(4, bk.float(memory), bk.int(lengths), **kwargs)
    alignments, _ = m(bk.float(rng.standard_normal((b, 4)) * 3), m.initial_state(b, bk.fw.float32))
    alignments = bk.np(alignments)
    valid = np.arange(t) < lengths[:, None]
    assert np.all(alignments >= 0)
    assert np.all(alignments[~valid] == 0.0)  # exactly, not nearly
    sums = alignments.sum(-1)
    if cls.endswith("MonotonicAttention"):
        assert np.all(sums <= 1 + 1e-5)
    else:
        np.testing.assert_allclose(sums, (lengths > 0).astype(np.float32), atol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), t=st.integers(1, 5), b=st.integers(1, 3))
def test_parallel_and_recursive_monotonic_modes_agree(backend_name, seed, t, b):
    bk = Backend(backend_name)
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, (b, t))
    previous = _softmax(rng.standard_normal((b, t)))
    parallel = bk.np(bk.cl.monotonic_attention(bk.float(p), bk.float(previous), "parallel"))
    recursive = bk.np(bk.cl.monotonic_attention(bk.float(p), bk.float(previous), "recursive"))
    np.testing.assert_allclose(parallel, recursive, atol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), t=st.integers(1, 6))
def test_hard_monotonic_mode_is_one_hot_for_binary_choices(backend_name, seed, t):
    bk = Backend(backend_name)
    rng = np.random.default_rng(seed)
    p = rng.integers(0, 2, (3, t)).astype(np.float32)
    start = rng.integers(0, t, 3)
    previous = np.eye(t, dtype=np.float32)[start]
    got = bk.np(bk.cl.monotonic_attention(bk.float(p), bk.float(previous), "hard"))
    for row in range(3):
        chosen = [j for j in range(start[row], t) if p[row, j] == 1]
        expected = np.eye(t)[chosen[0]] if chosen else np.zeros(t)
        np.testing.assert_array_equal(got[row], expected)


# -- errors ------------------------------------------------------------------------------------
def test_bad_memory_and_lengths_are_named(backend):
    cl = backend.cl
    with pytest.raises(ValueError, match="`memory`.*3-D.*2-D"):
        cl.BahdanauAttention(U, backend.float(MEMORY[0]))
    with pytest.raises(ValueError, match="`memory_sequence_length`.*batch"):
        cl.BahdanauAttention(U, backend.float(MEMORY), backend.int(LENGTHS[:3]))
    with pytest.raises(ValueError, match=r"`memory_sequence_length`.*\[0, 6\]"):
        cl.LuongAttention(U, backend.float(MEMORY), backend.int([7, 1, 1, 1]))
    with pytest.raises(ValueError, match="`memory`.*never set up"):
        cl.BahdanauAttention(U)(backend.float(QUERIES[0]))
    with pytest.raises(ValueError, match="`mode`"):
        cl.BahdanauMonotonicAttention(U, mode="soft")
    with pytest.raises(ValueError, match="`units`"):
        cl.LuongAttention(0)
    with pytest.raises(ValueError, match="`probability_fn`"):
        cl.LuongAttention(U, probability_fn="sparsemax")


def test_luong_query_depth_must_equal_units(backend):
    m = backend.cl.LuongAttention(U + 1, backend.float(MEMORY))
    with pytest.raises(ValueError, match="`query`.*`units` = 8"):
        m(backend.float(QUERIES[0]))


def test_bad_wrapper_arguments_are_named(backend):
    cl = backend.cl
    mechanisms = [_mechanism(backend, "bahdanau"), _mechanism(backend, "luong")]
    with pytest.raises(ValueError, match="`attention_layer_size`.*2"):
        _wrapper(backend, mechanisms, attention_layer_size=[4, 4, 4])
    with pytest.raises(ValueError, match="`attention_layer_size`.*2"):
        _wrapper(backend, mechanisms, attention_layer_size=4)
    with pytest.raises(TypeError, match="`attention_mechanism`"):
        _wrapper(backend, "bahdanau")
    with pytest.raises(TypeError, match="`cell`"):
        cl.AttentionWrapper(object(), mechanisms[0])
    cell = _wrapper(backend, mechanisms[0])
    with pytest.raises(ValueError, match="`batch_size`.*tile_batch"):
        cell.get_initial_state(batch_size=B * 3, dtype=backend.fw.float32)
    with pytest.raises(TypeError, match="`state`.*AttentionWrapperState"):
        cell(backend.float(np.zeros((B, E))), backend.float(np.zeros((B, H))))
