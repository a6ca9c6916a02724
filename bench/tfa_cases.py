"""tfa 0.23's equivalents of the TensorFlow cases; run by ``bench.peer_worker`` in the tfa venv.

TensorFlow 2.15 with Keras 2 (``tf.keras``) and ``tensorflow_addons.seq2seq``: the same layers,
shapes and seeded weights (``data``, the arrays of ``bench.data`` that the bench passes in an
``.npz``) and the same calls as ``bench.tf_cases``' course_lib candidates, so the two compute the
same numbers. Imports nothing of course_lib (it does not run on Keras 2).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

START, END = 0, 1  # bench.data's, repeated: this module runs where bench.data's NumPy is not needed
LABEL = "tfa 0.23"


def environment() -> dict:
    import keras
    import tensorflow as tf
    import tensorflow_addons as tfa

    return {"tfa_peer": f"tensorflow {tf.__version__}, tensorflow-addons {tfa.__version__}, keras {keras.__version__}"}


def set_threads(n: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(n)


def build(shapes: dict, data: dict, modes=("eager", "function")):
    """``[(key, label, fn, traced)]`` for each mode: train step, greedy, Bahdanau greedy, beam + Bahdanau.

    Args:
      shapes: ``bench.harness.Shapes`` as a dict (``batch``, ``vocab``, ``embed``, ``units``,
        ``tgt_len``, ``src_len``, ``beam_width``).
      data: ``bench.data.make_data``'s arrays, plus ``make_attention_weights``' under ``att/``.
      modes: ``"eager"`` (the Python function) and/or ``"function"`` (it in one ``tf.function``).
    """
    import tensorflow as tf
    import tensorflow_addons as tfa

    seq2seq = tfa.seq2seq
    d = data
    B, T, V, E, H, W, S = (shapes[k] for k in ("batch", "tgt_len", "vocab", "embed", "units", "beam_width", "src_len"))
    att = {k[len("att/"):]: v for k, v in d.items() if k.startswith("att/")}
    dec_in, targets = tf.constant(d["dec_in"], tf.int32), tf.constant(d["targets"], tf.int32)
    ones, full = tf.ones([B, T], tf.float32), tf.fill([B], T)
    h0, c0, memory = tf.constant(d["h0"]), tf.constant(d["c0"]), tf.constant(d["memory"])
    memory_lengths, start = tf.fill([B], S), tf.fill([B], START)

    def embedding():
        layer = tf.keras.layers.Embedding(V, E)
        layer.build((None,))
        layer.embeddings.assign(d["emb"])
        return layer

    def dense():
        layer = tf.keras.layers.Dense(V)
        layer.build((None, H))
        layer.kernel.assign(d["out_kernel"])
        layer.bias.assign(d["out_bias"])
        return layer

    def lstm_cell():
        cell = tf.keras.layers.LSTMCell(H)
        cell.build((None, E))
        cell.kernel.assign(d["kernel"])
        cell.recurrent_kernel.assign(d["recurrent_kernel"])
        cell.bias.assign(d["bias"])
        return cell

    def train():
        emb, cell, out = embedding(), lstm_cell(), dense()
        decoder = seq2seq.BasicDecoder(cell, seq2seq.TrainingSampler(), output_layer=out)
        variables = emb.trainable_variables + cell.trainable_variables + out.trainable_variables

        def step():
            with tf.GradientTape() as tape:
                outputs, _, _ = decoder(emb(dec_in), initial_state=[h0, c0], sequence_length=full)
                loss = seq2seq.sequence_loss(outputs.rnn_output, targets, ones)
            return {"loss": loss, "grads": tape.gradient(loss, variables)}
        return step

    def greedy():
        emb, cell, out = embedding(), lstm_cell(), dense()
        decoder = seq2seq.BasicDecoder(cell, seq2seq.GreedyEmbeddingSampler(), output_layer=out, maximum_iterations=T)

        def run():
            outputs, _, lengths = decoder(emb.embeddings, start_tokens=start, end_token=END, initial_state=[h0, c0])
            return {"logits": outputs.rnn_output, "ids": outputs.sample_id, "lengths": lengths}
        return run

    def attention_cell(rows):
        mechanism = seq2seq.BahdanauAttention(H, seq2seq.tile_batch(memory, rows),
                                              memory_sequence_length=seq2seq.tile_batch(memory_lengths, rows))
        inner = tf.keras.layers.LSTMCell(H)
        cell = seq2seq.AttentionWrapper(inner, mechanism, attention_layer_size=H, alignment_history=True)
        state = cell.get_initial_state(batch_size=B * rows, dtype=tf.float32)
        _, built_state = cell(tf.zeros([B * rows, E]), state)  # builds every variable; then the seeded weights
        built_state.alignment_history.mark_used()
        for variable, key in ((inner.kernel, "cell/kernel"), (inner.recurrent_kernel, "cell/recurrent_kernel"),
                              (inner.bias, "cell/bias"),
                              (mechanism.memory_layer.kernel, "attention_mechanism/memory_layer/kernel"),
                              (mechanism.query_layer.kernel, "attention_mechanism/query_layer/kernel"),
                              (mechanism.attention_v, "attention_mechanism/attention_v"),
                              (cell._attention_layers[0].kernel, "attention_layer/kernel")):
            variable.assign(att[key])
        return mechanism, cell

    def initial_state(cell, rows):
        state = cell.get_initial_state(batch_size=B * rows, dtype=tf.float32)
        return state.clone(cell_state=seq2seq.tile_batch([h0, c0], rows))

    def attention_greedy():
        emb, out = embedding(), dense()
        mechanism, cell = attention_cell(1)
        decoder = seq2seq.BasicDecoder(cell, seq2seq.GreedyEmbeddingSampler(), output_layer=out, maximum_iterations=T)

        def run():  # the memory is set up inside every call, as course_lib's candidate does
            mechanism.setup_memory(memory, memory_sequence_length=memory_lengths)
            outputs, final_state, lengths = decoder(emb.embeddings, start_tokens=start, end_token=END,
                                                    initial_state=initial_state(cell, 1))
            return {"logits": outputs.rnn_output, "ids": outputs.sample_id, "lengths": lengths,
                    "alignments": final_state.alignment_history.stack()}
        return run

    def attention_beam():
        emb, out = embedding(), dense()
        mechanism, cell = attention_cell(W)
        decoder = seq2seq.BeamSearchDecoder(cell, W, output_layer=out, maximum_iterations=T)

        def run():
            mechanism.setup_memory(seq2seq.tile_batch(memory, W),
                                   memory_sequence_length=seq2seq.tile_batch(memory_lengths, W))
            outputs, final_state, lengths = decoder(emb.embeddings, start_tokens=start, end_token=END,
                                                    initial_state=initial_state(cell, W))
            state = [x.stack() if isinstance(x, tf.TensorArray) else x
                     for x in tf.nest.flatten(final_state, expand_composites=False)]
            return {"ids": outputs.predicted_ids, "lengths": lengths, "state": state}
        return run

    cases = (("train", "tfa", f"{LABEL} BasicDecoder(TrainingSampler)", train),
             ("greedy", "tfa", f"{LABEL} BasicDecoder(GreedyEmbeddingSampler)", greedy),
             ("attention", "tfa_greedy", f"{LABEL} Bahdanau + AttentionWrapper greedy", attention_greedy),
             ("attention", "tfa_beam", f"{LABEL} BeamSearchDecoder W={W} + attention", attention_beam))
    built = []
    for mode in modes:
        for section, name, label, factory in cases:
            fn = factory()
            built.append((f"tf.{mode}.{section}.{name}", label, tf.function(fn) if mode == "function" else fn,
                          mode == "function"))
    return built
