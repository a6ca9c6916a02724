"""A seq2seq chatbot with attention (PyTorch), built from course_lib's parts.

``from course_lib.torch import chatbot``. The TensorFlow twin, ``course_lib.tf.chatbot``, has the
same names and the same checkpoint layout (each backend reads its own weights format).

* ``Seq2SeqChatbot``: embedding, bidirectional LSTM encoder (``dynamic_rnn`` forwards and on the
  reversed rows), ``AttentionWrapper`` decoder (Bahdanau or Luong, or none), output layer.
* ``Trainer``: Adam, masked ``sequence_loss`` (or sampled softmax), gradient clipping;
  ``evaluate`` gives the held-out perplexity.
* ``Chatbot``: replies by greedy decoding, beam search or sampling, with their alignments.
* ``save_checkpoint`` / ``load_checkpoint``: ``torch.save`` of the state dict (loaded with
  ``weights_only=True``) + the tokenizer's own file.
* ``sampled_softmax_loss``: the twin of ``tf.nn.sampled_softmax_loss`` (``course_lib.torch.sampled_softmax``).
"""

from __future__ import annotations

from typing import List, NamedTuple, Optional

import numpy as np
import torch
from torch import nn

import course_lib.torch as cl
from course_lib.common.chat import ChatbotBase, Decoded
from course_lib.common.chat_data import Batch, pad
from course_lib.common.checkpoint import CheckpointError, read_checkpoint, write_checkpoint
from course_lib.common.tokenizer import BOS_ID, EOS_ID, SubwordTokenizer
from course_lib.torch.sampled_softmax import log_uniform_candidates, sampled_softmax_loss

__all__ = ["ATTENTION_TYPES", "Seq2SeqChatbot", "reverse_padded", "Trainer", "Evaluation", "Chatbot",
           "save_checkpoint", "load_checkpoint", "CheckpointError", "log_uniform_candidates",
           "sampled_softmax_loss"]

ATTENTION_TYPES = ("bahdanau", "luong", None)
WEIGHTS_SUFFIX = ".pt"


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
    """Keras' initialisers (so both backends start alike): uniform(+-0.05) embeddings, Glorot dense kernels, zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Embedding):
            nn.init.uniform_(m.weight, -0.05, 0.05)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class Seq2SeqChatbot(nn.Module):
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
        for arg, value in (("vocab_size", vocab_size), ("embedding_size", embedding_size), ("units", units)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"`{arg}` must be a positive int, got {value!r}")
        if attention not in ATTENTION_TYPES:
            raise ValueError(f"`attention` must be one of {ATTENTION_TYPES}, got {attention!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1), got {dropout!r}")
        if bidirectional and units % 2:
            raise ValueError(f"`units` must be even with bidirectional=True (two halves), got {units}")
        self._hparams = dict(vocab_size=int(vocab_size), embedding_size=int(embedding_size), units=int(units),
                             attention=attention, bidirectional=bool(bidirectional),
                             reverse_source=bool(reverse_source), dropout=float(dropout))
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

    def get_config(self) -> dict:
        """The constructor's arguments (JSON-able): what a checkpoint stores to rebuild the model."""
        return dict(self._hparams)

    @property
    def device(self) -> torch.device:
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
        B = source.shape[0]
        memory, state = self.encode(source, source_length)
        start_tokens = torch.full((B,), BOS_ID, dtype=torch.int64, device=self.device)
        embeddings = self.embedding.weight
        if method == "beam":
            initial_state = self.decoder_start(memory, source_length, state, beam_width=beam_width)
            decoder = cl.BeamSearchDecoder(self.decoder_cell, beam_width, output_layer=self.output_layer,
                                           length_penalty_weight=length_penalty_weight,
                                           maximum_iterations=maximum_iterations)
            outputs, final_state, lengths = decoder(embeddings, start_tokens=start_tokens, end_token=EOS_ID,
                                                    initial_state=initial_state)
            ids, lengths = outputs.predicted_ids[:, :, 0], lengths[:, 0]  # the best beam
            alignments = decoder.alignment_history(final_state)[:, 0] if self.attention_type else None
        elif method in ("greedy", "sample"):
            sampler = cl.GreedyEmbeddingSampler() if method == "greedy" else \
                cl.SampleEmbeddingSampler(softmax_temperature=temperature, seed=seed)
            decoder = cl.BasicDecoder(self.decoder_cell, sampler, output_layer=self.output_layer,
                                      maximum_iterations=maximum_iterations)
            outputs, final_state, lengths = decoder(embeddings, start_tokens=start_tokens, end_token=EOS_ID,
                                                    initial_state=self.decoder_start(memory, source_length, state))
            ids = outputs.sample_id
            alignments = cl.alignment_history_batch_major(final_state) if self.attention_type else None
        else:
            raise ValueError(f"`method` must be 'greedy', 'beam' or 'sample', got {method!r}")
        return (cl.to_numpy(ids).astype(np.int64), cl.to_numpy(lengths).astype(np.int64),
                None if alignments is None else cl.to_numpy(alignments))


# -- training --------------------------------------------------------------------------------------

class Evaluation(NamedTuple):
    """Held-out loss: ``nll`` per token (nats), ``perplexity = exp(nll)``, the ``tokens`` counted."""

    nll: float
    perplexity: float
    tokens: int


def _tensors(batch: Batch, device):
    return tuple(torch.as_tensor(a, dtype=torch.int64, device=device) for a in batch)


class Trainer:
    """Adam with gradient clipping on the masked loss.

    Args:
      model: a ``Seq2SeqChatbot`` (on the device to train on).
      learning_rate: Adam's step size.
      clip_norm: the gradients are scaled down together when their global norm exceeds it.
      num_sampled: None for the full softmax, or the number of sampled classes of a sampled softmax.
      seed: the sampled softmax's seed.
    """

    def __init__(self, model: Seq2SeqChatbot, learning_rate: float = 3e-3, clip_norm: float = 5.0,
                 num_sampled: Optional[int] = None, seed: int = 0):
        self.model, self.clip_norm, self.num_sampled = model, float(clip_norm), num_sampled
        self.optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        self.generator = torch.Generator(device=model.device)
        self.generator.manual_seed(seed)

    def _full_loss(self, source, source_length, decoder_input, target, target_length):
        logits = self.model(source, source_length, decoder_input, target_length)  # (B, T, V)
        weights = cl.sequence_mask(target_length, target.shape[1], dtype=logits.dtype)  # (B, T)
        return cl.sequence_loss(logits, target, weights)  # mean NLL over the real tokens

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
        loss_fn = self._full_loss if self.num_sampled is None else self._sampled_loss
        loss = loss_fn(*_tensors(batch, self.model.device))
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

    def evaluate(self, batches: List[Batch]) -> Evaluation:
        """Per-token NLL and perplexity over ``batches`` (every real token counts once)."""
        total, tokens = 0.0, 0
        for batch in batches:
            n = int(batch.target_length.sum())
            total += self.loss(batch) * n
            tokens += n
        if not tokens:
            raise ValueError("`batches` hold no tokens")
        return Evaluation(total / tokens, float(np.exp(total / tokens)), tokens)


# -- replies ----------------------------------------------------------------------------------------

class Chatbot(ChatbotBase):
    """A model and its tokenizer, answering text (see ``course_lib.common.chat.ChatbotBase``).

    ``bot.reply("hello")``, ``bot.replies(prompts, method="beam", beam_width=4, length_penalty_weight=1.0)``,
    ``bot.replies(prompts, method="sample", temperature=0.7, seed=0)``.
    """

    def __init__(self, model: Seq2SeqChatbot, tokenizer: SubwordTokenizer, max_prompt_tokens: int = 48,
                 max_reply_tokens: int = 40):
        if tokenizer.vocab_size != model.get_config()["vocab_size"]:
            raise ValueError(f"the tokenizer has {tokenizer.vocab_size} ids but the model was built for "
                             f"{model.get_config()['vocab_size']}: use the tokenizer it was trained with")
        super().__init__(tokenizer, max_prompt_tokens, max_reply_tokens)
        self.model = model

    def _decode(self, sources, method, **options) -> List[Decoded]:
        self.model.eval()
        lengths = np.array([len(s) for s in sources])
        ids, reply_lengths, alignments = self.model.decode(pad(sources, self.tokenizer.pad_id), lengths, method,
                                                           maximum_iterations=self.max_reply_tokens, **options)
        out = []
        for b, n in enumerate(reply_lengths):
            a = None if alignments is None else alignments[b, :n, :lengths[b]]
            out.append(Decoded([int(i) for i in ids[b, :n]], a))
        return out


# -- checkpoints ------------------------------------------------------------------------------------

def save_checkpoint(directory, model: Seq2SeqChatbot, tokenizer: SubwordTokenizer):
    """Save the weights (``torch.save`` of the state dict), the tokenizer and the config into ``directory``.

    New files first, then one atomic rename of ``checkpoint.json`` (``course_lib.common.checkpoint``):
    a failure leaves the checkpoint already there intact.
    """
    if tokenizer.vocab_size != model.get_config()["vocab_size"]:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} ids, the model {model.get_config()['vocab_size']}")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return write_checkpoint(directory, "torch", model.get_config(), {
        "model": (WEIGHTS_SUFFIX, lambda path: torch.save(state, path)),
        "tokenizer": (".model", tokenizer.save),
    })


def load_checkpoint(directory, device=None):
    """``(model, tokenizer)`` from ``save_checkpoint``'s folder, every file checked first.

    The weights load with ``torch.load(weights_only=True)``: tensors only, no code. ``device``: where
    the model goes (default: the CPU). Raises ``FileNotFoundError`` (no checkpoint) or ``CheckpointError``.
    """
    config, paths = read_checkpoint(directory, "torch", ["model", "tokenizer"])
    try:
        model = Seq2SeqChatbot(**config)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{directory}: the saved config cannot build a model ({exc})") from None
    try:
        state = torch.load(paths["model"], map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as exc:  # unpickling refused, or tensors that do not fit this model
        raise CheckpointError(f"{paths['model']} does not hold this model's weights ({type(exc).__name__}: {exc})") \
            from None
    try:
        tokenizer = SubwordTokenizer.load(paths["tokenizer"])
    except ValueError as exc:
        raise CheckpointError(str(exc)) from None
    if tokenizer.vocab_size != config["vocab_size"]:
        raise CheckpointError(f"{paths['tokenizer']} has {tokenizer.vocab_size} ids, the model {config['vocab_size']}")
    return model.to(device or "cpu"), tokenizer
