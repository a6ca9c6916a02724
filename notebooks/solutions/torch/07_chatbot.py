"""Solutions to the exercises of Chapter 7 · A chatbot with attention (PyTorch).

Check them:  python notebooks/solutions/torch/07_chatbot.py
Load one into a notebook cell:  %load ../solutions/torch/07_chatbot.py
"""

from course_lib import torch as cl
import torch


# Exercise 1: reverse each row within its length
def my_reverse_padded(x, lengths):
    B, T = x.shape[0], x.shape[1]
    t = torch.arange(T, device=x.device)[None, :]  # (1, T)
    L = lengths.to(x.device)[:, None]  # (B, 1)
    index = torch.where(t < L, L - 1 - t, t)  # (B, T): inside its length, row b reads position L-1-t
    index = index.reshape(B, T, *([1] * (x.dim() - 2))).expand_as(x)
    return torch.gather(x, 1, index)  # x[b, index[b, t]]


# Exercise 2: the decoder's start for beam search
def beam_start(model, memory, source_length, encoder_state, beam_width):
    memory = cl.tile_batch(memory, beam_width)  # (B*W, S, U): rows a, a, a, b, b, b
    source_length = cl.tile_batch(source_length, beam_width)  # (B*W,)
    encoder_state = cl.tile_batch(encoder_state, beam_width)  # [h, c], each (B*W, U)
    cell = model.decoder_cell
    cell.attention_mechanism.setup_memory(memory, memory_sequence_length=source_length)  # keys for B*W rows
    return cell.get_initial_state(batch_size=memory.shape[0], dtype=memory.dtype,
                                  device=memory.device).clone(cell_state=encoder_state)


# Exercise 3: sampled softmax by hand
def my_sampled_softmax_loss(weights, biases, labels, inputs, sampled_values):
    sampled, true_expected, sampled_expected = sampled_values
    labels = labels.long()  # (N, 1)
    true_logits = (inputs * weights[labels[:, 0]]).sum(-1, keepdim=True) + biases[labels]  # (N, 1)
    sampled_logits = inputs @ weights[sampled].T + biases[sampled]  # (N, S)
    hits = labels == sampled[None, :]  # (N, S): a sample that is the true class
    sampled_logits = sampled_logits.masked_fill(hits, torch.finfo(sampled_logits.dtype).min)
    true_logits = true_logits - torch.log(true_expected.reshape(-1, 1).float())
    sampled_logits = sampled_logits - torch.log(sampled_expected.float())[None, :]
    logits = torch.cat([true_logits, sampled_logits], 1)  # the true class is column 0
    return torch.nn.functional.cross_entropy(logits, torch.zeros_like(labels[:, 0]), reduction="none")


if __name__ == "__main__":
    from course_lib.chapters.ch07_chatbot import torch as ch

    results = [ch.check_reverse_padded(my_reverse_padded), ch.check_beam_start(beam_start),
               ch.check_sampled_softmax(my_sampled_softmax_loss)]
    raise SystemExit(0 if all(results) else 1)
