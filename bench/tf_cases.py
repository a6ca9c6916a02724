"""The TensorFlow candidates: course_lib (``cl``) against Keras' fused layer and hand loops.

Every candidate gets its own layers, loaded with the same NumPy weights (``make_data``), so
candidates that do the same work compute the same numbers (checked after the warm-up).
Mode ``eager`` calls the Python function; mode ``function`` calls it wrapped in one
``tf.function`` (traced during the warm-up).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench.checks import check_outputs  # noqa: E402
from bench.data import END, START, make_attention_weights, make_data  # noqa: E402
from bench.harness import Candidate, RatioSpec, describe_error  # noqa: E402

MODES = ("eager", "function")
MODE_LABEL = {"eager": "TF eager", "function": "TF tf.function"}


def environment() -> dict:
    import keras
    import tensorflow as tf

    threading = tf.config.threading
    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "tf_intra_op_threads": threading.get_intra_op_parallelism_threads() or "default (0: all cores)",
        "tf_inter_op_threads": threading.get_inter_op_parallelism_threads() or "default (0)",
        "tf_gpus": len(tf.config.list_physical_devices("GPU")),
    }


def set_threads(n: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(n)


def build(shapes, modes=MODES, log=print):
    """Returns ``(candidates, ratio_specs, skipped, check_fn)``.

    ``check_fn(outputs_by_key) -> dict`` compares the outputs of the warm-up calls.
    """
    import keras
    import tensorflow as tf

    from course_lib import tf as cl
    from course_lib.common import nest

    s, d, attention_weights = shapes, make_data(shapes), make_attention_weights(shapes)
    B, T, V, E, H, W = s.batch, s.tgt_len, s.vocab, s.embed, s.units, s.beam_width
    dec_in = tf.constant(d["dec_in"], tf.int32)
    targets = tf.constant(d["targets"], tf.int32)
    ones = tf.ones([B, T], tf.float32)
    full = tf.fill([B], T)
    ragged = tf.constant(d["lengths_ragged"], tf.int32)
    ragged_weights = tf.sequence_mask(ragged, T, dtype=tf.float32)
    h0, c0 = tf.constant(d["h0"]), tf.constant(d["c0"])
    memory = tf.constant(d["memory"])
    memory_lengths = tf.fill([B], s.src_len)
    start = tf.fill([B], START)

    # -- layers loaded with the shared weights -------------------------------------------------
    def embedding():
        layer = keras.layers.Embedding(V, E)
        layer.build((None,))
        layer.embeddings.assign(d["emb"])
        return layer

    def dense():
        layer = keras.layers.Dense(V)
        layer.build((None, H))
        layer.kernel.assign(d["out_kernel"])
        layer.bias.assign(d["out_bias"])
        return layer

    def load_cell(cell):
        cell.build((None, E))
        cell.kernel.assign(d["kernel"])
        cell.recurrent_kernel.assign(d["recurrent_kernel"])
        cell.bias.assign(d["bias"])
        return cell

    def hand_weights():
        return [tf.Variable(d[k]) for k in ("emb", "kernel", "recurrent_kernel", "bias", "out_kernel", "out_bias")]

    def lstm_step(x, h, c, kernel, recurrent_kernel, bias):
        z = tf.matmul(x, kernel) + tf.matmul(h, recurrent_kernel) + bias  # (B, 4H)
        i, f, g, o = tf.split(z, 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        h = tf.sigmoid(o) * tf.tanh(c)
        return h, c

    # -- 1. teacher-forced training step: forward + backward (gradients only, no optimizer) --
    def cl_train(is_ragged=False):
        emb, cell, out = embedding(), load_cell(cl.LSTMCell(H)), dense()
        decoder = cl.BasicDecoder(cell, cl.TrainingSampler(), out, impute_finished=is_ragged)
        variables = emb.trainable_variables + cell.trainable_variables + out.trainable_variables
        lengths, weights = (ragged, ragged_weights) if is_ragged else (full, ones)

        def step():
            with tf.GradientTape() as tape:
                outputs, _, _ = decoder(emb(dec_in), initial_state=[h0, c0], sequence_length=lengths)
                loss = cl.sequence_loss(outputs.rnn_output, targets, weights)
            return {"loss": loss, "grads": tape.gradient(loss, variables)}
        return step

    def keras_lstm_train():
        emb, out = embedding(), dense()
        lstm = keras.layers.LSTM(H, return_sequences=True, return_state=True)
        lstm.build((None, T, E))
        lstm.cell.kernel.assign(d["kernel"])
        lstm.cell.recurrent_kernel.assign(d["recurrent_kernel"])
        lstm.cell.bias.assign(d["bias"])
        variables = emb.trainable_variables + lstm.trainable_variables + out.trainable_variables

        def step():
            with tf.GradientTape() as tape:
                seq, _, _ = lstm(emb(dec_in), initial_state=[h0, c0])
                loss = cl.sequence_loss(out(seq), targets, ones)
            return {"loss": loss, "grads": tape.gradient(loss, variables)}
        return step

    def hand_train():
        variables = hand_weights()
        emb_w, kernel, recurrent_kernel, bias, out_k, out_b = variables

        def step():
            with tf.GradientTape() as tape:
                xs = tf.transpose(tf.nn.embedding_lookup(emb_w, dec_in), [1, 0, 2])  # (T, B, E)
                logits_ta = tf.TensorArray(tf.float32, size=T)

                def body(t, h, c, ta):
                    h, c = lstm_step(xs[t], h, c, kernel, recurrent_kernel, bias)
                    return t + 1, h, c, ta.write(t, tf.matmul(h, out_k) + out_b)  # per-step projection

                _, _, _, logits_ta = tf.while_loop(lambda t, *_: t < T, body, (tf.constant(0), h0, c0, logits_ta))
                logits = tf.transpose(logits_ta.stack(), [1, 0, 2])  # (B, T, V)
                loss = cl.sequence_loss(logits, targets, ones)
            return {"loss": loss, "grads": tape.gradient(loss, variables)}
        return step

    # -- 2. greedy decode, maximum_iterations = T ------------------------------------------------
    def cl_greedy():
        emb, cell, out = embedding(), load_cell(cl.LSTMCell(H)), dense()
        decoder = cl.BasicDecoder(cell, cl.GreedyEmbeddingSampler(), out, maximum_iterations=T)

        def run():
            outputs, _, lengths = decoder(emb.embeddings, start_tokens=start, end_token=END, initial_state=[h0, c0])
            return {"logits": outputs.rnn_output, "ids": outputs.sample_id, "lengths": lengths}
        return run

    def hand_greedy():
        emb_w, kernel, recurrent_kernel, bias, out_k, out_b = hand_weights()

        def run():
            logits_ta = tf.TensorArray(tf.float32, size=T)
            ids_ta = tf.TensorArray(tf.int32, size=T)

            def body(t, x, h, c, logits_ta, ids_ta):
                h, c = lstm_step(x, h, c, kernel, recurrent_kernel, bias)
                logits = tf.matmul(h, out_k) + out_b
                ids = tf.argmax(logits, axis=-1, output_type=tf.int32)
                return (t + 1, tf.nn.embedding_lookup(emb_w, ids), h, c,
                        logits_ta.write(t, logits), ids_ta.write(t, ids))

            x0 = tf.nn.embedding_lookup(emb_w, start)
            loop = tf.while_loop(lambda t, *_: t < T, body, (tf.constant(0), x0, h0, c0, logits_ta, ids_ta))
            return {"logits": tf.transpose(loop[4].stack(), [1, 0, 2]), "ids": tf.transpose(loop[5].stack()),
                    "lengths": tf.fill([B], T)}
        return run

    # -- 4. attention: greedy and beam search -----------------------------------------------------
    def attention_cell(beam):
        # The memory given here is set up again inside every timed call (its keys are part of
        # the decode's cost); the constructors need it (the wrapper's state_size reads it).
        mem, lengths = memory, memory_lengths
        if beam:
            mem, lengths = cl.tile_batch(memory, W), cl.tile_batch(memory_lengths, W)
        mechanism = cl.BahdanauAttention(H, mem, memory_sequence_length=lengths)
        cell = cl.AttentionWrapper(cl.LSTMCell(H), mechanism, attention_layer_size=H, alignment_history=True)
        cl.import_weights(cell, attention_weights)  # the seeded weights every attention peer loads
        return mechanism, cell

    def att_greedy(rows=1):
        """Attention greedy decode; ``rows=W`` runs it on B x W rows (beam search's arithmetic)."""
        emb, out = embedding(), dense()
        mechanism, cell = attention_cell(beam=rows > 1)
        decoder = cl.BasicDecoder(cell, cl.GreedyEmbeddingSampler(), out, maximum_iterations=T)

        def run():
            mechanism.setup_memory(cl.tile_batch(memory, rows), memory_sequence_length=cl.tile_batch(memory_lengths, rows))
            state = cell.get_initial_state(batch_size=B * rows, dtype=tf.float32).clone(cell_state=cl.tile_batch([h0, c0], rows))
            outputs, final_state, lengths = decoder(emb.embeddings, start_tokens=cl.tile_batch(start, rows), end_token=END,
                                                    initial_state=state)
            return {"logits": outputs.rnn_output, "ids": outputs.sample_id, "lengths": lengths,
                    "alignments": final_state.alignment_history.stack()}
        return run

    def att_beam():
        emb, out = embedding(), dense()
        mechanism, cell = attention_cell(beam=True)
        decoder = cl.BeamSearchDecoder(cell, W, output_layer=out, maximum_iterations=T)

        def run():
            mechanism.setup_memory(cl.tile_batch(memory, W), memory_sequence_length=cl.tile_batch(memory_lengths, W))
            state = cell.get_initial_state(batch_size=B * W, dtype=tf.float32).clone(
                cell_state=cl.tile_batch([h0, c0], W))
            outputs, final_state, lengths = decoder(emb.embeddings, start_tokens=start, end_token=END,
                                                    initial_state=state)
            return {"ids": outputs.predicted_ids, "lengths": lengths, "state": _tensors(final_state)}
        return run

    def _tensors(structure):  # every tensor of a state (TensorArrays stacked), so nothing is pruned
        return [x.stack() if isinstance(x, tf.TensorArray) else x for x in nest.flatten(structure)
                if isinstance(x, (tf.Tensor, tf.TensorArray))]

    # -- the candidates ---------------------------------------------------------------------------
    candidates, specs, skipped = [], [], {}

    def add(mode, section, name, label, factory, optional=False):
        key = f"tf.{mode}.{section}.{name}"
        try:
            fn = factory()
        except Exception as exc:  # noqa: BLE001 - an optional section reports and skips
            if not optional:
                raise
            skipped[key] = describe_error(exc)
            return
        if mode == "function":
            fn = tf.function(fn)
        candidates.append(Candidate(key, label, fn, optional=optional, traced=mode == "function"))

    for mode in modes:
        m, ml = f"tf.{mode}", MODE_LABEL[mode]
        add(mode, "train", "cl", "cl BasicDecoder(TrainingSampler) fast path", cl_train)
        add(mode, "train", "fused_layer", "keras.layers.LSTM + Dense + loss (fused layer)", keras_lstm_train)
        add(mode, "train", "hand_loop", "hand tf.while_loop (LSTM math, Dense per step)", hand_train)
        add(mode, "train", "cl_ragged", "cl BasicDecoder, ragged lengths + impute_finished",
            lambda: cl_train(True))
        add(mode, "greedy", "cl", "cl BasicDecoder(GreedyEmbeddingSampler)", cl_greedy)
        add(mode, "greedy", "hand_loop", "hand tf.while_loop greedy (LSTM math, argmax)", hand_greedy)
        specs += [
            RatioSpec(f"{m}.train.cl/fused_layer", f"{ml}: train step, cl / keras.layers.LSTM",
                      f"{m}.train.cl", f"{m}.train.fused_layer", 1.5 if mode == "function" else None),
            RatioSpec(f"{m}.train.cl/hand_loop", f"{ml}: train step, cl / hand while_loop",
                      f"{m}.train.cl", f"{m}.train.hand_loop"),
            RatioSpec(f"{m}.train.cl_ragged/cl", f"{ml}: train step, ragged+impute / full length",
                      f"{m}.train.cl_ragged", f"{m}.train.cl"),
            RatioSpec(f"{m}.greedy.cl/hand_loop", f"{ml}: greedy, cl / hand while_loop",
                      f"{m}.greedy.cl", f"{m}.greedy.hand_loop"),
        ]
        missing = [n for n in ("BahdanauAttention", "AttentionWrapper", "BeamSearchDecoder", "tile_batch")
                   if not hasattr(cl, n)]
        if missing:
            skipped[f"{m}.attention"] = f"course_lib.tf lacks {', '.join(missing)}"
            continue
        for name, label, factory in (
                ("greedy", "cl Bahdanau + AttentionWrapper greedy", att_greedy),
                ("greedy_bw", f"cl attention greedy on B x {W} rows (beam's arithmetic)", lambda: att_greedy(W)),
                ("beam", f"cl BeamSearchDecoder W={W} + attention", att_beam)):
            add(mode, "attention", name, label, factory, optional=True)
        specs += [
            RatioSpec(f"{m}.attention.greedy/greedy", f"{ml}: attention greedy / plain greedy",
                      f"{m}.attention.greedy", f"{m}.greedy.cl", 2.0),
            RatioSpec(f"{m}.attention.beam/greedy", f"{ml}: beam-{W} + attention / attention greedy",
                      f"{m}.attention.beam", f"{m}.attention.greedy", 3.5),
            RatioSpec(f"{m}.attention.beam/greedy_bw", f"{ml}: beam-{W} + attention / attention greedy on B x {W} rows",
                      f"{m}.attention.beam", f"{m}.attention.greedy_bw", 1.1),
        ]

    def check(outputs):
        results = {}
        for mode in modes:
            results.update(check_outputs(outputs, f"tf.{mode}", T))
        return results

    return candidates, specs, skipped, check
