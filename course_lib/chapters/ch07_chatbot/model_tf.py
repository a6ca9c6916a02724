"""Chapter 7's model and trainer in TensorFlow / Keras 3: the tensor code, built from ``course_lib.tf``'s parts.

Re-exported by the binding ``course_lib.chapters.ch07_chatbot.tf``; the PyTorch twin is ``model_torch``.

* ``Seq2SeqChatbot``: embedding, bidirectional LSTM encoder (``dynamic_rnn`` forwards and on the
  reversed rows), ``AttentionWrapper`` decoder (Bahdanau or Luong, or none), output layer.
* ``Trainer``: Adam, masked ``sequence_loss`` (or sampled softmax), gradient clipping, one
  ``tf.function`` step; ``evaluate`` gives the held-out perplexity.
* ``reverse_padded``: each row reversed within its length (``tf.reverse_sequence``).
"""

from __future__ import annotations

from typing import Optional

import keras
import tensorflow as tf

import course_lib.tf as cl
from course_lib.chapters.ch07_chatbot.decoding import decode_replies
from course_lib.chapters.ch07_chatbot.training import Configured, Evaluating, check_label_smoothing, model_config
from course_lib.common.chat_data import Batch
from course_lib.common.tokenizer import BOS_ID
from course_lib.tf.sampled_softmax import sampled_softmax_loss

__all__ = ["Seq2SeqChatbot", "reverse_padded", "Trainer"]


def reverse_padded(x, lengths):
    """Reverse each row of ``x [B, T, ...]`` within its length; the padding stays at the end.

    ``[a, b, c, <pad>]`` with length 3 -> ``[c, b, a, <pad>]`` (``tf.reverse_sequence``).
    """
    return tf.reverse_sequence(x, tf.cast(lengths, tf.int32), seq_axis=1, batch_axis=0)


class Seq2SeqChatbot(Configured, keras.Model):
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
                 dropout: float = 0.0, name: str = "seq2seq_chatbot"):
        super().__init__(name=name)
        self._hparams = model_config(vocab_size, embedding_size, units, attention, bidirectional,
                                     reverse_source, dropout)
        self.attention_type, self.bidirectional, self.reverse_source = attention, bidirectional, reverse_source
        self.embedding = keras.layers.Embedding(vocab_size, embedding_size, name="embedding")
        self.dropout = keras.layers.Dropout(float(dropout), name="dropout")  # no weights
        encoder_units = units // 2 if bidirectional else units
        self.encoder_fw = cl.LSTMCell(encoder_units, name="encoder_fw")
        self.encoder_bw = cl.LSTMCell(encoder_units, name="encoder_bw") if bidirectional else None
        lstm = cl.LSTMCell(units, name="decoder_lstm")
        if attention is None:
            self.decoder_cell = lstm
        else:
            mechanism = cl.BahdanauAttention(units) if attention == "bahdanau" else cl.LuongAttention(units)
            self.decoder_cell = cl.AttentionWrapper(lstm, mechanism, attention_layer_size=units,
                                                    alignment_history=True)
        self.output_layer = keras.layers.Dense(vocab_size, name="output_layer")
        one = tf.constant([[BOS_ID]], tf.int32)
        self(one, tf.constant([1]), one, tf.constant([1]))  # build every weight now

    # -- encoder ------------------------------------------------------------------------------------
    def encode(self, source, source_length, training=None):
        """``source [B, S]`` ids -> ``(memory [B, S, units], [h, c] each [B, units])``."""
        x = self.dropout(self.embedding(source), training=training)  # (B, S, E)
        if self.reverse_source:
            x = reverse_padded(x, source_length)
        memory, state = cl.dynamic_rnn(self.encoder_fw, x, sequence_length=source_length)  # (B, S, units/2)
        if self.bidirectional:
            # the backward direction: the same kind of cell, run on each row reversed within its length
            backward, state_bw = cl.dynamic_rnn(self.encoder_bw, reverse_padded(x, source_length),
                                                sequence_length=source_length)
            memory = tf.concat([memory, reverse_padded(backward, source_length)], -1)  # (B, S, units)
            state = [tf.concat([fw, bw], -1) for fw, bw in zip(state, state_bw)]  # [h, c], (B, units)
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
        batch = memory.shape[0] if memory.shape[0] is not None else tf.shape(memory)[0]
        return self.decoder_cell.get_initial_state(batch_size=batch, dtype=memory.dtype).clone(
            cell_state=encoder_state)

    # -- teacher forcing ----------------------------------------------------------------------------
    def decoder_outputs(self, source, source_length, decoder_input, target_length, training=None):
        """Teacher-forced decoder outputs before the output layer, ``[B, T, units]``."""
        memory, state = self.encode(source, source_length, training=training)
        initial_state = self.decoder_start(memory, source_length, state)
        decoder = cl.BasicDecoder(self.decoder_cell, cl.TrainingSampler())
        inputs = self.dropout(self.embedding(decoder_input), training=training)  # (B, T, E)
        outputs, _, _ = decoder(inputs, initial_state=initial_state, sequence_length=target_length)
        return self.dropout(outputs.rnn_output, training=training)

    def call(self, source, source_length, decoder_input, target_length, training=None):
        """Teacher-forced logits ``[B, T, V]`` (one matrix product after the loop)."""
        return self.output_layer(self.decoder_outputs(source, source_length, decoder_input, target_length,
                                                      training=training))

    # -- inference ------------------------------------------------------------------------------------
    def decode(self, source, source_length, method: str = "greedy", maximum_iterations: int = 40,
               beam_width: int = 4, length_penalty_weight: float = 0.0, temperature: float = 1.0,
               seed: Optional[int] = 0):
        """Reply ids for a batch of prompts.

        Returns NumPy ``(ids [B, T], lengths [B], alignments [B, T, S] or None)``; row ``b``'s reply is
        ``ids[b, :lengths[b]]`` (ending with ``</s>`` when it finished). Beam search gives its best beam.
        """
        source = tf.convert_to_tensor(source, tf.int32)
        source_length = tf.convert_to_tensor(source_length, tf.int32)
        memory, state = self.encode(source, source_length)  # (B, S, units), [h, c]
        start_tokens = tf.fill([int(source.shape[0])], BOS_ID)  # (B,)
        return decode_replies(cl, self, memory, source_length, state, start_tokens, self.embedding.embeddings,
                              method, maximum_iterations, beam_width, length_penalty_weight, temperature, seed)


# -- training --------------------------------------------------------------------------------------

def _tensors(batch: Batch):
    return tuple(tf.constant(a, tf.int32) for a in batch)


class Trainer(Evaluating):
    """Adam with gradient clipping on the masked loss; the step is one ``tf.function`` (traced once).

    Args:
      model: a ``Seq2SeqChatbot``.
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
        self.model, self.clip_norm, self.num_sampled, self.seed = model, float(clip_norm), num_sampled, seed
        self.label_smoothing = check_label_smoothing(label_smoothing)
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(model.trainable_variables)  # its slots now: tf.function traces the step once
        spec = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([None], tf.int32)]
        self._train = tf.function(self._train_step, input_signature=spec)
        self._loss = tf.function(self._full_loss, input_signature=spec)

    @property
    def learning_rate(self) -> float:
        """Adam's step size now; set it to change it (a schedule)."""
        return float(self.optimizer.learning_rate.numpy())

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.optimizer.learning_rate.assign(float(value))  # a variable: the traced step reads the new value

    def _full_loss(self, source, source_length, decoder_input, target, target_length, training=False):
        logits = self.model(source, source_length, decoder_input, target_length, training=training)  # (B, T, V)
        weights = cl.sequence_mask(target_length, tf.shape(target)[1], dtype=logits.dtype)  # (B, T)
        smoothing = self.label_smoothing if training else 0.0
        if not smoothing:
            return cl.sequence_loss(logits, target, weights)  # mean NLL over the real tokens

        def smoothed(labels, logits):  # (B*T,) labels, (B*T, V) logits -> (B*T,)
            one_hot = tf.one_hot(labels, tf.shape(logits)[-1], dtype=logits.dtype)
            return keras.losses.categorical_crossentropy(one_hot, logits, from_logits=True,
                                                         label_smoothing=smoothing)
        return cl.sequence_loss(logits, target, weights, softmax_loss_function=smoothed)

    def _sampled_loss(self, source, source_length, decoder_input, target, target_length, training=True):
        outputs = self.model.decoder_outputs(source, source_length, decoder_input, target_length,
                                             training=True)  # (B, T, A)
        mask = tf.sequence_mask(target_length, tf.shape(target)[1])
        layer = self.model.output_layer
        losses = sampled_softmax_loss(tf.transpose(layer.kernel), layer.bias,  # weights [V, A]
                                      tf.boolean_mask(target, mask)[:, None], tf.boolean_mask(outputs, mask),
                                      self.num_sampled, layer.units, seed=self.seed)
        return tf.reduce_mean(losses)

    def _train_step(self, source, source_length, decoder_input, target, target_length):
        loss_fn = self._full_loss if self.num_sampled is None else self._sampled_loss
        with tf.GradientTape() as tape:
            loss = loss_fn(source, source_length, decoder_input, target, target_length, training=True)
        variables = self.model.trainable_variables
        gradients, norm = tf.clip_by_global_norm(tape.gradient(loss, variables), self.clip_norm)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return loss, norm

    def train_step(self, batch: Batch) -> float:
        """One optimizer step on a ``Batch``; returns its training loss."""
        loss, _ = self._train(*_tensors(batch))
        return float(loss)

    def loss(self, batch: Batch) -> float:
        """The full-softmax masked mean NLL of a batch (no update)."""
        return float(self._loss(*_tensors(batch)))
