"""Solutions to the exercises of Chapter 5 · Your own decoder (TensorFlow).

Check them:  python notebooks/solutions/tf/05_custom_decoder.py
Load one into a notebook cell:  %load ../solutions/tf/05_custom_decoder.py
"""

from course_lib import tf as cl  # first: it quiets TensorFlow's C++ logging
import numpy as np
import tensorflow as tf


# Exercise 1: tile_batch
def my_tile_batch(t, multiplier):
    if isinstance(t, (list, tuple)):
        return [my_tile_batch(x, multiplier) for x in t]
    return tf.repeat(t, multiplier, axis=0)  # rows a, b -> a, a, a, b, b, b


# Exercise 2: the length penalty
def gnmt_scores(log_probs, lengths, alpha):
    penalty = ((5.0 + tf.cast(lengths, tf.float32)) / 6.0) ** alpha
    return log_probs / penalty


# Exercise 3: gather_tree
def my_gather_tree(step_ids, parent_ids, end_token):
    step_ids, parent_ids = cl.to_numpy(step_ids), cl.to_numpy(parent_ids)
    T, B, W = step_ids.shape
    out = np.empty_like(step_ids)
    beam = np.tile(np.arange(W), (B, 1))  # [B, W]: where each final beam's path is at step t
    rows = np.arange(B)[:, None]
    for t in reversed(range(T)):
        out[t] = step_ids[t][rows, beam]
        beam = parent_ids[t][rows, beam]
    ended = np.cumsum(out == end_token, axis=0) - (out == end_token) > 0  # after the first end token
    return np.where(ended, end_token, out)


if __name__ == "__main__":
    from course_lib.chapters.ch05_custom_decoder import tf as ex

    results = [ex.check_tile_batch(my_tile_batch), ex.check_length_penalty(gnmt_scores),
               ex.check_gather_tree(my_gather_tree)]
    raise SystemExit(0 if all(results) else 1)
