"""Chapter 1's checkers bound to PyTorch: ``from course_lib.chapters.ch01_dynamic_rnn import torch as ex``.

The checker bodies are ``checkers`` (written once); this module gives them PyTorch's pieces.
"""

import torch
from torch import nn

from course_lib.chapters import _torch
from course_lib.chapters.binding import Backend, bind
from course_lib.chapters.ch01_dynamic_rnn import checkers
from course_lib.common.checking import CheckResult


def _builtin_lstm(cell, depth: int):
    """``nn.LSTM`` for ``depth`` inputs holding ``cell``'s weights (transposed; one bias, the other zero)."""
    lstm = nn.LSTM(depth, cell.units, batch_first=True)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(cell.kernel.T)
        lstm.weight_hh_l0.copy_(cell.recurrent_kernel.T)
        lstm.bias_ih_l0.copy_(cell.bias)
        lstm.bias_hh_l0.zero_()
    return lstm


_BACKEND = Backend(
    _torch, where="torch.where", leaf_by_leaf="leaf by leaf",
    builtin_lstm=_builtin_lstm, builtin_lstm_name="nn.LSTM",
    builtin_lstm_hint="pack_padded_sequence(inputs, lengths.clamp(min=1), batch_first=True, enforce_sorted=False) "
                      "-> lstm -> pad_packed_sequence(..., batch_first=True, total_length=T); h = h_n[0], "
                      "c = c_n[0]; packing refuses length 0, so clamp to 1 and put zeros back in those rows "
                      "(outputs and state)",
    builtin_lstm_pad_hint="pad_packed_sequence(packed_output, batch_first=True, total_length=T) pads the "
                          "outputs to all T steps",
)

check_unroll, check_masked_nll, check_builtin_lstm = bind(checkers, _BACKEND, __name__)

__all__ = ["CheckResult", "check_unroll", "check_masked_nll", "check_builtin_lstm"]
