"""dynamic_rnn: parity, ragged lengths (with 1 and 0), the fast path equals the step loop."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from course_lib.common import nest
from tests.conftest import assert_close, random_weights

LENGTHS = [3, 4, 3, 1, 0]
B, T, D, H = len(LENGTHS), 4, 3, 6


def _cell(bk, kind):
    cl = bk.cl
    return {
        "LSTMCell": lambda: cl.LSTMCell(H),
        "GRUCell": lambda: cl.GRUCell(H),
        "SimpleRNNCell": lambda: cl.SimpleRNNCell(H),
        "multi": lambda: cl.MultiRNNCell([cl.LSTMCell(H), cl.GRUCell(H)]),
        "projection": lambda: cl.OutputProjectionWrapper(cl.LSTMCell(H), 4),
    }[kind]()


def _inputs(seed=0):
    return np.random.default_rng(seed).standard_normal((B, T, D)).astype(np.float32)


def _run_both(tf_backend, torch_backend, kind, **kwargs):
    x = _inputs()
    results, weights = [], None
    for bk in (tf_backend, torch_backend):
        cell = _cell(bk, kind)
        bk.cl.dynamic_rnn(cell, bk.float(x))  # build
        weights = weights or random_weights(bk.cl.export_weights(cell))
        bk.cl.import_weights(cell, weights)
        args = {k: (bk.int(v) if k == "sequence_length" else v) for k, v in kwargs.items()}
        results.append(bk.np(bk.cl.dynamic_rnn(cell, bk.float(x), **args)))
    return results


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "SimpleRNNCell", "multi", "projection"])
def test_dynamic_rnn_parity_ragged(tf_backend, torch_backend, kind):
    a, b = _run_both(tf_backend, torch_backend, kind, sequence_length=LENGTHS)
    assert_close(a, b, what=kind)


def test_dynamic_rnn_parity_full_length(tf_backend, torch_backend):
    a, b = _run_both(tf_backend, torch_backend, "LSTMCell")
    assert_close(a, b)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "projection"])
def test_outputs_zero_and_state_frozen_past_length(backend, kind):
    cl = backend.cl
    cell = _cell(backend, kind)
    x = _inputs(1)
    outputs, state = cl.dynamic_rnn(cell, backend.float(x), sequence_length=backend.int(LENGTHS))
    outputs = backend.np(outputs)
    for b, n in enumerate(LENGTHS):
        assert not outputs[b, n:].any(), f"row {b} has outputs past its length {n}"
        if n:
            assert outputs[b, n - 1].any()
        # the final state is the state after exactly n steps of this row alone
        _, alone = cl.dynamic_rnn(cell, backend.float(x[b:b + 1, :n]) if n else backend.float(x[b:b + 1, :1]),
                                  sequence_length=backend.int([n]))
        for got, want in zip(nest.flatten(backend.np(state)), nest.flatten(backend.np(alone))):
            np.testing.assert_allclose(got[b], want[0], atol=1e-5)


def test_length_zero_keeps_initial_state(backend):
    cl = backend.cl
    cell = cl.LSTMCell(H)
    init = [backend.float(np.full((B, H), 0.5)), backend.float(np.full((B, H), -0.5))]
    _, state = cl.dynamic_rnn(cell, backend.float(_inputs()), sequence_length=backend.int(LENGTHS), initial_state=init)
    h, c = backend.np(state)
    np.testing.assert_allclose(h[4], 0.5)
    np.testing.assert_allclose(c[4], -0.5)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "SimpleRNNCell", "multi"])
def test_fast_path_equals_step_loop(backend, kind):
    """Stock cells take the fused path; the plain step loop must give the same numbers."""
    import importlib

    rnn = importlib.import_module(f"course_lib.{backend.name}.rnn")
    cell = _cell(backend, kind)
    x = _inputs(2)
    lengths = backend.int(LENGTHS)
    fast_out, fast_state = backend.cl.dynamic_rnn(cell, backend.float(x), sequence_length=lengths)
    init = cell.get_initial_state(batch_size=B, dtype=backend.fw.float32)
    if backend.name == "tf":
        loop_out, loop_state = rnn._step_loop(cell, backend.fw.transpose(backend.float(x), [1, 0, 2]), lengths, init)
        loop_out = backend.fw.transpose(loop_out, [1, 0, 2])
    else:
        loop_out, loop_state = rnn._step_loop(cell, backend.float(x), lengths, init)
    assert_close(backend.np((fast_out, fast_state)), backend.np((loop_out, loop_state)))


def test_time_major_matches_batch_major(backend):
    cell = backend.cl.GRUCell(H)
    x = _inputs(3)
    out_b, s_b = backend.cl.dynamic_rnn(cell, backend.float(x), sequence_length=backend.int(LENGTHS))
    out_t, s_t = backend.cl.dynamic_rnn(cell, backend.float(x.transpose(1, 0, 2)),
                                        sequence_length=backend.int(LENGTHS), time_major=True)
    assert_close(backend.np(out_b), backend.np(out_t).transpose(1, 0, 2))
    assert_close(backend.np(s_b), backend.np(s_t))


def test_tf_function_equals_eager(tf_backend):
    import tensorflow as tf

    cl = tf_backend.cl
    for cell in (cl.LSTMCell(H), cl.ResidualWrapper(cl.GRUCell(D))):
        x, lengths = tf_backend.float(_inputs(4)), tf_backend.int(LENGTHS)
        eager = cl.dynamic_rnn(cell, x, sequence_length=lengths)
        graph = tf.function(lambda x, n: cl.dynamic_rnn(cell, x, sequence_length=n))(x, lengths)
        assert_close(tf_backend.np(eager), tf_backend.np(graph))


@settings(max_examples=15, deadline=None)
@given(lengths=st.lists(st.integers(0, 5), min_size=1, max_size=4), seed=st.integers(0, 10))
def test_property_length_semantics(lengths, seed):
    """For any lengths: zero outputs past each length, nonzero before, both backends agree."""
    from tests.conftest import Backend

    x = np.random.default_rng(seed).standard_normal((len(lengths), 5, 2)).astype(np.float32) + 0.1
    results, weights = [], None
    for name in ("tf", "torch"):
        bk = Backend(name)
        cell = bk.cl.LSTMCell(3)
        bk.cl.dynamic_rnn(cell, bk.float(x))
        weights = weights or random_weights(bk.cl.export_weights(cell), seed)
        bk.cl.import_weights(cell, weights)
        out, state = bk.np(bk.cl.dynamic_rnn(cell, bk.float(x), sequence_length=bk.int(lengths)))
        mask = np.arange(5)[None, :] < np.asarray(lengths)[:, None]
        assert not out[~mask].any()
        assert (np.abs(out[mask]).sum(-1) > 0).all()  # every step inside a length has an output
        results.append((out, state))
    assert_close(results[0], results[1])
