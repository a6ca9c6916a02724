"""Chapter 2's checkers reject wrong answers with a message that says what is wrong and names the
mistake: the greedy decode loop (lengths, limit, layout, stale inputs or state, finished flags),
temperature (multiplied, ignored, overflowing, over the wrong axis), lengths from ids.

Wrong answers are written once for both backends where they can be (NumPy bookkeeping)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.chapters.helpers import binding, rejects

PACKAGE = "ch02_dynamic_decode"


def chapter(bk):
    """This chapter's checkers in backend ``bk`` (what its notebook imports as ``ex``)."""
    return binding(bk, PACKAGE)


def _numpy_loop(bk, count_end=True, extra_steps=0, time_major=False, slip=None):
    """A greedy loop with NumPy bookkeeping, right by default, wrong as asked."""
    def loop(decoder, embedding, start, end, state, limit):
        finished, inputs, state = decoder.initialize(embedding, start_tokens=start, end_token=end,
                                                     initial_state=state)
        first_inputs, first_state = inputs, state
        finished = np.asarray(bk.np(finished))
        lengths, ids = np.zeros(len(finished), np.int64), []
        for t in range(limit + extra_steps):
            if finished.all() or (slip == "any" and finished.any()):
                break
            outputs, next_state, next_inputs, step_finished = decoder.step(t, inputs, state)
            lengths = np.where(finished, lengths, t + (1 if count_end else 0))
            step_finished = np.asarray(bk.np(step_finished))
            finished = step_finished if slip == "not_sticky" else finished | step_finished
            ids.append(np.asarray(bk.np(outputs.sample_id)))
            inputs = first_inputs if slip == "stale_inputs" else next_inputs
            state = first_state if slip == "stale_state" else next_state
        return np.stack(ids, axis=0 if time_major else 1), lengths
    return loop


def test_decode_loop_scenario_has_rows_of_every_kind(backend, capsys):
    """The checker's decode ends rows at different steps, one at step 0 and some at the limit."""
    assert chapter(backend).check_decode_loop(_numpy_loop(backend))
    assert "lengths [6, 1, 7, 5, 7]" in capsys.readouterr().out


def test_decode_loop_rejects_lengths_that_skip_the_end_step(backend):
    rejects(chapter(backend).check_decode_loop(_numpy_loop(backend, count_end=False)), "value",
            "`lengths` at row 0: expected 6, got 5", "emits the end token 2 at step 5, and that step counts")


def test_decode_loop_rejects_running_past_maximum_iterations(backend):
    rejects(chapter(backend).check_decode_loop(_numpy_loop(backend, extra_steps=3)), "value",
            "`lengths` at row 2: expected 7", "stops at maximum_iterations = 7")


def test_decode_loop_rejects_time_major_ids(backend):
    rejects(chapter(backend).check_decode_loop(_numpy_loop(backend, time_major=True)), "shape",
            "`sample_ids` must have shape [5, 7]", "got [7, 5]")


@pytest.mark.parametrize("slip,words", [
    ("stale_inputs", ["lengths [7, 1, 7, 7, 7]", "you fed every step the first inputs", "next_inputs"]),
    ("stale_state", ["you fed every step the initial state again"]),
    ("not_sticky", ["lengths [6, 7, 7, 7, 7]", "a finished row came back to life", "finished | step_finished"]),
    ("any", ["lengths [1, 1, 1, 1, 1]", "you stopped when the *first* row finished", "all(finished)"]),
])
def test_decode_loop_names_the_usual_slips(backend, slip, words):
    rejects(chapter(backend).check_decode_loop(_numpy_loop(backend, slip=slip)), "value", *words)


def _softmax(bk, x):
    return bk.fw.nn.softmax(x, axis=-1) if bk.name == "tf" else bk.fw.softmax(x, dim=-1)


def test_temperature_names_the_mistake(backend):
    ex = chapter(backend)
    rejects(ex.check_temperature(lambda logits, t: _softmax(backend, logits * t)), "value",
            "softmax(logits * temperature)", "divide the logits by the temperature")
    rejects(ex.check_temperature(lambda logits, t: logits / t), "value", "sums to", "softmax")
    rejects(ex.check_temperature(lambda logits, t: _softmax(backend, logits / t)[0]), "shape",
            "`probs` must have shape [3, 7]")


def test_temperature_names_more_slips(backend):
    """Ignoring the temperature, dividing the probabilities, log-probabilities, the batch axis, exp overflow."""
    ex, fw = chapter(backend), backend.fw
    log_softmax = (lambda z: fw.nn.log_softmax(z, axis=-1)) if backend.name == "tf" \
        else (lambda z: fw.log_softmax(z, dim=-1))
    over_batch = (lambda z: fw.nn.softmax(z, axis=0)) if backend.name == "tf" else (lambda z: fw.softmax(z, dim=0))

    def naive(logits, t):  # exp without subtracting the row max: fine for small logits only
        e = fw.exp(logits / t)
        return e / (fw.reduce_sum(e, axis=-1, keepdims=True) if backend.name == "tf" else e.sum(-1, keepdim=True))

    rejects(ex.check_temperature(lambda logits, t: _softmax(backend, logits)), "value",
            "at temperature 0.5 are softmax(logits): the temperature is ignored", "divide the logits")
    rejects(ex.check_temperature(lambda logits, t: _softmax(backend, logits) / t), "value",
            "you divided the probabilities, not the logits")
    rejects(ex.check_temperature(lambda logits, t: log_softmax(logits / t)), "value", "log-probabilities")
    rejects(ex.check_temperature(lambda logits, t: over_batch(logits / t)), "value", "over the batch axis",
            "the last axis")
    rejects(ex.check_temperature(naive), "value", "NaN or inf at temperature 1.0 for logits up to 10",
            "overflows float32", "subtract each row's maximum")


def test_lengths_from_ids_names_the_row_and_why(backend):
    ex = chapter(backend)

    def first_index(ids, end):
        ids = np.asarray(backend.np(ids))
        is_end = ids == end
        return np.where(is_end.any(1), is_end.argmax(1), ids.shape[1])

    def last_end(ids, end):
        ids = np.asarray(backend.np(ids))
        is_end = ids == end
        last = ids.shape[1] - 1 - is_end[:, ::-1].argmax(1)
        return np.where(is_end.any(1), last + 1, ids.shape[1])

    def zero_if_no_end(ids, end):
        ids = np.asarray(backend.np(ids))
        is_end = ids == end
        return np.where(is_end.any(1), is_end.argmax(1) + 1, 0)

    rejects(ex.check_lengths_from_ids(first_index), "value", "`lengths` at row 0: expected 3, got 2",
            "and the step that emits it counts")
    rejects(ex.check_lengths_from_ids(last_end), "value", "`lengths` at row 0: expected 3, got 5", "*first*")
    rejects(ex.check_lengths_from_ids(zero_if_no_end), "value", "`lengths` at row 2: expected 5, got 0",
            "never emits the end token")


def test_lengths_from_ids_names_counting_and_an_argmax_without_a_check(backend):
    ex = chapter(backend)

    def count_not_end(ids, end):
        return (np.asarray(backend.np(ids)) != end).sum(axis=1)

    def argmax_only(ids, end):  # a row without an end token has argmax 0, so length 1
        return (np.asarray(backend.np(ids)) == end).argmax(axis=1) + 1

    rejects(ex.check_lengths_from_ids(count_not_end), "value", "`lengths` at row 1: expected 1, got 4",
            "you counted the tokens that are not the end token")
    rejects(ex.check_lengths_from_ids(argmax_only), "value", "`lengths` at row 2: expected 5, got 1",
            "the argmax of a row without any end token is 0", "any(is_end")
