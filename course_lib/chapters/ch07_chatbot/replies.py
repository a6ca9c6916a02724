"""Talking to a trained model: prompt checks, batched replies and their alignments (framework-free).

``Chatbot(model, tokenizer)`` works with either backend's ``Seq2SeqChatbot``: it turns text into
token ids, calls ``model.decode`` (ids in, NumPy ids and alignments out) and turns the ids back into
text. Everything a learner types goes through ``Chatbot.reply``, which never raises on text: an
empty prompt, characters the tokenizer has never seen, or a 10,000-character paste each get a clear
message instead of a traceback.
"""

from __future__ import annotations

from typing import List, NamedTuple, Optional, Sequence

import numpy as np

from course_lib.chapters.ch07_chatbot.decoding import METHODS
from course_lib.common.chat_data import pad


class Reply(NamedTuple):
    """A reply and what it was made from.

    ``prompt``: what was typed; ``text``: the reply ("" when there is none); ``ids``: its token ids
    (``</s>`` excluded); ``source_tokens`` / ``reply_tokens``: the pieces the model read and wrote
    (``reply_tokens`` ends with ``</s>`` when the decode finished); ``alignments``: ``[len(reply_tokens),
    len(source_tokens)]`` NumPy attention weights, or None (no attention, or no reply); ``method``:
    ``"greedy"``, ``"beam"`` or ``"sample"``; ``message``: a note for the user, or None.
    """

    prompt: str
    text: str
    ids: List[int]
    source_tokens: List[str]
    reply_tokens: List[str]
    alignments: Optional[np.ndarray]
    method: str
    message: Optional[str]


class Decoded(NamedTuple):
    """What the model's decode gives for one prompt: ``ids`` (up to and including ``</s>`` when
    it was emitted) and ``alignments [len(ids), S]`` (None without attention)."""

    ids: List[int]
    alignments: Optional[np.ndarray]


class Chatbot:
    """A model and its tokenizer, answering text.

    ``bot.reply("hello")``, ``bot.replies(prompts, method="beam", beam_width=4, length_penalty_weight=1.0)``,
    ``bot.replies(prompts, method="sample", temperature=0.7, seed=0)``.

    Args:
      model: a ``Seq2SeqChatbot`` of either backend (``get_config()`` and ``decode(...)``).
      tokenizer: the ``SubwordTokenizer`` the model was trained with.
      max_prompt_tokens: a longer prompt is cut to its first ``max_prompt_tokens`` tokens (with a note).
      max_reply_tokens: the decode stops after this many tokens (``maximum_iterations``).
    """

    methods = METHODS

    def __init__(self, model, tokenizer, max_prompt_tokens: int = 48, max_reply_tokens: int = 40):
        for name, value in (("max_prompt_tokens", max_prompt_tokens), ("max_reply_tokens", max_reply_tokens)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}")
        if tokenizer.vocab_size != model.get_config()["vocab_size"]:
            raise ValueError(f"the tokenizer has {tokenizer.vocab_size} ids but the model was built for "
                             f"{model.get_config()['vocab_size']}: use the tokenizer it was trained with")
        self.model, self.tokenizer = model, tokenizer
        self.max_prompt_tokens = max_prompt_tokens
        self.max_reply_tokens = max_reply_tokens

    # -- prompts ------------------------------------------------------------------------------------
    def prepare(self, prompt) -> tuple:
        """``(ids, notes, error)``: the prompt's token ids (unknown characters dropped, cut to
        ``max_prompt_tokens``), notes for the user, and an error message when nothing is left."""
        if not isinstance(prompt, str):
            return [], [], f"A prompt is text; got {type(prompt).__name__}."
        if not prompt.strip():
            return [], [], "Say something: the prompt is empty."
        tok = self.tokenizer
        unknown = tok.unknown_characters(prompt)
        notes = []
        if unknown:  # read the rest: each unknown character becomes a space
            shown = "".join(sorted(unknown)[:10]) + ("\u2026" if len(unknown) > 10 else "")
            notes.append(f"I skipped {len(unknown)} character(s) I never saw in training: {shown!r}.")
            prompt = "".join(" " if ch in unknown else ch for ch in tok.normalize(prompt))
        ids = [i for i in tok.encode(prompt) if i != tok.unk_id] if prompt.strip() else []
        if not ids:
            return [], notes, ("I cannot read any of that: none of its characters were in my training data. "
                               "Try plain words.")
        if len(ids) > self.max_prompt_tokens:
            notes.append(f"Your prompt has {len(ids)} tokens; I read only the first {self.max_prompt_tokens}.")
            ids = ids[:self.max_prompt_tokens]
        return ids, notes, None

    # -- the model ----------------------------------------------------------------------------------
    def _decode(self, sources: List[List[int]], method: str, **options) -> List[Decoded]:
        """Token ids of each prompt -> the reply ids and alignments of each, decoded as one padded batch."""
        lengths = np.array([len(s) for s in sources])
        ids, reply_lengths, alignments = self.model.decode(pad(sources, self.tokenizer.pad_id), lengths, method,
                                                           maximum_iterations=self.max_reply_tokens, **options)
        out = []
        for b, n in enumerate(reply_lengths):
            a = None if alignments is None else alignments[b, :n, :lengths[b]]  # (reply tokens, prompt tokens)
            out.append(Decoded([int(i) for i in ids[b, :n]], a))
        return out

    # -- replies ------------------------------------------------------------------------------------
    def replies(self, prompts: Sequence[str], method: str = "greedy", **options) -> List[Reply]:
        """Replies to several prompts, decoded as one batch.

        Args:
          prompts: the texts.
          method: ``"greedy"``, ``"beam"`` (options ``beam_width``, ``length_penalty_weight``) or
            ``"sample"`` (options ``temperature``, ``seed``).

        Returns:
          One ``Reply`` per prompt, in order (a prompt that cannot be read gets a message, not a reply).
        """
        if method not in METHODS:
            raise ValueError(f"`method` must be one of {METHODS}, got {method!r}")
        if isinstance(prompts, str):
            raise TypeError("`prompts` must be a list of strings; for one prompt use `reply(prompt)`")
        prepared = [self.prepare(p) for p in prompts]
        todo = [i for i, (_, _, error) in enumerate(prepared) if error is None]
        decoded = self._decode([prepared[i][0] for i in todo], method, **options) if todo else []
        by_row = dict(zip(todo, decoded))
        out = []
        for i, (prompt, (ids, notes, error)) in enumerate(zip(prompts, prepared)):
            source_tokens = [self.tokenizer.id_to_token(t) for t in ids]
            if error is not None:
                out.append(Reply(prompt if isinstance(prompt, str) else repr(prompt), "", [], source_tokens, [],
                                 None, method, " ".join(notes + [error])))
                continue
            result = by_row[i]
            reply_ids = [int(t) for t in result.ids]
            ended = bool(reply_ids) and reply_ids[-1] == self.tokenizer.eos_id
            words = reply_ids[:-1] if ended else reply_ids
            if not ended:
                notes.append(f"The reply was cut at {self.max_reply_tokens} tokens.")
            out.append(Reply(prompt, self.tokenizer.decode(words), words, source_tokens,
                             [self.tokenizer.id_to_token(t) for t in reply_ids], result.alignments, method,
                             " ".join(notes) or None))
        return out

    def reply(self, prompt: str, method: str = "greedy", **options) -> Reply:
        """One reply (see ``replies``); never raises on any text."""
        return self.replies([prompt], method, **options)[0]
