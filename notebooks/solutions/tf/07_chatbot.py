"""Solutions to the exercises of Chapter 7 · A chatbot with attention (TensorFlow).

Check them:  python notebooks/solutions/tf/07_chatbot.py
Load one into a notebook cell:  %load ../solutions/tf/07_chatbot.py
"""

from course_lib import tf as cl  # first: it quiets TensorFlow's C++ logging
import tensorflow as tf


# Exercise 1: reverse each row within its length
def my_reverse_padded(x, lengths):
    T = tf.shape(x)[1]
    t = tf.range(T)[None, :]  # (1, T)
    L = tf.cast(lengths, tf.int32)[:, None]  # (B, 1)
    index = tf.where(t < L, L - 1 - t, t)  # (B, T): inside its length, row b reads position L-1-t
    return tf.gather(x, index, batch_dims=1)  # x[b, index[b, t]]


# Exercise 2: the decoder's start for beam search
def beam_start(model, memory, source_length, encoder_state, beam_width):
    memory = cl.tile_batch(memory, beam_width)  # (B*W, S, U): rows a, a, a, b, b, b
    source_length = cl.tile_batch(source_length, beam_width)  # (B*W,)
    encoder_state = cl.tile_batch(encoder_state, beam_width)  # [h, c], each (B*W, U)
    cell = model.decoder_cell
    cell.attention_mechanism.setup_memory(memory, memory_sequence_length=source_length)  # keys for B*W rows
    return cell.get_initial_state(batch_size=memory.shape[0], dtype=memory.dtype).clone(cell_state=encoder_state)


# Exercise 3: sampled softmax by hand
def my_sampled_softmax_loss(weights, biases, labels, inputs, sampled_values):
    sampled, true_expected, sampled_expected = sampled_values
    labels = tf.cast(labels, tf.int64)  # (N, 1)
    sampled = tf.cast(sampled, tf.int64)  # (S,)
    true_w = tf.gather(weights, labels[:, 0])  # (N, A)
    true_logits = tf.reduce_sum(inputs * true_w, -1, keepdims=True) + tf.gather(biases, labels)  # (N, 1)
    sampled_logits = tf.matmul(inputs, tf.gather(weights, sampled), transpose_b=True) + tf.gather(biases, sampled)
    hits = tf.equal(labels, sampled[None, :])  # (N, S): a sample that is the true class
    sampled_logits = tf.where(hits, tf.float32.min, sampled_logits)
    true_logits -= tf.math.log(tf.cast(tf.reshape(true_expected, [-1, 1]), tf.float32))
    sampled_logits -= tf.math.log(tf.cast(sampled_expected, tf.float32))[None, :]
    logits = tf.concat([true_logits, sampled_logits], 1)  # the true class is column 0
    return tf.nn.sparse_softmax_cross_entropy_with_logits(tf.zeros_like(labels[:, 0]), logits)


if __name__ == "__main__":
    from course_lib.chapters.ch07_chatbot import tf as ch

    results = [ch.check_reverse_padded(my_reverse_padded), ch.check_beam_start(beam_start),
               ch.check_sampled_softmax(my_sampled_softmax_loss)]
    raise SystemExit(0 if all(results) else 1)
