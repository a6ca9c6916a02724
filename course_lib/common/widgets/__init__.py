"""Views of what the decoder does, for the notebooks of both backends (NumPy in).

* ``AlignmentExplorer`` / ``plot_alignments``: attention heatmaps with a step slider.
* ``DecodeStepper`` / ``plot_decode_step``: step through a recorded decode (``DecodeTrace``).
* ``BeamTreeViewer`` / ``plot_beam_tree``: the tree of a beam search.
* ``TrainingMonitor`` / ``plot_loss_curve``: progress bar and live loss curve.
* ``ChatWidget`` / ``replies_table``: a chat box with the last reply's alignment; replies side by side.

Each view is an ipywidgets box where a widget frontend runs (JupyterLab, Colab) and a PNG plus
a short text everywhere else (nbval, nbconvert, GitHub's preview); the ``plot_*`` functions
return the matplotlib ``Figure`` alone. No JavaScript beyond ipywidgets' own; tokens are shown
as text, never interpreted as HTML or mathtext. Under ipywidgets 7 (Colab) and 8 alike; a view
that cannot build its widget says why (``WidgetViewWarning``) and shows the PNG and text.
"""

from course_lib.common.widgets._static import WidgetViewWarning
from course_lib.common.widgets.alignment import AlignmentExplorer, check_alignments, plot_alignments
from course_lib.common.widgets.beam_tree import BeamTree, BeamTreeViewer, beam_tree, plot_beam_tree
from course_lib.common.widgets.chat import ChatWidget, replies_table
from course_lib.common.widgets.monitor import TrainingMonitor, plot_loss_curve
from course_lib.common.widgets.stepper import DecodeStepper, StepView, plot_decode_step, step_view

__all__ = [
    "AlignmentExplorer", "check_alignments", "plot_alignments",
    "DecodeStepper", "StepView", "step_view", "plot_decode_step",
    "BeamTreeViewer", "BeamTree", "beam_tree", "plot_beam_tree",
    "TrainingMonitor", "plot_loss_curve", "ChatWidget", "replies_table", "WidgetViewWarning",
]
