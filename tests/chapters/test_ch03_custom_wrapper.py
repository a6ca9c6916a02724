"""Chapter 3's checkers reject wrong cells and wrappers with a message that says what is wrong:
the cell protocol, the weights' shapes, the GRU formula.

Wrong answers are the solutions with one method replaced (``step`` becomes ``call`` or ``forward``)."""

from __future__ import annotations

import pytest

from tests.chapters.helpers import binding, method_name, rejects, solution

PACKAGE = "ch03_custom_wrapper"


def chapter(bk):
    """This chapter's checkers in backend ``bk`` (what its notebook imports as ``ex``)."""
    return binding(bk, PACKAGE)


def _subclass(bk, base, **methods):
    """``base`` with methods replaced; ``step`` becomes ``call`` (TF) or ``forward`` (PyTorch)."""
    if "step" in methods:
        methods[method_name(bk)] = methods.pop("step")
    return type(f"Wrong{base.__name__}", (base,), methods)


def test_running_sum_cell_rejects_a_wrong_protocol_and_wrong_sums(backend):
    ex, Right = chapter(backend), solution(backend, "check_running_sum_cell")
    no_size = _subclass(backend, Right, state_size=property(lambda self: 1))
    echo = _subclass(backend, Right, step=lambda self, inputs, state: (inputs, state + inputs))
    rejects(ex.check_running_sum_cell(no_size), "structure", "`state_size` must be 4", "got 1")
    rejects(ex.check_running_sum_cell(echo), "value", "`outputs` at row 0, step 1", "inside row 0's length")


@pytest.mark.filterwarnings("ignore:`build\\(\\)` was called on layer")  # Keras, on the wrong answer's unused Dense
def test_input_projection_wrapper_rejects_a_missing_projection(backend):
    ex, Right = chapter(backend), solution(backend, "check_input_projection_wrapper")
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
    rejects(chapter(backend).check_gru_cell(Wrong), "value", *words)


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
    rejects(chapter(backend).check_gru_cell(Wrong), "shape", "`bias` is [12], expected [2, 12]")
