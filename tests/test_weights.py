"""export_weights / import_weights: one key scheme and Keras layouts in both backends."""

import numpy as np
import pytest

from tests.conftest import random_weights

H, E, V = 4, 3, 5


def _decoder(bk):
    d = bk.cl.BasicDecoder(bk.cl.LSTMCell(H), bk.cl.TrainingSampler(), bk.dense(H, V))
    d(bk.float(np.ones((2, 3, E))))
    return d


def test_key_scheme_and_layouts(backend):
    weights = backend.cl.export_weights(_decoder(backend))
    assert {k: v.shape for k, v in weights.items()} == {
        "cell/kernel": (E, 4 * H), "cell/recurrent_kernel": (H, 4 * H), "cell/bias": (4 * H,),
        "output_layer/kernel": (H, V), "output_layer/bias": (V,),
    }
    assert all(v.dtype == np.float32 for v in weights.values())


def test_gru_and_stacked_keys(backend):
    cell = backend.cl.MultiRNNCell([backend.cl.GRUCell(H), backend.cl.LSTMCell(H)])
    backend.cl.dynamic_rnn(cell, backend.float(np.ones((2, 3, E))))
    shapes = {k: v.shape for k, v in backend.cl.export_weights(cell).items()}
    assert shapes["cells/0/bias"] == (2, 3 * H)
    assert shapes["cells/1/kernel"] == (H, 4 * H)


def test_embedding_key(backend):
    if backend.name == "tf":
        import keras

        class Model(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.embedding = keras.layers.Embedding(V, E)
                self.embedding.build(None)
    else:
        import torch

        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = torch.nn.Embedding(V, E)
    weights = backend.cl.export_weights(Model())
    assert list(weights) == ["embedding/embeddings"] and weights["embedding/embeddings"].shape == (V, E)


def test_round_trip_between_backends(tf_backend, torch_backend):
    weights = random_weights(tf_backend.cl.export_weights(_decoder(tf_backend)))
    for bk in (tf_backend, torch_backend):
        d = _decoder(bk)
        bk.cl.import_weights(d, weights)
        back = bk.cl.export_weights(d)
        assert sorted(back) == sorted(weights)
        for k in weights:
            np.testing.assert_array_equal(back[k], weights[k])


def test_import_into_unbuilt_cells(backend):
    """A fresh decoder (cells not yet called) builds from the dict's shapes."""
    weights = random_weights(backend.cl.export_weights(_decoder(backend)))
    fresh = backend.cl.BasicDecoder(backend.cl.LSTMCell(H), backend.cl.TrainingSampler(), backend.dense(H, V))
    backend.cl.import_weights(fresh, weights)
    for k, v in backend.cl.export_weights(fresh).items():
        np.testing.assert_array_equal(v, weights[k])


@pytest.mark.parametrize("problem,pattern", [
    ("missing", r"missing keys \['cell/bias'\]"),
    ("extra", r"unexpected keys \['cell/extra'\]"),
    ("misshapen", r"`cell/kernel` must have shape \[3, 16\], got \[3, 15\]"),
])
def test_bad_weights_raise_and_leave_module_unchanged(backend, problem, pattern):
    decoder = _decoder(backend)
    before = backend.cl.export_weights(decoder)
    weights = random_weights(before, seed=9)
    if problem == "missing":
        del weights["cell/bias"]
    elif problem == "extra":
        weights["cell/extra"] = np.zeros(2, np.float32)
    else:
        weights["cell/kernel"] = weights["cell/kernel"][:, :15]
    with pytest.raises(ValueError, match=pattern):
        backend.cl.import_weights(decoder, weights)
    after = backend.cl.export_weights(decoder)
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])


def test_weights_must_be_a_dict(backend):
    with pytest.raises(TypeError, match=r"`weights` must be a dict"):
        backend.cl.import_weights(_decoder(backend), [np.zeros(3)])
