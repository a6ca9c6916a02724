"""``TrainingMonitor``: a progress bar (tqdm's notebook bar) and a live loss curve for the
notebooks' training loops, with a plain-text fallback outside Jupyter. ``plot_loss_curve`` is
the function form.

::

    monitor = TrainingMonitor(total=steps)
    for step in range(steps):
        loss = train_step(...)
        monitor.update(loss)            # a float, or a framework scalar (float() of it)
        if step % 100 == 0:
            monitor.log(val_loss=...)   # other curves, at the current step
    monitor.close()                     # or: with TrainingMonitor(total=steps) as monitor: ...
"""

from __future__ import annotations

import sys
import time
from typing import Dict, List, Optional

import numpy as np

from course_lib.common.widgets._static import View, new_figure, png_widget


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (where a widget frontend may be listening)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class TrainingMonitor(View):
    """Progress and loss of a training loop.

    Args:
      total: the number of ``update`` calls expected (steps), or None if unknown.
      description: the bar's label.
      mode: ``"widget"`` (tqdm notebook bar + live curve), ``"text"`` (printed lines) or ``"auto"``
        (widget inside a Jupyter kernel with ipywidgets, else text).
      redraw_every: seconds between redraws of the live curve (a redraw costs ~0.1 s).
      print_every: text mode prints a line every this many steps (default: a tenth of ``total``).
      file: where text mode prints (default ``sys.stdout``).
    """

    def __init__(self, total: Optional[int] = None, description: str = "training", mode: str = "auto",
                 redraw_every: float = 2.0, print_every: Optional[int] = None, file=None):
        if mode not in ("auto", "widget", "text"):
            raise ValueError(f"`mode` must be 'auto', 'widget' or 'text', got {mode!r}")
        if total is not None and (isinstance(total, bool) or not isinstance(total, (int, np.integer)) or total < 0):
            raise ValueError(f"`total` must be an int >= 0 or None, got {total!r}")
        if mode == "auto":
            mode = "widget" if _in_kernel() and _has_widgets() else "text"
        self.total, self.description, self.mode = total, description, mode
        self.redraw_every = float(redraw_every)
        self.print_every = print_every or (max(1, total // 10) if total else 100)
        self.file = file
        self.losses: List[float] = []
        self.metrics: Dict[str, List[tuple]] = {}  # name -> [(step, value)]
        self.closed = False
        self._last_draw = 0.0
        self._bar = self._handle = None
        if mode == "widget":
            self._start_widget()

    # -- recording -----------------------------------------------------------------------------
    @property
    def step(self) -> int:
        """The number of ``update`` calls so far."""
        return len(self.losses)

    def update(self, loss, **metrics) -> None:
        """Record one step's ``loss`` (and optional other values, e.g. ``accuracy=...``)."""
        if self.closed:
            raise RuntimeError("this TrainingMonitor is closed; make a new one for another run")
        self.losses.append(float(loss))
        for name, value in metrics.items():
            self.metrics.setdefault(name, []).append((self.step, float(value)))
        if self.mode == "widget":
            self._bar.update(1)
            self._bar.set_postfix_str(f"loss {self.losses[-1]:.4f}", refresh=False)
            if time.monotonic() - self._last_draw >= self.redraw_every:
                self._redraw()
        elif self.step % self.print_every == 0 or self.step == self.total:
            self._print(self._line())

    def log(self, **metrics) -> None:
        """Record values at the current step without a new loss (e.g. a validation loss)."""
        for name, value in metrics.items():
            self.metrics.setdefault(name, []).append((self.step, float(value)))

    def close(self) -> None:
        """Finish: last redraw, the bar closes, the static forms show the final curve."""
        if self.closed:
            return
        self.closed = True
        if self.mode == "widget":
            self._redraw()
            self._bar.close()
            if self._handle is not None:
                self._handle.update(self)
        else:
            if self.step % self.print_every != 0 and self.step != self.total:
                self._print(self._line())
            self._print(self.summary())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- text ------------------------------------------------------------------------------------
    def _line(self) -> str:
        of = f"/{self.total}" if self.total else ""
        extra = "".join(f"  {k} {v[-1][1]:.4f}" for k, v in self.metrics.items())
        return f"{self.description}: step {self.step}{of}  loss {self.losses[-1]:.4f}{extra}"

    def _print(self, text: str) -> None:
        print(text, file=self.file or sys.stdout, flush=True)

    def summary(self) -> str:
        if not self.losses:
            return f"TrainingMonitor({self.description}): no steps yet"
        losses = np.asarray(self.losses)
        finite = np.isfinite(losses)
        best = int(np.nanargmin(np.where(finite, losses, np.nan))) if finite.any() else -1
        of = f"/{self.total}" if self.total else ""
        text = (f"TrainingMonitor({self.description}): step {self.step}{of}, loss {losses[0]:.4f} -> "
                f"{losses[-1]:.4f}")
        if best >= 0:
            text += f" (best {losses[best]:.4f} at step {best + 1})"
        for name, values in self.metrics.items():
            text += f", {name} {values[-1][1]:.4f}"
        return text

    # -- pictures and the widget -------------------------------------------------------------------
    def figure(self):
        return plot_loss_curve(self.losses, metrics=self.metrics, title=self.description)

    def _start_widget(self):
        from IPython.display import display
        from tqdm.notebook import tqdm as notebook_tqdm

        self._bar = notebook_tqdm(total=self.total, desc=self.description, display=False, leave=True)
        if _in_kernel():
            self._handle = display(self, display_id=True)

    def _build_widget(self):
        import ipywidgets as widgets

        self._image = png_widget(self.to_png())
        box = widgets.VBox([self._bar.container, self._image])
        box.add_class("course-lib-training-monitor")
        return box

    def _redraw(self):
        if self._widget is not None:
            self._image.value = self.to_png()
        self._last_draw = time.monotonic()


def _has_widgets() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("ipywidgets", "tqdm"))


def plot_loss_curve(losses, metrics: Optional[Dict[str, list]] = None, title: str = "training",
                    smooth: Optional[int] = None):
    """The loss per step (and a moving average when there are many), plus other curves given as
    ``{name: [(step, value), ...]}``. Returns the ``Figure``."""
    losses = np.asarray(losses, dtype=np.float64).reshape(-1)
    fig = new_figure(6.0, 3.0)
    ax = fig.add_subplot()
    steps = np.arange(1, losses.size + 1)
    if losses.size:
        ax.plot(steps, losses, color="#4c72b0", alpha=0.45 if losses.size > 20 else 1.0, linewidth=1, label="loss")
        window = smooth or (max(2, losses.size // 20) if losses.size > 20 else 0)
        if window and losses.size >= window:
            kernel = np.ones(window) / window
            ax.plot(steps[window - 1:], np.convolve(losses, kernel, mode="valid"), color="#4c72b0", linewidth=2,
                    label=f"loss (mean of {window})")
    for i, (name, values) in enumerate((metrics or {}).items()):
        if values:
            xs, ys = zip(*values)
            ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.5, color=f"C{i + 1}", label=name)
    if not losses.size and not metrics:
        ax.text(0.5, 0.5, "no steps yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=10)
    if losses.size or metrics:
        ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    return fig
