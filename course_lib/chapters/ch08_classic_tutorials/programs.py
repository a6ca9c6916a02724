"""The classic tutorials' configurations: vocabularies, tokens, sizes and toy data, as each had them.

One ``Toy`` per program, named after the tutorial's part, so that the chapter's notebooks and its
tests (``tests/test_classic_programs.py``) use the same numbers. The seeds are in
``../shared/seeds/`` beside a developer's checkout; a value a tutorial did not state is marked
"(ours)" in its ``note``.

NumPy only. ``hand_loss`` is the tutorials' check of ``sequence_loss`` written out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Toy:
    """One tutorial program's configuration.

    ``x_data [B, T]`` are the decoder's (or RNN's) input ids, ``y_data [B, T]`` its targets;
    ``extra`` holds what only that program has (attention sizes, a character table, ...).
    """

    name: str
    vocab_size: int
    sos_token: int
    eos_token: int
    x_data: np.ndarray
    y_data: np.ndarray | None
    hidden_dim: int
    embedding_dim: int
    note: str = ""
    extra: Mapping = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return int(self.x_data.shape[0])

    @property
    def seq_length(self) -> int:
        return int(self.x_data.shape[1])

    def arange_embedding(self) -> np.ndarray:
        """The tutorials' readable embedding ``np.arange(V * E).reshape(V, E)``, float32 ``[V, E]``."""
        return np.arange(self.vocab_size * self.embedding_dim, dtype=np.float32).reshape(self.vocab_size, -1)

    def __repr__(self) -> str:
        return (f"Toy({self.name!r}: vocab {self.vocab_size}, SOS {self.sos_token}, EOS {self.eos_token}, "
                f"batch {self.batch_size} x {self.seq_length} steps, hidden {self.hidden_dim}, "
                f"embedding {self.embedding_dim})")


def _ids(rows) -> np.ndarray:
    return np.array(rows, dtype=np.int32)


#: hccho2, part -1 "Tensorflow RNN Basic of Basic": 3 words + SOS + EOS, BasicRNNCell + OutputProjectionWrapper
PART_MINUS_1 = Toy(
    "hccho2 part -1", vocab_size=5, sos_token=0, eos_token=4,
    x_data=_ids([[0, 3, 1, 2, 3, 2], [0, 3, 1, 2, 3, 1], [0, 1, 3, 2, 2, 1]]),
    y_data=_ids([[1, 2, 0, 3, 2, 4], [3, 2, 3, 3, 1, 4], [3, 1, 1, 2, 0, 4]]),
    hidden_dim=6, embedding_dim=8, note="embedding np.arange(40).reshape(5, 8); no training")

#: hccho2, part 0 "RNN-TF-dynamic-decode.py": a 2-layer BasicLSTMCell decoder, 100 Adam steps at 0.01
PART_0 = Toy(
    "hccho2 part 0", vocab_size=5, sos_token=0, eos_token=4,
    x_data=_ids([[0, 2, 1, 2, 3, 2], [0, 3, 1, 2, 3, 1], [0, 1, 3, 2, 2, 1]]),
    y_data=_ids([[2, 1, 2, 3, 2, 4], [3, 1, 2, 3, 1, 4], [1, 3, 2, 2, 1, 4]]),
    hidden_dim=6, embedding_dim=8, note="Glorot (xavier) embedding",
    extra={"num_layers": 2, "steps": 100, "learning_rate": 0.01, "maximum_iterations": 10})

#: hccho2, part 1 "RNNWrapper": the cell whose state adds 0.1, on a 2-wide arange embedding
PART_1 = Toy(
    "hccho2 part 1", vocab_size=5, sos_token=0, eos_token=4,
    x_data=_ids([[0, 3, 3, 2, 3, 2], [0, 3, 1, 2, 3, 1], [0, 1, 3, 2, 2, 1]]), y_data=None,
    hidden_dim=4, embedding_dim=2, note="hidden 4: MyBasicRNNWrapper's; the +0.1 cell's state is 2 wide",
    extra={"maximum_iterations": 10})

#: hccho2, part 4 "Attention with Tensorflow": BasicRNNCell(6), Bahdanau 11, attention layer 13
ATTENTION = Toy(
    "hccho2 part 4", vocab_size=5, sos_token=0, eos_token=4,
    x_data=PART_MINUS_1.x_data, y_data=PART_MINUS_1.y_data, hidden_dim=6, embedding_dim=8,
    note="the memory is random normal, as in the tutorial (seeded: ours)",
    extra={"memory_shape": (3, 20, 30), "memory_lengths": (5, 10, 20), "num_units": 11, "attention_layer_size": 13,
           "steps": 100, "learning_rate": 0.01})

#: the tfa InferenceSampler note: learn "hello" from <S>, 500 Adam steps at 0.01, decode 5 rows
HELLO = Toy(
    "tfa InferenceSampler", vocab_size=6, sos_token=0, eos_token=5,
    x_data=_ids([[0, 1, 2, 3, 3, 4]]), y_data=_ids([[1, 2, 3, 3, 4, 5]]), hidden_dim=7, embedding_dim=8,
    note="embedding np.arange(48).reshape(6, 8), trainable",
    extra={"index_to_char": {0: "<S>", 1: "h", 2: "e", 3: "l", 4: "o", 5: "<E>"}, "steps": 500, "learning_rate": 0.01,
           "sample_batch_size": 5})

#: the google/seq2seq study note: it feeds "<eos> + response" and decodes at most 16 steps; the sizes are ours
SEQ2SEQ_NOTE = Toy(
    "google/seq2seq note", vocab_size=8, sos_token=1, eos_token=1,
    x_data=_ids([[1, 4, 5, 6, 3, 0, 0], [1, 7, 3, 0, 0, 0, 0], [1, 5, 5, 4, 7, 6, 3], [1, 6, 0, 0, 0, 0, 0]]),
    y_data=_ids([[4, 5, 6, 3, 1, 0, 0], [7, 3, 1, 0, 0, 0, 0], [5, 5, 4, 7, 6, 3, 1], [6, 1, 0, 0, 0, 0, 0]]),
    hidden_dim=8, embedding_dim=4, note="(ours) vocab 8: <pad> 0, <eos> 1 (also the first input), words 2-7",
    extra={"max_decode_length": 16, "lengths": (5, 3, 7, 2), "auxiliary_dim": 2})

#: Géron's NMT with tfa: random ids, vocab 100, embeddings 10, 512-unit LSTMs, 2 epochs of fit
GERON = Toy(
    "Géron NMT", vocab_size=100, sos_token=0, eos_token=0, x_data=np.zeros((1000, 10), np.int32),
    y_data=np.zeros((1000, 15), np.int32), hidden_dim=512, embedding_dim=10,
    note="X: 1000 x 10 random ids, Y: 1000 x 15; the decoder input is Y shifted right after a 0",
    extra={"epochs": 2, "seed": 42})

#: the Korean Keras chatbot: vocab 2000, embeddings 64, 512-unit LSTMs, 200 epochs, replies of 64 steps at most
CHATBOT = Toy(
    "Keras chatbot", vocab_size=2000, sos_token=2, eos_token=3, x_data=np.zeros((0, 0), np.int32), y_data=None,
    hidden_dim=512, embedding_dim=64, note="Okt morphemes in the original; sentencepiece ids here (<s> 2, </s> 3)",
    extra={"epochs": 200, "max_reply_steps": 64})


def random_translation_data(rows: int = 1000, seed: int = 42) -> tuple[np.ndarray, ...]:
    """Géron's random data: ``X [rows, 10]`` and ``Y [rows, 15]`` ids below 100, the decoder input
    ``[0, Y[:, :-1]]`` and the lengths ``[rows]`` (all 15). Returns ``(X, X_decoder, lengths, Y)``, int32."""
    rng = np.random.default_rng(seed)
    X = rng.integers(GERON.vocab_size, size=(rows, 10)).astype(np.int32)
    Y = rng.integers(GERON.vocab_size, size=(rows, 15)).astype(np.int32)
    X_decoder = np.concatenate([np.zeros((rows, 1), np.int32), Y[:, :-1]], axis=1)
    return X, X_decoder, np.full([rows], 15, np.int32), Y


def hand_loss(probabilities, targets) -> float:
    """The tutorials' check of ``sequence_loss`` with unit weights: the mean of ``-log p[target]``.

    Args:
      probabilities: ``[B, T, V]`` softmax outputs (NumPy or anything ``np.asarray`` reads).
      targets: ``[B, T]`` int ids.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(targets)
    if p.ndim != 3 or y.shape != p.shape[:2]:
        raise ValueError(f"`probabilities` must be [B, T, V] and `targets` [B, T], got {list(p.shape)} and "
                         f"{list(y.shape)}")
    p = p.reshape(-1, p.shape[-1])
    return float(np.mean(-np.log(p[np.arange(y.size), y.reshape(-1)])))


def chars(ids, toy: Toy = HELLO) -> str:
    """Ids ``[T]`` as the characters of ``toy.extra["index_to_char"]``, stopping at the end token."""
    table = toy.extra["index_to_char"]
    out = []
    for i in np.asarray(ids).reshape(-1):
        if int(i) == toy.eos_token:
            break
        out.append(table[int(i)])
    return "".join(out)
