"""Solutions to the exercises of Chapter 1 · Unrolling a cell: dynamic_rnn (TensorFlow).

Check them:  python notebooks/solutions/tf/01_dynamic_rnn.py
Load one into a notebook cell:  %load ../solutions/tf/01_dynamic_rnn.py
"""

from course_lib import tf as cl  # noqa: F401  (first: it quiets TensorFlow's C++ logging)
import keras
import tensorflow as tf


# Exercise 1: unroll a cell by hand, with sequence_length
def my_dynamic_rnn(cell, inputs, sequence_length):
    B, T = inputs.shape[0], inputs.shape[1]
    state = cell.get_initial_state(batch_size=B, dtype=inputs.dtype)
    outputs = []
    for t in range(T):
        output, new_state = cell(inputs[:, t], state)  # (B, H)
        valid = (t < sequence_length)[:, None]  # (B, 1): rows still inside their length
        outputs.append(tf.where(valid, output, tf.zeros_like(output)))
        state = tf.nest.map_structure(lambda new, old: tf.where(valid, new, old), new_state, state)
    return tf.stack(outputs, axis=1), state  # (B, T, H)


# Exercise 2: the masked mean negative log-likelihood
def masked_mean_nll(logits, targets, lengths):
    log_probs = tf.nn.log_softmax(logits)  # (B, T, V)
    nll = -tf.gather(log_probs, targets, batch_dims=2)  # (B, T): -log p(target)
    mask = tf.sequence_mask(lengths, tf.shape(targets)[1], dtype=logits.dtype)  # (B, T)
    return tf.reduce_sum(nll * mask) / tf.reduce_sum(mask)


# Exercise 3: the same LSTM as a Keras layer
def builtin_lstm(cell):
    layer = keras.layers.LSTM(cell.units, return_sequences=True, return_state=True)
    layer.build((None, None, cell.kernel.shape[0]))
    layer.set_weights([cell.kernel.numpy(), cell.recurrent_kernel.numpy(), cell.bias.numpy()])
    return layer


if __name__ == "__main__":
    from course_lib.tf import exercises as ex

    results = [ex.check_unroll(my_dynamic_rnn), ex.check_masked_nll(masked_mean_nll),
               ex.check_builtin_lstm(builtin_lstm)]
    raise SystemExit(0 if all(results) else 1)
