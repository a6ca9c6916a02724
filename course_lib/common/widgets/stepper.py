"""``DecodeStepper``: step through a recorded decode (a ``DecodeTrace``).

At step ``t`` of row ``b`` it shows what went in, the top-k next tokens with their
probabilities, what the sampler picked and what it feeds back (the ground truth under teacher
forcing, the sample under greedy decoding or sampling), which rows have finished and, with
attention, the alignment over the source. ``plot_decode_step`` is the function form.
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional, Tuple

import numpy as np

from course_lib.common.trace import DecodeTrace
from course_lib.common.widgets._static import (
    caption_widget, escape_text,
    CHOSEN, DIMMED, HIGHLIGHT, View, check_index, display_token, escape, html_table, new_figure, png_widget,
    text_kwargs, token_namer,
)


@dataclasses.dataclass(frozen=True)
class StepView:
    """What the stepper shows at one (step, row); ids are -1 where unknown."""

    step: int
    row: int
    input_id: int
    input_token: str
    top_k: List[Tuple[int, str, float]]  # (id, token, probability), best first
    sample_id: int
    sample_token: str
    sample_in_top_k: bool
    next_input_id: int
    next_input_token: str
    fed_back: Optional[str]  # "sample", "ground truth" or None (unknown)
    finished_before: List[int]  # rows that had finished before this step (their outputs are padding)
    finishing: List[int]  # rows that finish at this step
    finished: bool  # has this row finished (before or at this step)?
    padding: bool  # had this row finished before this step? (then its output here is padding)
    length: int
    alignment: Optional[np.ndarray]  # [S] (the first mechanism), or None without attention


def _check_trace(trace) -> DecodeTrace:
    if not isinstance(trace, DecodeTrace):
        raise TypeError(f"`trace` must be a DecodeTrace (TraceDecoder(...).trace), got {type(trace).__name__}")
    if trace.num_steps == 0:
        raise ValueError("`trace` has no steps: the decode finished before its first step")
    return trace


def step_view(trace: DecodeTrace, step: int, row: int, vocab=None) -> StepView:
    """The ``StepView`` of ``trace`` at ``(step, row)``; ``vocab`` names the ids (see ``token_namer``)."""
    _check_trace(trace)
    if trace.is_beam_search:
        raise ValueError("`trace` is a beam-search trace: step through it with BeamTreeViewer")
    step, row = check_index(step, trace.num_steps, "step"), check_index(row, trace.batch_size, "row")
    name = token_namer(vocab)
    input_id = -1 if trace.input_ids is None else int(trace.input_ids[step, row])
    if input_id < 0 and trace.inputs is not None:
        vec = trace.inputs[step, row]
        input_token = "vector [" + ", ".join(f"{v:.2f}" for v in vec[:4]) + (", ...]" if vec.size > 4 else "]")
    else:
        input_token = name(input_id)
    top_k = []
    if trace.top_k_ids is not None:
        top_k = [(int(i), name(i), float(p)) for i, p in zip(trace.top_k_ids[step, row], trace.top_k_probs[step, row])]
    sample_id = int(trace.sample_ids[step, row])
    next_id = -1 if trace.next_input_ids is None else int(trace.next_input_ids[step, row])
    fed_back = None
    if trace.fed_back_sample is not None:
        fed_back = "sample" if trace.fed_back_sample[step, row] else "ground truth"
    before = trace.finished_before(step)
    now = trace.finished[step]
    alignments = trace.alignment_list()
    return StepView(
        step=step, row=row, input_id=input_id, input_token=input_token, top_k=top_k,
        sample_id=sample_id, sample_token=name(sample_id) if sample_id >= 0 else "(none: ground truth fed)",
        sample_in_top_k=any(i == sample_id for i, _, _ in top_k),
        next_input_id=next_id, next_input_token=name(next_id) if next_id >= 0 else "?",
        fed_back=fed_back,
        finished_before=[int(b) for b in np.flatnonzero(before)],
        finishing=[int(b) for b in np.flatnonzero(now & ~before)],
        finished=bool(now[row]), padding=bool(before[row]), length=int(trace.lengths[step, row]),
        alignment=alignments[0][step, row] if alignments else None,
    )


class DecodeStepper(View):
    """Step through a recorded decode: a step slider and a row selector over a ``DecodeTrace``.

    Args:
      trace: a ``DecodeTrace`` of a ``BasicDecoder`` decode (``TraceDecoder(...).trace``).
      vocab: names the target ids (a list of tokens, a dict, a callable; see ``token_namer``).
      source_tokens: the source tokens of each row (``[B]`` lists) for the alignment bars.
      step, row: what is shown first.
    """

    def __init__(self, trace, vocab=None, source_tokens=None, step: int = 0, row: int = 0):
        self.trace = _check_trace(trace)
        if trace.is_beam_search:
            raise ValueError("`trace` is a beam-search trace: step through it with BeamTreeViewer")
        self.vocab = vocab
        if source_tokens is not None:
            if len(source_tokens) != trace.batch_size:
                raise ValueError(f"`source_tokens` must hold one list per row (B = {trace.batch_size}), "
                                 f"got {len(source_tokens)}")
            S = trace.alignment_list()[0].shape[-1] if trace.alignments is not None else None
            for b, tokens in enumerate(source_tokens):
                if S is not None and len(tokens) > S:
                    raise ValueError(f"`source_tokens[{b}]` has {len(tokens)} tokens but the alignments have "
                                     f"{S} source positions")
        self.source_tokens = source_tokens
        self.step = check_index(step, trace.num_steps, "step")
        self.row = check_index(row, trace.batch_size, "row")

    def select(self, step: Optional[int] = None, row: Optional[int] = None) -> "DecodeStepper":
        if step is not None:
            self.step = check_index(step, self.trace.num_steps, "step")
        if row is not None:
            self.row = check_index(row, self.trace.batch_size, "row")
        return self

    def view(self) -> StepView:
        """What is shown now (the logic behind the picture)."""
        return step_view(self.trace, self.step, self.row, self.vocab)

    def summary(self) -> str:
        v = self.view()
        top = ", ".join(f"{tok} {p:.2f}" for _, tok, p in v.top_k[:3])
        fed = f"feeds back {v.next_input_token}" + (f" ({v.fed_back})" if v.fed_back else "")
        state = "finished before this step (padding)" if v.padding else ("finishes now" if v.finished else "running")
        return (f"DecodeStepper: step {v.step}/{self.trace.num_steps}, row {v.row}: in {v.input_token}, "
                f"picked {v.sample_token}" + (f" (top: {top})" if top else "") + f", {fed}; row {state}")

    def details_html(self) -> str:
        v = self.view()
        rows = [
            ["went in", escape(v.input_token) + (f" <small>(id {v.input_id})</small>" if v.input_id >= 0 else "")],
            ["picked", f"<b>{escape(v.sample_token)}</b>"
             + (f" <small>(id {v.sample_id})</small>" if v.sample_id >= 0 else "")],
            ["feeds back", escape(v.next_input_token) + (f" <i>({v.fed_back})</i>" if v.fed_back else "")],
            ["rows finished before", ", ".join(map(str, v.finished_before)) or "none"],
            ["rows finishing now", ", ".join(map(str, v.finishing)) or "none"],
            ["length", str(v.length)],
        ]
        if v.top_k:
            rows.insert(1, ["top-k", "; ".join(f"{escape(tok)} {p:.3f}" for _, tok, p in v.top_k)])
        return html_table(rows, caption=f"step {v.step}, row {v.row} ({escape(self.trace.sampler or 'decode')})")

    def figure(self):
        return plot_decode_step(self.trace, self.step, self.row, vocab=self.vocab, source_tokens=self.source_tokens)

    def _build_widget(self):
        import ipywidgets as widgets

        step = widgets.IntSlider(value=self.step, min=0, max=self.trace.num_steps - 1, description="step",
                                 continuous_update=False)
        row = widgets.Dropdown(options=[(f"row {b}", b) for b in range(self.trace.batch_size)], value=self.row,
                               description="row")
        image, details = png_widget(self.to_png()), widgets.HTML(self.details_html())
        caption = caption_widget(self.summary())

        def refresh(change=None):
            if change is not None:
                self.select(step=step.value, row=row.value)
            image.value, details.value, caption.value = self.to_png(), self.details_html(), escape_text(self.summary())

        step.observe(refresh, "value")
        row.observe(refresh, "value")
        controls = [step] + ([row] if self.trace.batch_size > 1 else [])
        box = widgets.VBox([widgets.HBox(controls), caption, image, details])
        box.add_class("course-lib-decode-stepper")
        self._controls = {"step": step, "row": row, "image": image, "details": details, "caption": caption}
        return box


def plot_decode_step(trace, step: int, row: int = 0, vocab=None, source_tokens=None):
    """One step of a decode: the top-k next tokens (the pick in green), the rows' finished flags
    and, with attention, the alignment over the source. Returns the ``Figure``."""
    v = step_view(trace, step, row, vocab)
    kw = text_kwargs()
    has_alignment = v.alignment is not None
    fig = new_figure(7.5 if has_alignment else 4.6, 3.4)
    grid = fig.add_gridspec(2, 2 if has_alignment else 1, height_ratios=[5, 1])
    ax = fig.add_subplot(grid[0, 0])
    if v.top_k:
        labels = [tok for _, tok, _ in v.top_k][::-1]
        probs = [p for _, _, p in v.top_k][::-1]
        colors = [CHOSEN if i == v.sample_id else "#4c72b0" for i, _, _ in v.top_k][::-1]
        ax.barh(range(len(labels)), probs, color=colors)
        ax.set_yticks(range(len(labels)), labels=labels, **kw)
        ax.set_xlim(0, max(1e-9, max(probs)) * 1.25)
        for y, p in enumerate(probs):
            ax.text(p, y, f" {p:.2f}", va="center", fontsize=8)
        ax.set_xlabel("probability")
    else:
        ax.text(0.5, 0.5, "no top-k recorded", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    note = " (row finished: padding)" if v.padding else ""
    ax.set_title(f"step {v.step}, row {v.row}: in {v.input_token} \u2192 picked {v.sample_token}{note}",
                 fontsize=9, **kw)
    if has_alignment:
        al = fig.add_subplot(grid[0, 1])
        S = len(v.alignment)
        src = list(source_tokens[row]) if source_tokens is not None else [str(s) for s in range(S)]
        weights = v.alignment[:len(src)]
        al.bar(range(len(src)), weights, color=["#4c72b0" if w < weights.max() else CHOSEN for w in weights])
        al.set_xticks(range(len(src)), labels=[display_token(s) for s in src], rotation=60, ha="right",
                      rotation_mode="anchor", **kw)
        al.set_ylim(0, 1.05)
        al.set_title("attention over the source", fontsize=9)
    strip = fig.add_subplot(grid[1, :])
    B = trace.batch_size
    before, now = set(v.finished_before), set(v.finishing)
    colors = [DIMMED if b in before else ("#ff7f0e" if b in now else CHOSEN) for b in range(B)]
    strip.bar(range(B), np.ones(B), color=colors, edgecolor=[HIGHLIGHT if b == row else "white" for b in range(B)],
              linewidth=2)
    strip.set_xticks(range(B), labels=[f"row {b}" for b in range(B)], fontsize=7)
    strip.set_yticks([])
    strip.set_title("rows: running (green), finish now (orange), finished (grey)", fontsize=8)
    return fig
