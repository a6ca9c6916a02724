"""Chapter 4's checkers reject wrong samplers with a message that names what is wrong (which row and
step read what, which tokens were drawn how often) and a hint.

Wrong answers are the solutions with one thing broken (a subclass overriding one method, or a
function wrapped around the solution), so each test names exactly the slip it checks.
"""

from __future__ import annotations

from tests.chapters.helpers import check, rejects, solution


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
