"""Solutions to the exercises of Chapter 1 · Unrolling a cell: dynamic_rnn (TensorFlow).

Check them:  python notebooks/solutions/tf/01_dynamic_rnn.py
Load one into a notebook cell:  %load ../solutions/tf/01_dynamic_rnn.py
"""

from course_lib import tf as cl  # noqa: F401  (first: it quiets TensorFlow's C++ logging)
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


# Exercise 3: the built-in layer on a padded batch
def lstm_like_dynamic_rnn(layer, inputs, sequence_length):
    mask = tf.sequence_mask(sequence_length, tf.shape(inputs)[1])  # (B, T)
    sequences, h, c = layer(inputs, mask=mask)  # the state is frozen at each row's end
    sequences = tf.where(mask[..., None], sequences, 0.0)  # Keras repeats the last output; dynamic_rnn writes 0
    return sequences, [h, c]


if __name__ == "__main__":
    from course_lib.chapters.ch01_dynamic_rnn import tf as ex

    results = [ex.check_unroll(my_dynamic_rnn), ex.check_masked_nll(masked_mean_nll),
               ex.check_builtin_lstm(lstm_like_dynamic_rnn)]
    raise SystemExit(0 if all(results) else 1)
