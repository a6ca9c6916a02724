"""Decode traces: ``DecodeTrace`` checks, NumPy ``gather_tree``, and ``TraceDecoder`` recording real
tiny decodes in both backends (greedy, sampling, teacher forcing, scheduled sampling, attention,
beam search), one format for both (parity)."""

import importlib

import numpy as np
import pytest

from course_lib.common.trace import DecodeTrace, TraceRecorder, feed_back, gather_tree, top_k_of
from tests.conftest import random_weights

B, V, E, H, S, D = 3, 7, 4, 6, 5, 3  # batch, vocabulary, embedding, hidden, memory time / depth
START, END = 1, 0
RNG = np.random.default_rng(0)
EMBEDDING = RNG.standard_normal((V, E)).astype(np.float32)
MEMORY = RNG.standard_normal((B, S, D)).astype(np.float32)
MEMORY_LENGTHS = np.array([S, 2, 1])
TARGET_IDS = np.array([[1, 2, 3, 4], [1, 5, 6, 0], [1, 3, 0, 0]])  # ground truth, START first
TARGET_LENGTHS = np.array([4, 1, 0])  # ragged, with lengths 1 and 0


def tracer_class(bk):
    return importlib.import_module(f"course_lib.{bk.name}.trace").TraceDecoder


def loaded(bk, decoder, build, weights=None, seed=0, end_bias=0.0):
    """Build ``decoder``'s layers with ``build()``, then load seeded random weights (or ``weights``)."""
    build()
    if weights is None:
        weights = random_weights(bk.cl.export_weights(decoder), seed=seed)
        if "output_layer/bias" in weights:
            weights["output_layer/bias"][END] += end_bias
    bk.cl.import_weights(decoder, weights)
    return weights


def attention_cell(bk, beam_width=1, alignment_history=False):
    cl = bk.cl
    memory = cl.tile_batch(bk.float(MEMORY), beam_width) if beam_width > 1 else bk.float(MEMORY)
    lengths = cl.tile_batch(bk.int(MEMORY_LENGTHS), beam_width) if beam_width > 1 else bk.int(MEMORY_LENGTHS)
    mechanism = cl.BahdanauAttention(H, memory=memory, memory_sequence_length=lengths)
    cell = cl.AttentionWrapper(cl.GRUCell(H), mechanism, attention_layer_size=H, alignment_history=alignment_history)
    return cell, mechanism, (memory, lengths)


def greedy_decoder(bk, sampler=None, attention=False, maximum_iterations=6):
    cl = bk.cl
    cell, mechanism, memory = attention_cell(bk) if attention else (cl.GRUCell(H), None, None)
    decoder = cl.BasicDecoder(cell, sampler or cl.GreedyEmbeddingSampler(), bk.dense(H, V),
                              maximum_iterations=maximum_iterations)
    return decoder, mechanism, memory


def greedy_call(bk, decoder):
    return decoder(bk.float(EMBEDDING), start_tokens=bk.int([START] * B), end_token=END)


# -- the framework-free parts -----------------------------------------------------------------------

def test_gather_tree_hand_made():
    # tfa's case (max_time 3, batch 2, beam 3), written batch-major and transposed
    step_ids = np.array([[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[2, 3, 4], [5, 6, 7], [8, 9, 10]]]).transpose(1, 0, 2)
    parents = np.array([[[0, 0, 0], [0, 1, 1], [2, 1, 2]], [[0, 0, 0], [1, 2, 0], [2, 1, 1]]]).transpose(1, 0, 2)
    expected = np.array([[[2, 2, 2], [6, 5, 6], [7, 8, 9]], [[2, 4, 4], [7, 6, 6], [8, 9, 10]]]).transpose(1, 0, 2)
    np.testing.assert_array_equal(gather_tree(step_ids, parents, [3, 3], 11), expected)
    # an end token on the path pads the rest; a shorter max length pads the tail
    step_ids = np.array([[3, 4], [5, 1], [6, 7], [8, 9]])[:, None, :]
    parents = np.array([[0, 0], [0, 0], [1, 0], [0, 1]])[:, None, :]
    np.testing.assert_array_equal(gather_tree(step_ids, parents, [4], 1)[:, 0], [[3, 3], [1, 5], [1, 7], [1, 9]])
    np.testing.assert_array_equal(gather_tree(step_ids, parents, [3], 1)[:, 0], [[3, 3], [1, 5], [1, 7], [1, 1]])


def test_gather_tree_matches_the_backends(backend):
    rng = np.random.default_rng(1)
    for T, batch, width in [(1, 1, 1), (5, 3, 4), (7, 2, 3)]:
        step_ids = rng.integers(0, 6, (T, batch, width))
        parents = rng.integers(0, width, (T, batch, width))
        lengths = rng.integers(0, T + 2, batch)
        want = backend.np(backend.cl.gather_tree(backend.int(step_ids), backend.int(parents), backend.int(lengths), 5))
        np.testing.assert_array_equal(gather_tree(step_ids, parents, lengths, 5), want)


def test_top_k_is_sorted_and_ties_go_to_the_lower_id():
    ids, probs = top_k_of(np.array([[0.0, 2.0, 2.0, 1.0, -1.0]]), 3)
    np.testing.assert_array_equal(ids, [[1, 2, 3]])
    p = np.exp([0.0, 2.0, 2.0, 1.0, -1.0]) / np.exp([0.0, 2.0, 2.0, 1.0, -1.0]).sum()
    np.testing.assert_allclose(probs, [p[[1, 2, 3]]])
    _, hot = top_k_of(np.array([[0.0, 2.0, 1.0]]), 5, temperature=0.5)  # k past V is cut to V
    assert hot.shape == (1, 3) and hot[0, 0] > probs[0, 0]


def test_feed_back_of_each_sampler_kind():
    truth = np.array([[1, 2, 3], [1, 4, 5]])
    ids, fed = feed_back("sample", 0, np.array([6, 0]), truth)
    assert ids.tolist() == [6, 0] and fed.tolist() == [True, True]
    ids, fed = feed_back("teacher_forcing", 0, np.array([6, 0]), truth)
    assert ids.tolist() == [2, 4] and fed.tolist() == [False, False]
    ids, fed = feed_back("teacher_forcing", 2, np.array([6, 0]), truth)  # past the ground truth: unknown
    assert ids.tolist() == [-1, -1]
    ids, fed = feed_back("scheduled_embedding", 1, np.array([-1, 6]), truth)
    assert ids.tolist() == [3, 6] and fed.tolist() == [False, True]
    ids, fed = feed_back("scheduled_output", 1, np.array([True, False]), truth)
    assert ids.tolist() == [-1, 5] and fed.tolist() == [True, False]
    assert feed_back("other", 0, np.array([1, 2])) == (None, None)


def _basic_trace(**changes):
    fields = dict(sample_ids=np.zeros((3, 2), int), finished=np.zeros((3, 2), bool), lengths=np.ones((3, 2), int))
    fields.update(changes)
    return DecodeTrace(**fields)


@pytest.mark.parametrize("changes, message", [
    (dict(sample_ids=np.zeros(3, int)), r"`sample_ids` must be \[T, B\]"),
    (dict(finished=np.zeros((3, 3), bool)), r"`finished` must have the shape of `sample_ids` \[3, 2\]"),
    (dict(input_ids=np.zeros((2, 2), int)), r"`input_ids` must have the shape"),
    (dict(top_k_ids=np.zeros((3, 2, 2), int)), "give both or neither"),
    (dict(top_k_ids=np.zeros((3, 2, 2), int), top_k_probs=np.array([[[0.1, 0.5]] * 2] * 3)), "sorted best first"),
    (dict(top_k_ids=np.zeros((3, 2, 2), int), top_k_probs=np.full((3, 2, 2), np.nan)), "without NaN"),
    (dict(alignments=np.full((3, 2, 4), -0.5)), r"`alignments` holds a negative weight"),
    (dict(alignments=np.full((3, 2, 4), np.nan)), r"`alignments` holds NaN"),
    (dict(alignments=np.zeros((3, 4))), r"`alignments` must be \[3, 2, 'S'\]"),
    (dict(parent_ids=np.zeros((3, 2), int)), "`parent_ids` belongs to beam search"),
    (dict(initial_finished=np.zeros(3, bool)), r"`initial_finished` must be \[2\]"),
])
def test_decode_trace_names_what_is_wrong(changes, message):
    with pytest.raises(ValueError, match=message):
        _basic_trace(**changes)


def test_beam_trace_needs_parents_in_range():
    grid = (2, 1, 3)
    common = dict(sample_ids=np.zeros(grid, int), finished=np.zeros(grid, bool), lengths=np.ones(grid, int))
    with pytest.raises(ValueError, match="needs `parent_ids` and `scores`"):
        DecodeTrace(**common)
    with pytest.raises(ValueError, match=r"`parent_ids` must lie in \[0, W = 3\)"):
        DecodeTrace(**common, parent_ids=np.full(grid, 3), scores=np.zeros(grid))
    with pytest.raises(ValueError, match="`scores` holds NaN"):
        DecodeTrace(**common, parent_ids=np.zeros(grid, int), scores=np.full(grid, np.nan))
    trace = DecodeTrace(**common, parent_ids=np.zeros(grid, int), scores=np.zeros(grid), end_token=0)
    assert trace.is_beam_search and trace.beam_width == 3 and "beam search, W=3" in repr(trace)


def test_recorder_counts_lengths_as_dynamic_decode():
    rec = TraceRecorder(top_k=2)
    rec.start(finished=[False, False, True], input_ids=[1, 1, 1], sampler="Greedy")
    rec.record(0, np.zeros((3, 2)), [4, 0, 0], [False, True, True], next_input_ids=[4, 0, 0], fed_back_sample=True,
               logits=np.array([[0, 0, 0, 0, 5.0], [5.0, 0, 0, 0, 0], [1.0, 0, 0, 0, 0]]))
    rec.record(1, np.zeros((3, 2)), [0, 3, 3], [True, False, False], next_input_ids=[0, 3, 3], fed_back_sample=True)
    trace = rec.trace()
    np.testing.assert_array_equal(trace.lengths, [[1, 1, 0], [2, 1, 0]])
    np.testing.assert_array_equal(trace.finished, [[False, True, True], [True, True, True]])  # OR-ed
    np.testing.assert_array_equal(trace.input_ids, [[1, 1, 1], [4, 0, 0]])
    assert trace.top_k_ids is None  # one step without logits: no top-k for the trace
    assert trace.inputs is None  # every input id known: no vectors kept
    with pytest.raises(RuntimeError, match="start"):
        TraceRecorder().record(0, [[0.0]], [0], [True])


# -- TraceDecoder on real decodes -----------------------------------------------------------------------

def test_greedy_trace(backend):
    decoder, _, _ = greedy_decoder(backend)
    weights = loaded(backend, decoder, lambda: greedy_call(backend, decoder), seed=2, end_bias=1.0)
    plain = backend.np(greedy_call(backend, decoder))
    tracer = tracer_class(backend)(decoder, top_k=3)
    outputs, _, lengths = backend.np(greedy_call(backend, tracer))
    np.testing.assert_array_equal(outputs.sample_id, plain[0].sample_id)  # the results are unchanged
    np.testing.assert_allclose(outputs.rnn_output, plain[0].rnn_output, atol=1e-6)
    trace = tracer.trace
    assert trace.sampler == "GreedyEmbeddingSampler" and trace.end_token == END and weights
    assert (trace.num_steps, trace.batch_size, trace.top_k) == (outputs.sample_id.shape[1], B, 3)
    np.testing.assert_array_equal(trace.sample_ids, outputs.sample_id.T)
    np.testing.assert_array_equal(trace.lengths[-1], lengths)
    np.testing.assert_array_equal(trace.input_ids[0], [START] * B)
    np.testing.assert_array_equal(trace.input_ids[1:], trace.sample_ids[:-1])  # greedy feeds its picks back
    np.testing.assert_array_equal(trace.next_input_ids, trace.sample_ids)
    assert trace.fed_back_sample.all() and trace.inputs is None
    np.testing.assert_array_equal(trace.top_k_ids[..., 0], trace.sample_ids)  # greedy = top-1
    logits = outputs.rnn_output.transpose(1, 0, 2)  # (T, B, V)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    np.testing.assert_allclose(trace.top_k_probs, -np.sort(-probs, axis=-1)[..., :3], atol=1e-5)
    ended = trace.sample_ids == END
    np.testing.assert_array_equal(trace.finished, np.logical_or.accumulate(ended, axis=0))


def test_teacher_forcing_trace_with_ragged_lengths(backend):
    cl = backend.cl
    decoder = cl.BasicDecoder(cl.GRUCell(H), cl.TrainingSampler(), backend.dense(H, V))
    inputs = backend.float(EMBEDDING[TARGET_IDS])
    loaded(backend, decoder, lambda: decoder(inputs, sequence_length=backend.int(TARGET_LENGTHS)))
    plain = backend.np(decoder(inputs, sequence_length=backend.int(TARGET_LENGTHS)))
    tracer = tracer_class(backend)(decoder, top_k=2)
    outputs, _, lengths = backend.np(tracer(inputs, sequence_length=backend.int(TARGET_LENGTHS), input_ids=TARGET_IDS))
    np.testing.assert_allclose(outputs.rnn_output, plain[0].rnn_output, atol=1e-5)  # loop = fused path
    trace = tracer.trace
    T = int(TARGET_LENGTHS.max())
    assert trace.num_steps == T and trace.sampler == "TrainingSampler"
    np.testing.assert_array_equal(trace.input_ids, TARGET_IDS[:, :T].T)
    np.testing.assert_array_equal(trace.next_input_ids[:-1], TARGET_IDS[:, 1:T].T)  # the ground truth goes back
    assert not trace.fed_back_sample.any()
    np.testing.assert_array_equal(trace.lengths[-1], lengths)
    np.testing.assert_array_equal(trace.lengths[-1], TARGET_LENGTHS)
    np.testing.assert_array_equal(trace.initial_finished, TARGET_LENGTHS == 0)
    # without input_ids only the vectors are known
    tracer(inputs, sequence_length=backend.int(TARGET_LENGTHS))
    assert (tracer.trace.input_ids == -1).all()
    np.testing.assert_allclose(tracer.trace.inputs, EMBEDDING[TARGET_IDS[:, :T]].transpose(1, 0, 2), atol=1e-6)


def test_sampling_trace_feeds_back_the_sample(backend):
    cl = backend.cl
    decoder, _, _ = greedy_decoder(backend, cl.SampleEmbeddingSampler(softmax_temperature=0.5, seed=3))
    loaded(backend, decoder, lambda: greedy_call(backend, decoder), seed=4)
    tracer = tracer_class(backend)(decoder, top_k=V)
    outputs, _, _ = backend.np(greedy_call(backend, tracer))
    trace = tracer.trace
    np.testing.assert_array_equal(trace.sample_ids, outputs.sample_id.T)
    np.testing.assert_array_equal(trace.input_ids[1:], trace.sample_ids[:-1])
    assert trace.fed_back_sample.all()
    logits = outputs.rnn_output.transpose(1, 0, 2) / 0.5  # the distribution the sampler drew from
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    np.testing.assert_allclose(trace.top_k_probs, -np.sort(-probs, axis=-1), atol=1e-5)


def test_scheduled_sampling_trace_says_which_rows_fed_their_sample(backend):
    cl = backend.cl
    sampler = cl.ScheduledEmbeddingTrainingSampler(0.5, seed=1, scheduling_seed=2)
    decoder = cl.BasicDecoder(cl.GRUCell(H), sampler, backend.dense(H, V))
    full = np.array([4, 4, 4])
    inputs = backend.float(EMBEDDING[TARGET_IDS])

    def call(d, **kw):
        return d(inputs, sequence_length=backend.int(full), embedding=backend.float(EMBEDDING), **kw)

    loaded(backend, decoder, lambda: call(decoder))
    tracer = tracer_class(backend)(decoder)
    outputs, _, _ = backend.np(call(tracer, input_ids=TARGET_IDS))
    trace = tracer.trace
    sampled = trace.sample_ids > -1
    np.testing.assert_array_equal(trace.fed_back_sample, sampled)
    want_next = np.where(sampled[:-1], trace.sample_ids[:-1], TARGET_IDS[:, 1:].T)
    np.testing.assert_array_equal(trace.next_input_ids[:-1], want_next)
    np.testing.assert_array_equal(trace.input_ids[1:], trace.next_input_ids[:-1])


def test_attention_trace_records_each_steps_alignments(backend):
    cl = backend.cl
    cell, mechanism, memory = attention_cell(backend, alignment_history=True)
    decoder = cl.BasicDecoder(cell, cl.GreedyEmbeddingSampler(), backend.dense(H, V), maximum_iterations=5)
    loaded(backend, decoder, lambda: greedy_call(backend, decoder), seed=5)
    mechanism.setup_memory(*memory)
    tracer = tracer_class(backend)(decoder)
    _, state, _ = greedy_call(backend, tracer)
    trace = tracer.trace
    history = backend.np(cl.alignment_history_batch_major(state))  # (B, T, S)
    assert trace.alignments.shape == (trace.num_steps, B, S)
    np.testing.assert_allclose(trace.alignments, history.transpose(1, 0, 2), atol=1e-6)
    past = np.arange(S)[None, None, :] >= MEMORY_LENGTHS[None, :, None]
    assert (trace.alignments[np.broadcast_to(past, trace.alignments.shape)] == 0).all()  # padding: exactly 0
    np.testing.assert_allclose(trace.alignments.sum(-1), 1.0, atol=1e-5)
    # into the explorer: each row's steps up to its length, over its own source tokens
    from course_lib.common.widgets import AlignmentExplorer

    source = [[f"s{i}" for i in range(n)] for n in MEMORY_LENGTHS]
    explorer = AlignmentExplorer.from_trace(trace, source, vocab=[f"v{i}" for i in range(V)])
    for row in range(B):
        explorer.select(example=row, step=0)
        assert explorer.target_tokens[row] == [f"v{i}" for i in trace.sample_ids[:trace.lengths[-1, row], row]]
        np.testing.assert_allclose(explorer.matrix(), history[row, :trace.lengths[-1, row], :MEMORY_LENGTHS[row]])


def test_traces_of_both_backends_agree(tf_backend, torch_backend):
    """The same weights in both backends give the same trace: one format, the same numbers."""
    traces, weights = [], None
    for bk in (tf_backend, torch_backend):
        decoder, mechanism, memory = greedy_decoder(bk, attention=True)
        weights = loaded(bk, decoder, lambda: greedy_call(bk, decoder), weights=weights, seed=6, end_bias=1.0)
        mechanism.setup_memory(*memory)  # keys again, from the imported weights
        tracer = tracer_class(bk)(decoder, top_k=4)
        greedy_call(bk, tracer)
        traces.append(tracer.trace)
    a, b = traces
    for name in ("sample_ids", "finished", "lengths", "input_ids", "next_input_ids", "fed_back_sample", "top_k_ids"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_allclose(a.top_k_probs, b.top_k_probs, atol=1e-5)
    np.testing.assert_allclose(a.alignments, b.alignments, atol=1e-5)


def test_tf_trace_refuses_tf_function(tf_backend):
    import tensorflow as tf

    decoder, _, _ = greedy_decoder(tf_backend)
    tracer = tracer_class(tf_backend)(decoder)
    with pytest.raises(RuntimeError, match="runs eagerly only"):
        tf.function(lambda: greedy_call(tf_backend, tracer)[0].sample_id)()


def test_trace_decoder_arguments_and_empty_decodes(backend):
    TraceDecoder = tracer_class(backend)
    with pytest.raises(TypeError, match="`decoder` must be"):
        TraceDecoder(backend.cl.GRUCell(H))
    decoder, _, _ = greedy_decoder(backend, maximum_iterations=0)
    with pytest.raises(ValueError, match="`top_k` must be an int >= 0"):
        TraceDecoder(decoder, top_k=-1)
    tracer = TraceDecoder(decoder)
    with pytest.raises(RuntimeError, match="nothing recorded"):
        tracer.trace
    greedy_call(backend, tracer)
    assert tracer.trace.num_steps == 0 and tracer.trace.batch_size == B


# -- beam search -------------------------------------------------------------------------------------------

W = 3


def beam_decoder(bk, attention=False, **kwargs):
    cl = bk.cl
    if attention:
        cell, mechanism, memory = attention_cell(bk, beam_width=W, alignment_history=True)
    else:
        cell, mechanism, memory = cl.GRUCell(H), None, None
    decoder = cl.BeamSearchDecoder(cell, W, output_layer=bk.dense(H, V), maximum_iterations=6, **kwargs)

    def call(d):
        return d(bk.float(EMBEDDING), start_tokens=bk.int([START] * B), end_token=END)
    return decoder, call, mechanism, memory


@pytest.mark.parametrize("kwargs", [{}, {"length_penalty_weight": 0.6, "output_all_scores": True}])
def test_beam_trace_matches_the_decoder_and_gather_tree(backend, kwargs):
    from course_lib.common.widgets import beam_tree

    decoder, call, _, _ = beam_decoder(backend, **kwargs)
    loaded(backend, decoder, lambda: call(decoder), seed=7, end_bias=1.5)
    tracer = tracer_class(backend)(decoder)
    outputs, state, lengths = backend.np(call(tracer))
    trace = tracer.trace
    raw = outputs.beam_search_decoder_output
    T = trace.num_steps
    assert trace.is_beam_search and trace.beam_width == W and trace.sample_ids.shape == (T, B, W)
    np.testing.assert_array_equal(trace.sample_ids, raw.predicted_ids.transpose(1, 0, 2))
    np.testing.assert_array_equal(trace.parent_ids, raw.parent_ids.transpose(1, 0, 2))
    scores = raw.scores.transpose(1, 0, 2, *range(3, raw.scores.ndim))  # (T, B, W) or (T, B, W, V): all candidates
    if scores.ndim == 4:  # the survivors' scores are those of (parent, token)
        t, b, w = np.indices((T, B, W))
        scores = scores[t, b, trace.parent_ids, trace.sample_ids]
    np.testing.assert_allclose(trace.scores, scores, atol=1e-6)
    np.testing.assert_array_equal(trace.lengths[-1], state.lengths)
    np.testing.assert_allclose(trace.log_probs[-1], state.log_probs, atol=1e-6)
    np.testing.assert_array_equal(trace.input_ids[0], np.full((B, W), START))
    np.testing.assert_array_equal(trace.input_ids[1:], trace.sample_ids[:-1])
    assert trace.finished[-1].all() or T == 6
    # traced back: as the decoder's finalize and as the backend's gather_tree
    final = trace.final_beams()
    np.testing.assert_array_equal(final, outputs.predicted_ids.transpose(1, 0, 2))
    want = backend.np(backend.cl.gather_tree(backend.int(trace.sample_ids), backend.int(trace.parent_ids),
                                             backend.int(state.lengths.max(axis=1)), END))
    np.testing.assert_array_equal(final, want)
    # the beam tree: an edge per slot and step to its parent; each final path spells the final beam
    for row in range(B):
        tree = beam_tree(trace, row)
        assert sorted(tree.edges) == sorted(((t - 1, int(trace.parent_ids[t, row, w])), (t, w))
                                            for t in range(T) for w in range(W))
        for w in range(W):
            L = len(tree.paths[w])
            assert L == min(T, int(state.lengths[row].max()))
            np.testing.assert_array_equal(tree.path_tokens(w), gather_tree(
                trace.sample_ids, trace.parent_ids, state.lengths.max(axis=1), -1)[:L, row, w])
            np.testing.assert_array_equal(tree.hypotheses[w][0][-1:], [final[len(tree.hypotheses[w][0]) - 1, row, w]])
        for node in tree.nodes.values():  # alive (not pruned) = on a final beam's path
            assert node.alive == any((node.step, node.slot) in path for path in tree.paths)


def test_beam_trace_with_attention(backend):
    cl = backend.cl
    decoder, call, mechanism, memory = beam_decoder(backend, attention=True)
    loaded(backend, decoder, lambda: call(decoder), seed=8, end_bias=1.0)
    mechanism.setup_memory(*memory)
    tracer = tracer_class(backend)(decoder)
    _, state, _ = call(tracer)
    trace = tracer.trace
    T = trace.num_steps
    assert trace.alignments.shape == (T, B, W, S)
    np.testing.assert_allclose(trace.alignments.sum(-1), 1.0, atol=1e-5)
    # the decoder's reordered history follows each final beam through the slots of the tree
    # (up to the beam's own length; past it tfa keeps column w)
    from course_lib.common.widgets import beam_tree

    history = backend.np(cl.BeamSearchDecoder.alignment_history(state))  # (B, W, T, S)
    lengths = backend.np(state.lengths)
    for row in range(B):
        tree = beam_tree(trace, row)
        for w, path in enumerate(tree.paths):
            for t, slot in path[:lengths[row, w]]:
                np.testing.assert_allclose(history[row, w, t], trace.alignments[t, row, slot], atol=1e-5)
    # into the explorer: final beam 0's steps
    from course_lib.common.widgets import AlignmentExplorer

    source = [[f"s{i}" for i in range(n)] for n in MEMORY_LENGTHS]
    explorer = AlignmentExplorer.from_trace(trace, source, beam=0)
    for row in range(B):
        explorer.select(example=row)
        steps = len(beam_tree(trace, row).hypotheses[0][0])
        assert explorer.num_steps() == steps
        np.testing.assert_allclose(explorer.matrix(), history[row, 0, :steps, :MEMORY_LENGTHS[row]], atol=1e-5)
