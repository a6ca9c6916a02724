"""Chapter 2's exercise checkers, written once: cases, NumPy references, the usual mistakes,
hints, and the checker bodies (``check_x(bk, answer)``; ``bk``: see ``course_lib.chapters.binding``).

They need no framework pieces beyond the adapter's.
"""

from __future__ import annotations

import numpy as np

from course_lib.chapters.ch02_dynamic_decode.mistakes import LOOP_SLIPS, loop_slip, loop_variant, temperature_slip
from course_lib.chapters.rnn_cases import cell_weight_shapes, expect_pair, rng_weights, softmax
from course_lib.common.checking import CheckResult, Mismatch, call, expect_close, expect_shape, run_check

#: what each exercise asks for, in one line: the hint when a problem has no more precise one
HINTS = {
    "check_decode_loop": "decoder.initialize(...) once, then decoder.step(t, inputs, state) until every row has "
                         "finished or maximum_iterations steps have run",
    "check_temperature": "softmax(logits / temperature) over the last axis",
    "check_lengths_from_ids": "each row's first end token: its index + 1 is the length (T when there is none)",
}

#: the decoder the decode-loop checker builds: vocabulary, embedding, units, batch, limit
DECODE = dict(V=6, E=4, H=8, B=5, start_token=1, end_token=2, maximum_iterations=7, seed=15)


def decode_loop_arrays(seed: int = DECODE["seed"]):
    """``(weights, embedding [V, E], initial_state [h, c])`` for the decode-loop checker: the
    same NumPy numbers in both backends, chosen so the rows end at different steps."""
    V, E, H, B = DECODE["V"], DECODE["E"], DECODE["H"], DECODE["B"]
    shapes = {f"cell/{k}": s for k, s in cell_weight_shapes("LSTMCell", E, H).items()}
    shapes.update({"output_layer/kernel": (H, V), "output_layer/bias": (V,)})
    weights = rng_weights(shapes, seed, scale=1.0)
    rng = np.random.default_rng(seed + 1)
    embedding = rng.standard_normal((V, E)).astype(np.float32)
    initial_state = [rng.standard_normal((B, H)).astype(np.float32) for _ in range(2)]
    return weights, embedding, initial_state


def decode_lengths(sample_ids: np.ndarray, end_token: int) -> np.ndarray:
    """What ``dynamic_decode`` reports: each row's steps up to and including its first end token."""
    sample_ids = np.asarray(sample_ids)
    T = sample_ids.shape[1]
    is_end = sample_ids == end_token
    return np.where(is_end.any(axis=1), is_end.argmax(axis=1) + 1, T).astype(np.int64)


#: (sample_ids [B, T], end_token) for check_lengths_from_ids
LENGTH_CASES = [
    (np.array([[3, 4, 2, 5, 2], [2, 0, 0, 0, 0], [3, 3, 3, 3, 3], [4, 2, 2, 2, 2]]), 2),
    (np.array([[1, 1, 1], [0, 0, 1]]), 1),
    (np.array([[5, 6, 7, 0, 0, 0, 0]]), 0),
]


def explain_length(row: int, got: int, sample_ids: np.ndarray, end_token: int) -> tuple:
    """``(why, hint)``: why row ``row``'s decode length is what it is, given the learner's ``got``."""
    ids = sample_ids[row]
    ends = np.flatnonzero(ids == end_token)
    T = len(ids)
    if not len(ends):
        if got == 1:
            return (f"row {row} never emits the end token {end_token}, so it runs all {T} steps; the argmax of "
                    "a row without any end token is 0, which gave it length 1",
                    "where(any(is_end, axis 1), argmax + 1, T): a row that never ends has the full length T")
        return (f"row {row} never emits the end token {end_token}, so it runs all {T} steps",
                "a row that never ends has the full length T")
    first = int(ends[0])
    if got == first:
        return (f"row {row}'s first end token is at step {first}, and the step that emits it counts",
                "the length is the index of the first end token + 1")
    if len(ends) > 1 and got in (int(ends[-1]), int(ends[-1]) + 1):
        return (f"row {row}'s *first* end token is at step {first}; later ones do not count",
                "take the first end token of each row (argmax of a boolean picks the first True)")
    return (f"row {row}'s first end token is at step {first}", "the length is the index of the first end token + 1")


#: softmax temperatures for check_temperature
TEMPERATURES = (1.0, 0.5, 2.0, 10.0)
#: the temperatures of the large-logits case (exp overflows float32 above about 88)
LARGE_TEMPERATURES = (1.0, 0.5)


def temperature_logits() -> np.ndarray:
    """``[3, 7]`` seeded logits for check_temperature."""
    return (np.random.default_rng(11).standard_normal((3, 7)) * 3).astype(np.float32)


def large_logits() -> np.ndarray:
    """``[2, 5]`` seeded logits near 100, as a confident model's can be: a naive exp overflows."""
    return (100 + np.random.default_rng(12).standard_normal((2, 5)) * 3).astype(np.float32)


def _decode_loop_decoder(bk):
    """The decoder the checker runs, with the NumPy weights both backends share."""
    d = DECODE
    weights, embedding, state = decode_loop_arrays()
    decoder = bk.cl.BasicDecoder(bk.cl.LSTMCell(d["H"]), bk.cl.GreedyEmbeddingSampler(),
                                 output_layer=bk.dense(d["H"], d["V"]))
    bk.cl.import_weights(decoder, weights)
    return decoder, bk.float32(embedding), [bk.float32(s) for s in state]


def _expect_lengths(got_len, want_len, want_ids, end: int, limit: int) -> None:
    expect_shape("lengths", got_len, [DECODE["B"]], "batch")
    for row in range(DECODE["B"]):
        if int(got_len[row]) != int(want_len[row]):
            ends = np.flatnonzero(want_ids[row] == end)
            why = (f"row {row} emits the end token {end} at step {ends[0]}, and that step counts"
                   if len(ends) else f"row {row} never emits the end token, so it stops at maximum_iterations "
                                     f"= {limit}")
            raise Mismatch("value", f"`lengths` at row {row}: expected {int(want_len[row])}, "
                           f"got {int(got_len[row])} ({why})",
                           "lengths[b] = the step on which row b first finished, + 1; a finished row stays "
                           "finished (finished = finished | step_finished); stop after maximum_iterations")


def _same_decode(got_ids, got_len, want_ids, want_len) -> bool:
    """Whether a learner's ``(sample_ids, lengths)`` is dynamic_decode's (ids compared within each length)."""
    got_ids, got_len = np.asarray(got_ids), np.asarray(got_len)
    if got_len.shape != want_len.shape or not np.array_equal(got_len, want_len) or got_ids.shape != want_ids.shape:
        return False
    inside = np.arange(want_ids.shape[1])[None, :] < want_len[:, None]  # (B, T)
    return bool(np.array_equal(got_ids[inside], want_ids[inside]))


def check_decode_loop(bk, my_greedy_decode) -> CheckResult:
    """Exercise: ``my_greedy_decode(decoder, embedding, start_tokens, end_token, initial_state,
    maximum_iterations) -> (sample_ids [B, T], lengths [B])``, written with ``decoder.initialize``
    and ``decoder.step`` (no dynamic_decode)."""
    d = DECODE
    hint = ("finished, inputs, state = decoder.initialize(embedding, start_tokens=..., end_token=..., "
            "initial_state=...); then loop: outputs, state, inputs, step_finished = decoder.step(t, inputs, state)")

    def body():
        decoder, embedding, state = _decode_loop_decoder(bk)
        start = bk.ids(np.full(d["B"], d["start_token"]))
        end, limit = d["end_token"], d["maximum_iterations"]
        with bk.no_grad():
            want, _, want_len = bk.cl.dynamic_decode(
                decoder, maximum_iterations=limit, decoder_init_input=embedding,
                decoder_init_kwargs=dict(start_tokens=start, end_token=end, initial_state=state))
            want_ids, want_len = bk.array(want.sample_id), bk.array(want_len)
            got = call(my_greedy_decode, decoder, embedding, start, end, state, limit, hint=hint,
                       what="my_greedy_decode(decoder, embedding, start_tokens, end_token, initial_state, "
                            "maximum_iterations)")
        got_ids, got_len = (bk.array(v) for v in expect_pair(got, "my_greedy_decode", "(sample_ids, lengths)"))
        if not _same_decode(got_ids, got_len, want_ids, want_len):
            with bk.no_grad():
                variants = {v: loop_variant(bk, decoder, embedding, start, end, state, limit, v) for v in LOOP_SLIPS}
            slip = loop_slip(got_ids, got_len, variants)
            if slip is not None:
                raise Mismatch("value", f"your decode gives the lengths {got_len.tolist()}, dynamic_decode "
                               f"{want_len.tolist()}: {slip[0]}", slip[1])
        _expect_lengths(got_len, want_len, want_ids, end, limit)
        expect_shape("sample_ids", got_ids, want_ids.shape, "batch, time",
                     hint=f"stack one [batch] vector per step along {bk.AXIS} 1; stop once every row has finished "
                          "or after maximum_iterations steps")
        for row in range(d["B"]):
            for t in range(int(want_len[row])):
                if int(got_ids[row, t]) != int(want_ids[row, t]):
                    raise Mismatch("value", f"`sample_ids` at row {row}, step {t}: expected {int(want_ids[row, t])},"
                                   f" got {int(got_ids[row, t])}",
                                   "feed each step the next_inputs and the state that the previous step returned; "
                                   "sample_id is outputs.sample_id")
        return (f"matches dynamic_decode on {d['B']} rows (lengths {want_len.tolist()}, "
                f"maximum_iterations = {limit})")
    return run_check("check_decode_loop", body, HINTS["check_decode_loop"])


def check_temperature(bk, temperature_probs) -> CheckResult:
    """Exercise: ``temperature_probs(logits [B, V], temperature) -> probabilities [B, V]``."""
    def body():
        cases = [(temperature_logits(), t) for t in TEMPERATURES] + [(large_logits(), t) for t in LARGE_TEMPERATURES]
        for logits, temperature in cases:
            want = softmax(logits / temperature)
            got = bk.array(call(temperature_probs, bk.float32(logits), temperature,
                                what=f"temperature_probs(logits, {temperature})"))
            expect_shape("probs", got, want.shape, "batch, vocab",
                         hint=f"one probability per token: softmax over the last {bk.AXIS}")
            if np.allclose(got, want, atol=1e-5):
                continue
            slip = temperature_slip(got, logits, temperature)
            if slip is not None:
                raise Mismatch("value", *slip)
            sums = got.sum(axis=-1)
            bad = np.flatnonzero(np.abs(sums - 1) > 1e-4)
            if len(bad):
                raise Mismatch("value", f"row {bad[0]} of `probs` sums to {sums[bad[0]]:.4f}, not 1 "
                               f"(temperature {temperature})", "finish with a softmax over the vocabulary")
            expect_close("probs", got, want, ("row", "token"), explain=lambda idx, t=temperature: f"temperature {t}",
                         hint="probs = softmax(logits / temperature)")
        return (f"softmax(logits / temperature) at temperatures {list(TEMPERATURES)}, and for logits near 100 "
                f"at {list(LARGE_TEMPERATURES)}")
    return run_check("check_temperature", body, HINTS["check_temperature"])


def check_lengths_from_ids(bk, lengths_from_ids) -> CheckResult:
    """Exercise: ``lengths_from_ids(sample_ids [B, T], end_token) -> lengths [B]`` as dynamic_decode counts."""
    def body():
        for ids, end in LENGTH_CASES:
            want = decode_lengths(ids, end)
            got = bk.array(call(lengths_from_ids, bk.ids(ids), end, what="lengths_from_ids(sample_ids, end_token)"))
            expect_shape("lengths", got, want.shape, "batch", hint="one length per row")
            not_end = (ids != end).sum(axis=1)
            if not np.array_equal(got, want) and np.array_equal(got, not_end):
                row = int(np.flatnonzero(got != want)[0])
                raise Mismatch("value", f"`lengths` at row {row}: expected {int(want[row])}, got {int(got[row])}: "
                               "you counted the tokens that are not the end token, but a decode's length stops at "
                               "its first end token, whatever comes after it",
                               "the length is the index of the first end token + 1 (T when there is none)")
            for row in range(len(want)):
                if int(got[row]) != int(want[row]):
                    why, hint = explain_length(row, int(got[row]), ids, end)
                    raise Mismatch("value", f"`lengths` at row {row}: expected {int(want[row])}, got "
                                   f"{int(got[row])} ({why})", hint)
        return f"counts like dynamic_decode on {sum(len(c[0]) for c in LENGTH_CASES)} rows"
    return run_check("check_lengths_from_ids", body, HINTS["check_lengths_from_ids"])


#: the checkers, in the order the notebook uses them (``binding.bind`` binds them in this order)
CHECKERS = (check_decode_loop, check_temperature, check_lengths_from_ids)
