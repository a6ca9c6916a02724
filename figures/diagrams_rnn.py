"""Diagrams of cells and their unrolling: ``unrolled_rnn.png`` and ``padded_batch.png`` (chapter 1),
``cell_wrapper.png`` (chapter 3).
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from diagram_style import CELL, CELL_EDGE, LAYER, LAYER_EDGE, PAD, STATE, TEXT, arrow, box, canvas, label


def unrolled_rnn() -> Figure:
    """A cell with its loop (left) = the same cell unrolled over four steps (right)."""
    fig, ax = canvas(11.0, 3.6)
    # folded
    box(ax, 1.2, 1.8, 1.2, 0.8, "cell")
    arrow(ax, (1.2, 0.55), (1.2, 1.4))
    label(ax, 1.2, 0.35, "$x_t$  [B, D]")
    arrow(ax, (1.2, 2.2), (1.2, 3.0))
    label(ax, 1.2, 3.2, "$y_t$  [B, H]")
    arrow(ax, (1.8, 1.95), (1.8, 1.65), color=STATE, rad=-2.2, lw=1.8)
    label(ax, 2.45, 1.8, "state", color=STATE)
    label(ax, 3.05, 1.8, "=", size=22)
    # unrolled
    xs = [4.6, 6.4, 8.2, 10.0]
    label(ax, 3.55, 2.35, "$h_0$", color=STATE, size=12)
    arrow(ax, (3.75, 1.8), (xs[0] - 0.6, 1.8), color=STATE, lw=1.8)
    for t, x in enumerate(xs):
        box(ax, x, 1.8, 1.2, 0.8, "cell")
        arrow(ax, (x, 0.55), (x, 1.4))
        label(ax, x, 0.35, f"$x_{t}$")
        arrow(ax, (x, 2.2), (x, 3.0))
        label(ax, x, 3.2, f"$y_{t}$")
        if t < len(xs) - 1:
            arrow(ax, (x + 0.6, 1.8), (xs[t + 1] - 0.6, 1.8), color=STATE, lw=1.8)
            label(ax, (x + xs[t + 1]) / 2, 2.05, f"$h_{t + 1}$", color=STATE, size=11)
    arrow(ax, (xs[-1] + 0.6, 1.8), (xs[-1] + 1.4, 1.8), color=STATE, lw=1.8)
    label(ax, xs[-1] + 1.2, 2.3, "final state", color=STATE, size=10)
    label(ax, 7.3, -0.2, "one cell, the same weights at every step:  outputs [B, T, H] = all $y_t$;  "
          "final_state = the last $h$", size=10, style="italic")
    return fig


def padded_batch() -> Figure:
    """A padded batch with sequence_length = [5, 2, 0]: outputs zero and state frozen past each length."""
    lengths = [5, 2, 0]
    T = 5
    fig, ax = canvas(10.4, 3.9)
    x0, y0, w, h = 2.3, 0.45, 1.05, 0.8
    for t in range(T):
        label(ax, x0 + t * w + w / 2, y0 + len(lengths) * h + 0.3, f"step {t}", size=10)
    for row, length in enumerate(lengths):
        y = y0 + (len(lengths) - 1 - row) * h
        label(ax, 1.1, y + h / 2, f"row {row}\nlength {length}", size=10)
        for t in range(T):
            valid = t < length
            ax.add_patch(Rectangle((x0 + t * w + 0.04, y + 0.06), w - 0.08, h - 0.12,
                                   fc=CELL if valid else PAD, ec=CELL_EDGE if valid else "#aaaaaa", lw=1.2,
                                   hatch=None if valid else "//"))
            label(ax, x0 + t * w + w / 2, y + h * 0.6, "$y$" if valid else "0", size=12,
                  color=TEXT if valid else "#777777")
        # where the final state is read: carried, unchanged, over the padding
        xs = x0 + length * w
        arrow(ax, (xs, y + h * 0.22), (x0 + T * w + 1.0, y + h * 0.22), color=STATE, lw=1.6, ls="--")
        last = "$h_0$ (initial)" if length == 0 else f"state after step {length - 1}"
        ax.text(x0 + T * w + 1.1, y + h * 0.22, last, ha="left", va="center", fontsize=10, color=STATE)
    label(ax, 5.2, -0.05, "past its length a row outputs zeros and its state stays frozen: "
          "final_state[row] = the state at its length", size=10, style="italic")
    return fig


def cell_wrapper() -> Figure:
    """A wrapper: a cell inside a cell, changing inputs and outputs, passing the state through."""
    fig, ax = canvas(11.0, 4.4)
    ax.add_patch(FancyBboxPatch((1.6, 0.7), 7.8, 3.1, boxstyle="round,pad=0.02,rounding_size=0.15",
                                fc="#f6f9fd", ec=CELL_EDGE, lw=1.6, ls="--"))
    label(ax, 5.5, 3.5, "wrapper  (state_size, output_size, get_initial_state: the wrapped cell's, "
          "or changed on purpose)", size=10)
    label(ax, 0.7, 1.85, "inputs", size=11)
    arrow(ax, (1.1, 1.85), (2.1, 1.85))
    box(ax, 3.0, 1.85, 1.6, 0.8, "input\nprojection", face=LAYER, edge=LAYER_EDGE, size=10)
    arrow(ax, (3.8, 1.85), (4.6, 1.85))
    box(ax, 5.4, 1.85, 1.6, 0.9, "cell", size=12)
    arrow(ax, (4.95, 2.3), (5.85, 2.3), color=STATE, rad=-1.5, lw=1.8)
    arrow(ax, (6.2, 1.85), (6.9, 1.85))
    label(ax, 7.15, 1.85, "+", size=18)
    arrow(ax, (7.4, 1.85), (7.9, 1.85))
    box(ax, 8.6, 1.85, 1.4, 0.8, "output\nprojection", face=LAYER, edge=LAYER_EDGE, size=10)
    arrow(ax, (9.3, 1.85), (10.1, 1.85))
    label(ax, 10.5, 1.85, "output", size=11)
    # the residual path
    arrow(ax, (4.2, 1.85), (4.2, 1.05), style="-", color="#666666")
    arrow(ax, (4.2, 1.05), (7.15, 1.05), style="-", color="#666666")
    arrow(ax, (7.15, 1.05), (7.15, 1.6), color="#666666")
    label(ax, 5.7, 0.85, "residual: output = cell input + cell output", size=9, color="#555555")
    label(ax, 5.5, 0.25, "each part optional: InputProjectionWrapper, ResidualWrapper, OutputProjectionWrapper",
          size=10, style="italic")
    return fig


#: {PNG name: the function that draws it}; make_figures.py saves each under figures/
DRAWINGS = {
    "unrolled_rnn.png": unrolled_rnn,
    "padded_batch.png": padded_batch,
    "cell_wrapper.png": cell_wrapper,
}
