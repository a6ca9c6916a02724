"""Solutions to the exercises of Chapter 6 · Attention (TensorFlow).

Check them:  python notebooks/solutions/tf/06_attention.py
Load one into a notebook cell:  %load ../solutions/tf/06_attention.py
"""

from course_lib import tf as cl  # noqa: F401  (first: it quiets TensorFlow's C++ logging)
import tensorflow as tf


# Exercise 1: context vectors
def context_vectors(alignments, memory):
    return tf.einsum("ns,nsd->nd", alignments, memory)  # [N, S] x [N, S, D] -> [N, D]


# Exercise 2: the normalized Bahdanau score
def normalized_bahdanau_score(query, keys, query_kernel, attention_v, attention_g, attention_b):
    v = attention_g * attention_v / tf.norm(attention_v)                        # [U]: weight-normalised
    hidden = keys + tf.matmul(query, query_kernel)[:, None, :] + attention_b   # [B, S, U]
    return tf.reduce_sum(v * tf.tanh(hidden), axis=-1)                         # [B, S]


# Exercise 3: a masked softmax
def masked_softmax(scores, lengths):
    mask = tf.sequence_mask(lengths, tf.shape(scores)[1])                    # [B, S]
    masked = tf.where(mask, scores, tf.fill(tf.shape(scores), scores.dtype.min))
    return tf.nn.softmax(masked, axis=-1) * tf.cast(mask, scores.dtype)      # exactly 0 on padding


if __name__ == "__main__":
    from course_lib.chapters.ch06_attention import tf as ex

    results = [ex.check_context(context_vectors), ex.check_bahdanau_score(normalized_bahdanau_score),
               ex.check_masked_softmax(masked_softmax)]
    raise SystemExit(0 if all(results) else 1)
