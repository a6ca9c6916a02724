"""Solutions to the exercises of Chapter 4 · Your own helper (sampler) (PyTorch).

Check them:  python notebooks/solutions/torch/04_custom_helper.py
Load one into a notebook cell:  %load ../solutions/torch/04_custom_helper.py
"""

from course_lib import torch as cl
import torch
import torch.nn.functional as F


# Exercise 1: scheduled sampling with the coins given
class FeedMaskSampler(cl.Sampler):
    """Teacher forcing, except that step t of row b reads the embedding of the previous pick where feed_sample[b, t]."""

    def __init__(self, feed_sample):
        self.feed_sample = feed_sample  # [B, T] bool

    def initialize(self, inputs, sequence_length, embedding):
        self.inputs = inputs                    # [B, T, E]
        self.sequence_length = sequence_length  # [B]
        self.embedding = embedding              # [V, E]
        return self.sequence_length <= 0, self.inputs[:, 0]

    def sample(self, time, outputs, state):
        return outputs.argmax(dim=-1)           # [B]

    def next_inputs(self, time, outputs, state, sample_ids):
        finished = time + 1 >= self.sequence_length          # [B]
        t = min(time + 1, self.inputs.shape[1] - 1)          # the step these inputs are for
        own = F.embedding(sample_ids, self.embedding)        # [B, E]: the model's pick
        use_own = self.feed_sample[:, t][:, None]            # [B, 1]
        return finished, torch.where(use_own, own, self.inputs[:, t]), state

    @property
    def batch_size(self):
        return self.inputs.shape[0]


# Exercise 2: an InferenceSampler for real spectrogram frames
def make_frame_sampler(r, depth, silence):
    return cl.InferenceSampler(
        sample_fn=lambda outputs: outputs,                              # [B, r * depth]
        sample_shape=[r * depth], sample_dtype=torch.float32,
        end_fn=lambda frames: frames.abs().amax(dim=-1) < silence,      # [B]: a silent step
        next_inputs_fn=lambda frames: frames[:, -depth:])               # [B, depth]: the last frame


# Exercise 3: top-k sampling
class TopKSampler(cl.GreedyEmbeddingSampler):
    """Greedy decoding, except that each token is drawn among the k likeliest."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def sample(self, time, outputs, state):
        top_logits, top_ids = outputs.topk(self.k, dim=-1)                  # [B, k] each
        choice = torch.multinomial(torch.softmax(top_logits, dim=-1), 1)    # [B, 1]: which of the k
        return top_ids.gather(-1, choice)[:, 0]                             # [B]: its token id


if __name__ == "__main__":
    from course_lib.chapters.ch04_custom_helper import torch as ex

    results = [ex.check_feed_mask_sampler(FeedMaskSampler), ex.check_frame_sampler(make_frame_sampler),
               ex.check_top_k_sampler(TopKSampler)]
    raise SystemExit(0 if all(results) else 1)
