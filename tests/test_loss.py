"""sequence_loss: every legal mode agrees across backends and with NumPy; known answers."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

B, T, V = 3, 4, 5
FLAGS = ("average_across_timesteps", "average_across_batch", "sum_over_timesteps", "sum_over_batch")


def _legal(combo):
    at, ab, st_, sb = combo
    return not ((at and st_) or (ab and sb) or (ab and st_) or (sb and at))


LEGAL = [dict(zip(FLAGS, c)) for c in itertools.product([False, True], repeat=4) if _legal(c)]
ILLEGAL = [dict(zip(FLAGS, c)) for c in itertools.product([False, True], repeat=4) if not _legal(c)]


def _data(seed=0, zero_row=False):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((B, T, V)).astype(np.float32)
    targets = rng.integers(0, V, (B, T))
    weights = (np.arange(T)[None, :] < np.array([4, 2, 0 if zero_row else 1])[:, None]).astype(np.float32)
    return logits, targets, weights


def _numpy_loss(logits, targets, weights, average_across_timesteps, average_across_batch,
                sum_over_timesteps, sum_over_batch):
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ce = -np.take_along_axis(logp, targets[..., None], -1)[..., 0] * weights

    def div(a, b):
        return np.where(b != 0, a / np.where(b != 0, b, 1), 0)
    if average_across_timesteps and average_across_batch:
        return div(ce.sum(), weights.sum())
    if sum_over_timesteps and sum_over_batch:
        return div(ce.sum(), (weights != 0).sum())
    if average_across_timesteps or average_across_batch:
        ax = 0 if average_across_batch else 1
        return div(ce.sum(ax), weights.sum(ax))
    if sum_over_timesteps or sum_over_batch:
        ax = 0 if sum_over_batch else 1
        return div(ce.sum(ax), (weights != 0).sum(ax))
    return ce


@pytest.mark.parametrize("flags", LEGAL, ids=lambda f: "-".join(k for k, v in f.items() if v) or "none")
def test_every_legal_mode_matches_numpy_in_both_backends(tf_backend, torch_backend, flags):
    logits, targets, weights = _data(zero_row=True)
    want = _numpy_loss(logits, targets, weights, **flags)
    for bk in (tf_backend, torch_backend):
        got = bk.np(bk.cl.sequence_loss(bk.float(logits), bk.int(targets), bk.float(weights), **flags))
        assert got.shape == np.shape(want)
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=bk.name)


@pytest.mark.parametrize("flags", ILLEGAL, ids=lambda f: "-".join(k for k, v in f.items() if v))
def test_illegal_flag_combinations_raise(backend, flags):
    logits, targets, weights = _data()
    with pytest.raises(ValueError, match="cannot both be True"):
        backend.cl.sequence_loss(backend.float(logits), backend.int(targets), backend.float(weights), **flags)
    with pytest.raises(ValueError, match="cannot both be True"):
        backend.cl.SequenceLoss(**flags)


def test_uniform_logits_give_ln_of_vocab(backend):
    logits = np.zeros((B, T, V), np.float32)
    targets = np.random.default_rng(0).integers(0, V, (B, T))
    loss = backend.cl.sequence_loss(backend.float(logits), backend.int(targets), backend.float(np.ones((B, T))))
    assert abs(float(backend.np(loss)) - math.log(5)) < 1e-6


def test_padding_weights_mask_positions(backend):
    """Changing logits where the weight is 0 does not change the loss."""
    logits, targets, weights = _data(1)
    noisy = logits.copy()
    noisy[weights == 0] += 100.0
    a = backend.np(backend.cl.sequence_loss(backend.float(logits), backend.int(targets), backend.float(weights)))
    b = backend.np(backend.cl.sequence_loss(backend.float(noisy), backend.int(targets), backend.float(weights)))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_sequence_loss_object_defaults_sum_and_count(backend):
    logits, targets, weights = _data(2)
    want = _numpy_loss(logits, targets, weights, False, False, True, True)
    got = backend.cl.SequenceLoss()(backend.int(targets), backend.float(logits), backend.float(weights))
    np.testing.assert_allclose(backend.np(got), want, atol=1e-5)


def test_sequence_mask(backend):
    mask = backend.np(backend.cl.sequence_mask(backend.int([2, 0, 3]), 4))
    np.testing.assert_array_equal(mask, [[1, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 0]])


@settings(max_examples=20, deadline=None)
@given(lengths=st.lists(st.integers(0, T), min_size=1, max_size=4), seed=st.integers(0, 100))
def test_property_masked_mean_equals_mean_over_valid_positions(lengths, seed):
    """With 0/1 weights from lengths, the default loss is the mean CE over the valid positions."""
    from tests.conftest import Backend

    rng = np.random.default_rng(seed)
    b = len(lengths)
    logits = rng.standard_normal((b, T, V)).astype(np.float32)
    targets = rng.integers(0, V, (b, T))
    mask = np.arange(T)[None, :] < np.asarray(lengths)[:, None]
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ce = -np.take_along_axis(logp, targets[..., None], -1)[..., 0]
    want = ce[mask].mean() if mask.any() else 0.0
    for name in ("tf", "torch"):
        bk = Backend(name)
        weights = bk.cl.sequence_mask(bk.int(lengths), T, dtype=bk.fw.float32)
        got = bk.np(bk.cl.sequence_loss(bk.float(logits), bk.int(targets), weights))
        np.testing.assert_allclose(got, want, atol=1e-5)
