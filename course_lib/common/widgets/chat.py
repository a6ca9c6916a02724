"""``ChatWidget``: a chat box that shows the conversation and where the last reply looked in its
prompt; ``replies_table``: several ways of replying to the same prompts, side by side (text).

Framework-free: both take a chatbot's replies, NumPy in. A chatbot here is anything with
``reply(prompt, method) -> reply`` and ``methods`` (the decoding methods it knows), such as chapter 7's
``Chatbot``; a reply has ``prompt``, ``text``, ``method``, ``message``, ``source_tokens``,
``reply_tokens`` and ``alignments [len(reply_tokens), len(source_tokens)]`` (or None).
"""

from __future__ import annotations

from typing import Dict, List, Sequence

from course_lib.common.widgets._static import View, escape_text, html_table, new_figure


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def replies_table(rows: Dict[str, list], prompts: Sequence[str], width: int = 34) -> str:
    """A plain-text table: one line per prompt, one column per way of decoding.

    Args:
      rows: ``{column title: replies, one per prompt}``.
      prompts: the prompts (the first column).
      width: the width of a reply's column; longer replies are cut with an ellipsis.

    Returns:
      The table, its lines joined by newlines (a reply without text shows its message instead).
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
      bot: a chatbot (``reply(prompt, method)`` and ``methods``; chapter 7's ``Chatbot``).
      prompts: prompts to answer now, so the static view has something to show.
      method: the decoding method at first, one of ``bot.methods``.
    """

    def __init__(self, bot, prompts: Sequence[str] = (), method: str = "greedy"):
        methods = tuple(bot.methods)
        if method not in methods:
            raise ValueError(f"`method` must be one of {methods}, got {method!r}")
        self.bot, self.method, self.methods = bot, method, methods
        self.history: List = []
        for prompt in prompts:
            self.send(prompt)

    def send(self, prompt: str, method=None):
        """Answer ``prompt`` and add the exchange to the conversation; returns the reply."""
        reply = self.bot.reply(prompt, method or self.method)
        self.history.append(reply)
        return reply

    def transcript(self) -> str:
        """The conversation as text, one line per turn (and per note)."""
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
        method = widgets.Dropdown(options=list(self.methods), value=self.method, description="decode")
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
