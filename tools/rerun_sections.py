"""Can a learner go back? Run a notebook, then re-run each ``## `` section, last to first, in the same kernel.

    python tools/rerun_sections.py notebooks/tf/06_attention.ipynb [more notebooks ...]

A section is the cells from one ``## `` heading (a markdown cell whose first heading line is
``## ...``) to the next; the cells before the first heading (title, setup, imports) are the
preamble, run once. After the whole notebook has run top to bottom, each section is executed
again in the same kernel, from the last section to the first: the learner who has finished the
chapter and scrolls back. A section passes when none of its cells raises and every checked cell
(tag ``nbval-check-output``) prints what it printed on the first run. Exit code 1 when any
section fails; ``tests/test_notebook_sections.py`` runs this on every chapter notebook.
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


@dataclass
class Section:
    """One ``## `` section: its heading and the indices of its code cells."""

    title: str
    cells: list = field(default_factory=list)


@dataclass
class Failure:
    section: str
    cell: int
    problem: str


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
    return _VOLATILE.sub("0x…", "".join(parts))


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
                return [Failure("(first run)", i, f"raised on the first run: {str(exc).splitlines()[-1][:300]}")]
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
                    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
                    failures.append(Failure(section.title, i, f"raised: {lines[-1][:300] if lines else exc}"))
                    break
                if CHECK_TAG in cell.metadata.get("tags", []):
                    again = output_text(cell.outputs)
                    if again != first[i]:
                        failures.append(Failure(section.title, i, "checked output changed:\n"
                                                f"--- first run\n{first[i][:600]}\n--- re-run\n{again[:600]}"))
            log(f"  re-ran '{section.title}' in {time.perf_counter() - start:.1f} s")
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=900, help="seconds one cell may take")
    args = parser.parse_args(argv)
    bad = 0
    for path in args.notebooks:
        failures = rerun(path, args.timeout)
        for f in failures:
            print(f"FAIL {path} section '{f.section}', code cell {f.cell}: {f.problem}")
        bad += bool(failures)
        print(f"{path}: {'ok' if not failures else f'{len(failures)} failures'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
