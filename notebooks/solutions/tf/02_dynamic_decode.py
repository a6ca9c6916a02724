"""Solutions to the exercises of Chapter 2 · The decode loop: dynamic_decode (TensorFlow).

Check them:  python notebooks/solutions/tf/02_dynamic_decode.py
Load one into a notebook cell:  %load ../solutions/tf/02_dynamic_decode.py
"""

from course_lib import tf as cl  # noqa: F401  (first: it quiets TensorFlow's C++ logging)
import tensorflow as tf


# Exercise 1: the greedy decode loop by hand
def my_greedy_decode(decoder, embedding, start_tokens, end_token, initial_state, maximum_iterations):
    finished, inputs, state = decoder.initialize(
        embedding, start_tokens=start_tokens, end_token=end_token, initial_state=initial_state)
    lengths = tf.zeros_like(start_tokens)  # (B,)
    sample_ids = []
    for t in range(maximum_iterations):
        if bool(tf.reduce_all(finished)):
            break
        outputs, state, inputs, step_finished = decoder.step(t, inputs, state)
        lengths = tf.where(finished, lengths, t + 1)  # a row's length grows until it has finished
        finished = finished | step_finished
        sample_ids.append(outputs.sample_id)  # (B,)
    return tf.stack(sample_ids, axis=1), lengths  # (B, T), (B,)


# Exercise 2: softmax with a temperature
def temperature_probs(logits, temperature):
    return tf.nn.softmax(logits / temperature, axis=-1)


# Exercise 3: decode lengths from sample ids
def lengths_from_ids(sample_ids, end_token):
    is_end = tf.equal(sample_ids, end_token)  # (B, T)
    first_end = tf.argmax(tf.cast(is_end, tf.int32), axis=1, output_type=tf.int32)  # the first True
    T = tf.shape(sample_ids)[1]
    return tf.where(tf.reduce_any(is_end, axis=1), first_end + 1, T)


if __name__ == "__main__":
    from course_lib.chapters.ch02_dynamic_decode import tf as ex

    results = [ex.check_decode_loop(my_greedy_decode), ex.check_temperature(temperature_probs),
               ex.check_lengths_from_ids(lengths_from_ids)]
    raise SystemExit(0 if all(results) else 1)
