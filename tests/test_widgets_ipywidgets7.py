"""The widget tests again under ipywidgets 7.7 (Colab's), installed beside the pinned 8.x.

``pip install --no-deps --target`` puts ipywidgets 7.7.1 and ``ipython_genutils`` (which 7.x
imports) into a cache folder outside the repository, once: later runs reuse it (about a second).
Only the kernel-side package is needed: its frontends (``widgetsnbextension`` 3,
``jupyterlab_widgets`` 1) are left out, and the pinned IPython, ipykernel and traitlets are used.
Then ``tests/test_widgets.py`` runs in a subprocess with that folder first on ``PYTHONPATH`` (the
notebook kernels it starts inherit it) and ``COURSE_LIB_IPYWIDGETS_MAJOR=7``, so it checks that
7.x is what it imported and fails on a view whose display bundle lacks its widget view (a
``WidgetViewWarning`` is an error there). The demo-notebook tests are left out: they check the
backends' decodes, which do not depend on ipywidgets (the widget path of every view is checked
in a real kernel by ``test_executed_notebook_keeps_png_and_text_for_every_view``).

The folder is ``$COURSE_LIB_IPYWIDGETS7_DIR``, else ``seq2seq-course/ipywidgets-7.7.1-pyXY`` in
``$XDG_CACHE_HOME`` (default ``~/.cache``). The first run needs the package registry (pip's own
configuration: index, proxy, find-links); when pip cannot install, the test fails and says what
pip said and the command to run by hand. It is never skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Colab's ipywidgets release, and what it imports that the pinned environment lacks
PACKAGES = ("ipywidgets==7.7.1", "ipython_genutils==0.2.0")
TAG = f"ipywidgets-7.7.1-py{sys.version_info[0]}{sys.version_info[1]}"
#: written last into the folder: the install finished
DONE = ".course_lib_complete"
#: seconds pip may take for the two small wheels
PIP_TIMEOUT = 300


def target_dir() -> Path:
    """Where ipywidgets 7 is installed: ``$COURSE_LIB_IPYWIDGETS7_DIR`` or the user's cache."""
    if os.environ.get("COURSE_LIB_IPYWIDGETS7_DIR"):
        return Path(os.environ["COURSE_LIB_IPYWIDGETS7_DIR"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "seq2seq-course" / TAG


def install_command(target) -> list:
    return [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
            "--no-input", "--target", str(target), *PACKAGES]


def _cannot_install(why: str):
    command = " ".join(install_command(target_dir()))
    pytest.fail(f"ipywidgets 7 test: {why}. The test needs ipywidgets 7.7.1 beside the pinned 8.x; "
                f"with a reachable package registry, install it by hand with `{command}` (then touch "
                f"{target_dir() / DONE})", pytrace=False)


@pytest.fixture(scope="module")
def ipywidgets7() -> Path:
    """The folder holding ipywidgets 7.7.1, installed on first use (into a fresh folder, then renamed)."""
    target = target_dir()
    if (target / DONE).is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _cannot_install(f"cannot create the cache folder {target.parent} ({exc}); point COURSE_LIB_IPYWIDGETS7_DIR "
                        "at a writable folder")
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        done = subprocess.run(install_command(partial), capture_output=True, text=True, timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        shutil.rmtree(partial, ignore_errors=True)
        _cannot_install(f"pip did not finish within {PIP_TIMEOUT} s (is the package registry reachable?)")
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        _cannot_install(f"pip could not install {' '.join(PACKAGES)} (exit {done.returncode}: "
                        f"{lines[-1] if lines else 'no output'})")
    (partial / DONE).write_text(" ".join(PACKAGES) + "\n")
    if (target / DONE).is_file():  # another run finished first
        shutil.rmtree(partial, ignore_errors=True)
        return target
    shutil.rmtree(target, ignore_errors=True)  # an unfinished folder left by hand
    os.replace(partial, target)
    return target


def test_widget_tests_pass_under_ipywidgets_7(ipywidgets7):
    env = dict(os.environ, COURSE_LIB_IPYWIDGETS_MAJOR="7",
               PYTHONPATH=os.pathsep.join([str(ipywidgets7), str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")]
                                                                        if p]))
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "tests/test_widgets.py",
               "-k", "not demo_notebook",
               "-W", "ignore:The `ipykernel.comm.Comm` class has been deprecated:DeprecationWarning"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"tests/test_widgets.py under ipywidgets 7.7.1 failed:\n{output[-6000:]}"
    summary = output.strip().splitlines()[-1]
    assert not re.search(r"failed|error|skipped|xfail|xpass", summary), \
        f"under ipywidgets 7 every test must pass, none skipped: {summary}"
    passed = set(re.findall(r"^PASSED tests/test_widgets\.py::(\S+)", output, re.M))
    views = ["AlignmentExplorer", "DecodeStepper", "BeamTreeViewer", "TrainingMonitor", "ChatWidget"]
    must = {"test_the_ipywidgets_under_test", "test_executed_notebook_keeps_png_and_text_for_every_view",
            *(f"test_every_view_bundle_holds_its_widget_view[{v}]" for v in views)}
    assert must <= passed, f"not run under ipywidgets 7: {sorted(must - passed)}\n{output[-3000:]}"
    print(f"tests/test_widgets.py under ipywidgets 7.7.1: {summary} ({time.monotonic() - started:.1f} s)")
