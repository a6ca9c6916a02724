"""Draw the course's diagrams (chapters 1-3) with matplotlib.

    python figures/make_figures.py          # writes figures/*.png next to this file

The notebooks embed these PNGs as cell attachments (``notebooks/src/build.py``), so they
show offline, on Binder and in Colab. After changing a figure, rebuild the notebooks.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402

HERE = Path(__file__).resolve().parent
DPI = 110

# one palette for all figures
CELL = "#cfe3f7"      # a cell
CELL_EDGE = "#2f6da3"
LAYER = "#fde6c4"     # a dense / embedding layer
LAYER_EDGE = "#b7711b"
SAMPLER = "#d9efd3"   # a sampler
SAMPLER_EDGE = "#3d8a35"
PAD = "#eeeeee"       # padding
STATE = "#8b2f8f"     # state arrows
TEXT = "#222222"


def box(ax, x, y, w, h, text, face=CELL, edge=CELL_EDGE, size=11, style="round,pad=0.02,rounding_size=0.08",
        weight="normal"):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style, fc=face, ec=edge, lw=1.6))
    ax.text(x, y, text, ha="center", va="center", fontsize=size, color=TEXT, weight=weight)


def arrow(ax, start, end, color=TEXT, lw=1.5, style="-|>", ls="-", rad=0.0, ms=12):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=ms, color=color, lw=lw,
                                 linestyle=ls, connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0))


def label(ax, x, y, text, size=10, color=TEXT, **kw):
    ax.text(x, y, text, ha="center", va="center", fontsize=size, color=color, **kw)


def canvas(width, height):
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def save(fig, name):
    fig.savefig(HERE / name, dpi=DPI, bbox_inches="tight", pad_inches=0.08, metadata={"Software": None})
    plt.close(fig)


def unrolled_rnn():
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
    save(fig, "unrolled_rnn.png")


def padded_batch():
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
    save(fig, "padded_batch.png")


def decoder_loop():
    """BasicDecoder.step: the cell computes, the output layer projects, the sampler picks and feeds back."""
    fig, ax = canvas(11.6, 4.4)
    y = 2.2
    label(ax, 0.75, y + 0.3, "inputs", size=11)
    label(ax, 0.75, y - 0.05, "[B, E]", size=9)
    arrow(ax, (1.25, y), (2.1, y))
    box(ax, 2.9, y, 1.6, 0.9, "cell")
    arrow(ax, (2.45, y + 0.45), (3.35, y + 0.45), color=STATE, rad=-1.6, lw=1.8)
    label(ax, 3.75, y + 1.0, "state", color=STATE)
    arrow(ax, (3.7, y), (4.7, y))
    label(ax, 4.2, y + 0.25, "[B, H]", size=9)
    box(ax, 5.6, y, 1.8, 0.9, "output layer", face=LAYER, edge=LAYER_EDGE)
    arrow(ax, (6.5, y), (7.5, y))
    label(ax, 7.0, y + 0.45, "logits\n[B, V]", size=9)
    box(ax, 8.4, y, 1.8, 0.9, "sampler", face=SAMPLER, edge=SAMPLER_EDGE)
    arrow(ax, (9.3, y), (10.25, y))
    label(ax, 10.85, y + 0.15, "sample_id", size=11)
    label(ax, 10.85, y - 0.2, "[B]", size=9)
    # the feedback path
    arrow(ax, (8.4, y - 0.45), (8.4, 0.9))
    arrow(ax, (8.4, 0.9), (0.75, 0.9), style="-")
    arrow(ax, (0.75, 0.9), (0.75, y - 0.3))
    label(ax, 4.6, 1.2, "next_inputs and finished [B]: from the sampler", size=10)
    label(ax, 4.6, 0.5, "TrainingSampler: the ground truth $x_{t+1}$ (teacher forcing)      "
          "GreedyEmbeddingSampler: embedding(argmax)      SampleEmbeddingSampler: embedding(a draw)",
          size=9, style="italic")
    label(ax, 5.8, 3.95, "one decoder step = cell + output layer + sampler;  dynamic_decode repeats it "
          "until every row has finished", size=10.5, weight="bold")
    save(fig, "decoder_loop.png")


def cell_wrapper():
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
    save(fig, "cell_wrapper.png")


def main():
    unrolled_rnn()
    padded_batch()
    decoder_loop()
    cell_wrapper()
    print("wrote", ", ".join(sorted(p.name for p in HERE.glob("*.png"))))


if __name__ == "__main__":
    main()
