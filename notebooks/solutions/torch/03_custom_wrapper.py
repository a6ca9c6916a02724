"""Solutions to the exercises of Chapter 3 · Writing cells and wrappers (PyTorch).

Check them:  python notebooks/solutions/torch/03_custom_wrapper.py
Load one into a notebook cell:  %load ../solutions/torch/03_custom_wrapper.py
"""

from course_lib import torch as cl  # noqa: F401
import torch
from torch import nn


# Exercise 1: a cell that sums its inputs
class RunningSumCell(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.depth = depth

    @property
    def state_size(self):
        return self.depth

    @property
    def output_size(self):
        return self.depth

    def get_initial_state(self, batch_size=None, dtype=None, device=None):
        return torch.zeros(batch_size, self.depth, dtype=dtype, device=device)

    def forward(self, inputs, state):
        new = state + inputs  # (B, D)
        return new, new


# Exercise 2: a wrapper that projects the inputs
class InputProjectionWrapper(nn.Module):
    def __init__(self, cell, num_proj):
        super().__init__()
        self.cell = cell
        self.projection = nn.LazyLinear(num_proj)  # learns its input size on the first call

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return self.cell.output_size

    def get_initial_state(self, batch_size=None, dtype=None, device=None):
        return self.cell.get_initial_state(batch_size=batch_size, dtype=dtype, device=device)

    def forward(self, inputs, state):
        return self.cell(self.projection(inputs), state)  # (B, P) into the cell


# Exercise 3: a GRU cell from scratch
class MyGRUCell(nn.Module):
    def __init__(self, units):
        super().__init__()
        self.units = units
        self.kernel = self.recurrent_kernel = self.bias = None  # built on the first call

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def build(self, input_size):
        H = self.units
        self.kernel = nn.Parameter(nn.init.xavier_uniform_(torch.empty(input_size, 3 * H)))
        self.recurrent_kernel = nn.Parameter(nn.init.orthogonal_(torch.empty(H, 3 * H)))
        self.bias = nn.Parameter(torch.zeros(2, 3 * H))

    def get_initial_state(self, batch_size=None, dtype=None, device=None):
        return torch.zeros(batch_size, self.units, dtype=dtype, device=device)

    def forward(self, inputs, state):
        if self.kernel is None:
            self.build(inputs.shape[-1])
        h = state  # (B, H)
        x_z, x_r, x_h = (inputs @ self.kernel + self.bias[0]).chunk(3, dim=-1)
        h_z, h_r, h_h = (h @ self.recurrent_kernel + self.bias[1]).chunk(3, dim=-1)
        z = torch.sigmoid(x_z + h_z)  # update gate
        r = torch.sigmoid(x_r + h_r)  # reset gate
        h_tilde = torch.tanh(x_h + r * h_h)  # reset after the product (Keras reset_after=True)
        h = z * h + (1.0 - z) * h_tilde
        return h, h


if __name__ == "__main__":
    from course_lib.chapters.ch03_custom_wrapper import torch as ex

    results = [ex.check_running_sum_cell(RunningSumCell),
               ex.check_input_projection_wrapper(InputProjectionWrapper), ex.check_gru_cell(MyGRUCell)]
    raise SystemExit(0 if all(results) else 1)
