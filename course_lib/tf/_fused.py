"""The fast path for stock cells under teacher forcing: the input projections of all steps
are one matrix product before the loop, so each step only multiplies the recurrent state.

``dynamic_rnn`` and ``BasicDecoder`` choose it before they would run their step loop; the loops
a learner reads (``dynamic_decode``, ``rnn._step_loop``) have no fast path inside. The step
loop and this path give the same numbers (tested). Only the exact stock classes take it: a
subclass may change the step, so it takes the loop.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.tf.cells import GRUCell, LSTMCell, MultiRNNCell, SimpleRNNCell
from course_lib.tf.sampler import TrainingSampler

_STOCK = (LSTMCell, GRUCell, SimpleRNNCell)


def build_stock(cell, input_size: int) -> None:
    """Build unbuilt stock cells for ``input_size`` (as their first call would)."""
    cells = list(cell.cells) if type(cell) is MultiRNNCell else [cell]
    for c in cells:
        if type(c) not in _STOCK:
            return
        if c.built and c.input_size != int(input_size):
            raise ValueError(
                f"`inputs` of {c.name} must have depth {c.input_size} (set by its first call), "
                f"got depth {int(input_size)}"
            )
        if not c.built:
            c.build((None, input_size))
        input_size = c.units


def supports(cell) -> bool:
    """True when ``cell`` is a stock cell, or a ``MultiRNNCell`` of them, already built."""
    cells = list(cell.cells) if type(cell) is MultiRNNCell else [cell]
    return all(type(c) in _STOCK and c.built for c in cells)


def _layer(cell, x, valid, state):
    """One layer over ``x [T, B, D]``; ``valid [T, B, 1]`` or None. Returns ``(outputs [T, B, H], state)``."""
    T = tf.shape(x)[0]
    dtype = tf.as_dtype(cell.compute_dtype)  # float16 under mixed_float16, as the cell's own call computes
    x, state = tf.cast(x, dtype), tf.nest.map_structure(lambda s: tf.cast(s, dtype), state)
    kernel, U, bias = (tf.cast(w, dtype) for w in (cell.kernel, cell.recurrent_kernel, cell.bias))
    xw = tf.einsum("tbd,dk->tbk", x, kernel)  # (T, B, G*H): every step's input projection at once
    if type(cell) is GRUCell:
        xw = xw + bias[0]
    else:
        xw = xw + bias

    def step(x_t, state):
        if type(cell) is LSTMCell:
            h, c = state
            i, f, g, o = tf.split(x_t + tf.matmul(h, U), 4, axis=-1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h = tf.sigmoid(o) * tf.tanh(c)
            return h, [h, c]
        if type(cell) is GRUCell:
            rec = tf.matmul(state, U) + bias[1]
            x_z, x_r, x_h = tf.split(x_t, 3, axis=-1)
            r_z, r_r, r_h = tf.split(rec, 3, axis=-1)
            z = tf.sigmoid(x_z + r_z)
            r = tf.sigmoid(x_r + r_r)
            h = z * state + (1.0 - z) * tf.tanh(x_h + r * r_h)
            return h, h
        h = tf.tanh(x_t + tf.matmul(state, U))
        return h, h

    outputs_ta = tf.TensorArray(x.dtype, size=T, element_shape=tf.TensorShape([x.shape[1], cell.units]))
    if tf.executing_eagerly():
        read = xw.__getitem__
    else:  # in a graph, slicing xw[t] would make every step's gradient a full [T, B, G*H] tensor
        read = tf.TensorArray(xw.dtype, size=T).unstack(xw).read

    def body(t, outputs_ta, state):
        out, new_state = step(read(t), state)
        if valid is not None:
            v = valid[t]
            out = tf.where(v, out, tf.zeros_like(out))
            new_state = tf.nest.map_structure(lambda n, s: tf.where(v, n, s), new_state, state)
        return t + 1, outputs_ta.write(t, out), new_state

    _, outputs_ta, state = tf.while_loop(lambda t, *_: t < T, body, (tf.constant(0), outputs_ta, state))
    return outputs_ta.stack(), state


def unroll(cell, inputs_tm, sequence_length, initial_state):
    """Run a stock cell (or a ``MultiRNNCell`` of them) over time-major ``inputs [T, B, D]``.

    Returns ``(outputs [T, B, H], final_state)`` with ``dynamic_rnn``'s semantics: outputs zero
    past each row's length, state frozen there. ``sequence_length`` None: all rows run T steps.
    """
    cells = list(cell.cells) if type(cell) is MultiRNNCell else [cell]
    states = list(initial_state) if type(cell) is MultiRNNCell else [initial_state]
    valid = None
    if sequence_length is not None:
        T = tf.shape(inputs_tm)[0]
        valid = (tf.range(T)[:, None] < tf.cast(sequence_length, tf.int32)[None, :])[..., None]  # (T, B, 1)
    x, finals = inputs_tm, []
    for c, s in zip(cells, states):
        x, s = _layer(c, x, valid, s)
        finals.append(s)
    return x, (tuple(finals) if type(cell) is MultiRNNCell else finals[0])


def takes_teacher_forcing(decoder, inputs) -> bool:
    """True when ``decoder`` (a ``BasicDecoder``) teacher-forces a stock cell: an exact
    ``TrainingSampler``, and a stock cell built (or buildable) for the depth of ``inputs``."""
    if type(decoder.sampler) is not TrainingSampler or getattr(inputs, "shape", None) is None:
        return False
    if len(inputs.shape) < 3 or inputs.shape[-1] is None:
        return False
    build_stock(decoder.cell, inputs.shape[-1])
    return supports(decoder.cell)


def teacher_forced(decoder, initial_state, impute_finished, maximum_iterations):
    """The whole teacher-forced decode of an initialized ``BasicDecoder`` at once.

    Returns ``((rnn_output [T, B, V], sample_id [T, B]), final_state, lengths [B])``, time-major,
    what ``dynamic_decode``'s loop gives for it.
    """
    inputs = decoder.sampler.inputs  # (T, B, D)
    lengths = decoder.sampler.sequence_length
    steps = tf.reduce_max(tf.concat([lengths, [0]], axis=0))
    if maximum_iterations is not None:
        steps = tf.minimum(steps, maximum_iterations)
        lengths = tf.minimum(lengths, steps)
    outputs, state = unroll(decoder.cell, inputs[:steps], lengths if impute_finished else None, initial_state)
    if decoder.output_layer is not None:
        outputs = decoder.output_layer(outputs)  # (T, B, V)
    sample_ids = tf.argmax(outputs, axis=-1, output_type=tf.int32)  # (T, B)
    if impute_finished:
        valid = tf.range(steps)[:, None] < lengths[None, :]  # (T, B)
        outputs = tf.where(valid[..., None], outputs, tf.zeros_like(outputs))
        sample_ids = tf.where(valid, sample_ids, tf.zeros_like(sample_ids))
    return (outputs, sample_ids), state, lengths
