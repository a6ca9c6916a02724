"""The widgets in a real browser: JupyterLab on 127.0.0.1 with a token, headless Chromium
(Debian's ``chromium`` package) driven by Playwright (PyPI, no browser download).

The test opens ``widgets_demo.ipynb`` (copied to a temporary root), runs all cells, moves the
alignment explorer's step slider, the decode stepper's slider and the beam tree's beam
selector, and checks that what is displayed changed accordingly (caption, table, picture),
that tokens like ``<script>`` are shown and never run, and that no widget failed to render.
Screenshots go to ``$COURSE_LIB_BROWSER_ARTIFACTS`` (or the test's temporary directory).

No browser: the test fails with the install commands when ``CI`` or
``COURSE_LIB_REQUIRE_BROWSER`` is set, else it is skipped with that message (``pytest -ra``
lists it). Every process it starts (server, kernel, browser) is stopped by its id.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NOTEBOOK = HERE / "widgets_demo.ipynb"
INSTALL = ("install a browser and its driver: `apt-get install -y chromium` (Debian's package) and "
           "`pip install playwright` (pinned in the requirements; no `playwright install` needed), "
           "or point COURSE_LIB_CHROMIUM at a Chromium binary")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
BACKEND = os.environ.get("COURSE_LIB_BROWSER_BACKEND", "torch")


def _missing(what: str):
    message = f"browser test: {what}: {INSTALL}"
    if os.environ.get("CI") or os.environ.get("COURSE_LIB_REQUIRE_BROWSER"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def chromium() -> str:
    """The Chromium binary (checked, with Playwright, before any server starts)."""
    path = os.environ.get("COURSE_LIB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path or not os.access(path, os.X_OK):
        _missing("no Chromium found (looked for COURSE_LIB_CHROMIUM, `chromium`, `chromium-browser`)")
    if importlib.util.find_spec("playwright") is None:
        _missing("the Playwright package is not installed")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


def _pids_using(marker: str) -> list:
    """Ids of the processes whose command line mentions ``marker`` (our private runtime dir)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@pytest.fixture
def jupyter_lab(tmp_path):
    """A JupyterLab server on a free loopback port with a token, serving a copy of the notebook."""
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    notebook = root / NOTEBOOK.name
    notebook.write_text(NOTEBOOK.read_text().replace('BACKEND = \\"torch\\"', f'BACKEND = \\"{BACKEND}\\"'))
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    runtime = home / "runtime"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(runtime),
               JUPYTER_DATA_DIR=str(home / "data"), IPYTHONDIR=str(home / "ipython"), TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    port, token = _free_port(), os.urandom(16).hex()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--ServerApp.token={token}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
               f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(tmp_path / "jupyterlab.log", "wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _api(base, token, "/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start: {(tmp_path / 'jupyterlab.log').read_text()[-3000:]}")
                time.sleep(0.3)
        yield {"base": base, "token": token, "notebook": notebook.name, "log": tmp_path / "jupyterlab.log"}
    finally:
        try:
            for kernel in _api(base, token, "/api/kernels") or []:
                _api(base, token, f"/api/kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        for pid in _pids_using(str(runtime)):  # a kernel left behind (its connection file is ours)
            os.kill(pid, signal.SIGKILL)
        log.close()


def _artifacts(tmp_path) -> Path:
    folder = Path(os.environ.get("COURSE_LIB_BROWSER_ARTIFACTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _move_slider(view, presses: int):
    handle = view.locator(".widget-slider .noUi-handle").first
    handle.focus()
    for _ in range(presses):
        handle.press("ArrowRight")


def test_widgets_in_jupyterlab(chromium, jupyter_lab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = _artifacts(tmp_path)
    started = time.monotonic()
    url = f"{jupyter_lab['base']}/lab/tree/{jupyter_lab['notebook']}?token={jupyter_lab['token']}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)
            # the kernel must be up before Run All, or a kernel dialog eats the click
            kernel = page.locator(".jp-NotebookPanel-toolbar .jp-KernelName, .jp-NotebookPanel-toolbar "
                                  "[data-jp-item-name='kernelName']").first
            expect(kernel).not_to_have_text(re.compile("No Kernel|^$"), timeout=60_000)
            page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']").first \
                .wait_for(timeout=60_000)
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            expect(page.locator(".jp-OutputArea-output", has_text="ALL CELLS RAN")).to_be_visible(timeout=90_000)

            explorer = page.locator(".course-lib-alignment-explorer")
            stepper = page.locator(".course-lib-decode-stepper")
            tree = page.locator(".course-lib-beam-tree")
            for view in (explorer, stepper, tree, page.locator(".course-lib-training-monitor")):
                expect(view.locator("img").first).to_be_visible(timeout=30_000)
            page.screenshot(path=str(shots / f"01_run_all_{BACKEND}.png"))

            # tokens are text: <script> and onerror= show literally and never run
            expect(explorer.locator("table")).to_contain_text("<script>window.__pwned = 1</script>")
            expect(explorer.locator("table")).to_contain_text("<img src=x onerror='window.__pwned = 2'>")
            assert page.evaluate("window.__pwned === undefined")

            # the alignment explorer: step 0 -> 2 moves the highlight, the bars and the table
            picture = explorer.locator("img").first
            before = picture.get_attribute("src")
            explorer.scroll_into_view_if_needed()
            explorer.screenshot(path=str(shots / f"02_alignment_step0_{BACKEND}.png"))
            expect(explorer).to_contain_text("step 0 (target the)")
            _move_slider(explorer, 2)
            expect(explorer).to_contain_text("step 2 (target cat)", timeout=15_000)
            expect(explorer.locator("table caption")).to_contain_text("step 2: target cat")
            expect(explorer.locator(".course-lib-caption")).to_contain_text("Luong: $x^2$")  # not typeset
            expect(picture).not_to_have_attribute("src", before, timeout=15_000)
            explorer.screenshot(path=str(shots / f"03_alignment_step2_{BACKEND}.png"))

            # the decode stepper: step 0 -> 1
            picture = stepper.locator("img").first
            before = picture.get_attribute("src")
            expect(stepper).to_contain_text("step 0/6, row 0: in <s>")
            _move_slider(stepper, 1)
            expect(stepper).to_contain_text("step 1/6, row 0", timeout=15_000)
            expect(stepper.locator("table caption")).to_contain_text("step 1, row 0")
            expect(picture).not_to_have_attribute("src", before, timeout=15_000)
            stepper.scroll_into_view_if_needed()
            stepper.screenshot(path=str(shots / f"04_stepper_step1_{BACKEND}.png"))

            # the beam tree: trace final beam 1 instead of beam 0
            picture = tree.locator("img").first
            before = picture.get_attribute("src")
            tree.locator("select").last.select_option(label="beam 1")
            expect(tree).to_contain_text("final beam 1:", timeout=15_000)
            expect(picture).not_to_have_attribute("src", before, timeout=15_000)
            tree.scroll_into_view_if_needed()
            tree.screenshot(path=str(shots / f"05_beam_tree_beam1_{BACKEND}.png"))

            assert page.get_by_text("Error displaying widget").count() == 0
            assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
            assert not errors, f"errors in the page: {errors}"
        finally:
            browser.close()
    elapsed = time.monotonic() - started
    print(f"browser test: {elapsed:.1f} s; screenshots in {shots}")
    assert elapsed < 120, f"the browser test took {elapsed:.0f} s"
