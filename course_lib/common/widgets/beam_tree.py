"""``BeamTreeViewer``: the tree of a beam search, from a beam-search ``DecodeTrace``.

Every node is a beam slot ``w`` at step ``t`` with the token it chose and its score; its edge
goes back to the slot of the step before that it grew from (``parent_ids``). The final beams are
traced back through the parents as ``gather_tree`` does; branches that no final beam passes
through were pruned and are dimmed. Continuations of a finished beam (the end token repeated)
are padding and hidden unless ``show_padding``. ``beam_tree`` is the logic, ``plot_beam_tree``
the function form.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

from course_lib.common.trace import DecodeTrace
from course_lib.common.widgets._static import (
    caption_widget, escape_text,
    DIMMED, HIGHLIGHT, View, check_index, escape, html_table, new_figure, png_widget, text_kwargs, token_namer,
)

Node = Tuple[int, int]  # (step, slot); step -1 is the start


@dataclasses.dataclass(frozen=True)
class BeamNode:
    step: int
    slot: int
    token_id: int
    token: str
    score: float
    parent: Node
    finished: bool  # finished after this step (the token is the end token, or it was finished before)
    padding: bool  # its parent had already finished: the end token repeated
    alive: bool  # on a path traced back from the beams of the last shown step


@dataclasses.dataclass(frozen=True)
class BeamTree:
    """The tree of one batch entry up to step ``upto``: nodes, parent edges and the traced paths."""

    row: int
    upto: int
    nodes: Dict[Node, BeamNode]
    edges: List[Tuple[Node, Node]]  # (parent, child)
    paths: List[List[Node]]  # paths[w]: the nodes of final beam w, step 0 first
    hypotheses: List[Tuple[List[int], str, float]]  # per final beam: (ids up to the end token, text, score)

    def path_tokens(self, w: int) -> List[int]:
        """The ids along ``paths[w]`` (end-token padding included, as ``gather_tree`` gives them)."""
        return [self.nodes[n].token_id for n in self.paths[w]]


def _check_beam_trace(trace) -> DecodeTrace:
    if not isinstance(trace, DecodeTrace):
        raise TypeError(f"`trace` must be a DecodeTrace (TraceDecoder(BeamSearchDecoder(...)).trace), "
                        f"got {type(trace).__name__}")
    if not trace.is_beam_search:
        raise ValueError("`trace` is not a beam-search trace (sample_ids [T, B] without a beam axis): "
                         "use DecodeStepper")
    if trace.num_steps == 0:
        raise ValueError("`trace` has no steps")
    return trace


def beam_tree(trace: DecodeTrace, row: int = 0, upto: Optional[int] = None, vocab=None) -> BeamTree:
    """The tree of batch entry ``row`` up to step ``upto`` (default: the last).

    At the last step the beams are traced back as ``gather_tree`` does (from step
    ``min(T, max final length) - 1``); before it, from the slots of step ``upto``.
    """
    _check_beam_trace(trace)
    T, W = trace.num_steps, trace.beam_width
    row = check_index(row, trace.batch_size, "row")
    upto = T - 1 if upto is None else check_index(upto, T, "upto")
    name = token_namer(vocab)
    ids, parents = trace.sample_ids[:, row], trace.parent_ids[:, row]  # (T, W)
    if upto == T - 1:
        last = min(T, int(trace.lengths[-1, row].max())) - 1
    else:
        last = upto
    paths = []
    for w in range(W):
        path, slot = [], w
        for t in range(last, -1, -1):
            path.append((t, slot))
            slot = int(parents[t, slot])
        paths.append(path[::-1])
    on_path = {n for p in paths for n in p}
    nodes, edges = {}, []
    for t in range(upto + 1):
        before = trace.finished_before(t)[row]
        for w in range(W):
            p = int(parents[t, w])
            nodes[(t, w)] = BeamNode(
                step=t, slot=w, token_id=int(ids[t, w]), token=name(ids[t, w]), score=float(trace.scores[t, row, w]),
                parent=(t - 1, p), finished=bool(trace.finished[t, row, w]), padding=t > 0 and bool(before[p]),
                alive=(t, w) in on_path,
            )
            edges.append(((t - 1, p), (t, w)))
    end = trace.end_token
    hypotheses = []
    for path in paths:
        tokens = [nodes[n].token_id for n in path] if path else []
        if end is not None and end in tokens:
            tokens = tokens[:tokens.index(end) + 1]
        score = nodes[path[-1]].score if path else float("nan")
        hypotheses.append((tokens, " ".join(name(i) for i in tokens), score))
    return BeamTree(row=row, upto=upto, nodes=nodes, edges=edges, paths=paths, hypotheses=hypotheses)


class BeamTreeViewer(View):
    """The beam-search tree with a step slider (grow the search), a row selector and the final
    beam to highlight.

    Args:
      trace: a beam-search ``DecodeTrace`` (``TraceDecoder(BeamSearchDecoder(...)).trace``).
      vocab: names the ids (see ``token_namer``); start_token: the label of the root.
      row, upto, highlight: what is shown first (``upto`` None: the whole search).
      show_padding: draw the end tokens that finished beams repeat.
    """

    def __init__(self, trace, vocab=None, row: int = 0, upto: Optional[int] = None, highlight: int = 0,
                 start_token: str = "<start>", show_padding: bool = False):
        self.trace = _check_beam_trace(trace)
        self.vocab, self.start_token, self.show_padding = vocab, start_token, show_padding
        self.row = check_index(row, trace.batch_size, "row")
        self.upto = trace.num_steps - 1 if upto is None else check_index(upto, trace.num_steps, "upto")
        self.highlight = check_index(highlight, trace.beam_width, "highlight")

    def select(self, row=None, upto=None, highlight=None) -> "BeamTreeViewer":
        if row is not None:
            self.row = check_index(row, self.trace.batch_size, "row")
        if upto is not None:
            self.upto = check_index(upto, self.trace.num_steps, "upto")
        if highlight is not None:
            self.highlight = check_index(highlight, self.trace.beam_width, "highlight")
        return self

    def tree(self) -> BeamTree:
        return beam_tree(self.trace, self.row, self.upto, self.vocab)

    def summary(self) -> str:
        tree = self.tree()
        tokens, text, score = tree.hypotheses[self.highlight]
        when = "final" if self.upto == self.trace.num_steps - 1 else f"after step {self.upto}"
        return (f"BeamTreeViewer: row {self.row}, W={self.trace.beam_width}, {self.trace.num_steps} steps; "
                f"{when} beam {self.highlight}: {text} (score {score:.3f})")

    def hypotheses_html(self) -> str:
        tree = self.tree()
        rows = []
        for w, (_, text, score) in enumerate(tree.hypotheses):
            label = f"<b>beam {w}</b>" if w == self.highlight else f"beam {w}"
            rows.append([label, escape(text), f"{score:.3f}"])
        return html_table(rows, header=["", "tokens", "score"],
                          caption=f"row {self.row}, beams after step {tree.upto}")

    def figure(self):
        return plot_beam_tree(self.trace, self.row, vocab=self.vocab, upto=self.upto, highlight=self.highlight,
                              start_token=self.start_token, show_padding=self.show_padding)

    def _build_widget(self):
        import ipywidgets as widgets

        upto = widgets.IntSlider(value=self.upto, min=0, max=self.trace.num_steps - 1, description="step",
                                 continuous_update=False)
        row = widgets.Dropdown(options=[(f"row {b}", b) for b in range(self.trace.batch_size)], value=self.row,
                               description="row")
        highlight = widgets.Dropdown(options=[(f"beam {w}", w) for w in range(self.trace.beam_width)],
                                     value=self.highlight, description="trace")
        image, table = png_widget(self.to_png()), widgets.HTML(self.hypotheses_html())
        caption = caption_widget(self.summary())

        def refresh(change=None):
            self.select(row=row.value, upto=upto.value, highlight=highlight.value)
            image.value, table.value, caption.value = self.to_png(), self.hypotheses_html(), escape_text(self.summary())

        for control in (upto, row, highlight):
            control.observe(refresh, "value")
        controls = [upto] + ([row] if self.trace.batch_size > 1 else []) + [highlight]
        box = widgets.VBox([widgets.HBox(controls), caption, image, table])
        box.add_class("course-lib-beam-tree")
        self._controls = {"step": upto, "row": row, "highlight": highlight, "image": image, "table": table,
                          "caption": caption}
        return box


def plot_beam_tree(trace, row: int = 0, vocab=None, upto: Optional[int] = None, highlight: int = 0,
                   start_token: str = "<start>", show_padding: bool = False):
    """Draw the beam-search tree of ``row``: x is the step, y the beam slot; each node shows its
    token and score; ``highlight``'s final path is red, other final paths blue, pruned branches
    grey. Returns the ``Figure``."""
    tree = beam_tree(trace, row, upto, vocab)
    highlight = check_index(highlight, trace.beam_width, "highlight")
    W, kw = trace.beam_width, text_kwargs()
    labels = [f"beam {w}: {text} ({score:.2f})" for w, (_, text, score) in enumerate(tree.hypotheses)]
    tree_width, text_width = 1.1 * (tree.upto + 2) + 0.8, 0.075 * max(len(x) for x in labels) + 0.3
    fig = new_figure(tree_width + text_width, 0.85 * W + 1.3)
    grid = fig.add_gridspec(1, 2, width_ratios=[tree_width, text_width])
    ax, side = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    shown = {n for n, node in tree.nodes.items() if show_padding or not node.padding}
    highlighted = set(tree.paths[highlight])
    for parent, child in tree.edges:
        if child not in shown:
            continue
        if child in highlighted:
            style = dict(color=HIGHLIGHT, linewidth=2.6, alpha=1.0, zorder=3)
        elif tree.nodes[child].alive:
            style = dict(color="#4c72b0", linewidth=1.6, alpha=0.9, zorder=2)
        else:
            style = dict(color=DIMMED, linewidth=1.0, alpha=0.7, zorder=1)
        ax.plot([parent[0], child[0]], [parent[1], child[1]], **style)
    roots = sorted({n.parent for n in tree.nodes.values() if n.step == 0})
    for _, slot in roots:
        ax.scatter([-1], [slot], s=60, color="black", zorder=4)
        ax.text(-1, slot - 0.22, start_token, ha="center", va="bottom", fontsize=8, **kw)
    for n in sorted(shown):
        node = tree.nodes[n]
        color = HIGHLIGHT if n in highlighted else ("#4c72b0" if node.alive else DIMMED)
        marker = "s" if node.token_id == trace.end_token else "o"
        ax.scatter([node.step], [node.slot], s=55, color=color, marker=marker, zorder=5)
        ax.text(node.step, node.slot - 0.2, node.token, ha="center", va="bottom", fontsize=8,
                color="black" if node.alive else "#888888", **kw)
        ax.text(node.step, node.slot + 0.2, f"{node.score:.2f}", ha="center", va="top", fontsize=6.5,
                color="#555555" if node.alive else "#aaaaaa")
    side.set_ylim(W - 0.4, -0.6)
    side.set_xlim(0, 1)
    side.set_axis_off()
    for w, label in enumerate(labels):
        side.text(0.02, w, label, va="center", fontsize=8, color=HIGHLIGHT if w == highlight else "black",
                  fontweight="bold" if w == highlight else "normal", **kw)
    ax.set_xlim(-1.5, tree.upto + 0.5)
    ax.set_ylim(W - 0.4, -0.6)
    ax.set_xticks(range(-1, tree.upto + 1), labels=["start"] + [str(t) for t in range(tree.upto + 1)])
    ax.set_yticks(range(W), labels=[f"slot {w}" for w in range(W)])
    ax.set_xlabel("step")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"beam search, row {row}: final beams traced back through parent_ids "
                 f"(grey: pruned)", fontsize=9)
    return fig
