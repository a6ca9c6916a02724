"""How good are a chatbot's replies? Metrics against reference replies and the baselines to read them by.

Framework-free (NumPy; ``sacrebleu`` for chrF and BLEU, imported when they are computed).

* ``chrf`` / ``bleu``: corpus chrF and BLEU of replies against one reference each (sacrebleu; BLEU on
  characters, since Korean words carry their particles and word-level BLEU is nearly always 0).
* ``distinct_n``: distinct n-grams / all n-grams of the replies (words split at spaces; Li et al., 2016).
* ``top_reply_share``: the single most frequent reply and the share of prompts that get it (the
  generic-reply failure: "I see." to everything).
* ``commonest_reply``, ``retrieval_replies``: the two baselines, always the commonest training reply,
  and the reply of the most similar training prompt (character bigrams, as ``chat_splits`` compares).
* ``unigram_perplexity``: per-token perplexity of replies under the training replies' token frequencies.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import List, Sequence, Tuple

import numpy as np

from course_lib.common.chat_splits import NgramIndex

#: sacrebleu's BLEU tokenizer used here
BLEU_TOKENIZE = "char"


def _texts(name: str, values) -> List[str]:
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise TypeError(f"`{name}` must be a list of strings")
    return list(values)


def _paired(hypotheses, references) -> Tuple[List[str], List[str]]:
    hypotheses, references = _texts("hypotheses", hypotheses), _texts("references", references)
    if len(hypotheses) != len(references):
        raise ValueError(f"`hypotheses` and `references` must have the same length, got {len(hypotheses)} "
                         f"and {len(references)}")
    if not hypotheses:
        raise ValueError("`hypotheses` must not be empty")
    return hypotheses, references


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (sacrebleu's ``CHRF()``: character 6-grams, beta 2), 0-100, one reference per reply."""
    from sacrebleu.metrics import CHRF

    hypotheses, references = _paired(hypotheses, references)
    return float(CHRF().corpus_score(hypotheses, [references]).score)


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (sacrebleu, ``tokenize="char"``), 0-100, one reference per reply."""
    from sacrebleu.metrics import BLEU

    hypotheses, references = _paired(hypotheses, references)
    return float(BLEU(tokenize=BLEU_TOKENIZE).corpus_score(hypotheses, [references]).score)


def signatures() -> dict:
    """sacrebleu's signatures of the two metrics as computed here (what a paper would report)."""
    from sacrebleu.metrics import BLEU, CHRF

    out = {}
    for name, metric in (("chrF", CHRF()), ("BLEU", BLEU(tokenize=BLEU_TOKENIZE))):
        metric.corpus_score(["a"], [["a"]])  # a signature names the reference count: score once
        out[name] = str(metric.get_signature())
    return out


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct ``n``-grams / all ``n``-grams over ``texts`` (words split at spaces); 0.0 when there are none."""
    texts = _texts("texts", texts)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` must be a positive int, got {n!r}")
    grams = [tuple(words[i:i + n]) for words in (t.split() for t in texts) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def top_reply_share(replies: Sequence[str]) -> Tuple[str, float]:
    """``(reply, share)``: the most frequent reply (ties: the first in sorted order) and the share of prompts
    that get it."""
    replies = _texts("replies", replies)
    if not replies:
        raise ValueError("`replies` must not be empty")
    counts = Counter(replies)
    top = max(sorted(counts), key=counts.__getitem__)  # sorted first: ties go to the alphabetically first
    return top, counts[top] / len(replies)


def commonest_reply(train_pairs: Sequence[Tuple[str, str]]) -> str:
    """The most frequent reply of the training pairs (ties: the alphabetically first)."""
    return top_reply_share([r for _, r in train_pairs])[0]


def retrieval_replies(train_pairs: Sequence[Tuple[str, str]], prompts: Sequence[str]) -> List[str]:
    """For each prompt, the reply of the most similar training prompt (character-bigram Jaccard; ties: the
    first such pair); the commonest reply for a prompt that shares no bigram with any."""
    prompts = _texts("prompts", prompts)
    index = NgramIndex([p for p, _ in train_pairs])
    fallback = commonest_reply(train_pairs)
    out = []
    for prompt in prompts:
        row, _ = index.most_similar(prompt)
        out.append(train_pairs[row][1] if row >= 0 else fallback)
    return out


def unigram_perplexity(train_replies: Sequence[Sequence[int]], replies: Sequence[Sequence[int]], vocab_size: int,
                       eos_id: int = 3) -> float:
    """Per-token perplexity of ``replies`` (token ids, each followed by ``eos_id``) under add-one smoothed
    token frequencies of ``train_replies``: the model that ignores the prompt."""
    counts = np.bincount([t for r in train_replies for t in list(r) + [eos_id]], minlength=vocab_size) + 1.0
    log_p = np.log(counts / counts.sum())
    tokens = [t for r in replies for t in list(r) + [eos_id]]
    if not tokens:
        raise ValueError("`replies` must hold at least one reply")
    return float(math.exp(-np.mean(log_p[tokens])))
