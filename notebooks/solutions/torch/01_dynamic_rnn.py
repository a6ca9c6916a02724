"""Solutions to the exercises of Chapter 1 · Unrolling a cell: dynamic_rnn (PyTorch).

Check them:  python notebooks/solutions/torch/01_dynamic_rnn.py
Load one into a notebook cell:  %load ../solutions/torch/01_dynamic_rnn.py
"""

from course_lib import torch as cl  # noqa: F401
from course_lib.common import nest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


# Exercise 1: unroll a cell by hand, with sequence_length
def my_dynamic_rnn(cell, inputs, sequence_length):
    B, T = inputs.shape[0], inputs.shape[1]
    state = cell.get_initial_state(batch_size=B, dtype=inputs.dtype)
    outputs = []
    for t in range(T):
        output, new_state = cell(inputs[:, t], state)  # (B, H)
        valid = (t < sequence_length)[:, None]  # (B, 1): rows still inside their length
        outputs.append(torch.where(valid, output, torch.zeros_like(output)))
        state = nest.map_structure(lambda new, old: torch.where(valid, new, old), new_state, state)
    return torch.stack(outputs, dim=1), state  # (B, T, H)


# Exercise 2: the masked mean negative log-likelihood
def masked_mean_nll(logits, targets, lengths):
    log_probs = torch.log_softmax(logits, dim=-1)  # (B, T, V)
    nll = -log_probs.gather(-1, targets[..., None])[..., 0]  # (B, T): -log p(target)
    mask = (torch.arange(targets.shape[1])[None, :] < lengths[:, None]).to(logits.dtype)  # (B, T)
    return (nll * mask).sum() / mask.sum()


# Exercise 3: the built-in layer on a padded batch
def lstm_like_dynamic_rnn(layer, inputs, sequence_length):
    T = inputs.shape[1]
    packed = pack_padded_sequence(inputs, sequence_length.clamp(min=1).cpu(), batch_first=True,
                                  enforce_sorted=False)  # packing refuses a length of 0
    packed_output, (h_n, c_n) = layer(packed)
    output, _ = pad_packed_sequence(packed_output, batch_first=True, total_length=T)  # zeros past each end
    empty = (sequence_length == 0)[:, None]  # (B, 1): rows of length 0 keep the initial (zero) state
    output = output.masked_fill(empty[..., None], 0.0)
    h, c = (torch.where(empty, torch.zeros_like(s[0]), s[0]) for s in (h_n, c_n))
    return output, [h, c]


if __name__ == "__main__":
    from course_lib.chapters.ch01_dynamic_rnn import torch as ex

    results = [ex.check_unroll(my_dynamic_rnn), ex.check_masked_nll(masked_mean_nll),
               ex.check_builtin_lstm(lstm_like_dynamic_rnn)]
    raise SystemExit(0 if all(results) else 1)
