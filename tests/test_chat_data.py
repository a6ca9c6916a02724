"""Chapter 7's data: corpus loaders, deterministic disjoint splits, length buckets, the subword
tokenizer (deterministic, round-trips, the same ids everywhere) and the English-French pairs.
Framework-free: nothing here imports TensorFlow or PyTorch."""

import csv
import hashlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from course_lib.common import chat_data as cd
from course_lib.common.en_fr import en_fr_pairs
from course_lib.common.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, SubwordTokenizer


@pytest.fixture(scope="module")
def english():
    return cd.load_chatterbot_pairs("english")


@pytest.fixture(scope="module")
def tokenizer(english):
    return SubwordTokenizer.train([t for pair in english for t in pair], vocab_size=600)


# -- loaders ------------------------------------------------------------------------------------

def test_chatterbot_pairs_are_consecutive_lines_without_repeats(english):
    conversations = cd.load_chatterbot_conversations("english")
    assert len(conversations) > 1500
    assert 1100 <= len(english) <= 1300  # about 2,400 consecutive-line pairs, half of them repeats
    assert len(set(english)) == len(english)
    assert all(p and r and p == cd.normalize_text(p) and r == cd.normalize_text(r) for p, r in english)
    first = conversations[[i for i, c in enumerate(conversations) if len(c) > 2][0]]
    assert (cd.normalize_text(first[1]), cd.normalize_text(first[2])) in english  # line 2 answers line 1 too
    korean = cd.load_chatterbot_pairs("korean")
    assert 600 <= len(korean) <= 700 and any("\uac00" <= ch <= "\ud7a3" for ch in korean[0][0])
    assert "english" in cd.chatterbot_languages() and "korean" in cd.chatterbot_languages()


def test_chatterbot_options_and_errors():
    greetings = cd.load_chatterbot_pairs("english", categories=["greetings"], lowercase=True, max_chars=30)
    assert greetings and all(p == p.lower() and max(len(p), len(r)) <= 30 for p, r in greetings)
    with pytest.raises(ValueError, match="`language` must be one of"):
        cd.load_chatterbot_pairs("klingon")
    with pytest.raises(ValueError, match="`categories`.*not files"):
        cd.load_chatterbot_pairs("english", categories=["nope"])


def test_normalize_text():
    assert cd.normalize_text("  Hello\t\n  World ") == "Hello World"
    assert cd.normalize_text("ＡＢＣ", lowercase=True) == "abc"  # NFKC folds full-width letters
    with pytest.raises(TypeError, match="`text` must be a str"):
        cd.normalize_text(None)


def write_chatbotdata(path, rows, header=("Q", "A", "label"), bom=True):
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_chatbotdata_csv_loader(tmp_path):
    rows = [("12시 땡!", "하루가 또 가네요.", 0), ("1지망 학교 떨어졌어", "위로해 드립니다.", 0),
            ('쉼표, "따옴표"도', "여러\n줄의 답", 1), ("", "빈 질문은 버린다", 0), ("12시 땡!", "하루가 또 가네요.", 0)]
    path = write_chatbotdata(tmp_path / "ChatbotData.csv", rows)
    pairs = cd.load_chatbotdata_csv(path)
    assert pairs == [("12시 땡!", "하루가 또 가네요."), ("1지망 학교 떨어졌어", "위로해 드립니다."),
                     ('쉼표, "따옴표"도', "여러 줄의 답")]
    assert cd.load_chatbotdata_csv(str(path), max_chars=10) == [pairs[0], pairs[2]]  # row 2's question has 11
    with pytest.raises(FileNotFoundError, match="Chatbot_data"):
        cd.load_chatbotdata_csv(tmp_path / "missing.csv")
    bad = write_chatbotdata(tmp_path / "bad.csv", [("a", "b")], header=("question", "answer"))
    with pytest.raises(ValueError, match="columns Q and A"):
        cd.load_chatbotdata_csv(bad)


# -- splits -------------------------------------------------------------------------------------

def test_splits_are_deterministic_disjoint_and_complete(english):
    splits = cd.split_pairs(english)
    assert splits == cd.split_pairs(english)
    assert sorted(splits.train + splits.valid + splits.test) == sorted(english)
    prompts = [{p.lower() for p, _ in part} for part in splits]
    assert not (prompts[0] & prompts[1]) and not (prompts[0] & prompts[2]) and not (prompts[1] & prompts[2])
    n = len(english)
    assert 0.7 * n < len(splits.train) < 0.9 * n and 0.05 * n < len(splits.test) < 0.15 * n
    # the order of the input does not matter, another seed gives another split
    shuffled = cd.split_pairs(list(reversed(english)))
    assert sorted(shuffled.test) == sorted(splits.test)
    assert sorted(cd.split_pairs(english, seed=1).test) != sorted(splits.test)


def test_splits_do_not_depend_on_the_python_process():
    code = ("import hashlib; from course_lib.common import chat_data as cd; "
            "s = cd.split_pairs(cd.load_chatterbot_pairs('english')); "
            "print(hashlib.sha256(repr(s).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout.strip() for seed in ("1", "2")}
    assert len(digests) == 1


def test_split_errors():
    with pytest.raises(ValueError, match="`test_fraction`"):
        cd.split_pairs([("a", "b")], test_fraction=1.5)
    with pytest.raises(ValueError, match="< 1"):
        cd.split_pairs([("a", "b")], valid_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="pairs"):
        cd.split_pairs(["not a pair"])


# -- batches ------------------------------------------------------------------------------------

@pytest.mark.parametrize("bucketing", [True, False])
def test_bucket_batches_cover_every_example_once(bucketing):
    lengths = np.random.default_rng(0).integers(1, 40, size=101)
    batches = cd.bucket_batches(lengths, 16, bucketing=bucketing, seed=3)
    assert sorted(np.concatenate(batches).tolist()) == list(range(101))
    assert sorted(len(b) for b in batches) == [5] + [16] * 6
    again = cd.bucket_batches(lengths, 16, bucketing=bucketing, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))


def test_bucketing_cuts_padding():
    lengths = np.random.default_rng(1).integers(1, 60, size=1000)
    real, bucketed = cd.padded_tokens(cd.bucket_batches(lengths, 32, bucketing=True), lengths)
    _, shuffled = cd.padded_tokens(cd.bucket_batches(lengths, 32, bucketing=False), lengths)
    assert real == lengths.sum()
    assert bucketed < 1.1 * real < shuffled  # sorted neighbours: almost no padding
    with pytest.raises(ValueError, match="`batch_size`"):
        cd.bucket_batches(lengths, 0)
    with pytest.raises(ValueError, match="`lengths` must be 1-D"):
        cd.bucket_batches(np.zeros((2, 2)), 4)


def test_make_batch_shifts_the_reply_by_one():
    batch = cd.make_batch([[5, 6, 7], [8]], [[10, 11], [12, 13, 14]], PAD_ID, BOS_ID, EOS_ID)
    np.testing.assert_array_equal(batch.source, [[5, 6, 7], [8, 0, 0]])
    np.testing.assert_array_equal(batch.source_length, [3, 1])
    np.testing.assert_array_equal(batch.decoder_input, [[BOS_ID, 10, 11, 0], [BOS_ID, 12, 13, 14]])
    np.testing.assert_array_equal(batch.target, [[10, 11, EOS_ID, 0], [12, 13, 14, EOS_ID]])
    np.testing.assert_array_equal(batch.target_length, [3, 4])
    reversed_batch = cd.make_batch([[5, 6, 7], [8]], [[10], [12]], PAD_ID, BOS_ID, EOS_ID, reverse_source=True)
    np.testing.assert_array_equal(reversed_batch.source, [[7, 6, 5], [8, 0, 0]])
    with pytest.raises(ValueError, match="at least one token"):
        cd.make_batch([[]], [[1]], PAD_ID, BOS_ID, EOS_ID)


# -- tokenizer ----------------------------------------------------------------------------------

def test_tokenizer_training_is_deterministic(english, tokenizer):
    texts = [t for pair in english for t in pair]
    again = SubwordTokenizer.train(list(reversed(texts)), vocab_size=600)
    assert again.serialized == tokenizer.serialized
    assert tokenizer.vocab_size == 600
    assert [tokenizer.id_to_token(i) for i in range(4)] == ["<pad>", "<unk>", "<s>", "</s>"]
    assert (PAD_ID, UNK_ID, BOS_ID, EOS_ID) == (0, 1, 2, 3)
    assert hashlib.sha256(tokenizer.serialized).hexdigest() == hashlib.sha256(again.serialized).hexdigest()


def test_tokenizer_round_trips_known_text(tokenizer, english):
    for prompt, reply in english[:200]:
        for text in (prompt, reply):
            if not tokenizer.unknown_characters(text):
                assert tokenizer.decode(tokenizer.encode(text)) == tokenizer.normalize(text)
    ids = tokenizer.encode("Hello, how are you?")
    assert tokenizer.decode(ids) == "hello, how are you?"  # the model folds case
    assert tokenizer.decode([BOS_ID] + ids + [EOS_ID, 99, 100]) == "hello, how are you?"  # stops at </s>
    assert tokenizer.decode([PAD_ID] + ids + [PAD_ID]) == "hello, how are you?"
    assert "".join(tokenizer.pieces("how are you")).replace("\u2581", " ").strip() == "how are you"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tokenizer.decode([tokenizer.vocab_size])
    with pytest.raises(TypeError, match="`text` must be a str"):
        tokenizer.encode(None)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789.,?!' "), min_size=1, max_size=60))
def test_tokenizer_round_trip_property(tokenizer, chars):
    text = "".join(chars)
    normalized = tokenizer.normalize(text)
    assert tokenizer.decode(tokenizer.encode(text)) == normalized
    assert normalized == " ".join(text.split())  # lower-case ASCII: only the spaces change


def test_tokenizer_unknown_characters(tokenizer):
    assert tokenizer.unknown_characters("hello") == set()
    assert tokenizer.unknown_characters("hello \U0001F600 \u2603") == {"\U0001F600", "\u2603"}
    assert UNK_ID in tokenizer.encode("\u2603")


def test_tokenizer_file_round_trip(tokenizer, tmp_path):
    path = tokenizer.save(tmp_path / "sub" / "tokenizer.model")
    loaded = SubwordTokenizer.load(path)
    assert loaded.serialized == tokenizer.serialized
    assert loaded.encode("what is ai?") == tokenizer.encode("what is ai?")
    assert [p.name for p in path.parent.iterdir()] == ["tokenizer.model"]  # no temporary file left
    (tmp_path / "garbage.model").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a valid tokenizer file"):
        SubwordTokenizer.load(tmp_path / "garbage.model")
    with pytest.raises(FileNotFoundError):
        SubwordTokenizer.load(tmp_path / "missing.model")
    with pytest.raises(ValueError, match="`vocab_size`"):
        SubwordTokenizer.train(["a b"], vocab_size=2)
    with pytest.raises(ValueError, match="at least one"):
        SubwordTokenizer.train(["", "  "])


def test_same_ids_in_a_fresh_process(tokenizer, tmp_path):
    """The ids do not depend on the process (or on which framework it later imports)."""
    path = tokenizer.save(tmp_path / "t.model")
    code = ("from course_lib.common.tokenizer import SubwordTokenizer as T; "
            f"print(T.load({str(path)!r}).encode('Tell me a joke, please!'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(tokenizer.encode("Tell me a joke, please!"))


# -- English-French pairs -----------------------------------------------------------------------

def test_en_fr_pairs():
    pairs = en_fr_pairs()
    assert len(pairs) == 500 and pairs == en_fr_pairs() and pairs == sorted(pairs)
    assert len({en for en, _ in pairs}) == 500
    assert ("i see the red car.", "je vois la voiture rouge.") in en_fr_pairs(20000)
    assert ("she does not find a black cat.", "elle ne trouve pas de chat noir.") in en_fr_pairs(20000)
    assert ("do they like the dog?", "est-ce qu'ils aiment le chien ?") in en_fr_pairs(20000)
    assert all(en == en.lower() and fr == fr.lower() and en[-1] in ".?" for en, fr in pairs)
