"""The PyTorch side of the chapters' checkers: tensors in, NumPy out, and the backend ``cl``."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import course_lib.torch as cl

NAME = "torch"
FRAMEWORK = "PyTorch"

FLOAT_DTYPE = torch.float32
#: how a hint writes the float dtype and an axis argument
FLOAT_DTYPE_NAME = "torch.float32"
AXIS = "dim"


def float32(x):
    """A float32 tensor holding ``x``."""
    return torch.tensor(np.asarray(x, dtype=np.float32))


def ids(x):
    """An integer tensor of ids holding ``x`` (int64, PyTorch's index dtype)."""
    return torch.tensor(np.asarray(x).astype(np.int64))


def bools(x):
    """A bool tensor holding ``x`` (a mask)."""
    return torch.tensor(np.asarray(x, dtype=bool))


def numpy(x):
    """Tensors (nested) -> NumPy arrays."""
    return cl.to_numpy(x)


def no_grad():
    """A context without gradient bookkeeping."""
    return torch.no_grad()


def dense(in_features: int, units: int, use_bias: bool = True):
    """A dense layer for ``in_features`` inputs."""
    return nn.Linear(in_features, units, bias=use_bias)
