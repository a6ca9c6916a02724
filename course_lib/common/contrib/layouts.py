"""How TF1's cell weights map to the Keras layout of course_lib's modern cells (NumPy in and out).

**BasicLSTMCell / LSTMCell (TF1)**: one ``kernel [D + H, 4H]`` over ``concat([x, h])``, gate
blocks in the order **i, j, f, o** (j: the candidate), ``bias [4H]`` (zeros), and ``forget_bias``
(default 1.0) added to ``f`` *at every call*::

    i, j, f, o = split(concat([x, h]) @ kernel + bias, 4)
    c' = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j);   h' = tanh(c') * sigmoid(o)

**Keras / course_lib LSTMCell**: ``kernel [D, 4H]`` (rows for x) and ``recurrent_kernel [H, 4H]``
(rows for h), gate blocks **i, f, c, o** (c = TF1's j), ``bias [4H]``; Keras'
``unit_forget_bias`` only *initialises* the f block to 1. So::

    kernel           = tf1_kernel[:D]  with column blocks (i, j, f, o) -> (i, f, j, o)
    recurrent_kernel = tf1_kernel[D:]  likewise
    bias             = tf1_bias        likewise, with forget_bias added to the f block

**BasicRNNCell**: ``kernel [D + H, H]`` -> ``kernel = [:D]``, ``recurrent_kernel = [D:]``; same bias.

**GRUCell (TF1)**: ``gates/kernel [D + H, 2H]`` (blocks r, u), ``gates/bias`` (starts at 1),
``candidate/kernel [D + H, H]``, ``candidate/bias``; the reset gate multiplies ``h`` *before* the
candidate's matmul (Keras ``reset_after=False``). course_lib's GRUCell is ``reset_after=True``
(Keras' default), a different function: TF1 GRU weights have no exact counterpart there, so
the contrib GRUCell keeps its own step.
"""

from __future__ import annotations

import numpy as np

_TF1_TO_KERAS = (0, 2, 1, 3)  # Keras block k (i, f, c, o) is TF1 block _TF1_TO_KERAS[k] of (i, j, f, o)
_KERAS_TO_TF1 = (0, 2, 1, 3)  # the same permutation undoes itself


def _blocks(x: np.ndarray, order) -> np.ndarray:
    parts = np.split(np.asarray(x), 4, axis=-1)
    return np.concatenate([parts[k] for k in order], axis=-1)


def lstm_to_keras(kernel, bias, input_depth: int, forget_bias: float = 1.0) -> dict:
    """TF1 ``BasicLSTMCell`` / ``LSTMCell`` weights as a modern ``LSTMCell``'s.

    Args:
      kernel: ``[D + H, 4H]``, gate blocks i, j, f, o.
      bias: ``[4H]``.
      input_depth: D.
      forget_bias: the TF1 cell's ``forget_bias`` (folded into the f block of the bias).

    Returns:
      ``{"kernel": [D, 4H], "recurrent_kernel": [H, 4H], "bias": [4H]}``, gates i, f, c, o.
    """
    kernel, bias = np.asarray(kernel, np.float32), np.asarray(bias, np.float32)
    if kernel.ndim != 2 or kernel.shape[1] % 4 or bias.shape != (kernel.shape[1],):
        raise ValueError(f"`kernel` must be [D + H, 4H] and `bias` [4H], got {list(kernel.shape)} and "
                         f"{list(bias.shape)}")
    H = kernel.shape[1] // 4
    if kernel.shape[0] != input_depth + H:
        raise ValueError(f"`kernel` must have input_depth + H = {input_depth} + {H} rows, got {kernel.shape[0]}")
    keras_bias = _blocks(bias, _TF1_TO_KERAS).copy()
    keras_bias[H:2 * H] += forget_bias
    return {"kernel": _blocks(kernel[:input_depth], _TF1_TO_KERAS),
            "recurrent_kernel": _blocks(kernel[input_depth:], _TF1_TO_KERAS),
            "bias": keras_bias}


def lstm_from_keras(kernel, recurrent_kernel, bias, forget_bias: float = 1.0) -> dict:
    """A modern ``LSTMCell``'s weights as a TF1 ``BasicLSTMCell``'s (the inverse of ``lstm_to_keras``).

    Returns ``{"kernel": [D + H, 4H], "bias": [4H]}``, gates i, j, f, o, with ``forget_bias``
    taken out of the f block (TF1 adds it back at every call).
    """
    bias = np.asarray(bias, np.float32).copy()
    H = bias.shape[0] // 4
    bias[H:2 * H] -= forget_bias
    stacked = np.concatenate([np.asarray(kernel, np.float32), np.asarray(recurrent_kernel, np.float32)], axis=0)
    return {"kernel": _blocks(stacked, _KERAS_TO_TF1), "bias": _blocks(bias, _KERAS_TO_TF1)}


def basic_rnn_to_keras(kernel, bias, input_depth: int) -> dict:
    """TF1 ``BasicRNNCell`` weights (``kernel [D + H, H]``) as a modern ``SimpleRNNCell``'s."""
    kernel = np.asarray(kernel, np.float32)
    return {"kernel": kernel[:input_depth], "recurrent_kernel": kernel[input_depth:],
            "bias": np.asarray(bias, np.float32)}


def basic_rnn_from_keras(kernel, recurrent_kernel, bias) -> dict:
    """A modern ``SimpleRNNCell``'s weights as a TF1 ``BasicRNNCell``'s: ``kernel [D + H, H]``, ``bias [H]``."""
    return {"kernel": np.concatenate([np.asarray(kernel, np.float32), np.asarray(recurrent_kernel, np.float32)], 0),
            "bias": np.asarray(bias, np.float32)}
