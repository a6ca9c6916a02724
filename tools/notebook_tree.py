"""The notebook tree: reading and writing notebook JSON, chapter headers, notebooks by framework.

Paths are ``Path`` objects under a repository root (``tools.manifest.ROOT`` by default); the
notebooks are nbformat 4 JSON, read here without nbformat so that listing needs only the
standard library (the GPU workflow calls ``--list-notebooks`` before anything else).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tools.manifest import ROOT, Manifest

#: ``# Chapter N · Title``: the first line of a chapter notebook's cell 0, the same in both
#: frameworks (a pair shares its headings).
HEADER_RE = re.compile(r"^# Chapter (?P<number>\d+) · (?P<title>.+?)\s*$")
#: ``*The TensorFlow version.*``: the line of cell 0 that names the notebook's framework.
FRAMEWORK_LINE_RE = re.compile(r"^\*The (?P<framework>\w+) version\.\*", re.M)


def read_notebook(path: Path) -> dict:
    """A notebook file as a dict (nbformat 4 JSON), with every cell's source joined to a str."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        cell["source"] = "".join(source) if isinstance(source, list) else source
    return nb


def source_lines(text: str) -> list[str]:
    """``text`` split the way nbformat stores a cell's source: lines that keep their ``\\n``."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def dumps_notebook(nb: dict) -> str:
    """A notebook dict as text, laid out as nbformat writes it (a save in JupyterLab diffs small)."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def all_notebooks(root: Path = ROOT) -> list[Path]:
    """Every ``.ipynb`` under ``notebooks/`` (checkpoints aside), sorted."""
    return sorted(p for p in (Path(root) / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def chapter_notebooks(manifest: Manifest, root: Path = ROOT) -> list[Path]:
    """Every chapter notebook that exists, ``notebooks/<framework>/NN_*.ipynb``, by framework."""
    found = []
    for framework in manifest.frameworks:
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
    "tf": re.compile(r"^\s*(?:from\s+course_lib\s+import\s+tf\b|(?:from|import)\s+(?:course_lib\.tf|tensorflow|keras)\b)",
                     re.M),
    "torch": re.compile(r"^\s*(?:from\s+course_lib\s+import\s+torch\b|(?:from|import)\s+(?:course_lib\.torch|torch)\b)",
                        re.M),
}


def notebooks_for(manifest: Manifest, framework: str, root: Path = ROOT) -> list[Path]:
    """The notebooks under ``notebooks/`` that run with ``framework`` (``"tf"`` or ``"torch"``).

    Those in ``notebooks/<framework>/``, and elsewhere (solutions, demos) those whose code imports
    it. A notebook that imports neither framework (the index) goes with the first framework, so
    one run per framework covers every notebook once (the GPU workflow runs them this way).
    """
    manifest.check_framework(framework)
    if framework not in _USES:
        raise ValueError(f"`framework` {framework!r} has no import pattern here; known: {sorted(_USES)}")
    chosen, notebooks = [], Path(root) / "notebooks"
    for path in all_notebooks(root):
        folder = path.relative_to(notebooks).parts[0]
        if folder in manifest.frameworks:
            uses = {folder}
        else:
            code = "\n".join(c["source"] for c in read_notebook(path)["cells"] if c.get("cell_type") == "code")
            uses = {name for name, pattern in _USES.items() if pattern.search(code)} or {next(iter(manifest.frameworks))}
        if framework in uses:
            chosen.append(path)
    return chosen
