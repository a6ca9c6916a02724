"""Can a learner go back? Run a notebook, then re-run each ``## `` section, last to first, in the same kernel.

    python tools/rerun_sections.py notebooks/tf/06_attention.ipynb [more notebooks ...] [--jobs 2]

A section is the cells from one ``## `` heading (a markdown cell whose first heading line is
``## ...``) to the next; the cells before the first heading (title, setup, imports) are the
preamble, run once. After the whole notebook has run top to bottom, each section is executed
again in the same kernel, from the last section to the first: the learner who has finished the
chapter and scrolls back. A section passes when none of its cells raises and every checked cell
(tag ``nbval-check-output``) prints what it printed on the first run. Exit code 1 when any
section fails. ``--jobs N`` runs N notebooks at once (one kernel each).

``tests/test_notebook_sections.py`` checks every chapter notebook this way. In a test session
that also runs the notebooks under nbval (the README's test command), the re-runs are nbval
items in nbval's own kernel after its run instead (``tests/section_reruns.py``, using
``sections`` from here), so that no notebook is executed twice.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

CHECK_TAG = "nbval-check-output"
_HEADING = re.compile(r"^## ", re.M)
#: output text that changes from run to run for reasons a lesson does not control
_VOLATILE = re.compile(r"0x[0-9a-f]{6,}")
#: terminal colour codes in IPython's tracebacks
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class Section:
    """One ``## `` section: its heading and the indices of its code cells."""

    title: str
    cells: list = field(default_factory=list)


@dataclass
class Failure:
    """What went wrong in one section: its title, the code cell (its index in the notebook), the problem."""

    section: str
    cell: int
    problem: str
    source: str = ""  # the cell's first line, to find it


@dataclass
class Report:
    """The outcome of ``rerun`` on one notebook: its failures, what it logged, how long it took."""

    path: str
    failures: list
    log: list
    seconds: float

    def text(self) -> str:
        """The report a test fails with: one block per failure, then the timings."""
        lines = [f"FAIL {self.path} section '{f.section}', code cell {f.cell}"
                 + (f" ({f.source})" if f.source else "") + f": {f.problem}" for f in self.failures]
        verdict = "ok" if not self.failures else f"{len(self.failures)} failures"
        return "\n".join(lines + self.log + [f"{self.path}: {verdict} ({self.seconds:.1f} s)"])


def sections(nb) -> tuple:
    """``(preamble code-cell indices, [Section, ...])`` of a notebook (nbformat node)."""
    preamble, found = [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if _HEADING.match(line):
                    found.append(Section(line[3:].strip()))
                    break
        elif cell.cell_type == "code":
            (found[-1].cells if found else preamble).append(i)
    return preamble, [s for s in found if s.cells]


def output_text(outputs) -> str:
    """What a cell printed and displayed as text (streams, results, errors), normalised."""
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                parts.append("<widget>")
            else:
                parts.append(data.get("text/plain", ""))
        elif kind == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
    return _VOLATILE.sub("0x…", _ANSI.sub("", "".join(parts)))


def _first_line(cell) -> str:
    lines = [ln.strip() for ln in cell.source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return (lines[0][:80] if lines else "").replace("`", "'")


def _raised(exc) -> str:
    lines = [ln for ln in _ANSI.sub("", str(exc)).splitlines() if ln.strip()]
    return lines[-1][:300] if lines else repr(exc)


def rerun(path: Path, timeout: int = 900, log=print) -> list:
    """Run ``path`` top to bottom, then each section again from the last to the first.

    Returns the list of ``Failure``s (empty: every section can be re-run).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    preamble, parts = sections(nb)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    failures = []
    first = {}
    with client.setup_kernel():
        start = time.perf_counter()
        for i in preamble + [i for s in parts for i in s.cells]:
            try:
                client.execute_cell(nb.cells[i], i)
            except CellExecutionError as exc:
                return [Failure("(first run)", i, f"raised on the first run: {_raised(exc)}", _first_line(nb.cells[i]))]
            first[i] = output_text(nb.cells[i].outputs)
        log(f"{path}: first run {time.perf_counter() - start:.1f} s, {len(parts)} sections")
        for section in reversed(parts):
            start = time.perf_counter()
            for i in section.cells:
                cell = nb.cells[i]
                cell.outputs = []
                try:
                    client.execute_cell(cell, i)
                except CellExecutionError as exc:
                    failures.append(Failure(section.title, i, f"raised: {_raised(exc)}", _first_line(cell)))
                    break
                if CHECK_TAG in cell.metadata.get("tags", []):
                    again = output_text(cell.outputs)
                    if again != first[i]:
                        failures.append(Failure(section.title, i, "checked output changed:\n"
                                                f"--- first run\n{first[i][:600]}\n--- re-run\n{again[:600]}",
                                                _first_line(cell)))
            log(f"  re-ran '{section.title}' in {time.perf_counter() - start:.1f} s")
    return failures


def rerun_report(path, timeout: int = 900) -> Report:
    """``rerun(path)`` with its log kept: a ``Report`` (picklable, for a process pool)."""
    lines = []
    start = time.perf_counter()
    failures = rerun(Path(path), timeout, log=lines.append)
    return Report(str(path), failures, lines, time.perf_counter() - start)


def start_reruns(paths, jobs: int, timeout: int = 900):
    """Start ``rerun_report`` on every path in a pool of ``jobs`` processes (one kernel each).

    Returns ``(executor, {str(path): Future of Report})``; the paths run in the order given.
    Shut the executor down when done (``executor.shutdown(cancel_futures=True)``).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"`jobs` must be an int >= 1, got {jobs!r}")
    executor = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    return executor, {str(p): executor.submit(rerun_report, str(p), timeout) for p in paths}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=900, help="seconds one cell may take")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once (one kernel each)")
    args = parser.parse_args(argv)
    bad = 0
    if args.jobs > 1:
        executor, futures = start_reruns(args.notebooks, args.jobs, args.timeout)
        with executor:
            reports = (futures[str(p)].result() for p in args.notebooks)
            for report in reports:
                print(report.text(), flush=True)
                bad += bool(report.failures)
    else:
        for path in args.notebooks:
            report = rerun_report(path, args.timeout)
            print(report.text(), flush=True)
            bad += bool(report.failures)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
