"""Chapter 3's checkers reject wrong cells and wrappers with a message that says what is wrong:
the cell protocol, the weights' shapes, the running sum's slips, the projection's, the GRU formula.

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
    rejects(ex.check_running_sum_cell(echo), "value", "`outputs`", "that step's input, not the sum so far")


def test_running_sum_cell_names_the_usual_slips(backend):
    """Returning the old sum, keeping only the input as the state, a one-number initial state (section 2's)."""
    ex, Right = chapter(backend), solution(backend, "check_running_sum_cell")
    late = _subclass(backend, Right, step=lambda self, inputs, state: (state, state + inputs))
    only_input = _subclass(backend, Right, step=lambda self, inputs, state: (state + inputs, inputs))
    if backend.name == "tf":
        def one_number(self, batch_size=None, dtype=None, **kwargs):
            return backend.fw.zeros([batch_size, 1], dtype or backend.fw.float32)
    else:
        def one_number(self, batch_size=None, dtype=None, device=None):
            return backend.fw.zeros(batch_size, 1, dtype=dtype, device=device)
    small_state = _subclass(backend, Right, get_initial_state=one_number)
    rejects(ex.check_running_sum_cell(late), "value", "the sum *before* this step's input", "one step late")
    rejects(ex.check_running_sum_cell(only_input), "value", "your new state is the step's input, not the sum")
    rejects(ex.check_running_sum_cell(small_state), "shape", "`initial state` must have shape [3, 4]", "got [3, 1]")


@pytest.mark.filterwarnings("ignore:`build\\(\\)` was called on layer")  # Keras, on the wrong answer's unused Dense
def test_input_projection_wrapper_rejects_a_missing_projection(backend):
    ex, Right = chapter(backend), solution(backend, "check_input_projection_wrapper")
    skip = _subclass(backend, Right, step=lambda self, inputs, state: self.cell(inputs, state))
    sized = _subclass(backend, Right, output_size=property(lambda self: 3))
    rejects(ex.check_input_projection_wrapper(sized), "structure", "`output_size` must be 6")
    result = ex.check_input_projection_wrapper(skip)
    rejects(result, "structure", "weights:", "`cell/kernel` is [4, 18], expected [3, 18]",
            "never passes them through the projection")


def test_input_projection_wrapper_names_an_activation_and_a_projected_output(backend):
    ex, Right = chapter(backend), solution(backend, "check_input_projection_wrapper")
    fw = backend.fw
    with_tanh = _subclass(backend, Right, step=lambda self, inputs, state: self.cell(fw.tanh(self.projection(inputs)),
                                                                                     state))
    relu = (lambda v: fw.nn.relu(v)) if backend.name == "tf" else fw.relu
    with_relu = _subclass(backend, Right, step=lambda self, inputs, state: self.cell(relu(self.projection(inputs)),
                                                                                     state))

    def project_output(self, inputs, state):
        output, new_state = self.cell(inputs, state)
        return self.projection(output), new_state

    rejects(ex.check_input_projection_wrapper(with_tanh), "value", "activation (tanh)", "no activation")
    rejects(ex.check_input_projection_wrapper(with_relu), "value", "activation (relu)")
    rejects(ex.check_input_projection_wrapper(_subclass(backend, Right, step=project_output)), "shape",
            "you projected the cell's output", "projects the *inputs*")


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
        if variant == "order_rzh":  # PyTorch's nn.GRU reads its blocks as r, z, n
            z, r = r, z
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
    ("order_rzh", ["step 0: you read the gate blocks in the order r, z, h", "z comes first"]),
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
