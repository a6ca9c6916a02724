"""Regenerate the course map: ``python tools/course_index.py [--check] [--retarget-notebooks] ...``.

Writes ``notebooks/index.ipynb`` (executed, so its one code cell has outputs) and the README's
chapter table from the chapter manifest ``tools/chapters.json``. Run it after adding a chapter
or changing the manifest; ``--check`` writes nothing and exits 1 when either file, or a
notebook's Colab links and install line, is out of date with the manifest (the tests run it).

**A fork** changes ``repository`` and ``branch`` in ``tools/chapters.json``, then runs
``python tools/course_index.py --retarget-notebooks``: it rewrites the Colab badges and the
Colab install line of every notebook and chapter source, then regenerates the index and table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.course_map import index_cells, index_notebook, readme_with_table  # noqa: E402
from tools.links import INDEX_PATH, retarget  # noqa: E402
from tools.manifest import MANIFEST_PATH, ROOT, Manifest, load_manifest  # noqa: E402
from tools.notebook_tree import dumps_notebook, notebooks_for, read_notebook  # noqa: E402

README_PATH = "README.md"
COMMAND = "python tools/course_index.py"


def execute(nb: dict, cwd: Path, timeout: int = 120) -> dict:
    """``nb`` run top to bottom in a fresh ``python3`` kernel (nbclient), with its outputs."""
    import nbclient
    import nbformat

    node = nbformat.reads(json.dumps(nb), as_version=4)
    nbclient.NotebookClient(node, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(cwd)}}).execute()
    return json.loads(nbformat.writes(node))


def index_is_current(manifest: Manifest, root: Path = ROOT) -> bool:
    """Whether ``notebooks/index.ipynb`` has the generated cells (outputs and metadata aside)."""
    path = Path(root) / INDEX_PATH
    if not path.is_file():
        return False
    cells = read_notebook(path)["cells"]
    return [(c["cell_type"], c["source"]) for c in cells] == index_cells(manifest, root)


def write_index(manifest: Manifest, root: Path = ROOT, force: bool = False) -> bool:
    """Write and execute ``notebooks/index.ipynb`` unless it is current (``force``: always).

    Returns whether it was written.
    """
    path = Path(root) / INDEX_PATH
    if not force and index_is_current(manifest, root):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = execute(index_notebook(manifest, root), path.parent)
    nb["metadata"] = index_notebook(manifest, root)["metadata"]  # keep it free of this machine's details
    path.write_text(dumps_notebook(nb), encoding="utf-8")
    return True


def readme_is_current(manifest: Manifest, root: Path = ROOT) -> bool:
    """Whether the README has the generated chapter table between its markers."""
    path = Path(root) / README_PATH
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    return readme_with_table(manifest, text, root) == text


def write_readme(manifest: Manifest, root: Path = ROOT) -> bool:
    """Regenerate the README's chapter table; returns whether it changed."""
    path = Path(root) / README_PATH
    text = path.read_text(encoding="utf-8")
    new = readme_with_table(manifest, text, root)
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def stale(manifest: Manifest, root: Path = ROOT) -> list[str]:
    """What ``--check`` reports: each out-of-date file, with the command that fixes it."""
    problems = []
    if not index_is_current(manifest, root):
        problems.append(f"out of date: {INDEX_PATH}; fix: {COMMAND}")
    if not readme_is_current(manifest, root):
        problems.append(f"out of date: {README_PATH} chapter table; fix: {COMMAND}")
    for path in retarget(manifest, root, write=False):
        problems.append(f"links to another repository than {manifest.repository}@{manifest.branch}: "
                        f"{path.relative_to(root).as_posix()}; fix: {COMMAND} --retarget-notebooks")
    return problems


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Regenerate notebooks/index.ipynb and the README's chapter table "
        "from tools/chapters.json.")
    parser.add_argument("--write-index", action="store_true", help="write notebooks/index.ipynb only")
    parser.add_argument("--write-readme", action="store_true", help="write the README's chapter table only")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything is out of date")
    parser.add_argument("--retarget-notebooks", action="store_true",
                        help="also rewrite every notebook's and source's Colab links and install line (forks)")
    parser.add_argument("--force", action="store_true", help="write and execute the index even if it is current")
    parser.add_argument("--list-notebooks", metavar="FRAMEWORK",
                        help="print the notebooks that run with this framework (tf, torch), one per line, and exit")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--manifest", type=Path, default=MANIFEST_PATH, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root, manifest = args.root, load_manifest(args.manifest)
    if args.list_notebooks:
        if args.list_notebooks not in manifest.frameworks:
            parser.error(f"--list-notebooks must be one of {list(manifest.frameworks)}, got {args.list_notebooks!r}")
        for path in notebooks_for(manifest, args.list_notebooks, root):
            print(path.relative_to(root).as_posix())
        return 0
    if args.check:
        problems = stale(manifest, root)
        print("\n".join(problems) if problems else "index, README chapter table and notebook links are up to date")
        return 1 if problems else 0
    both = not (args.write_index or args.write_readme)
    if args.retarget_notebooks:
        for path in retarget(manifest, root):
            print(f"retargeted {path.relative_to(root).as_posix()} -> {manifest.repository}@{manifest.branch}")
    if both or args.write_index:
        print(("wrote " if write_index(manifest, root, args.force) else "unchanged: ") + INDEX_PATH)
    if both or args.write_readme:
        print(("wrote " if write_readme(manifest, root) else "unchanged: ") + README_PATH + " (chapter table)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
