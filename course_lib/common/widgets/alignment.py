"""``AlignmentExplorer``: where the decoder looked, as a heatmap of target steps x source tokens.

A step slider highlights one target step and shows its alignment over the source as bars; a
selector picks the example of a batch; several mechanisms (same input) sit side by side. The
function form is ``plot_alignments``; the checks are ``check_alignments``.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np

from course_lib.common.widgets._static import (
    caption_widget, escape_text,
    CHOSEN, HIGHLIGHT, View, check_index, display_token, escape, html_table, new_figure, png_widget, short_token,
    text_kwargs,
)


def _as_token_lists(tokens, batch: Optional[int], name: str) -> List[List[str]]:
    if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Sequence) and not isinstance(tokens, np.ndarray):
        raise TypeError(f"`{name}` must be a list of tokens (strings), got {type(tokens).__name__}")
    tokens = list(tokens)
    if batch is None:
        if any(isinstance(t, (list, tuple, np.ndarray)) for t in tokens):
            raise ValueError(f"`{name}` must be one list of tokens for 2-D `alignments` [T, S], got a nested list")
        return [[str(t) for t in tokens]]
    lists = all(isinstance(t, (list, tuple, np.ndarray)) for t in tokens)
    if len(tokens) != batch or not lists:
        raise ValueError(f"`{name}` must hold one list of tokens per example for 3-D `alignments` "
                         f"[B = {batch}, T, S], got {len(tokens)} entries" + ("" if lists else " (not all lists)"))
    return [[str(t) for t in row] for row in tokens]


def check_alignments(alignments, source_tokens, target_tokens, normalized: bool = True, atol: float = 1e-3):
    """Validate alignments and tokens; return ``(mechanisms, source_tokens, target_tokens)``.

    Args:
      alignments: ``[T, S]`` (one example), ``[B, T, S]`` (a batch), or a dict name -> array (or a
        list of arrays) of one shape for several mechanisms on the same input. NumPy (or anything
        ``np.asarray`` takes).
      source_tokens: a list of ``S`` tokens (2-D), or one list per example of at most ``S``
        tokens (3-D; the positions past an example's tokens are padding and must hold 0).
      target_tokens: likewise ``T`` tokens, or at most ``T`` per example (rows past them are ignored).
      normalized: rows must sum to 1 (softmax). False allows sums below 1 (monotonic attention).
      atol: tolerance of those checks.

    Returns:
      ``(dict name -> float array [B, T, S], source token lists, target token lists)``.

    Raises:
      ValueError: naming the mismatch: token count vs matrix shape, NaN, a negative weight, a row
        that does not sum to 1, weight on padding.
    """
    if isinstance(alignments, dict):
        named = {str(k): v for k, v in alignments.items()}
    elif isinstance(alignments, (list, tuple)) and alignments and not np.isscalar(alignments[0]) \
            and np.ndim(alignments[0]) >= 2:
        named = {f"mechanism {i}": a for i, a in enumerate(alignments)}
    else:
        named = {"alignments": alignments}
    if not named:
        raise ValueError("`alignments` is empty: give an array [T, S] or [B, T, S] (or a dict of them)")
    arrays = {}
    for name, a in named.items():
        a = np.asarray(a, dtype=np.float64)
        if a.ndim not in (2, 3):
            raise ValueError(f"`alignments` ({name}) must be [T, S] or [B, T, S], got shape {list(a.shape)}")
        arrays[name] = a
    shapes = {name: a.shape for name, a in arrays.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"the mechanisms' alignments must have one shape (the same input), got {shapes}")
    first = next(iter(arrays.values()))
    batch = first.shape[0] if first.ndim == 3 else None
    T, S = first.shape[-2:]
    sources = _as_token_lists(source_tokens, batch, "source_tokens")
    targets = _as_token_lists(target_tokens, batch, "target_tokens")
    for b, (src, tgt) in enumerate(zip(sources, targets)):
        where = "" if batch is None else f" of example {b}"
        exact = batch is None
        if (len(src) != S) if exact else not 1 <= len(src) <= S:
            raise ValueError(f"`source_tokens`{where} has {len(src)} tokens but `alignments` have "
                             f"{S} source positions (shape {list(first.shape)}, last axis)")
        if (len(tgt) != T) if exact else not 1 <= len(tgt) <= T:
            raise ValueError(f"`target_tokens`{where} has {len(tgt)} tokens but `alignments` have "
                             f"{T} target steps (shape {list(first.shape)}, axis {first.ndim - 2})")
        if not src or not tgt:
            raise ValueError(f"`source_tokens` and `target_tokens`{where} need at least one token each")
    out = {}
    for name, a in arrays.items():
        a3 = a if batch is not None else a[None]
        for b, (src, tgt) in enumerate(zip(sources, targets)):
            rows = a3[b, :len(tgt)]  # (T_b, S)
            label = f"`alignments`{'' if len(arrays) == 1 else f' ({name})'}"
            at = (lambda t, s=None: f"[{'' if batch is None else f'{b}, '}{t}{'' if s is None else f', {s}'}]")
            if np.isnan(rows).any():
                t, s = np.argwhere(np.isnan(rows))[0]
                raise ValueError(f"{label} holds NaN at {at(t, s)}")
            if (rows < -atol).any():
                t, s = np.argwhere(rows < -atol)[0]
                raise ValueError(f"{label} holds a negative weight {rows[t, s]:.4g} at {at(t, s)}: "
                                 "alignments are probabilities")
            padding = rows[:, len(src):].sum(axis=1) if len(src) < S else np.zeros(len(tgt))
            if (padding > atol).any():
                t = int(np.argmax(padding > atol))
                raise ValueError(f"{label} puts weight {padding[t]:.4g} on positions past the {len(src)} source "
                                 f"tokens at {at(t)}: the tokens or the memory lengths do not match")
            sums = rows.sum(axis=1)
            bad = (np.abs(sums - 1) > atol) if normalized else (sums > 1 + atol)
            if bad.any():
                t = int(np.argmax(bad))
                hint = " (pass normalized=False for monotonic attention, whose rows may sum to less)"
                hint = hint if normalized else ""
                raise ValueError(f"{label} row {at(t)} sums to {sums[t]:.4g}, expected "
                                 f"{'1' if normalized else 'at most 1'}: not normalised{hint}")
        out[name] = a3
    return out, sources, targets


class AlignmentExplorer(View):
    """Heatmaps of alignments (target steps x source tokens) with a step slider and an example selector.

    Args:
      alignments, source_tokens, target_tokens, normalized: see ``check_alignments``.
      step: the highlighted target step at first; example: the example of the batch at first.
      annotate: write the values in the cells: True, False, or "auto" (small matrices).

    The logic is plain methods (``select``, ``highlighted_row``, ``bars``, ``top_source``), so
    tests and notebooks can use it without a browser; ``widget`` is the interactive view.
    """

    def __init__(self, alignments, source_tokens, target_tokens, step: int = 0, example: int = 0,
                 normalized: bool = True, annotate="auto"):
        self.alignments, self.source_tokens, self.target_tokens = check_alignments(
            alignments, source_tokens, target_tokens, normalized=normalized)
        self.normalized = normalized
        self.annotate = annotate
        self.example = check_index(example, self.batch_size, "example")
        self.step = check_index(step, self.num_steps(), "step")

    @classmethod
    def from_trace(cls, trace, source_tokens, vocab=None, beam: int = 0, **kwargs) -> "AlignmentExplorer":
        """The alignments a decode recorded (``TraceDecoder`` over an ``AttentionWrapper`` cell).

        Args:
          trace: a ``DecodeTrace`` with ``alignments``; for beam search, final beam ``beam`` is
            followed back through its parents.
          source_tokens: one list of tokens per row (at most ``S`` each).
          vocab: names the decoded ids (see ``token_namer``); they become the target tokens, up
            to each row's length (or its hypothesis, with beam search).
          **kwargs: as the constructor's.
        """
        from course_lib.common.trace import DecodeTrace
        from course_lib.common.widgets._static import token_namer
        from course_lib.common.widgets.beam_tree import beam_tree

        if not isinstance(trace, DecodeTrace) or trace.alignments is None:
            raise ValueError("`trace` must be a DecodeTrace with alignments (decode an AttentionWrapper cell "
                             "with TraceDecoder)")
        name = token_namer(vocab)
        per_row, targets = [], []  # per_row[b]: [T_b, mechanisms, S]
        stacked = np.stack(trace.alignment_list(), axis=-2)  # (T, B, [W,] M, S)
        for b in range(trace.batch_size):
            if trace.is_beam_search:
                tree = beam_tree(trace, b)
                ids = tree.hypotheses[check_index(beam, trace.beam_width, "beam")][0]
                rows = [stacked[t, b, slot] for t, slot in tree.paths[beam][:len(ids)]]
            else:
                ids = list(trace.sample_ids[:int(trace.lengths[-1, b]), b])
                rows = list(stacked[:len(ids), b])
            if not ids:
                raise ValueError(f"row {b} of `trace` decoded no token: there is no alignment to show")
            per_row.append(np.stack(rows))
            targets.append([name(i) for i in ids])
        T = max(len(r) for r in per_row)
        full = np.zeros((trace.batch_size, T) + per_row[0].shape[1:])
        for b, rows in enumerate(per_row):
            full[b, :len(rows)] = rows
        several = isinstance(trace.alignments, tuple)
        alignments = {f"mechanism {m}": full[:, :, m] for m in range(full.shape[2])} if several else full[:, :, 0]
        return cls(alignments, source_tokens, targets, **kwargs)

    # -- logic ---------------------------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        return len(self.source_tokens)

    @property
    def mechanisms(self) -> List[str]:
        return list(self.alignments)

    def num_steps(self, example: Optional[int] = None) -> int:
        """The number of target steps (tokens) of ``example`` (default: the selected one)."""
        return len(self.target_tokens[self.example if example is None else example])

    def select(self, step: Optional[int] = None, example: Optional[int] = None) -> "AlignmentExplorer":
        """Choose the example and/or the highlighted step (a new example starts at its step 0
        unless ``step`` is given)."""
        if example is not None:
            self.example = check_index(example, self.batch_size, "example")
            if step is None:
                step = min(self.step, self.num_steps() - 1)
        if step is not None:
            self.step = check_index(step, self.num_steps(), "step")
        return self

    def highlighted_row(self) -> int:
        """The row of the heatmap that is highlighted (the selected target step)."""
        return self.step

    def matrix(self, mechanism: Optional[str] = None) -> np.ndarray:
        """The selected example's alignments ``[T_b, S_b]`` (padding cut off)."""
        name = mechanism or self.mechanisms[0]
        b = self.example
        return self.alignments[name][b, :len(self.target_tokens[b]), :len(self.source_tokens[b])]

    def bars(self) -> Dict[str, np.ndarray]:
        """The highlighted step's alignment over the source tokens, per mechanism: ``{name: [S_b]}``."""
        return {name: self.matrix(name)[self.step] for name in self.mechanisms}

    def top_source(self) -> Dict[str, tuple]:
        """Per mechanism, the source token the highlighted step attends to most: ``(index, token, weight)``."""
        src = self.source_tokens[self.example]
        return {name: (int(np.argmax(row)), src[int(np.argmax(row))], float(np.max(row)))
                for name, row in self.bars().items()}

    def summary(self) -> str:
        tgt = self.target_tokens[self.example]
        tops = "; ".join(f"{name}: {display_token(tok)!s} ({w:.2f})" if len(self.mechanisms) > 1 else
                         f"attends most to {display_token(tok)} ({w:.2f})"
                         for name, (_, tok, w) in self.top_source().items())
        return (f"AlignmentExplorer: example {self.example}/{self.batch_size}, step {self.step} "
                f"(target {display_token(tgt[self.step])}) {tops}")

    def values_html(self) -> str:
        """The highlighted step's weights as an HTML table (escaped tokens; hover shows the pair)."""
        src = self.source_tokens[self.example]
        tgt = display_token(self.target_tokens[self.example][self.step])
        header = ["mechanism"] + [escape(s) for s in src]
        rows = []
        for name, row in self.bars().items():
            best = int(np.argmax(row))
            cells = [escape(name)]
            for s, w in enumerate(row):
                text = f"<b>{w:.3f}</b>" if s == best else f"{w:.3f}"
                cells.append((text, f"{tgt} \u2192 {display_token(src[s])}: {w:.4f}"))
            rows.append(cells)
        caption = f"step {self.step}: target <b>{escape(tgt)}</b>"
        return html_table(rows, header=header, caption=caption)

    # -- pictures --------------------------------------------------------------------------------
    def figure(self):
        return plot_alignments(self.alignments, self.source_tokens, self.target_tokens, step=self.step,
                               example=self.example, annotate=self.annotate, _checked=True)

    def _build_widget(self):
        import ipywidgets as widgets

        step = widgets.IntSlider(value=self.step, min=0, max=max(self.num_steps() - 1, 0), description="step",
                                 continuous_update=False)
        example = widgets.Dropdown(options=[(f"example {b}", b) for b in range(self.batch_size)],
                                   value=self.example, description="example")
        image, values = png_widget(self.to_png()), widgets.HTML(self.values_html())
        caption = caption_widget(self.summary())

        def refresh():
            image.value, values.value, caption.value = self.to_png(), self.values_html(), escape_text(self.summary())

        def on_step(change):
            self.select(step=change["new"])
            refresh()

        def on_example(change):
            self.select(example=change["new"])
            step.unobserve(on_step, "value")
            step.max, step.value = self.num_steps() - 1, self.step
            step.observe(on_step, "value")
            refresh()

        step.observe(on_step, "value")
        example.observe(on_example, "value")
        controls = [step] + ([example] if self.batch_size > 1 else [])
        box = widgets.VBox([widgets.HBox(controls), caption, image, values])
        box.add_class("course-lib-alignment-explorer")
        self._controls = {"step": step, "example": example, "image": image, "values": values, "caption": caption}
        return box


def plot_alignments(alignments, source_tokens, target_tokens, step: Optional[int] = None, example: int = 0,
                    annotate="auto", normalized: bool = True, _checked: bool = False):
    """Heatmaps (one per mechanism) of ``example``'s alignments; with ``step``, that row is
    highlighted and its weights are drawn as bars under the heatmap. Returns the ``Figure``.

    Arguments as ``AlignmentExplorer``.
    """
    if _checked:
        mechanisms, sources, targets = alignments, source_tokens, target_tokens
    else:
        mechanisms, sources, targets = check_alignments(alignments, source_tokens, target_tokens, normalized)
    example = check_index(example, len(sources), "example")
    src, tgt = sources[example], targets[example]
    S, T = len(src), len(tgt)
    if step is not None:
        step = check_index(step, T, "step")
    M = len(mechanisms)
    show_values = annotate is True or (annotate == "auto" and S * T <= 160)
    src_labels, tgt_labels = [short_token(s) for s in src], [short_token(t) for t in tgt]
    label_room = 0.09 * max(len(x) for x in src_labels) + 0.3  # inches under the axis for rotated labels
    heat_height = 0.32 * T + 0.5
    bar_height = 1.3 if step is not None else 0.0
    width = M * (0.48 * S + 0.08 * max(len(x) for x in tgt_labels) + 1.2)
    fig = new_figure(max(width, 3.5), heat_height + bar_height + label_room + 0.6)
    rows = 2 if step is not None else 1
    grid = fig.add_gridspec(rows, M, height_ratios=[heat_height, bar_height] if step is not None else None)
    kw = text_kwargs()
    for m, (name, a) in enumerate(mechanisms.items()):
        matrix = a[example, :T, :S]
        ax = fig.add_subplot(grid[0, m])
        ax.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_yticks(range(T), labels=tgt_labels, **kw)
        ax.set_ylabel("target step")
        if M > 1 or name != "alignments":
            ax.set_title(name, fontsize=10, **kw)
        if show_values:
            for t in range(T):
                for s in range(S):
                    ax.text(s, t, f"{matrix[t, s]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if matrix[t, s] > 0.55 else "black")
        bottom = ax
        if step is not None:
            ax.add_patch(_row_box(step, S))
            ax.get_yticklabels()[step].set_color(HIGHLIGHT)
            ax.get_yticklabels()[step].set_fontweight("bold")
            bottom = fig.add_subplot(grid[1, m], sharex=ax)
            ax.tick_params(labelbottom=False)
            row = matrix[step]
            best = int(np.argmax(row))
            bottom.bar(range(S), row, width=0.7, color=[CHOSEN if s == best else "#4c72b0" for s in range(S)])
            bottom.set_ylim(0, 1.25)
            bottom.set_yticks([0, 0.5, 1])
            bottom.set_ylabel(f"step {step}", color=HIGHLIGHT)
            for s, w in enumerate(row):
                bottom.text(s, w + 0.03, f"{w:.2f}", ha="center", va="bottom", fontsize=7)
        bottom.set_xticks(range(S), labels=src_labels, rotation=55, ha="right", rotation_mode="anchor", **kw)
        bottom.set_xlabel("source")
    return fig


def _row_box(step: int, S: int):
    from matplotlib.patches import Rectangle

    return Rectangle((-0.5, step - 0.5), S, 1, fill=False, edgecolor=HIGHLIGHT, linewidth=2.5)
