"""The figures' one style: a palette and the drawing helpers every diagram module uses.

All diagrams are matplotlib figures on an equal-aspect canvas measured in inches, so that a
box at ``(x, y)`` sits where its numbers say. ``make_figures.py`` saves them.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

# one palette for all figures
CELL = "#cfe3f7"      # a cell
CELL_EDGE = "#2f6da3"
LAYER = "#fde6c4"     # a dense / embedding layer
LAYER_EDGE = "#b7711b"
SAMPLER = "#d9efd3"   # a sampler
SAMPLER_EDGE = "#3d8a35"
PAD = "#eeeeee"       # padding
STATE = "#8b2f8f"     # state arrows
ATTENTION = "#f3d9e8"  # an attention part
ATTENTION_EDGE = "#a33b78"
TEXT = "#222222"


def box(ax, x, y, w, h, text, face=CELL, edge=CELL_EDGE, size=11, style="round,pad=0.02,rounding_size=0.08",
        weight="normal"):
    """A rounded box ``w`` x ``h`` centred on ``(x, y)`` with ``text`` in it."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style, fc=face, ec=edge, lw=1.6))
    ax.text(x, y, text, ha="center", va="center", fontsize=size, color=TEXT, weight=weight)


def arrow(ax, start, end, color=TEXT, lw=1.5, style="-|>", ls="-", rad=0.0, ms=12):
    """An arrow from ``start`` to ``end`` (``style="-"``: a plain line; ``rad``: curved)."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=ms, color=color, lw=lw,
                                 linestyle=ls, connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0))


def label(ax, x, y, text, size=10, color=TEXT, **kw):
    """Text centred on ``(x, y)``."""
    ax.text(x, y, text, ha="center", va="center", fontsize=size, color=color, **kw)


def canvas(width, height):
    """A figure ``width`` x ``height`` inches whose axes count in inches too, no frame: ``(fig, ax)``."""
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax
