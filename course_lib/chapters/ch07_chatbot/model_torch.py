"""Chapter 7's model and trainer in PyTorch: the tensor code, built from ``course_lib.torch``'s parts.

Re-exported by the binding ``course_lib.chapters.ch07_chatbot.torch``; the TensorFlow twin is ``model_tf``.

* ``Seq2SeqChatbot``: embedding, bidirectional LSTM encoder (``dynamic_rnn`` forwards and on the
  reversed rows), ``AttentionWrapper`` decoder (Bahdanau or Luong, or none), output layer.
* ``Trainer``: Adam, masked ``sequence_loss`` (or sampled softmax), gradient clipping;
  ``evaluate`` gives the held-out perplexity.
* ``reverse_padded``: each row reversed within its length (TensorFlow: ``tf.reverse_sequence``).
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch import nn

import course_lib.torch as cl
from course_lib.chapters.ch07_chatbot.decoding import decode_replies
from course_lib.chapters.ch07_chatbot.training import Configured, Evaluating, check_label_smoothing, model_config
from course_lib.common.chat_data import Batch
from course_lib.common.tokenizer import BOS_ID
from course_lib.torch.sampled_softmax import sampled_softmax_loss

__all__ = ["Seq2SeqChatbot", "reverse_padded", "Trainer"]


def reverse_padded(x, lengths):
    """Reverse each row of ``x [B, T, ...]`` within its length; the padding stays at the end.

    ``[a, b, c, <pad>]`` with length 3 -> ``[c, b, a, <pad>]`` (TensorFlow: ``tf.reverse_sequence``).
    """
    B, T = x.shape[0], x.shape[1]
    t = torch.arange(T, device=x.device)[None, :]  # (1, T)
    L = torch.as_tensor(lengths, device=x.device).to(torch.int64)[:, None]  # (B, 1)
    index = torch.where(t < L, L - 1 - t, t)  # (B, T): inside its length, row b reads position L-1-t
    index = index.reshape(B, T, *([1] * (x.dim() - 2))).expand_as(x)
    return torch.gather(x, 1, index)


def _keras_init_(module: nn.Module) -> None:
    """Keras' initialisers, so both backends start alike: uniform(+-0.05) embeddings, Glorot dense kernels,
    zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Embedding):
            nn.init.uniform_(m.weight, -0.05, 0.05)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class Seq2SeqChatbot(Configured, nn.Module):
    """Encoder-decoder with attention over subword ids.

    Args:
      vocab_size: V, the tokenizer's size (ids 0-3: ``<pad> <unk> <s> </s>``).
      embedding_size: E, shared by the encoder and the decoder.
      units: the decoder LSTM's units; the memory depth too (each encoder direction has ``units // 2``).
      attention: ``"bahdanau"``, ``"luong"`` or None (the decoder starts from the encoder state only).
      bidirectional: read the prompt both ways (else one forward LSTM of ``units``).
      reverse_source: read the prompt backwards (Sutskever et al., 2014); the memory is put back in
        reading order, so alignments still line up with the prompt's tokens.
      dropout: the rate of dropout on the embedded tokens and on the decoder outputs, in training only.

    Calling it, ``model(source [B, S], source_length [B], decoder_input [B, T], target_length [B])``,
    gives teacher-forced logits ``[B, T, V]``.
    """

    def __init__(self, vocab_size: int, embedding_size: int = 64, units: int = 128, attention="bahdanau",
                 bidirectional: bool = True, reverse_source: bool = False,
                 dropout: float = 0.0):
        super().__init__()
        self._hparams = model_config(vocab_size, embedding_size, units, attention, bidirectional,
                                     reverse_source, dropout)
        self.attention_type, self.bidirectional, self.reverse_source = attention, bidirectional, reverse_source
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.dropout = nn.Dropout(float(dropout))  # active in train() mode only
        encoder_units = units // 2 if bidirectional else units
        self.encoder_fw = cl.LSTMCell(encoder_units, input_size=embedding_size)
        self.encoder_bw = cl.LSTMCell(encoder_units, input_size=embedding_size) if bidirectional else None
        if attention is None:
            self.decoder_cell = cl.LSTMCell(units, input_size=embedding_size)
        else:
            mechanism = (cl.BahdanauAttention(units, memory_size=units) if attention == "bahdanau"
                         else cl.LuongAttention(units, memory_size=units))
            lstm = cl.LSTMCell(units, input_size=embedding_size + units)  # reads [input, previous attention]
            self.decoder_cell = cl.AttentionWrapper(lstm, mechanism, attention_layer_size=units,
                                                    alignment_history=True)
        self.output_layer = nn.Linear(units, vocab_size)
        _keras_init_(self)

    @property
    def device(self) -> torch.device:
        """Where the model's weights are (its inputs are moved there)."""
        return self.output_layer.weight.device

    # -- encoder ------------------------------------------------------------------------------------
    def encode(self, source, source_length):
        """``source [B, S]`` ids -> ``(memory [B, S, units], [h, c] each [B, units])``."""
        x = self.dropout(self.embedding(source))  # (B, S, E)
        if self.reverse_source:
            x = reverse_padded(x, source_length)
        memory, state = cl.dynamic_rnn(self.encoder_fw, x, sequence_length=source_length)  # (B, S, units/2)
        if self.bidirectional:
            # the backward direction: the same kind of cell, run on each row reversed within its length
            backward, state_bw = cl.dynamic_rnn(self.encoder_bw, reverse_padded(x, source_length),
                                                sequence_length=source_length)
            memory = torch.cat([memory, reverse_padded(backward, source_length)], -1)  # (B, S, units)
            state = [torch.cat([fw, bw], -1) for fw, bw in zip(state, state_bw)]  # [h, c], (B, units)
        if self.reverse_source:
            memory = reverse_padded(memory, source_length)  # back in the prompt's order
        return memory, state

    def decoder_start(self, memory, source_length, encoder_state, beam_width: int = 1):
        """The decoder's initial state; sets the attention memory up (tiled for beam search)."""
        if beam_width > 1:
            memory, source_length, encoder_state = cl.tile_batch((memory, source_length, encoder_state), beam_width)
        if self.attention_type is None:
            return encoder_state
        self.decoder_cell.attention_mechanism.setup_memory(memory, memory_sequence_length=source_length)
        return self.decoder_cell.get_initial_state(batch_size=memory.shape[0], dtype=memory.dtype,
                                                   device=memory.device).clone(cell_state=encoder_state)

    # -- teacher forcing ----------------------------------------------------------------------------
    def decoder_outputs(self, source, source_length, decoder_input, target_length):
        """Teacher-forced decoder outputs before the output layer, ``[B, T, units]``."""
        memory, state = self.encode(source, source_length)
        initial_state = self.decoder_start(memory, source_length, state)
        decoder = cl.BasicDecoder(self.decoder_cell, cl.TrainingSampler())
        inputs = self.dropout(self.embedding(decoder_input))  # (B, T, E)
        outputs, _, _ = decoder(inputs, initial_state=initial_state, sequence_length=target_length)
        return self.dropout(outputs.rnn_output)

    def forward(self, source, source_length, decoder_input, target_length):
        """Teacher-forced logits ``[B, T, V]`` (one matrix product after the loop)."""
        return self.output_layer(self.decoder_outputs(source, source_length, decoder_input, target_length))

    # -- inference ------------------------------------------------------------------------------------
    @torch.no_grad()
    def decode(self, source, source_length, method: str = "greedy", maximum_iterations: int = 40,
               beam_width: int = 4, length_penalty_weight: float = 0.0, temperature: float = 1.0,
               seed: Optional[int] = 0):
        """Reply ids for a batch of prompts.

        Returns NumPy ``(ids [B, T], lengths [B], alignments [B, T, S] or None)``; row ``b``'s reply is
        ``ids[b, :lengths[b]]`` (ending with ``</s>`` when it finished). Beam search gives its best beam.
        """
        self.eval()  # no dropout
        source = torch.as_tensor(np.asarray(source), dtype=torch.int64, device=self.device)
        source_length = torch.as_tensor(np.asarray(source_length), dtype=torch.int64, device=self.device)
        memory, state = self.encode(source, source_length)  # (B, S, units), [h, c]
        start_tokens = torch.full((source.shape[0],), BOS_ID, dtype=torch.int64, device=self.device)  # (B,)
        return decode_replies(cl, self, memory, source_length, state, start_tokens, self.embedding.weight,
                              method, maximum_iterations, beam_width, length_penalty_weight, temperature, seed)


# -- training --------------------------------------------------------------------------------------

def _tensors(batch: Batch, device):
    return tuple(torch.as_tensor(a, dtype=torch.int64, device=device) for a in batch)


class Trainer(Evaluating):
    """Adam with gradient clipping on the masked loss.

    Args:
      model: a ``Seq2SeqChatbot`` (on the device to train on).
      learning_rate: Adam's step size.
      clip_norm: the gradients are scaled down together when their global norm exceeds it.
      num_sampled: None for the full softmax, or the number of sampled classes of a sampled softmax.
      seed: the sampled softmax's seed.
      label_smoothing: the training loss's target is ``1 - label_smoothing`` on the true token and the
        rest spread evenly over the vocabulary (``sequence_loss``'s ``softmax_loss_function``); the
        held-out loss (``loss``, ``evaluate``) is always the plain NLL.
    """

    def __init__(self, model: Seq2SeqChatbot, learning_rate: float = 3e-3, clip_norm: float = 5.0,
                 num_sampled: Optional[int] = None, seed: int = 0, label_smoothing: float = 0.0):
        self.model, self.clip_norm, self.num_sampled = model, float(clip_norm), num_sampled
        self.label_smoothing = check_label_smoothing(label_smoothing)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        self.generator = torch.Generator(device=model.device)
        self.generator.manual_seed(seed)

    @property
    def learning_rate(self) -> float:
        """Adam's step size now; set it to change it (a schedule)."""
        return float(self.optimizer.param_groups[0]["lr"])

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = float(value)

    def _full_loss(self, source, source_length, decoder_input, target, target_length, smoothing=0.0):
        logits = self.model(source, source_length, decoder_input, target_length)  # (B, T, V)
        weights = cl.sequence_mask(target_length, target.shape[1], dtype=logits.dtype)  # (B, T)
        if not smoothing:
            return cl.sequence_loss(logits, target, weights)  # mean NLL over the real tokens

        def smoothed(labels, logits):  # (B*T,) labels, (B*T, V) logits -> (B*T,)
            return torch.nn.functional.cross_entropy(logits, labels, reduction="none", label_smoothing=smoothing)
        return cl.sequence_loss(logits, target, weights, softmax_loss_function=smoothed)

    def _sampled_loss(self, source, source_length, decoder_input, target, target_length):
        outputs = self.model.decoder_outputs(source, source_length, decoder_input, target_length)  # (B, T, A)
        mask = cl.sequence_mask(target_length, target.shape[1]).bool()
        layer = self.model.output_layer  # weight [V, A]: already the layout sampled softmax takes
        losses = sampled_softmax_loss(layer.weight, layer.bias, target[mask][:, None], outputs[mask],
                                      self.num_sampled, layer.out_features, generator=self.generator)
        return losses.mean()

    def train_step(self, batch: Batch) -> float:
        """One optimizer step on a ``Batch``; returns its training loss."""
        self.model.train()
        tensors = _tensors(batch, self.model.device)
        if self.num_sampled is None:
            loss = self._full_loss(*tensors, smoothing=self.label_smoothing)
        else:
            loss = self._sampled_loss(*tensors)
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_norm)
        self.optimizer.step()
        return loss.item()

    @torch.no_grad()
    def loss(self, batch: Batch) -> float:
        """The full-softmax masked mean NLL of a batch (no update)."""
        self.model.eval()
        return self._full_loss(*_tensors(batch, self.model.device)).item()
