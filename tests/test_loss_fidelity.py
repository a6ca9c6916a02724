"""sequence_loss and SequenceLoss as tfa 0.23 has them: fractional weights, one-hot targets, the
illegal flag pairs in tfa's words, and SequenceLoss inside Keras' compile/fit."""

import itertools
import math

import numpy as np
import pytest

B, T, V = 3, 4, 5
FLAGS = ("average_across_timesteps", "average_across_batch", "sum_over_timesteps", "sum_over_batch")
# fractional weights, a zero inside a row, an all-zero row (2) and an all-zero column (3): a loss
# that divided by the count where tfa divides by the sum (or the other way round) would differ
WEIGHTS = np.array([[1.0, 0.5, 0.25, 0.0],
                    [0.5, 0.0, 0.75, 0.0],
                    [0.0, 0.0, 0.0, 0.0]], np.float32)


def _illegal(flags):
    """tfa's four forbidden pairs: the same axis averaged and summed, or an ambiguous order."""
    return ((flags["average_across_timesteps"] and flags["sum_over_timesteps"])
            or (flags["average_across_batch"] and flags["sum_over_batch"])
            or (flags["average_across_batch"] and flags["sum_over_timesteps"])
            or (flags["sum_over_batch"] and flags["average_across_timesteps"]))


ALL_FLAGS = [dict(zip(FLAGS, combo)) for combo in itertools.product([False, True], repeat=4)]
LEGAL = [f for f in ALL_FLAGS if not _illegal(f)]


def _flag_id(flags):
    return "-".join(k for k, v in flags.items() if v) or "none"


def _data(seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((B, T, V)).astype(np.float32) * 2
    targets = rng.integers(0, V, (B, T))
    return logits, targets


def _reference(logits, targets, weights, average_across_timesteps, average_across_batch,
               sum_over_timesteps, sum_over_batch):
    """tfa's reductions, written out with loops: an average divides by the sum of the weights, a
    sum divides by the number of non-zero weights; 0 / 0 is 0."""
    losses = np.zeros((B, T))
    for b, t in itertools.product(range(B), range(T)):
        row = logits[b, t].astype(np.float64)
        log_z = math.log(sum(math.exp(v) for v in row))
        losses[b, t] = (log_z - row[targets[b, t]]) * weights[b, t]

    def ratio(total, denominator):
        return total / denominator if denominator else 0.0

    both = (average_across_timesteps and average_across_batch) or (sum_over_timesteps and sum_over_batch)
    if both:
        denominator = weights.sum() if average_across_timesteps else np.count_nonzero(weights)
        return ratio(losses.sum(), denominator)
    if average_across_timesteps or sum_over_timesteps:  # one value per row
        return np.array([ratio(losses[b].sum(), weights[b].sum() if average_across_timesteps
                               else np.count_nonzero(weights[b])) for b in range(B)])
    if average_across_batch or sum_over_batch:  # one value per time step
        return np.array([ratio(losses[:, t].sum(), weights[:, t].sum() if average_across_batch
                               else np.count_nonzero(weights[:, t])) for t in range(T)])
    return losses


def test_the_weights_tell_a_sum_from_a_count():
    """The premise of these tests: with these weights, sum and count differ on every axis."""
    assert WEIGHTS.sum() != np.count_nonzero(WEIGHTS)
    assert all(WEIGHTS[b].sum() != np.count_nonzero(WEIGHTS[b]) for b in range(2))
    assert all(WEIGHTS[:, t].sum() != np.count_nonzero(WEIGHTS[:, t]) for t in range(3))


@pytest.mark.parametrize("flags", LEGAL, ids=_flag_id)
def test_fractional_weights_match_numpy_in_both_backends(tf_backend, torch_backend, flags):
    logits, targets = _data()
    want = _reference(logits, targets, WEIGHTS, **flags)
    got = {}
    for bk in (tf_backend, torch_backend):
        got[bk.name] = bk.np(bk.cl.sequence_loss(bk.float(logits), bk.int(targets), bk.float(WEIGHTS), **flags))
        assert np.shape(got[bk.name]) == np.shape(want), bk.name
        np.testing.assert_allclose(got[bk.name], want, rtol=1e-5, atol=1e-6, err_msg=bk.name)
    np.testing.assert_allclose(got["tf"], got["torch"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("flags", LEGAL, ids=_flag_id)
def test_one_hot_targets_give_the_loss_of_their_ids(backend, flags):
    logits, targets = _data(1)
    one_hot = np.eye(V, dtype=np.float32)[targets]  # (B, T, V)
    cl = backend.cl
    by_ids = backend.np(cl.sequence_loss(backend.float(logits), backend.int(targets), backend.float(WEIGHTS), **flags))
    by_one_hot = backend.np(cl.sequence_loss(backend.float(logits), backend.float(one_hot), backend.float(WEIGHTS),
                                             **flags))
    np.testing.assert_allclose(by_one_hot, by_ids, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(by_one_hot, _reference(logits, targets, WEIGHTS, **flags), rtol=1e-5, atol=1e-6)


def test_soft_targets_are_a_cross_entropy_against_the_distribution(backend):
    logits, _ = _data(2)
    soft = np.random.default_rng(3).dirichlet(np.ones(V), (B, T)).astype(np.float32)  # (B, T, V) rows sum to 1
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    want = -(soft * log_p).sum(-1) * WEIGHTS  # (B, T)
    got = backend.cl.sequence_loss(backend.float(logits), backend.float(soft), backend.float(WEIGHTS),
                                   average_across_timesteps=False, average_across_batch=False)
    np.testing.assert_allclose(backend.np(got), want, rtol=1e-5, atol=1e-6)


def test_one_hot_targets_must_match_the_logits(backend):
    logits, targets = _data()
    wrong = np.eye(V + 1, dtype=np.float32)[targets]  # (B, T, V + 1)
    with pytest.raises(ValueError, match=r"one-hot `targets` must be shaped like `logits` \[3, 4, 5\], "
                                         r"got shape \[3, 4, 6\]"):
        backend.cl.sequence_loss(backend.float(logits), backend.float(wrong), backend.float(WEIGHTS))
    with pytest.raises(ValueError, match=r"`targets` must be 2-D or 3-D \[batch_size, sequence_length\] ids"):
        backend.cl.sequence_loss(backend.float(logits), backend.int(targets[0]), backend.float(WEIGHTS))


@pytest.mark.parametrize("pair", [("average_across_batch", "sum_over_timesteps"),
                                  ("sum_over_batch", "average_across_timesteps")])
def test_ambiguous_pairs_say_so_in_tfas_words(backend, pair):
    logits, targets = _data()
    flags = {name: name in pair for name in FLAGS}
    pattern = rf"`{pair[0]}` and `{pair[1]}` cannot both be True .*because of ambiguous order"
    with pytest.raises(ValueError, match=pattern):
        backend.cl.sequence_loss(backend.float(logits), backend.int(targets), backend.float(WEIGHTS), **flags)
    with pytest.raises(ValueError, match=pattern):
        backend.cl.SequenceLoss(**flags)


@pytest.mark.parametrize("pair", [("average_across_timesteps", "sum_over_timesteps"),
                                  ("average_across_batch", "sum_over_batch")])
def test_averaging_and_summing_one_axis_is_refused(backend, pair):
    flags = {name: name in pair for name in FLAGS}
    with pytest.raises(ValueError, match=rf"`{pair[0]}` and `{pair[1]}` cannot both be True; set one"):
        backend.cl.SequenceLoss(**flags)


def test_sequence_loss_object_defaults_sum_over_both_axes(backend):
    logits, targets = _data()
    loss = backend.cl.SequenceLoss()
    want = _reference(logits, targets, WEIGHTS, False, False, True, True)
    got = loss(backend.int(targets), backend.float(logits), sample_weight=backend.float(WEIGHTS))
    np.testing.assert_allclose(backend.np(got), want, rtol=1e-5)
    ones = np.ones((B, T), np.float32)
    np.testing.assert_allclose(backend.np(loss(backend.float(np.eye(V, dtype=np.float32)[targets]),
                                               backend.float(logits))),
                               _reference(logits, targets, ones, False, False, True, True), rtol=1e-5)


# -- SequenceLoss inside Keras' compile / fit ------------------------------------------------------

def _fixed_logits_model(logits):
    """A Keras model whose output is always ``logits`` [B, T, V], whatever its input ``[B, T]``; one
    weight (a scale, 1, left there by a learning rate of 0) so that the optimizer has something to update."""
    import keras
    import tensorflow as tf

    class FixedLogits(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

        def call(self, x):  # x [B, T]
            return tf.constant(logits) * self.scale + 0.0 * x[:, :, None]  # (B, T, V)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], T, V)

    inputs = keras.Input(shape=(T,))
    return keras.Model(inputs, FixedLogits()(inputs))


@pytest.mark.parametrize("targets_kind", ["int32 ids", "one-hot"])
def test_sequence_loss_in_keras_compile_and_fit(tf_backend, targets_kind):
    import keras

    cl = tf_backend.cl
    logits, targets = _data(4)
    assert isinstance(cl.SequenceLoss(), keras.losses.Loss)
    y = targets.astype(np.int32) if targets_kind == "int32 ids" else np.eye(V, dtype=np.float32)[targets]
    model = _fixed_logits_model(logits)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=cl.SequenceLoss())
    history = model.fit(np.ones((B, T), np.float32), y, sample_weight=WEIGHTS, batch_size=B, epochs=1,
                        shuffle=False, verbose=0)  # the model ignores its input: keep the rows in order
    want = _reference(logits, targets, WEIGHTS, False, False, True, True)
    np.testing.assert_allclose(history.history["loss"][0], want, rtol=1e-5)
    evaluated = model.evaluate(np.ones((B, T), np.float32), y, sample_weight=WEIGHTS, batch_size=B, verbose=0)
    np.testing.assert_allclose(evaluated, want, rtol=1e-5)


def test_sequence_loss_config_round_trips(tf_backend):
    cl = tf_backend.cl
    loss = cl.SequenceLoss(average_across_timesteps=True, sum_over_timesteps=False, sum_over_batch=False,
                           name="my_loss")
    again = cl.SequenceLoss.from_config(loss.get_config())
    assert again.get_config() == loss.get_config()
    assert (again.name, again.average_across_timesteps, again.sum_over_timesteps, again.sum_over_batch) == \
        ("my_loss", True, False, False)


# -- float ids: Keras may cast y_true to float; SequenceLoss takes whole numbers -------------------

def test_sequence_loss_object_takes_float_ids_that_are_whole_numbers(backend):
    logits, targets = _data(5)
    loss = backend.cl.SequenceLoss()
    by_ints = backend.np(loss(backend.int(targets), backend.float(logits), sample_weight=backend.float(WEIGHTS)))
    by_floats = backend.np(loss(backend.float(targets), backend.float(logits), sample_weight=backend.float(WEIGHTS)))
    np.testing.assert_allclose(by_floats, by_ints, rtol=1e-6)
    np.testing.assert_allclose(by_floats, _reference(logits, targets, WEIGHTS, False, False, True, True), rtol=1e-5)
    fractional = targets.astype(np.float32)
    fractional[1, 2] = 2.5
    pattern = (r"`y_true` \[batch_size, sequence_length\] must hold class ids \(integers, or floats that are "
               r"whole numbers, as Keras may cast them\): saw the value 2.5")
    with pytest.raises(ValueError, match=pattern):
        loss(backend.float(fractional), backend.float(logits))
    with pytest.raises(TypeError, match=r"`targets` must hold integer ids"):  # the function itself stays strict
        backend.cl.sequence_loss(backend.float(logits), backend.float(targets), backend.float(WEIGHTS))


def test_sequence_loss_object_checks_float_ids_inside_tf_function(tf_backend):
    tf = tf_backend.fw
    logits, targets = _data(6)
    loss = tf.function(lambda y, p: tf_backend.cl.SequenceLoss()(y, p))
    want = _reference(logits, targets, np.ones((B, T)), False, False, True, True)
    np.testing.assert_allclose(loss(tf.constant(targets, tf.float32), tf.constant(logits)).numpy(), want, rtol=1e-5)
    fractional = targets.astype(np.float32)
    fractional[0, 3] = 0.25
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"must hold class ids .*saw the value 0.25"):
        loss(tf.constant(fractional), tf.constant(logits))


def test_sequence_loss_in_keras_fit_with_float_targets(tf_backend):
    import keras

    logits, targets = _data(7)
    model = _fixed_logits_model(logits)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=tf_backend.cl.SequenceLoss())
    history = model.fit(np.ones((B, T), np.float32), targets.astype(np.float32), batch_size=B, epochs=1,
                        shuffle=False, verbose=0)
    want = _reference(logits, targets, np.ones((B, T)), False, False, True, True)
    np.testing.assert_allclose(history.history["loss"][0], want, rtol=1e-5)


def test_a_model_compiled_with_sequence_loss_saves_and_loads(tf_backend, tmp_path):
    """Keras format keeps the compiled loss: ``load_model`` finds SequenceLoss (registered as
    ``course_lib>SequenceLoss``) with its flags, and evaluates to the same loss."""
    import keras

    cl = tf_backend.cl
    logits, targets = _data(8)
    model = _fixed_logits_model(logits)
    flags = dict(average_across_timesteps=True, average_across_batch=True, sum_over_timesteps=False,
                 sum_over_batch=False)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=cl.SequenceLoss(**flags))
    x, y = np.ones((B, T), np.float32), targets.astype(np.int32)
    model.fit(x, y, sample_weight=WEIGHTS, batch_size=B, shuffle=False, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras", custom_objects={"FixedLogits": type(model.layers[1])})
    assert isinstance(loaded.loss, cl.SequenceLoss)
    assert loaded.loss.get_config() == model.loss.get_config()
    want = _reference(logits, targets, WEIGHTS, **flags)
    np.testing.assert_allclose(loaded.evaluate(x, y, sample_weight=WEIGHTS, batch_size=B, verbose=0), want, rtol=1e-5)
