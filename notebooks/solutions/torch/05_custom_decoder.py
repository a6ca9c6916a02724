"""Solutions to the exercises of Chapter 5 · Your own decoder (PyTorch).

Check them:  python notebooks/solutions/torch/05_custom_decoder.py
Load one into a notebook cell:  %load ../solutions/torch/05_custom_decoder.py
"""

from course_lib import torch as cl
import numpy as np
import torch


# Exercise 1: tile_batch
def my_tile_batch(t, multiplier):
    if isinstance(t, (list, tuple)):
        return [my_tile_batch(x, multiplier) for x in t]
    return torch.repeat_interleave(t, multiplier, dim=0)  # rows a, b -> a, a, a, b, b, b


# Exercise 2: the length penalty
def gnmt_scores(log_probs, lengths, alpha):
    penalty = ((5.0 + lengths.float()) / 6.0) ** alpha
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
    from course_lib.chapters.ch05_custom_decoder import torch as ex

    results = [ex.check_tile_batch(my_tile_batch), ex.check_length_penalty(gnmt_scores),
               ex.check_gather_tree(my_gather_tree)]
    raise SystemExit(0 if all(results) else 1)
