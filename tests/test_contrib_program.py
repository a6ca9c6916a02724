"""TF1 programs on the contrib surface give the modern API's numbers, and the same numbers in both backends.

The programs are those of the classic TF1 tutorials (a two-layer ``BasicLSTMCell`` decoder with
``LSTMStateTuple`` states; ``AttentionWrapper`` with ``zero_state(...).clone(cell_state=...)``;
``BeamSearchDecoder`` with every input at construction), ported by changing only the imports.
"""

import numpy as np
import pytest

from tests import contrib_models as m
from tests.conftest import assert_close


def _greedy_end_token(bk, cell, output_layer):
    """An end token on which the greedy rows of this model end at different steps."""
    outputs, _, _ = m.tf1_greedy(bk, cell, output_layer, end_token=m.V + 1)  # never emitted: 10 steps each
    token = m.an_end_token(bk.np(outputs.sample_id))
    assert token is not None, "the seeded model emits no token that ends rows at different steps"
    return token


def test_tf1_decoder_program_equals_the_modern_api(backend):
    cell, output_layer, weights = m.tf1_decoder(backend)
    outputs, state, lengths, loss = m.tf1_train(backend, cell, output_layer)
    assert isinstance(state[0], m.contrib(backend).rnn.LSTMStateTuple)
    train, greedy = m.modern_decoders(backend, weights)
    inputs = m.lookup(backend, backend.float(m.EMBEDDING), backend.int(m.IDS))
    ref_outputs, ref_state, ref_lengths = train(inputs, initial_state=m.modern_states(backend),
                                                sequence_length=backend.int(m.LENGTHS))
    ref_loss = backend.cl.sequence_loss(ref_outputs.rnn_output, backend.int(m.TARGETS), backend.float(m.LOSS_WEIGHTS))
    assert_close(backend.np(outputs.rnn_output), backend.np(ref_outputs.rnn_output), what="training logits")
    assert np.array_equal(backend.np(lengths), m.LENGTHS) and np.array_equal(backend.np(ref_lengths), m.LENGTHS)
    for layer in range(2):  # TF1 (c, h) against the modern [h, c]
        assert_close(backend.np(state[layer].c), backend.np(ref_state[layer][1]), what=f"c of layer {layer}")
        assert_close(backend.np(state[layer].h), backend.np(ref_state[layer][0]), what=f"h of layer {layer}")
    assert abs(float(backend.np(loss)) - float(backend.np(ref_loss))) < 1e-5

    end_token = _greedy_end_token(backend, cell, output_layer)
    outputs, state, lengths = m.tf1_greedy(backend, cell, output_layer, end_token)
    ref_outputs, ref_state, ref_lengths = greedy(backend.float(m.EMBEDDING), start_tokens=backend.int([0] * m.B),
                                                 end_token=end_token, initial_state=m.modern_states(backend))
    lengths = backend.np(lengths)
    assert len(set(lengths.tolist())) > 1 and lengths.min() < 10, f"rows should end at different steps: {lengths}"
    assert np.array_equal(lengths, backend.np(ref_lengths))
    assert np.array_equal(backend.np(outputs.sample_id), backend.np(ref_outputs.sample_id))
    assert_close(backend.np(outputs.rnn_output), backend.np(ref_outputs.rnn_output), what="greedy logits")
    first = int(np.argmin(lengths))  # impute_finished: zeros after a row's end, its state frozen there
    assert np.all(backend.np(outputs.rnn_output)[first, lengths[first]:] == 0)
    assert_close(backend.np(state[1].h), backend.np(ref_state[1][0]), what="greedy final h")


def test_tf1_decoder_program_gives_the_same_numbers_in_both_backends(tf_backend, torch_backend):
    tf_cell, tf_out, weights = m.tf1_decoder(tf_backend)
    torch_cell, torch_out, _ = m.tf1_decoder(torch_backend, weights)  # export from one, import into the other
    tf_result = m.tf1_train(tf_backend, tf_cell, tf_out)
    torch_result = m.tf1_train(torch_backend, torch_cell, torch_out)
    assert_close(tf_backend.np(tf_result[0].rnn_output), torch_backend.np(torch_result[0].rnn_output), what="logits")
    assert_close(tf_backend.np(tf_result[1]), torch_backend.np(torch_result[1]), what="final states")
    assert abs(float(tf_result[3]) - float(torch_result[3].detach())) < 1e-5
    end_token = _greedy_end_token(tf_backend, tf_cell, tf_out)
    tf_ids = tf_backend.np(m.tf1_greedy(tf_backend, tf_cell, tf_out, end_token)[0].sample_id)
    torch_ids = torch_backend.np(m.tf1_greedy(torch_backend, torch_cell, torch_out, end_token)[0].sample_id)
    assert np.array_equal(tf_ids, torch_ids)


def test_tf1_program_runs_under_tf_function(tf_backend):
    tf = tf_backend.fw
    cell, output_layer, _ = m.tf1_decoder(tf_backend)
    eager = m.tf1_train(tf_backend, cell, output_layer)
    graph = tf.function(lambda: m.tf1_train(tf_backend, cell, output_layer))()
    assert_close(eager[0].rnn_output.numpy(), graph[0].rnn_output.numpy(), what="logits in a graph")
    assert isinstance(graph[1][0], m.contrib(tf_backend).rnn.LSTMStateTuple)


def _attention_program(bk, weights=None, modern=False):
    """AttentionWrapper TF1 style: zero_state(B).clone(cell_state=encoder_state), TrainingHelper."""
    memory, memory_lengths = bk.float(m.MEMORY), bk.int(m.MEMORY_LENGTHS)
    build = m.modern_attention_cell if modern else m.tf1_attention_cell
    cell, mech = build(bk, memory, memory_lengths)
    output_layer = bk.dense(m.A, m.V)
    modern_weights = None if weights is None or not modern else m.to_modern_weights(weights, {"cell/cell/": m.E + m.A})
    weights = m.load_attention(bk, cell, mech, output_layer, modern_weights if modern else weights, memory,
                               memory_lengths, m.B)
    inputs = m.lookup(bk, bk.float(m.EMBEDDING), bk.int(m.IDS))
    c, h = bk.float(m.STATES[0, 0]), bk.float(m.STATES[0, 1])
    if modern:
        state = cell.get_initial_state(batch_size=m.B, dtype=m.dtype(bk)).clone(cell_state=[h, c])
        decoder = bk.cl.BasicDecoder(cell, bk.cl.TrainingSampler(), output_layer)
        outputs, state, _ = bk.cl.dynamic_decode(decoder, decoder_init_input=inputs, decoder_init_kwargs=dict(
            initial_state=state, sequence_length=bk.int(m.LENGTHS)))
        return outputs, state, weights
    seq2seq, rnn = m.contrib(bk).seq2seq, m.contrib(bk).rnn
    state = cell.zero_state(m.B, m.dtype(bk))
    assert int(bk.np(state.time)) == 0
    state = state.clone(cell_state=rnn.LSTMStateTuple(c, h))
    helper = seq2seq.TrainingHelper(inputs, bk.int(m.LENGTHS))
    decoder = seq2seq.BasicDecoder(cell, helper, state, output_layer=output_layer)
    outputs, state, _ = seq2seq.dynamic_decode(decoder)
    return outputs, state, weights


def test_attention_wrapper_tf1_style_equals_the_modern_api(backend):
    outputs, state, weights = _attention_program(backend)
    assert type(state).__name__ == "AttentionWrapperState" and state._fields[2] == "time"
    assert int(backend.np(state.time)) == m.T  # one count per step
    ref_outputs, ref_state, _ = _attention_program(backend, weights, modern=True)
    assert_close(backend.np(outputs.rnn_output), backend.np(ref_outputs.rnn_output), what="attention logits")
    history, ref_history = state.alignment_history.stack(), ref_state.alignment_history.stack()
    assert_close(backend.np(history), backend.np(ref_history), what="alignment history")
    assert np.all(backend.np(history)[:, 2, 1:] == 0)  # memory length 1: only position 0 is attended
    assert_close(backend.np(state.cell_state.c), backend.np(ref_state.cell_state[1]), what="c")


def test_attention_wrapper_tf1_style_same_numbers_in_both_backends(tf_backend, torch_backend):
    tf_outputs, tf_state, weights = _attention_program(tf_backend)
    torch_outputs, torch_state, _ = _attention_program(torch_backend, weights)
    assert_close(tf_outputs.rnn_output.numpy(), torch_backend.np(torch_outputs.rnn_output), what="logits")
    assert_close(tf_state.alignment_history.stack().numpy(), torch_backend.np(torch_state.alignment_history.stack()),
                 what="alignment history")


W = 3  # beam width


def _beam_program(bk, weights=None, modern=False, length_penalty_weight=0.5):
    """BeamSearchDecoder TF1 style: tiled memory, zero_state(B * W).clone(cell_state=tile_batch(state))."""
    cl = bk.cl
    memory = cl.tile_batch(bk.float(m.MEMORY), W)
    memory_lengths = cl.tile_batch(bk.int(m.MEMORY_LENGTHS), W)
    build = m.modern_attention_cell if modern else m.tf1_attention_cell
    cell, mech = build(bk, memory, memory_lengths, mechanism="luong", alignment_history=False)
    output_layer = bk.dense(m.A, m.V)
    if weights is not None and modern:
        weights = m.to_modern_weights(weights, {"cell/cell/": m.E + m.A})
    weights = m.load_attention(bk, cell, mech, output_layer, weights, memory, memory_lengths, m.B * W)
    c, h = bk.float(m.STATES[0, 0]), bk.float(m.STATES[0, 1])
    embedding, start, end = bk.float(m.EMBEDDING), bk.int([0] * m.B), 1
    if modern:
        state = cell.get_initial_state(batch_size=m.B * W, dtype=m.dtype(bk)).clone(cell_state=cl.tile_batch([h, c], W))
        decoder = cl.BeamSearchDecoder(cell, W, output_layer=output_layer, length_penalty_weight=length_penalty_weight,
                                       maximum_iterations=8)
        return cl.dynamic_decode(decoder, maximum_iterations=8, decoder_init_input=embedding, decoder_init_kwargs=dict(
            start_tokens=start, end_token=end, initial_state=state)), weights
    seq2seq, rnn = m.contrib(bk).seq2seq, m.contrib(bk).rnn
    state = cell.zero_state(m.B * W, m.dtype(bk)).clone(cell_state=seq2seq.tile_batch(rnn.LSTMStateTuple(c, h), W))
    decoder = seq2seq.BeamSearchDecoder(cell, embedding, start, end, state, W, output_layer=output_layer,
                                        length_penalty_weight=length_penalty_weight)
    return seq2seq.dynamic_decode(decoder, maximum_iterations=8), weights


def test_beam_search_tf1_style_equals_the_modern_api(backend):
    (outputs, state, lengths), weights = _beam_program(backend)
    (ref_outputs, ref_state, ref_lengths), _ = _beam_program(backend, weights, modern=True)
    assert backend.np(outputs.predicted_ids).shape[::2] == (m.B, W)
    assert np.array_equal(backend.np(outputs.predicted_ids), backend.np(ref_outputs.predicted_ids))
    assert np.array_equal(backend.np(lengths), backend.np(ref_lengths))
    assert_close(backend.np(outputs.beam_search_decoder_output.scores),
                 backend.np(ref_outputs.beam_search_decoder_output.scores), what="beam scores")
    assert int(backend.np(state.cell_state.time)) == backend.np(outputs.predicted_ids).shape[1]


def test_beam_search_tf1_style_same_beams_in_both_backends(tf_backend, torch_backend):
    (tf_outputs, _, tf_lengths), weights = _beam_program(tf_backend)
    (torch_outputs, _, torch_lengths), _ = _beam_program(torch_backend, weights)
    assert np.array_equal(tf_outputs.predicted_ids.numpy(), torch_backend.np(torch_outputs.predicted_ids))
    assert np.array_equal(tf_lengths.numpy(), torch_backend.np(torch_lengths))


def test_beam_search_tf1_style_refuses_an_untiled_state(backend):
    seq2seq, rnn = m.contrib(backend).seq2seq, m.contrib(backend).rnn
    untiled = rnn.LSTMStateTuple(backend.float(m.STATES[0, 0]), backend.float(m.STATES[0, 1]))  # B rows, not B * W
    with pytest.raises(ValueError, match="tile_batch"):
        seq2seq.BeamSearchDecoder(rnn.BasicLSTMCell(m.H), backend.float(m.EMBEDDING), backend.int([0] * m.B), 1,
                                  untiled, W, output_layer=backend.dense(m.H, m.V))


def test_attention_and_beam_search_tf1_style_run_under_tf_function(tf_backend):
    tf, seq2seq, rnn = tf_backend.fw, m.contrib(tf_backend).seq2seq, m.contrib(tf_backend).rnn
    memory, memory_lengths = seq2seq.tile_batch(tf.constant(m.MEMORY), W), seq2seq.tile_batch(
        tf.constant(m.MEMORY_LENGTHS), W)
    cell, mech = m.tf1_attention_cell(tf_backend, memory, memory_lengths, mechanism="luong")
    output_layer = tf_backend.dense(m.A, m.V)
    m.load_attention(tf_backend, cell, mech, output_layer, None, memory, memory_lengths, m.B * W)
    encoder_state = rnn.LSTMStateTuple(tf.constant(m.STATES[0, 0]), tf.constant(m.STATES[0, 1]))

    def search():
        state = cell.zero_state(m.B * W, tf.float32).clone(cell_state=seq2seq.tile_batch(encoder_state, W))
        decoder = seq2seq.BeamSearchDecoder(cell, tf.constant(m.EMBEDDING), tf.zeros([m.B], tf.int32), 1, state, W,
                                            output_layer=output_layer, length_penalty_weight=0.5)
        outputs, state, lengths = seq2seq.dynamic_decode(decoder, maximum_iterations=8)
        return outputs.predicted_ids, lengths, state.cell_state.alignment_history, state.cell_state.time

    eager, graph = search(), tf.function(search)()
    for a, b in zip(eager, graph):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    steps = eager[0].shape[1]
    assert eager[2].shape == (steps, m.B * W, m.S) and int(graph[3]) == steps  # history reordered along the beams
