"""Chapter 2's checkers reject wrong answers with a message that says what is wrong: the greedy
decode loop (lengths, limit, layout), temperature, lengths from ids.

Wrong answers are written once for both backends where they can be (NumPy bookkeeping)."""

from __future__ import annotations

import numpy as np

from tests.chapters.helpers import binding, rejects

PACKAGE = "ch02_dynamic_decode"


def chapter(bk):
    """This chapter's checkers in backend ``bk`` (what its notebook imports as ``ex``)."""
    return binding(bk, PACKAGE)


def _numpy_loop(bk, count_end=True, extra_steps=0, time_major=False):
    """A greedy loop with NumPy bookkeeping, right by default, wrong as asked."""
    def loop(decoder, embedding, start, end, state, limit):
        finished, inputs, state = decoder.initialize(embedding, start_tokens=start, end_token=end,
                                                     initial_state=state)
        finished = np.asarray(bk.np(finished))
        lengths, ids = np.zeros(len(finished), np.int64), []
        for t in range(limit + extra_steps):
            if finished.all():
                break
            outputs, state, inputs, step_finished = decoder.step(t, inputs, state)
            lengths = np.where(finished, lengths, t + (1 if count_end else 0))
            finished = finished | np.asarray(bk.np(step_finished))
            ids.append(np.asarray(bk.np(outputs.sample_id)))
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


def _softmax(bk, x):
    return bk.fw.nn.softmax(x, axis=-1) if bk.name == "tf" else bk.fw.softmax(x, dim=-1)


def test_temperature_names_the_mistake(backend):
    ex = chapter(backend)
    rejects(ex.check_temperature(lambda logits, t: _softmax(backend, logits * t)), "value",
            "softmax(logits * temperature)", "divide the logits by the temperature")
    rejects(ex.check_temperature(lambda logits, t: logits / t), "value", "sums to", "softmax")
    rejects(ex.check_temperature(lambda logits, t: _softmax(backend, logits / t)[0]), "shape",
            "`probs` must have shape [3, 7]")


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
