"""Cells: cross-backend parity through one weights dict, the protocol, a learner's own cell."""

import numpy as np
import pytest

from tests.conftest import assert_close, random_weights

B, D, H = 4, 3, 5


def make_cell(bk, kind, units=H):
    cl = bk.cl
    if kind == "multi":
        return cl.MultiRNNCell([cl.LSTMCell(units), cl.GRUCell(units), cl.SimpleRNNCell(units)])
    if kind == "projection":
        return cl.OutputProjectionWrapper(cl.GRUCell(units), 7)
    if kind == "residual":
        return cl.ResidualWrapper(cl.LSTMCell(D))
    return getattr(cl, kind)(units)


KINDS = ["LSTMCell", "GRUCell", "SimpleRNNCell", "multi", "projection", "residual"]


def _step(bk, cell, x, state):
    out, new = cell(bk.float(x), state)
    return bk.np(out), bk.np(new)


@pytest.mark.parametrize("kind", KINDS)
def test_cell_parity(tf_backend, torch_backend, kind):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, D)).astype(np.float32)
    results, weights = [], None
    for bk in (tf_backend, torch_backend):
        cell = make_cell(bk, kind)
        state = cell.get_initial_state(batch_size=B, dtype=bk.fw.float32)
        cell(bk.float(x), state)  # build
        if weights is None:
            weights = random_weights(bk.cl.export_weights(cell))
        bk.cl.import_weights(cell, weights)
        # two steps from a random state (each leaf its own values, the same in both backends)
        from course_lib.common import nest
        leaves = nest.flatten(state)
        st = nest.pack_sequence_as(state, [
            bk.float(np.random.default_rng(10 + i).standard_normal(np.shape(bk.np(s)))) for i, s in enumerate(leaves)])
        out1, s1 = cell(bk.float(x), st)
        out2, s2 = cell(bk.float(x * 2), s1)
        results.append(bk.np((out1, s1, out2, s2)))
    assert_close(results[0], results[1], what=kind)


@pytest.mark.parametrize("kind,structure", [
    ("LSTMCell", [H, H]), ("GRUCell", H), ("SimpleRNNCell", H), ("multi", ([H, H], H, H)),
])
def test_state_size_and_initial_state(backend, kind, structure):
    cell = make_cell(backend, kind)
    assert cell.state_size == structure
    assert cell.output_size == H
    state = cell.get_initial_state(batch_size=B, dtype=backend.fw.float32)
    from course_lib.common import nest
    assert nest.same_structure(structure, state)
    for leaf in nest.flatten(backend.np(state)):
        assert leaf.shape == (B, H) and not leaf.any()


def test_lstm_gate_layout_matches_keras_and_torch(tf_backend, torch_backend):
    """Our cells equal the frameworks' own LSTM cells given the same Keras-layout weights."""
    import keras
    import torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, D)).astype(np.float32)
    h0 = rng.standard_normal((B, H)).astype(np.float32)
    c0 = rng.standard_normal((B, H)).astype(np.float32)
    w = {"kernel": rng.standard_normal((D, 4 * H)).astype(np.float32) * 0.5,
         "recurrent_kernel": rng.standard_normal((H, 4 * H)).astype(np.float32) * 0.5,
         "bias": rng.standard_normal(4 * H).astype(np.float32) * 0.5}
    keras_cell = keras.layers.LSTMCell(H)
    keras_cell.build((None, D))
    keras_cell.set_weights([w["kernel"], w["recurrent_kernel"], w["bias"]])
    ref, _ = keras_cell(x, [h0, c0])
    torch_cell = torch.nn.LSTMCell(D, H)
    with torch.no_grad():
        torch_cell.weight_ih.copy_(torch.tensor(w["kernel"].T))
        torch_cell.weight_hh.copy_(torch.tensor(w["recurrent_kernel"].T))
        torch_cell.bias_ih.copy_(torch.tensor(w["bias"]))
        torch_cell.bias_hh.zero_()
    ref_torch, _ = torch_cell(torch.tensor(x), (torch.tensor(h0), torch.tensor(c0)))
    for bk in (tf_backend, torch_backend):
        cell = bk.cl.LSTMCell(H)
        cell(bk.float(x), [bk.float(h0), bk.float(c0)])
        bk.cl.import_weights(cell, w)
        out, _ = cell(bk.float(x), [bk.float(h0), bk.float(c0)])
        np.testing.assert_allclose(bk.np(out), np.asarray(ref), atol=1e-5)
        np.testing.assert_allclose(bk.np(out), ref_torch.detach().numpy(), atol=1e-5)


def test_gru_matches_keras_reset_after(tf_backend, torch_backend):
    import keras
    import torch

    rng = np.random.default_rng(3)
    x = rng.standard_normal((B, D)).astype(np.float32)
    h0 = rng.standard_normal((B, H)).astype(np.float32)
    keras_cell = keras.layers.GRUCell(H, reset_after=True)
    keras_cell.build((None, D))
    w = [rng.standard_normal(v.shape).astype(np.float32) * 0.5 for v in keras_cell.get_weights()]
    keras_cell.set_weights(w)
    ref, _ = keras_cell(x, h0)
    # nn.GRUCell gates r, z, n: reorder Keras z, r, h
    def reorder(a):
        z, r, h = np.split(a, 3, axis=-1)
        return np.concatenate([r, z, h], axis=-1)
    torch_cell = torch.nn.GRUCell(D, H)
    with torch.no_grad():
        torch_cell.weight_ih.copy_(torch.tensor(reorder(w[0]).T))
        torch_cell.weight_hh.copy_(torch.tensor(reorder(w[1]).T))
        torch_cell.bias_ih.copy_(torch.tensor(reorder(w[2][0])))
        torch_cell.bias_hh.copy_(torch.tensor(reorder(w[2][1])))
    ref_torch = torch_cell(torch.tensor(x), torch.tensor(h0)).detach().numpy()
    np.testing.assert_allclose(np.asarray(ref), ref_torch, atol=1e-5)
    for bk in (tf_backend, torch_backend):
        cell = bk.cl.GRUCell(H)
        cell(bk.float(x), bk.float(h0))
        bk.cl.import_weights(cell, {"kernel": w[0], "recurrent_kernel": w[1], "bias": w[2]})
        out, _ = cell(bk.float(x), bk.float(h0))
        np.testing.assert_allclose(bk.np(out), np.asarray(ref), atol=1e-5)


def _plus_point_one_cell(bk):
    """The classic toy cell: output = input, state = state + 0.1 (a learner's own cell)."""
    if bk.name == "tf":
        import keras

        class PlusCell(keras.layers.Layer):
            state_size = 1
            output_size = 1

            def get_initial_state(self, batch_size=None, dtype=None, inputs=None):
                return bk.fw.zeros([batch_size, 1])

            def call(self, inputs, state):
                return inputs, state + 0.1
        return PlusCell()

    class PlusCell(bk.fw.nn.Module):
        state_size = 1
        output_size = 1

        def get_initial_state(self, batch_size=None, dtype=None, device=None, inputs=None):
            return bk.fw.zeros(batch_size, 1)

        def forward(self, inputs, state):
            return inputs, state + 0.1
    return PlusCell()


def test_known_answer_state_adds_point_one(backend):
    cell = _plus_point_one_cell(backend)
    x = np.arange(2 * 6, dtype=np.float32).reshape(2, 6, 1)
    outputs, state = backend.cl.dynamic_rnn(cell, backend.float(x))
    np.testing.assert_allclose(backend.np(outputs), x)
    np.testing.assert_allclose(backend.np(state), np.full((2, 1), 0.6), atol=1e-6)


def test_residual_wrapper_adds_input(backend):
    cell = backend.cl.ResidualWrapper(backend.cl.LSTMCell(D))
    inner = cell.cell
    x = backend.float(np.ones((B, D)))
    state = cell.get_initial_state(batch_size=B, dtype=backend.fw.float32)
    out, _ = cell(x, state)
    inner_out, _ = inner(x, state)
    np.testing.assert_allclose(backend.np(out), backend.np(inner_out) + 1, atol=1e-6)
