"""Diagrams of the decode loop and its parts: ``decoder_loop.png`` (chapter 2), ``sampler_step.png``
and ``reduction_factor.png`` (chapter 4), ``stop_token_decoder.png`` and ``beam_layout.png`` (chapter 5).
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from diagram_style import CELL_EDGE, LAYER, LAYER_EDGE, SAMPLER, SAMPLER_EDGE, STATE, TEXT, arrow, box, canvas, label


def decoder_loop() -> Figure:
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
    return fig


def sampler_step() -> Figure:
    """One BasicDecoder step with the sampler's three calls, and what four samplers answer."""
    fig, ax = canvas(12.2, 6.0)
    y = 4.1
    label(ax, 0.7, y + 0.25, "inputs", size=11)
    label(ax, 0.7, y - 0.1, "[B, D]", size=9)
    arrow(ax, (1.2, y), (2.0, y))
    box(ax, 2.8, y, 1.6, 0.9, "cell")
    arrow(ax, (2.35, y + 0.45), (3.25, y + 0.45), color=STATE, rad=-1.6, lw=1.8)
    label(ax, 3.65, y + 1.0, "state", color=STATE)
    arrow(ax, (3.6, y), (4.4, y))
    box(ax, 5.3, y, 1.7, 0.9, "output layer", face=LAYER, edge=LAYER_EDGE)
    arrow(ax, (6.15, y), (7.05, y))
    label(ax, 6.6, y + 0.45, "outputs", size=9)
    box(ax, 8.2, y, 2.2, 0.9, "sampler.sample", face=SAMPLER, edge=SAMPLER_EDGE, size=10)
    arrow(ax, (9.3, y), (10.3, y))
    label(ax, 11.1, y + 0.15, "sample_ids", size=11)
    label(ax, 11.1, y - 0.2, "[B]", size=9)
    box(ax, 8.2, 2.55, 2.6, 0.9, "sampler.next_inputs", face=SAMPLER, edge=SAMPLER_EDGE, size=10)
    arrow(ax, (8.2, y - 0.45), (8.2, 3.0))
    arrow(ax, (6.9, 2.55), (0.7, 2.55), style="-")
    arrow(ax, (0.7, 2.55), (0.7, y - 0.35))
    label(ax, 3.8, 2.8, "next_inputs [B, D]  and  finished [B]", size=10)
    label(ax, 6.0, 5.85, "sampler.initialize(...) gives the first inputs and finished flags; then every step:",
          size=10.5, weight="bold")
    rows = [
        ("TrainingSampler", "argmax (recorded only)", "the ground truth inputs[:, t + 1]", "t + 1 >= sequence_length"),
        ("GreedyEmbeddingSampler", "argmax", "embedding(sample_ids)", "sample_ids == end_token"),
        ("InferenceSampler", "sample_fn(outputs)", "next_inputs_fn(sample_ids)", "end_fn(sample_ids)"),
        ("ScheduledOutputTrainingSampler", "a coin per row", "coin ? own output : ground truth",
         "t + 1 >= sequence_length"),
    ]
    xs = [0.2, 3.75, 6.1, 9.6]
    heads = ["sampler", "sample", "next input", "finished"]
    for x, head in zip(xs, heads):
        ax.text(x, 1.75, head, fontsize=9.5, weight="bold", color=TEXT, va="center")
    for i, row in enumerate(rows):
        for x, text in zip(xs, row):
            ax.text(x, 1.35 - 0.37 * i, text, fontsize=9, color=TEXT, va="center",
                    family="monospace" if x == xs[0] else None)
    return fig


def reduction_factor() -> Figure:
    """Tacotron's reduction factor: r frames out per step, the last one fed back."""
    fig, ax = canvas(11.5, 3.7)
    r, steps = 3, 3
    x0, w = 1.6, 0.55
    for s in range(steps):
        xc = x0 + s * 3.3
        box(ax, xc + 0.8, 1.35, 1.5, 0.8, f"cell\nstep {s}", size=10)
        if s:
            arrow(ax, (xc - 1.7, 1.45), (xc + 0.05, 1.45), color=STATE, lw=1.8)
        arrow(ax, (xc + 0.8, 1.75), (xc + 0.8, 2.15))
        for f in range(r):
            fx = xc + f * w
            last = f == r - 1
            ax.add_patch(Rectangle((fx, 2.2), w - 0.06, 0.6, fc="#fde6c4" if last else "#fff4e3",
                                   ec=LAYER_EDGE, lw=1.6 if last else 1.0))
            label(ax, fx + w / 2 - 0.03, 2.5, f"{s * r + f}", size=9)
        # the feedback: the last frame, down and into the next step's cell
        feed_x = xc + (r - 1) * w + w / 2 - 0.03
        next_x = xc + 3.3 + 0.45
        if s < steps - 1:
            arrow(ax, (feed_x + 0.3, 2.5), (feed_x + 0.55, 2.5), style="-", color=LAYER_EDGE, lw=1.5)
            arrow(ax, (feed_x + 0.55, 2.5), (feed_x + 0.55, 0.55), style="-", color=LAYER_EDGE, lw=1.5)
            arrow(ax, (feed_x + 0.55, 0.55), (next_x, 0.55), style="-", color=LAYER_EDGE, lw=1.5)
            arrow(ax, (next_x, 0.55), (next_x, 0.95), color=LAYER_EDGE, lw=1.5)
    label(ax, 0.6, 0.55, "go frame\n(zeros)", size=9)
    arrow(ax, (1.1, 0.55), (x0 + 0.45, 0.55), style="-", color=LAYER_EDGE, lw=1.5)
    arrow(ax, (x0 + 0.45, 0.55), (x0 + 0.45, 0.95), color=LAYER_EDGE, lw=1.5)
    label(ax, 5.7, 3.35, "each step emits r = 3 frames [B, r * depth]; only the last frame goes back in as the next input",
          size=10.5, weight="bold")
    label(ax, 5.7, 0.05, "r times fewer decoder steps than frames: shorter decodes, fewer chances to drift, easier "
          "alignment", size=10, style="italic")
    return fig


def stop_token_decoder() -> Figure:
    """A Tacotron 2-style step: one cell output, two heads (frames, stop probability)."""
    fig, ax = canvas(11.6, 4.2)
    y = 2.4
    label(ax, 0.7, y + 0.25, "last frame", size=10)
    label(ax, 0.7, y - 0.1, "[B, 1]", size=9)
    arrow(ax, (1.25, y), (2.0, y))
    box(ax, 2.8, y, 1.6, 0.9, "cell")
    arrow(ax, (2.35, y + 0.45), (3.25, y + 0.45), color=STATE, rad=-1.6, lw=1.8)
    label(ax, 3.65, y + 1.0, "state", color=STATE)
    arrow(ax, (3.6, y), (4.6, y + 0.8))
    arrow(ax, (3.6, y), (4.6, y - 0.8))
    box(ax, 5.6, y + 0.8, 1.8, 0.7, "frame layer", face=LAYER, edge=LAYER_EDGE, size=10)
    box(ax, 5.6, y - 0.8, 1.8, 0.7, "stop layer", face=LAYER, edge=LAYER_EDGE, size=10)
    arrow(ax, (6.5, y + 0.8), (7.5, y + 0.8))
    arrow(ax, (6.5, y - 0.8), (7.5, y - 0.8))
    label(ax, 8.45, y + 0.8, "frames [B, r]", size=10)
    label(ax, 8.6, y - 0.8, "p(stop) [B]", size=10)
    arrow(ax, (9.4, y - 0.8), (10.1, y - 0.8))
    label(ax, 10.75, y - 0.8, "finished =\np(stop) > 0.5", size=9.5)
    arrow(ax, (8.45, y + 1.15), (8.45, 3.9), style="-", color=LAYER_EDGE)
    arrow(ax, (8.45, 3.9), (0.7, 3.9), style="-", color=LAYER_EDGE)
    arrow(ax, (0.7, 3.9), (0.7, y + 0.5), color=LAYER_EDGE)
    label(ax, 4.6, 4.1, "the last frame goes back in", size=9.5, color=LAYER_EDGE)
    label(ax, 5.8, 0.45, "step returns (StopTokenOutput(frames, stop_probability), state, next inputs, finished): "
          "more than BasicDecoder's one output", size=10, style="italic")
    return fig


def beam_layout() -> Figure:
    """tile_batch: the cell sees B * W rows (a, a, a, b, b, b); the search sees [B, W]."""
    fig, ax = canvas(11.0, 3.9)
    colors = {"a": "#cfe3f7", "b": "#d9efd3"}
    label(ax, 1.1, 3.45, "state [B, H]", size=10, weight="bold")
    for i, name in enumerate("ab"):
        ax.add_patch(Rectangle((0.5, 2.5 - i * 0.6), 1.2, 0.5, fc=colors[name], ec=CELL_EDGE))
        label(ax, 1.1, 2.75 - i * 0.6, name, size=11)
    arrow(ax, (1.9, 2.2), (3.2, 2.2))
    label(ax, 2.55, 2.55, "tile_batch(x, 3)", size=9.5)
    label(ax, 4.1, 3.45, "the cell's view [B * W, H]", size=10, weight="bold")
    for i, name in enumerate("aaabbb"):
        ax.add_patch(Rectangle((3.5, 3.0 - (i + 1) * 0.45), 1.2, 0.4, fc=colors[name], ec=CELL_EDGE))
        label(ax, 4.1, 3.2 - (i + 1) * 0.45, f"{name}  beam {i % 3}", size=9)
    arrow(ax, (4.9, 1.75), (6.2, 1.75))
    label(ax, 5.55, 2.1, "reshape", size=9.5)
    label(ax, 8.2, 3.45, "the search's view [B, W, H]", size=10, weight="bold")
    for i, name in enumerate("ab"):
        for w in range(3):
            ax.add_patch(Rectangle((6.5 + w * 1.3, 2.3 - i * 0.9), 1.2, 0.7, fc=colors[name], ec=CELL_EDGE))
            label(ax, 7.1 + w * 1.3, 2.65 - i * 0.9, f"{name}, beam {w}", size=9)
    label(ax, 5.5, -0.15, "each row's copies sit next to each other (a, a, a, b, b, b): "
          "tile the memory, its lengths and the initial state the same way", size=10, style="italic")
    return fig


#: {PNG name: the function that draws it}; make_figures.py saves each under figures/
DRAWINGS = {
    "decoder_loop.png": decoder_loop,
    "sampler_step.png": sampler_step,
    "reduction_factor.png": reduction_factor,
    "stop_token_decoder.png": stop_token_decoder,
    "beam_layout.png": beam_layout,
}
