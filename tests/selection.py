"""Which backends and which PyTorch device a test run uses: ``COURSE_BACKENDS`` and ``COURSE_DEVICE``
(see tests/conftest.py, whose hooks call this). A backend left out is hidden from imports, as if it
were not installed, so what needs it is skipped with the reason instead of failing.
"""

from __future__ import annotations

import importlib.abc
import os
import subprocess
import sys

import pytest

ALL_BACKENDS = ("tf", "torch")
#: the top-level modules of each backend (a test importing one needs that backend)
MODULES = {"tf": ("tensorflow", "keras", "course_lib.tf"), "torch": ("torch", "course_lib.torch")}


def _selected_backends() -> tuple[tuple, str | None]:
    """(the backends COURSE_BACKENDS names, in ALL_BACKENDS' order; what is wrong with it, or None)."""
    raw = os.environ.get("COURSE_BACKENDS", "").strip()
    names = {n.strip() for n in raw.split(",") if n.strip()}
    if not raw:
        return ALL_BACKENDS, None
    if not names or names - set(ALL_BACKENDS):
        return ALL_BACKENDS, f"COURSE_BACKENDS must be a comma-separated list of {', '.join(ALL_BACKENDS)}, got {raw!r}"
    return tuple(n for n in ALL_BACKENDS if n in names), None


#: the backends this run tests (test modules parametrise over it)
BACKENDS, BACKENDS_ERROR = _selected_backends()
#: COURSE_DEVICE, or None (the CPU, PyTorch's own default)
DEVICE = os.environ.get("COURSE_DEVICE", "").strip() or None
#: backend -> why its tests are skipped in this run
LEFT_OUT = {name: f"COURSE_BACKENDS={os.environ.get('COURSE_BACKENDS', '').strip()} leaves out the {name} backend"
             for name in ALL_BACKENDS if name not in BACKENDS}


def left_out(module: str) -> str | None:
    """Why ``module`` (a dotted name) is not importable in this run, or None."""
    for backend, reason in LEFT_OUT.items():
        if any(module == m or module.startswith(m + ".") for m in MODULES[backend]):
            return reason
    return None


class _Hiding(importlib.abc.MetaPathFinder):
    """A finder of sys.meta_path that finds no module of a left-out backend: importing one raises
    ModuleNotFoundError and ``importlib.util.find_spec`` gives None, as if it were not installed."""

    def __init__(self, finder):
        self._finder = finder

    def find_spec(self, fullname, path=None, target=None):
        if left_out(fullname) or not hasattr(self._finder, "find_spec"):
            return None
        return self._finder.find_spec(fullname, path, target)

    def __getattr__(self, name):  # invalidate_caches, find_distributions, ...
        return getattr(self._finder, name)


def device_missing(device: str) -> str | None:
    """Why PyTorch cannot use ``device`` here, or None when it can (asked in a subprocess, so that
    this process has not imported torch when its tests are to be skipped)."""
    code = ("import sys, torch\n"
            "try:\n    d = torch.device(sys.argv[1])\nexcept RuntimeError as e:\n    print(e); sys.exit(3)\n"
            "torch.empty(1, device=d)\n")  # a device that is not there raises here
    try:
        done = subprocess.run([sys.executable, "-c", code, device], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return f"COURSE_DEVICE={device}: PyTorch did not answer within 120 s"
    if done.returncode == 3:
        raise pytest.UsageError(f"COURSE_DEVICE must name a PyTorch device (cuda, cuda:0, cpu), got {device!r}: "
                                f"{done.stdout.strip()}")
    if done.returncode == 0:
        return None
    last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
    return f"COURSE_DEVICE={device} is not available here: {last}"


def configure() -> None:
    """Check the variables; point PyTorch at COURSE_DEVICE, or leave torch out when it is not there;
    hide the left-out backends' modules."""
    if BACKENDS_ERROR:
        raise pytest.UsageError(BACKENDS_ERROR)
    if DEVICE is not None and "torch" in BACKENDS:
        missing = DEVICE != "cpu" and device_missing(DEVICE)
        if missing:
            LEFT_OUT["torch"] = missing
        else:
            import torch

            torch.set_default_device(torch.device(DEVICE))
    for backend, reason in LEFT_OUT.items():
        imported = [m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in MODULES[backend])]
        if imported:
            raise pytest.UsageError(f"{reason}, but {imported[0]} was imported before the tests started")
    if LEFT_OUT:
        sys.meta_path[:] = [_Hiding(finder) for finder in sys.meta_path]


def header() -> str:
    tested = [b for b in ALL_BACKENDS if b not in LEFT_OUT]
    skipped = "".join(f"; skipped: {why}" for why in LEFT_OUT.values())
    return f"course_lib backends: {','.join(tested) or 'none'}; torch device: {DEVICE or 'cpu (default)'}{skipped}"


def skip_if_left_out(exc: ImportError) -> None:
    """Skip the test when ``exc`` says that a left-out backend's module is missing."""
    names = [exc.name or ""]
    if getattr(exc, "name_from", None):  # `from course_lib import tf` (Python 3.12+)
        names.append(f"{exc.name}.{exc.name_from}")
    reason = next((r for r in map(left_out, names) if r), None)
    if reason:
        pytest.skip(reason)


def skip_unless_backends(item) -> None:
    """Skip a test marked ``@pytest.mark.backends(...)`` that needs a left-out backend."""
    for mark in item.iter_markers("backends"):
        for name in mark.args:
            if name in LEFT_OUT:
                pytest.skip(LEFT_OUT[name])
