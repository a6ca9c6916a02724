"""The chapter manifest, ``tools/chapters.json``: load it, validate it, name each chapter's files.

Everything that lists chapters or frameworks reads this one file: ``tools/course_index.py``
(the index and the README's chapter table), ``notebooks/src/build.py``, ``bench/notebooks.py``,
``figures/make_figures.py`` and the tests. ``course_lib`` does not import it (the doctor reads
the JSON as data). Paths are repository-relative POSIX strings::

    from tools.manifest import load_manifest

    course = load_manifest()
    chapter = course.chapters[0]         # Chapter(number=1, slug="01_dynamic_rnn", ...)
    chapter.notebook("tf")               # "notebooks/tf/01_dynamic_rnn.ipynb"
    course.frameworks                    # {"tf": "TensorFlow", "torch": "PyTorch"}

A file that breaks the schema raises ``ValueError`` naming the chapter and the field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]  # tools/manifest.py -> the repository root
MANIFEST_PATH = ROOT / "tools" / "chapters.json"

TOP_FIELDS = ("repository", "branch", "frameworks", "default_budget", "chapters")
CHAPTER_FIELDS = ("number", "slug", "title", "teaches", "minutes", "budget", "exercises", "figures")
SLUG_RE = re.compile(r"^(\d\d)_[a-z0-9_]+$")
FIGURE_RE = re.compile(r"^[\w.-]+\.png$")


class Budget(NamedTuple):
    """What one notebook may take, top to bottom on a 2-core CPU: wall seconds, peak MiB."""

    seconds: float
    memory_mib: float


class Chapter(NamedTuple):
    """One chapter: its number, file stem, title (the notebooks' H1), what it teaches, files."""

    number: int
    slug: str
    title: str
    teaches: str
    minutes: int  # a learner's time for the chapter and its exercises, not the run time
    budget: Budget
    exercises: bool  # whether it has exercises: checkers in course_lib/chapters/, solutions
    figures: tuple[str, ...]  # PNG names under figures/

    def source(self) -> str:
        """``notebooks/src/<slug>.txt``: the one source both notebooks are built from."""
        return f"notebooks/src/{self.slug}.txt"

    def notebook(self, framework: str) -> str:
        """``notebooks/<framework>/<slug>.ipynb``."""
        return f"notebooks/{framework}/{self.slug}.ipynb"

    def solution(self, framework: str) -> str:
        """``notebooks/solutions/<framework>/<slug>.py``: the exercises' worked solutions."""
        return f"notebooks/solutions/{framework}/{self.slug}.py"

    def checkers(self, framework: str) -> str:
        """``course_lib/chapters/ch<slug>/<framework>.py``: the exercise checkers a notebook imports as ``ex``."""
        return f"course_lib/chapters/ch{self.slug}/{framework}.py"

    def files(self, frameworks) -> list[str]:
        """Every file this entry names: source, notebooks, checkers and solutions (with exercises), figures."""
        files = [self.source()] + [self.notebook(fw) for fw in frameworks]
        if self.exercises:
            files += [self.checkers(fw) for fw in frameworks] + [self.solution(fw) for fw in frameworks]
        return files + [f"figures/{name}" for name in self.figures]


class Manifest(NamedTuple):
    """The whole file: where the course lives on GitHub, its frameworks, its chapters in order."""

    repository: str  # "owner/name" on GitHub: Colab and Binder links, the Colab install line
    branch: str
    frameworks: dict  # {directory name: display name}, in order: {"tf": "TensorFlow", ...}
    default_budget: Budget  # for notebooks that are no chapter's (the index)
    chapters: tuple[Chapter, ...]

    def chapter(self, slug: str) -> Chapter:
        """The chapter whose file stem is ``slug``; ValueError naming the known slugs if none."""
        for chapter in self.chapters:
            if chapter.slug == slug:
                return chapter
        raise ValueError(f"`slug` must be a chapter of tools/chapters.json {[c.slug for c in self.chapters]}, "
                         f"got {slug!r}")

    def check_framework(self, framework: str) -> str:
        """``framework`` itself if the manifest lists it, else a ValueError."""
        if framework not in self.frameworks:
            raise ValueError(f"`framework` must be one of {list(self.frameworks)}, got {framework!r}")
        return framework

    def budget_for(self, stem: str) -> Budget:
        """The budget of the notebook with file stem ``stem``: its chapter's, else the default."""
        return next((c.budget for c in self.chapters if c.slug == stem), self.default_budget)


# -- validation ----------------------------------------------------------------------------


def _fail(where: str, field: str, expected: str, got) -> ValueError:
    return ValueError(f"{where}: `{field}` must be {expected}, got {got!r}")


def _fields(data, where: str, required: tuple, allowed: tuple = ()) -> dict:
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a JSON object, got {type(data).__name__}")
    missing = [f for f in required if f not in data]
    unknown = [f for f in data if f not in required and f not in allowed]
    if missing or unknown:
        raise ValueError(f"{where}: missing fields {missing}, unknown fields {unknown} (fields: {list(required)})")
    return data


def _text(data: dict, field: str, where: str) -> str:
    value = data[field]
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise _fail(where, field, "one line of non-empty text", value)
    return value


def _positive(data: dict, field: str, where: str, whole: bool = False) -> float:
    value = data[field]
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        raise _fail(where, field, "a positive whole number" if whole else "a positive number", value)
    return value


def _budget(data, where: str) -> Budget:
    _fields(data, where, ("seconds", "memory_mib"))
    return Budget(float(_positive(data, "seconds", where)), float(_positive(data, "memory_mib", where)))


def _chapter(data, i: int, where: str) -> Chapter:
    label = f"{where}: chapters[{i}]"
    if isinstance(data, dict) and isinstance(data.get("slug"), str):
        label += f" ({data['slug']})"
    _fields(data, label, CHAPTER_FIELDS)
    number = _positive(data, "number", label, whole=True)
    if number != i + 1:
        raise _fail(label, "number", f"{i + 1} (chapters are numbered 1, 2, ... in file order)", number)
    slug = _text(data, "slug", label)
    match = SLUG_RE.match(slug)
    if not match or int(match[1]) != number:
        raise _fail(label, "slug", f"the file stem '{number:02d}_name' (lower case, digits, _)", slug)
    if not isinstance(data["exercises"], bool):
        raise _fail(label, "exercises", "true or false", data["exercises"])
    figures = data["figures"]
    if (not isinstance(figures, list) or len(set(map(str, figures))) != len(figures)
            or not all(isinstance(f, str) and FIGURE_RE.match(f) for f in figures)):
        raise _fail(label, "figures", "a list of distinct PNG file names under figures/", figures)
    return Chapter(number, slug, _text(data, "title", label), _text(data, "teaches", label),
                   _positive(data, "minutes", label, whole=True), _budget(data["budget"], f"{label}.budget"),
                   data["exercises"], tuple(figures))


def parse_manifest(data, where: str = "tools/chapters.json") -> Manifest:
    """A ``Manifest`` from the decoded JSON ``data``; ValueError naming the field that is wrong."""
    _fields(data, where, TOP_FIELDS, allowed=("about",))
    repository = _text(data, "repository", where)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        raise _fail(where, "repository", "'owner/name' on GitHub", repository)
    branch = _text(data, "branch", where)
    if not re.fullmatch(r"[\w./-]+", branch):
        raise _fail(where, "branch", "a git branch name", branch)
    frameworks = data["frameworks"]
    if (not isinstance(frameworks, dict) or not frameworks
            or not all(re.fullmatch(r"[a-z]+", k) and isinstance(v, str) and v for k, v in frameworks.items())):
        raise _fail(where, "frameworks", 'an object of directory names to display names, {"tf": "TensorFlow", ...}',
                    frameworks)
    chapters = data["chapters"]
    if not isinstance(chapters, list) or not chapters:
        raise _fail(where, "chapters", "a non-empty list of chapters", chapters)
    return Manifest(repository, branch, dict(frameworks), _budget(data["default_budget"], f"{where}: default_budget"),
                    tuple(_chapter(c, i, where) for i, c in enumerate(chapters)))


def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """Read and validate the manifest (default ``tools/chapters.json``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path.name} is not valid JSON: {error}") from None
    return parse_manifest(data, path.name if path != MANIFEST_PATH else "tools/chapters.json")


# -- the manifest against the tree ---------------------------------------------------------


def missing_files(manifest: Manifest, root: Path = ROOT) -> list[str]:
    """Files the manifest names (sources, notebooks, checkers, solutions, figures) that do not exist."""
    return [f for c in manifest.chapters for f in c.files(manifest.frameworks) if not (Path(root) / f).is_file()]


def unlisted_files(manifest: Manifest, root: Path = ROOT) -> list[str]:
    """Chapter files in the tree (sources, notebooks, checkers, solutions) that no entry names.

    A file whose stem is no chapter's, and the checkers and solutions of a chapter whose entry
    says ``"exercises": false``.
    """
    root = Path(root)
    named = {f for c in manifest.chapters for f in c.files(manifest.frameworks)}
    patterns = ["notebooks/src/[0-9][0-9]_*.txt"]
    for fw in manifest.frameworks:
        patterns += [f"notebooks/{fw}/[0-9][0-9]_*.ipynb", f"notebooks/solutions/{fw}/[0-9][0-9]_*.py",
                     f"course_lib/chapters/ch[0-9][0-9]_*/{fw}.py"]
    found = [p for pattern in patterns for p in sorted(root.glob(pattern))]
    return [rel for rel in (p.relative_to(root).as_posix() for p in found) if rel not in named]
