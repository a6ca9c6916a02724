"""The chapter notebooks as committed: pairs, headers, clean outputs, checked cells, solutions.

nbval (``--nbval-lax`` in pyproject.toml) re-runs every notebook and compares the cells marked
tagged ``nbval-check-output``; these tests read the committed files: what a learner opens must be
a clean run, the same lesson in both frameworks, and what it promises must hold.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys

import nbformat
import pytest

from tools.links import colab_badge, setup_cell_source
from tools.manifest import ROOT, load_manifest, missing_files, parse_manifest, unlisted_files

NOTEBOOKS = ROOT / "notebooks"
MANIFEST = load_manifest()
FRAMEWORKS = MANIFEST.frameworks  # {"tf": "TensorFlow", "torch": "PyTorch"}
SETUP = setup_cell_source(MANIFEST)
#: framework logging that must never reach a committed output
LOG_NOISE = re.compile(
    r"^(WARNING: All log messages before absl|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|(ERROR|WARNING):tensorflow:|.*(oneDNN custom operations|cuda_dlopen|Unable to register cu|cpu_feature_guard"
    r"|TF-TRT|Object was never used))", re.M)
#: what a notebook of one framework must not import
FOREIGN_IMPORTS = {
    "tf": re.compile(r"^\s*(import|from)\s+torch\b|course_lib\.torch|from course_lib import torch"
                     r"|from course_lib\.chapters\.\w+ import torch\b", re.M),
    "torch": re.compile(r"^\s*(import|from)\s+(tensorflow|keras)\b|course_lib\.tf\b|from course_lib import tf\b"
                        r"|from course_lib\.chapters\.\w+ import tf\b", re.M),
}


CHAPTERS = [f"{c.slug}.ipynb" for c in MANIFEST.chapters]  # tests below: the tree has no others
ALL = [ROOT / c.notebook(fw) for fw in FRAMEWORKS for c in MANIFEST.chapters]
IDS = [f"{p.parent.name}/{p.stem}" for p in ALL]


def read(path):
    return nbformat.read(path, as_version=4)


def headings(nb):
    """Markdown heading lines outside code blocks, as written (a pair must share them exactly)."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line in cell.source.splitlines():
            if line.startswith("```"):
                fenced = not fenced
            elif not fenced and re.match(r"#{1,6} ", line):
                out.append(line)
    return out


def outputs_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.get("output_type") == "error":
            parts.append("\n".join(out.get("traceback", [])))
    return "".join(parts)


# -- pairs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_is_a_pair_with_the_same_headings(name):
    paths = {fw: NOTEBOOKS / fw / name for fw in FRAMEWORKS}
    missing = [str(p.relative_to(ROOT)) for p in paths.values() if not p.exists()]
    assert not missing, f"the twin is missing: {missing}"
    tf_h, torch_h = (headings(read(paths[fw])) for fw in FRAMEWORKS)
    assert tf_h == torch_h


@pytest.mark.parametrize("name", CHAPTERS)
def test_parity_cells_print_the_same_in_both_frameworks(name):
    """Cells tagged ``parity`` load the same NumPy weights in both frameworks: equal outputs."""
    cells = {fw: [c for c in read(NOTEBOOKS / fw / name).cells if "parity" in c.metadata.get("tags", [])]
             for fw in FRAMEWORKS}
    assert len(cells["tf"]) == len(cells["torch"])
    for tf_cell, torch_cell in zip(cells["tf"], cells["torch"]):
        assert outputs_text(tf_cell) and outputs_text(tf_cell) == outputs_text(torch_cell)


# -- header and imports -------------------------------------------------------------------------

@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_header_title_badge_setup_and_imports(path):
    fw, nb = path.parent.name, read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert re.match(rf"# Chapter {int(path.name[:2])} · .+\n", first.source), first.source[:80]
    assert f"*The {FRAMEWORKS[fw]} version.*" in first.source  # the title itself is the pair's
    assert colab_badge(MANIFEST, f"notebooks/{fw}/{path.name}") in first.source
    # chapter 7 installs the `chatbot` extra (corpus and tokenizer) in Colab
    allowed = {SETUP, SETUP.replace('"git+', '"course_lib[chatbot] @ git+')}
    assert nb.cells[1].cell_type == "code" and nb.cells[1].source in allowed
    imports = nb.cells[2].source
    assert nb.cells[2].cell_type == "code"
    first_import = next(line for line in imports.splitlines() if line.startswith(("import", "from")))
    assert first_import.startswith(f"from course_lib import {fw} as cl"), "the backend goes first (log level)"
    assert "cl.set_seed(0)" in imports


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_a_notebook_imports_only_its_own_framework(path):
    fw = path.parent.name
    code = "\n".join(c.source for c in read(path).cells if c.cell_type == "code")
    found = FOREIGN_IMPORTS[fw].search(code)
    assert found is None, f"{path.name} imports the other framework: {found.group(0)!r}"


# -- committed outputs --------------------------------------------------------------------------

@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_outputs_are_one_clean_run(path):
    """Every code cell ran, in order, once; no errors, no stderr, no framework log lines."""
    code = [c for c in read(path).cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "not one top-to-bottom run"
    for i, cell in enumerate(code, 1):
        for out in cell.outputs:
            where = f"{path.name}, code cell {i}"
            assert out.output_type != "error", f"{where}: {out.get('ename')}: {out.get('evalue')}"
            assert not (out.output_type == "stream" and out.name == "stderr"), f"{where}: stderr {out.text[:300]!r}"
        text = outputs_text(cell)
        assert "Traceback" not in text, f"{path.name}, code cell {i}: a traceback"
        assert not LOG_NOISE.search(text), f"{path.name}, code cell {i}: log noise {LOG_NOISE.search(text).group(0)!r}"


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_at_least_three_checked_cells_with_outputs(path):
    cells = [c for c in read(path).cells if c.cell_type == "code"]
    checked = [c for c in cells if "nbval-check-output" in c.metadata.get("tags", [])]
    assert len(checked) >= 3, f"{path.name}: {len(checked)} cells tagged nbval-check-output"
    assert not any("NBVAL_CHECK_OUTPUT" in c.source for c in cells), f"{path.name}: a marker comment learners would see"
    assert all(outputs_text(c).strip() for c in checked), "a checked cell with no output checks nothing"


# -- sources, exercises and solutions -----------------------------------------------------------

def _build_module():
    spec = importlib.util.spec_from_file_location("notebook_build", NOTEBOOKS / "src" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SOURCES = [ROOT / c.source() for c in MANIFEST.chapters]


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_notebooks_match_their_source(source):
    """Edit notebooks/src/NN_name.txt, then run notebooks/src/build.py --execute (figures included)."""
    build = _build_module()
    for fw in FRAMEWORKS:
        built = build.notebook_for(source, fw)
        committed = read(NOTEBOOKS / fw / f"{source.stem}.ipynb")
        assert build.same_cells(built, committed), f"notebooks/{fw}/{source.stem}.ipynb is out of date"


#: ``ex.check_unroll(my_unroll)``: the chapter's binding is imported as ``ex`` (chapter 7: ``ch``)
CHECKER_CALL = re.compile(r"^(?:ex|ch)\.(check_\w+)\((\w+)\)", re.M)
EX_IMPORT = re.compile(r"^from (course_lib\.chapters\.\w+) import (?:tf|torch) as (?:ex|ch)\b", re.M)


def _exercises(path):
    return [m.groups() for c in read(path).cells if c.cell_type == "code" for m in CHECKER_CALL.finditer(c.source)]


def _exercises_module(path):
    """The module a notebook imports as ``ex``: its chapter's binding ``course_lib.chapters.chNN_name.<fw>``."""
    code = "\n".join(c.source for c in read(path).cells if c.cell_type == "code")
    found = EX_IMPORT.search(code)
    assert found, f"{path.name} calls ex.check_... but imports no `from course_lib.chapters.<chapter> import ... as ex`"
    return f"{found.group(1)}.{path.parent.name}"


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_exercises_have_a_checker_and_a_passing_solution(path, capsys):
    """Every ``ex.check_x(name)`` of a notebook has ``name`` in notebooks/solutions/<fw>/<chapter>.py,
    and the checker accepts it."""
    fw, calls = path.parent.name, _exercises(path)
    chapter = next(c for c in MANIFEST.chapters if c.slug == path.stem)
    if not chapter.exercises:
        assert calls == [], f"{path.name} calls checkers, but tools/chapters.json says it has no exercises"
        return
    assert len(calls) >= 2, f"{path.name}: {len(calls)} exercises with a checker (the manifest says it has exercises)"
    solution_file = NOTEBOOKS / "solutions" / fw / f"{path.stem}.py"
    assert solution_file.exists(), f"no solutions file {solution_file.relative_to(ROOT)}"
    spec = importlib.util.spec_from_file_location(f"nb_solutions_{fw}_{path.stem}", solution_file)
    solutions = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(solutions)
    exercises = importlib.import_module(_exercises_module(path))
    for checker, name in calls:
        assert hasattr(solutions, name), f"{solution_file.name} has no {name}"
        result = getattr(exercises, checker)(getattr(solutions, name))
        assert result, result.message


# -- the chapter manifest, tools/chapters.json ---------------------------------------------------

#: an exercise's last line, whatever the chapter calls its checkers: ``ex.check_unroll(my_unroll)``
EXERCISE_CALL = re.compile(r"^\w+\.check_\w+\(\w+\)$", re.M)


def test_the_manifest_names_only_files_that_exist():
    """Each entry's source, notebooks, checkers and solutions (with exercises) and figures exist."""
    assert MANIFEST.chapters and missing_files(MANIFEST) == []


def test_every_chapter_file_has_a_manifest_entry():
    """A chapter source, notebook, checker or solution that no entry names fails (CONTRIBUTING.md)."""
    assert unlisted_files(MANIFEST) == []
    assert _build_module().manifest_problems(sorted((NOTEBOOKS / "src").glob("*.txt"))) == []


def test_the_tree_checks_catch_a_stray_and_a_missing_file(tmp_path):
    for rel in MANIFEST.chapters[0].files(FRAMEWORKS):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    one = MANIFEST._replace(chapters=MANIFEST.chapters[:1])
    assert missing_files(one, tmp_path) == [] and unlisted_files(one, tmp_path) == []
    (tmp_path / "notebooks" / "torch" / "02_new.ipynb").write_text("{}")
    (tmp_path / MANIFEST.chapters[0].notebook("tf")).unlink()
    assert unlisted_files(one, tmp_path) == ["notebooks/torch/02_new.ipynb"]
    assert missing_files(one, tmp_path) == [MANIFEST.chapters[0].notebook("tf")]
    no_exercises = one._replace(chapters=(one.chapters[0]._replace(exercises=False),))
    chapter = one.chapters[0]
    assert set(unlisted_files(no_exercises, tmp_path)) == {"notebooks/torch/02_new.ipynb"} | {
        path for fw in FRAMEWORKS for path in (chapter.solution(fw), chapter.checkers(fw))}


def test_build_rejects_a_source_without_an_entry_or_with_another_title(tmp_path):
    build = _build_module()
    stray = tmp_path / "09_extra.txt"
    stray.write_text("%% md\n# Chapter 9 · Extra\n")
    renamed = tmp_path / "01_dynamic_rnn.txt"
    renamed.write_text("%% md\n# Chapter 1 · Cells and dynamic_rnn\n")
    problems = build.manifest_problems([stray, renamed])
    assert problems[0] == ("notebooks/src/09_extra.txt has no entry in tools/chapters.json "
                           "(add one: CONTRIBUTING.md, 'Adding a chapter')")
    assert "must be '# Chapter 1 · Unrolling a cell: dynamic_rnn'" in problems[1], problems


@pytest.mark.parametrize("chapter", MANIFEST.chapters, ids=[c.slug for c in MANIFEST.chapters])
def test_manifest_title_figures_and_exercises_match_the_chapter(chapter):
    for fw in FRAMEWORKS:
        nb = read(ROOT / chapter.notebook(fw))
        assert nb.cells[0].source.split("\n", 1)[0] == f"# Chapter {chapter.number} · {chapter.title}"
        shown = {name for c in nb.cells if c.cell_type == "markdown" for name in c.get("attachments", {})}
        assert shown == set(chapter.figures), "the manifest's `figures` are the PNGs the chapter embeds"
        calls = [m for c in nb.cells if c.cell_type == "code" for m in EXERCISE_CALL.findall(c.source)]
        assert bool(calls) == chapter.exercises, "`exercises` says whether the chapter calls exercise checkers"


def test_the_figure_script_draws_exactly_the_manifest_figures():
    """Each PNG is drawn by figures/make_figures.py from its chapter's entry, byte for byte as committed."""
    result = subprocess.run([sys.executable, str(ROOT / "figures" / "make_figures.py"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_notebook_bench_takes_its_budgets_from_the_manifest():
    from bench.notebooks import budget_for

    for chapter in MANIFEST.chapters:
        assert budget_for(ROOT / chapter.notebook("torch")) == chapter.budget
    assert budget_for(NOTEBOOKS / "index.ipynb") == MANIFEST.default_budget


def _broken(change) -> str:
    data = json.loads((ROOT / "tools" / "chapters.json").read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(ValueError) as error:
        parse_manifest(data)
    return str(error.value)


def test_a_broken_manifest_names_the_chapter_and_the_field(tmp_path):
    assert "chapters[1] (02_dynamic_decode): missing fields ['title']" in _broken(lambda d: d["chapters"][1].pop("title"))
    message = _broken(lambda d: d["chapters"][0].update(minutes="45"))
    assert "(01_dynamic_rnn): `minutes` must be a positive whole number, got '45'" in message
    assert "`number` must be 3" in _broken(lambda d: d["chapters"][2].update(number=4))
    assert "`slug` must be the file stem '01_name'" in _broken(lambda d: d["chapters"][0].update(slug="1_rnn"))
    message = _broken(lambda d: d["chapters"][6]["budget"].update(seconds=0))
    assert "chapters[6] (07_chatbot).budget: `seconds` must be a positive number, got 0" in message
    assert "`figures` must be a list of distinct PNG" in _broken(lambda d: d["chapters"][0].update(figures=["a.svg"]))
    assert "unknown fields ['chapter']" in _broken(lambda d: d.update(chapter=[]))
    assert "`repository` must be 'owner/name'" in _broken(lambda d: d.update(repository="seq2seq"))
    bad = tmp_path / "chapters.json"
    bad.write_text('{"chapters": [')
    with pytest.raises(ValueError, match="chapters.json is not valid JSON"):
        load_manifest(bad)
    with pytest.raises(ValueError, match="`framework` must be one of \\['tf', 'torch'\\], got 'jax'"):
        MANIFEST.check_framework("jax")
