"""Chapter 4's exercise checkers, written once: hints and the checker bodies (``check_x(bk, answer)``;
``bk``: see ``course_lib.chapters.binding``); the cases and references are in ``cases``.

Pieces each binding gives its ``Backend``: ``FeedMaskReference(feed_sample)`` (the reference
sampler, a ``cl.Sampler``), ``embedding_lookup(embedding, ids)``, ``is_float_dtype(dtype)`` and
``dtype_name(dtype)``.
"""

from __future__ import annotations

import numpy as np

from course_lib.chapters.ch04_custom_helper import cases
from course_lib.common.checking import CheckResult, Mismatch, call, expect_close, expect_shape, run_check

#: what each exercise asks for, in one line: the hint when a problem has no more precise one
HINTS = {
    "check_feed_mask_sampler": "teacher forcing as MyTrainingSampler, except that the next input of row b is the "
                               "embedding of sample_ids[b] where feed_sample[b, time + 1] is true",
    "check_frame_sampler": "cl.InferenceSampler(sample_fn=identity, sample_shape=[r * depth], sample_dtype=float32, "
                           "end_fn=max |step| < silence, next_inputs_fn=the last depth numbers)",
    "check_top_k_sampler": "keep the k largest logits of each row, draw one of them with probabilities "
                           "softmax(top k logits), and return the id it stands for",
}


def _feed_mask_decoder(bk, weights):
    d = cases.FEED
    decoder = bk.cl.BasicDecoder(bk.cl.LSTMCell(d["H"]), bk.cl.TrainingSampler(), bk.dense(d["H"], d["V"]))
    bk.cl.import_weights(decoder, weights)
    return decoder


def _expect_a(kind_of, what: str, got, hint: str = "") -> None:
    if not isinstance(got, kind_of):
        raise Mismatch("structure", f"{what}, got {type(got).__name__}", hint)


def _expect_lengths(got: np.ndarray, want: np.ndarray, lengths) -> None:
    """Decoded lengths against the rows' sequence lengths, naming an off-by-one finish."""
    expect_shape("lengths", got, list(want.shape), "batch", hint="dynamic_decode returns one length per row")
    bad = np.flatnonzero(got != want)
    if bad.size:
        row = int(bad[0])
        off = int(got[row]) - int(want[row])
        when = "one step too many" if off == 1 else "one step too few" if off == -1 else f"{off:+d} steps"
        raise Mismatch("value", f"row {row} decoded {int(got[row])} steps, its sequence_length is {int(lengths[row])}: "
                       f"{when}", "next_inputs(time, ...) runs after step `time`: a row has finished when "
                       "time + 1 >= its sequence_length")


def check_feed_mask_sampler(bk, FeedMaskSampler) -> CheckResult:
    """Exercise: ``FeedMaskSampler(feed_sample [B, T])``, a ``cl.Sampler`` whose
    ``initialize(inputs [B, T, E], sequence_length [B], embedding [V, E])``."""
    def body():
        weights, embedding, ids, lengths, masks = cases.feed_mask_arrays()
        decoder = _feed_mask_decoder(bk, weights)
        embedding = bk.float32(embedding)
        inputs = bk.embedding_lookup(embedding, bk.ids(ids))  # (B, T, E)
        L = bk.ids(lengths)

        def decode(sampler):
            with bk.no_grad():
                return bk.cl.BasicDecoder(decoder.cell, sampler, decoder.output_layer)(
                    inputs, sequence_length=L, embedding=embedding)

        for name, mask in masks.items():
            sampler = call(FeedMaskSampler, bk.bools(mask), what="FeedMaskSampler(feed_sample)")
            _expect_a(bk.cl.Sampler, "FeedMaskSampler must be a subclass of cl.Sampler", sampler,
                      "class FeedMaskSampler(cl.Sampler): ...")
            got = call(decode, sampler, what=f"decoding with FeedMaskSampler (feed_sample {name})",
                       hint="initialize returns (finished [B], inputs[:, 0]); next_inputs returns (finished [B], "
                            "next inputs [B, E] (embeddings, not ids), state); clamp time + 1 at the last step")
            want = decode(bk.FeedMaskReference(mask))
            got_out, _, got_len = got
            want_out, _, want_len = want
            hint = HINTS["check_feed_mask_sampler"]
            _expect_lengths(bk.array(got_len), bk.array(want_len), lengths)
            got_logits = bk.array(got_out.rnn_output)
            if name == "random":  # the usual slip: feed_sample[:, time] for the input of step time + 1
                off_by_one = bk.array(decode(bk.FeedMaskReference(cases.one_step_late(mask)))[0].rnn_output)
                if got_logits.shape == off_by_one.shape and np.allclose(got_logits, off_by_one, atol=1e-5):
                    raise Mismatch("value", "your sampler feeds the model's pick one step late: it reads "
                                   "feed_sample[:, time] for the input of step time + 1",
                                   "in next_inputs(time, ...), the input you return is for step time + 1: use "
                                   "feed_sample[:, time + 1]")
                inverted = bk.array(decode(bk.FeedMaskReference(~mask))[0].rnn_output)
                if got_logits.shape == inverted.shape and np.allclose(got_logits, inverted, atol=1e-5):
                    raise Mismatch("value", "your sampler feeds the model's pick where feed_sample is False and the "
                                   "ground truth where it is True: the other way round",
                                   "feed_sample[b, t] True means: step t reads the embedding of the previous pick")
            expect_close("rnn_output", got_logits, bk.array(want_out.rnn_output), ("row", "step", "logit"),
                         hint=hint, explain=cases.explain_feed(mask, lengths))
            expect_close("sample_id", bk.array(got_out.sample_id), bk.array(want_out.sample_id), ("row", "step"),
                         hint="sample returns the argmax of the outputs, [B] int ids")
        return (f"matches the reference on {len(masks)} coin patterns (random, teacher forcing, free running), "
                f"lengths {[int(n) for n in lengths]}")
    return run_check("check_feed_mask_sampler", body, HINTS["check_feed_mask_sampler"])


def _expect_frame_declarations(bk, sampler, r: int, depth: int) -> None:
    _expect_a(bk.cl.InferenceSampler, "make_frame_sampler must return a cl.InferenceSampler", sampler)
    shape = list(sampler.sample_ids_shape)
    if shape != [r * depth]:
        why = "sample_shape describes one row's sample: [r * depth]"
        if shape == []:
            why = "[] is the shape of one token id per row (greedy's); here a row's sample is a step of frames: [r * depth]"
        elif shape == [depth]:
            why = "[depth] is one frame, the next input; the sample is the whole step of r frames: [r * depth]"
        elif shape == [r, depth]:
            why = "the step's frames come laid out flat, frame after frame: [r * depth], not [r, depth]"
        raise Mismatch("value", f"with r = {r}, depth = {depth} the sample_shape must be [{r * depth}] (one "
                       f"step's frames), got {shape}", why)
    if not bk.is_float_dtype(sampler.sample_ids_dtype):
        raise Mismatch("value", "the sample_dtype must be a float dtype (frames), got "
                       f"{bk.dtype_name(sampler.sample_ids_dtype)}: an integer dtype is for token ids",
                       f"sample_dtype={bk.FLOAT_DTYPE_NAME}")


def _expect_finished(got: np.ndarray, outputs: np.ndarray, r: int, depth: int, silence: float) -> None:
    want = cases.frame_finished(outputs, silence)
    expect_shape("finished", got, list(want.shape), "batch", hint="end_fn returns one bool per row [B]")
    got = got.astype(bool)
    if np.array_equal(got, want):
        return
    wrong_rows = np.flatnonzero(got != want)
    row, hint = int(wrong_rows[0]), "finished = max |value| over the whole step < silence"
    for name, flags in cases.frame_end_variants(outputs, r, depth, silence).items():
        if np.array_equal(got, flags):
            hint = cases.FRAME_END_SLIPS[name]
            telltale = cases.FRAME_END_TELLTALE_ROW[name]
            row = telltale if telltale in wrong_rows else row  # the row built to show this slip
            break
    raise Mismatch("value", f"with r = {r}, depth = {depth}: finished[{row}] should be {bool(want[row])}: "
                   f"{cases.frame_row_story(row, r)}", hint)


def check_frame_sampler(bk, make_frame_sampler) -> CheckResult:
    """Exercise: ``make_frame_sampler(r, depth, silence) -> cl.InferenceSampler`` for steps ``[B, r * depth]``."""
    def body():
        silence = cases.FRAME_SILENCE
        for r, depth in cases.FRAME_CASES:
            sampler = call(make_frame_sampler, r, depth, silence, what=f"make_frame_sampler({r}, {depth}, {silence})")
            _expect_frame_declarations(bk, sampler, r, depth)
            outputs = cases.frame_outputs(r, depth)
            call(sampler.initialize, bk.float32(np.zeros((len(outputs), depth))),
                 what="sampler.initialize(start_inputs)")
            ids = call(sampler.sample, 0, bk.float32(outputs), None, what="sampler.sample(...) (your sample_fn)")
            if np.ndim(bk.array(ids)) == 1:
                raise Mismatch("shape", f"your sample_fn returns one number per row, shape {list(np.shape(bk.array(ids)))} "
                               "(an argmax, as for tokens?); the sample of a frame step is the step's output itself, "
                               f"[B, r * depth] = [{len(outputs)}, {r * depth}]", "sample_fn=lambda outputs: outputs")
            expect_close("sample_ids", bk.array(ids), outputs, ("row", "number"),
                         hint="the sample of a step is its output, unchanged: sample_fn=lambda outputs: outputs")
            finished, next_inputs, _ = call(sampler.next_inputs, 0, bk.float32(outputs), None, ids,
                                            what="sampler.next_inputs(...) (your end_fn and next_inputs_fn)")
            _expect_finished(bk.array(finished), outputs, r, depth, silence)
            got_next = bk.array(next_inputs)
            mistake = cases.frame_next_inputs_mistake(got_next, outputs, depth)
            if mistake:
                raise Mismatch("value", f"with r = {r}, depth = {depth}: {mistake}")
            expect_close("next_inputs", got_next, outputs[:, -depth:], ("row", "number"),
                         hint="the next input is the last frame: outputs[:, -depth:]")
        return (f"right shapes, samples, end flags and next inputs for (r, depth) in {cases.FRAME_CASES}, "
                "on loud, silent and half-silent steps")
    return run_check("check_frame_sampler", body, HINTS["check_frame_sampler"])


def check_top_k_sampler(bk, TopKSampler) -> CheckResult:
    """Exercise: ``TopKSampler(k)``, a ``cl.GreedyEmbeddingSampler`` whose ``sample`` draws among the k likeliest."""
    def body():
        logits = np.repeat(cases.TOP_K_LOGITS, cases.TOP_K_REPEATS, axis=0)
        B, V = logits.shape
        for k in cases.TOP_K_CASES:
            sampler = call(TopKSampler, k, what=f"TopKSampler({k})")
            _expect_a(bk.cl.GreedyEmbeddingSampler, "TopKSampler must subclass cl.GreedyEmbeddingSampler", sampler,
                      "class TopKSampler(cl.GreedyEmbeddingSampler): ...")
            call(sampler.initialize, bk.float32(np.eye(V)), start_tokens=bk.ids(np.zeros(B)), end_token=0,
                 what="sampler.initialize(embedding, start_tokens, end_token)")
            bk.cl.set_seed(1234 + k)
            ids = call(sampler.sample, 0, bk.float32(logits), None,
                       what=f"TopKSampler({k}).sample(time, outputs, state)")
            cases.check_top_k_draws(bk.array(ids), k)
        return (f"draws only among the k likeliest tokens, with the right frequencies (k = {cases.TOP_K_CASES}, "
                f"{2 * cases.TOP_K_REPEATS} draws each)")
    return run_check("check_top_k_sampler", body, HINTS["check_top_k_sampler"])


#: the checkers, in the order the notebook uses them (``binding.bind`` binds them in this order)
CHECKERS = (check_feed_mask_sampler, check_frame_sampler, check_top_k_sampler)
