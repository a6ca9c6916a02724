"""Section re-runs on nbval's own kernel: the chapter notebooks' section test at no extra full run.

``tests/test_notebook_sections.py`` asks, for every chapter notebook, whether each ``## `` section
can be re-run after the whole notebook has run (``tools/rerun_sections.py``). Run alone, each of
its tests executes its notebook in a fresh kernel and then re-runs the sections. When the same
session also runs that notebook under nbval (the README's test command collects ``notebooks/``
with ``--nbval-lax``), executing it a second time would only repeat nbval's run; instead
``schedule`` (called from ``tests/conftest.py``'s ``pytest_collection_modifyitems``) appends to
the notebook's nbval items one more nbval item per code cell of every section, the last section
first, so they run in nbval's kernel right after its top-to-bottom run:

    notebooks/tf/06_attention.ipynb::Cell 31                        (nbval's run, unchanged)
    notebooks/tf/06_attention.ipynb::re-run Summary · Cell 30       (then the last section again)
    ...
    notebooks/tf/06_attention.ipynb::re-run 1. What attention is · Cell 4

Each is nbval's ``IPyNbCell`` itself: it fails when the cell raises, and a checked cell (tag
``nbval-check-output``) is compared by nbval, with nbval's rules, against the output saved in the
notebook, which nbval's run has just shown to be what the first run printed. The section test of
that notebook then checks that the re-runs are scheduled (every code cell of every section, in
that order) and leaves the verdict to them.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from tools.rerun_sections import sections

#: on a section test's item: the nodeids of the nbval items that re-run its notebook's sections
RERUNS = pytest.StashKey[list]()
#: the test module, and its test, whose items ask for section re-runs
SECTION_TESTS = "test_notebook_sections.py"
SECTION_TEST = "test_every_section_reruns"


def _nbval_cell_class():
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # no nbval: every section test runs its own notebook
        return None
    return IPyNbCell


def _section_test_items(items, selected) -> dict:
    """``{notebook path: section test item}`` for the section tests that will run in this session."""
    found = {}
    for item in items:
        if item.path.name != SECTION_TESTS or getattr(item, "originalname", None) != SECTION_TEST:
            continue
        marker = item.get_closest_marker("backends")
        if marker is None or set(marker.args) <= set(selected):
            found[Path(item.callspec.params["notebook"]).resolve()] = item
    return found


def _rerun_class(base):
    class SectionRerun(base):
        """nbval's cell item, run again as part of re-running one section after the whole notebook."""

        is_section_rerun = True
        section_title = ""

        def repr_failure(self, excinfo):
            return (f"re-running section '{self.section_title}' after the whole notebook had run "
                    f"(tools/rerun_sections.py; the learner who scrolls back):\n" + super().repr_failure(excinfo))

    return SectionRerun


def _label(title: str) -> str:
    short = " ".join(title.replace("::", ":").split())
    return short if len(short) <= 40 else short[:39] + "…"


def schedule(items: list, selected) -> None:
    """Give every chapter notebook whose section test runs in this session, and whose nbval items
    run too, its section re-runs (``add_reruns``); the section test's item keeps their nodeids.

    ``items`` is the session's final list of items (after deselection), changed in place;
    ``selected`` the backends this run tests.
    """
    wanted = _section_test_items(items, selected)
    if wanted:
        for path, nodeids in add_reruns(items, set(wanted)).items():
            wanted[path].stash[RERUNS] = nodeids


def add_reruns(items: list, notebooks) -> dict:
    """Insert, right after the nbval items of each notebook in ``notebooks`` (resolved paths), one
    nbval item per code cell of its ``## `` sections, the last section first.

    A notebook gets re-runs only when all of its code cells are nbval items in ``items`` (a
    notebook run in part is left alone). Returns ``{notebook path: [nodeids of its re-runs]}``.
    """
    cell_class = _nbval_cell_class()
    if cell_class is None:
        return {}
    rerun_class = _rerun_class(cell_class)
    by_file = defaultdict(list)
    for item in items:
        if isinstance(item, cell_class) and not getattr(item, "is_section_rerun", False):
            by_file[item.parent].append(item)
    additions, scheduled = {}, {}
    for nbfile, cells in by_file.items():
        path = Path(nbfile.path).resolve()
        nb = getattr(nbfile, "nb", None)
        if path not in notebooks or nb is None:
            continue
        code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
        item_of = {item.cell_num: item for item in cells}
        if sorted(item_of) != list(range(len(code))):
            continue
        number_of = {index: n for n, index in enumerate(code)}
        reruns = []
        for part in reversed(sections(nb)[1]):
            for index in part.cells:
                original = item_of[number_of[index]]
                rerun = rerun_class.from_parent(nbfile, name=f"re-run {_label(part.title)} · Cell {original.cell_num}",
                                                cell_num=original.cell_num, cell=original.cell,
                                                options=defaultdict(bool, original.options))
                rerun.section_title = part.title
                reruns.append(rerun)
        scheduled[path] = [r.nodeid for r in reruns]
        additions[cells[-1]] = reruns
    if additions:
        out = []
        for item in items:
            out.append(item)
            out.extend(additions.get(item, ()))
        items[:] = out
    return scheduled
