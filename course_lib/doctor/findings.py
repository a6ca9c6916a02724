"""The doctor's vocabulary: a ``Finding`` and its four statuses, and what every check asks.

``pip_command()`` is the pip line a fix prints, ``installed(name)`` a distribution's version
(or None), ``norm(name)`` a distribution name in PEP 503 form, ``in_colab()`` where we run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

OK, INFO, WARN, FAIL = "ok", "info", "warn", "FAIL"
STANDS_IN = {"tensorflow-cpu": ("tensorflow",)}  # the GPU build of TF replaces the CPU build


@dataclass
class Finding:
    """One line of the report; ``fix`` is the command (or action) that solves a problem."""

    status: str
    section: str
    message: str
    fix: str = ""


def pip_command() -> str:
    """``python -m pip`` when ``python`` is this interpreter, else this interpreter's path."""
    which = shutil.which("python")
    same = which is not None and Path(which).resolve() == Path(sys.executable).resolve()
    return f"{'python' if same else shlex.quote(sys.executable)} -m pip"


def norm(name: str) -> str:
    """A distribution name in normal form: ``Jupyterlab_Widgets`` -> ``jupyterlab-widgets``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(name: str) -> str | None:
    """The installed version of distribution ``name``, or None (missing or a broken dist-info)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
    except Exception:  # a broken dist-info
        return None


def in_colab() -> bool:
    """Whether this runs in Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def read_text(path: str) -> str | None:
    """A small system file's text, stripped, or None when it cannot be read."""
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None
