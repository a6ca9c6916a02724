"""Chapter 7's exercise checkers (``course_lib.chapters.ch07_chatbot``, bound to each backend): they accept
the solutions in notebooks/solutions/ and reject the usual wrong answers with a message that names the mistake."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLVED_BY = {"check_reverse_padded": "my_reverse_padded", "check_beam_start": "beam_start",
             "check_sampled_softmax": "my_sampled_softmax_loss"}
_loaded = {}


def solutions(bk):
    if bk.name not in _loaded:
        path = ROOT / "notebooks" / "solutions" / bk.name / "07_chatbot.py"
        spec = importlib.util.spec_from_file_location(f"solutions_{bk.name}_07", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[bk.name] = module
    return _loaded[bk.name]


def exercises(bk):
    """The chapter's binding for ``bk``, whose ``check_*`` the notebook calls."""
    return importlib.import_module(f"course_lib.chapters.ch07_chatbot.{bk.name}")


def rejects(result, kind, *words):
    assert not result, f"accepted a wrong answer: {result.message}"
    assert result.kind == kind, result.message
    for word in words:
        assert word in result.message, f"{word!r} not in {result.message!r}"
    assert "hint:" in result.message, result.message


def test_both_backends_define_the_same_checkers(tf_backend, torch_backend):
    assert exercises(tf_backend).__all__ == exercises(torch_backend).__all__
    assert set(SOLVED_BY) == {n for n in exercises(tf_backend).__all__ if n.startswith("check_")}
    from course_lib.chapters.ch07_chatbot import checkers

    assert [c.__name__ for c in checkers.CHECKERS] == list(SOLVED_BY)
    for bk in (tf_backend, torch_backend):
        for name in SOLVED_BY:
            bound = getattr(exercises(bk), name)
            assert bound.__doc__ == getattr(checkers, name).__doc__
            assert list(inspect.signature(bound).parameters) == [list(inspect.signature(getattr(checkers, name))
                                                                      .parameters)[1]]


@pytest.mark.parametrize("checker", sorted(SOLVED_BY))
def test_solutions_pass(backend, checker, capsys):
    result = getattr(exercises(backend), checker)(getattr(solutions(backend), SOLVED_BY[checker]))
    assert result, result.message
    assert capsys.readouterr().out.startswith(f"✓ {checker}:")


@pytest.mark.parametrize("checker", sorted(SOLVED_BY))
def test_a_stub_is_reported_as_not_done(backend, checker, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    rejects(getattr(exercises(backend), checker)(stub), "not implemented yet", "NotImplementedError")
    assert "Traceback" not in capsys.readouterr().out


def test_reverse_rejects_reversing_the_padding_too(backend):
    def whole_rows(x, lengths):
        return backend.fw.reverse(x, [1]) if backend.name == "tf" else x.flip(1)

    rejects(exercises(backend).check_reverse_padded(whole_rows), "value", "padding moved to the front")


def test_reverse_rejects_an_off_by_one(backend):
    def off_by_one(x, lengths):
        good = solutions(backend).my_reverse_padded(x, lengths)
        return good * 0 + backend.float(np.roll(backend.np(good), 1, axis=1))

    rejects(exercises(backend).check_reverse_padded(off_by_one), "value", "`result` at row 0, step 0")


def test_beam_start_rejects_the_wrong_tiling_order(backend):
    def wrong_order(model, memory, source_length, encoder_state, beam_width):
        if backend.name == "tf":
            tile = lambda x: backend.fw.tile(x, [beam_width] + [1] * (len(x.shape) - 1))  # noqa: E731
        else:
            tile = lambda x: x.repeat(beam_width, *([1] * (x.dim() - 1)))  # noqa: E731
        memory, source_length = tile(memory), tile(source_length)
        state = [tile(s) for s in encoder_state]
        cell = model.decoder_cell
        cell.attention_mechanism.setup_memory(memory, memory_sequence_length=source_length)
        return cell.get_initial_state(batch_size=memory.shape[0], dtype=memory.dtype).clone(cell_state=state)

    rejects(exercises(backend).check_beam_start(wrong_order), "value", "a, b, a, b", "next to each other")


def test_beam_start_rejects_a_memory_left_untiled(backend):
    cl = backend.cl

    def no_setup(model, memory, source_length, encoder_state, beam_width):
        state = cl.tile_batch(encoder_state, beam_width)
        return model.decoder_cell.get_initial_state(batch_size=memory.shape[0] * beam_width,
                                                    dtype=memory.dtype).clone(cell_state=state)

    result = exercises(backend).check_beam_start(no_setup)
    assert not result and ("setup_memory" in result.message or "tile" in result.message), result.message


@pytest.mark.parametrize("skip", ["log_q", "hits"])
def test_sampled_softmax_names_the_forgotten_part(backend, skip):
    from course_lib.chapters.ch07_chatbot import checkers as ch7

    def partial(weights, biases, labels, inputs, sampled_values):
        sampled, true_expected, sampled_expected = (backend.np(v) for v in sampled_values)
        if skip == "log_q":
            true_expected, sampled_expected = np.ones_like(true_expected), np.ones_like(sampled_expected)
        out = ch7.sampled_softmax_numpy(backend.np(weights), backend.np(biases), backend.np(labels),
                                        backend.np(inputs), (sampled, true_expected, sampled_expected),
                                        remove_accidental_hits=skip != "hits")
        return backend.float(out)

    words = {"log_q": "log(expected count)", "hits": "accidental hits are not removed"}[skip]
    rejects(exercises(backend).check_sampled_softmax(partial), "value", words)


# -- issue 13: at least three typical wrong answers of each exercise, each named ----------------

def test_reverse_rejects_reversing_the_batch_axis(backend):
    def batch_axis(x, lengths):
        return backend.fw.reverse(x, [0]) if backend.name == "tf" else x.flip(0)

    rejects(exercises(backend).check_reverse_padded(batch_axis), "value", "batch axis")


def test_reverse_rejects_zeroed_padding(backend):
    def zeroed(x, lengths):
        good = backend.np(solutions(backend).my_reverse_padded(x, lengths))
        T = good.shape[1]
        keep = np.arange(T)[None, :] < backend.np(lengths)[:, None]  # (B, T)
        return backend.float(good * keep.reshape(keep.shape + (1,) * (good.ndim - 2)))

    rejects(exercises(backend).check_reverse_padded(zeroed), "value", "padding positions became 0")


def test_beam_start_rejects_a_zero_cell_state(backend):
    cl = backend.cl

    def no_encoder_state(model, memory, source_length, encoder_state, beam_width):
        memory, source_length = cl.tile_batch(memory, beam_width), cl.tile_batch(source_length, beam_width)
        cell = model.decoder_cell
        cell.attention_mechanism.setup_memory(memory, memory_sequence_length=source_length)
        return cell.get_initial_state(batch_size=memory.shape[0], dtype=memory.dtype)  # no clone(cell_state=...)

    rejects(exercises(backend).check_beam_start(no_encoder_state), "value", "all zeros", "encoder's final state")


def test_beam_start_rejects_an_untiled_encoder_state(backend):
    cl = backend.cl

    def untiled_state(model, memory, source_length, encoder_state, beam_width):
        memory, source_length = cl.tile_batch(memory, beam_width), cl.tile_batch(source_length, beam_width)
        cell = model.decoder_cell
        cell.attention_mechanism.setup_memory(memory, memory_sequence_length=source_length)
        state = cell.get_initial_state(batch_size=memory.shape[0], dtype=memory.dtype)
        return state._replace(cell_state=list(encoder_state))

    rejects(exercises(backend).check_beam_start(untiled_state), "shape", "was not tiled")


def test_sampled_softmax_rejects_the_wrong_sign(backend):
    from course_lib.chapters.ch07_chatbot import checkers as ch7

    def plus_log_q(weights, biases, labels, inputs, sampled_values):
        sampled, true_expected, sampled_expected = (backend.np(v) for v in sampled_values)
        out = ch7.sampled_softmax_numpy(backend.np(weights), backend.np(biases), backend.np(labels),
                                        backend.np(inputs), (sampled, 1 / true_expected, 1 / sampled_expected))
        return backend.float(out)

    rejects(exercises(backend).check_sampled_softmax(plus_log_q), "value", "wrong sign")


def test_sampled_softmax_rejects_a_mean(backend):
    def mean(weights, biases, labels, inputs, sampled_values):
        loss = solutions(backend).my_sampled_softmax_loss(weights, biases, labels, inputs, sampled_values)
        return backend.fw.reduce_mean(loss) if backend.name == "tf" else loss.mean()

    rejects(exercises(backend).check_sampled_softmax(mean), "shape", "one loss per row")
