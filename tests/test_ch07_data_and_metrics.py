"""Chapter 7's data and figures: ChatbotData ships and loads, the grouped split leaks no prompt and no close
paraphrase across splits, and the reply metrics (sacrebleu's chrF and BLEU, distinct-n, the share of the most
frequent reply, the retrieval and commonest-reply baselines, unigram perplexity) on small hand cases."""

from __future__ import annotations

import math

import pytest

from course_lib.common import chat_data, chat_splits, reply_metrics as rm
from course_lib.common.checkpoint import sha256_of


@pytest.fixture(scope="module")
def chatbotdata():
    return chat_data.load_chatbotdata_csv()


@pytest.fixture(scope="module")
def grouped(chatbotdata):
    return chat_splits.split_pairs_grouped(chatbotdata, 0.1, 0.1, seed=0, threshold=0.5)


def test_chatbotdata_ships_with_its_licence(chatbotdata):
    folder = chat_data.CHATBOTDATA_PATH.parent
    assert "MIT License" in (folder / "LICENSE").read_text(encoding="utf-8")
    assert "Youngsook Song" in (folder / "README.md").read_text(encoding="utf-8")
    attribution = (folder.parent / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "Youngsook Song.(2018). Chatbot_data_for_Korean v1.0" in attribution
    assert sha256_of(chat_data.CHATBOTDATA_PATH) in attribution
    assert len(chatbotdata) > 11_000 and all(p and r for p, r in chatbotdata)


def test_prompt_key_and_bigrams():
    assert chat_splits.prompt_key(" Hello,  World! ") == "helloworld"
    assert chat_splits.prompt_key("너무 보고 싶어.") == "너무보고싶어"
    assert chat_splits.char_ngrams("보고 싶어") == {"보고", "고싶", "싶어"}
    assert chat_splits.char_ngrams("a") == {"a"} and chat_splits.char_ngrams("?!") == frozenset()
    with pytest.raises(TypeError, match="`text` must be a str"):
        chat_splits.prompt_key(3)


def test_near_duplicate_groups_join_chains_and_only_them():
    prompts = ["보고 싶어", "너무 보고 싶어", "너무 보고 싶다", "배고파", "I miss you", "I miss you so much", "hi"]
    groups = chat_splits.near_duplicate_groups(prompts, threshold=0.5)
    assert groups[0] == groups[1] == groups[2] == 0  # a chain: 0~1 and 1~2
    assert len({groups[3], groups[4], groups[6], groups[0]}) == 4 and groups[4] == groups[5] == 4
    with pytest.raises(ValueError, match="`threshold` must be a number in \\(0, 1\\]"):
        chat_splits.near_duplicate_groups(prompts, threshold=0)


def test_ngram_index_most_similar():
    index = chat_splits.NgramIndex(["how are you", "what time is it", "how old are you"])
    assert index.most_similar("how are you?")[0] == 0
    row, score = index.most_similar("what time is it now")
    assert row == 1 and 0.5 < score < 1
    assert index.most_similar("zzz") == (-1, 0.0)


def test_grouped_split_is_deterministic_complete_and_moves_what_it_says(chatbotdata, grouped):
    again = chat_splits.split_pairs_grouped(chatbotdata, 0.1, 0.1, seed=0, threshold=0.5)
    assert again == grouped
    splits = grouped.splits
    assert sorted(p for s in splits for p in s) == sorted(chatbotdata)
    by_prompt = chat_data.split_pairs(chatbotdata, 0.1, 0.1, seed=0)
    where = lambda ss: {p.lower(): k for k, s in enumerate(ss) for p, _ in s}  # noqa: E731
    before, after = where(by_prompt), where(splits)
    assert grouped.moved == sum(before[p.lower()] != after[p.lower()] for p, _ in chatbotdata) > 0
    for k, share in ((1, 0.1), (2, 0.1)):
        assert abs(len(splits[k]) / len(chatbotdata) - share) < 0.03


def test_no_prompt_or_close_paraphrase_is_in_two_splits(grouped):
    """The no-leak property: every held-out prompt's nearest training prompt is below the threshold."""
    train, valid, test = grouped.splits
    index = chat_splits.NgramIndex([p for p, _ in train])
    train_prompts = {p.lower() for p, _ in train}
    for held_out in (valid, test):
        assert not ({p.lower() for p, _ in held_out} & train_prompts)
        assert max(index.most_similar(p)[1] for p, _ in held_out) < 0.5
    valid_index = chat_splits.NgramIndex([p for p, _ in valid])
    assert max(valid_index.most_similar(p)[1] for p, _ in test) < 0.5
    # the split by exact prompt leaks: some test prompts have a close paraphrase in its training split
    by_prompt = chat_data.split_pairs([pair for s in grouped.splits for pair in s], 0.1, 0.1, seed=0)
    leaky = chat_splits.NgramIndex([p for p, _ in by_prompt.train])
    assert sum(leaky.most_similar(p)[1] >= 0.5 for p, _ in by_prompt.test) > 50


# -- metrics on hand cases ----------------------------------------------------------------------

def test_chrf_and_bleu_by_sacrebleu():
    refs = ["하루가 또 가네요.", "여행은 언제나 좋죠."]
    assert rm.chrf(refs, refs) == pytest.approx(100.0)
    assert rm.bleu(refs, refs) == pytest.approx(100.0)
    assert rm.chrf(["xyz", "qqq"], refs) == 0.0
    half = rm.chrf(["하루가 또 가네요.", "qqq"], refs)
    assert 0 < half < 100
    from sacrebleu.metrics import CHRF

    assert half == pytest.approx(CHRF().corpus_score(["하루가 또 가네요.", "qqq"], [refs]).score)
    assert "tok:char" in rm.signatures()["BLEU"] and rm.signatures()["chrF"].startswith("nrefs:1")
    with pytest.raises(ValueError, match="same length"):
        rm.chrf(["a"], refs)
    with pytest.raises(TypeError, match="list of strings"):
        rm.bleu("a", "b")


def test_distinct_n():
    texts = ["a b a", "a b"]
    assert rm.distinct_n(texts, 1) == pytest.approx(2 / 5)  # a b a a b
    assert rm.distinct_n(texts, 2) == pytest.approx(2 / 3)  # (a b) (b a) (a b)
    assert rm.distinct_n(["x"], 2) == 0.0
    with pytest.raises(ValueError, match="`n` must be a positive int"):
        rm.distinct_n(texts, 0)


def test_top_reply_share_and_commonest_reply():
    assert rm.top_reply_share(["x", "y", "x", "z"]) == ("x", 0.5)
    assert rm.top_reply_share(["b", "a"]) == ("a", 0.5)  # a tie: the alphabetically first
    assert rm.commonest_reply([("p", "ok"), ("q", "no"), ("r", "ok")]) == "ok"
    with pytest.raises(ValueError, match="must not be empty"):
        rm.top_reply_share([])


def test_retrieval_replies_take_the_most_similar_training_prompt():
    train = [("i miss you", "me too"), ("what time is it", "noon"), ("hello", "hi"), ("hello there", "hi")]
    got = rm.retrieval_replies(train, ["i really miss you", "what time is it now?", "zzz"])
    assert got == ["me too", "noon", "hi"]  # "zzz" shares no bigram: the commonest reply


def test_unigram_perplexity():
    # every id of a vocabulary of 6 once (ids 0..5, </s> = 3 counted per reply): add-one keeps it uniform-ish
    train = [[0, 1, 2, 4, 5]]  # + </s>: each of the 6 ids once -> counts 2 each with add-one
    assert rm.unigram_perplexity(train, [[4], [5, 0]], vocab_size=6) == pytest.approx(6.0)
    skewed = rm.unigram_perplexity([[4, 4, 4, 4]], [[4]], vocab_size=6)
    p4, p3 = 5 / 11, 2 / 11  # counts 4+1, 1+1 (</s>) and 1 for the 4 other ids: 11
    assert skewed == pytest.approx(math.exp(-(math.log(p4) + math.log(p3)) / 2))


def test_glosses_file_and_lookup(tmp_path):
    from course_lib.chapters.ch07_chatbot.glosses import Glossary, load_glosses

    shipped = load_glosses()
    assert shipped["배고파"] == "I'm hungry." and all(v.strip() for v in shipped.values())
    glossary = Glossary({"배고파": "I'm hungry."})
    assert glossary(" 배고파 ") == "I'm hungry." and glossary.show("배고파") == "배고파  ‹I'm hungry.›"
    assert glossary("") == "(nothing)" and glossary.missing(["배고파", "졸려", "졸려"]) == ["졸려"]
    with pytest.raises(KeyError, match="no English gloss for '졸려'.*glosses.tsv"):
        glossary("졸려")
    bad = tmp_path / "g.tsv"
    bad.write_text("# comment\n배고파\tI'm hungry.\n졸려 sleepy\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3: expected `Korean<TAB>English`"):
        load_glosses(bad)
    bad.write_text("배고파\tI'm hungry.\n배고파\tHungry!\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: '배고파' has a gloss already"):
        load_glosses(bad)


def test_judgments_file_and_lookup(tmp_path):
    from course_lib.chapters.ch07_chatbot.glosses import VERDICTS, judge, load_judgments

    shipped = load_judgments()
    assert len(shipped) == 40 and set(shipped.values()) <= set(VERDICTS)  # 20 prompts, greedy and beam
    assert {method for _, method, _ in shipped} == {"greedy", "beam"}
    path = tmp_path / "j.tsv"
    path.write_text("# comment\n콧물 나네\tbeam\t감기 조심하세요.\ton topic\n", encoding="utf-8")
    judgments = load_judgments(path)
    assert judge(judgments, " 콧물 나네", "beam", "감기 조심하세요. ") == "on topic"
    with pytest.raises(KeyError, match="nobody has judged the greedy reply '감기 조심하세요.' to '콧물 나네'"):
        judge(judgments, "콧물 나네", "greedy", "감기 조심하세요.")
    for text, error in (("a\tbeam\tb\n", "expected `prompt<TAB>method<TAB>reply<TAB>verdict`"),
                        ("a\tbeam\tb\tgood\n", "the verdict must be one of"),
                        ("a\tbeam\tb\tgarbled\na\tbeam\tb\ton topic\n", "line 2: this reply is judged already")):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=error):
            load_judgments(path)
