"""Diagrams of attention: ``attention_step.png`` (chapter 6)."""

from __future__ import annotations

from matplotlib.figure import Figure

from diagram_style import ATTENTION, ATTENTION_EDGE, LAYER, LAYER_EDGE, PAD, arrow, box, canvas, label


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


#: {PNG name: the function that draws it}; make_figures.py saves each under figures/
DRAWINGS = {
    "attention_step.png": attention_step,
}
