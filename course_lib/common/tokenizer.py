"""Subword tokens for the chatbot chapter: a sentencepiece BPE model, trained deterministically.

``SubwordTokenizer.train(texts, vocab_size)`` learns byte-pair-encoding merges from a list of
sentences (about 0.05 s for a few thousand lines). Training is deterministic (one thread, input
neither sampled nor shuffled; the same texts give a byte-identical model), and the tokenizer is
framework-free, so the TensorFlow and the PyTorch notebook see the same ids.

The model normalises text itself (NFKC, case folded, runs of spaces collapsed), so the
tokenizer file alone says how to read a prompt; ``save`` writes sentencepiece's own model file
(a protocol buffer, never a pickle). Ids 0-3 are ``<pad>``, ``<unk>``, ``<s>``, ``</s>``.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Iterable, List, Sequence, Set

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
#: sentencepiece's word-start marker: "▁how" is "how" after a space
WORD_START = "\u2581"


class SubwordTokenizer:
    """Text <-> subword ids with a sentencepiece model.

    Build one with ``SubwordTokenizer.train(texts, vocab_size)`` or ``SubwordTokenizer.load(path)``.

    Example::

        tokenizer = SubwordTokenizer.train(["how are you?", "i am fine."], vocab_size=40)
        ids = tokenizer.encode("How are you?")        # [..] ints, without <s> / </s>
        tokenizer.decode(ids)                         # 'how are you?'
    """

    pad_id, unk_id, bos_id, eos_id = PAD_ID, UNK_ID, BOS_ID, EOS_ID

    def __init__(self, model_proto: bytes):
        import sentencepiece as spm

        if not isinstance(model_proto, (bytes, bytearray)) or not model_proto:
            raise TypeError(f"`model_proto` must be the bytes of a sentencepiece model, got {type(model_proto).__name__}")
        processor = spm.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(bytes(model_proto))
        except Exception as exc:  # sentencepiece raises RuntimeError/OSError on bad bytes
            raise ValueError(f"not a sentencepiece model ({type(exc).__name__}: {exc})") from None
        specials = [processor.pad_id(), processor.unk_id(), processor.bos_id(), processor.eos_id()]
        if specials != [PAD_ID, UNK_ID, BOS_ID, EOS_ID]:
            raise ValueError(f"the model's <pad>, <unk>, <s>, </s> ids must be 0, 1, 2, 3, got {specials}")
        self._proto = bytes(model_proto)
        self._sp = processor
        pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        self._alphabet = {ch for i, p in enumerate(pieces) if i > EOS_ID for ch in p} - {WORD_START}

    # -- making one ------------------------------------------------------------------------------
    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 1000, model_type: str = "bpe") -> "SubwordTokenizer":
        """Learn a subword vocabulary from ``texts`` (sentences), deterministically.

        Args:
          texts: the training sentences (use the training split only); sorted and deduplicated
            here, so their order does not matter.
          vocab_size: the number of ids, the 4 special ones included. A small corpus may give
            fewer (sentencepiece stops when no merge is left).
          model_type: ``"bpe"`` (deterministic) or ``"unigram"`` (deterministic only with one thread,
            as here).
        """
        import sentencepiece as spm

        texts = sorted({str(t) for t in texts if str(t).strip()})
        if not texts:
            raise ValueError("`texts` must hold at least one non-empty sentence")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 8:
            raise ValueError(f"`vocab_size` must be an int >= 8, got {vocab_size!r}")
        if model_type not in ("bpe", "unigram"):
            raise ValueError(f"`model_type` must be 'bpe' or 'unigram', got {model_type!r}")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts), model_writer=model, vocab_size=vocab_size, model_type=model_type,
            character_coverage=1.0,  # every character of the texts gets a piece
            normalization_rule_name="nmt_nfkc_cf",  # NFKC + case folding, inside the model file
            pad_id=PAD_ID, unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID,
            input_sentence_size=0, shuffle_input_sentence=False, num_threads=1,  # deterministic
            hard_vocab_limit=False, split_digits=True, minloglevel=2)  # no log lines
        return cls(model.getvalue())

    @classmethod
    def load(cls, path) -> "SubwordTokenizer":
        """Read a tokenizer file written by ``save`` (a sentencepiece ``.model``)."""
        path = Path(os.fspath(path))
        if not path.is_file():
            raise FileNotFoundError(f"no tokenizer file at {str(path)!r}")
        try:
            return cls(path.read_bytes())
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{str(path)!r} is not a valid tokenizer file: {exc}") from None

    def save(self, path) -> Path:
        """Write the sentencepiece model file to ``path`` (a temporary file first, then renamed)."""
        path = Path(os.fspath(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as f:
                f.write(self._proto)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return path

    @property
    def serialized(self) -> bytes:
        """The model file's bytes."""
        return self._proto

    # -- using one -------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return self._sp.get_piece_size()

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str) -> List[int]:
        """Token ids of ``text`` (normalised by the model), without ``<s>`` / ``</s>``."""
        if not isinstance(text, str):
            raise TypeError(f"`text` must be a str, got {type(text).__name__}")
        return list(self._sp.encode(text))

    def encode_batch(self, texts: Sequence[str]) -> List[List[int]]:
        return [self.encode(t) for t in texts]

    def pieces(self, text: str) -> List[str]:
        """The subword strings of ``text`` (``▁`` marks a word start)."""
        return [self.id_to_token(i) for i in self.encode(text)]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``: stops at the first ``</s>``, skips ``<pad>`` and ``<s>``; ``<unk>`` reads ``⁇``."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if i in (PAD_ID, BOS_ID):
                continue
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"id {i} is outside the vocabulary [0, {self.vocab_size})")
            out.append(i)
        return self._sp.decode(out)

    def id_to_token(self, i: int) -> str:
        """The piece of id ``i`` (``<pad>``, ``<unk>``, ``<s>``, ``</s>`` for 0-3)."""
        i = int(i)
        if not 0 <= i < self.vocab_size:
            raise ValueError(f"id {i} is outside the vocabulary [0, {self.vocab_size})")
        return self._sp.id_to_piece(i)

    def token_to_id(self, piece: str) -> int:
        return self._sp.piece_to_id(piece)

    def normalize(self, text: str) -> str:
        """``text`` as the model reads it (NFKC, case folded, single spaces, stripped)."""
        return self._sp.normalize(text).replace(WORD_START, " ").strip()

    def unknown_characters(self, text: str) -> Set[str]:
        """The characters of ``text`` that no piece contains (they encode as ``<unk>``)."""
        return {ch for ch in self.normalize(text) if not ch.isspace() and ch not in self._alphabet}

    def __repr__(self) -> str:
        return f"SubwordTokenizer(vocab_size={self.vocab_size})"
