"""Every ``## `` section of every chapter notebook can be re-run after the whole notebook has run.

One test per chapter notebook (``tools/chapters.json``, both frameworks), the learner who has
finished a chapter and scrolls back: run the notebook top to bottom, then re-run each section
from the last to the first in that kernel; fail when a section raises or a checked cell
(``nbval-check-output``) prints something else than on the first run.

Where it runs depends on what else the session runs, so that no notebook is executed twice:

* When the session also runs the notebook under nbval (the README's test command), the re-runs
  ride on nbval's kernel: ``tests/section_reruns.py`` appends one nbval item per section cell
  after the notebook's own cells (``notebooks/tf/06_attention.ipynb::re-run Summary · Cell 30``,
  ...), compared by nbval against the saved outputs. The test here checks that they are
  scheduled, every code cell of every section, last section first, right after nbval's run.
* Run without the notebooks (``pytest tests/test_notebook_sections.py``), the test executes its
  notebook itself with ``tools.rerun_sections`` (nbclient) and fails with its report. The
  notebooks then run ``COURSE_LIB_RERUN_JOBS`` at a time (default 2: one kernel per core of a
  2-core machine; 1 runs each inside its own test), longest first.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import nbformat
import pytest

from tests.section_reruns import RERUNS
from tests.selection import BACKENDS
from tools.manifest import ROOT, load_manifest
from tools.rerun_sections import rerun_report, sections, start_reruns

MANIFEST = load_manifest()
NOTEBOOKS = [(fw, c) for c in MANIFEST.chapters for fw in MANIFEST.frameworks]
JOBS = int(os.environ.get("COURSE_LIB_RERUN_JOBS", "2"))
if JOBS < 1:
    raise ValueError(f"COURSE_LIB_RERUN_JOBS must be an int >= 1, got {JOBS}")
#: seconds one cell may take (the slowest cells of chapter 7 train for a minute or two)
CELL_TIMEOUT = 900


@pytest.fixture(scope="module")
def started(request):
    """The re-runs this module runs itself, started in a pool (None with one job or one notebook)."""
    chosen = []
    for item in request.session.items:
        if getattr(item, "module", None) is request.module and hasattr(item, "callspec") and RERUNS not in item.stash:
            marker = item.get_closest_marker("backends")
            if marker is None or set(marker.args) <= set(BACKENDS):
                chosen.append(item.callspec.params["notebook"])
    if JOBS < 2 or len(chosen) < 2:
        yield None
        return
    budget = {ROOT / c.notebook(fw): c.budget.seconds for fw, c in NOTEBOOKS}
    executor, futures = start_reruns(sorted(chosen, key=lambda p: -budget[p]), JOBS, CELL_TIMEOUT)
    try:
        yield futures
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def check_scheduled(notebook, scheduled: list, session_items) -> str:
    """The nbval re-run items of ``notebook`` re-run every section cell, last section first, right
    after the notebook's own nbval cells. Returns a line saying so."""
    nb = nbformat.read(notebook, as_version=4)
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    _, parts = sections(nb)
    expected = [code.index(i) for part in reversed(parts) for i in part.cells]
    got = [int(re.search(r"· Cell (\d+)$", nodeid)[1]) for nodeid in scheduled]
    assert got == expected, f"{notebook}: re-runs scheduled for code cells {got}, expected {expected}"
    if not scheduled:
        return f"{notebook.relative_to(ROOT)}: no section to re-run"
    ids = [item.nodeid for item in session_items]
    last = next(i for i, nodeid in enumerate(ids) if nodeid in scheduled) - 1
    assert ids[last].endswith(f".ipynb::Cell {len(code) - 1}"), \
        f"{notebook}: the re-runs must follow nbval's last cell, they follow {ids[last]}"
    assert ids[last + 1:last + 1 + len(scheduled)] == scheduled, f"{notebook}: the re-runs are not in one block"
    return (f"{notebook.relative_to(ROOT)}: {len(parts)} sections ({len(scheduled)} code cells) re-run in nbval's "
            f"kernel after its run, from {scheduled[0].split('::')[-1]!r} to {scheduled[-1].split('::')[-1]!r}")


@pytest.mark.parametrize("notebook", [
    pytest.param(ROOT / c.notebook(fw), id=f"{fw}/{c.slug}", marks=pytest.mark.backends(fw)) for fw, c in NOTEBOOKS])
def test_every_section_reruns(notebook, started, request):
    scheduled = request.node.stash.get(RERUNS, None)
    if scheduled is not None:  # nbval runs the notebook in this session: the re-runs follow its run
        print(check_scheduled(notebook, scheduled, request.session.items))
        return
    if started is None:
        report = rerun_report(notebook, CELL_TIMEOUT)
    else:
        report = started[str(notebook)].result()
    if report.failures:
        pytest.fail(report.text(), pytrace=False)
    print(report.text())  # the timings (pytest -rA shows them)


# -- the check itself, on small notebooks with known faults ---------------------------------------

def small_notebook(sections_code: dict, preamble: str = "stack = [1]\nx = 1") -> nbformat.NotebookNode:
    """A notebook: a code preamble, then one ``## `` section per entry ``title: [(source, printed or
    None), ...]``; a cell with a printed text is checked (tag ``nbval-check-output``) and saved with
    that text as its output, as an executed notebook would be."""
    v4 = nbformat.v4
    cells, count = [v4.new_markdown_cell("# A small notebook"), v4.new_code_cell(preamble, execution_count=1)], 1
    for title, code in sections_code.items():
        cells.append(v4.new_markdown_cell(f"## {title}\n\nWhat it shows."))
        for source, printed in code:
            count += 1
            cell = v4.new_code_cell(source, execution_count=count)
            if printed is not None:
                cell.metadata["tags"] = ["nbval-check-output"]
                cell.outputs = [v4.new_output("stream", name="stdout", text=printed)]
            cells.append(cell)
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


#: re-run last to first: section 3 sets x = 2, then section 2 pops an empty stack (the preamble is not
#: re-run), then section 1 prints 2 where it printed 1
FAULTY = {"1. Reads x": [("print(x)", "1\n")], "2. Pops the stack": [("print(stack.pop())", "1\n")],
          "3. Changes x": [("x = 2", None)]}
#: every section sets up what it uses
SOUND = {"1. Sets and reads x": [("x = 1\nprint(x)", "1\n")], "2. Its own stack": [("s = [1]\nprint(s.pop())", "1\n")],
         "3. Another x": [("x = 2\nprint(x)", "2\n")]}


def test_rerun_sections_reports_what_breaks_on_going_back(tmp_path):
    nbformat.write(small_notebook(FAULTY), tmp_path / "faulty.ipynb")
    nbformat.write(small_notebook(SOUND), tmp_path / "sound.ipynb")
    faulty = rerun_report(tmp_path / "faulty.ipynb", timeout=60)
    where = [(f.section, f.cell) for f in faulty.failures]  # cell: its index in the notebook
    assert where == [("2. Pops the stack", 5), ("1. Reads x", 3)], faulty.text()
    assert "raised: IndexError: pop from empty list" in faulty.failures[0].problem
    assert faulty.failures[1].problem == "checked output changed:\n--- first run\n1\n\n--- re-run\n2\n"
    assert "FAIL" in faulty.text() and "2 failures" in faulty.text()
    sound = rerun_report(tmp_path / "sound.ipynb", timeout=60)
    assert sound.failures == [], sound.text()


def test_reruns_on_nbval_kernel_fail_where_the_notebook_breaks_on_going_back(tmp_path):
    """The same notebooks under nbval, with ``add_reruns`` scheduling the re-runs (as ``tests/conftest.py``
    does for the chapter notebooks): nbval's run passes, the re-runs fail exactly where going back breaks."""
    nbformat.write(small_notebook(FAULTY), tmp_path / "faulty.ipynb")
    nbformat.write(small_notebook(SOUND), tmp_path / "sound.ipynb")
    (tmp_path / "conftest.py").write_text(
        "from pathlib import Path\nfrom tests.section_reruns import add_reruns\n\n"
        "def pytest_collection_modifyitems(items):\n"
        "    add_reruns(items, {p.resolve() for p in Path(__file__).parent.glob('*.ipynb')})\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--nbval-lax",
                           "--rootdir", str(tmp_path), "-c", os.devnull, "faulty.ipynb", "sound.ipynb"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    outcome = {name: kind for kind, name in re.findall(r"^(PASSED|FAILED) (\S+\.ipynb::.+?)(?: - .*)?$", output, re.M)}
    rerun = {name: kind for name, kind in outcome.items() if "::re-run " in name}
    assert rerun == {
        "faulty.ipynb::re-run 3. Changes x · Cell 3": "PASSED",
        "faulty.ipynb::re-run 2. Pops the stack · Cell 2": "FAILED",
        "faulty.ipynb::re-run 1. Reads x · Cell 1": "FAILED",
        "sound.ipynb::re-run 3. Another x · Cell 3": "PASSED",
        "sound.ipynb::re-run 2. Its own stack · Cell 2": "PASSED",
        "sound.ipynb::re-run 1. Sets and reads x · Cell 1": "PASSED",
    }, output[-4000:]
    assert all(kind == "PASSED" for name, kind in outcome.items() if "::Cell " in name) and len(outcome) == 14, output
    assert "re-running section '2. Pops the stack' after the whole notebook had run" in output
    assert "IndexError" in output and "Cell outputs differ" in output
