"""What every view shares: matplotlib figures without pyplot, PNG bytes, token text, and the
display path (a live ipywidgets view where a widget frontend runs, a PNG and a short text
everywhere else: nbval, nbconvert, GitHub's preview).

A view subclasses ``View`` and defines ``figure()`` (the current picture), ``summary()`` (one or
two lines of text) and ``_build_widget()``. Displaying it sends one output holding all three
forms; the frontend shows the richest it can (JupyterLab and Colab: the widget). The widget's
part is taken from ``Widget.get_view_spec()``, which ipywidgets 7 (Colab's 7.7) and 8 both
have; a view whose widget cannot be built says why in a ``WidgetViewWarning`` and shows its
picture and text alone.
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from typing import Callable, Optional

import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure

#: PNG resolution of every rendering (small files in committed notebooks).
DPI = 96
#: Fonts tried after DejaVu Sans for glyphs it lacks (Korean, Japanese, Chinese), when installed.
FALLBACK_FONTS = ("Noto Sans CJK KR", "Noto Sans CJK JP", "Noto Sans KR", "NanumGothic", "WenQuanYi Zen Hei",
                  "Droid Sans Fallback")
HIGHLIGHT = "#d62728"  # the selected step / row / beam
CHOSEN = "#2ca02c"  # the token the sampler picked
DIMMED = "#bbbbbb"


def _font_family() -> list:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans"] + [name for name in FALLBACK_FONTS if name in installed]


def new_figure(width: float, height: float) -> Figure:
    """A matplotlib ``Figure`` that pyplot does not manage (so it is never shown twice)."""
    register_figure_display()
    fig = Figure(figsize=(max(float(width), 1.0), max(float(height), 1.0)), dpi=DPI, layout="constrained")
    return fig


def text_kwargs() -> dict:
    """Keyword arguments for every matplotlib text that shows a token: no mathtext (``$x$`` stays
    as typed), the font list with fallbacks."""
    return {"parse_math": False, "family": _font_family()}


def figure_to_png(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes (missing-glyph warnings silenced: a box is drawn instead)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        warnings.filterwarnings("ignore", message=r".*findfont.*")
        fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def register_figure_display() -> None:
    """Let IPython show a returned ``Figure`` as a PNG even where pyplot was never imported."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    try:
        formatter.lookup_by_type(Figure)
    except KeyError:
        formatter.for_type(Figure, figure_to_png)


# -- tokens ------------------------------------------------------------------------------------

def display_token(token) -> str:
    """A token as text that shows what it is: whitespace made visible, nothing interpreted."""
    text = str(token)
    if text == "":
        return "''"
    if text.isspace():
        return text.replace(" ", "\u2423").replace("\n", "\\n").replace("\t", "\\t")
    return text.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def short_token(token, limit: int = 14) -> str:
    """``display_token`` cut to ``limit`` characters (with an ellipsis) for axis labels."""
    text = display_token(token)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def escape(token) -> str:
    """``display_token`` made safe for HTML: ``<script>`` is shown, never run."""
    return html.escape(display_token(token), quote=True)


def token_namer(vocab) -> Callable[[int], str]:
    """A function id -> token text from ``vocab``: None (the id itself), a sequence of tokens
    (index = id), a dict id -> token (or token -> id), a callable, or an object with
    ``id_to_token`` / ``itos``. Ids < 0 (unknown) read ``?``."""
    if vocab is None:
        lookup = str
    elif callable(vocab) and not hasattr(vocab, "__getitem__"):
        lookup = vocab
    elif hasattr(vocab, "id_to_token") and callable(vocab.id_to_token):
        lookup = vocab.id_to_token
    elif hasattr(vocab, "itos"):
        return token_namer(list(vocab.itos))
    elif isinstance(vocab, dict):
        mapping = vocab
        if mapping and all(isinstance(k, str) for k in mapping):
            mapping = {int(v): k for k, v in mapping.items()}
        lookup = lambda i: mapping.get(i, f"#{i}")  # noqa: E731
    else:
        tokens = list(vocab)
        lookup = lambda i: tokens[i] if 0 <= i < len(tokens) else f"#{i}"  # noqa: E731

    def name(i) -> str:
        i = int(i)
        return "?" if i < 0 else display_token(lookup(i))
    return name


# -- the display path ----------------------------------------------------------------------------

#: the MIME type of a widget view in a display bundle (ipywidgets' view spec)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class WidgetViewWarning(UserWarning):
    """A view could not build its interactive widget: it shows its picture and text only."""


def widget_view_spec(widget) -> dict:
    """The view data of an ipywidgets ``widget``: ``{"version_major": 2, "version_minor": 0, "model_id": ...}``.

    ipywidgets 8 also gives it from ``_repr_mimebundle_``, ipywidgets 7 only from
    ``_ipython_display_`` (which displays instead of returning it); ``get_view_spec()`` is in both.

    Raises:
      TypeError: ``widget`` is not an ipywidgets ``DOMWidget`` (it has no ``get_view_spec``).
      ValueError: ``widget`` has no view (``_view_name`` is None: a model, not something to show).
    """
    if not callable(getattr(widget, "get_view_spec", None)):
        raise TypeError(f"`widget` must be an ipywidgets widget with a view, got {type(widget).__name__}")
    if getattr(widget, "_view_name", None) is None:
        raise ValueError(f"`widget` ({type(widget).__name__}) has no view to display (its _view_name is None)")
    return dict(widget.get_view_spec())


class View:
    """Base of the views: a widget where a frontend runs it, else a PNG and a short text."""

    _widget = None

    def figure(self) -> Figure:  # pragma: no cover - abstract
        raise NotImplementedError

    def summary(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _build_widget(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def to_png(self) -> bytes:
        """The static rendering of the current selection as PNG bytes."""
        return figure_to_png(self.figure())

    @property
    def widget(self):
        """The ipywidgets view (built on first use)."""
        if self._widget is None:
            self._widget = self._build_widget()
        return self._widget

    def widget_view(self) -> dict:
        """The ``application/vnd.jupyter.widget-view+json`` data that shows ``widget`` (ipywidgets 7 and 8).

        Raises:
          ImportError: ipywidgets (or, under ipywidgets 7, ``ipython_genutils``) is not installed.
          ValueError: the widget has no view (a bug in the view's ``_build_widget``).
        """
        return widget_view_spec(self.widget)

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"text/plain": self.summary(), "image/png": base64.b64encode(self.to_png()).decode("ascii")}
        try:
            data[WIDGET_VIEW] = self.widget_view()
        except ImportError as exc:  # reported, and the static forms stand alone
            missing = exc.name or "ipywidgets"
            warnings.warn(f"{type(self).__name__}: no interactive view, only its picture and text: {missing} "
                          f"cannot be imported ({type(exc).__name__}: {exc}); `pip install {missing}` and "
                          "restart the kernel", WidgetViewWarning, stacklevel=2)
        except Exception as exc:  # noqa: BLE001 - any failure is reported, never swallowed
            warnings.warn(f"{type(self).__name__}: no interactive view, only its picture and text: its widget "
                          f"could not be shown ({type(exc).__name__}: {exc})", WidgetViewWarning, stacklevel=2)
        return data

    def __repr__(self) -> str:
        return self.summary()


def png_widget(png: bytes):
    """An ``ipywidgets.Image`` showing ``png`` at its own size (not stretched by the box around it)."""
    import ipywidgets as widgets

    return widgets.Image(value=png, format="png",
                         layout=widgets.Layout(max_width="100%", width="auto", height="auto", align_self="flex-start"))


def caption_widget(text: str):
    """A line of text for a view's summary: an escaped ``HTML`` widget, since a ``Label`` would
    typeset ``$...$`` in a token as LaTeX."""
    import ipywidgets as widgets

    caption = widgets.HTML(escape_text(text))
    caption.add_class("course-lib-caption")
    return caption


def escape_text(text: str) -> str:
    """Plain text made safe for an HTML widget (``<``, ``>``, ``&`` and quotes escaped)."""
    return html.escape(str(text), quote=True)


def html_table(rows, header=None, caption: Optional[str] = None) -> str:
    """A small HTML table; every cell is escaped by the caller or given as ``(text, title)``."""
    parts = ['<table class="course-lib-table" style="border-collapse:collapse;font-size:90%">']
    if caption:
        parts.append(f'<caption style="text-align:left">{caption}</caption>')
    if header:
        parts.append("<tr>" + "".join(f'<th style="padding:1px 6px">{h}</th>' for h in header) + "</tr>")
    for row in rows:
        cells = []
        for cell in row:
            text, title = cell if isinstance(cell, tuple) else (cell, None)
            attr = f' title="{html.escape(title, quote=True)}"' if title else ""
            cells.append(f'<td style="padding:1px 6px"{attr}>{text}</td>')
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    return "".join(parts)


def check_index(value, size: int, name: str) -> int:
    """``value`` as an int in ``[0, size)``, else ``IndexError`` naming the range."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__} {value!r}")
    if not 0 <= int(value) < size:
        raise IndexError(f"`{name}` must be in [0, {size}), got {value}")
    return int(value)
