"""Seeds, devices and NumPy conversion for the PyTorch backend."""

from __future__ import annotations

import random

import numpy as np
import torch

from course_lib.common import nest


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so a run repeats."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def default_device() -> torch.device:
    """CUDA when a GPU is present, else the CPU. Modules run on the device of their inputs."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_numpy(structure):
    """Tensors (nested in tuples, lists, named tuples, dicts) -> NumPy arrays; others kept."""
    def convert(x):
        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
        if hasattr(x, "stack") and hasattr(x, "size") and hasattr(x, "write"):  # TensorArray
            return x.stack().detach().cpu().numpy() if x.size() else np.zeros((0,), np.float32)
        return x
    return nest.map_structure(convert, structure)


def to_device(structure, device):
    """Move the tensors of a nested structure to ``device``."""
    return nest.map_structure(lambda x: x.to(device) if isinstance(x, torch.Tensor) else x, structure)


def device_of(*values) -> torch.device:
    """The device of the first tensor (or module with parameters) found in ``values`` (nested
    structures too); the CPU when there is none."""
    for v in values:
        for leaf in nest.flatten(v) if nest.is_nested(v) else [v]:
            if isinstance(leaf, torch.Tensor):
                return leaf.device
            if isinstance(leaf, torch.nn.Module):
                for p in leaf.parameters():
                    return p.device
    return torch.device("cpu")
