"""Solutions to the exercises of Chapter 6 · Attention (PyTorch).

Check them:  python notebooks/solutions/torch/06_attention.py
Load one into a notebook cell:  %load ../solutions/torch/06_attention.py
"""

from course_lib import torch as cl  # noqa: F401  (the same first line as the TensorFlow solutions)
import torch


# Exercise 1: context vectors
def context_vectors(alignments, memory):
    return torch.einsum("ns,nsd->nd", alignments, memory)  # [N, S] x [N, S, D] -> [N, D]


# Exercise 2: the normalized Bahdanau score
def normalized_bahdanau_score(query, keys, query_kernel, attention_v, attention_g, attention_b):
    v = attention_g * attention_v / attention_v.norm()                 # [U]: weight-normalised
    hidden = keys + (query @ query_kernel)[:, None, :] + attention_b   # [B, S, U]
    return (v * torch.tanh(hidden)).sum(-1)                            # [B, S]


# Exercise 3: a masked softmax
def masked_softmax(scores, lengths):
    mask = torch.arange(scores.shape[1])[None, :] < lengths[:, None]    # [B, S]
    masked = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return torch.softmax(masked, dim=-1) * mask                         # exactly 0 on padding


if __name__ == "__main__":
    from course_lib.chapters.ch06_attention import torch as ex

    results = [ex.check_context(context_vectors), ex.check_bahdanau_score(normalized_bahdanau_score),
               ex.check_masked_softmax(masked_softmax)]
    raise SystemExit(0 if all(results) else 1)
