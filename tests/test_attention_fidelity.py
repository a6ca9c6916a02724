"""Attention as tfa 0.23 has it (issue 16): custom layers, config, tfa's call forms, Keras graphs.

TensorFlow: tfa's behaviour (custom `memory_layer` / `query_layer`, `get_config` / `from_config`,
`mechanism(memory, setup_memory=True, ...)`, a Keras symbolic memory in a functional model saved
and loaded as `.keras`, `keras.layers.RNN(AttentionWrapper(...))`, mixed precision). PyTorch: the
same behaviour wherever the concept exists, and the same numbers (parity through one weights dict).
"""

import os

import numpy as np
import pytest

from tests import contrib_models as cm
from tests.conftest import assert_close, random_weights

B, T, D, U, V, E = 4, 5, 6, 8, 20, 6
RNG = np.random.default_rng(16)
MEMORY = RNG.standard_normal((B, T, D)).astype(np.float32)
LENGTHS = np.array([5, 3, 1, 2])
QUERY = RNG.standard_normal((B, U)).astype(np.float32)
STATE = RNG.dirichlet(np.ones(T), size=B).astype(np.float32)  # previous alignments
INPUTS = RNG.standard_normal((B, 3, 4)).astype(np.float32)
INPUT_LENGTHS = [3, 2, 3, 1]

CLASSES = ["LuongAttention", "LuongMonotonicAttention", "BahdanauAttention", "BahdanauMonotonicAttention",
           "LocationSensitiveAttention"]


def _state(bk, m, name):
    """The previous state a query of mechanism `name` takes."""
    if name == "LocationSensitiveAttention":
        return bk.cl.LocationSensitiveAttentionState(bk.float(STATE), bk.float(STATE))
    return bk.float(STATE)


def _layer(bk, in_features, units, seed, use_bias=True):
    """A dense layer with seeded weights (Keras Dense / torch Linear), as a user's custom layer."""
    rng = np.random.default_rng(seed)
    kernel = (rng.standard_normal((in_features, units)) * 0.5).astype(np.float32)
    bias = (rng.standard_normal(units) * 0.5).astype(np.float32)
    layer = bk.dense(in_features, units, use_bias=use_bias)
    if bk.name == "tf":
        layer.set_weights([kernel, bias] if use_bias else [kernel])
    else:
        import torch

        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(kernel.T))
            if use_bias:
                layer.bias.copy_(torch.from_numpy(bias))
    return layer, kernel, (bias if use_bias else np.zeros(units, np.float32))


# -- tfa 0.23's own expected numbers ----------------------------------------------------------------------
# tfa's attention-wrapper value tests: a TrainingSampler decode of 5 rows (decoder lengths 2, 0, 1, 2, 3)
# over a memory of 8 steps (lengths 3, 2, 3, 1, 1) with `Dense(depth, kernel_initializer="ones")` memory
# (and query) layers, an LSTMCell(9) of ones and an attention layer of size 6 drawn by TensorFlow's seeded
# Glorot uniform; the mean of every output and state field, as tfa's tests expect them (atol 1e-3).
TFA_CASES = {  # name: (class, kwargs, depth, query_layer, attention_layer_size, alignment_history, means)
    # means: rnn_output, sample_id, h, c, attention, alignments, alignment history (None: not kept)
    "bahdanau": ("BahdanauAttention", {"kernel_initializer": "ones"}, 3, True, 6, True,
                 (-0.003204414, 3.2, 0.40868404, 0.89017969, 0.041453815, 0.125, 0.125)),
    "bahdanau_normalized": ("BahdanauAttention", {"kernel_initializer": "ones", "normalize": True}, 3, True, 6,
                            False, (-0.008089137, 2.8, 0.49166861, 1.01068615, 0.042427111, 0.125, None)),
    "luong": ("LuongAttention", {}, 9, False, 6, False,
              (-0.06124732, 2.73333333, 0.52021580, 1.0964939, -0.0318060, 0.125, None)),
    "luong_scaled": ("LuongAttention", {"scale": True}, 9, False, 6, False,
                     (-0.06124732, 2.73333333, 0.52021580, 1.0964939, -0.0318060, 0.125, None)),
    "no_attention_layer": ("BahdanauAttention", {"kernel_initializer": "ones"}, 3, True, None, False,
                           (0.078317143, 4.2, 0.89382392, 1.722382, 0.026356646, 0.125, None)),
    "bahdanau_monotonic": ("BahdanauMonotonicAttention", {"kernel_initializer": "ones"}, 3, True, 6, True,
                           (-0.009921653, 3.13333333, 0.44612807, 0.95786464, 0.038682378, 0.09778417,
                            0.10261579603)),
    "bahdanau_monotonic_normalized": ("BahdanauMonotonicAttention", {"kernel_initializer": "ones", "normalize": True},
                                      3, True, 6, True, (0.007140680, 3.26666666, 0.47012400, 1.0249618, 0.068432882,
                                                         0.0615656, 0.07909643)),
    "luong_monotonic": ("LuongMonotonicAttention", {}, 9, False, 6, True,
                        (0.003664831, 3.06666666, 0.54318606, 1.12592840, 0.059128221, 0.05112994, 0.06994973868)),
    "luong_monotonic_scaled": ("LuongMonotonicAttention", {"scale": True}, 9, False, 6, True,
                               (0.003664831, 3.06666666, 0.54318606, 1.12592840, 0.059128221, 0.05112994,
                                0.06994973868)),
}


def _tfa_data():
    """tfa's inputs: NumPy's legacy generator at tfa's seed, after the draws tfa's harness makes first."""
    legacy = np.random.RandomState(87654321)
    legacy.randn(64, 10, 256), legacy.randint(1, 10, size=64), legacy.randn(64, 12, 128), legacy.randint(12, size=64)
    return legacy.randn(5, 4, 7).astype(np.float32), legacy.randn(5, 8, 10).astype(np.float32)


def _tfa_decode_tf(tf_backend, case):
    cl, keras, tf = tf_backend.cl, tf_backend.keras, tf_backend.fw
    cls, kwargs, depth, query_layer, size, history, _ = TFA_CASES[case]
    decoder_inputs, memory = _tfa_data()
    tf.random.set_seed(87654321)
    limit = np.sqrt(6.0 / (9 + 10 + 6))  # Glorot uniform of the [cell + memory depth, 6] attention kernel
    attention_kernel = tf.random.uniform([19, 6], -limit, limit, seed=1337).numpy()
    ones = lambda: keras.layers.Dense(depth, kernel_initializer="ones", use_bias=False)
    layers = {"memory_layer": ones(), **({"query_layer": ones()} if query_layer else {})}
    m = getattr(cl, cls)(depth, memory, [3, 2, 3, 1, 1], **kwargs, **layers)
    lstm = keras.layers.LSTMCell(9, recurrent_activation="sigmoid", kernel_initializer="ones",
                                 recurrent_initializer="ones")
    cell = cl.AttentionWrapper(lstm, m, attention_layer_size=size, alignment_history=history)
    if size is not None:
        cell.attention_layer.kernel_initializer = keras.initializers.Constant(attention_kernel)
    decoder = cl.BasicDecoder(cell, cl.TrainingSampler())
    dtype = keras.mixed_precision.global_policy().compute_dtype
    outputs, state, _ = decoder(decoder_inputs, initial_state=cell.get_initial_state(batch_size=5, dtype=dtype),
                                sequence_length=[2, 0, 1, 2, 3])
    return decoder, m, (outputs, state)


def _tfa_means(bk, result, history):
    outputs, state = result
    means = [bk.np(x).astype(np.float64).mean() for x in (outputs.rnn_output, outputs.sample_id, state.cell_state[0],
                                                           state.cell_state[1], state.attention, state.alignments)]
    means.append(bk.np(bk.cl.alignment_history_batch_major(state)).astype(np.float64).mean() if history else None)
    return means


def _assert_tfa_means(means, expected):
    for what, got, want in zip(("rnn_output", "sample_id", "h", "c", "attention", "alignments", "history"),
                               means, expected):
        assert (got is None) == (want is None), what
        if want is not None:
            assert abs(got - want) < 1e-3, f"{what}: mean {got:.9f}, tfa 0.23 expects {want}"


@pytest.mark.parametrize("case", sorted(TFA_CASES))
def test_tfa_expected_numbers(tf_backend, case):
    _, _, result = _tfa_decode_tf(tf_backend, case)
    assert tuple(result[0].rnn_output.shape) == (5, 3, 10 if TFA_CASES[case][4] is None else 6)
    assert result[0].rnn_output.dtype == tf_backend.fw.float32
    _assert_tfa_means(_tfa_means(tf_backend, result, TFA_CASES[case][5]), TFA_CASES[case][6])


@pytest.mark.parametrize("case", ["bahdanau", "luong"])
def test_tfa_expected_numbers_under_mixed_float16(tf_backend, mixed_float16, case):
    """tfa runs these two under `mixed_float16` too: float16 outputs and states, the same means."""
    _, m, result = _tfa_decode_tf(tf_backend, case)
    outputs, state = result
    assert m.values.dtype == outputs.rnn_output.dtype == state.cell_state[0].dtype == tf_backend.fw.float16
    _assert_tfa_means(_tfa_means(tf_backend, result, TFA_CASES[case][5]), TFA_CASES[case][6])


@pytest.mark.parametrize("case", sorted(TFA_CASES))
def test_tfa_expected_numbers_in_torch(tf_backend, torch_backend, case):
    """PyTorch's twin with the TensorFlow decoder's weights: the same numbers (and so tfa's)."""
    decoder, _, tf_result = _tfa_decode_tf(tf_backend, case)
    weights = tf_backend.cl.export_weights(decoder)
    cl, bk = torch_backend.cl, torch_backend
    cls, kwargs, depth, query_layer, size, history, expected = TFA_CASES[case]
    decoder_inputs, memory = _tfa_data()
    m = getattr(cl, cls)(depth, bk.float(memory), bk.int([3, 2, 3, 1, 1]), **kwargs, memory_size=10,
                         **({"query_size": 9} if query_layer else {}))
    cell = cl.AttentionWrapper(cl.LSTMCell(9), m, attention_layer_size=size,
                               alignment_history=history)
    torch_decoder = cl.BasicDecoder(cell, cl.TrainingSampler())
    run = lambda: torch_decoder(bk.float(decoder_inputs), initial_state=cell.get_initial_state(batch_size=5),
                                sequence_length=bk.int([2, 0, 1, 2, 3]))
    run()  # builds the cell
    cl.import_weights(torch_decoder, weights)
    m.setup_memory(bk.float(memory), bk.int([3, 2, 3, 1, 1]))
    outputs, state, _ = run()
    assert_close(bk.np(outputs.rnn_output), tf_backend.np(tf_result[0].rnn_output), what="rnn_output")
    _assert_tfa_means(_tfa_means(bk, (outputs, state), history), expected)


# -- 1. custom memory_layer / query_layer --------------------------------------------------------------
@pytest.mark.parametrize("name", CLASSES)
def test_custom_memory_and_query_layers_are_the_ones_used(backend, name):
    memory_layer, kernel, bias = _layer(backend, D, U, seed=1)
    query_layer, query_kernel, query_bias = _layer(backend, 5, U, seed=2)  # a query of depth 5, projected to U
    m = getattr(backend.cl, name)(U, backend.float(MEMORY), backend.int(LENGTHS), memory_layer=memory_layer,
                                  query_layer=query_layer)
    assert m.memory_layer is memory_layer and m.query_layer is query_layer
    masked = MEMORY * (np.arange(T)[None, :] < LENGTHS[:, None])[:, :, None]
    assert_close(backend.np(m.keys), masked @ kernel + bias, what="keys = memory_layer(memory)")
    query = RNG.standard_normal((B, 5)).astype(np.float32)
    alignments, _ = m([backend.float(query), _state(backend, m, name)])
    a = backend.np(alignments)
    assert a.shape == (B, T)
    valid = np.arange(T)[None, :] < LENGTHS[:, None]
    assert np.all(a[~valid] == 0)
    keys, processed = masked @ kernel + bias, query @ query_kernel + query_bias  # (B, T, U), (B, U)
    if name == "LuongAttention":
        score = np.einsum("bu,btu->bt", processed, keys)
    elif name == "BahdanauAttention":
        score = np.tanh(keys + processed[:, None, :]) @ backend.np(m.attention_v)
    else:
        return
    expected = np.where(valid, np.exp(score - score.max(1, keepdims=True)), 0)
    assert_close(a, expected / expected.sum(1, keepdims=True), what="alignments through the custom layers")


def test_custom_layers_must_be_layers(backend):
    with pytest.raises(TypeError, match="`memory_layer` must be .*got"):
        backend.cl.BahdanauAttention(U, memory_layer="dense")
    with pytest.raises(TypeError, match="`query_layer` must be .*got"):
        backend.cl.LuongAttention(U, query_layer=3)


@pytest.mark.parametrize("name", CLASSES)
def test_custom_layers_give_the_same_alignments_in_both_backends(tf_backend, torch_backend, name):
    results = []
    for bk in (tf_backend, torch_backend):
        memory_layer, _, _ = _layer(bk, D, U, seed=3)
        query_layer, _, _ = _layer(bk, U, U, seed=4, use_bias=False)
        m = getattr(bk.cl, name)(U, bk.float(MEMORY), bk.int(LENGTHS), memory_layer=memory_layer,
                                 query_layer=query_layer)
        m([bk.float(QUERY), _state(bk, m, name)])  # builds what is built on first use
        if not results:
            weights = random_weights(bk.cl.export_weights(m), seed=9)
        bk.cl.import_weights(m, weights)
        m.setup_memory(bk.float(MEMORY), bk.int(LENGTHS))
        results.append(bk.np(m([bk.float(QUERY), _state(bk, m, name)])))
    assert any(k.startswith("memory_layer/") for k in weights) and any(k.startswith("query_layer/") for k in weights)
    assert_close(results[0], results[1], what="alignments and next state")


# -- 2. get_config / from_config (TensorFlow) ----------------------------------------------------------
@pytest.mark.parametrize("name", CLASSES)
def test_get_config_round_trips_and_clones_with_the_memory_given(tf_backend, name):
    keras, cls = tf_backend.keras, getattr(tf_backend.cl, name)
    m = cls(U, MEMORY, LENGTHS, memory_layer=keras.layers.Dense(U, use_bias=False, name="my_memory_layer"))
    config = m.get_config()
    assert config["memory"] is None and config["units"] == U
    clone = cls.from_config(config)
    assert clone.get_config() == config
    assert clone.memory_layer is not m.memory_layer and clone.memory_layer.name == "my_memory_layer"
    again = keras.layers.deserialize(keras.layers.serialize(m))
    assert type(again) is cls and again.get_config() == config

    # tfa's two-phase set-up of a clone: build for the memory, weights, set up, build for the query.
    reference = m([QUERY, _state(tf_backend, m, name)])
    clone.build(MEMORY.shape)
    clone(MEMORY, setup_memory=True, memory_sequence_length=LENGTHS)
    clone.build([QUERY.shape, STATE.shape])
    clone.set_weights(m.get_weights())
    clone(MEMORY, setup_memory=True, memory_sequence_length=LENGTHS)  # keys with the copied weights
    assert_close(tf_backend.np(clone([QUERY, _state(tf_backend, m, name)])), tf_backend.np(reference),
                 what="clone's alignments")


@pytest.mark.parametrize("name", CLASSES)
def test_torch_config_round_trips_with_the_tensorflow_keys(tf_backend, torch_backend, name):
    """PyTorch's twin: a config dict of the constructor's arguments; its clone has the same
    parameters at once (sizes in the config) and, with the same weights, the same alignments."""
    torch = torch_backend.fw
    kwargs = {"sigmoid_noise": 0.0, "mode": "recursive"} if "Monotonic" in name else {}
    m = getattr(torch_backend.cl, name)(U, torch_backend.float(MEMORY), torch_backend.int(LENGTHS), **kwargs)
    m([torch_backend.float(QUERY), _state(torch_backend, m, name)])  # builds the query layer
    config = m.get_config()
    assert config["memory"] is None and config["units"] == U and config["dtype"] == "float32"
    clone = type(m).from_config(config)
    assert clone.get_config() == config
    assert sorted(dict(clone.named_parameters())) == sorted(dict(m.named_parameters()))
    clone.load_state_dict(m.state_dict())
    clone(torch_backend.float(MEMORY), setup_memory=True, memory_sequence_length=torch_backend.int(LENGTHS))
    with torch.no_grad():
        assert_close(torch_backend.np(clone([torch_backend.float(QUERY), _state(torch_backend, m, name)])),
                     torch_backend.np(m([torch_backend.float(QUERY), _state(torch_backend, m, name)])), what="clone")

    tf_config = getattr(tf_backend.cl, name)(U, MEMORY, LENGTHS, **kwargs).get_config()
    own = {k for k in config if k not in ("name", "dtype", "memory_size", "query_size")}
    assert own <= set(tf_config), own - set(tf_config)
    for key in own - {"kernel_initializer"}:  # Keras serialises the initializer as a dict
        assert config[key] == tf_config[key], key

    custom = getattr(torch_backend.cl, name)(U, memory_layer=torch.nn.Linear(D, U, bias=False))
    with pytest.raises(ValueError, match="custom `memory_layer`.*from_config\\(config, memory_layer="):
        custom.get_config()


def test_wrapper_get_config_round_trips(tf_backend):
    cl, keras = tf_backend.cl, tf_backend.keras
    m = cl.LuongAttention(U, MEMORY, LENGTHS, scale=True)
    cell = cl.AttentionWrapper(keras.layers.LSTMCell(U), m, attention_layer_size=5, alignment_history=True)
    clone = cl.AttentionWrapper.from_config(cell.get_config())
    assert clone.get_config() == cell.get_config()
    assert isinstance(clone.attention_mechanism, cl.LuongAttention) and not clone.attention_mechanism.memory_initialized
    with pytest.raises(ValueError, match="`cell_input_fn`.*pass it again after loading"):
        cl.AttentionWrapper(keras.layers.LSTMCell(U), m, cell_input_fn=lambda i, a: i).get_config()


# -- 3. mechanism(memory, setup_memory=True, ...) --------------------------------------------------------
def test_setup_memory_call_form_equals_setup_memory(backend):
    cl = backend.cl
    reference = cl.BahdanauAttention(U, backend.float(MEMORY), backend.int(LENGTHS), normalize=True)
    reference([backend.float(QUERY), backend.float(STATE)])
    weights = random_weights(cl.export_weights(reference), seed=5)
    mask = np.arange(T)[None, :] < LENGTHS[:, None]
    forms = {
        "keyword lengths": lambda m: m(backend.float(MEMORY), setup_memory=True,
                                       memory_sequence_length=backend.int(LENGTHS)),
        "[memory, lengths]": lambda m: m([backend.float(MEMORY), backend.int(LENGTHS)], setup_memory=True),
        "mask": lambda m: m(backend.float(MEMORY), setup_memory=True, mask=backend.fw.constant(mask)
                            if backend.name == "tf" else backend.fw.tensor(mask)),
    }
    cl.import_weights(reference, weights)
    reference.setup_memory(backend.float(MEMORY), backend.int(LENGTHS))
    expected = backend.np(reference([backend.float(QUERY), backend.float(STATE)]))
    for form, set_up in forms.items():
        m = cl.BahdanauAttention(U, normalize=True)
        assert not m.memory_initialized
        m(backend.float(MEMORY), setup_memory=True)
        m([backend.float(QUERY), backend.float(STATE)])
        cl.import_weights(m, weights)
        values = set_up(m)
        assert m.memory_initialized
        assert_close(backend.np(values), MEMORY * mask[:, :, None], what=f"{form}: values")
        assert_close(backend.np(m([backend.float(QUERY), backend.float(STATE)])), expected, what=form)
    with pytest.raises(ValueError, match="`memory_sequence_length`.*not both"):
        m([backend.float(MEMORY), backend.int(LENGTHS)], setup_memory=True, memory_sequence_length=backend.int(LENGTHS))


def test_memory_set_up_in_a_subclassed_model_trains(tf_backend):
    """tfa's pattern: the memory set up (twice) in `call` with the embedding's mask, then fit."""
    keras, cl = tf_backend.keras, tf_backend.cl

    class Model(keras.Model):
        def __init__(self):
            super().__init__()
            self.embedding = keras.layers.Embedding(V, E, mask_zero=True)
            self.encoder = keras.layers.LSTM(D, return_sequences=True)
            self.mechanism = cl.BahdanauAttention(U)

        def call(self, inputs):
            ids, query, state = inputs
            mask = self.embedding.compute_mask(ids)
            memory = self.encoder(self.embedding(ids), mask=mask)
            self.mechanism(memory, mask=mask, setup_memory=True)
            self.mechanism(memory, mask=mask, setup_memory=True)
            return self.mechanism([query, state])

    ids = RNG.integers(1, V, size=(2 * B, T))
    ids[:, 3:] = 0
    query, state = np.tile(QUERY, [2, 1]), np.tile(STATE, [2, 1])
    model = Model()
    model.compile("rmsprop", "mse")
    history = model.fit([ids, query, state], (state, state), batch_size=B, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    alignments, _ = model.predict_on_batch([ids, query, state])
    assert np.all(alignments[:, 3:] == 0) and np.allclose(alignments.sum(1), 1, atol=1e-5)


# -- 4. a Keras symbolic memory: functional models, saved and loaded --------------------------------------
@pytest.mark.parametrize("name", CLASSES)
def test_functional_model_with_a_symbolic_memory_saves_and_loads(tf_backend, name, tmp_path):
    keras, cl = tf_backend.keras, tf_backend.cl
    ids_in = keras.Input(shape=[T])
    memory = keras.layers.LSTM(D, return_sequences=True)(keras.layers.Embedding(V, E, mask_zero=True)(ids_in))
    m = getattr(cl, name)(U, memory)
    query_in, state_in = keras.Input(shape=[U]), keras.Input(shape=[T])
    if name == "LocationSensitiveAttention":
        cumulative_in = keras.Input(shape=[T])
        outputs = m([query_in, cl.LocationSensitiveAttentionState(state_in, cumulative_in)])
        inputs, extra = [ids_in, query_in, state_in, cumulative_in], [STATE]
    else:
        outputs = m([query_in, state_in])
        inputs, extra = [ids_in, query_in, state_in], []
    model = keras.Model(inputs, outputs)
    ids = RNG.integers(1, V, size=(B, T))
    ids[:, 3:] = 0  # padded: the embedding's mask reaches the memory
    data = [ids, QUERY, STATE] + extra
    eager_query = [QUERY, STATE] if not extra else [QUERY, cl.LocationSensitiveAttentionState(STATE, STATE)]
    with pytest.raises(ValueError, match="Keras symbolic tensor.*query the mechanism in that model"):
        m(eager_query)
    expected = model.predict_on_batch(data)
    alignments = np.asarray(expected[0])
    assert np.all(alignments[:, 3:] == 0) and np.any(alignments[:, :3] != 0)
    with pytest.raises(ValueError, match="set up inside a graph.*`setup_memory\\(memory\\)`"):
        m(eager_query)

    path = os.path.join(tmp_path, "attention.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert_close(loaded.predict_on_batch(data), expected, atol=1e-6, what="after loading")
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    assert_close(clone.predict_on_batch(data), expected, atol=1e-6, what="clone")


def test_attention_wrapper_runs_in_keras_rnn(tf_backend):
    keras, cl, tf = tf_backend.keras, tf_backend.cl, tf_backend.fw
    m = cl.LuongAttention(U, MEMORY, LENGTHS)
    cell = cl.AttentionWrapper(keras.layers.LSTMCell(U), m, attention_layer_size=5)
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    outputs, *_ = rnn(INPUTS)
    assert outputs.shape == (B, 3, 5)
    explicit, *_ = rnn(INPUTS, initial_state=cell.get_initial_state(batch_size=B, dtype=tf.float32))
    assert_close(explicit, outputs, what="explicit initial state")
    decoder = cl.BasicDecoder(cell, cl.TrainingSampler())  # the same cell, the course's loop
    reference, _, _ = decoder(INPUTS, initial_state=cell.get_initial_state(batch_size=B, dtype=tf.float32),
                              sequence_length=[3] * B)
    assert_close(outputs, reference.rnn_output, what="keras.layers.RNN vs dynamic_decode")

    gru = cl.AttentionWrapper(keras.layers.GRUCell(3), cl.LuongAttention(3, np.ones([2, 5, 3], np.float32)))
    initial = gru.get_initial_state(inputs=np.ones([2, 3], np.float32))
    _, next_state = gru(np.ones([2, 3], np.float32), initial)
    tf.nest.assert_same_structure(initial, next_state)
    masked = keras.layers.RNN(cell)(INPUTS, mask=tf.sequence_mask(INPUT_LENGTHS, 3))
    assert masked.shape == (B, 5)


def test_rnn_over_a_symbolic_memory_says_what_to_do_and_the_layer_way_saves(tf_backend, tmp_path):
    """Impossible in Keras 3: RNN passes a cell no constants, so a graph's memory cannot reach the
    wrapper. The error says to set the memory up in a layer's `call`; that layer saves and loads."""
    keras, cl = tf_backend.keras, tf_backend.cl
    memory_in, inputs_in = keras.Input(shape=[T, D]), keras.Input(shape=[3, 4])
    cell = cl.AttentionWrapper(keras.layers.LSTMCell(U), cl.LuongAttention(U, memory_in), attention_layer_size=5)
    with pytest.raises(ValueError, match="symbolic tensor.*no constants.*inside a layer's `call`"):
        keras.layers.RNN(cell)(inputs_in)

    @keras.saving.register_keras_serializable(package="test_attention_fidelity")
    class AttentionDecoder(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            wrapper = cl.AttentionWrapper(keras.layers.LSTMCell(units), cl.LuongAttention(units),
                                          attention_layer_size=5)
            self.rnn = keras.layers.RNN(wrapper, return_sequences=True)

        def build(self, memory_shape, inputs_shape):
            self.call(keras.ops.zeros((1,) + tuple(memory_shape[1:])), keras.ops.zeros((1,) + tuple(inputs_shape[1:])))

        def call(self, memory, inputs):
            self.rnn.cell.attention_mechanism.setup_memory(memory)
            return self.rnn(inputs)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    memory = keras.layers.Dense(U)(memory_in)
    model = keras.Model([memory_in, inputs_in], AttentionDecoder(U)(memory, inputs_in))
    expected = model.predict_on_batch([MEMORY, INPUTS])
    assert expected.shape == (B, 3, 5)
    path = os.path.join(tmp_path, "decoder.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert_close(loaded.predict_on_batch([MEMORY, INPUTS]), expected, atol=1e-6, what="after loading")


# -- 5. a flat state is rebuilt ---------------------------------------------------------------------------
@pytest.mark.parametrize("alignment_history", [False, True])
def test_flat_list_state_is_rebuilt(backend, alignment_history):
    cl = backend.cl
    m = cl.BahdanauAttention(U, backend.float(MEMORY), backend.int(LENGTHS))
    cell = cl.AttentionWrapper(cl.LSTMCell(U), m, attention_layer_size=5, alignment_history=alignment_history)
    state = cell.get_initial_state(batch_size=B, dtype=backend.fw.float32)
    step_inputs = backend.float(INPUTS[:, 0])
    output, next_state = cell(step_inputs, state)
    from course_lib.common import nest

    flat = nest.flatten(state)  # [h, c, attention, alignments, (history,) attention_state]
    assert len(flat) == 5 + alignment_history
    for given in (flat, tuple(state), list(state)):
        output2, next_state2 = cell(step_inputs, given)
        assert isinstance(next_state2, cl.AttentionWrapperState)
        assert_close(backend.np(output2), backend.np(output), what="output")
        assert_close(backend.np(next_state2.cell_state), backend.np(next_state.cell_state), what="cell state")
        assert_close(backend.np(next_state2.alignments), backend.np(next_state.alignments), what="alignments")
    with pytest.raises(TypeError, match=rf"`state` must be an AttentionWrapperState.*flat list of {len(flat)} "
                                        r"tensors.*got 3 tensors"):
        cell(step_inputs, flat[:3])
    with pytest.raises(TypeError, match="`state` must be an AttentionWrapperState.*got"):
        cell(step_inputs, "state")


# -- 6. mixed precision ----------------------------------------------------------------------------------
@pytest.fixture
def mixed_float16(tf_backend):
    keras = tf_backend.keras
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def test_attention_wrapper_autocasts_under_mixed_float16(tf_backend, mixed_float16):
    cl, keras, tf = tf_backend.cl, tf_backend.keras, tf_backend.fw
    m = cl.BahdanauAttention(U, MEMORY, LENGTHS, normalize=True)  # float32 NumPy memory
    assert m.compute_dtype == "float16" and m.values.dtype == tf.float16
    cell = cl.AttentionWrapper(keras.layers.LSTMCell(U), m, attention_layer_size=5, alignment_history=True)
    decoder = cl.BasicDecoder(cell, cl.TrainingSampler())
    initial = cell.get_initial_state(batch_size=B, dtype=tf.float16)
    outputs, state, _ = decoder(INPUTS, initial_state=initial, sequence_length=INPUT_LENGTHS)  # float32 inputs
    assert outputs.rnn_output.dtype == tf.float16 and state.cell_state[0].dtype == tf.float16
    assert cl.alignment_history_batch_major(state).dtype == tf.float16
    step_output, _ = cell(tf.constant(INPUTS[:, 0]), initial)  # float32 inputs, float16 state
    assert step_output.dtype == tf.float16

    # The same weights in float32 give the same numbers, to float16's precision.
    weights = [w.numpy().astype(np.float32) for w in decoder.weights]
    keras.mixed_precision.set_global_policy("float32")
    m32 = cl.BahdanauAttention(U, MEMORY, LENGTHS, normalize=True)
    cell32 = cl.AttentionWrapper(keras.layers.LSTMCell(U), m32, attention_layer_size=5, alignment_history=True)
    decoder32 = cl.BasicDecoder(cell32, cl.TrainingSampler())
    decoder32(INPUTS, initial_state=cell32.get_initial_state(batch_size=B, dtype=tf.float32),
              sequence_length=INPUT_LENGTHS)
    for variable, value in zip(decoder32.weights, weights):
        variable.assign(value)
    m32.setup_memory(MEMORY, LENGTHS)
    outputs32, _, _ = decoder32(INPUTS, initial_state=cell32.get_initial_state(batch_size=B, dtype=tf.float32),
                                sequence_length=INPUT_LENGTHS)
    assert_close(np.asarray(outputs.rnn_output, np.float32), outputs32.rnn_output, atol=1e-2, what="float16 vs 32")


def test_attention_wrapper_follows_a_half_precision_state_in_torch(torch_backend):
    """PyTorch's twin: float32 inputs follow a bfloat16 state under `torch.autocast`."""
    torch, cl = torch_backend.fw, torch_backend.cl
    m = cl.BahdanauAttention(U, torch_backend.float(MEMORY), torch_backend.int(LENGTHS), normalize=True)
    cell = cl.AttentionWrapper(cl.LSTMCell(U), m, attention_layer_size=5)
    decoder = cl.BasicDecoder(cell, cl.TrainingSampler())
    reference, _, _ = decoder(torch_backend.float(INPUTS), initial_state=cell.get_initial_state(batch_size=B),
                              sequence_length=torch_backend.int(INPUT_LENGTHS))
    device = torch_backend.float(0.0).device.type
    with torch.no_grad(), torch.autocast(device, dtype=torch.bfloat16):
        half = cell.get_initial_state(batch_size=B, dtype=torch.bfloat16)
        outputs, _, _ = decoder(torch_backend.float(INPUTS), initial_state=half,
                                sequence_length=torch_backend.int(INPUT_LENGTHS))
    assert outputs.rnn_output.dtype == torch.bfloat16
    assert_close(outputs.rnn_output.float().detach().cpu().numpy(), torch_backend.np(reference.rnn_output), atol=5e-2,
                 what="bfloat16 vs float32")


# -- the coverage penalty on contrib's BeamSearchDecoder ------------------------------------------------
W = 3


def _beam(bk, weights, coverage_penalty_weight, modern):
    cl = bk.cl
    memory = cl.tile_batch(bk.float(cm.MEMORY), W)
    memory_lengths = cl.tile_batch(bk.int(cm.MEMORY_LENGTHS), W)
    build = cm.modern_attention_cell if modern else cm.tf1_attention_cell
    cell, mech = build(bk, memory, memory_lengths, mechanism="luong", alignment_history=False)
    output_layer = bk.dense(cm.A, cm.V)
    if weights is not None and modern:
        weights = cm.to_modern_weights(weights, {"cell/cell/": cm.E + cm.A})
    weights = cm.load_attention(bk, cell, mech, output_layer, weights, memory, memory_lengths, cm.B * W)
    c, h = bk.float(cm.STATES[0, 0]), bk.float(cm.STATES[0, 1])
    embedding, start, end = bk.float(cm.EMBEDDING), bk.int([0] * cm.B), 1
    if modern:
        state = cell.get_initial_state(batch_size=cm.B * W, dtype=cm.dtype(bk)).clone(
            cell_state=cl.tile_batch([h, c], W))
        decoder = cl.BeamSearchDecoder(cell, W, output_layer=output_layer, coverage_penalty_weight=coverage_penalty_weight,
                                       maximum_iterations=8)
        outputs, _, _ = cl.dynamic_decode(decoder, maximum_iterations=8, decoder_init_input=embedding,
                                          decoder_init_kwargs={"start_tokens": start, "end_token": end,
                                                               "initial_state": state})
        return outputs, weights
    seq2seq, rnn = cm.contrib(bk).seq2seq, cm.contrib(bk).rnn
    state = cell.zero_state(cm.B * W, cm.dtype(bk)).clone(cell_state=seq2seq.tile_batch(rnn.LSTMStateTuple(c, h), W))
    decoder = seq2seq.BeamSearchDecoder(cell, embedding, start, end, state, W, output_layer=output_layer,
                                        coverage_penalty_weight=coverage_penalty_weight)
    outputs, _, _ = seq2seq.dynamic_decode(decoder, maximum_iterations=8)
    return outputs, weights


def test_contrib_beam_search_applies_the_coverage_penalty(backend):
    outputs, weights = _beam(backend, None, 0.3, modern=False)
    reference, _ = _beam(backend, weights, 0.3, modern=True)
    plain, _ = _beam(backend, weights, 0.0, modern=False)
    scores = backend.np(outputs.beam_search_decoder_output.scores)
    assert np.array_equal(backend.np(outputs.predicted_ids), backend.np(reference.predicted_ids))
    assert_close(scores, backend.np(reference.beam_search_decoder_output.scores), what="scores, coverage 0.3")
    assert not np.allclose(scores, backend.np(plain.beam_search_decoder_output.scores)), "the penalty changed nothing"


def test_contrib_coverage_penalty_same_beams_in_both_backends(tf_backend, torch_backend):
    tf_outputs, weights = _beam(tf_backend, None, 0.3, modern=False)
    torch_outputs, _ = _beam(torch_backend, weights, 0.3, modern=False)
    assert np.array_equal(tf_backend.np(tf_outputs.predicted_ids), torch_backend.np(torch_outputs.predicted_ids))
    assert_close(tf_backend.np(tf_outputs.beam_search_decoder_output.scores),
                 torch_backend.np(torch_outputs.beam_search_decoder_output.scores), what="scores")
