"""The samplers' own semantics: sampling, temperature, seeds, scheduled sampling, custom samplers."""

import numpy as np
import pytest

from tests.conftest import assert_close

B, T, E, H, V = 4, 5, 3, 8, 6


def _decoder(bk, sampler, **kwargs):
    cell = bk.cl.LSTMCell(H)
    return bk.cl.BasicDecoder(cell, sampler, bk.dense(H, V), **kwargs)


def _emb(bk):
    return bk.float(np.random.default_rng(0).standard_normal((V, E)))


def _infer(bk, decoder, emb):
    return bk.np(decoder(emb, start_tokens=bk.int([0] * B), end_token=V + 1))


def test_sample_embedding_sampler_seed_repeats_and_low_temperature_is_greedy(backend):
    cl = backend.cl
    emb = _emb(backend)
    greedy = _decoder(backend, cl.GreedyEmbeddingSampler(), maximum_iterations=6)
    g = _infer(backend, greedy, emb)
    sampled = cl.BasicDecoder(greedy.cell, cl.SampleEmbeddingSampler(seed=3), greedy.output_layer, maximum_iterations=6)
    a, b = _infer(backend, sampled, emb), _infer(backend, sampled, emb)
    np.testing.assert_array_equal(a[0].sample_id, b[0].sample_id)
    cold = cl.BasicDecoder(greedy.cell, cl.SampleEmbeddingSampler(softmax_temperature=1e-4, seed=1),
                           greedy.output_layer, maximum_iterations=6)
    np.testing.assert_array_equal(_infer(backend, cold, emb)[0].sample_id, g[0].sample_id)
    hot = cl.BasicDecoder(greedy.cell, cl.SampleEmbeddingSampler(softmax_temperature=50.0, seed=1),
                          greedy.output_layer, maximum_iterations=30)
    ids = hot(emb, start_tokens=backend.int([0] * 32), end_token=V + 1)[0].sample_id
    assert len(np.unique(backend.np(ids))) == V, "a hot temperature should reach every token"


def _teacher(bk, sampler, **init_kwargs):
    x = bk.float(np.random.default_rng(1).standard_normal((B, T, E)))
    decoder = _decoder(bk, bk.cl.TrainingSampler())
    reference = bk.np(decoder(x, sequence_length=bk.int([T] * B)))
    scheduled = bk.cl.BasicDecoder(decoder.cell, sampler, decoder.output_layer)
    return reference, bk.np(scheduled(x, sequence_length=bk.int([T] * B), **init_kwargs))


def test_scheduled_embedding_probability_zero_is_teacher_forcing(backend):
    sampler = backend.cl.ScheduledEmbeddingTrainingSampler(0.0, seed=1, scheduling_seed=2)
    reference, got = _teacher(backend, sampler, embedding=_emb(backend))
    assert_close(reference[0].rnn_output, got[0].rnn_output)
    assert (got[0].sample_id == -1).all()


def test_scheduled_embedding_probability_one_feeds_samples(backend):
    sampler = backend.cl.ScheduledEmbeddingTrainingSampler(1.0, seed=1, scheduling_seed=2)
    reference, got = _teacher(backend, sampler, embedding=_emb(backend))
    assert (got[0].sample_id >= 0).all()
    np.testing.assert_allclose(reference[0].rnn_output[:, 0], got[0].rnn_output[:, 0], atol=1e-6)
    assert np.abs(reference[0].rnn_output[:, 1:] - got[0].rnn_output[:, 1:]).max() > 1e-3


def test_scheduled_output_sampler_feeds_outputs(backend):
    """With probability 1 the next input is ``next_inputs_fn(output)``; with 0 the ground truth."""
    cl = backend.cl
    x = backend.float(np.random.default_rng(1).standard_normal((B, T, E)))
    cell, frames = cl.GRUCell(H), backend.dense(H, E)
    teacher = backend.np(cl.BasicDecoder(cell, cl.TrainingSampler(), frames)(x))
    zero = backend.np(cl.BasicDecoder(cell, cl.ScheduledOutputTrainingSampler(0.0, seed=0), frames)(x))
    assert_close(teacher[0].rnn_output, zero[0].rnn_output)
    assert not zero[0].sample_id.any()
    one = backend.np(cl.BasicDecoder(cell, cl.ScheduledOutputTrainingSampler(1.0, seed=0), frames)(x))
    assert one[0].sample_id[:, :-1].all()
    # free-running: each step's input was the previous output frame
    free = cl.BasicDecoder(cell, cl.InferenceSampler(lambda o: o, [E], backend.fw.float32,
                                                     lambda s: s[:, 0] > 1e9), frames, maximum_iterations=T)
    free_out = backend.np(free(x[:, 0]))
    assert_close(one[0].rnn_output, free_out[0].rnn_output)


def test_custom_sampler_reproduces_greedy(backend):
    cl, fw = backend.cl, backend.fw
    emb = _emb(backend)
    greedy = _decoder(backend, cl.GreedyEmbeddingSampler(), maximum_iterations=5)
    want = _infer(backend, greedy, emb)
    lookup = (lambda ids: fw.nn.embedding_lookup(emb, ids)) if backend.name == "tf" else \
        (lambda ids: fw.nn.functional.embedding(ids, emb))
    argmax = (lambda o: fw.argmax(o, -1, output_type=fw.int32)) if backend.name == "tf" else (lambda o: o.argmax(-1))
    zeros = (lambda n: fw.zeros([n], fw.bool)) if backend.name == "tf" else (lambda n: fw.zeros(n, dtype=fw.bool))
    sampler = cl.CustomSampler(
        initialize_fn=lambda start_tokens: (zeros(B), lookup(start_tokens)),
        sample_fn=lambda time, outputs, state: argmax(outputs),
        next_inputs_fn=lambda time, outputs, state, sample_ids: (sample_ids == V + 1, lookup(sample_ids), state),
    )
    custom = cl.BasicDecoder(greedy.cell, sampler, greedy.output_layer, maximum_iterations=5)
    got = backend.np(custom(backend.int([0] * B)))
    np.testing.assert_array_equal(got[0].sample_id, want[0].sample_id)
    assert_close(got[0].rnn_output, want[0].rnn_output)


def test_training_sampler_mask_equals_lengths(backend):
    x = backend.float(np.random.default_rng(1).standard_normal((B, T, E)))
    lengths = [5, 2, 1, 0]
    mask = np.arange(T)[None, :] < np.asarray(lengths)[:, None]
    decoder = _decoder(backend, backend.cl.TrainingSampler(), impute_finished=True)
    a = backend.np(decoder(x, sequence_length=backend.int(lengths)))
    b = backend.np(decoder(x, mask=backend.fw.constant(mask) if backend.name == "tf" else backend.fw.tensor(mask)))
    assert_close(a, b)
