"""The doctor's notebook check: each chapter notebook finds the modules and shipped files it names.

The chapters come from the checkout's chapter manifest ``tools/chapters.json``, read here as
plain JSON data (``course_lib`` never imports the repository's ``tools/``), together with the
chapter notebooks found under ``notebooks/<framework>/``: a notebook that exists is checked even
when the manifest lacks it, and a manifest chapter without its notebook is "not written yet".
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

from course_lib.doctor.findings import FAIL, INFO, OK, Finding, norm, pip_command

FRAMEWORKS = ("tf", "torch")  # notebooks/<framework>/, when there is no manifest to say so
MANIFEST = "tools/chapters.json"
DIST_OF_MODULE = {"yaml": "PyYAML", "sklearn": "scikit-learn", "PIL": "Pillow", "chatterbot_corpus": "chatterbot-corpus"}


def read_notebook(path: Path) -> dict:
    """A notebook file as a dict (nbformat 4 JSON), with every cell's source joined to a str."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        cell["source"] = "".join(source) if isinstance(source, list) else source
    return nb


def course_chapters(report: list, root: Path, section: str) -> tuple[list[str], list[str]]:
    """(chapter file stems in course order, framework folders): the manifest's, then any others found."""
    stems, frameworks = [], list(FRAMEWORKS)
    if (root / MANIFEST).is_file():
        try:
            data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
            stems, frameworks = [c["slug"] for c in data["chapters"]], list(data["frameworks"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            report.append(Finding(FAIL, section, f"{MANIFEST} is not a readable chapter manifest: "
                                                 f"{type(error).__name__}: {error}", f"git checkout -- {MANIFEST}"))
    found = sorted({p.stem for fw in frameworks for p in (root / "notebooks" / fw).glob("[0-9][0-9]_*.ipynb")})
    return stems + [stem for stem in found if stem not in stems], frameworks


_IMPORT = re.compile(r"^\s*(?:import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)|from\s+([\w.]+)\s+import\b)", re.M)
_MD_FILE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)|<img[^>]*\ssrc=[\"']([^\"']+)")
_LITERAL = re.compile(r"[\"']([\w./-]+/[\w.-]+\.\w+)[\"']")


def notebook_needs(path: Path, root: Path) -> tuple[list[str], list[str], list[str]]:
    """(modules it imports, shipped files it names, optional files it names) for one notebook."""
    cells = read_notebook(path)["cells"]
    modules, files, optional = set(), set(), set()
    for cell in cells:
        source = cell["source"]
        if cell["cell_type"] == "markdown":
            for match in _MD_FILE.finditer(source):
                target = (match[1] or match[2]).split("#")[0]
                if target and not re.match(r"^[a-z]+:", target):
                    files.add(target)
            continue
        if cell["cell_type"] != "code":
            continue
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for match in _IMPORT.finditer(code):
            names = [m.split()[0] for m in match[1].split(",")] if match[1] else [match[2]]
            modules |= {n if n.startswith("course_lib") else n.split(".")[0] for n in names if n}
        for line in code.splitlines():
            for literal in _LITERAL.findall(line):
                resolved = (path.parent / literal).resolve()
                if any(resolved.is_relative_to(root / folder) for folder in ("data", "figures")):
                    (optional if re.search(r"#.*\boptional\b", line) else files).add(literal)
    modules.discard("google")  # google.colab, imported only in Colab
    return sorted(modules), sorted(files), sorted(optional)


def _module_missing(module: str) -> str | None:
    try:
        return None if importlib.util.find_spec(module) is not None else "is not installed"
    except Exception as error:
        return f"does not import ({type(error).__name__}: {error})"


def _check_notebook(report: list, section: str, root: Path, rel: str, pins: dict) -> None:
    """The findings for one notebook: each missing module or file a FAIL with its fix, else one ok."""
    path = root / rel
    try:
        modules, files, optional = notebook_needs(path, root)
    except (OSError, ValueError, KeyError) as error:
        report.append(Finding(FAIL, section, f"{rel} is not a readable notebook: {error}", f"git checkout -- {rel}"))
        return
    problems = 0
    for module in modules:
        why = _module_missing(module)
        if why:
            problems += 1
            dist = DIST_OF_MODULE.get(module, module.split(".")[0].replace("_", "-"))
            pinned = next((f'"{n}=={v}"' for n, v in pins.items() if norm(n) == norm(dist)), dist)
            fix = f"{pip_command()} install -e ." if module.startswith("course_lib") else f"{pip_command()} install {pinned}"
            report.append(Finding(FAIL, section, f"{rel} imports {module}, which {why}", fix))
    for name in files:
        if not ((path.parent / name).exists() or (root / name).exists()):
            problems += 1
            shown = os.path.relpath((path.parent / name).resolve(), root)
            report.append(Finding(FAIL, section, f"{rel} needs {shown}, which is missing", f"git checkout -- {shown}"))
    for name in optional:
        if not (path.parent / name).exists():
            report.append(Finding(INFO, section, f"{rel}: optional {name} not present (the notebook says where to get it)"))
    if not problems:
        report.append(Finding(OK, section, f"{rel}: its {len(modules)} imports and {len(files)} files are present"))


def check_notebooks(report: list, root: Path | None, frameworks: set, pins: dict) -> None:
    """Every chapter notebook of ``frameworks`` in the checkout at ``root``: imports and files present."""
    section = "Notebooks and data"
    if root is None:
        report.append(Finding(INFO, section, "no course checkout found (course_lib installed without the repository): skipped"))
        return
    stems, folders = course_chapters(report, root, section)
    coming = []
    for stem in stems:
        missing = [fw for fw in folders if not (root / "notebooks" / fw / f"{stem}.ipynb").is_file()]
        coming += [stem] if len(missing) == len(folders) else [f"{fw}/{stem}" for fw in missing]
        for framework in folders:
            if framework in frameworks and framework not in missing:
                _check_notebook(report, section, root, f"notebooks/{framework}/{stem}.ipynb", pins)
    if coming:
        report.append(Finding(INFO, section, "not written yet: " + ", ".join(coming)))
