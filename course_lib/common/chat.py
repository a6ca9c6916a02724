"""Talking to a trained chatbot: prompt checks, replies, a side-by-side table and a chat widget.

Framework-free. A backend's ``Chatbot`` (``course_lib.tf.chatbot`` / ``course_lib.torch.chatbot``)
subclasses ``ChatbotBase`` and supplies only ``_decode`` (token ids in, token ids and alignments
out); everything a learner types goes through ``ChatbotBase.reply``, which never raises on text:
an empty prompt, characters the tokenizer has never seen, or a 10,000-character paste each get a
clear message instead of a traceback.
"""

from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np

from course_lib.common.widgets._static import View, escape_text, html_table, new_figure

METHODS = ("greedy", "beam", "sample")


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
    """What a backend's decode gives for one prompt: ``ids`` (up to and including ``</s>`` when
    it was emitted) and ``alignments [len(ids), S]`` (None without attention)."""

    ids: List[int]
    alignments: Optional[np.ndarray]


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


class ChatbotBase:
    """Prompt handling shared by the backends' ``Chatbot``.

    Args:
      tokenizer: the ``SubwordTokenizer`` the model was trained with.
      max_prompt_tokens: a longer prompt is cut to its first ``max_prompt_tokens`` tokens (with a note).
      max_reply_tokens: the decode stops after this many tokens (``maximum_iterations``).
    """

    def __init__(self, tokenizer, max_prompt_tokens: int = 48, max_reply_tokens: int = 40):
        for name, value in (("max_prompt_tokens", max_prompt_tokens), ("max_reply_tokens", max_reply_tokens)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}")
        self.tokenizer = tokenizer
        self.max_prompt_tokens = max_prompt_tokens
        self.max_reply_tokens = max_reply_tokens

    # -- the backend's part ------------------------------------------------------------------------
    def _decode(self, sources: List[List[int]], method: str, **options) -> List[Decoded]:  # pragma: no cover
        raise NotImplementedError

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

    def replies(self, prompts: Sequence[str], method: str = "greedy", **options) -> List[Reply]:
        """Replies to several prompts, decoded as one batch.

        Args:
          prompts: the texts.
          method: ``"greedy"``, ``"beam"`` (options ``beam_width``, ``length_penalty_weight``) or
            ``"sample"`` (options ``temperature``, ``seed``).
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


# -- showing replies --------------------------------------------------------------------------------

def replies_table(rows: Dict[str, List[Reply]], prompts: Sequence[str], width: int = 34) -> str:
    """A plain-text table: one line per prompt, one column per way of decoding.

    Args:
      rows: ``{column title: replies, one per prompt}``.
      prompts: the prompts (the first column).
    """
    titles = list(rows)
    first = max([len("prompt")] + [len(_shorten(p, width)) for p in prompts])
    header = "prompt".ljust(first) + "".join(" | " + _shorten(t, width).ljust(width) for t in titles)
    lines = [header, "-" * len(header)]
    for r, prompt in enumerate(prompts):
        cells = []
        for title in titles:
            reply = rows[title][r]
            cells.append(_shorten(reply.text or f"({reply.message})", width).ljust(width))
        lines.append(_shorten(prompt, width).ljust(first) + "".join(" | " + c for c in cells))
    return "\n".join(lines)


class ChatWidget(View):
    """A chat box: type a prompt, read the reply and see where the reply looked in the prompt.

    Where a widget frontend runs (JupyterLab, Colab) it is a text box, a method selector, the
    conversation so far and an ``AlignmentExplorer`` of the last reply. Elsewhere (nbval,
    nbconvert, GitHub) it shows the conversation as text and the last alignment as a picture.

    Args:
      bot: a backend ``Chatbot`` (``reply(prompt, method)``).
      prompts: prompts to answer now, so the static view has something to show.
      method: the decoding method at first.
    """

    def __init__(self, bot, prompts: Sequence[str] = (), method: str = "greedy"):
        if method not in METHODS:
            raise ValueError(f"`method` must be one of {METHODS}, got {method!r}")
        self.bot, self.method = bot, method
        self.history: List[Reply] = []
        for prompt in prompts:
            self.send(prompt)

    def send(self, prompt: str, method: Optional[str] = None) -> Reply:
        """Answer ``prompt`` and add the exchange to the conversation."""
        reply = self.bot.reply(prompt, method or self.method)
        self.history.append(reply)
        return reply

    def transcript(self) -> str:
        lines = []
        for r in self.history:
            lines.append(f"you: {_shorten(r.prompt, 70)}")
            if r.text:
                lines.append(f"bot ({r.method}): {r.text}")
            if r.message:
                lines.append(f"     note: {r.message}")
        return "\n".join(lines) or "(no messages yet)"

    def summary(self) -> str:
        return self.transcript()

    def explorer(self):
        """An ``AlignmentExplorer`` of the last reply that has alignments, or None."""
        from course_lib.common.widgets.alignment import AlignmentExplorer

        for r in reversed(self.history):
            if r.alignments is not None and r.reply_tokens and r.source_tokens:
                return AlignmentExplorer(r.alignments, r.source_tokens, r.reply_tokens)
        return None

    def figure(self):
        explorer = self.explorer()
        if explorer is not None:
            return explorer.figure()
        fig = new_figure(4.0, 1.0)
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, "no alignment to show", ha="center", va="center")
        return fig

    def _history_html(self) -> str:
        rows = []
        for r in self.history:
            rows.append([("you", ""), (escape_text(_shorten(r.prompt, 200)), r.prompt[:500])])
            if r.text:
                rows.append([(f"bot ({r.method})", ""), (escape_text(r.text), r.text)])
            if r.message:
                rows.append([("note", ""), (f"<i>{escape_text(r.message)}</i>", r.message)])
        return html_table(rows) if rows else "<i>no messages yet</i>"

    def _build_widget(self):
        import ipywidgets as widgets

        # continuous_update=False: the value arrives when Enter is pressed (or the box loses focus)
        box = widgets.Text(placeholder="type a prompt and press Enter", continuous_update=False,
                           layout=widgets.Layout(width="60%"))
        method = widgets.Dropdown(options=list(METHODS), value=self.method, description="decode")
        history = widgets.HTML(self._history_html())
        alignment = widgets.Box()

        def show_alignment():
            explorer = self.explorer()
            alignment.children = [explorer.widget] if explorer is not None else []

        def on_value(change):
            if not change["new"]:
                return  # the box was cleared below
            self.send(change["new"], method.value)
            box.value = ""
            history.value = self._history_html()
            show_alignment()

        box.observe(on_value, "value")
        show_alignment()
        out = widgets.VBox([widgets.HBox([box, method]), history, alignment])
        out.add_class("course-lib-chat")
        self._controls = {"text": box, "method": method, "history": history, "alignment": alignment}
        return out
