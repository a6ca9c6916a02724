"""Diagrams of attention: ``attention_step.png`` and ``monotonic_scan.png`` (chapter 6)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from diagram_style import ATTENTION, ATTENTION_EDGE, CELL, CELL_EDGE, LAYER, LAYER_EDGE, PAD, STATE, arrow, box, \
    canvas, label


def attention_step() -> Figure:
    """One attention step: score, softmax, alignments, context, attention, with shapes."""
    fig, ax = canvas(12.4, 4.6)
    y = 2.6
    box(ax, 1.0, y, 1.5, 0.8, "cell output\n(query)", size=9.5)
    label(ax, 0.85, y - 0.65, "[B, H]", size=9)
    arrow(ax, (1.75, y), (2.45, y))
    box(ax, 3.25, y, 1.5, 0.8, "score", face=ATTENTION, edge=ATTENTION_EDGE, size=10)
    label(ax, 3.25, y - 0.65, "[B, S]", size=9)
    box(ax, 3.25, 4.1, 1.9, 0.6, "keys [B, S, U]", face=PAD, edge="#888888", size=9)
    arrow(ax, (3.25, 3.8), (3.25, 3.0))
    arrow(ax, (4.0, y), (4.7, y))
    box(ax, 5.5, y, 1.5, 0.8, "softmax\n(masked)", face=ATTENTION, edge=ATTENTION_EDGE, size=10)
    arrow(ax, (6.25, y), (6.95, y))
    label(ax, 6.6, y + 0.6, "alignments", size=8.5)
    label(ax, 6.6, y - 0.65, "[B, S]", size=9)
    box(ax, 7.75, y, 1.5, 0.8, "weighted\nsum", face=ATTENTION, edge=ATTENTION_EDGE, size=10)
    box(ax, 7.75, 4.1, 2.0, 0.6, "memory [B, S, D]", face=PAD, edge="#888888", size=9)
    arrow(ax, (7.75, 3.8), (7.75, 3.0))
    arrow(ax, (8.5, y), (9.2, y))
    label(ax, 8.85, y + 0.6, "context", size=8.5)
    label(ax, 8.85, y - 0.65, "[B, D]", size=9)
    box(ax, 10.1, y, 1.6, 0.8, "attention layer\n[cell out, context]", face=LAYER, edge=LAYER_EDGE, size=8.5)
    arrow(ax, (10.9, y), (11.5, y))
    label(ax, 11.9, y + 0.2, "attention", size=9)
    label(ax, 11.9, y - 0.15, "[B, A]", size=9)
    arrow(ax, (1.5, y - 0.4), (1.5, 1.0), style="-", color="#666666")
    arrow(ax, (1.5, 1.0), (10.1, 1.0), style="-", color="#666666")
    arrow(ax, (10.1, 1.0), (10.1, y - 0.4), color="#666666")
    label(ax, 5.5, 0.75, "the cell output joins the context in the attention layer (attention_layer_size=A; "
          "without it the attention is the context)", size=9, color="#555555")
    label(ax, 6.2, 0.2, "Bahdanau: score = v . tanh(keys + W query)      Luong: score = query . keys      "
          "keys = memory_layer(memory), once per memory", size=9.5, style="italic")
    return fig


#: the example of chapter 6, section 5 (its checked cell prints the same scan): the chance of stopping at each
#: memory entry, and the previous step's attention, all on entry 2
SCAN_P_CHOOSE = (0.1, 0.9, 0.2, 0.8, 0.7, 0.5)
SCAN_PREVIOUS = 2


def scan(p_choose=SCAN_P_CHOOSE, previous: int = SCAN_PREVIOUS):
    """The scan of the figure, entry by entry: ``(reach, weights, off_end)``, the chance that the scan reaches
    each entry, the new attention (reach it, then stop there) and the chance that it runs off the end.
    (The figure's numbers; the tests compare them with ``cl.monotonic_attention``.)"""
    p = np.array(p_choose, float)
    reach = np.zeros(len(p))
    reach[previous] = 1.0
    for j in range(previous + 1, len(p)):
        reach[j] = reach[j - 1] * (1 - p[j - 1])
    return reach, reach * p, reach[-1] * (1 - p[-1])


def monotonic_scan() -> Figure:
    """Monotonic attention's scan: from where the last step attended, stop at entry j with p_j or move on."""
    p = np.array(SCAN_P_CHOOSE)
    S, start = len(p), SCAN_PREVIOUS
    reach, weights, off_end = scan()

    fig, ax = canvas(12.4, 5.2)
    x0, dx = 2.3, 1.55
    xs = [x0 + j * dx for j in range(S)]
    y_prev, y_mem, y_new = 4.6, 3.0, 1.2
    label(ax, 0.85, y_prev, "previous\nattention", size=9.5)
    label(ax, 0.85, y_mem, "memory entry j\np_j = P(stop)", size=9.5)
    label(ax, 0.85, y_new, "new attention", size=9.5)
    for j, x in enumerate(xs):
        behind = j < start
        box(ax, x, y_prev, 0.9, 0.5, f"{1.0 if j == start else 0.0:g}", face=CELL if j == start else PAD,
            edge=CELL_EDGE if j == start else "#888888", size=10)
        box(ax, x, y_mem, 1.1, 0.75, f"entry {j}\np = {p[j]:g}", face=PAD if behind else ATTENTION,
            edge="#888888" if behind else ATTENTION_EDGE, size=9.5)
        box(ax, x, y_new, 0.9, 0.5, f"{weights[j]:.3g}", face=PAD if weights[j] == 0 else CELL,
            edge="#888888" if weights[j] == 0 else CELL_EDGE, size=10)
        if not behind:
            arrow(ax, (x, y_mem - 0.4), (x, y_new + 0.27), color=STATE)
            ax.text(x + 0.08, (y_mem + y_new) / 2, f"stop\n{reach[j]:.3g}·{p[j]:g}", ha="left", va="center",
                    fontsize=8, color=STATE)
    arrow(ax, (xs[start], y_prev - 0.27), (xs[start], y_mem + 0.4))
    label(ax, xs[start] + 0.95, y_prev - 0.62, "the scan starts here", size=8.5)
    for j in range(start, S):
        end = xs[j + 1] - 0.57 if j + 1 < S else xs[j] + 1.2
        arrow(ax, (xs[j] + 0.57, y_mem), (end, y_mem))
        label(ax, (xs[j] + 0.57 + end) / 2, y_mem + 0.22, f"{1 - p[j]:.1g}", size=8.5)
    label(ax, xs[-1] + 1.7, y_mem, f"off the\nend: {off_end:.3g}", size=9)
    label(ax, (xs[0] + xs[start - 1]) / 2, y_mem - 0.72, "behind the last step's attention:\nnever again",
          size=8.5, color="#666666")
    label(ax, 6.4, 0.3, "move on with 1 - p_j (on the arrows); stop at j with (the chance of reaching j) · p_j; "
          f"the weights sum to {weights.sum():.3g},\nthe rest runs off the end.  'hard' mode: p_j is 0 or 1, and "
          "the scan stops at the first j from the start on whose p_j is 1", size=9, style="italic")
    return fig


#: {PNG name: the function that draws it}; make_figures.py saves each under figures/
DRAWINGS = {
    "attention_step.png": attention_step,
    "monotonic_scan.png": monotonic_scan,
}
