"""Hand-written PyTorch peers: plain modules loaded with the bench's weights, and plain loops.

``greedy_loop`` is an ``nn.LSTMCell`` greedy decode; ``attention_loop`` does exactly the work of
``AttentionWrapper(LSTMCell(H), BahdanauAttention(H), attention_layer_size=H,
alignment_history=True)`` under a greedy sampler, written out with ``nn.LSTMCell``, ``nn.Linear``
layers and tensor ops. Both are plain Python loops, so they run eagerly or under ``torch.compile``
unchanged. Weights come in Keras layout (``bench.data``) and are transposed into PyTorch's.
"""

from __future__ import annotations

import torch
from torch import nn


def embedding(weights) -> nn.Embedding:
    """``nn.Embedding`` holding ``weights [V, E]``."""
    weights = torch.as_tensor(weights)
    module = nn.Embedding(*weights.shape)
    with torch.no_grad():
        module.weight.copy_(weights)
    return module


def linear(kernel, bias=None) -> nn.Linear:
    """``nn.Linear`` from a Keras ``kernel [D, U]`` (and ``bias [U]``)."""
    kernel = torch.as_tensor(kernel)
    module = nn.Linear(*kernel.shape, bias=bias is not None)
    with torch.no_grad():
        module.weight.copy_(kernel.T)  # (U, D)
        if bias is not None:
            module.bias.copy_(torch.as_tensor(bias))
    return module


def load_lstm(module, kernel, recurrent_kernel, bias, suffix: str = ""):
    """Load Keras LSTM weights (gates i, f, c, o = PyTorch's i, f, g, o) into ``nn.LSTMCell``/``nn.LSTM``."""
    with torch.no_grad():
        getattr(module, "weight_ih" + suffix).copy_(torch.as_tensor(kernel).T)  # (4H, D)
        getattr(module, "weight_hh" + suffix).copy_(torch.as_tensor(recurrent_kernel).T)  # (4H, H)
        getattr(module, "bias_ih" + suffix).copy_(torch.as_tensor(bias))
        getattr(module, "bias_hh" + suffix).zero_()
    return module


def greedy_loop(emb, cell, out, start, h0, c0, steps: int):
    """Greedy decode with an ``nn.LSTMCell``, keeping every step's logits.

    Args:
      emb: ``nn.Embedding(V, E)``; cell: ``nn.LSTMCell(E, H)``; out: ``nn.Linear(H, V)``.
      start: ``[B]`` first input ids; h0, c0: ``[B, H]``; steps: how many steps.
    Returns:
      ``(logits [B, steps, V], ids [B, steps])``.
    """
    x, h, c, logits, ids = emb(start), h0, c0, [], []  # x (B, E)
    for _ in range(steps):
        h, c = cell(x, (h, c))  # (B, H)
        step_logits = out(h)  # (B, V)
        step_ids = step_logits.argmax(dim=-1)  # (B,)
        x = emb(step_ids)  # (B, E)
        logits.append(step_logits)
        ids.append(step_ids)
    return torch.stack(logits, 1), torch.stack(ids, 1)


class BahdanauLSTM(nn.Module):
    """The layers of ``AttentionWrapper(LSTMCell(H), BahdanauAttention(H), attention_layer_size=H)``.

    Args:
      weights: ``bench.data.make_attention_weights``' dict (``export_weights`` keys, Keras layout).
    """

    def __init__(self, weights: dict):
        super().__init__()
        kernel = torch.as_tensor(weights["cell/kernel"])  # (E + H, 4H)
        units = kernel.shape[1] // 4
        self.cell = load_lstm(nn.LSTMCell(kernel.shape[0], units), kernel, weights["cell/recurrent_kernel"],
                              weights["cell/bias"])
        self.memory_layer = linear(weights["attention_mechanism/memory_layer/kernel"])
        self.query_layer = linear(weights["attention_mechanism/query_layer/kernel"])
        self.attention_v = nn.Parameter(torch.as_tensor(weights["attention_mechanism/attention_v"]).clone())  # (H,)
        self.attention_layer = linear(weights["attention_layer/kernel"])  # (2H -> H)


def attention_loop(emb, att: BahdanauLSTM, out, memory, memory_lengths, start, h0, c0, steps: int):
    """Greedy decode with Bahdanau attention, step for step what the attention wrapper computes.

    Args:
      emb: ``nn.Embedding(V, E)``; att: ``BahdanauLSTM``; out: ``nn.Linear(H, V)``.
      memory: ``[B, S, H]``; memory_lengths: ``[B]``; start: ``[B]`` ids; h0, c0: ``[B, H]``.
    Returns:
      ``(logits [B, steps, V], ids [B, steps], alignments [steps, B, S])``.
    """
    B, S, _ = memory.shape
    mask = torch.arange(S, device=memory.device)[None, :] < memory_lengths[:, None]  # (B, S)
    values = memory * mask[:, :, None].to(memory.dtype)  # (B, S, H)
    keys = att.memory_layer(values)  # (B, S, H), once per decode
    attention = memory.new_zeros(B, att.attention_layer.out_features)  # (B, H)
    x, h, c, logits, ids, history = emb(start), h0, c0, [], [], []
    for _ in range(steps):
        h, c = att.cell(torch.cat([x, attention], -1), (h, c))  # input (B, E + H) -> (B, H)
        query = att.query_layer(h)  # (B, H)
        score = torch.tanh(keys + query[:, None, :]) @ att.attention_v  # (B, S)
        alignments = torch.softmax(score.masked_fill(~mask, float("-inf")), dim=-1)  # (B, S); lengths >= 1
        context = torch.bmm(alignments[:, None, :], values)[:, 0]  # (B, H)
        attention = att.attention_layer(torch.cat([h, context], -1))  # (B, H): the cell's output
        step_logits = out(attention)  # (B, V)
        step_ids = step_logits.argmax(dim=-1)  # (B,)
        x = emb(step_ids)  # (B, E)
        logits.append(step_logits)
        ids.append(step_ids)
        history.append(alignments)
    return torch.stack(logits, 1), torch.stack(ids, 1), torch.stack(history)
