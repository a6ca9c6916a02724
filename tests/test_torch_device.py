"""The PyTorch backend keeps to the device of its inputs: shown on the CPU, meant for CUDA.

A tensor that the library makes without naming a device lands on PyTorch's default device. On
a GPU that default is the CPU while the inputs are on CUDA, so such a tensor breaks the first
operation that meets them. Here the inputs live on the run's device (``COURSE_DEVICE``, the CPU
by default) and, inside ``stray_on_meta``, a tensor made from a shape without a device
(``torch.zeros(B, H)``, ``torch.arange(T)``, ``torch.full``, ...) is a meta tensor instead, so
mixing it with the inputs raises. (Conversions, ``torch.as_tensor(x)`` / ``torch.tensor(x)``, are
left alone: their data has a device, or they are moved where they are used, as a GPU run checks.)
Weights made at construction must follow ``module.to(device)``.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from tests.conftest import DEVICE

torch = pytest.importorskip("torch")  # not a skip in a normal run: torch is a requirement

B, T, E, H, V, S, D, W = 3, 5, 4, 6, 9, 4, 5, 2  # batch, time, embedding, units, vocab, memory T/depth, beams
LENGTHS = [5, 2, 1]


@pytest.fixture
def cl(torch_backend):
    return torch_backend.cl


@pytest.fixture
def dev():
    """The device the inputs live on: the run's (COURSE_DEVICE), else the CPU."""
    return torch.device(DEVICE or "cpu")


#: the factories that make a tensor from a shape, on the default device unless told otherwise
_FROM_A_SHAPE = {torch.empty, torch.zeros, torch.ones, torch.full, torch.arange, torch.range, torch.linspace,
                 torch.logspace, torch.eye, torch.rand, torch.randn, torch.randint, torch.randperm,
                 torch.empty_strided, torch.scalar_tensor, torch.tril_indices, torch.triu_indices}


class _StrayOnMeta(torch.overrides.TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in _FROM_A_SHAPE and kwargs.get("device") is None:
            kwargs["device"] = "meta"
        return func(*args, **kwargs)


@contextlib.contextmanager
def stray_on_meta():
    """Tensors made from a shape without a device in this block are meta tensors (see the module
    docstring); the tests' own tensors are made outside it, with their device."""
    with _StrayOnMeta():
        yield


def rand(dev, *shape, seed=0):
    return torch.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), device=dev)


def ints(dev, values):
    return torch.tensor(values, dtype=torch.int64, device=dev)


def assert_on(dev, structure, what):
    """Every tensor in ``structure`` (nested; TensorArrays stacked) is on ``dev``."""
    from course_lib.common import nest

    leaves = [x.stack() if hasattr(x, "stack") and hasattr(x, "write") else x for x in nest.flatten(structure)]
    tensors = [x for x in leaves if isinstance(x, torch.Tensor)]
    assert tensors, f"{what}: no tensors"
    wrong = sorted({str(x.device) for x in tensors if x.device.type != dev.type})
    assert not wrong, f"{what}: tensors on {wrong}, want {dev}"


CELLS = {
    "lstm": lambda cl: cl.LSTMCell(H),
    "gru": lambda cl: cl.GRUCell(H),
    "simple": lambda cl: cl.SimpleRNNCell(H),
    "multi_projection_residual": lambda cl: cl.MultiRNNCell(
        [cl.ResidualWrapper(cl.LSTMCell(E)), cl.OutputProjectionWrapper(cl.GRUCell(H), V)]),
}


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_cells_build_and_start_on_the_device_of_their_inputs(cl, dev, kind):
    cell = CELLS[kind](cl)  # unbuilt: its weights are made at the first call
    x = rand(dev, B, E)
    with stray_on_meta():
        state = cell.get_initial_state(inputs=x)
        output, new_state = cell(x, state)
    assert_on(dev, (output, new_state, list(cell.parameters())), kind)


@pytest.mark.parametrize("path", ["fused", "step_loop", "time_major", "no_lengths"])
def test_dynamic_rnn_on_the_device_of_its_inputs(cl, dev, path):
    if path == "step_loop":  # a subclass is not a stock cell: the step loop, not the fused kernel
        cell = type("MyLSTMCell", (cl.LSTMCell,), {})(H)
    else:
        cell = cl.MultiRNNCell([cl.LSTMCell(H), cl.GRUCell(H)])
    x = rand(dev, B, T, E)
    lengths = None if path == "no_lengths" else ints(dev, LENGTHS)
    if path == "time_major":
        x = x.transpose(0, 1).contiguous()
    with stray_on_meta():
        outputs, state = cl.dynamic_rnn(cell, x, sequence_length=lengths, time_major=path == "time_major")
    assert_on(dev, (outputs, state), path)


def _decode(cl, dev, sampler, impute, inputs, **call):
    cell, out = cl.LSTMCell(H), torch.nn.Linear(H, V, device=dev)
    decoder = cl.BasicDecoder(cell, sampler, out, impute_finished=impute, maximum_iterations=6)
    with stray_on_meta():
        return decoder(inputs, **call)


@pytest.mark.parametrize("impute", [False, True])
def test_teacher_forced_decode_fast_path_and_step_loop(cl, dev, impute):
    x, lengths = rand(dev, B, T, E), ints(dev, LENGTHS)
    fast = _decode(cl, dev, cl.TrainingSampler(), impute, x, sequence_length=lengths)
    with stray_on_meta():  # dynamic_decode itself always runs the step loop
        decoder = cl.BasicDecoder(cl.LSTMCell(H), cl.TrainingSampler(), torch.nn.Linear(H, V, device=dev),
                                  impute_finished=impute)
        loop = cl.dynamic_decode(decoder, impute_finished=impute, decoder_init_input=x,
                                 decoder_init_kwargs=dict(sequence_length=lengths))
    assert_on(dev, fast, "fast path")
    assert_on(dev, loop, "step loop")


SAMPLERS = {
    "greedy": lambda cl: cl.GreedyEmbeddingSampler(),
    "sample_seeded": lambda cl: cl.SampleEmbeddingSampler(softmax_temperature=0.7, seed=3),
    "sample_unseeded": lambda cl: cl.SampleEmbeddingSampler(),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
@pytest.mark.parametrize("impute", [False, True])
def test_inference_decodes_on_the_device_of_the_embedding(cl, dev, name, impute):
    embedding = rand(dev, V, E)
    result = _decode(cl, dev, SAMPLERS[name](cl), impute, embedding,
                     start_tokens=ints(dev, [0] * B), end_token=ints(dev, 1))
    assert_on(dev, result, name)


@pytest.mark.parametrize("kind", ["embedding", "output"])
def test_scheduled_samplers_draw_on_the_device_of_their_inputs(cl, dev, kind):
    x, lengths = rand(dev, B, T, E), ints(dev, LENGTHS)
    if kind == "embedding":
        sampler = cl.ScheduledEmbeddingTrainingSampler(0.5, seed=1, scheduling_seed=2)
        call = dict(sequence_length=lengths, embedding=rand(dev, V, E))
        cell = cl.LSTMCell(H)
        out = torch.nn.Linear(H, V, device=dev)
    else:
        sampler = cl.ScheduledOutputTrainingSampler(0.5, seed=1)
        call = dict(sequence_length=lengths)
        cell, out = cl.LSTMCell(H), torch.nn.Linear(H, E, device=dev)  # outputs fed back: depth E
    decoder = cl.BasicDecoder(cell, sampler, out, maximum_iterations=6)
    with stray_on_meta():
        result = decoder(x, **call)
    assert_on(dev, result, kind)


def test_inference_sampler_on_the_device_of_its_start_inputs(cl, dev):
    sampler = cl.InferenceSampler(sample_fn=lambda outputs: outputs, sample_shape=[E],
                                  sample_dtype=torch.float32, end_fn=lambda ids: ids[:, 0] > 10.0)
    cell, out = cl.GRUCell(H), torch.nn.Linear(H, E, device=dev)
    decoder = cl.BasicDecoder(cell, sampler, out, maximum_iterations=4)
    with stray_on_meta():
        result = decoder(rand(dev, B, E))
    assert_on(dev, result, "InferenceSampler")


MECHANISMS = {
    "bahdanau_normalize": ("BahdanauAttention", {"normalize": True}),
    "luong_scale": ("LuongAttention", {"scale": True}),
    "bahdanau_monotonic_parallel": ("BahdanauMonotonicAttention",
                                    {"mode": "parallel", "sigmoid_noise": 1.0, "sigmoid_noise_seed": 4}),
    "luong_monotonic_hard": ("LuongMonotonicAttention", {"mode": "hard"}),
    "location": ("LocationSensitiveAttention", {"attention_filters": 2, "attention_kernel_size": 3}),
}


@pytest.mark.parametrize("name", sorted(MECHANISMS))
def test_attention_greedy_decode_on_the_device_of_the_memory(cl, dev, name):
    cls, kwargs = MECHANISMS[name]
    memory, lengths = rand(dev, B, S, D, seed=1), ints(dev, [4, 2, 0])
    with stray_on_meta():
        mechanism = getattr(cl, cls)(H, memory, lengths, **kwargs)
        cell = cl.AttentionWrapper(cl.LSTMCell(H), mechanism, attention_layer_size=H, alignment_history=True)
    out = torch.nn.Linear(H, V, device=dev)
    decoder = cl.BasicDecoder(cell, cl.GreedyEmbeddingSampler(), out, maximum_iterations=4)
    with stray_on_meta():
        state = cell.get_initial_state(batch_size=B, dtype=torch.float32)
        result = decoder(rand(dev, V, E), start_tokens=ints(dev, [0] * B), end_token=ints(dev, 1),
                         initial_state=state)
        history = cl.alignment_history_batch_major(result[1])
    assert_on(dev, (result, history, list(cell.parameters())), name)


@pytest.mark.parametrize("attention", [False, True])
def test_beam_search_on_the_device_of_its_inputs(cl, dev, attention):
    h, c = rand(dev, B, H, seed=2), rand(dev, B, H, seed=3)
    with stray_on_meta():
        encoder_state = cl.tile_batch([h, c], W)
        if attention:
            memory = cl.tile_batch(rand(dev, B, S, D), W)
            lengths = cl.tile_batch(ints(dev, [4, 2, 1]), W)
            mechanism = cl.BahdanauAttention(H, memory=memory, memory_sequence_length=lengths)
            cell = cl.AttentionWrapper(cl.LSTMCell(H), mechanism, attention_layer_size=H, alignment_history=True)
            state = cell.get_initial_state(batch_size=B * W, dtype=torch.float32).clone(cell_state=encoder_state)
        else:
            cell, state = cl.LSTMCell(H), encoder_state
    decoder = cl.BeamSearchDecoder(cell, W, output_layer=torch.nn.Linear(H, V, device=dev), maximum_iterations=5,
                                   length_penalty_weight=0.6, coverage_penalty_weight=0.2 if attention else 0.0)
    with stray_on_meta():
        result = decoder(rand(dev, V, E), start_tokens=ints(dev, [0] * B), end_token=ints(dev, 1),
                         initial_state=state)
    assert_on(dev, result, "beam search")


def test_beam_search_helpers_on_the_device_of_their_inputs(cl, dev):
    step_ids = ints(dev, np.random.default_rng(0).integers(0, V, (T, B, W)).tolist())
    parents = ints(dev, np.random.default_rng(1).integers(0, W, (T, B, W)).tolist())
    with stray_on_meta():
        tree = cl.gather_tree(step_ids, parents, ints(dev, [T, 3, 1]), ints(dev, 1))
        tiled = cl.tile_batch(rand(dev, B, E), W)
    assert_on(dev, (tree, tiled), "gather_tree, tile_batch")


def test_losses_and_masks_on_the_device_of_their_inputs(cl, dev):
    logits, targets, lengths = rand(dev, B, T, V), ints(dev, np.ones((B, T), np.int64).tolist()), ints(dev, LENGTHS)
    with stray_on_meta():
        mask = cl.sequence_mask(lengths, T, dtype=torch.float32)
        loss = cl.sequence_loss(logits, targets, mask)
        per_step = cl.sequence_loss(logits, targets, mask, average_across_timesteps=False)
        keras_style = cl.SequenceLoss()(targets, logits)
    assert_on(dev, (mask, loss, per_step, keras_style), "losses")


def test_attention_ops_on_the_device_of_their_inputs(cl, dev):
    p = torch.sigmoid(rand(dev, B, S))
    previous = torch.nn.functional.one_hot(ints(dev, [0] * B), S).to(torch.float32)
    with stray_on_meta():
        results = [cl.monotonic_attention(p, previous, mode) for mode in ("parallel", "recursive", "hard")]
        results += [cl.safe_cumprod(p, dim=1), cl.hardmax(rand(dev, B, S))]
    assert_on(dev, results, "monotonic_attention, safe_cumprod, hardmax")


def test_sampled_softmax_on_the_device_of_its_inputs(dev):
    from course_lib.torch.sampled_softmax import sampled_softmax_loss

    weights, biases = rand(dev, V, E), rand(dev, V)
    labels, inputs = ints(dev, [[1], [4], [8]]), rand(dev, B, E, seed=5)
    with stray_on_meta():
        loss = sampled_softmax_loss(weights, biases, labels, inputs, num_sampled=4, num_classes=V, seed=0)
    assert_on(dev, loss, "sampled softmax")


def test_trace_decoder_records_a_decode_on_the_device(cl, dev):
    cell, out = cl.LSTMCell(H), torch.nn.Linear(H, V, device=dev)
    tracer = cl.TraceDecoder(cl.BasicDecoder(cell, cl.GreedyEmbeddingSampler(), out, maximum_iterations=4))
    with stray_on_meta():
        result = tracer(rand(dev, V, E), start_tokens=ints(dev, [0] * B), end_token=ints(dev, 1))
    assert_on(dev, result, "TraceDecoder")
    assert tracer.trace.sample_ids.shape[1] == B  # [T, B], recorded as NumPy


def test_weights_import_onto_the_device_of_the_module(cl, dev):
    cell = cl.LSTMCell(H, input_size=E, device=dev)
    weights = {k: v + 1.0 for k, v in cl.export_weights(cell).items()}
    with stray_on_meta():
        cl.import_weights(cell, weights)
    assert_on(dev, list(cell.parameters()), "imported weights")
    np.testing.assert_array_equal(cl.export_weights(cell)["bias"], weights["bias"])


# -- weights made at construction follow module.to(device) ------------------------------------
BUILT_AT_CONSTRUCTION = {
    "cell_with_input_size": lambda cl: cl.GRUCell(H, input_size=E),
    "projection_wrapper": lambda cl: cl.OutputProjectionWrapper(cl.LSTMCell(H, input_size=E), V),
    "bahdanau_sizes_given": lambda cl: cl.BahdanauAttention(H, normalize=True, memory_size=D, query_size=H),
    "luong_monotonic_sizes_given": lambda cl: cl.LuongMonotonicAttention(H, scale=True, memory_size=H),
    "location_sizes_given": lambda cl: cl.LocationSensitiveAttention(
        H, attention_filters=2, attention_kernel_size=3, memory_size=D, query_size=H),
}


@pytest.mark.parametrize("name", sorted(BUILT_AT_CONSTRUCTION))
def test_weights_made_at_construction_follow_to(cl, name):
    module = BUILT_AT_CONSTRUCTION[name](cl).to("cpu")
    tensors = list(module.parameters()) + list(module.buffers())
    assert tensors, f"{name} made no weights at construction"
    module.to("meta")
    wrong = [n for n, t in list(module.named_parameters()) + list(module.named_buffers()) if t.device.type != "meta"]
    assert not wrong, f"{name}: {wrong} stayed behind after .to('meta')"


def test_a_cell_moved_before_its_first_call_builds_where_it_was_moved(cl):
    """An unbuilt cell has no weights to move yet: ``.to(device)`` must still decide where they go."""
    cell = cl.LSTMCell(H, device="cpu").to("meta")
    x = torch.empty(B, E, device="meta")
    output, _ = cell(x, cell.get_initial_state(inputs=x))
    assert output.device.type == "meta"
    assert {p.device.type for p in cell.parameters()} == {"meta"}
