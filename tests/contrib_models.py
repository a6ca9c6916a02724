"""TF1-style programs on the contrib surface and their modern twins, for the contrib tests.

Each builder takes the tests' backend adapter (``tests.conftest.Backend``) and a weights dict in
the contrib (TF1) key scheme; ``to_modern_weights`` converts that dict to the modern (Keras)
layout by hand, so the tests compare the two surfaces on the same numbers.
"""

from __future__ import annotations

import importlib

import numpy as np

from tests.conftest import random_weights

B, T, E, H, V, A, S = 3, 5, 4, 6, 7, 5, 6  # batch, decoder time, embedding, units, vocab, attention, memory time
FORGET_BIAS = 0.7  # not TF1's default 1.0, so that a cell that ignored it would fail
LENGTHS = [5, 3, 1]
MEMORY_LENGTHS = [6, 3, 1]
RNG = np.random.default_rng(7)
EMBEDDING = RNG.standard_normal((V, E)).astype(np.float32)
IDS = RNG.integers(0, V, size=(B, T))
TARGETS = RNG.integers(0, V, size=(B, T))
LOSS_WEIGHTS = (np.arange(T)[None, :] < np.array(LENGTHS)[:, None]).astype(np.float32) * 0.5
STATES = RNG.standard_normal((2, 2, B, H)).astype(np.float32) * 0.5  # [layer, (c, h), B, H]
MEMORY = RNG.standard_normal((B, S, 8)).astype(np.float32)


def contrib(bk):
    return importlib.import_module(f"course_lib.{bk.name}.contrib")


def lookup(bk, table, ids):
    if bk.name == "tf":
        return bk.fw.nn.embedding_lookup(table, ids)
    return bk.fw.nn.functional.embedding(ids, table)


def dtype(bk):
    return bk.fw.float32


def tf1_lstm_to_keras(kernel, bias, input_depth, forget_bias):
    """By hand: rows [:D] for x, [D:] for h; TF1 gate blocks (i, j, f, o) -> Keras (i, f, c=j, o);
    TF1's forget_bias, added at each call, moves into the Keras bias of the f block."""
    i, j, f, o = np.split(kernel, 4, axis=1)
    keras_kernel = np.concatenate([i, f, j, o], axis=1)
    bi, bj, bf, bo = np.split(bias, 4)
    return {"kernel": keras_kernel[:input_depth], "recurrent_kernel": keras_kernel[input_depth:],
            "bias": np.concatenate([bi, bf + forget_bias, bj, bo])}


def to_modern_weights(weights, lstm_input_depths):
    """A contrib weights dict -> the modern one: each ``<prefix>kernel`` of ``lstm_input_depths``
    (an LSTM cell: prefix -> input depth) converted, every other key kept."""
    out = {}
    for key, value in weights.items():
        prefix, _, name = key.rpartition("/")
        prefix += "/"
        if prefix in lstm_input_depths and name in ("kernel", "bias"):
            if name == "kernel":
                out.update({prefix + k: v for k, v in tf1_lstm_to_keras(
                    value, weights[prefix + "bias"], lstm_input_depths[prefix], FORGET_BIAS).items()})
            continue
        out[key] = value
    return out


# -- the two-layer decoder (the Korean tutorial's program) ---------------------------------------------

def tf1_states(bk):
    rnn = contrib(bk).rnn
    return tuple(rnn.LSTMStateTuple(c=bk.float(STATES[layer, 0]), h=bk.float(STATES[layer, 1])) for layer in range(2))


def modern_states(bk):
    return tuple([bk.float(STATES[layer, 1]), bk.float(STATES[layer, 0])] for layer in range(2))


def tf1_decoder(bk, weights=None):
    """``MultiRNNCell`` of two ``BasicLSTMCell``s and an output layer, built and loaded; returns
    ``(cell, output_layer, weights)``."""
    rnn = contrib(bk).rnn
    cell = rnn.MultiRNNCell([rnn.BasicLSTMCell(H, forget_bias=FORGET_BIAS) for _ in range(2)])
    output_layer = bk.dense(H, V)
    cell(bk.float(np.zeros((B, E))), tf1_states(bk))  # builds the cells (TF1 cells build on their first call)
    holder = Holder(bk, cell, output_layer)
    weights = random_weights(bk.cl.export_weights(holder), seed=11) if weights is None else weights
    bk.cl.import_weights(holder, weights)
    return cell, output_layer, weights


def tf1_train(bk, cell, output_layer):
    """TF1: TrainingHelper + BasicDecoder + dynamic_decode + sequence_loss."""
    seq2seq = contrib(bk).seq2seq
    inputs = lookup(bk, bk.float(EMBEDDING), bk.int(IDS))
    helper = seq2seq.TrainingHelper(inputs, bk.int(LENGTHS))
    decoder = seq2seq.BasicDecoder(cell, helper, tf1_states(bk), output_layer=output_layer)
    outputs, state, lengths = seq2seq.dynamic_decode(decoder, output_time_major=False, impute_finished=True,
                                                     maximum_iterations=10)
    loss = seq2seq.sequence_loss(outputs.rnn_output, bk.int(TARGETS), bk.float(LOSS_WEIGHTS))
    return outputs, state, lengths, loss


def tf1_greedy(bk, cell, output_layer, end_token):
    """TF1: GreedyEmbeddingHelper inference, ``impute_finished=True, maximum_iterations=10``."""
    seq2seq = contrib(bk).seq2seq
    helper = seq2seq.GreedyEmbeddingHelper(bk.float(EMBEDDING), start_tokens=bk.int([0] * B), end_token=end_token)
    decoder = seq2seq.BasicDecoder(cell, helper, tf1_states(bk), output_layer=output_layer)
    return seq2seq.dynamic_decode(decoder, output_time_major=False, impute_finished=True, maximum_iterations=10)


def modern_decoders(bk, weights):
    """The same model on the modern API: ``(training decoder, greedy decoder)`` sharing the cell."""
    cl = bk.cl
    cell = cl.MultiRNNCell([cl.LSTMCell(H), cl.LSTMCell(H)])
    output_layer = bk.dense(H, V)
    train = cl.BasicDecoder(cell, cl.TrainingSampler(), output_layer, impute_finished=True, maximum_iterations=10)
    greedy = cl.BasicDecoder(cell, cl.GreedyEmbeddingSampler(), output_layer, impute_finished=True,
                             maximum_iterations=10)
    modern = to_modern_weights(weights, {"cell/cells/0/": E, "cell/cells/1/": H})
    cl.import_weights(train, modern)
    return train, greedy


def an_end_token(ids):
    """A token on which rows of ``ids [B, steps]`` would end at different steps, one of them early."""
    steps = ids.shape[1]
    for token in range(V):
        firsts = [int(np.argmax(row == token)) if (row == token).any() else steps for row in ids]
        if len(set(firsts)) > 1 and min(firsts) < steps - 1:
            return token
    return None


# -- attention ------------------------------------------------------------------------------------------

def tf1_attention_cell(bk, memory, memory_lengths, mechanism="bahdanau", alignment_history=True):
    seq2seq, rnn = contrib(bk).seq2seq, contrib(bk).rnn
    if mechanism == "bahdanau":
        mech = seq2seq.BahdanauAttention(H, memory, memory_sequence_length=memory_lengths, normalize=True)
    else:
        mech = seq2seq.LuongAttention(H, memory, memory_sequence_length=memory_lengths, scale=True)
    return seq2seq.AttentionWrapper(rnn.BasicLSTMCell(H, forget_bias=FORGET_BIAS), mech, attention_layer_size=A,
                                    alignment_history=alignment_history), mech


def modern_attention_cell(bk, memory, memory_lengths, mechanism="bahdanau", alignment_history=True):
    cl = bk.cl
    if mechanism == "bahdanau":
        mech = cl.BahdanauAttention(H, memory, memory_sequence_length=memory_lengths, normalize=True)
    else:
        mech = cl.LuongAttention(H, memory, memory_sequence_length=memory_lengths, scale=True)
    return cl.AttentionWrapper(cl.LSTMCell(H), mech, attention_layer_size=A, alignment_history=alignment_history), mech


def load_attention(bk, cell, mech, output_layer, weights, memory, memory_lengths, batch):
    """Build ``cell`` with one call, load ``{"cell/...", "output_layer/..."}`` weights, set the memory up
    again (its keys were computed with the old weights); returns the weights."""
    state = cell.zero_state(batch, dtype(bk)) if hasattr(cell, "zero_state") \
        else cell.get_initial_state(batch_size=batch, dtype=dtype(bk))
    cell(bk.float(np.zeros((batch, E))), state)
    holder = Holder(bk, cell, output_layer)
    weights = random_weights(bk.cl.export_weights(holder), seed=5) if weights is None else weights
    bk.cl.import_weights(holder, weights)
    mech.setup_memory(memory, memory_sequence_length=memory_lengths)
    return weights


def Holder(bk, cell, output_layer):
    """A module with the attributes ``cell`` and ``output_layer`` (the decoders' key scheme)."""
    if bk.name == "tf":
        layer = bk.keras.layers.Layer()
    else:
        layer = bk.fw.nn.Module()
    layer.cell, layer.output_layer = cell, output_layer
    return layer
