"""The exercise checkers of chapters 1-3: they accept the solutions in notebooks/solutions/ and
reject wrong answers with a message that says what is wrong (shape, value, which row and step).

Wrong answers are written once for both backends where they can be (NumPy bookkeeping, or a
solution class with one method replaced); ``backend`` runs each test in TensorFlow and PyTorch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["01_dynamic_rnn", "02_dynamic_decode", "03_custom_wrapper"]

#: checker name -> (chapter, the solution's name)
SOLVED_BY = {
    "check_unroll": ("01_dynamic_rnn", "my_dynamic_rnn"),
    "check_masked_nll": ("01_dynamic_rnn", "masked_mean_nll"),
    "check_builtin_lstm": ("01_dynamic_rnn", "lstm_like_dynamic_rnn"),
    "check_decode_loop": ("02_dynamic_decode", "my_greedy_decode"),
    "check_temperature": ("02_dynamic_decode", "temperature_probs"),
    "check_lengths_from_ids": ("02_dynamic_decode", "lengths_from_ids"),
    "check_running_sum_cell": ("03_custom_wrapper", "RunningSumCell"),
    "check_input_projection_wrapper": ("03_custom_wrapper", "InputProjectionWrapper"),
    "check_gru_cell": ("03_custom_wrapper", "MyGRUCell"),
}

_loaded = {}


def solutions(backend_name: str, chapter: str):
    """The solutions module ``notebooks/solutions/<backend>/<chapter>.py``, loaded once."""
    key = (backend_name, chapter)
    if key not in _loaded:
        path = ROOT / "notebooks" / "solutions" / backend_name / f"{chapter}.py"
        spec = importlib.util.spec_from_file_location(f"solutions_{backend_name}_{chapter}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[key] = module
    return _loaded[key]


def exercises(bk):
    return importlib.import_module(f"course_lib.{bk.name}.exercises")


def solution(bk, checker):
    chapter, name = SOLVED_BY[checker]
    return getattr(solutions(bk.name, chapter), name)


def rejects(result, kind, *words):
    """The result failed with ``kind`` and its message holds every word in ``words``."""
    assert not result, f"accepted a wrong answer: {result.message}"
    assert result.kind == kind, result.message
    for word in words:
        assert word in result.message, f"{word!r} not in {result.message!r}"
    assert "hint:" in result.message, result.message


def method_name(bk):
    return "call" if bk.name == "tf" else "forward"


# -- the solutions pass; the checkers' names are the same in both backends ---------------------

def test_both_backends_define_the_same_checkers(tf_backend, torch_backend):
    tf_ex, torch_ex = exercises(tf_backend), exercises(torch_backend)
    assert tf_ex.__all__ == torch_ex.__all__
    assert set(SOLVED_BY) == {n for n in tf_ex.__all__ if n.startswith("check_")}


@pytest.mark.parametrize("checker", sorted(SOLVED_BY))
def test_solutions_pass(backend, checker, capsys):
    result = getattr(exercises(backend), checker)(solution(backend, checker))
    assert result, result.message
    assert capsys.readouterr().out.startswith(f"✓ {checker}:")


@pytest.mark.parametrize("checker", sorted(SOLVED_BY))
def test_a_stub_is_reported_as_not_done(backend, checker, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    result = getattr(exercises(backend), checker)(stub)
    rejects(result, "not implemented yet", "NotImplementedError")
    out = capsys.readouterr().out
    assert out.startswith(f"✗ {checker}") and "Traceback" not in out


def test_a_crash_is_reported_with_its_line_not_a_traceback(backend, capsys):
    def broken(cell, inputs, sequence_length):
        return inputs.no_such_method()

    rejects(exercises(backend).check_unroll(broken), "error", "AttributeError", "no_such_method")
    assert "Traceback" not in capsys.readouterr().out


# -- chapter 1 --------------------------------------------------------------------------------

def _transpose01(bk, x):
    return bk.fw.transpose(x, [1, 0, 2]) if bk.name == "tf" else x.transpose(0, 1)


def test_unroll_rejects_outputs_past_the_length(backend):
    cl = backend.cl
    result = exercises(backend).check_unroll(lambda cell, x, L: cl.dynamic_rnn(cell, x))
    rejects(result, "value", "`outputs` at row 1, step 1", "row 1 has length 1, so step 1 is padding")


def test_unroll_rejects_time_major_outputs(backend):
    cl = backend.cl

    def time_major(cell, x, L):
        out, state = cl.dynamic_rnn(cell, x, sequence_length=L)
        return _transpose01(backend, out), state

    rejects(exercises(backend).check_unroll(time_major), "shape", "`outputs` must have shape [4, 6, 4]",
            "got [6, 4, 4]")


def test_unroll_rejects_a_state_that_runs_past_the_length(backend):
    cl = backend.cl

    def unfrozen(cell, x, L):
        out, _ = cl.dynamic_rnn(cell, x, sequence_length=L)
        _, state = cl.dynamic_rnn(cell, x)
        return out, state

    rejects(exercises(backend).check_unroll(unfrozen), "value", "`final_state[0] (h)` at row 1",
            "its final state is the state after step 0")


def test_unroll_rejects_an_lstm_state_without_c(backend):
    cl = backend.cl

    def h_only(cell, x, L):
        out, state = cl.dynamic_rnn(cell, x, sequence_length=L)
        return out, state[0]

    rejects(exercises(backend).check_unroll(h_only), "structure", "list [h, c]")


def test_masked_nll_names_the_mistake(backend):
    cl, ex = backend.cl, exercises(backend)

    def unmasked(logits, targets, lengths):
        return cl.sequence_loss(logits, targets, backend.float(np.ones(tuple(targets.shape))))

    def over_all_positions(logits, targets, lengths):
        weights = cl.sequence_mask(lengths, targets.shape[1], dtype=backend.float(0.0).dtype)
        total = cl.sequence_loss(logits, targets, weights, average_across_timesteps=False,
                                 average_across_batch=False)  # [B, T]
        return backend.fw.reduce_sum(total) / (targets.shape[0] * targets.shape[1]) if backend.name == "tf" \
            else total.sum() / targets.numel()

    def per_row(logits, targets, lengths):
        weights = cl.sequence_mask(lengths, targets.shape[1], dtype=backend.float(0.0).dtype)
        return cl.sequence_loss(logits, targets, weights, average_across_batch=False)  # [B]

    rejects(ex.check_masked_nll(unmasked), "value", "expected", "padding positions")
    rejects(ex.check_masked_nll(over_all_positions), "value", "divided the masked sum by B*T")
    rejects(ex.check_masked_nll(per_row), "shape", "`loss` must have shape []", "got [3]")


def test_builtin_lstm_rejects_the_layer_as_it_comes(backend):
    """Without the padding fixes the built-in layer differs from dynamic_rnn past a row's end."""
    ex = exercises(backend)
    if backend.name == "tf":
        def masked_only(layer, x, L):  # Keras repeats the last output over the padding
            sequences, h, c = layer(x, mask=backend.fw.sequence_mask(L, x.shape[1]))
            return sequences, [h, c]

        def unmasked(layer, x, L):
            sequences, h, c = layer(x)
            return sequences, [h, c]

        rejects(ex.check_builtin_lstm(masked_only), "value", "`outputs` at row 1, step 1",
                "row 1 has length 1, so step 1 is padding", "repeats the last output")
    else:
        def unmasked(layer, x, L):
            output, (h_n, c_n) = layer(x)
            return output, [h_n[0], c_n[0]]

        def packed_no_zero_fix(layer, x, L):
            from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
            packed = pack_padded_sequence(x, L.clamp(min=1), batch_first=True, enforce_sorted=False)
            out, (h_n, c_n) = layer(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            return out, [h_n[0], c_n[0]]

        rejects(ex.check_builtin_lstm(packed_no_zero_fix), "value", "`outputs` at row 2, step 0",
                "row 2 has length 0, so step 0 is padding", "clamp to 1")
    rejects(ex.check_builtin_lstm(unmasked), "value", "`outputs` at row 1, step 1", "padding")


# -- chapter 2 --------------------------------------------------------------------------------

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
    assert exercises(backend).check_decode_loop(_numpy_loop(backend))
    assert "lengths [6, 1, 7, 5, 7]" in capsys.readouterr().out


def test_decode_loop_rejects_lengths_that_skip_the_end_step(backend):
    rejects(exercises(backend).check_decode_loop(_numpy_loop(backend, count_end=False)), "value",
            "`lengths` at row 0: expected 6, got 5", "emits the end token 2 at step 5, and that step counts")


def test_decode_loop_rejects_running_past_maximum_iterations(backend):
    rejects(exercises(backend).check_decode_loop(_numpy_loop(backend, extra_steps=3)), "value",
            "`lengths` at row 2: expected 7", "stops at maximum_iterations = 7")


def test_decode_loop_rejects_time_major_ids(backend):
    rejects(exercises(backend).check_decode_loop(_numpy_loop(backend, time_major=True)), "shape",
            "`sample_ids` must have shape [5, 7]", "got [7, 5]")


def _softmax(bk, x):
    return bk.fw.nn.softmax(x, axis=-1) if bk.name == "tf" else bk.fw.softmax(x, dim=-1)


def test_temperature_names_the_mistake(backend):
    ex = exercises(backend)
    rejects(ex.check_temperature(lambda logits, t: _softmax(backend, logits * t)), "value",
            "softmax(logits * temperature)", "divide the logits by the temperature")
    rejects(ex.check_temperature(lambda logits, t: logits / t), "value", "sums to", "softmax")
    rejects(ex.check_temperature(lambda logits, t: _softmax(backend, logits / t)[0]), "shape",
            "`probs` must have shape [3, 7]")


def test_lengths_from_ids_names_the_row_and_why(backend):
    ex = exercises(backend)

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


# -- chapter 3 --------------------------------------------------------------------------------

def _subclass(bk, base, **methods):
    """``base`` with methods replaced; ``step`` becomes ``call`` (TF) or ``forward`` (PyTorch)."""
    if "step" in methods:
        methods[method_name(bk)] = methods.pop("step")
    return type(f"Wrong{base.__name__}", (base,), methods)


def test_running_sum_cell_rejects_a_wrong_protocol_and_wrong_sums(backend):
    ex, Right = exercises(backend), solution(backend, "check_running_sum_cell")
    no_size = _subclass(backend, Right, state_size=property(lambda self: 1))
    echo = _subclass(backend, Right, step=lambda self, inputs, state: (inputs, state + inputs))
    rejects(ex.check_running_sum_cell(no_size), "structure", "`state_size` must be 4", "got 1")
    rejects(ex.check_running_sum_cell(echo), "value", "`outputs` at row 0, step 1", "inside row 0's length")


@pytest.mark.filterwarnings("ignore:`build\\(\\)` was called on layer")  # Keras, on the wrong answer's unused Dense
def test_input_projection_wrapper_rejects_a_missing_projection(backend):
    ex, Right = exercises(backend), solution(backend, "check_input_projection_wrapper")
    skip = _subclass(backend, Right, step=lambda self, inputs, state: self.cell(inputs, state))
    sized = _subclass(backend, Right, output_size=property(lambda self: 3))
    rejects(ex.check_input_projection_wrapper(sized), "structure", "`output_size` must be 6")
    result = ex.check_input_projection_wrapper(skip)
    rejects(result, "structure", "weights:", "`cell/kernel` is [4, 18], expected [3, 18]")


def _gru_step(bk, variant):
    fw = bk.fw

    def step(self, inputs, state):
        if getattr(self, "kernel", None) is None and bk.name == "torch":
            self.build(inputs.shape[-1])
        H = self.units
        xw = inputs @ self.kernel + self.bias[0]
        hu = state @ self.recurrent_kernel + self.bias[1]
        z = fw.sigmoid(xw[:, :H] + hu[:, :H])
        r = fw.sigmoid(xw[:, H:2 * H] + hu[:, H:2 * H])
        if variant == "reset_before":
            h_tilde = fw.tanh(xw[:, 2 * H:] + (r * state) @ self.recurrent_kernel[:, 2 * H:] + self.bias[1][2 * H:])
        else:
            h_tilde = fw.tanh(xw[:, 2 * H:] + r * hu[:, 2 * H:])
        h = (1 - z) * state + z * h_tilde if variant == "swapped" else z * state + (1 - z) * h_tilde
        return h, h
    return step


@pytest.mark.parametrize("variant,words", [
    ("swapped", ["step 0: your h' = (1 − z) ⊙ h + z ⊙ ĥ", "keep the old state where z is 1"]),
    ("reset_before", ["step 0: you reset before the matrix product", "reset_after"]),
])
def test_gru_cell_names_the_formula_slip(backend, variant, words):
    Right = solution(backend, "check_gru_cell")
    Wrong = _subclass(backend, Right, step=_gru_step(backend, variant))
    rejects(exercises(backend).check_gru_cell(Wrong), "value", *words)


def test_gru_cell_rejects_a_one_row_bias(backend):
    Right = solution(backend, "check_gru_cell")
    if backend.name == "tf":
        def build(self, input_shape):
            D, H = int(input_shape[-1]), self.units
            self.kernel = self.add_weight(name="kernel", shape=(D, 3 * H))
            self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(H, 3 * H))
            self.bias = self.add_weight(name="bias", shape=(3 * H,), initializer="zeros")
    else:
        import torch

        def build(self, input_size):
            H = self.units
            self.kernel = torch.nn.Parameter(torch.zeros(input_size, 3 * H))
            self.recurrent_kernel = torch.nn.Parameter(torch.zeros(H, 3 * H))
            self.bias = torch.nn.Parameter(torch.zeros(3 * H))
    Wrong = _subclass(backend, Right, build=build)
    rejects(exercises(backend).check_gru_cell(Wrong), "shape", "`bias` is [12], expected [2, 12]")
