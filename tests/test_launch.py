"""Launching the course: links and badges, notebook headers, the course map (index and README).

What can be checked offline is checked here: every link and badge in the README and the
index points at a file of this checkout (Colab and Binder links through the manifest's
``repository`` and ``branch``, ``tools/chapters.json``); every chapter notebook that exists has
the fixed header (title line with the manifest's title, its own Colab badge, the Colab setup
cell), so a new notebook is checked as soon as it lands; the index and the README's chapter
table are regenerated from the manifest by ``tools/course_index.py``. Binder and the GPU
workflow: ``tests/test_binder_and_gpu_workflow.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tools import course_index, course_map, links
from tools.manifest import ROOT, Manifest, load_manifest
from tools.notebook_tree import FRAMEWORK_LINE_RE, HEADER_RE, all_notebooks, chapter_notebooks, notebooks_for, read_notebook

MANIFEST = load_manifest()
COLAB_PREFIX = f"https://colab.research.google.com/github/{MANIFEST.repository}/blob/{MANIFEST.branch}/"
BINDER_PREFIX = f"https://mybinder.org/v2/gh/{MANIFEST.repository}/{MANIFEST.branch}"
INDEX_COMMAND = [sys.executable, str(ROOT / "tools" / "course_index.py")]


# -- helpers -------------------------------------------------------------------------------

_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|(?:href|src)=[\"']([^\"']+)[\"']")


def links_in(markdown: str) -> list[str]:
    """Targets of the Markdown links and images (and HTML href/src) in ``markdown``."""
    return [a or b for a, b in _LINK.findall(markdown)]


def link_problem(target: str, base: Path, root: Path = ROOT) -> str | None:
    """Why ``target`` (found in a file in ``base``) does not point at a file here, or None."""
    if target.startswith("#") or target in (links.COLAB_BADGE_IMAGE, links.BINDER_BADGE_IMAGE):
        return None
    if target.startswith("https://colab.research.google.com/"):
        if not target.startswith(COLAB_PREFIX):
            return f"{target}: a Colab link must start with {COLAB_PREFIX} (links.colab_url)"
        path = target[len(COLAB_PREFIX):]
        if not path.endswith(".ipynb") or not (root / path).is_file():
            return f"{target}: {path} is not a notebook of this repository"
        return None
    if target.startswith("https://mybinder.org/"):
        parts = urlsplit(target)
        if f"{parts.scheme}://{parts.netloc}{parts.path}" != BINDER_PREFIX:
            return f"{target}: a Binder link must start with {BINDER_PREFIX} (links.binder_url)"
        urlpath = parse_qs(parts.query).get("urlpath", [""])[0]
        if not urlpath.startswith("lab/tree/") or not (root / urlpath[len("lab/tree/"):]).is_file():
            return f"{target}: urlpath must be lab/tree/<an existing file>, got {urlpath!r}"
        return None
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # other web links: not checkable offline
        return None
    path = (base / target.split("#")[0]).resolve()
    if not path.exists():
        return f"{target}: {path.relative_to(root) if path.is_relative_to(root) else path} does not exist"
    return None


def header_problems(path: Path, root: Path = ROOT, manifest: Manifest = MANIFEST) -> list[str]:
    """How a chapter notebook's cell 0 (title, own Colab badge) and cell 1 (setup) break the format."""
    rel = path.relative_to(root).as_posix()
    framework = manifest.frameworks[path.parent.name]
    chapters = {c.slug: c for c in manifest.chapters}
    problems = []
    if path.stem not in chapters:
        problems.append(f"{rel}: {path.stem!r} is not a chapter of tools/chapters.json {sorted(chapters)}")
    cells = read_notebook(path)["cells"]
    if len(cells) < 2:
        return problems + [f"{rel}: needs a header cell and a setup cell, has {len(cells)} cells"]
    head, setup = cells[0], cells[1]
    first_line = head["source"].split("\n", 1)[0]
    match = HEADER_RE.match(first_line)
    named = FRAMEWORK_LINE_RE.search(head["source"])
    if head["cell_type"] != "markdown" or not match:
        problems.append(f"{rel}: cell 0 must be Markdown starting '# Chapter N · Title', got {first_line!r}")
    elif int(match["number"]) != int(path.stem[:2]):
        problems.append(f"{rel}: header says chapter {match['number']}, file name says {int(path.stem[:2])}")
    elif path.stem in chapters and match["title"] != chapters[path.stem].title:
        problems.append(f"{rel}: header title {match['title']!r} is not the manifest's {chapters[path.stem].title!r}")
    if not named:
        problems.append(f"{rel}: cell 0 must name its framework in a line '*The {framework} version.*'")
    elif named["framework"] != framework:
        problems.append(f"{rel}: header says ({named['framework']}), folder {path.parent.name}/ says ({framework})")
    if links.colab_badge(manifest, rel) not in head["source"]:
        problems.append(f"{rel}: cell 0 lacks its own Colab badge {links.colab_badge(manifest, rel)}")
    expected = links.setup_cell_source(manifest).split("\n")
    got = setup["source"].rstrip().split("\n")
    pip_line = re.compile(r'^    %pip install -q "(?:course_lib\[[\w,-]+\] @ )?' + re.escape(links.install_spec(manifest)) + '"$')
    if setup["cell_type"] != "code" or got[:3] != expected[:3] or len(got) != 4 or not pip_line.match(got[3]):
        problems.append(f"{rel}: cell 1 must be the setup cell\n{links.setup_cell_source(manifest)}\ngot\n{setup['source']}")
    return problems


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    """A minimal nbformat 4 notebook with ``(cell_type, source)`` cells."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = {"cells": [dict({"cell_type": t, "metadata": {}, "source": s},
                         **({"execution_count": None, "outputs": []} if t == "code" else {})) for t, s in cells],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def good_chapter(root: Path, framework: str, stem: str = "01_dynamic_rnn", title: str = "Unrolling a cell: dynamic_rnn") -> Path:
    name = MANIFEST.frameworks[framework]
    rel = f"notebooks/{framework}/{stem}.ipynb"
    return write_notebook(root / rel, [
        ("markdown", f"# Chapter {int(stem[:2])} · {title}\n\n*The {name} version.*\n\n{links.colab_badge(MANIFEST, rel)}\n\nGoals..."),
        ("code", links.setup_cell_source(MANIFEST) + "\n"),
        ("code", f"from course_lib import {framework} as cl"),
    ])


# -- launch URLs ---------------------------------------------------------------------------


def test_urls_come_from_the_manifest_repository_and_branch():
    repo, branch = MANIFEST.repository, MANIFEST.branch
    assert links.binder_url(MANIFEST) == f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=lab/tree/notebooks/index.ipynb"
    path = "notebooks/tf/01_dynamic_rnn.ipynb"
    assert links.colab_url(MANIFEST, path) == f"https://colab.research.google.com/github/{repo}/blob/{branch}/{path}"
    assert links.colab_badge(MANIFEST, path) == (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({links.colab_url(MANIFEST, path)})")
    assert links.binder_url(MANIFEST, path).endswith("?urlpath=lab/tree/" + path)
    assert links.binder_badge(MANIFEST, path) == (
        f"[![Binder](https://mybinder.org/badge_logo.svg)]({links.binder_url(MANIFEST, path)})")
    fork = MANIFEST._replace(repository="someone/fork", branch="teaching/2027")
    assert links.colab_url(fork, path) == f"https://colab.research.google.com/github/someone/fork/blob/teaching/2027/{path}"
    with pytest.raises(ValueError, match="path"):
        links.colab_url(MANIFEST, "../secrets.ipynb")


def test_setup_cell_is_the_documented_one():
    assert links.setup_cell_source(MANIFEST) == (
        "# Setup: in Colab this installs course_lib; locally, requirements.txt already did.\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "git+https://github.com/{MANIFEST.repository}@{MANIFEST.branch}"'
    )


# -- chapter notebooks ---------------------------------------------------------------------


def test_header_checker_accepts_the_format_and_names_each_break(tmp_path):
    assert header_problems(good_chapter(tmp_path, "tf"), tmp_path) == []
    assert header_problems(good_chapter(tmp_path, "torch"), tmp_path) == []
    rel = "notebooks/torch/02_dynamic_decode.ipynb"
    bad = write_notebook(tmp_path / rel, [
        ("markdown", "# Chapter 3 · Decoding\n\n*The TensorFlow version.*\n\n"
                     + links.colab_badge(MANIFEST, "notebooks/torch/01_dynamic_rnn.ipynb")),
        ("code", "import sys\n%pip install course_lib"),
    ])
    text = "\n".join(header_problems(bad, tmp_path))
    assert "chapter 3" in text and "(TensorFlow)" in text and "own Colab badge" in text and "setup cell" in text
    renamed = good_chapter(tmp_path, "tf", title="Cells and dynamic_rnn")
    assert "not the manifest's 'Unrolling a cell: dynamic_rnn'" in "\n".join(header_problems(renamed, tmp_path))
    stray = good_chapter(tmp_path, "tf", stem="09_extra", title="Extra")
    assert "not a chapter of tools/chapters.json" in "\n".join(header_problems(stray, tmp_path))


def test_every_chapter_notebook_has_the_header_and_setup_cell():
    notebooks = chapter_notebooks(MANIFEST)
    assert len(notebooks) == len(MANIFEST.chapters) * len(MANIFEST.frameworks)
    problems = [p for path in notebooks for p in header_problems(path)]
    assert not problems, "\n\n".join(problems)


def test_every_link_in_every_notebook_resolves():
    problems = []
    for path in all_notebooks():
        for cell in read_notebook(path)["cells"]:
            if cell["cell_type"] == "markdown":
                problems += [f"{path.relative_to(ROOT)}: {p}" for t in links_in(cell["source"])
                             if (p := link_problem(t, path.parent))]
    assert not problems, "\n".join(problems)


# -- the course map: index and README ------------------------------------------------------


def test_index_readme_table_and_notebook_links_are_current():
    assert course_index.stale(MANIFEST) == []
    result = subprocess.run([*INDEX_COMMAND, "--check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr  # the command itself, as the README gives it


@pytest.mark.parametrize("document", ["README.md", "notebooks/index.ipynb"])
def test_every_link_and_badge_in_readme_and_index_resolves(document):
    path = ROOT / document
    text = path.read_text(encoding="utf-8") if path.suffix == ".md" else "\n".join(
        c["source"] for c in read_notebook(path)["cells"] if c["cell_type"] == "markdown")
    found = links_in(text)
    assert links.binder_url(MANIFEST, links.INDEX_PATH) in found and links.colab_url(MANIFEST, links.INDEX_PATH) in found
    problems = [p for t in found if (p := link_problem(t, path.parent))]
    assert not problems, "\n".join(problems)
    for notebook in chapter_notebooks(MANIFEST):  # every chapter that exists is linked, three ways
        rel = notebook.relative_to(ROOT).as_posix()
        local = os.path.relpath(notebook, path.parent).replace(os.sep, "/")
        for wanted in (local, links.colab_url(MANIFEST, rel), links.binder_url(MANIFEST, rel)):
            assert wanted in found, f"{document} does not link {wanted}; run: python tools/course_index.py"


def test_index_is_a_valid_markdown_first_notebook_with_committed_outputs():
    import nbformat

    nb = nbformat.read(ROOT / links.INDEX_PATH, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].cell_type == "markdown" and len(code) <= 1 < len(nb.cells) - len(code)
    for cell in code:  # executed, outputs committed, no error
        assert cell.execution_count is not None and cell.outputs, "run: python tools/course_index.py --force"
        assert all(o.output_type != "error" and o.get("name") != "stderr" for o in cell.outputs)
    assert "python tools/course_index.py" in nb.cells[-1].source and "tools/chapters.json" in nb.cells[-1].source


def test_index_passes_nbval_lax():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", links.INDEX_PATH],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_course_map_links_exactly_the_notebooks_that_exist(tmp_path, monkeypatch):
    monkeypatch.setattr(course_index, "execute", lambda nb, cwd, timeout=120: nb)  # the real run: test_index_*
    good_chapter(tmp_path, "tf")
    (tmp_path / "README.md").write_text("# x\n\n## Chapters\n\nintro\n\n| a |\n| --- |\n| b |\n\nafter\n\n## Next\n")
    table = course_map.chapter_table(MANIFEST, tmp_path, "index")
    row1, row2 = table.splitlines()[2:4]
    assert f"**{MANIFEST.chapters[0].title}**" in row1 and MANIFEST.chapters[0].teaches in row1  # the manifest's
    assert "[notebook](tf/01_dynamic_rnn.ipynb)" in row1 and row1.rstrip(" |").endswith("*coming*")
    assert "notebook" not in row2 and row2.count("*coming*") == 2
    assert course_index.write_index(MANIFEST, tmp_path) and course_index.index_is_current(MANIFEST, tmp_path)
    assert course_index.write_readme(MANIFEST, tmp_path) and course_index.readme_is_current(MANIFEST, tmp_path)
    readme = (tmp_path / "README.md").read_text()
    assert "| a |" not in readme and "intro" in readme and "after\n\n## Next" in readme
    assert readme.count(course_map.README_TABLE_START) == 1
    assert not course_index.write_readme(MANIFEST, tmp_path)  # idempotent
    old_marker = "<!-- chapter-table: generated by an older command -->"
    (tmp_path / "README.md").write_text(readme.replace(course_map.README_TABLE_START, old_marker))
    assert course_index.write_readme(MANIFEST, tmp_path)  # an edited marker is replaced, not doubled
    assert (tmp_path / "README.md").read_text() == readme
    good_chapter(tmp_path, "torch")  # a new notebook lands: stale until regenerated
    assert not course_index.index_is_current(MANIFEST, tmp_path) and not course_index.readme_is_current(MANIFEST, tmp_path)
    assert course_index.main(["--root", str(tmp_path), "--check"]) == 1
    assert course_index.main(["--root", str(tmp_path)]) == 0
    assert course_index.main(["--root", str(tmp_path), "--check"]) == 0


def test_retarget_rewrites_a_forks_notebooks_and_sources(tmp_path):
    path = good_chapter(tmp_path, "tf")
    source = tmp_path / "notebooks" / "src" / "01_dynamic_rnn.txt"
    source.parent.mkdir(parents=True)
    source.write_text((ROOT / "notebooks" / "src" / "01_dynamic_rnn.txt").read_text(encoding="utf-8"), encoding="utf-8")
    fork = MANIFEST._replace(repository="someone/fork", branch="teaching/2027")
    assert links.retarget(fork, tmp_path, write=False) == [path, source]  # --check reports both, writes nothing
    assert header_problems(path, tmp_path) == []
    assert links.retarget(fork, tmp_path) == [path, source]
    assert header_problems(path, tmp_path, fork) == []
    text = source.read_text(encoding="utf-8")
    assert MANIFEST.repository not in text and text.count("someone/fork") == 2  # the Colab badge, the install line
    assert "github/someone/fork/blob/teaching/2027/notebooks/{{fw}}/01_dynamic_rnn.ipynb" in text
    assert links.retarget(fork, tmp_path) == []


def test_notebooks_for_splits_the_tree_by_framework(tmp_path):
    tf_nb, torch_nb = good_chapter(tmp_path, "tf"), good_chapter(tmp_path, "torch")
    index = write_notebook(tmp_path / "notebooks" / "index.ipynb", [("markdown", "# map")])
    sol_tf = write_notebook(tmp_path / "notebooks" / "solutions" / "a.ipynb", [("code", "import tensorflow as tf")])
    sol_torch = write_notebook(tmp_path / "notebooks" / "solutions" / "b.ipynb", [("code", "from course_lib import torch as cl")])
    assert notebooks_for(MANIFEST, "tf", tmp_path) == [index, sol_tf, tf_nb]
    assert notebooks_for(MANIFEST, "torch", tmp_path) == [sol_torch, torch_nb]
    with pytest.raises(ValueError, match="`framework` must be one of"):
        notebooks_for(MANIFEST, "jax", tmp_path)
    real = {fw: notebooks_for(MANIFEST, fw) for fw in MANIFEST.frameworks}
    assert set().union(*real.values()) == set(all_notebooks()), "every notebook runs in one framework's GPU job"
    for fw, paths in real.items():  # the command the GPU workflow runs
        listed = subprocess.run([*INDEX_COMMAND, "--list-notebooks", fw], capture_output=True, text=True, check=True)
        assert listed.stdout.split() == [p.relative_to(ROOT).as_posix() for p in paths]
