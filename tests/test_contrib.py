"""The contrib surface's cells against TF1's formulas in NumPy, its names, weights and bad inputs."""

import importlib

import numpy as np
import pytest

from course_lib.common.contrib import layouts
from tests import contrib_models as m
from tests.conftest import assert_close, random_weights

D, H = 3, 4
RNG = np.random.default_rng(11)
X = RNG.standard_normal((2, D)).astype(np.float32)
C0, H0 = (RNG.standard_normal((2, H)).astype(np.float32) for _ in range(2))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _run(bk, cell, state):
    """One call of a freshly built cell with random weights: ``(weights, output, new_state)`` in NumPy."""
    cell(bk.float(X), state)  # builds
    weights = random_weights(bk.cl.export_weights(cell), seed=2)
    bk.cl.import_weights(cell, weights)
    output, new_state = cell(bk.float(X), state)
    return weights, bk.np(output), bk.np(new_state)


@pytest.mark.parametrize("state_is_tuple", [True, False])
def test_basic_lstm_cell_is_tf1s_formula(backend, state_is_tuple):
    rnn = m.contrib(backend).rnn
    cell = rnn.BasicLSTMCell(H, forget_bias=0.6, state_is_tuple=state_is_tuple)
    state = rnn.LSTMStateTuple(backend.float(C0), backend.float(H0)) if state_is_tuple \
        else backend.float(np.concatenate([C0, H0], 1))
    w, output, new_state = _run(backend, cell, state)
    assert sorted(w) == ["bias", "kernel"] and w["kernel"].shape == (D + H, 4 * H) and w["bias"].shape == (4 * H,)
    i, j, f, o = np.split(np.concatenate([X, H0], 1) @ w["kernel"] + w["bias"], 4, axis=1)  # TF1's gate order
    c = C0 * sigmoid(f + 0.6) + sigmoid(i) * np.tanh(j)
    h = np.tanh(c) * sigmoid(o)
    assert_close(output, h, what="output")
    if state_is_tuple:
        assert isinstance(new_state, rnn.LSTMStateTuple)
        assert_close(new_state.c, c, what="c")
        assert_close(new_state.h, h, what="h")
    else:
        assert_close(new_state, np.concatenate([c, h], 1), what="concat([c, h])")


def test_lstm_cell_peepholes_clip_and_projection_are_tf1s_formula(backend):
    rnn = m.contrib(backend).rnn
    P = 2
    cell = rnn.LSTMCell(H, use_peepholes=True, cell_clip=0.5, num_proj=P, proj_clip=0.3, forget_bias=0.0)
    state = rnn.LSTMStateTuple(backend.float(C0), backend.float(H0[:, :P]))
    w, output, new_state = _run(backend, cell, state)
    assert w["kernel"].shape == (D + P, 4 * H) and w["projection/kernel"].shape == (H, P)
    i, j, f, o = np.split(np.concatenate([X, H0[:, :P]], 1) @ w["kernel"] + w["bias"], 4, axis=1)
    c = C0 * sigmoid(f + w["w_f_diag"] * C0) + sigmoid(i + w["w_i_diag"] * C0) * np.tanh(j)
    c = np.clip(c, -0.5, 0.5)
    hidden = sigmoid(o + w["w_o_diag"] * c) * np.tanh(c)
    h = np.clip(hidden @ w["projection/kernel"], -0.3, 0.3)
    assert_close(output, h, what="projected output")
    assert_close(new_state.c, c, what="clipped c")


def test_gru_cell_is_tf1s_formula_not_keras(backend):
    cell = m.contrib(backend).rnn.GRUCell(H)
    w, output, new_state = _run(backend, cell, backend.float(H0))
    assert sorted(w) == ["candidate/bias", "candidate/kernel", "gates/bias", "gates/kernel"]
    r, u = np.split(sigmoid(np.concatenate([X, H0], 1) @ w["gates/kernel"] + w["gates/bias"]), 2, axis=1)
    candidate = np.tanh(np.concatenate([X, r * H0], 1) @ w["candidate/kernel"] + w["candidate/bias"])  # reset first
    h = u * H0 + (1 - u) * candidate
    assert_close(output, h, what="GRU output")
    assert_close(new_state, h, what="GRU state")


def test_gru_gate_bias_starts_at_one_and_rnn_cell_formula(backend):
    rnn = m.contrib(backend).rnn
    gru = rnn.GRUCell(H)
    gru(backend.float(X), backend.float(H0))
    fresh = backend.cl.export_weights(gru)
    assert np.all(fresh["gates/bias"] == 1.0) and np.all(fresh["candidate/bias"] == 0.0)
    w, output, _ = _run(backend, rnn.BasicRNNCell(H), backend.float(H0))
    assert_close(output, np.tanh(np.concatenate([X, H0], 1) @ w["kernel"] + w["bias"]), what="BasicRNNCell")


def test_contrib_namespaces_have_the_same_names_in_both_backends(tf_backend, torch_backend):
    for space in ("rnn", "nn", "seq2seq"):
        tf_space, torch_space = (importlib.import_module(f"course_lib.{b}.contrib.{space}") for b in ("tf", "torch"))
        assert tf_space.__all__ == torch_space.__all__, f"contrib.{space}"
        for name in tf_space.__all__:
            assert callable(getattr(tf_space, name)) and callable(getattr(torch_space, name)), name
    assert m.contrib(tf_backend).__all__ == m.contrib(torch_backend).__all__ == ["nn", "rnn", "seq2seq"]
    assert m.contrib(tf_backend).rnn.LSTMStateTuple is m.contrib(torch_backend).rnn.LSTMStateTuple  # framework-free


def test_cell_weights_load_across_backends(tf_backend, torch_backend):
    """One TF1-layout dict loads into both backends' contrib cells and gives the same numbers."""
    def cells(bk):
        rnn = m.contrib(bk).rnn
        return rnn.MultiRNNCell([rnn.LSTMCell(H, use_peepholes=True, num_proj=3),
                                 rnn.GRUCell(H), rnn.OutputProjectionWrapper(rnn.BasicRNNCell(H), 5)])

    def state(bk, rnn=None):
        rnn = m.contrib(bk).rnn
        return (rnn.LSTMStateTuple(bk.float(C0), bk.float(H0[:, :3])), bk.float(H0), bk.float(H0))

    tf_cell, torch_cell = cells(tf_backend), cells(torch_backend)
    weights, tf_out, tf_state = _run(tf_backend, tf_cell, state(tf_backend))
    torch_cell(torch_backend.float(X), state(torch_backend))
    torch_backend.cl.import_weights(torch_cell, weights)
    torch_out, torch_state = torch_cell(torch_backend.float(X), state(torch_backend))
    assert_close(tf_out, torch_backend.np(torch_out), what="outputs")
    assert_close(tf_state, torch_backend.np(torch_state), what="states")


def test_layouts_map_tf1_lstm_weights_to_keras_and_back():
    kernel = RNG.standard_normal((D + H, 4 * H)).astype(np.float32)
    bias = RNG.standard_normal(4 * H).astype(np.float32)
    keras = layouts.lstm_to_keras(kernel, bias, D, forget_bias=0.6)
    by_hand = m.tf1_lstm_to_keras(kernel, bias, D, 0.6)
    for key in ("kernel", "recurrent_kernel", "bias"):
        np.testing.assert_array_equal(keras[key], by_hand[key])
    back = layouts.lstm_from_keras(keras["kernel"], keras["recurrent_kernel"], keras["bias"], forget_bias=0.6)
    np.testing.assert_allclose(back["kernel"], kernel)
    np.testing.assert_allclose(back["bias"], bias, atol=1e-6)
    rnn = layouts.basic_rnn_to_keras(kernel[:, :H], bias[:H], D)
    np.testing.assert_array_equal(layouts.basic_rnn_from_keras(**rnn)["kernel"], kernel[:, :H])
    with pytest.raises(ValueError, match="input_depth"):
        layouts.lstm_to_keras(kernel, bias, D + 1)


def test_zero_state_on_every_cell_and_wrapper(backend):
    rnn, seq2seq = m.contrib(backend).rnn, m.contrib(backend).seq2seq
    lstm = rnn.BasicLSTMCell(H)
    wrapped = rnn.DropoutWrapper(rnn.ResidualWrapper(rnn.OutputProjectionWrapper(lstm, H)), output_keep_prob=1.0)
    state = rnn.MultiRNNCell([wrapped, rnn.GRUCell(2)]).zero_state(5, m.dtype(backend))
    assert isinstance(state, tuple) and isinstance(state[0], rnn.LSTMStateTuple)
    assert backend.np(state[0].c).shape == (5, H) and backend.np(state[1]).shape == (5, 2)
    assert not np.any(backend.np(state[0].h))
    memory = backend.float(m.MEMORY)
    attention = seq2seq.AttentionWrapper(lstm, seq2seq.LuongAttention(H, memory), alignment_history=True)
    state = rnn.OutputProjectionWrapper(attention, 3).zero_state(m.B, m.dtype(backend))
    assert state._fields == ("cell_state", "attention", "time", "alignments", "alignment_history", "attention_state")
    assert int(backend.np(state.time)) == 0 and isinstance(state.cell_state, rnn.LSTMStateTuple)


def test_dropout_wrapper_keeps_c_and_checks_keep_probabilities(backend):
    rnn = m.contrib(backend).rnn
    units = 50  # enough values that some are dropped and some kept
    cell = rnn.BasicLSTMCell(units)
    state = rnn.LSTMStateTuple(backend.float(np.ones((2, units))), backend.float(np.ones((2, units))))
    plain = backend.np(cell(backend.float(X), state)[1])  # builds; the state without dropout
    _, dropped = rnn.DropoutWrapper(cell, state_keep_prob=0.5, seed=1)(backend.float(X), state)
    dropped = backend.np(dropped)
    assert_close(dropped.c, plain.c, what="c is never dropped")
    zeros = dropped.h == 0
    assert zeros.any() and not zeros.all()
    np.testing.assert_allclose(dropped.h[~zeros], plain.h[~zeros] / 0.5, rtol=1e-5)  # kept values scaled by 1/keep
    _, kept = rnn.DropoutWrapper(cell, input_keep_prob=1.0, output_keep_prob=1.0)(backend.float(X), state)
    assert_close(backend.np(kept), plain, what="keep probabilities of 1")
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="`input_keep_prob` must be between 0 and 1"):
            rnn.DropoutWrapper(cell, input_keep_prob=bad)
    with pytest.raises(NotImplementedError, match="variational_recurrent"):
        rnn.DropoutWrapper(cell, variational_recurrent=True)


# -- bad inputs ------------------------------------------------------------------------------------------

def test_h_c_given_where_lstm_state_tuple_is_expected(backend):
    rnn, seq2seq, nn = (getattr(m.contrib(backend), n) for n in ("rnn", "seq2seq", "nn"))
    h, c = backend.float(H0), backend.float(C0)
    cell = rnn.BasicLSTMCell(H)
    with pytest.raises(TypeError, match=r"`state` must be an LSTMStateTuple\(c, h\).*got a list"):
        cell(backend.float(X), [h, c])  # the modern cells' [h, c]
    helper = seq2seq.TrainingHelper(backend.float(np.zeros((2, 3, D))), backend.int([3, 1]))
    with pytest.raises(TypeError, match=r"`initial_state` must be an LSTMStateTuple\(c, h\).*plain tuple"):
        seq2seq.BasicDecoder(cell, helper, (h, c))
    stacked = rnn.MultiRNNCell([rnn.BasicLSTMCell(H), rnn.BasicLSTMCell(H)])
    with pytest.raises(TypeError, match=r"`initial_state\[1\]` must be an LSTMStateTuple"):
        nn.dynamic_rnn(stacked, backend.float(np.zeros((2, 3, D))), initial_state=(rnn.LSTMStateTuple(c, h), [h, c]))
    attention = seq2seq.AttentionWrapper(cell, seq2seq.LuongAttention(H, backend.float(m.MEMORY[:2])))
    with pytest.raises(TypeError, match="`cell_state` must be an LSTMStateTuple"):
        attention.zero_state(2, m.dtype(backend)).clone(cell_state=(c, h))
    with pytest.raises(TypeError, match="must be TF1's AttentionWrapperState"):
        modern_state = backend.cl.AttentionWrapper(backend.cl.LSTMCell(H), backend.cl.LuongAttention(
            H, backend.float(m.MEMORY[:2]))).get_initial_state(batch_size=2, dtype=m.dtype(backend))
        attention(backend.float(X), modern_state)
    with pytest.raises(TypeError, match="Inconsistent internal state"):
        rnn.LSTMStateTuple(c, backend.int([[1] * H] * 2)).dtype


def test_a_helper_without_initialize_is_refused(backend):
    seq2seq, rnn = m.contrib(backend).seq2seq, m.contrib(backend).rnn
    cell = rnn.BasicLSTMCell(H)
    state = cell.zero_state(2, m.dtype(backend))

    class NoInitialize:
        def sample(self, time, outputs, state):
            return None

        def next_inputs(self, time, outputs, state, sample_ids):
            return None

    with pytest.raises(TypeError, match=r"`helper` must be a contrib.seq2seq.Helper.*got NoInitialize.*`initialize`"):
        seq2seq.BasicDecoder(cell, NoInitialize(), state)

    class HalfHelper(seq2seq.Helper):  # subclasses the interface but forgets initialize
        batch_size, sample_ids_shape, sample_ids_dtype = 2, (), None

        def sample(self, time, outputs, state, name=None):
            return None

        def next_inputs(self, time, outputs, state, sample_ids, name=None):
            return None

    with pytest.raises(TypeError, match="HalfHelper is a Helper without `initialize`"):
        HalfHelper()
    with pytest.raises(TypeError, match="got the modern sampler TrainingSampler.*TrainingHelper"):
        seq2seq.BasicDecoder(cell, backend.cl.TrainingSampler(), state)
    with pytest.raises(TypeError, match="`decoder` must be a contrib.seq2seq Decoder.*modern BasicDecoder"):
        seq2seq.dynamic_decode(backend.cl.BasicDecoder(backend.cl.LSTMCell(H), backend.cl.TrainingSampler()))


def test_tf1_argument_errors(backend):
    rnn, seq2seq, nn = (getattr(m.contrib(backend), n) for n in ("rnn", "seq2seq", "nn"))
    with pytest.raises(ValueError, match="`dtype` is required when `initial_state` is None"):
        nn.dynamic_rnn(rnn.GRUCell(H), backend.float(np.zeros((2, 3, D))))
    with pytest.raises(ValueError, match="`memory` of BahdanauAttention is required"):
        seq2seq.BahdanauAttention(H, None)
    with pytest.raises(NotImplementedError, match="custom_key_value_fn"):
        seq2seq.LuongAttention(H, backend.float(m.MEMORY), custom_key_value_fn=lambda k, v: (k, v))
    with pytest.raises(ValueError, match="`cells` must hold at least one cell"):
        rnn.MultiRNNCell([])
    with pytest.raises(ValueError, match="`num_units` must be a positive int"):
        rnn.BasicLSTMCell(0)
    decoder = seq2seq.BasicDecoder(rnn.GRUCell(H), seq2seq.TrainingHelper(
        backend.float(np.zeros((2, 3, D))), backend.int([3, 1])), backend.float(np.zeros((2, H))))
    with pytest.raises(TypeError, match="run it with contrib.seq2seq.dynamic_decode"):
        decoder(backend.float(np.zeros((2, 3, D))))
