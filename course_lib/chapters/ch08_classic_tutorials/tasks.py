"""The chapter's two real-data tasks: English-French translation (Géron) and ChatbotData (the Keras chatbot).

Framework-free: pairs in, NumPy ids out, the same in both notebooks.

* ``translation_task(size)``: the course's English-French pairs (``course_lib.common.en_fr``) as
  word ids, the French vocabulary sorted by frequency (what a log-uniform sampled softmax assumes),
  with every tenth pair held out.
* ``chatbot_task(n_pairs)``: ChatbotData (``course_lib.common.chat_data``, the course's copy) with
  a sentencepiece model of the tutorial's vocabulary size in place of its Korean morphological
  analyser (``konlpy``'s Okt, which needs Java), and a subset of short pairs small enough to
  train on a CPU in seconds.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from course_lib.common.chat_data import load_chatbotdata_csv
from course_lib.common.en_fr import en_fr_pairs
from course_lib.common.tokenizer import SubwordTokenizer

#: the special tokens of the translation vocabularies (ids 0, 1, 2)
PAD, START, END = "<pad>", "<s>", "</s>"
_WORD = re.compile(r"[\w'-]+|[.?!,]")


def words(text: str) -> list[str]:
    """``"où est la gare ?"`` -> ``["où", "est", "la", "gare", "?"]``: words (apostrophes kept) and punctuation."""
    return _WORD.findall(text)


def _vocabulary(texts: Sequence[str], by_frequency: bool) -> list[str]:
    counts = collections.Counter(w for t in texts for w in words(t))
    order = sorted(counts, key=(lambda w: (-counts[w], w)) if by_frequency else None)
    return [PAD, START, END] + order


class TranslationTask(NamedTuple):
    """English-French pairs as ids: ``source_ids[i]`` (English words), ``target_ids[i]`` (French, no
    ``<s>``/``</s>``); ``train`` and ``test`` index the pairs; the French vocabulary is sorted by frequency."""

    pairs: list[tuple[str, str]]
    source_vocab: list[str]
    target_vocab: list[str]
    source_ids: list[list[int]]
    target_ids: list[list[int]]
    train: np.ndarray
    test: np.ndarray

    def french(self, ids) -> str:
        """Target ids -> text, up to the first ``</s>`` (``<pad>`` dropped)."""
        out = []
        for i in np.asarray(ids).reshape(-1):
            if int(i) == 2:
                break
            if int(i) != 0:
                out.append(self.target_vocab[int(i)])
        return " ".join(out)


def translation_task(size: int = 1500, test_every: int = 10) -> TranslationTask:
    """``size`` English-French pairs as word ids; pair ``i`` is held out when ``i % test_every == 0``."""
    pairs = en_fr_pairs(size)
    source_vocab = _vocabulary([en for en, _ in pairs], by_frequency=False)
    target_vocab = _vocabulary([fr for _, fr in pairs], by_frequency=True)
    en_id = {w: i for i, w in enumerate(source_vocab)}
    fr_id = {w: i for i, w in enumerate(target_vocab)}
    held_out = np.arange(len(pairs)) % test_every == 0
    return TranslationTask(
        pairs=pairs, source_vocab=source_vocab, target_vocab=target_vocab,
        source_ids=[[en_id[w] for w in words(en)] for en, _ in pairs],
        target_ids=[[fr_id[w] for w in words(fr)] for _, fr in pairs],
        train=np.flatnonzero(~held_out), test=np.flatnonzero(held_out))


class ChatTask(NamedTuple):
    """ChatbotData pairs for the Keras chatbot: the tokenizer (trained on every pair), the chosen
    short pairs, their ids and how many pairs the corpus has."""

    tokenizer: SubwordTokenizer
    pairs: list[tuple[str, str]]
    prompt_ids: list[list[int]]
    reply_ids: list[list[int]]
    corpus_size: int


def chatbot_task(n_pairs: int = 128, max_tokens: int = 8, vocab_size: int = 2000) -> ChatTask:
    """``n_pairs`` ChatbotData pairs whose prompt and reply have at most ``max_tokens`` subwords each,
    spread evenly over the corpus (which is sorted by prompt), with a ``vocab_size`` BPE tokenizer."""
    corpus = load_chatbotdata_csv()
    tokenizer = SubwordTokenizer.train([text for pair in corpus for text in pair], vocab_size=vocab_size)
    prompts = tokenizer.encode_batch([q for q, _ in corpus])
    replies = tokenizer.encode_batch([a for _, a in corpus])
    short = [i for i in range(len(corpus)) if 0 < len(prompts[i]) <= max_tokens and 0 < len(replies[i]) <= max_tokens]
    if len(short) < n_pairs:
        raise ValueError(f"`n_pairs` must be at most {len(short)} (the pairs of at most {max_tokens} tokens), "
                         f"got {n_pairs}")
    chosen = [short[k] for k in np.linspace(0, len(short) - 1, n_pairs).round().astype(int)]
    return ChatTask(tokenizer=tokenizer, pairs=[corpus[i] for i in chosen], prompt_ids=[prompts[i] for i in chosen],
                    reply_ids=[replies[i] for i in chosen], corpus_size=len(corpus))
