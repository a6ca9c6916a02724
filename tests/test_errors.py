"""Bad input fails at the call with a ValueError/TypeError naming the argument, the expectation
and what was given."""

import numpy as np
import pytest

B, T, E, H, V = 3, 4, 2, 5, 6


def _x(bk, shape=(B, T, E)):
    return bk.float(np.ones(shape))


def _training(bk):
    return bk.cl.BasicDecoder(bk.cl.LSTMCell(H), bk.cl.TrainingSampler(), bk.dense(H, V))


def _greedy(bk):
    return bk.cl.BasicDecoder(bk.cl.LSTMCell(H), bk.cl.GreedyEmbeddingSampler(), bk.dense(H, V), maximum_iterations=3)


class _NoInitialize:
    """A helper that forgets ``initialize``."""

    def sample(self, time, outputs, state):
        return outputs

    def next_inputs(self, time, outputs, state, sample_ids):
        return None, outputs, state


class _DuckSampler(_NoInitialize):
    """Every method of a sampler, without subclassing ``Sampler``."""

    def initialize(self, inputs, **kwargs):
        return None, inputs


CASES = {
    "sequence_length not 1-D": (
        lambda bk: bk.cl.dynamic_rnn(bk.cl.LSTMCell(H), _x(bk), sequence_length=bk.int([[1, 2, 3]])),
        ValueError, r"`sequence_length` must be 1-D.*got shape \[1, 3\]"),
    "sequence_length wrong batch": (
        lambda bk: bk.cl.dynamic_rnn(bk.cl.LSTMCell(H), _x(bk), sequence_length=bk.int([1, 2])),
        ValueError, r"`sequence_length` must have batch_size = 3.*got shape \[2\]"),
    "sequence_length past time axis": (
        lambda bk: bk.cl.dynamic_rnn(bk.cl.LSTMCell(H), _x(bk), sequence_length=bk.int([1, 5, 2])),
        ValueError, r"`sequence_length` must be <= the time axis \(4\).*got max 5"),
    "sequence_length negative": (
        lambda bk: _training(bk)(_x(bk), sequence_length=bk.int([1, -1, 2])),
        ValueError, r"`sequence_length` must be >= 0"),
    "sequence_length float": (
        lambda bk: bk.cl.dynamic_rnn(bk.cl.LSTMCell(H), _x(bk), sequence_length=bk.float([1, 2, 3])),
        TypeError, r"`sequence_length` must hold integer ids.*float32"),
    "dynamic_rnn inputs rank 2": (
        lambda bk: bk.cl.dynamic_rnn(bk.cl.LSTMCell(H), _x(bk, (B, E))),
        ValueError, r"`inputs` must be 3-D \[batch, time, depth\], got shape \[3, 2\]"),
    "TrainingSampler inputs rank 2": (
        lambda bk: _training(bk)(_x(bk, (B, E))),
        ValueError, r"`inputs` must be 3-D or 4-D or 5-D \[batch, time, depth\], got shape \[3, 2\]"),
    "TrainingSampler lengths past time axis": (
        lambda bk: _training(bk)(_x(bk), sequence_length=bk.int([9, 1, 1])),
        ValueError, r"`sequence_length` must be <= the time axis"),
    "embedding not 2-D": (
        lambda bk: _greedy(bk)(_x(bk, (V, E, 1)), start_tokens=bk.int([0] * B), end_token=1),
        ValueError, r"`embedding` must be 2-D \[vocab_size, embedding_dim\], got shape \[6, 2, 1\]"),
    "start_tokens not 1-D": (
        lambda bk: _greedy(bk)(_x(bk, (V, E)), start_tokens=bk.int([[0] * B]), end_token=1),
        ValueError, r"`start_tokens` must be 1-D \[batch_size\], got shape \[1, 3\]"),
    "end_token not scalar": (
        lambda bk: _greedy(bk)(_x(bk, (V, E)), start_tokens=bk.int([0] * B), end_token=bk.int([1, 2])),
        ValueError, r"`end_token` must be a scalar, got shape \[2\]"),
    "start_tokens outside the vocabulary": (
        lambda bk: _greedy(bk)(_x(bk, (V, E)), start_tokens=bk.int([0, V, 1]), end_token=1),
        ValueError, r"`start_tokens` must be ids in \[0, 6\) \(the embedding's vocabulary\), got \[6\]"),
    "start_tokens float": (
        lambda bk: _greedy(bk)(_x(bk, (V, E)), start_tokens=bk.float([0] * B), end_token=1),
        TypeError, r"`start_tokens` must hold integer ids.*float32"),
    "initial_state wrong structure": (
        lambda bk: bk.cl.dynamic_rnn(bk.cl.LSTMCell(H), _x(bk), initial_state=bk.float(np.zeros((B, H)))),
        ValueError, r"`initial_state` has the structure \*, expected \[\*, \*\]"),
    "initial_state wrong shape": (
        lambda bk: _training(bk)(_x(bk), initial_state=[bk.float(np.zeros((B, H + 1)))] * 2),
        ValueError, r"`initial_state` must be shaped like the cell's state.*expected \[3, 5\].*shape \[3, 6\]"),
    "initial_state wrong batch": (
        lambda bk: bk.cl.dynamic_rnn(bk.cl.GRUCell(H), _x(bk), initial_state=bk.float(np.zeros((B + 1, H)))),
        ValueError, r"expected \[3, 5\] has shape \[4, 5\]"),
    "loss weights not like targets": (
        lambda bk: bk.cl.sequence_loss(_x(bk, (B, T, V)), bk.int(np.zeros((B, T))), bk.float(np.ones((B, T - 1)))),
        ValueError, r"`weights` must be shaped like `targets` \[3, 4\], got shape \[3, 3\]"),
    "loss targets float": (
        lambda bk: bk.cl.sequence_loss(_x(bk, (B, T, V)), bk.float(np.zeros((B, T))), bk.float(np.ones((B, T)))),
        TypeError, r"`targets` must hold integer ids"),
    "loss logits rank": (
        lambda bk: bk.cl.sequence_loss(_x(bk, (B, V)), bk.int(np.zeros((B, T))), bk.float(np.ones((B, T)))),
        ValueError, r"`logits` must be 3-D \[batch_size, sequence_length, num_classes\]"),
    "illegal loss flags": (
        lambda bk: bk.cl.sequence_loss(_x(bk, (B, T, V)), bk.int(np.zeros((B, T))), bk.float(np.ones((B, T))),
                                       average_across_timesteps=False, average_across_batch=True,
                                       sum_over_timesteps=True),
        ValueError, r"`average_across_batch` and `sum_over_timesteps` cannot both be True"),
    "maximum_iterations negative": (
        lambda bk: bk.cl.BasicDecoder(bk.cl.LSTMCell(H), bk.cl.TrainingSampler(), maximum_iterations=-1)(_x(bk)),
        ValueError, r"`maximum_iterations` must be >= 0, got -1"),
    "sampler not a Sampler": (
        lambda bk: bk.cl.BasicDecoder(bk.cl.LSTMCell(H), "greedy"),
        TypeError, r"`sampler` must be a Sampler \(a subclass of `Sampler` with `initialize`, `sample` and "
                   r"`next_inputs`, or `CustomSampler\(initialize_fn, sample_fn, next_inputs_fn\)`\), got str "
                   r"'greedy': it has no `initialize` and no `sample` and no `next_inputs`"),
    "sampler without initialize": (
        lambda bk: bk.cl.BasicDecoder(bk.cl.LSTMCell(H), _NoInitialize()),
        TypeError, r"`sampler` must be a Sampler .*got _NoInitialize .*: it has no `initialize`$"),
    "sampler not subclassing Sampler": (
        lambda bk: bk.cl.BasicDecoder(bk.cl.LSTMCell(H), _DuckSampler()),
        TypeError, r"got _DuckSampler .*: it has the methods but is not a subclass of `Sampler`"),
    "Sampler subclass without initialize": (
        lambda bk: type("HalfSampler", (bk.cl.Sampler,), {"sample": _NoInitialize.sample,
                                                         "next_inputs": _NoInitialize.next_inputs})(),
        TypeError, r"HalfSampler.*abstract method.*initialize"),
    "CustomSampler initialize_fn not callable": (
        lambda bk: bk.cl.CustomSampler(None, _NoInitialize.sample, _NoInitialize.next_inputs),
        TypeError, r"`initialize_fn` must be callable, got None"),
    "gather_tree parent id outside the beams": (
        lambda bk: bk.cl.gather_tree(bk.int(np.ones((2, 1, 3))), bk.int([[[0, 1, 2]], [[0, 3, 1]]]), bk.int([2]), 9),
        ValueError, r"`parent_ids` must lie in \[0, beam_width = 3\).*saw invalid parent id 3 at "
                    r"\(batch, time, beam\) == \(0, 1, 1\)"),
    "cell input depth changes": (
        lambda bk: (lambda c: (bk.cl.dynamic_rnn(c, _x(bk)), bk.cl.dynamic_rnn(c, _x(bk, (B, T, E + 1)))))(
            bk.cl.LSTMCell(H)),
        ValueError, r"`inputs` of .* must have depth 2 \(set by its first call\), got depth 3"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_names_argument(backend, case):
    fn, error, pattern = CASES[case]
    with pytest.raises(error, match=pattern):
        fn(backend)


def test_sampling_probability_checked(backend):
    with pytest.raises(ValueError, match=r"`sampling_probability` must lie in \[0, 1\], got \[1.5\]"):
        backend.cl.ScheduledEmbeddingTrainingSampler(1.5)
