"""Conversation pairs for the chatbot chapter: loaders, deterministic splits, length-bucketed batches.

Framework-free (NumPy and the standard library). Three sources, none downloaded at run time:

* ``load_chatterbot_pairs(language)``: the YAML conversations of the ``chatterbot-corpus``
  package (BSD-3-Clause, installed from PyPI by ``requirements.txt``); every two consecutive
  lines of a conversation make a ``(prompt, reply)`` pair.
* ``load_chatbotdata_csv(path=None)``: the Korean Q&A corpus ``songys/Chatbot_data``
  (``ChatbotData.csv``, MIT, 11,823 rows), shipped in ``notebooks/data/ChatbotData/`` with its
  licence (``CHATBOTDATA_PATH``), or from another path.
* ``course_lib.common.en_fr``: English-French pairs written for this course.

``split_pairs`` makes train / validation / test splits that are the same on every machine and
share no prompt (``course_lib.common.chat_splits`` also keeps near-duplicate prompts together); ``bucket_batches`` groups examples of similar length so that a batch holds
little padding; ``make_batch`` pads one batch into the arrays a seq2seq model trains on.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import unicodedata
from pathlib import Path
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

Pair = Tuple[str, str]


class Splits(NamedTuple):
    """Three lists of ``(prompt, reply)`` pairs; no prompt is in two of them."""

    train: List[Pair]
    valid: List[Pair]
    test: List[Pair]


class Batch(NamedTuple):
    """One padded batch (NumPy int64), ``B`` rows.

    ``source [B, S]`` and ``source_length [B]``: the prompts' token ids;
    ``decoder_input [B, T]`` = ``<s> reply``, ``target [B, T]`` = ``reply </s>``, ``target_length [B]``.
    """

    source: np.ndarray
    source_length: np.ndarray
    decoder_input: np.ndarray
    target: np.ndarray
    target_length: np.ndarray


_SPACES = re.compile(r"\s+")


def normalize_text(text: str, lowercase: bool = False) -> str:
    """NFKC-normalised text on one line: runs of whitespace become one space, ends stripped."""
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str, got {type(text).__name__}")
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return text.lower() if lowercase else text


# -- chatterbot-corpus ------------------------------------------------------------------------

def chatterbot_data_dir() -> Path:
    """The ``data/`` folder of the installed ``chatterbot-corpus`` package."""
    try:
        from chatterbot_corpus.corpus import DATA_DIRECTORY
    except ImportError:
        raise ImportError("the chatbot chapter needs the `chatterbot-corpus` package: "
                          "pip install -r requirements.txt (or: pip install chatterbot-corpus==1.3.3)") from None
    return Path(DATA_DIRECTORY)


def chatterbot_languages(data_dir=None) -> List[str]:
    """The languages of the corpus (its folder names), sorted."""
    root = Path(data_dir) if data_dir is not None else chatterbot_data_dir()
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.yml")))


def load_chatterbot_conversations(language: str = "english", categories: Optional[Sequence[str]] = None,
                                  data_dir=None) -> List[List[str]]:
    """The conversations of one language: a list of lists of lines, files in sorted name order.

    Args:
      language: a folder of the corpus (``"english"``, ``"korean"``, ...; see ``chatterbot_languages``).
      categories: file stems to keep (``["greetings", "humor"]``); None keeps all.
      data_dir: the corpus' ``data/`` folder (default: the installed package's).
    """
    import yaml

    root = Path(data_dir) if data_dir is not None else chatterbot_data_dir()
    folder = root / str(language)
    if not folder.is_dir():
        raise ValueError(f"`language` must be one of {chatterbot_languages(root)}, got {language!r}")
    files = sorted(folder.glob("*.yml"))
    if categories is not None:
        wanted = set(categories)
        unknown = wanted - {f.stem for f in files}
        if unknown:
            raise ValueError(f"`categories` {sorted(unknown)} are not files of {language!r}: "
                             f"choose from {sorted(f.stem for f in files)}")
        files = [f for f in files if f.stem in wanted]
    conversations = []
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for conversation in data.get("conversations") or []:
            if isinstance(conversation, list):
                conversations.append([str(line) for line in conversation if line is not None])
    return conversations


def pairs_from_conversations(conversations: Iterable[Sequence[str]], lowercase: bool = False,
                             max_chars: Optional[int] = None) -> List[Pair]:
    """Consecutive lines as ``(prompt, reply)`` pairs, normalised; empty, too long (``max_chars``)
    and repeated pairs dropped (the first of the repeats kept, in order)."""
    seen, pairs = set(), []
    for conversation in conversations:
        lines = [normalize_text(line, lowercase) for line in conversation]
        for prompt, reply in zip(lines, lines[1:]):
            if not prompt or not reply:
                continue
            if max_chars is not None and max(len(prompt), len(reply)) > max_chars:
                continue
            if (prompt, reply) not in seen:
                seen.add((prompt, reply))
                pairs.append((prompt, reply))
    return pairs


def load_chatterbot_pairs(language: str = "english", categories: Optional[Sequence[str]] = None,
                          lowercase: bool = False, max_chars: Optional[int] = None, data_dir=None) -> List[Pair]:
    """``(prompt, reply)`` pairs of chatterbot-corpus: every two consecutive lines of a conversation.

    Args:
      language, categories, data_dir: as ``load_chatterbot_conversations``.
      lowercase, max_chars: as ``pairs_from_conversations``.

    Returns:
      a list of pairs of normalised strings, in corpus order, without repeats.
    """
    conversations = load_chatterbot_conversations(language, categories, data_dir)
    return pairs_from_conversations(conversations, lowercase=lowercase, max_chars=max_chars)


# -- songys/Chatbot_data -----------------------------------------------------------------------

#: where the Korean Q&A corpus comes from (MIT licence; Youngsook Song, 2018)
CHATBOTDATA_URL = "https://github.com/songys/Chatbot_data/raw/master/ChatbotData.csv"
#: the copy shipped with the course (with its LICENSE and README), in a checkout
CHATBOTDATA_PATH = Path(__file__).resolve().parents[2] / "notebooks" / "data" / "ChatbotData" / "ChatbotData.csv"


def load_chatbotdata_csv(path=None, lowercase: bool = False, max_chars: Optional[int] = None) -> List[Pair]:
    """``(question, answer)`` pairs of ``songys/Chatbot_data``'s ``ChatbotData.csv`` (columns Q, A, label).

    Args:
      path: the CSV file (default: the course's copy, ``CHATBOTDATA_PATH``).
      lowercase, max_chars: as ``pairs_from_conversations``.

    Raises:
      FileNotFoundError: naming the path and where to download the file.
      ValueError: when the header lacks the ``Q`` and ``A`` columns.
    """
    path = Path(os.fspath(CHATBOTDATA_PATH if path is None else path))
    if not path.is_file():
        raise FileNotFoundError(f"no file at {str(path)!r}: download ChatbotData.csv (MIT licence) from "
                                f"{CHATBOTDATA_URL} and pass its path")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        if "Q" not in columns or "A" not in columns:
            raise ValueError(f"{path.name} must have the columns Q and A (ChatbotData.csv: Q,A,label), "
                             f"got {columns}")
        rows = [[row["Q"] or "", row["A"] or ""] for row in reader]
    return pairs_from_conversations(rows, lowercase=lowercase, max_chars=max_chars)


# -- splits ------------------------------------------------------------------------------------

def _unit_hash(text: str, seed: int) -> float:
    """A number in [0, 1) fixed by ``text`` and ``seed`` (SHA-256: the same on every machine)."""
    digest = hashlib.sha256(f"{seed}\x00{text}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def split_pairs(pairs: Sequence[Pair], valid_fraction: float = 0.1, test_fraction: float = 0.1,
                seed: int = 0) -> Splits:
    """Deterministic train / validation / test splits that share no prompt.

    Each distinct prompt (compared case-insensitively) goes to one split, chosen by a hash of the
    prompt and ``seed``: the same on every machine and Python run, and a prompt keeps its split
    when pairs are added. All the replies of a prompt go with it, so the held-out prompts are
    prompts the model never trained on. Pairs keep their order within a split.

    Args:
      pairs: ``(prompt, reply)`` pairs.
      valid_fraction, test_fraction: the expected shares of distinct prompts (sizes vary a little).
      seed: another seed gives another split.
    """
    for name, value in (("valid_fraction", valid_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= float(value) < 1.0:
            raise ValueError(f"`{name}` must be in [0, 1), got {value!r}")
    if valid_fraction + test_fraction >= 1.0:
        raise ValueError(f"`valid_fraction` + `test_fraction` must be < 1, got {valid_fraction + test_fraction}")
    splits = Splits([], [], [])
    for pair in pairs:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(f"`pairs` must hold (prompt, reply) pairs, got {pair!r}"[:200])
        u = _unit_hash(str(pair[0]).lower(), seed)
        split = splits.test if u < test_fraction else splits.valid if u < test_fraction + valid_fraction \
            else splits.train
        split.append((pair[0], pair[1]))
    return splits


# -- batches -----------------------------------------------------------------------------------

def bucket_batches(lengths: Sequence[int], batch_size: int, bucketing: bool = True,
                   seed: Optional[int] = 0) -> List[np.ndarray]:
    """Batches of example indices for one epoch.

    With ``bucketing``, examples are sorted by length (ties in a random order) and cut into
    batches of neighbours, so each batch pads to a length close to its rows'; the batches are
    then shuffled. Without it, the examples are shuffled and cut (the usual random batches).

    Args:
      lengths: ``[N]`` a length per example (e.g. the longer of prompt and reply, in tokens).
      batch_size: rows per batch (the last batch may be smaller).
      bucketing: sort by length first.
      seed: shuffling seed (an int, so an epoch repeats; None for fresh randomness).

    Returns:
      a list of int64 index arrays that together hold every index once.
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ValueError(f"`lengths` must be 1-D [N], got shape {list(lengths.shape)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    if bucketing:
        order = order[np.argsort(lengths[order], kind="stable")]  # by length; ties stay shuffled
    batches = [order[i:i + batch_size].astype(np.int64) for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def padded_tokens(batches: Sequence[np.ndarray], lengths: Sequence[int]) -> Tuple[int, int]:
    """``(real tokens, padded slots)`` of a list of batches: how much work padding adds."""
    lengths = np.asarray(lengths)
    real = sum(int(lengths[b].sum()) for b in batches)
    slots = sum(int(lengths[b].max()) * len(b) for b in batches if len(b))
    return real, slots


def pad(sequences: Sequence[Sequence[int]], pad_id: int = 0, length: Optional[int] = None) -> np.ndarray:
    """``[B, L]`` int64: each sequence padded with ``pad_id`` to ``length`` (default: the longest)."""
    L = max((len(s) for s in sequences), default=0) if length is None else int(length)
    out = np.full((len(sequences), max(L, 1)), pad_id, dtype=np.int64)
    for row, seq in enumerate(sequences):
        out[row, :len(seq)] = np.asarray(seq[:L], dtype=np.int64)
    return out


def make_batch(prompts: Sequence[Sequence[int]], replies: Sequence[Sequence[int]], pad_id: int, bos_id: int,
               eos_id: int, reverse_source: bool = False) -> Batch:
    """Pad one batch of token-id sequences for teacher forcing.

    Args:
      prompts: ``B`` lists of source ids (at least one id each).
      replies: ``B`` lists of reply ids (without ``<s>`` and ``</s>``).
      pad_id, bos_id, eos_id: the tokenizer's special ids.
      reverse_source: feed each prompt backwards (the classic recipe of Sutskever et al., 2014).

    Returns:
      a ``Batch``: ``decoder_input`` = ``<s> reply``, ``target`` = ``reply </s>``.
    """
    if len(prompts) != len(replies):
        raise ValueError(f"`prompts` and `replies` must have the same length, got {len(prompts)} and {len(replies)}")
    if any(len(p) == 0 for p in prompts):
        raise ValueError("every prompt needs at least one token id (an empty prompt has nothing to attend to)")
    sources = [list(p)[::-1] if reverse_source else list(p) for p in prompts]
    decoder_inputs = [[bos_id] + list(r) for r in replies]
    targets = [list(r) + [eos_id] for r in replies]
    return Batch(
        source=pad(sources, pad_id),
        source_length=np.array([len(s) for s in sources], np.int64),
        decoder_input=pad(decoder_inputs, pad_id),
        target=pad(targets, pad_id),
        target_length=np.array([len(t) for t in targets], np.int64),
    )
