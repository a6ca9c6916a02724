"""The framework-free half of TF1's ``MultiRNNCell`` and cell wrappers (mixins of both backends' classes).

Each backend's class is ``class MultiRNNCell(MultiRNNCellLogic, RNNCell)`` and so on: the logic here
(argument checks, state sizes, the call's order of things) runs on the backend's tensor hooks:
``_cell_list`` (how a list of cells is kept), ``_dropout(x, name, salt)`` and ``_is_array(x)``.
"""

from __future__ import annotations

import warnings

from course_lib.common import nest
from course_lib.common.args import check_callable
from course_lib.common.checks import describe
from course_lib.common.contrib.state import (
    check_keep_prob, check_state_layout, default_dropout_state_filter, dropout_leaves, zero_state_of,
)


def check_cell(cell, name: str = "cell") -> None:
    """A cell is callable, with ``state_size`` and ``output_size``."""
    if not callable(cell) or not hasattr(cell, "state_size") or not hasattr(cell, "output_size"):
        raise TypeError(f"`{name}` must be an RNN cell (callable, with `state_size` and `output_size`), "
                        f"got {describe(cell)}")


class MultiRNNCellLogic:
    """Cells stacked in depth: cell k's output is cell k+1's input. State: a tuple, one per cell.

    Args: ``cells`` (a list, at least one; the same object twice shares its weights, with a
    warning), ``state_is_tuple`` (only True: TF1's concatenated states are not supported).
    """

    def __init__(self, cells, state_is_tuple=True, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError("`cells` must hold at least one cell, got an empty list")
        for i, cell in enumerate(cells):
            check_cell(cell, f"cells[{i}]")
        if not state_is_tuple:
            raise NotImplementedError("`state_is_tuple=False` (one concatenated state, deprecated in TF1) is not "
                                      "supported: the state is a tuple with one state per cell")
        if len({id(c) for c in cells}) < len(cells):
            warnings.warn("At least two cells provided to MultiRNNCell are the same object and will share weights.",
                          stacklevel=3)
        self.cells = self._cell_list(cells)

    @property
    def state_size(self):
        return tuple(cell.state_size for cell in self.cells)

    @property
    def output_size(self):
        return self.cells[-1].output_size

    def zero_state(self, batch_size, dtype=None, **kwargs):
        """A tuple of each cell's zero state (``kwargs``: PyTorch's ``device=``)."""
        return tuple(zero_state_of(cell, batch_size, dtype, **kwargs) for cell in self.cells)

    def call(self, inputs, state, **kwargs):
        """Args: inputs ``[B, D]``; state a tuple of the cells' states. Returns ``(output, new_states)``."""
        if not isinstance(state, (tuple, list)):
            raise TypeError(f"`state` must be a tuple of {len(self.cells)} states (one per cell), "
                            f"got {describe(state)}")
        if len(state) != len(self.cells):
            raise ValueError(f"`state` must be a tuple of {len(self.cells)} states (one per cell), got "
                             f"{nest.structure_string(state)}")
        check_state_layout(self.state_size, state, "state")
        new_states = []
        for cell, cell_state in zip(self.cells, state):
            inputs, cell_state = cell(inputs, cell_state, **kwargs)
            new_states.append(cell_state)
        return inputs, tuple(new_states)


class WrapperLogic:
    """A cell around a cell: its ``state_size``, ``output_size`` and ``zero_state`` are the inner cell's."""

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        check_cell(cell)
        self.cell = cell

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return self.cell.output_size

    def zero_state(self, batch_size, dtype=None, **kwargs):
        """The wrapped cell's zero state (``kwargs``: PyTorch's ``device=``)."""
        return zero_state_of(self.cell, batch_size, dtype, **kwargs)


class ResidualWrapperLogic(WrapperLogic):
    """Adds the cell's input to its output: ``residual_fn(inputs, outputs)``, default ``inputs + outputs``."""

    def __init__(self, cell, residual_fn=None, **kwargs):
        super().__init__(cell, **kwargs)
        check_callable(residual_fn, "residual_fn", allow_none=True)
        self._residual_fn = residual_fn

    def call(self, inputs, state, **kwargs):
        """Returns ``(inputs + cell_output, cell_state)``; the depths must match."""
        output, new_state = self.cell(inputs, state, **kwargs)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, output), new_state
        if inputs.shape[-1] is not None and output.shape[-1] is not None and inputs.shape[-1] != output.shape[-1]:
            raise ValueError(f"ResidualWrapper needs `inputs` of the cell's output depth {output.shape[-1]}, "
                             f"got {describe(inputs)}")
        return inputs + output, new_state


class DropoutWrapperLogic(WrapperLogic):
    """Dropout on the cell's inputs, outputs and state, with TF1's *keep* probabilities.

    As in TF1 there is no training flag: dropout applies whenever a keep probability is below 1
    (TF1 programs fed 1.0 at inference; pass 1.0, or a variable you set, for that). The default
    ``dropout_state_filter_visitor`` never drops the ``c`` of an ``LSTMStateTuple`` (nor a TensorArray).

    Args: ``cell``; ``input_keep_prob``, ``output_keep_prob``, ``state_keep_prob`` (floats in
    (0, 1] or scalar tensors); ``variational_recurrent`` (only False: TF1 drew its masks once per
    graph run, which has no eager counterpart; NotImplementedError); ``input_size``, ``dtype``
    (used only by variational dropout); ``seed``; ``dropout_state_filter_visitor``.
    """

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None, **kwargs):
        super().__init__(cell, **kwargs)
        if variational_recurrent:
            raise NotImplementedError("`variational_recurrent=True` is not supported: TF1 drew one mask per graph "
                                      "run; use per-step dropout (the default) or write the masks yourself")
        check_callable(dropout_state_filter_visitor, "dropout_state_filter_visitor", allow_none=True)
        self._keep = {}
        for name, value in (("input_keep_prob", input_keep_prob), ("output_keep_prob", output_keep_prob),
                            ("state_keep_prob", state_keep_prob)):
            self._keep[name] = None if check_keep_prob(value, name) else value  # None: no dropout at all
        self._seed = seed
        self._visitor = dropout_state_filter_visitor or (
            lambda substate: default_dropout_state_filter(substate, self._is_array))

    def call(self, inputs, state, **kwargs):
        """Returns ``(output, new_state)`` with dropout where the keep probabilities are below 1."""
        if self._keep["input_keep_prob"] is not None:
            inputs = self._dropout(inputs, "input_keep_prob", 0)
        output, new_state = self.cell(inputs, state, **kwargs)
        if self._keep["state_keep_prob"] is not None:
            leaves, drop = nest.flatten(new_state), dropout_leaves(new_state, self._visitor)
            new_state = nest.pack_sequence_as(new_state, [
                self._dropout(x, "state_keep_prob", 1 + i) if d else x for i, (x, d) in enumerate(zip(leaves, drop))])
        if self._keep["output_keep_prob"] is not None:
            output = self._dropout(output, "output_keep_prob", 100)
        return output, new_state
