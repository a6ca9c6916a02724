"""Chapter 8's framework-free helpers: the tutorials' configurations, the weight conversions, the tasks."""

import numpy as np
import pytest

from course_lib.chapters import ch08_classic_tutorials as ch
from course_lib.common.contrib import layouts


@pytest.mark.parametrize("toy", [ch.PART_MINUS_1, ch.PART_0, ch.PART_1, ch.ATTENTION, ch.HELLO])
def test_toy_programs_start_at_sos_and_end_at_eos(toy):
    assert np.all(toy.x_data[:, 0] == toy.sos_token)
    if toy.y_data is not None:
        assert toy.y_data.shape == toy.x_data.shape and np.all(toy.y_data[:, -1] == toy.eos_token)
    assert toy.x_data.max() < toy.vocab_size
    table = toy.arange_embedding()
    assert table.shape == (toy.vocab_size, toy.embedding_dim) and table[1, 0] == toy.embedding_dim


def test_the_teacher_forced_inputs_are_the_targets_shifted():
    for toy in (ch.PART_0, ch.HELLO):  # x = [SOS, y[:-1]] in these two programs
        assert np.array_equal(toy.x_data[:, 1:], toy.y_data[:, :-1])
    note = ch.SEQ2SEQ_NOTE  # "<eos> + response" in, "response + <eos>" out, padded with 0
    for row, n in enumerate(note.extra["lengths"]):
        assert note.y_data[row, n - 1] == note.eos_token and np.all(note.y_data[row, n:] == 0)
        assert np.array_equal(note.x_data[row, 1:n], note.y_data[row, :n - 1])


def test_hand_loss_is_the_mean_negative_log_likelihood_and_checks_shapes():
    p = np.full((2, 3, 4), 0.25)
    assert abs(ch.hand_loss(p, np.zeros((2, 3), int)) - np.log(4)) < 1e-12
    with pytest.raises(ValueError, match="`probabilities` must be"):
        ch.hand_loss(p, np.zeros((3, 2), int))


def test_chars_stops_at_the_end_token():
    assert ch.chars([1, 2, 3, 3, 4, 5, 1]) == "hello"


def test_random_translation_data_is_geron_s():
    X, X_decoder, lengths, Y = ch.random_translation_data(50, seed=1)
    assert X.shape == (50, 10) and Y.shape == (50, 15) and X.max() < 100
    assert np.all(X_decoder[:, 0] == 0) and np.array_equal(X_decoder[:, 1:], Y[:, :-1]) and np.all(lengths == 15)
    assert np.array_equal(ch.random_translation_data(50, seed=1)[0], X)


def _tf1_cells(rng):
    return {"cell/cells/0/kernel": rng.standard_normal((8 + 6, 24)), "cell/cells/0/bias": rng.standard_normal(24),
            "cell/cells/1/kernel": rng.standard_normal((6 + 6, 24)), "cell/cells/1/bias": rng.standard_normal(24),
            "output_layer/kernel": rng.standard_normal((6, 5))}


def test_tf1_to_modern_and_back_is_the_identity():
    weights = _tf1_cells(np.random.default_rng(0))
    cells = {"cell/cells/0/": ("lstm", 8, 0.7), "cell/cells/1/": ("lstm", 6)}
    modern = ch.tf1_to_modern(weights, cells)
    assert modern["cell/cells/0/kernel"].shape == (8, 24) and modern["cell/cells/0/recurrent_kernel"].shape == (6, 24)
    expected = layouts.lstm_to_keras(weights["cell/cells/0/kernel"], weights["cell/cells/0/bias"], 8, forget_bias=0.7)
    np.testing.assert_allclose(modern["cell/cells/0/bias"], expected["bias"])
    back = ch.modern_to_tf1(modern, {"cell/cells/0/": ("lstm", 0.7), "cell/cells/1/": ("lstm",)})
    assert sorted(back) == sorted(weights)
    for key in weights:
        np.testing.assert_allclose(back[key], weights[key], atol=1e-6)


def test_rename_takes_exact_keys_and_prefixes():
    weights = {"cell/kernel": np.zeros((8 + 6, 6)), "cell/bias": np.zeros(6), "kernel": np.ones((6, 5)),
               "bias": np.ones(5)}
    modern = ch.tf1_to_modern(weights, {"cell/": ("rnn", 8)},
                              rename={"kernel": "projection/kernel", "bias": "projection/bias", "cell/": "inner/"})
    assert sorted(modern) == ["inner/bias", "inner/kernel", "inner/recurrent_kernel", "projection/bias",
                              "projection/kernel"]


def test_weight_conversions_name_what_is_wrong():
    weights = _tf1_cells(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"`cells\['cell/cells/0/'\]` must start with one of \['lstm', 'rnn'\]"):
        ch.tf1_to_modern(weights, {"cell/cells/0/": ("gru", 8)})
    with pytest.raises(ValueError, match=r"`weights` has no \['nope/kernel', 'nope/bias'\]"):
        ch.tf1_to_modern(weights, {"nope/": ("lstm", 8)})
    with pytest.raises(ValueError, match="input_depth"):
        ch.tf1_to_modern(weights, {"cell/cells/0/": ("lstm", 7)})


def test_translation_task_holds_out_every_tenth_pair_and_sorts_french_by_frequency():
    task = ch.translation_task(200)
    assert len(task.train) + len(task.test) == 200 and set(task.test) == set(range(0, 200, 10))
    assert task.target_vocab[:3] == ["<pad>", "<s>", "</s>"]
    counts = {}
    for ids in task.target_ids:
        for i in ids:
            counts[i] = counts.get(i, 0) + 1
    frequencies = [counts.get(i, 0) for i in range(3, len(task.target_vocab))]
    assert frequencies == sorted(frequencies, reverse=True)
    assert task.french(task.target_ids[5] + [2, 7]) == " ".join(ch.words(task.pairs[5][1]))


def test_chatbot_task_refuses_more_pairs_than_it_has():
    with pytest.raises(ValueError, match="`n_pairs` must be at most"):
        ch.chatbot_task(n_pairs=10 ** 6, max_tokens=2)
