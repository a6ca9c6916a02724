"""``TensorArray``: PyTorch's twin of ``tf.TensorArray``, for histories that grow per decode step."""

from __future__ import annotations

import torch


class TensorArray:
    """An append-only list of same-shaped tensors: PyTorch's twin of ``tf.TensorArray``.

    Histories that grow by one entry per decode step (attention alignments) are kept in one,
    so that ``dynamic_decode(impute_finished=True)`` passes them through untouched.
    ``write`` returns a new array (the old one is unchanged), as in TensorFlow.
    """

    def __init__(self, items=()):
        self._items = tuple(items)

    def write(self, index: int, value: torch.Tensor) -> "TensorArray":
        if int(index) != len(self._items):
            raise ValueError(f"`index` must be the next free position {len(self._items)}, got {index}")
        return TensorArray(self._items + (value,))

    def read(self, index: int) -> torch.Tensor:
        return self._items[index]

    def size(self) -> int:
        return len(self._items)

    def stack(self) -> torch.Tensor:
        """All entries stacked on a new leading (time) axis: ``[T, ...]``."""
        if not self._items:
            raise ValueError("cannot stack an empty TensorArray")
        return torch.stack(self._items, dim=0)

    def __repr__(self) -> str:
        return f"TensorArray(size={len(self._items)})"
