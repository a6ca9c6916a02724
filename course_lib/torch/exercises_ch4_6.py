"""Checkers for the exercises of chapters 4-6 (PyTorch): ``from course_lib.torch import exercises_ch4_6 as ex``.

Each ``check_*`` runs your function or class on small cases, compares it with a reference and
prints ✓, or ✗ with what is wrong (shape, value, which row and step) and a hint. It returns a
``CheckResult`` (true when it passed) and never raises for a wrong answer. The TensorFlow backend
has the same checkers under the same names.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import course_lib.torch as cl
from course_lib.common import exercises_ch4_6 as common
from course_lib.common.exercises import CheckResult, Mismatch, call, expect_close, expect_shape
from course_lib.common.exercises_ch4_6 import run_check

__all__ = [
    "CheckResult",
    "check_feed_mask_sampler", "check_frame_sampler", "check_top_k_sampler",
    "check_tile_batch", "check_length_penalty", "check_gather_tree",
    "check_context", "check_bahdanau_score", "check_masked_softmax",
]


def _np(x):
    if isinstance(x, torch.Tensor):
        x = x.detach()
    return np.asarray(cl.to_numpy(x))


def _ints(x):
    return torch.tensor(np.asarray(x).astype(np.int64))


def _floats(x):
    return torch.tensor(np.asarray(x, np.float32))


# -- chapter 4 ------------------------------------------------------------------------------

class _FeedMaskReference(cl.Sampler):
    """The reference FeedMaskSampler (the checker compares with it)."""

    def __init__(self, feed_sample):
        self.feed_sample = torch.as_tensor(feed_sample)

    def initialize(self, inputs, sequence_length, embedding):
        self.inputs, self.sequence_length, self.embedding = inputs, sequence_length, embedding
        return self.sequence_length <= 0, self.inputs[:, 0]

    def sample(self, time, outputs, state):
        return outputs.argmax(dim=-1)

    def next_inputs(self, time, outputs, state, sample_ids):
        finished = time + 1 >= self.sequence_length
        t = min(time + 1, self.inputs.shape[1] - 1)
        own = F.embedding(sample_ids, self.embedding)
        return finished, torch.where(self.feed_sample[:, t][:, None], own, self.inputs[:, t]), state

    @property
    def batch_size(self):
        return self.inputs.shape[0]


def _feed_mask_decoder(weights):
    d = common.FEED
    decoder = cl.BasicDecoder(cl.LSTMCell(d["H"], input_size=d["E"]), cl.TrainingSampler(), nn.Linear(d["H"], d["V"]))
    cl.import_weights(decoder, weights)
    return decoder


def check_feed_mask_sampler(FeedMaskSampler) -> CheckResult:
    """Exercise: ``FeedMaskSampler(feed_sample [B, T])``, a ``cl.Sampler`` whose
    ``initialize(inputs [B, T, E], sequence_length [B], embedding [V, E])``."""
    def body():
        weights, embedding, ids, lengths, masks = common.feed_mask_arrays()
        decoder = _feed_mask_decoder(weights)
        embedding = torch.tensor(embedding)
        inputs = F.embedding(_ints(ids), embedding)  # (B, T, E)
        L = _ints(lengths)

        @torch.no_grad()
        def decode(sampler):
            return cl.BasicDecoder(decoder.cell, sampler, decoder.output_layer)(
                inputs, sequence_length=L, embedding=embedding)

        for name, mask in masks.items():
            sampler = call(FeedMaskSampler, torch.tensor(mask), what="FeedMaskSampler(feed_sample)")
            if not isinstance(sampler, cl.Sampler):
                raise Mismatch("structure", f"FeedMaskSampler must be a subclass of cl.Sampler, got "
                               f"{type(sampler).__name__}", "class FeedMaskSampler(cl.Sampler): ...")
            got = call(decode, sampler, what=f"decoding with FeedMaskSampler (feed_sample {name})",
                       hint="initialize returns (finished [B], inputs[:, 0]); next_inputs returns (finished [B], "
                            "next inputs [B, E] (embeddings, not ids), state); clamp time + 1 at the last step")
            want = decode(_FeedMaskReference(mask))
            got_out, _, got_len = got
            want_out, _, want_len = want
            hint = common.HINTS["check_feed_mask_sampler"]
            if name == "random":  # the usual slip: feed_sample[:, time] for the input of step time + 1
                late = np.concatenate([np.zeros_like(mask[:, :1]), mask[:, :-1]], axis=1)
                off_by_one = _np(decode(_FeedMaskReference(late))[0].rnn_output)
                if got_out.rnn_output.shape == off_by_one.shape and np.allclose(_np(got_out.rnn_output), off_by_one,
                                                                                 atol=1e-5):
                    raise Mismatch("value", "your sampler feeds the model's pick one step late: it reads "
                                   "feed_sample[:, time] for the input of step time + 1",
                                   "in next_inputs(time, ...), the input you return is for step time + 1: use "
                                   "feed_sample[:, time + 1]")
            expect_close("rnn_output", _np(got_out.rnn_output), _np(want_out.rnn_output), ("row", "step", "logit"),
                         hint=hint, explain=common.explain_feed(mask, lengths))
            expect_close("sample_id", _np(got_out.sample_id), _np(want_out.sample_id), ("row", "step"),
                         hint="sample returns the argmax of the outputs, [B] int ids")
            expect_close("lengths", _np(got_len), _np(want_len), ("row",),
                         hint="a row finishes when time + 1 >= its sequence_length")
        return (f"matches the reference on {len(masks)} coin patterns (random, teacher forcing, free running), "
                f"lengths {[int(n) for n in lengths]}")
    return run_check("check_feed_mask_sampler", body)


def check_frame_sampler(make_frame_sampler) -> CheckResult:
    """Exercise: ``make_frame_sampler(r, depth, silence) -> cl.InferenceSampler`` for steps ``[B, r * depth]``."""
    def body():
        silence = common.FRAME_SILENCE
        for r, depth in common.FRAME_CASES:
            sampler = call(make_frame_sampler, r, depth, silence, what=f"make_frame_sampler({r}, {depth}, {silence})")
            if not isinstance(sampler, cl.InferenceSampler):
                raise Mismatch("structure", f"make_frame_sampler must return a cl.InferenceSampler, got "
                               f"{type(sampler).__name__}")
            if list(sampler.sample_ids_shape) != [r * depth]:
                raise Mismatch("value", f"with r = {r}, depth = {depth} the sample_shape must be [{r * depth}] (one "
                               f"step's frames), got {list(sampler.sample_ids_shape)}",
                               "sample_shape describes one row's sample: [r * depth]")
            if not (isinstance(sampler.sample_ids_dtype, torch.dtype) and sampler.sample_ids_dtype.is_floating_point):
                raise Mismatch("value", f"the sample_dtype must be a float dtype (frames), got {sampler.sample_ids_dtype}",
                               "sample_dtype=torch.float32")
            outputs = common.frame_outputs(r, depth)
            start = torch.zeros(4, depth)
            call(sampler.initialize, start, what="sampler.initialize(start_inputs)")
            ids = call(sampler.sample, 0, torch.tensor(outputs), None, what="sampler.sample(...) (your sample_fn)")
            expect_close("sample_ids", _np(ids), outputs, ("row", "number"),
                         hint="the sample of a step is its output, unchanged: sample_fn=lambda outputs: outputs")
            finished, next_inputs, _ = call(sampler.next_inputs, 0, torch.tensor(outputs), None, ids,
                                            what="sampler.next_inputs(...) (your end_fn and next_inputs_fn)")
            want = common.frame_finished(outputs, silence)
            got = _np(finished)
            expect_shape("finished", got, [4], "batch", hint="end_fn returns one bool per row [B]")
            for row in range(4):
                if bool(got[row]) != bool(want[row]):
                    raise Mismatch("value", f"with r = {r}, depth = {depth}: finished[{row}] should be {bool(want[row])}: "
                                   f"{common.FRAME_ROW_STORY[row]}",
                                   "finished = max |value| over the whole step < silence")
            got_next = _np(next_inputs)
            mistake = common.frame_next_inputs_mistake(got_next, outputs, depth)
            if mistake:
                raise Mismatch("value", f"with r = {r}, depth = {depth}: {mistake}")
            expect_close("next_inputs", got_next, outputs[:, -depth:], ("row", "number"),
                         hint="the next input is the last frame: outputs[:, -depth:]")
        return (f"right shapes, samples, end flags and next inputs for (r, depth) in {common.FRAME_CASES}, "
                "on loud, silent and half-silent steps")
    return run_check("check_frame_sampler", body)


def check_top_k_sampler(TopKSampler) -> CheckResult:
    """Exercise: ``TopKSampler(k)``, a ``cl.GreedyEmbeddingSampler`` whose ``sample`` draws among the k likeliest."""
    def body():
        logits = np.repeat(common.TOP_K_LOGITS, common.TOP_K_REPEATS, axis=0)
        B, V = logits.shape
        for k in common.TOP_K_CASES:
            sampler = call(TopKSampler, k, what=f"TopKSampler({k})")
            if not isinstance(sampler, cl.GreedyEmbeddingSampler):
                raise Mismatch("structure", f"TopKSampler must subclass cl.GreedyEmbeddingSampler, got "
                               f"{type(sampler).__name__}", "class TopKSampler(cl.GreedyEmbeddingSampler): ...")
            call(sampler.initialize, torch.eye(V), start_tokens=torch.zeros(B, dtype=torch.int64), end_token=0,
                 what="sampler.initialize(embedding, start_tokens, end_token)")
            cl.set_seed(1234 + k)
            ids = call(sampler.sample, 0, torch.tensor(logits), None, what=f"TopKSampler({k}).sample(time, outputs, state)")
            common.check_top_k_draws(_np(ids), k)
        return (f"draws only among the k likeliest tokens, with the right frequencies (k = {common.TOP_K_CASES}, "
                f"{2 * common.TOP_K_REPEATS} draws each)")
    return run_check("check_top_k_sampler", body)


# -- chapter 5 ------------------------------------------------------------------------------

def check_tile_batch(my_tile_batch) -> CheckResult:
    """Exercise: ``my_tile_batch(t, multiplier)`` for a tensor ``[B, ...]`` or a list of them."""
    def body():
        for i, (shapes, multiplier) in enumerate(common.TILE_CASES):
            arrays = common.tile_arrays(shapes, seed=i)
            given = [torch.tensor(a) for a in arrays]
            t = given[0] if len(given) == 1 else given
            got = call(my_tile_batch, t, multiplier, what=f"my_tile_batch(t, {multiplier})")
            want = [np.repeat(a, multiplier, axis=0) for a in arrays]
            if len(given) > 1:
                if not isinstance(got, (list, tuple)) or len(got) != len(given):
                    what = f"a {type(got).__name__} of {len(got)}" if isinstance(got, (list, tuple)) else "one tensor"
                    raise Mismatch("structure", f"given a list of {len(given)} tensors, return a list of {len(given)}, "
                                   f"got {what}", "tile each tensor of the list: [tile(x) for x in t]")
                got_leaves = list(got)
            else:
                got_leaves = [got]
            for j, (g, w, a) in enumerate(zip(got_leaves, want, arrays)):
                g = _np(g)
                name = "result" if len(given) == 1 else f"result[{j}]"
                mistake = common.tile_mistake(g, a, multiplier)
                if mistake and not (g.shape == w.shape and np.array_equal(g, w)):
                    raise Mismatch("value", f"{name}, multiplier {multiplier}: {mistake}",
                                   "torch.repeat_interleave(x, multiplier, dim=0)")
                expect_close(name, g, w, ["row"] + [f"axis {k}" for k in range(1, w.ndim)],
                             hint="row r of the result is row r // multiplier of the input")
        return "repeats each row in place (a, a, b, b) for tensors and lists of them"
    return run_check("check_tile_batch", body)


def check_length_penalty(gnmt_scores) -> CheckResult:
    """Exercise: ``gnmt_scores(log_probs [N], lengths [N], alpha) -> scores [N]``."""
    def body():
        for log_probs, lengths, alpha in common.PENALTY_CASES:
            got = call(gnmt_scores, torch.tensor(log_probs, dtype=torch.float32), torch.tensor(lengths), alpha,
                       what=f"gnmt_scores(log_probs, lengths, alpha={alpha})",
                       hint="lengths.float() before the arithmetic")
            got = _np(got).astype(np.float64)
            want = log_probs / common.length_penalty(lengths, alpha)
            expect_shape("scores", got, [len(log_probs)], "hypotheses", hint="one score per hypothesis")
            if not np.allclose(got, want, atol=1e-4):
                mistake = common.penalty_mistake(got, log_probs, lengths, alpha)
                i = int(np.argmax(np.abs(got - want)))
                raise Mismatch("value", f"with alpha = {alpha}, hypothesis {i} (log-prob {log_probs[i]}, length "
                               f"{lengths[i]}): expected {want[i]:.4f}, got {got[i]:.4f}", mistake or "")
            if int(np.argmax(got)) != int(np.argmax(want)):
                raise Mismatch("value", f"with alpha = {alpha} hypothesis {int(np.argmax(want))} should win, "
                               f"yours picks {int(np.argmax(got))}")
        return f"GNMT scores and winners right for alpha in {[c[2] for c in common.PENALTY_CASES]}"
    return run_check("check_length_penalty", body)


def check_gather_tree(my_gather_tree) -> CheckResult:
    """Exercise: ``my_gather_tree(step_ids [T, B, W], parent_ids [T, B, W], end_token) -> [T, B, W]``."""
    def body():
        for step_ids, parent_ids, end in common.gather_tree_cases():
            got = call(my_gather_tree, torch.tensor(step_ids), torch.tensor(parent_ids), end,
                       what="my_gather_tree(step_ids, parent_ids, end_token)")
            got = _np(got)
            want = common.gather_tree_reference(step_ids, parent_ids, end)
            expect_shape("sequences", got, want.shape, "time, batch, beam",
                         hint="the result has the shape of step_ids: [T, B, W]")
            if not np.array_equal(got, want):
                mistake = common.gather_tree_mistake(got, step_ids, parent_ids, end)
                if mistake:
                    raise Mismatch("value", mistake)
                expect_close("sequences", got, want, ("step", "batch", "beam"),
                             hint="walk back from the last step: token = step_ids[t, b, beam], then "
                                  "beam = parent_ids[t, b, beam]")
        return "follows the parents back from every final beam and pads after the first end token (tfa's cases)"
    return run_check("check_gather_tree", body)


# -- chapter 6 ------------------------------------------------------------------------------

def check_context(context_vectors) -> CheckResult:
    """Exercise: ``context_vectors(alignments [N, 20], memory [N, 20, 30]) -> contexts [N, 30]``."""
    def body():
        alignments, memory = common.context_arrays()
        got = call(context_vectors, _floats(alignments), _floats(memory), what="context_vectors(alignments, memory)")
        got = _np(got).astype(np.float64)
        want = np.einsum("ns,nsd->nd", alignments.astype(np.float64), memory)
        mistake = None if (got.shape == want.shape and np.allclose(got, want, atol=1e-4)) else \
            common.context_mistake(got, alignments, memory)
        if mistake:
            raise Mismatch("value" if got.shape == want.shape else "shape", mistake)
        expect_close("contexts", got, want, ("example", "depth"), atol=1e-4,
                     hint="context[n, d] = sum over s of alignments[n, s] * memory[n, s, d]")
        return f"contexts {list(want.shape)} from alignments {list(alignments.shape)} and memory {list(memory.shape)}"
    return run_check("check_context", body)


def check_bahdanau_score(normalized_bahdanau_score) -> CheckResult:
    """Exercise: ``normalized_bahdanau_score(query, keys, query_kernel, attention_v, attention_g, attention_b) -> [B, S]``."""
    def body():
        arrays = common.bahdanau_arrays()
        got = call(normalized_bahdanau_score, *[_floats(a) for a in arrays],
                   what="normalized_bahdanau_score(query, keys, query_kernel, attention_v, attention_g, attention_b)")
        got = _np(got).astype(np.float64)
        want = common.bahdanau_reference(*arrays)
        expect_shape("scores", got, want.shape, "batch, memory steps", hint="one score per (row, memory step): [B, S]")
        if not np.allclose(got, want, atol=1e-4):
            mistake = common.bahdanau_mistake(got, *arrays)
            if mistake:
                raise Mismatch("value", mistake)
        expect_close("scores", got, want, ("row", "memory step"), atol=1e-4)
        return "equals (g v / |v|) . tanh(keys + W_q query + b), BahdanauAttention(normalize=True)'s score"
    return run_check("check_bahdanau_score", body)


def check_masked_softmax(masked_softmax) -> CheckResult:
    """Exercise: ``masked_softmax(scores [B, S], lengths [B]) -> alignments [B, S]``."""
    def body():
        scores, lengths = common.masked_softmax_arrays()
        got = call(masked_softmax, _floats(scores), _ints(lengths), what="masked_softmax(scores, lengths)")
        got = _np(got).astype(np.float64)
        want = common.masked_softmax_reference(scores, lengths)
        expect_shape("alignments", got, want.shape, "batch, memory steps")
        if not np.allclose(got, want, atol=1e-5):
            mistake = common.masked_softmax_mistake(got, scores, lengths)
            if mistake:
                raise Mismatch("value", mistake)

        def explain(idx):
            row, step = idx
            if step >= lengths[row]:
                return f"row {row} has length {lengths[row]}, so step {step} is padding and must get exactly 0"
            return f"step {step} is inside row {row}'s length {lengths[row]}"
        expect_close("alignments", got, want, ("row", "memory step"), atol=1e-5, explain=explain)
        return f"exactly 0 past the lengths {lengths.tolist()} (a length-0 row included), rows sum to 1"
    return run_check("check_masked_softmax", body)
