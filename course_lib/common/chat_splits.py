"""Splits of a Q&A corpus in which no prompt, and no close paraphrase of a prompt, is in two splits.

Framework-free (NumPy and the standard library). A corpus such as ChatbotData holds many prompts that
differ by a particle or a word ("보고 싶어" / "너무 보고 싶다", "I miss you" / "I really miss you").
Splitting by exact prompt sends such twins to different splits, and a test prompt whose twin was
trained on measures memory, not generalisation. Here prompts are compared by their **character
bigrams** (lower case, spaces and punctuation removed): two prompts whose bigram sets have a Jaccard
overlap of at least ``threshold`` are near-duplicates, near-duplicates are joined into groups (the
connected components, so a chain a~b~c is one group), and each group goes to one split.

* ``prompt_key(text)``: what two prompts are compared by.
* ``NgramIndex(texts)``: the most similar text of an index to a query, and the near-duplicates of each text.
* ``near_duplicate_groups(prompts, threshold)``: a group id per prompt.
* ``split_pairs_grouped(pairs, ...)``: ``GroupedSplits``: the splits, and how many pairs grouping moved.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Dict, List, NamedTuple, Sequence, Tuple

import numpy as np

from course_lib.common.chat_data import Pair, Splits, _unit_hash, split_pairs

_NOT_WORD = re.compile(r"[\W_]+")


def prompt_key(text: str) -> str:
    """``text`` as prompts are compared: NFKC, lower case, without spaces and punctuation."""
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str, got {type(text).__name__}")
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def char_ngrams(text: str, n: int = 2) -> frozenset:
    """The set of character ``n``-grams of ``prompt_key(text)`` (the whole key when it is shorter)."""
    key = prompt_key(text)
    if len(key) <= n:
        return frozenset([key]) if key else frozenset()
    return frozenset(key[i:i + n] for i in range(len(key) - n + 1))


class NgramIndex:
    """Texts indexed by their character n-grams, for Jaccard similarity with any query.

    Args:
      texts: the texts to index (their order gives the indices).
      n: the n of the character n-grams (2: bigrams, which suit Korean's dense syllables and English alike).
    """

    def __init__(self, texts: Sequence[str], n: int = 2):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"`n` must be a positive int, got {n!r}")
        self.n = n
        self.texts = list(texts)
        self.grams = [char_ngrams(t, n) for t in self.texts]
        postings: Dict[str, List[int]] = {}
        for i, grams in enumerate(self.grams):
            for g in grams:
                postings.setdefault(g, []).append(i)
        self._postings = {g: np.array(rows, np.int64) for g, rows in postings.items()}
        self._sizes = np.array([len(g) for g in self.grams], np.int64)  # (N,)

    def __len__(self) -> int:
        return len(self.texts)

    def similarities(self, query: str) -> Tuple[np.ndarray, np.ndarray]:
        """``(rows [K], jaccard [K])``: the indexed texts sharing an n-gram with ``query`` and their overlap."""
        grams = char_ngrams(query, self.n)
        lists = [self._postings[g] for g in grams if g in self._postings]
        if not lists:
            return np.zeros(0, np.int64), np.zeros(0)
        shared = np.bincount(np.concatenate(lists), minlength=len(self))  # (N,): n-grams in common
        rows = np.nonzero(shared)[0]
        jaccard = shared[rows] / (len(grams) + self._sizes[rows] - shared[rows])
        return rows, jaccard

    def most_similar(self, query: str) -> Tuple[int, float]:
        """``(row, jaccard)`` of the indexed text most similar to ``query`` (ties: the lowest row);
        ``(-1, 0.0)`` when it shares no n-gram with any."""
        rows, jaccard = self.similarities(query)
        if not len(rows):
            return -1, 0.0
        best = int(np.argmax(jaccard))  # the first maximum: the lowest row
        return int(rows[best]), float(jaccard[best])

    def near_duplicates(self, i: int, threshold: float) -> np.ndarray:
        """The rows (other than ``i``) whose Jaccard overlap with text ``i`` is at least ``threshold``."""
        rows, jaccard = self.similarities(self.texts[i])
        return rows[(jaccard >= threshold) & (rows != i)]


def _check_threshold(threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold <= 1.0:
        raise ValueError(f"`threshold` must be a number in (0, 1], got {threshold!r}")
    return float(threshold)


def near_duplicate_groups(prompts: Sequence[str], threshold: float = 0.5, n: int = 2) -> List[int]:
    """A group id per prompt: prompts whose character n-gram Jaccard overlap is >= ``threshold`` share
    one, and so do chains of them (connected components). Ids are the index of the group's first prompt.

    Args:
      prompts: ``[N]`` texts.
      threshold: the overlap from which two prompts count as near-duplicates (1.0: same ``prompt_key``).
      n: the character n-gram length.
    """
    threshold = _check_threshold(threshold)
    index = NgramIndex(prompts, n)
    parent = list(range(len(index)))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]  # path halving
            a = parent[a]
        return a

    for i in range(len(index)):
        for j in index.near_duplicates(i, threshold):
            a, b = root(i), root(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)  # the lower index stays the root
    return [root(i) for i in range(len(index))]


class GroupedSplits(NamedTuple):
    """``splits`` (train / valid / test pairs); ``groups``: the number of prompt groups; ``grouped_prompts``:
    distinct prompts in a group of two or more; ``moved``: pairs whose split differs from a split by exact
    prompt (``chat_data.split_pairs`` with the same seed)."""

    splits: Splits
    groups: int
    grouped_prompts: int
    moved: int


def split_pairs_grouped(pairs: Sequence[Pair], valid_fraction: float = 0.1, test_fraction: float = 0.1,
                        seed: int = 0, threshold: float = 0.5, n: int = 2) -> GroupedSplits:
    """Deterministic train / validation / test splits with no prompt and no near-duplicate prompt in two of them.

    The distinct prompts (compared case-insensitively) are grouped by ``near_duplicate_groups``; each group
    goes to the split that ``chat_data.split_pairs`` would give its alphabetically first prompt, so a prompt
    without near-duplicates keeps the split it has there. Pairs keep their order within a split.

    Args:
      pairs: ``(prompt, reply)`` pairs.
      valid_fraction, test_fraction: the expected shares of prompt groups.
      seed: another seed gives another split.
      threshold, n: as ``near_duplicate_groups``.
    """
    by_prompt = split_pairs(pairs, valid_fraction, test_fraction, seed)  # checks the arguments and the pairs
    prompts = sorted({str(p).lower() for p, _ in pairs})
    group_of = near_duplicate_groups(prompts, threshold, n)
    first = {}  # group -> its alphabetically first prompt (prompts are sorted: the first seen)
    for prompt, group in zip(prompts, group_of):
        first.setdefault(group, prompt)
    split_of = {}
    for prompt, group in zip(prompts, group_of):
        u = _unit_hash(first[group], seed)  # the rule of split_pairs, on the group's first prompt
        split_of[prompt] = 2 if u < test_fraction else 1 if u < test_fraction + valid_fraction else 0
    splits = Splits([], [], [])
    for prompt, reply in pairs:
        splits[split_of[str(prompt).lower()]].append((prompt, reply))
    before = {}
    for k, split in enumerate(by_prompt):
        for prompt, _ in split:
            before[str(prompt).lower()] = k
    moved = sum(before[str(p).lower()] != split_of[str(p).lower()] for p, _ in pairs)
    sizes = np.bincount(group_of, minlength=len(prompts))
    return GroupedSplits(splits, int(np.count_nonzero(sizes)), int(sizes[sizes > 1].sum()), int(moved))
