"""The views' logic without a browser: validation, which row is highlighted, which bars are shown,
top-k order, the beam tree's edges and paths, the monitor, the static forms (PNG + text), and
the widget wiring (moving a control changes the picture).

Every view's display bundle must hold its widget view: a ``WidgetViewWarning`` (the widget could
not be built) is an error here. ``tests/test_widgets_ipywidgets7.py`` runs this file again under
ipywidgets 7.7 (Colab's), with ``COURSE_LIB_IPYWIDGETS_MAJOR=7``.
"""

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from course_lib.common.trace import DecodeTrace, gather_tree  # noqa: E402
from course_lib.common.widgets import (  # noqa: E402
    AlignmentExplorer, BeamTreeViewer, ChatWidget, DecodeStepper, TrainingMonitor, WidgetViewWarning, beam_tree,
    check_alignments, plot_alignments, plot_beam_tree, plot_decode_step, plot_loss_curve, step_view,
)
from course_lib.common.widgets._static import WIDGET_VIEW, display_token, token_namer, widget_view_spec  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error::course_lib.common.widgets.WidgetViewWarning")

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
EVIL = ["<script>alert(1)</script>", "$x^2$", "<img src=x onerror=alert(1)>"]


def expected_ipywidgets_major() -> int:
    """The ipywidgets major version under test: ``COURSE_LIB_IPYWIDGETS_MAJOR``, else the pinned one."""
    if os.environ.get("COURSE_LIB_IPYWIDGETS_MAJOR"):
        return int(os.environ["COURSE_LIB_IPYWIDGETS_MAJOR"])
    pin = re.search(r"^ipywidgets==(\d+)\.", (ROOT / "requirements.txt").read_text(), re.M)
    assert pin, "requirements.txt pins no ipywidgets==X.Y.Z"
    return int(pin[1])


def normalized(a):
    a = np.asarray(a, dtype=np.float64)
    return a / a.sum(-1, keepdims=True)


def batch_alignments():
    """Two examples: 3 targets x 4 sources, and 2 targets x 2 sources (the rest is padding)."""
    rng = np.random.default_rng(0)
    a = rng.random((2, 3, 4))
    a[1, :, 2:] = 0.0
    a[1, 2] = 0.0  # a padded target row may hold anything
    a[0] = normalized(a[0])
    a[1, :2] = normalized(a[1, :2])
    return a, [["le", "chat", "noir", "</s>"], ["a", EVIL[0]]], [["the", "black", "cat"], ["x", "y"]]


def run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_the_ipywidgets_under_test():
    import ipywidgets

    assert int(ipywidgets.__version__.split(".")[0]) == expected_ipywidgets_major(), ipywidgets.__file__


def test_common_imports_no_framework_and_no_plotting():
    assert run("import sys, course_lib.common, course_lib.common.trace; print(sorted(m for m in "
               "('tensorflow', 'torch', 'keras', 'matplotlib', 'ipywidgets') if m in sys.modules))") == "[]"
    assert run("import sys, course_lib.common.widgets; print(sorted(m for m in "
               "('tensorflow', 'torch', 'keras', 'matplotlib.pyplot') if m in sys.modules))") == "[]"


# -- validation ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("alignments, source, target, message", [
    (normalized(np.ones((3, 4))), ["a", "b", "c"], ["x", "y", "z"],
     r"`source_tokens` has 3 tokens but `alignments` have 4 source positions"),
    (normalized(np.ones((3, 4))), ["a", "b", "c", "d"], ["x", "y"],
     r"`target_tokens` has 2 tokens but `alignments` have 3 target steps"),
    (normalized(np.ones((2, 3, 4))), [["a"] * 4, ["a"] * 5], [["x"] * 3, ["x"]],
     r"`source_tokens` of example 1 has 5 tokens but `alignments` have 4 source positions"),
    (normalized(np.ones((2, 3, 4))), [["a"] * 4], [["x"] * 3], r"one list of tokens per example"),
    (np.array([[0.5, np.nan], [0.5, 0.5]]), ["a", "b"], ["x", "y"], r"holds NaN at \[0, 1\]"),
    (np.array([[1.5, -0.5], [0.5, 0.5]]), ["a", "b"], ["x", "y"], r"negative weight -0.5 at \[0, 1\]"),
    (np.array([[0.5, 0.5], [0.5, 0.2]]), ["a", "b"], ["x", "y"], r"row \[1\] sums to 0.7, expected 1: not normalised"),
    (np.array([[[0.5, 0.4, 0.1]]]), [["a", "b"]], [["x"]], r"weight 0.1 on positions past the 2 source tokens"),
    (np.ones((3,)), ["a"], ["x"], r"must be \[T, S\] or \[B, T, S\]"),
    ({"a": np.eye(2), "b": np.eye(3)}, ["a", "b"], ["x", "y"], "must have one shape"),
])
def test_check_alignments_names_the_mismatch(alignments, source, target, message):
    with pytest.raises(ValueError, match=message):
        check_alignments(alignments, source, target)
    with pytest.raises(ValueError, match=message):
        AlignmentExplorer(alignments, source, target)


def test_check_alignments_accepts_partial_rows_when_asked():
    a = np.array([[0.5, 0.2], [0.0, 0.0]])  # monotonic attention may put less than 1 on the memory
    check_alignments(a, ["a", "b"], ["x", "y"], normalized=False)
    with pytest.raises(ValueError, match="expected at most 1"):
        check_alignments(a * 3, ["a", "b"], ["x", "y"], normalized=False)
    mechanisms, src, tgt = check_alignments(*batch_alignments())
    assert list(mechanisms) == ["alignments"] and mechanisms["alignments"].shape == (2, 3, 4)
    assert src[1] == ["a", EVIL[0]] and tgt[1] == ["x", "y"]


# -- AlignmentExplorer ----------------------------------------------------------------------------------

def test_moving_the_step_moves_the_highlight_and_the_bars():
    a, src, tgt = batch_alignments()
    luong = a.copy()
    luong[0] = a[0, ::-1]
    explorer = AlignmentExplorer({"Bahdanau": a, "Luong": luong}, src, tgt)
    assert explorer.mechanisms == ["Bahdanau", "Luong"] and explorer.highlighted_row() == 0
    for step in range(3):
        explorer.select(step=step)
        assert explorer.highlighted_row() == step
        np.testing.assert_array_equal(explorer.bars()["Bahdanau"], a[0, step])
        np.testing.assert_array_equal(explorer.bars()["Luong"], a[0, 2 - step])
    explorer.select(example=1)  # example 1 has 2 target steps: the step is clamped, padding cut off
    assert explorer.step == 1 and explorer.num_steps() == 2
    np.testing.assert_array_equal(explorer.bars()["Bahdanau"], a[1, 1, :2])
    assert explorer.matrix().shape == (2, 2)
    with pytest.raises(IndexError, match=r"`step` must be in \[0, 2\)"):
        explorer.select(step=2)
    index, token, weight = explorer.top_source()["Bahdanau"]
    assert token == src[1][index] and weight == pytest.approx(a[1, 1, :2].max())


def test_tokens_are_shown_literally_never_interpreted():
    a = normalized(np.ones((2, 3)))
    explorer = AlignmentExplorer(a, EVIL, ["<b>bold</b>", "&amp;"])
    html = explorer.values_html() + explorer.select(step=1).values_html()
    assert "<script>" not in html and "<img" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&amp;amp;" in html  # the token "&amp;" itself
    fig = plot_alignments(a, EVIL, ["<b>bold</b>", "&amp;"], step=0)
    labels = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels() + ax.get_yticklabels()]
    assert "$x^2$" in labels and "<b>bold</b>" in labels  # as typed: no mathtext, no HTML
    assert all(not t.get_parse_math() for ax in fig.axes for t in ax.get_xticklabels() if t.get_text())
    assert display_token("") == "''" and display_token(" ") == "\u2423" and display_token("a\nb") == "a\\nb"


def test_plot_alignments_draws_the_highlight_on_the_chosen_row():
    a, src, tgt = batch_alignments()
    for step in (0, 2):
        fig = plot_alignments(a, src, tgt, step=step)
        heat, bars = fig.axes
        (box,) = [p for p in heat.patches]
        assert box.get_y() == pytest.approx(step - 0.5) and box.get_height() == 1
        np.testing.assert_allclose([r.get_height() for r in bars.patches], a[0, step])
    fig = plot_alignments(a[0], src[0], tgt[0])  # no step: the heatmap alone, values written in
    assert len(fig.axes) == 1 and len(fig.axes[0].texts) == 12


def test_alignment_widget_redraws_when_the_slider_moves():
    a, src, tgt = batch_alignments()
    explorer = AlignmentExplorer(a, src, tgt)
    box = explorer.widget
    controls = explorer._controls
    before = bytes(controls["image"].value)
    assert before.startswith(PNG) and "step 0" in controls["values"].value
    controls["step"].value = 2  # what the browser's slider does
    assert explorer.step == 2 and controls["image"].value != before
    assert "step 2" in controls["values"].value and "cat" in controls["caption"].value
    controls["example"].value = 1
    assert explorer.example == 1 and controls["step"].max == 1 and controls["step"].value == 1
    assert box.children[0].children == (controls["step"], controls["example"])


def test_static_forms_are_in_the_display_bundle():
    a, src, tgt = batch_alignments()
    explorer = AlignmentExplorer(a, src, tgt, step=1)
    bundle = explorer._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]).startswith(PNG)
    assert bundle["text/plain"] == ("AlignmentExplorer: example 0/2, step 1 (target black) attends most to "
                                    f"{src[0][int(np.argmax(a[0, 1]))]} ({a[0, 1].max():.2f})")
    assert bundle[WIDGET_VIEW] == {"version_major": 2, "version_minor": 0, "model_id": explorer.widget.model_id}
    assert repr(explorer) == bundle["text/plain"]


class EchoBot:
    """A stand-in chatbot for ``ChatWidget``: replies with the prompt reversed, attending to the mirror token."""

    methods = ("greedy", "beam")

    def reply(self, prompt, method="greedy"):
        words = prompt.split()
        if not words:
            return SimpleNamespace(prompt=prompt, text="", method=method, message="Say something",
                                   source_tokens=[], reply_tokens=[], alignments=None)
        reply_tokens = words[::-1] + ["</s>"]
        alignments = np.zeros((len(reply_tokens), len(words)))
        for t in range(len(words)):
            alignments[t, len(words) - 1 - t] = 1.0
        alignments[-1] = 1.0 / len(words)
        return SimpleNamespace(prompt=prompt, text=" ".join(words[::-1]), method=method, message="",
                               source_tokens=words, reply_tokens=reply_tokens, alignments=alignments)


def every_view():
    """One of each view, with something to show."""
    monitor = TrainingMonitor(total=3, mode="widget", redraw_every=0.0)
    for loss in (3.0, 2.0, 1.0):
        monitor.update(loss)
    return [AlignmentExplorer(*batch_alignments(), step=1), DecodeStepper(greedy_trace()[0], vocab=VOCAB),
            BeamTreeViewer(beam_trace(), vocab=VOCAB), monitor, ChatWidget(EchoBot(), ["good morning"])]


@pytest.mark.parametrize("index", range(5), ids=["AlignmentExplorer", "DecodeStepper", "BeamTreeViewer",
                                                "TrainingMonitor", "ChatWidget"])
def test_every_view_bundle_holds_its_widget_view(index):
    view = every_view()[index]
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/png", WIDGET_VIEW}
    assert bundle[WIDGET_VIEW] == {"version_major": 2, "version_minor": 0, "model_id": view.widget.model_id}
    assert view.widget._view_name is not None and view.widget.get_view_spec() == bundle[WIDGET_VIEW]
    assert base64.b64decode(bundle["image/png"]).startswith(PNG) and bundle["text/plain"] == view.summary()


@pytest.mark.filterwarnings("default::course_lib.common.widgets.WidgetViewWarning")
def test_a_widget_that_cannot_be_built_is_reported_and_the_static_forms_stay(monkeypatch):
    explorer = AlignmentExplorer(*batch_alignments())

    def broken():
        raise RuntimeError("the slider broke")

    monkeypatch.setattr(explorer, "_build_widget", broken)
    reason = r"its widget could not be shown \(RuntimeError: the slider broke\)"
    with pytest.warns(WidgetViewWarning, match=r"AlignmentExplorer: no interactive view, only its picture and text: "
                                               + reason):
        bundle = explorer._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/png"} and base64.b64decode(bundle["image/png"]).startswith(PNG)

    def genutils_missing():
        raise ModuleNotFoundError("No module named 'ipython_genutils'", name="ipython_genutils")

    monkeypatch.setattr(explorer, "_build_widget", genutils_missing)
    with pytest.warns(WidgetViewWarning, match=r"ipython_genutils cannot be imported .*`pip install ipython_genutils`"):
        assert set(explorer._repr_mimebundle_()) == {"text/plain", "image/png"}
    with pytest.raises(TypeError, match="must be an ipywidgets widget"):
        widget_view_spec(object())


# -- DecodeStepper ----------------------------------------------------------------------------------------

def greedy_trace():
    """A hand-made greedy decode of 3 steps over 2 rows (vocabulary: 0 </s>, 1 <s>, 2 a, 3 b, 4 c)."""
    logits = np.array([[[0, 0, 3, 1, 2.0], [0, 0, 1, 3, 2.0]],
                       [[4, 0, 1, 1, 0.0], [0, 0, 1, 3, 2.5]],
                       [[0, 0, 1, 1, 3.0], [5, 0, 1, 1, 0.0]]])
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    order = np.argsort(-p, axis=-1, kind="stable")[..., :3]
    sample_ids = order[..., 0]  # [[2, 3], [0, 3], [4, 0]]
    finished = np.array([[False, False], [True, False], [True, True]])
    alignments = normalized(np.random.default_rng(1).random((3, 2, 4)))
    return DecodeTrace(
        sample_ids=sample_ids, finished=finished, lengths=np.array([[1, 1], [2, 2], [2, 3]]),
        input_ids=np.array([[1, 1], [2, 3], [0, 3]]), next_input_ids=sample_ids,
        fed_back_sample=np.ones((3, 2), bool), top_k_ids=order, top_k_probs=np.take_along_axis(p, order, -1),
        alignments=alignments, initial_finished=np.zeros(2, bool), end_token=0, sampler="GreedyEmbeddingSampler",
    ), p


VOCAB = ["</s>", "<s>", "a", "b", "c"]


def test_step_view_shows_input_top_k_pick_feedback_and_finished_rows():
    trace, p = greedy_trace()
    v = step_view(trace, 0, 1, VOCAB)
    assert (v.input_token, v.sample_token, v.next_input_token, v.fed_back) == ("<s>", "b", "b", "sample")
    assert [tok for _, tok, _ in v.top_k] == ["b", "c", "a"]  # best first
    np.testing.assert_allclose([q for _, _, q in v.top_k], sorted(p[0, 1], reverse=True)[:3])
    assert v.sample_in_top_k and not v.finished and v.finished_before == [] and v.finishing == []
    v = step_view(trace, 1, 0, VOCAB)
    assert v.sample_token == "</s>" and v.finishing == [0] and v.finished and not v.padding
    v = step_view(trace, 2, 0, VOCAB)
    assert v.finished_before == [0] and v.finishing == [1] and v.padding and v.length == 2
    np.testing.assert_array_equal(v.alignment, trace.alignments[2, 0])


def test_stepper_moves_and_redraws():
    trace, _ = greedy_trace()
    stepper = DecodeStepper(trace, vocab=VOCAB, source_tokens=[["w", "x", "y", "z"]] * 2)
    assert stepper.summary() == ("DecodeStepper: step 0/3, row 0: in <s>, picked a (top: a 0.62, c 0.23, b 0.08), "
                                 "feeds back a (sample); row running")
    stepper.widget
    controls = stepper._controls
    before = bytes(controls["image"].value)
    controls["step"].value = 1
    assert stepper.view().step == 1 and controls["image"].value != before
    assert "</s>" not in controls["details"].value and "&lt;/s&gt;" in controls["details"].value
    controls["row"].value = 1
    assert stepper.view().row == 1 and "row 1" in controls["caption"].value
    fig = plot_decode_step(trace, 1, 0, vocab=VOCAB)
    bars = fig.axes[0].patches
    assert [b.get_facecolor()[:3] for b in bars][-1] == pytest.approx((0.172549, 0.627451, 0.172549), abs=1e-3)
    with pytest.raises(IndexError, match=r"`row` must be in \[0, 2\)"):
        stepper.select(row=2)


def test_stepper_refuses_beam_traces_and_empty_traces():
    trace = beam_trace()
    with pytest.raises(ValueError, match="BeamTreeViewer"):
        DecodeStepper(trace)
    empty = DecodeTrace(sample_ids=np.zeros((0, 2), int), finished=np.zeros((0, 2), bool), lengths=np.zeros((0, 2)))
    with pytest.raises(ValueError, match="no steps"):
        DecodeStepper(empty)
    with pytest.raises(TypeError, match="DecodeTrace"):
        DecodeStepper(np.zeros((3, 2)))


def test_token_namer_accepts_lists_dicts_and_callables():
    assert token_namer(VOCAB)(2) == "a" and token_namer(VOCAB)(9) == "#9" and token_namer(VOCAB)(-1) == "?"
    assert token_namer({"a": 2})(2) == "a" and token_namer({2: "a"})(2) == "a"
    assert token_namer(lambda i: f"t{i}")(3) == "t3" and token_namer(None)(3) == "3"


# -- BeamTreeViewer -----------------------------------------------------------------------------------------

def beam_trace():
    """A hand-made search, 1 entry, W = 2, end token 0 (ids [T, B, W] = [4, 1, 2]).

    step 0: a  b  | step 1: "b c", "a </s>" (finished) | step 2: "b c a", "b c </s>" ("a </s>" pruned)
    step 3: "b c a </s>", "b c </s>" (the end token repeated: padding)
    """
    ids = np.array([[2, 3], [4, 0], [2, 0], [0, 0]])[:, None, :]
    parents = np.array([[0, 0], [1, 0], [0, 0], [0, 1]])[:, None, :]
    finished = np.array([[False, False], [False, True], [False, True], [True, True]])[:, None, :]
    lengths = np.array([[1, 1], [2, 2], [3, 3], [4, 3]])[:, None, :]
    scores = np.array([[-0.5, -1.0], [-1.2, -1.5], [-1.6, -1.8], [-1.7, -1.8]])[:, None, :]
    return DecodeTrace(sample_ids=ids, finished=finished, lengths=lengths, parent_ids=parents, scores=scores,
                       initial_finished=np.array([[False, True]]), end_token=0, sampler="BeamSearchDecoder")


def test_beam_tree_edges_paths_pruning_and_padding():
    trace = beam_trace()
    tree = beam_tree(trace, 0, vocab=VOCAB)
    assert sorted(tree.edges) == sorted(((t - 1, int(trace.parent_ids[t, 0, w])), (t, w))
                                        for t in range(4) for w in range(2))
    assert tree.paths == [[(0, 1), (1, 0), (2, 0), (3, 0)], [(0, 1), (1, 0), (2, 1), (3, 1)]]
    final = gather_tree(trace.sample_ids, trace.parent_ids, trace.lengths[-1].max(axis=1), 0)
    for w in range(2):
        np.testing.assert_array_equal(tree.path_tokens(w), final[:, 0, w])
    assert tree.hypotheses == [([3, 4, 2, 0], "b c a </s>", -1.7), ([3, 4, 0], "b c </s>", -1.8)]
    assert sorted(n for n, node in tree.nodes.items() if not node.alive) == [(0, 0), (1, 1)]  # pruned
    assert [n for n, node in tree.nodes.items() if node.padding] == [(3, 1)]
    # part-way: the beams of step 1 are traced back from step 1
    early = beam_tree(trace, 0, upto=1, vocab=VOCAB)
    assert early.paths == [[(0, 1), (1, 0)], [(0, 0), (1, 1)]]
    assert all(node.alive for node in early.nodes.values())
    assert early.hypotheses[1][1] == "a </s>"


def test_beam_tree_viewer_and_plot():
    trace = beam_trace()
    viewer = BeamTreeViewer(trace, vocab=VOCAB)
    assert viewer.summary() == "BeamTreeViewer: row 0, W=2, 4 steps; final beam 0: b c a </s> (score -1.700)"
    viewer.widget
    controls = viewer._controls
    before = bytes(controls["image"].value)
    controls["highlight"].value = 1
    assert viewer.highlight == 1 and controls["image"].value != before and "<b>beam 1</b>" in controls["table"].value
    controls["step"].value = 1
    assert viewer.upto == 1 and "after step 1" in controls["caption"].value
    fig = plot_beam_tree(trace, vocab=VOCAB)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "beam 0: b c a </s> (-1.70)" in texts and "<start>" in texts
    hidden = plot_beam_tree(trace, vocab=VOCAB, show_padding=True)
    assert len(hidden.axes[0].texts) > len(fig.axes[0].texts)  # padding nodes drawn only when asked
    with pytest.raises(ValueError, match="not a beam-search trace"):
        BeamTreeViewer(greedy_trace()[0])


# -- TrainingMonitor -------------------------------------------------------------------------------------------

def test_monitor_text_fallback(capsys):
    with TrainingMonitor(total=20, mode="text") as monitor:
        for i in range(20):
            monitor.update(1.0 / (i + 1))
        monitor.log(val_loss=0.3)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "training: step 2/20  loss 0.5000" and len(lines) == 11
    assert lines[-1] == ("TrainingMonitor(training): step 20/20, loss 1.0000 -> 0.0500 (best 0.0500 at step 20), "
                         "val_loss 0.3000")
    with pytest.raises(RuntimeError, match="closed"):
        monitor.update(1.0)
    with pytest.raises(ValueError, match="`mode`"):
        TrainingMonitor(mode="fancy")


def test_monitor_widget_mode_updates_bar_and_curve():
    monitor = TrainingMonitor(total=5, mode="widget", redraw_every=0.0)
    box = monitor.widget
    bar = monitor._bar
    first = bytes(monitor._image.value)
    for loss in (3.0, 2.0, 1.5):
        monitor.update(loss)
    assert bar.n == 3 and monitor._image.value != first and monitor.step == 3
    monitor.close()
    assert monitor.closed and "loss 3.0000 -> 1.5000" in monitor.summary()
    assert box.children[0] is bar.container
    fig = plot_loss_curve([3.0, 2.0, 1.5], metrics={"val": [(3, 1.7)]})
    assert [line.get_label() for line in fig.axes[0].lines] == ["loss", "val"]


# -- the static forms in an executed notebook (no browser) ----------------------------------------------------

def test_executed_notebook_keeps_png_and_text_for_every_view(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "import numpy as np\nfrom course_lib.common.widgets import *\nfrom tests.test_widgets import *\n"
        "import ipywidgets\nprint(ipywidgets.__version__.split('.')[0])",
        "AlignmentExplorer(*batch_alignments(), step=1)",
        "DecodeStepper(greedy_trace()[0], vocab=VOCAB)",
        "BeamTreeViewer(beam_trace(), vocab=VOCAB)",
        "ChatWidget(EchoBot(), ['good morning'])",
        "m = TrainingMonitor(total=3)\nfor loss in (3.0, 2.0, 1.0):\n    m.update(loss)\nm.close()",
        "plot_loss_curve([3.0, 2.0, 1.0])",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [cell.outputs for cell in nb.cells]
    assert not any(o.get("output_type") == "error" or o.get("name") == "stderr" for outs in outputs for o in outs), \
        "errors or warnings (a WidgetViewWarning: a view without its widget)"
    assert outputs[0][0]["text"].strip() == str(expected_ipywidgets_major())  # the kernel's ipywidgets
    names = ["AlignmentExplorer", "DecodeStepper", "BeamTreeViewer", "you: good"]
    for outs, name in zip(outputs[1:5], names, strict=True):
        (out,) = outs
        assert {"image/png", "text/plain", WIDGET_VIEW} <= set(out["data"]) and "model_id" in out["data"][WIDGET_VIEW]
        assert out["data"]["text/plain"].startswith(name)
    monitor = [o for o in outputs[5] if o.get("output_type") == "display_data"]
    assert monitor and "TrainingMonitor(training): step 3/3" in monitor[-1]["data"]["text/plain"]
    assert WIDGET_VIEW in monitor[-1]["data"]
    assert "image/png" in outputs[6][0]["data"]  # a returned Figure shows as a picture
    json.dumps(nb)  # what nbformat would save


@pytest.mark.parametrize("backend_name", ["tf", "torch"])
def test_demo_notebook_runs_in_both_backends(backend_name):
    """The browser test's notebook, executed without a browser: real decodes of each backend
    through ``TraceDecoder`` into every view, each leaving its PNG and text behind."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    root = ROOT
    nb = nbformat.read(root / "tests" / "browser" / "widgets_demo.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.source = first.source.replace('BACKEND = "torch"', f'BACKEND = "{backend_name}"')
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(root)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"], "errors or log lines"
    shown = [o["data"] for o in outputs if "image/png" in o.get("data", {})]
    assert all(WIDGET_VIEW in data for data in shown), "a view without its widget"
    views = [data["text/plain"] for data in shown]
    assert [v.split(":")[0].split("(")[0] for v in views] == [
        "AlignmentExplorer", "DecodeStepper", "BeamTreeViewer", "TrainingMonitor"]
    assert "DecodeStepper: step 0/6, row 0: in <s>" in views[1]
    assert views[2].startswith("BeamTreeViewer: row 0, W=3")
