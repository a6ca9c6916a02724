"""Solutions to the exercises of Chapter 4 · Your own helper (sampler) (TensorFlow).

Check them:  python notebooks/solutions/tf/04_custom_helper.py
Load one into a notebook cell:  %load ../solutions/tf/04_custom_helper.py
"""

from course_lib import tf as cl  # first: it quiets TensorFlow's C++ logging
import tensorflow as tf


# Exercise 1: scheduled sampling with the coins given
class FeedMaskSampler(cl.Sampler):
    """Teacher forcing, except that step t of row b reads the embedding of the previous pick where feed_sample[b, t]."""

    def __init__(self, feed_sample):
        self.feed_sample = tf.convert_to_tensor(feed_sample)  # [B, T] bool

    def initialize(self, inputs, sequence_length, embedding):
        self.inputs = tf.convert_to_tensor(inputs)                    # [B, T, E]
        self.sequence_length = tf.convert_to_tensor(sequence_length)  # [B]
        self.embedding = embedding                                    # [V, E]
        return self.sequence_length <= 0, self.inputs[:, 0]

    def sample(self, time, outputs, state):
        return tf.argmax(outputs, axis=-1, output_type=tf.int32)     # [B]

    def next_inputs(self, time, outputs, state, sample_ids):
        finished = time + 1 >= self.sequence_length                   # [B]
        t = tf.minimum(time + 1, self.inputs.shape[1] - 1)            # the step these inputs are for
        own = tf.nn.embedding_lookup(self.embedding, sample_ids)      # [B, E]: the model's pick
        use_own = self.feed_sample[:, t][:, None]                     # [B, 1]
        return finished, tf.where(use_own, own, self.inputs[:, t]), state

    @property
    def batch_size(self):
        return self.inputs.shape[0]


# Exercise 2: an InferenceSampler for real spectrogram frames
def make_frame_sampler(r, depth, silence):
    return cl.InferenceSampler(
        sample_fn=lambda outputs: outputs,                                        # [B, r * depth]
        sample_shape=[r * depth], sample_dtype=tf.float32,
        end_fn=lambda frames: tf.reduce_max(tf.abs(frames), axis=-1) < silence,   # [B]: a silent step
        next_inputs_fn=lambda frames: frames[:, -depth:])                         # [B, depth]: the last frame


# Exercise 3: top-k sampling
class TopKSampler(cl.GreedyEmbeddingSampler):
    """Greedy decoding, except that each token is drawn among the k likeliest."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def sample(self, time, outputs, state):
        top_logits, top_ids = tf.math.top_k(outputs, k=self.k)               # [B, k] each
        choice = tf.random.categorical(top_logits, 1, dtype=tf.int32)[:, 0]  # [B]: which of the k
        return tf.gather(top_ids, choice, batch_dims=1)                      # [B]: its token id


if __name__ == "__main__":
    from course_lib.chapters.ch04_custom_helper import tf as ex

    results = [ex.check_feed_mask_sampler(FeedMaskSampler), ex.check_frame_sampler(make_frame_sampler),
               ex.check_top_k_sampler(TopKSampler)]
    raise SystemExit(0 if all(results) else 1)
