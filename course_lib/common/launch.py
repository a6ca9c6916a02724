"""Launch links for the course: the repository, Colab and Binder URLs and badges, the chapter plan.

Everything that names the GitHub repository goes through the two constants below, so the
links in ``notebooks/index.ipynb``, the README's chapter table and the tests agree.

**A fork changes** ``REPOSITORY`` (``"owner/name"`` on GitHub) and ``BRANCH`` here, then runs::

    python -m course_lib index --retarget-notebooks

which rewrites the Colab badge and the Colab install line in every notebook and regenerates
the index and the README's chapter table (``course_lib.common.course_map``).
``python -m course_lib index`` alone regenerates the index and the table (run it whenever a
chapter notebook is added); ``--check`` only says whether they are up to date (the tests run it).

Paths are repository-relative POSIX paths, e.g. ``"notebooks/tf/01_dynamic_rnn.ipynb"``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import NamedTuple

#: The course's GitHub repository, ``"owner/name"``. A fork changes it (see the module docstring).
REPOSITORY = "seq2seq-course/seq2seq-decoding"
#: The branch that launch links open.
BRANCH = "main"

#: The repository root of this checkout (``course_lib/common/launch.py`` -> root).
ROOT = Path(__file__).resolve().parents[2]

INDEX_PATH = "notebooks/index.ipynb"
README_PATH = "README.md"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE_IMAGE = "https://mybinder.org/badge_logo.svg"
#: (directory under notebooks/, name in headers and tables)
FRAMEWORKS = (("tf", "TensorFlow"), ("torch", "PyTorch"))


class Chapter(NamedTuple):
    """One chapter of the course: its number, file stem, title, what it teaches, learner minutes."""

    number: int
    stem: str
    title: str
    teaches: str
    minutes: int


#: The course plan. ``minutes`` is a learner's time to work through the chapter (reading,
#: running, exercises), not the notebook's run time (at most 60 s, chapter 7 240 s, on a 2-core CPU).
CHAPTERS = (
    Chapter(1, "01_dynamic_rnn", "Cells and dynamic_rnn",
            "what a cell computes; unrolling; padded batches and `sequence_length`; "
            "a tiny char model with `sequence_loss`", 45),
    Chapter(2, "02_dynamic_decode", "The decode loop: dynamic_decode",
            "teacher forcing vs feeding back predictions; `BasicDecoder` = cell + sampler + "
            "output layer; `maximum_iterations`", 60),
    Chapter(3, "03_custom_wrapper", "Your own cell and wrapper",
            "the cell protocol; writing a cell and a wrapper; plugging it into a decoder", 45),
    Chapter(4, "04_custom_helper", "Your own helper (sampler)",
            "samplers from the inside; `InferenceSampler`; scheduled sampling; "
            "a Tacotron-style decoder", 75),
    Chapter(5, "05_custom_decoder", "Your own decoder",
            "inside `BasicDecoder.step`; a decoder with a stop token; beam search as a decoder", 75),
    Chapter(6, "06_attention", "Attention",
            "Bahdanau, Luong, monotonic and location-sensitive attention; alignment history", 90),
    Chapter(7, "07_chatbot", "A chatbot with attention",
            "a seq2seq chatbot with attention on a real corpus; greedy, beam and sampled replies", 90),
)

#: ``# Chapter N · Title``: the first line of a chapter notebook's cell 0, the same in both
#: frameworks (a pair shares its headings).
HEADER_RE = re.compile(r"^# Chapter (?P<number>\d+) · (?P<title>.+?)\s*$")
#: ``*The TensorFlow version.*``: the line of cell 0 that names the notebook's framework.
FRAMEWORK_LINE_RE = re.compile(r"^\*The (?P<framework>TensorFlow|PyTorch) version\.\*", re.M)


# -- URLs and badges -----------------------------------------------------------------------


def _check_path(path: str) -> str:
    path = str(path).replace("\\", "/").lstrip("/")
    if not path or ".." in path.split("/"):
        raise ValueError(f"`path` must be a repository-relative path like 'notebooks/index.ipynb', got {path!r}")
    return path


def colab_url(path: str) -> str:
    """The URL that opens the notebook at repository path ``path`` in Google Colab."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/{_check_path(path)}"


def colab_badge(path: str) -> str:
    """Markdown for the "Open In Colab" badge of the notebook at ``path``."""
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(path)})"


def binder_url(path: str = INDEX_PATH) -> str:
    """The mybinder.org URL that builds the repository and opens ``path`` in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{REPOSITORY}/{BRANCH}?urlpath=lab/tree/{_check_path(path)}"


def binder_badge(path: str = INDEX_PATH) -> str:
    """Markdown for the "launch binder" badge that opens ``path``."""
    return f"[![Binder]({BINDER_BADGE_IMAGE})]({binder_url(path)})"


def install_spec() -> str:
    """What ``pip install`` takes to install course_lib from GitHub (Colab's setup cell)."""
    return f"git+https://github.com/{REPOSITORY}@{BRANCH}"


def setup_cell_source() -> str:
    """The source of cell 1 of every chapter notebook: installs course_lib in Colab only."""
    return (
        "# Setup: in Colab this installs course_lib; locally, requirements.txt already did.\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "{install_spec()}"'
    )


def notebook_path(stem: str, framework: str) -> str:
    """``"notebooks/<framework>/<stem>.ipynb"``; ``framework`` is ``"tf"`` or ``"torch"``."""
    if framework not in dict(FRAMEWORKS):
        raise ValueError(f"`framework` must be one of {[f for f, _ in FRAMEWORKS]}, got {framework!r}")
    return f"notebooks/{framework}/{stem}.ipynb"


# -- the notebook tree ---------------------------------------------------------------------


def read_notebook(path: Path) -> dict:
    """A notebook file as a dict (nbformat 4 JSON), with every cell's source joined to a str."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        cell["source"] = "".join(source) if isinstance(source, list) else source
    return nb


def chapter_notebooks(root: Path = ROOT) -> list[Path]:
    """Every chapter notebook that exists: ``notebooks/{tf,torch}/NN_*.ipynb``, sorted."""
    found = []
    for framework, _ in FRAMEWORKS:
        folder = Path(root) / "notebooks" / framework
        found += sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())
    return found


def notebook_title(path: Path) -> str | None:
    """The title in a chapter notebook's header line (``# Chapter N · Title``), if it has one."""
    try:
        cells = read_notebook(path)["cells"]
    except (OSError, ValueError, KeyError):
        return None
    if not cells or cells[0].get("cell_type") != "markdown":
        return None
    match = HEADER_RE.match(cells[0]["source"].split("\n", 1)[0])
    return match["title"] if match else None


_USES = {
    "tf": re.compile(r"^\s*(?:from\s+course_lib\s+import\s+tf\b|(?:from|import)\s+(?:course_lib\.tf|tensorflow|keras)\b)", re.M),
    "torch": re.compile(r"^\s*(?:from\s+course_lib\s+import\s+torch\b|(?:from|import)\s+(?:course_lib\.torch|torch)\b)", re.M),
}


def notebooks_for(framework: str, root: Path = ROOT) -> list[Path]:
    """The notebooks under ``notebooks/`` that run with ``framework`` (``"tf"`` or ``"torch"``).

    Those in ``notebooks/<framework>/``, and elsewhere (solutions, demos) those whose code imports
    it. A notebook that imports neither framework (the index) goes with the first framework, so
    one run per framework covers every notebook once (the GPU workflow runs them this way).
    """
    notebook_path("x", framework)  # checks the name
    chosen = []
    for path in sorted((Path(root) / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        folder = path.relative_to(Path(root) / "notebooks").parts[0]
        if folder in dict(FRAMEWORKS):
            uses = {folder}
        else:
            code = "\n".join(c["source"] for c in read_notebook(path)["cells"] if c.get("cell_type") == "code")
            uses = {name for name, pattern in _USES.items() if pattern.search(code)} or {FRAMEWORKS[0][0]}
        if framework in uses:
            chosen.append(path)
    return chosen


def source_lines(text: str) -> list[str]:
    """``text`` split the way nbformat stores a cell's source: lines that keep their ``\\n``."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def dumps_notebook(nb: dict) -> str:
    """A notebook dict as text, laid out as nbformat writes it (a save in JupyterLab diffs small)."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


# -- forks ---------------------------------------------------------------------------------

_COLAB_ANY = re.compile(r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w./-]+?/(notebooks/[\w./-]+\.ipynb)")
_INSTALL_ANY = re.compile(r"git\+https://github\.com/[\w.-]+/[\w.-]+?(?:\.git)?@[\w./-]+")


def retarget_notebooks(root: Path = ROOT) -> list[Path]:
    """Point every notebook's Colab links and Colab install line at ``REPOSITORY``/``BRANCH``.

    Only Markdown links to Colab and the ``%pip install "git+https://github.com/..."`` line are
    rewritten; returns the notebooks that changed.
    """
    changed = []
    for path in sorted((Path(root) / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        raw = path.read_text(encoding="utf-8")
        nb = json.loads(raw)
        touched = False
        for cell in nb.get("cells", []):
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else source
            new = _COLAB_ANY.sub(lambda m: colab_url(m.group(1)), text)
            if cell.get("cell_type") == "code":
                new = _INSTALL_ANY.sub(install_spec(), new)
            if new != text:
                cell["source"] = source_lines(new) if isinstance(source, list) else new
                touched = True
        if touched:
            path.write_text(dumps_notebook(nb), encoding="utf-8")
            changed.append(path)
    return changed


# -- command line --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m course_lib index`` / ``python -m course_lib.common.launch``."""
    from course_lib.common import course_map

    parser = argparse.ArgumentParser(
        prog="python -m course_lib index",
        description="Regenerate notebooks/index.ipynb and the README's chapter table "
        f"(launch links for {REPOSITORY}@{BRANCH}).",
    )
    parser.add_argument("--write-index", action="store_true", help="write notebooks/index.ipynb only")
    parser.add_argument("--write-readme", action="store_true", help="write the README's chapter table only")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if either is out of date")
    parser.add_argument("--retarget-notebooks", action="store_true",
                        help="also rewrite every notebook's Colab links and install line (forks)")
    parser.add_argument("--force", action="store_true", help="write and execute the index even if it is current")
    parser.add_argument("--list-notebooks", choices=[f for f, _ in FRAMEWORKS],
                        help="print the notebooks that run with this framework, one per line, and exit")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = args.root
    if args.list_notebooks:
        for path in notebooks_for(args.list_notebooks, root):
            print(path.relative_to(root).as_posix())
        return 0
    if args.check:
        stale = [name for name, ok in ((INDEX_PATH, course_map.index_is_current(root)),
                                        (README_PATH + " chapter table", course_map.readme_is_current(root))) if not ok]
        for name in stale:
            print(f"out of date: {name}; fix: python -m course_lib index")
        if not stale:
            print("index and README chapter table are up to date")
        return 1 if stale else 0
    both = not (args.write_index or args.write_readme)
    if args.retarget_notebooks:
        for path in retarget_notebooks(root):
            print(f"retargeted {path.relative_to(root)} -> {REPOSITORY}@{BRANCH}")
    if both or args.write_index:
        print(("wrote " if course_map.write_index(root, args.force) else "unchanged: ") + INDEX_PATH)
    if both or args.write_readme:
        print(("wrote " if course_map.write_readme(root) else "unchanged: ") + README_PATH + " (chapter table)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
