"""Chapter 4's checkers reject wrong samplers with a message that names what is wrong (which row and
step read what, which silence test was written, which tokens were drawn how often) and a hint.

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


def _teacher_index(bk, time, T):
    return bk.fw.minimum(time + 1, T - 1) if bk.name == "tf" else min(time + 1, T - 1)


def _embed(bk, embedding, ids):
    fw = bk.fw
    return fw.nn.embedding_lookup(embedding, ids) if bk.name == "tf" else fw.nn.functional.embedding(ids, embedding)


def test_feed_mask_sampler_with_the_mask_the_other_way_round(backend):
    fw = backend.fw

    def next_inputs(self, time, outputs, state, sample_ids):  # where(mask, truth, own)
        t = _teacher_index(backend, time, self.inputs.shape[1])
        use = self.feed_sample[:, t][:, None]
        return time + 1 >= self.sequence_length, fw.where(use, self.inputs[:, t], _embed(backend, self.embedding,
                                                                                           sample_ids)), state

    rejects(check(backend, "check_feed_mask_sampler", _sampler_variant(backend, next_inputs)), "value",
            "where feed_sample is False", "the other way round")


def test_feed_mask_sampler_that_finishes_a_step_late(backend):
    fw = backend.fw

    def next_inputs(self, time, outputs, state, sample_ids):  # finished = time >= length: one step too many
        t = _teacher_index(backend, time, self.inputs.shape[1])
        use = self.feed_sample[:, t][:, None]
        return time >= self.sequence_length, fw.where(use, _embed(backend, self.embedding, sample_ids),
                                                      self.inputs[:, t]), state

    rejects(check(backend, "check_feed_mask_sampler", _sampler_variant(backend, next_inputs)), "value",
            "row 0 decoded 7 steps, its sequence_length is 6: one step too many", "time + 1 >= its sequence_length")


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


def _end_fn_variant(bk, tf_fn, torch_fn):
    """A make_frame_sampler whose end_fn is ``tf_fn`` / ``torch_fn`` of (frames, r, depth, silence)."""
    fn = tf_fn if bk.name == "tf" else torch_fn
    return _frame_variant(bk, end_fn=lambda r, depth, silence: (lambda frames: fn(frames, r, depth, silence)))


def test_frame_sampler_that_averages_the_step(backend):
    """Issue 13: an end_fn on the mean of |x| passed; one loud number among quiet ones must keep a row going."""
    fw = backend.fw
    wrong = _end_fn_variant(backend, lambda x, r, d, s: fw.reduce_mean(fw.abs(x), axis=-1) < s,
                            lambda x, r, d, s: x.abs().mean(dim=-1) < s)
    rejects(check(backend, "check_frame_sampler", wrong), "value", "finished[4] should be False",
            "averages |x|", "max of |x|")


def test_frame_sampler_without_the_absolute_value(backend):
    fw = backend.fw
    wrong = _end_fn_variant(backend, lambda x, r, d, s: fw.reduce_max(x, axis=-1) < s,
                            lambda x, r, d, s: x.amax(dim=-1) < s)
    rejects(check(backend, "check_frame_sampler", wrong), "value", "finished[5] should be False",
            "every number negative", "compares x, not |x|")


def test_frame_sampler_waiting_for_exact_zeros(backend):
    fw = backend.fw
    wrong = _end_fn_variant(backend, lambda x, r, d, s: fw.reduce_all(fw.equal(x, 0.0), axis=-1),
                            lambda x, r, d, s: (x == 0).all(dim=-1))
    rejects(check(backend, "check_frame_sampler", wrong), "value", "finished[2] should be True", "exact zeros")


def test_frame_sampler_that_stops_on_any_quiet_number(backend):
    fw = backend.fw
    wrong = _end_fn_variant(backend, lambda x, r, d, s: fw.reduce_min(fw.abs(x), axis=-1) < s,
                            lambda x, r, d, s: x.abs().amin(dim=-1) < s)
    rejects(check(backend, "check_frame_sampler", wrong), "value", "should be False", "*any* number is quiet")


def test_frame_sampler_that_feeds_the_last_number(backend):
    """Section 5's frames had one number: `outputs[:, -1:]` is right there and wrong for depth > 1."""
    wrong = _frame_variant(backend, next_inputs_fn=lambda r, depth, silence: (lambda frames: frames[:, -1:]))
    rejects(check(backend, "check_frame_sampler", wrong), "value", "depth = 4", "you fed back the last number")


def test_frame_sampler_that_samples_an_argmax(backend):
    fw = backend.fw
    argmax = (lambda x: fw.argmax(x, axis=-1, output_type=fw.int32)) if backend.name == "tf" else (
        lambda x: x.argmax(dim=-1))
    wrong = _frame_variant(backend, sample_fn=lambda r, depth, silence: argmax)
    rejects(check(backend, "check_frame_sampler", wrong), "shape", "one number per row", "the step's output itself")


def test_frame_sampler_with_an_integer_dtype_or_a_token_shape(backend):
    ids = backend.fw.int32 if backend.name == "tf" else backend.fw.int64
    rejects(check(backend, "check_frame_sampler", _frame_variant(backend, sample_dtype=ids)), "value",
            "must be a float dtype", "integer dtype is for token ids")
    rejects(check(backend, "check_frame_sampler", _frame_variant(backend, sample_shape=[])), "value",
            "sample_shape must be [3]", "one token id per row")


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
            "with k = 3", "drawn 1.000 of the time", "expected", "greedy decoding")


def test_top_k_sampler_that_returns_positions_not_ids(backend):
    fw = backend.fw

    def sample(self, time, outputs, state):  # the drawn position among the k best, never mapped back
        if backend.name == "tf":
            top_logits, _ = fw.math.top_k(outputs, k=self.k)
            return fw.random.categorical(top_logits, 1, dtype=fw.int32)[:, 0]
        top_logits, _ = outputs.topk(self.k, dim=-1)
        return fw.multinomial(fw.softmax(top_logits, dim=-1), 1)[:, 0]

    rejects(check(backend, "check_top_k_sampler", _top_k_variant(backend, sample)), "value",
            "the position among the k best", "not the token id", "gather")


def test_top_k_sampler_that_mixes_up_logits_and_probabilities(backend):
    """TF: tf.random.categorical given probabilities; PyTorch: torch.multinomial given logits."""
    fw = backend.fw

    def sample(self, time, outputs, state):
        if backend.name == "tf":
            top_logits, top_ids = fw.math.top_k(outputs, k=self.k)
            choice = fw.random.categorical(fw.nn.softmax(top_logits), 1, dtype=fw.int32)[:, 0]
            return fw.gather(top_ids, choice, batch_dims=1)
        top_logits, top_ids = outputs.topk(self.k, dim=-1)
        return top_ids.gather(-1, fw.multinomial(top_logits, 1))[:, 0]

    words = ["softmax(softmax(logits))", "Give it the k logits"] if backend.name == "tf" else [
        "proportional to the logits themselves", "Give it softmax(the k logits)"]
    rejects(check(backend, "check_top_k_sampler", _top_k_variant(backend, sample)), "value", "with k = 3", *words)


def test_top_k_sampler_must_subclass_greedy(backend):
    class Plain:
        def __init__(self, k):
            pass

    rejects(check(backend, "check_top_k_sampler", Plain), "structure", "cl.GreedyEmbeddingSampler")
