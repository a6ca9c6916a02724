"""The exercise checkers of chapters 4-6 (``course_lib.<backend>.exercises_ch4_6``): they accept the
solutions in notebooks/solutions/ and reject wrong answers with a message that names what is wrong
(shape, value, which row, step or beam) and a hint.

Wrong answers are the solutions with one thing broken (a subclass overriding one method, or a
function wrapped around the solution), so each test names exactly the slip it checks.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from course_lib.common import exercises_ch4_6 as common

ROOT = Path(__file__).resolve().parents[1]

#: checker name -> (chapter, the solution's name)
SOLVED_BY = {
    "check_feed_mask_sampler": ("04_custom_helper", "FeedMaskSampler"),
    "check_frame_sampler": ("04_custom_helper", "make_frame_sampler"),
    "check_top_k_sampler": ("04_custom_helper", "TopKSampler"),
    "check_tile_batch": ("05_custom_decoder", "my_tile_batch"),
    "check_length_penalty": ("05_custom_decoder", "gnmt_scores"),
    "check_gather_tree": ("05_custom_decoder", "my_gather_tree"),
    "check_context": ("06_attention", "context_vectors"),
    "check_bahdanau_score": ("06_attention", "normalized_bahdanau_score"),
    "check_masked_softmax": ("06_attention", "masked_softmax"),
}

_loaded = {}


def solutions(backend_name: str, chapter: str):
    """The solutions module ``notebooks/solutions/<backend>/<chapter>.py``, loaded once."""
    key = (backend_name, chapter)
    if key not in _loaded:
        path = ROOT / "notebooks" / "solutions" / backend_name / f"{chapter}.py"
        spec = importlib.util.spec_from_file_location(f"solutions46_{backend_name}_{chapter}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[key] = module
    return _loaded[key]


def exercises(bk):
    return importlib.import_module(f"course_lib.{bk.name}.exercises_ch4_6")


def solution(bk, checker):
    chapter, name = SOLVED_BY[checker]
    return getattr(solutions(bk.name, chapter), name)


def check(bk, checker, answer):
    return getattr(exercises(bk), checker)(answer)


def rejects(result, kind, *words):
    """The result failed with ``kind`` and its message holds every word in ``words`` and a hint."""
    assert not result, f"accepted a wrong answer: {result.message}"
    assert result.kind == kind, result.message
    for word in words:
        assert word in result.message, f"{word!r} not in {result.message!r}"
    assert "hint:" in result.message, result.message


# -- the solutions pass; both backends define the same checkers ---------------------------------

def test_both_backends_define_the_same_checkers(tf_backend, torch_backend):
    tf_ex, torch_ex = exercises(tf_backend), exercises(torch_backend)
    assert tf_ex.__all__ == torch_ex.__all__
    assert set(SOLVED_BY) == {n for n in tf_ex.__all__ if n.startswith("check_")}
    for name in tf_ex.__all__:
        assert callable(getattr(tf_ex, name)) and callable(getattr(torch_ex, name))


@pytest.mark.parametrize("checker", sorted(SOLVED_BY))
def test_solutions_pass(backend, checker, capsys):
    result = check(backend, checker, solution(backend, checker))
    assert result, result.message
    assert capsys.readouterr().out.startswith(f"✓ {checker}:")


@pytest.mark.parametrize("checker", sorted(SOLVED_BY))
def test_a_stub_is_not_implemented_yet_and_a_crash_is_a_message(backend, checker):
    def stub(*args, **kwargs):
        raise NotImplementedError

    result = check(backend, checker, stub)
    assert not result and result.kind == "not implemented yet", result.message
    assert "hint:" in result.message

    def crash(*args, **kwargs):
        raise KeyError("oops")

    result = check(backend, checker, crash)
    assert not result and result.kind == "error", result.message
    assert "KeyError" in result.message and "line" in result.message


# -- chapter 4 -----------------------------------------------------------------------------------

def _sampler_variant(bk, next_inputs):
    """The FeedMaskSampler solution with another ``next_inputs``."""
    base = solution(bk, "check_feed_mask_sampler")
    return type("Wrong", (base,), {"next_inputs": next_inputs})


def test_feed_mask_sampler_one_step_late(backend):
    fw = backend.fw

    def next_inputs(self, time, outputs, state, sample_ids):  # feed_sample[:, time] for step time + 1
        finished = time + 1 >= self.sequence_length
        T = self.inputs.shape[1]
        t = fw.minimum(time + 1, T - 1) if backend.name == "tf" else min(time + 1, T - 1)
        embedded = (fw.nn.embedding_lookup(self.embedding, sample_ids) if backend.name == "tf"
                    else fw.nn.functional.embedding(sample_ids, self.embedding))
        use = self.feed_sample[:, time][:, None]
        return finished, fw.where(use, embedded, self.inputs[:, t]), state

    rejects(check(backend, "check_feed_mask_sampler", _sampler_variant(backend, next_inputs)), "value",
            "one step late", "feed_sample[:, time + 1]")


def test_feed_mask_sampler_that_ignores_the_mask_names_the_step(backend):
    fw = backend.fw

    def next_inputs(self, time, outputs, state, sample_ids):  # plain teacher forcing
        finished = time + 1 >= self.sequence_length
        T = self.inputs.shape[1]
        t = fw.minimum(time + 1, T - 1) if backend.name == "tf" else min(time + 1, T - 1)
        return finished, self.inputs[:, t], state

    rejects(check(backend, "check_feed_mask_sampler", _sampler_variant(backend, next_inputs)), "value",
            "`rnn_output` at row", "step", "must read the embedding of the token picked at step")


def test_feed_mask_sampler_that_feeds_ids(backend):
    def next_inputs(self, time, outputs, state, sample_ids):  # ids where the cell needs embeddings
        finished = time + 1 >= self.sequence_length
        return finished, sample_ids, state

    rejects(check(backend, "check_feed_mask_sampler", _sampler_variant(backend, next_inputs)), "error",
            "raised", "embeddings, not ids")


def test_feed_mask_sampler_must_be_a_sampler(backend):
    class NotASampler:
        def __init__(self, feed_sample):
            pass

    rejects(check(backend, "check_feed_mask_sampler", NotASampler), "structure", "subclass of cl.Sampler")


def _frame_variant(bk, **changes):
    """make_frame_sampler's InferenceSampler with some of its functions or declarations replaced."""
    cl = bk.cl

    def make(r, depth, silence):
        right = solution(bk, "check_frame_sampler")(r, depth, silence)
        fns = dict(sample_fn=right.sample_fn, sample_shape=list(right.sample_ids_shape),
                   sample_dtype=right.sample_ids_dtype, end_fn=right.end_fn, next_inputs_fn=right.next_inputs_fn)
        for key, value in changes.items():
            fns[key] = value(r, depth, silence) if callable(value) else value
        return cl.InferenceSampler(**fns)
    return make


def test_frame_sampler_that_feeds_the_first_frame(backend):
    wrong = _frame_variant(backend, next_inputs_fn=lambda r, depth, silence: (lambda frames: frames[:, :depth]))
    rejects(check(backend, "check_frame_sampler", wrong), "value", "first frame", "outputs[:, -depth:]")


def test_frame_sampler_that_only_hears_the_last_frame(backend):
    fw = backend.fw

    def end_fn(r, depth, silence):
        if backend.name == "tf":
            return lambda frames: fw.reduce_max(fw.abs(frames[:, -depth:]), axis=-1) < silence
        return lambda frames: frames[:, -depth:].abs().amax(dim=-1) < silence

    rejects(check(backend, "check_frame_sampler", _frame_variant(backend, end_fn=end_fn)), "value",
            "finished[1] should be False", "not silent")


def test_frame_sampler_with_a_wrong_sample_shape(backend):
    wrong = _frame_variant(backend, sample_shape=lambda r, depth, silence: [depth])
    rejects(check(backend, "check_frame_sampler", wrong), "value", "sample_shape must be [3]")


def test_frame_sampler_must_return_an_inference_sampler(backend):
    rejects(check(backend, "check_frame_sampler", lambda r, depth, silence: None), "structure",
            "cl.InferenceSampler")


def _top_k_variant(bk, sample):
    base = solution(bk, "check_top_k_sampler")
    return type("Wrong", (base,), {"sample": sample})


def test_top_k_sampler_drawing_uniformly(backend):
    fw = backend.fw

    def sample(self, time, outputs, state):
        if backend.name == "tf":
            top_logits, top_ids = fw.math.top_k(outputs, k=self.k)
            choice = fw.random.categorical(fw.zeros_like(top_logits), 1, dtype=fw.int32)[:, 0]
            return fw.gather(top_ids, choice, batch_dims=1)
        top_logits, top_ids = outputs.topk(self.k, dim=-1)
        choice = fw.multinomial(fw.ones_like(top_logits), 1)
        return top_ids.gather(-1, choice)[:, 0]

    rejects(check(backend, "check_top_k_sampler", _top_k_variant(backend, sample)), "value", "uniformly", "k = 3")


def test_top_k_sampler_drawing_from_the_whole_softmax(backend):
    fw = backend.fw

    def sample(self, time, outputs, state):
        if backend.name == "tf":
            return fw.random.categorical(outputs, 1, dtype=fw.int32)[:, 0]
        return fw.multinomial(fw.softmax(outputs, dim=-1), 1)[:, 0]

    rejects(check(backend, "check_top_k_sampler", _top_k_variant(backend, sample)), "value",
            "with k = 1", "only the 1 likeliest may be drawn")


def test_top_k_sampler_that_is_greedy(backend):
    fw = backend.fw

    def sample(self, time, outputs, state):
        return fw.argmax(outputs, axis=-1, output_type=fw.int32) if backend.name == "tf" else outputs.argmax(-1)

    rejects(check(backend, "check_top_k_sampler", _top_k_variant(backend, sample)), "value",
            "with k = 3", "drawn 1.000 of the time", "expected")


def test_top_k_sampler_must_subclass_greedy(backend):
    class Plain:
        def __init__(self, k):
            pass

    rejects(check(backend, "check_top_k_sampler", Plain), "structure", "cl.GreedyEmbeddingSampler")


# -- chapter 5 -----------------------------------------------------------------------------------

def test_tile_batch_that_repeats_the_whole_batch(backend):
    fw = backend.fw

    def wrong(t, multiplier):
        if isinstance(t, (list, tuple)):
            return [wrong(x, multiplier) for x in t]
        return fw.concat([t] * multiplier, axis=0) if backend.name == "tf" else fw.cat([t] * multiplier, dim=0)

    rejects(check(backend, "check_tile_batch", wrong), "value", "whole batch", "a, a, b, b")


def test_tile_batch_that_adds_an_axis(backend):
    fw = backend.fw

    def wrong(t, multiplier):
        if isinstance(t, (list, tuple)):
            return [wrong(x, multiplier) for x in t]
        return fw.stack([t] * multiplier, axis=1) if backend.name == "tf" else fw.stack([t] * multiplier, dim=1)

    rejects(check(backend, "check_tile_batch", wrong), "value", "added an axis")


def test_tile_batch_that_forgets_lists(backend):
    right = solution(backend, "check_tile_batch")

    def wrong(t, multiplier):
        return right(t[0] if isinstance(t, list) else t, multiplier)

    rejects(check(backend, "check_tile_batch", wrong), "structure", "return a list of 2")


@pytest.mark.parametrize("slip,words", [
    (lambda lp, L, a: lp / L ** a, ["length ** alpha"]),
    (lambda lp, L, a: lp / ((5 + L) / 6), ["forgot the exponent"]),
    (lambda lp, L, a: lp * ((5 + L) / 6) ** a, ["multiplied by the penalty"]),
])
def test_length_penalty_slips(backend, slip, words):
    def wrong(log_probs, lengths, alpha):
        return slip(np.asarray(backend.np(log_probs), np.float64), np.asarray(backend.np(lengths), np.float64), alpha)

    rejects(check(backend, "check_length_penalty", wrong), "value", "hypothesis", *words)


def test_gather_tree_that_returns_the_step_ids(backend):
    rejects(check(backend, "check_gather_tree", lambda step_ids, parent_ids, end: step_ids), "value",
            "step_ids as they are")


def test_gather_tree_without_end_token_padding(backend):
    def wrong(step_ids, parent_ids, end_token):
        step_ids, parent_ids = backend.np(step_ids), backend.np(parent_ids)
        T, B, W = step_ids.shape
        out = np.empty_like(step_ids)
        beam = np.tile(np.arange(W), (B, 1))
        for t in reversed(range(T)):
            out[t] = step_ids[t][np.arange(B)[:, None], beam]
            beam = parent_ids[t][np.arange(B)[:, None], beam]
        return out

    rejects(check(backend, "check_gather_tree", wrong), "value", "after a sequence's first end token")


def test_gather_tree_with_the_parents_one_step_off(backend):
    def wrong(step_ids, parent_ids, end_token):  # uses the parents of step t + 1 at step t
        step_ids, parent_ids = backend.np(step_ids), backend.np(parent_ids)
        T, B, W = step_ids.shape
        out = np.empty_like(step_ids)
        beam = np.tile(np.arange(W), (B, 1))
        rows = np.arange(B)[:, None]
        for t in reversed(range(T)):
            beam = parent_ids[t][rows, beam] if t < T - 1 else beam
            out[t] = step_ids[t][rows, beam]
        return out

    rejects(check(backend, "check_gather_tree", wrong), "value", "`sequences` at step", "beam")


def test_gather_tree_reference_is_cl_gather_tree(backend):
    cl = backend.cl
    for step_ids, parent_ids, end in common.gather_tree_cases():
        T, B, _ = step_ids.shape
        got = cl.gather_tree(backend.int(step_ids), backend.int(parent_ids), backend.int(np.full(B, T)), end)
        np.testing.assert_array_equal(backend.np(got), common.gather_tree_reference(step_ids, parent_ids, end))


# -- chapter 6 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("slip,kind,words", [
    (lambda a, m: m.mean(axis=1), "value", ["ignored the alignments"]),
    (lambda a, m: a[..., None] * m, "shape", ["weighted *sum*"]),
    (lambda a, m: (a[..., None] * m).sum(-1), "shape", ["depth axis"]),
    (lambda a, m: (a[..., None] * m).sum(1) * 2, "value", ["`contexts` at example 0, depth 0"]),
])
def test_context_slips(backend, slip, kind, words):
    def wrong(alignments, memory):
        return slip(backend.np(alignments).astype(np.float64), backend.np(memory).astype(np.float64))

    rejects(check(backend, "check_context", wrong), kind, *words)


def test_context_shapes_are_the_issues(backend):
    alignments, memory = common.context_arrays()
    assert alignments.shape[1:] == (20,) and memory.shape[1:] == (20, 30)


@pytest.mark.parametrize("flags,words", [
    (dict(normalize=False), ["weight normalisation"]),
    (dict(bias=False), ["the bias b"]),
    (dict(squash=False), ["the tanh"]),
])
def test_bahdanau_score_slips(backend, flags, words):
    def wrong(*arrays):
        return common.bahdanau_reference(*[backend.np(a) for a in arrays], **flags)

    rejects(check(backend, "check_bahdanau_score", wrong), "value", *words)


def test_bahdanau_score_after_the_softmax(backend):
    def wrong(*arrays):
        score = common.bahdanau_reference(*[backend.np(a) for a in arrays])
        e = np.exp(score - score.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    rejects(check(backend, "check_bahdanau_score", wrong), "value", "softmax")


def test_bahdanau_reference_is_cl_normalized_bahdanau(backend):
    """The checker's reference is BahdanauAttention(normalize=True)'s score: with an identity
    memory layer, the keys are the memory, and softmax(reference) is cl's alignments."""
    cl = backend.cl
    query, keys, query_kernel, v, g, b = common.bahdanau_arrays()
    U = keys.shape[-1]
    weights = {"memory_layer/kernel": np.eye(U, dtype=np.float32), "query_layer/kernel": query_kernel,
               "attention_v": v, "attention_g": np.float32(g), "attention_b": b}
    if backend.name == "tf":
        mechanism = cl.BahdanauAttention(U, memory=backend.float(keys), normalize=True)
        mechanism(backend.float(query))
    else:
        mechanism = cl.BahdanauAttention(U, normalize=True, memory_size=U, query_size=query.shape[-1])
    cl.import_weights(mechanism, weights)
    mechanism.setup_memory(backend.float(keys))
    alignments, _ = mechanism(backend.float(query))
    score = common.bahdanau_reference(query, keys, query_kernel, v, g, b)
    e = np.exp(score - score.max(-1, keepdims=True))
    np.testing.assert_allclose(backend.np(alignments), e / e.sum(-1, keepdims=True), atol=1e-5)


def test_masked_softmax_over_every_position(backend):
    def wrong(scores, lengths):
        s = backend.np(scores).astype(np.float64)
        e = np.exp(s - s.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    rejects(check(backend, "check_masked_softmax", wrong), "value", "every position")


def test_masked_softmax_with_minus_infinity(backend):
    def wrong(scores, lengths):
        s, L = backend.np(scores).astype(np.float64), backend.np(lengths)
        mask = np.arange(s.shape[1])[None, :] < L[:, None]
        z = np.where(mask, s, -np.inf)
        with np.errstate(invalid="ignore"):
            e = np.exp(z - z.max(-1, keepdims=True))
            return e / e.sum(-1, keepdims=True)

    rejects(check(backend, "check_masked_softmax", wrong), "value", "NaN", "length 0")


def test_masked_softmax_with_a_uniform_empty_row(backend):
    def wrong(scores, lengths):
        s, L = backend.np(scores).astype(np.float64), backend.np(lengths)
        mask = np.arange(s.shape[1])[None, :] < L[:, None]
        z = np.where(mask, s, -1e9)
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)  # a length-0 row comes out uniform

    rejects(check(backend, "check_masked_softmax", wrong), "value", "row 3 has length 0")


def test_masked_softmax_reference_is_cl_masking(backend):
    """The checker's reference is what a mechanism does with memory_sequence_length (Luong, identity keys)."""
    cl = backend.cl
    scores, lengths = common.masked_softmax_arrays()
    B, S = scores.shape
    # Luong with keys = one-hot positions and a query equal to the scores gives score = the scores
    memory = np.tile(np.eye(S, dtype=np.float32), (B, 1, 1))
    if backend.name == "tf":
        mechanism = cl.LuongAttention(S, memory=backend.float(memory), memory_sequence_length=backend.int(lengths))
    else:
        mechanism = cl.LuongAttention(S, memory_size=S)
    cl.import_weights(mechanism, {"memory_layer/kernel": np.eye(S, dtype=np.float32)})
    mechanism.setup_memory(backend.float(memory), memory_sequence_length=backend.int(lengths))
    alignments, _ = mechanism(backend.float(scores))
    np.testing.assert_allclose(backend.np(alignments), common.masked_softmax_reference(scores, lengths), atol=1e-6)
