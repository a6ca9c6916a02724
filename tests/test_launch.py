"""Launching the course: links and badges, notebook headers, the course map, Binder, GPU CI.

What can be checked offline is checked here: every link and badge in the README and the
index points at a file of this checkout (Colab and Binder links through ``launch.REPOSITORY``
and ``launch.BRANCH``); every chapter notebook that exists has the fixed header (title line,
its own Colab badge, the Colab setup cell), so a new notebook is checked as soon as it lands;
the index and the README's chapter table are regenerated from the notebook tree; the Binder
files exist, parse, agree with ``requirements.txt`` and do what repo2docker expects; the GPU
workflow parses, runs only trusted code and installs the GPU builds of the pinned versions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from course_lib.common import course_map, launch

ROOT = launch.ROOT
BINDER = ROOT / "binder"
WORKFLOW = ROOT / ".github" / "workflows" / "gpu-notebooks.yml"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
COLAB_PREFIX = f"https://colab.research.google.com/github/{launch.REPOSITORY}/blob/{launch.BRANCH}/"
BINDER_PREFIX = f"https://mybinder.org/v2/gh/{launch.REPOSITORY}/{launch.BRANCH}"


# -- helpers -------------------------------------------------------------------------------

_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|(?:href|src)=[\"']([^\"']+)[\"']")


def links(markdown: str) -> list[str]:
    """Targets of the Markdown links and images (and HTML href/src) in ``markdown``."""
    return [a or b for a, b in _LINK.findall(markdown)]


def link_problem(target: str, base: Path, root: Path = ROOT) -> str | None:
    """Why ``target`` (found in a file in ``base``) does not point at a file here, or None."""
    if target.startswith("#") or target in (launch.COLAB_BADGE_IMAGE, launch.BINDER_BADGE_IMAGE):
        return None
    if target.startswith("https://colab.research.google.com/"):
        if not target.startswith(COLAB_PREFIX):
            return f"{target}: a Colab link must start with {COLAB_PREFIX} (launch.colab_url)"
        path = target[len(COLAB_PREFIX):]
        if not path.endswith(".ipynb") or not (root / path).is_file():
            return f"{target}: {path} is not a notebook of this repository"
        return None
    if target.startswith("https://mybinder.org/"):
        parts = urlsplit(target)
        if f"{parts.scheme}://{parts.netloc}{parts.path}" != BINDER_PREFIX:
            return f"{target}: a Binder link must start with {BINDER_PREFIX} (launch.binder_url)"
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


def header_problems(path: Path, root: Path = ROOT) -> list[str]:
    """How a chapter notebook's cell 0 (title, own Colab badge) and cell 1 (setup) break the format."""
    rel = path.relative_to(root).as_posix()
    framework = dict(launch.FRAMEWORKS)[path.parent.name]
    stems = {c.stem: c for c in launch.CHAPTERS}
    problems = []
    if path.stem not in stems:
        problems.append(f"{rel}: {path.stem!r} is not a chapter of launch.CHAPTERS {sorted(stems)}")
    cells = launch.read_notebook(path)["cells"]
    if len(cells) < 2:
        return problems + [f"{rel}: needs a header cell and a setup cell, has {len(cells)} cells"]
    head, setup = cells[0], cells[1]
    first_line = head["source"].split("\n", 1)[0]
    match = launch.HEADER_RE.match(first_line)
    named = launch.FRAMEWORK_LINE_RE.search(head["source"])
    if head["cell_type"] != "markdown" or not match:
        problems.append(f"{rel}: cell 0 must be Markdown starting '# Chapter N · Title', got {first_line!r}")
    elif int(match["number"]) != int(path.stem[:2]):
        problems.append(f"{rel}: header says chapter {match['number']}, file name says {int(path.stem[:2])}")
    if not named:
        problems.append(f"{rel}: cell 0 must name its framework in a line '*The {framework} version.*'")
    elif named["framework"] != framework:
        problems.append(f"{rel}: header says ({named['framework']}), folder {path.parent.name}/ says ({framework})")
    if launch.colab_badge(rel) not in head["source"]:
        problems.append(f"{rel}: cell 0 lacks its own Colab badge {launch.colab_badge(rel)}")
    expected = launch.setup_cell_source().split("\n")
    got = setup["source"].rstrip().split("\n")
    pip_line = re.compile(r'^    %pip install -q "(?:course_lib\[[\w,-]+\] @ )?' + re.escape(launch.install_spec()) + '"$')
    if setup["cell_type"] != "code" or got[:3] != expected[:3] or len(got) != 4 or not pip_line.match(got[3]):
        problems.append(f"{rel}: cell 1 must be the setup cell\n{launch.setup_cell_source()}\ngot\n{setup['source']}")
    return problems


def all_notebooks(root: Path = ROOT) -> list[Path]:
    return sorted(p for p in (root / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    """A minimal nbformat 4 notebook with ``(cell_type, source)`` cells."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = {"cells": [dict({"cell_type": t, "metadata": {}, "source": s},
                         **({"execution_count": None, "outputs": []} if t == "code" else {})) for t, s in cells],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def good_chapter(root: Path, framework: str, stem: str = "01_dynamic_rnn", title: str = "Cells and dynamic_rnn") -> Path:
    name = dict(launch.FRAMEWORKS)[framework]
    rel = launch.notebook_path(stem, framework)
    return write_notebook(root / rel, [
        ("markdown", f"# Chapter {int(stem[:2])} · {title}\n\n*The {name} version.*\n\n{launch.colab_badge(rel)}\n\nGoals..."),
        ("code", launch.setup_cell_source() + "\n"),
        ("code", f"from course_lib import {framework} as cl"),
    ])


def read_requirements(path: Path) -> tuple[dict[str, str], list[str]]:
    """({name: version} of the ``==`` pins, option/other lines) of a requirements file."""
    pins, other = {}, []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            other.append(line)
            continue
        req = Requirement(line)
        (spec,) = list(req.specifier)
        assert spec.operator == "==", f"{path.name}: {line!r} is not pinned with =="
        pins[req.name.lower()] = spec.version
    return pins, other


# -- launch URLs ---------------------------------------------------------------------------


def test_urls_come_from_the_one_repository_constant():
    assert launch.binder_url() == (f"https://mybinder.org/v2/gh/{launch.REPOSITORY}/{launch.BRANCH}"
                                   "?urlpath=lab/tree/notebooks/index.ipynb")
    path = "notebooks/tf/01_dynamic_rnn.ipynb"
    assert launch.colab_url(path) == f"https://colab.research.google.com/github/{launch.REPOSITORY}/blob/{launch.BRANCH}/{path}"
    assert launch.colab_badge(path) == (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({launch.colab_url(path)})")
    assert launch.binder_url(path).endswith("?urlpath=lab/tree/" + path)
    assert launch.binder_badge(path) == f"[![Binder](https://mybinder.org/badge_logo.svg)]({launch.binder_url(path)})"
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", launch.REPOSITORY) and launch.BRANCH
    with pytest.raises(ValueError, match="path"):
        launch.colab_url("../secrets.ipynb")


def test_setup_cell_is_the_documented_one():
    assert launch.setup_cell_source() == (
        "# Setup: in Colab this installs course_lib; locally, requirements.txt already did.\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "git+https://github.com/{launch.REPOSITORY}@{launch.BRANCH}"'
    )


# -- chapter notebooks ---------------------------------------------------------------------


def test_header_checker_accepts_the_format_and_names_each_break(tmp_path):
    assert header_problems(good_chapter(tmp_path, "tf"), tmp_path) == []
    assert header_problems(good_chapter(tmp_path, "torch"), tmp_path) == []
    rel = launch.notebook_path("02_dynamic_decode", "torch")
    bad = write_notebook(tmp_path / rel, [
        ("markdown", f"# Chapter 3 · Decoding\n\n*The TensorFlow version.*\n\n{launch.colab_badge('notebooks/torch/01_dynamic_rnn.ipynb')}"),
        ("code", "import sys\n%pip install course_lib"),
    ])
    text = "\n".join(header_problems(bad, tmp_path))
    assert "chapter 3" in text and "(TensorFlow)" in text and "own Colab badge" in text and "setup cell" in text
    stray = good_chapter(tmp_path, "tf", stem="09_extra", title="Extra")
    assert "not a chapter" in "\n".join(header_problems(stray, tmp_path))


def test_every_chapter_notebook_has_the_header_and_setup_cell():
    problems = [p for path in launch.chapter_notebooks() for p in header_problems(path)]
    assert not problems, "\n\n".join(problems)


def test_every_link_in_every_notebook_resolves():
    problems = []
    for path in all_notebooks():
        for cell in launch.read_notebook(path)["cells"]:
            if cell["cell_type"] == "markdown":
                problems += [f"{path.relative_to(ROOT)}: {p}" for t in links(cell["source"])
                             if (p := link_problem(t, path.parent))]
    assert not problems, "\n".join(problems)


# -- the course map: index and README ------------------------------------------------------


def test_index_and_readme_table_are_current():
    stale = [name for name, ok in (("notebooks/index.ipynb", course_map.index_is_current()),
                                   ("README.md chapter table", course_map.readme_is_current())) if not ok]
    assert not stale, f"out of date: {stale}; run: python -m course_lib index"


@pytest.mark.parametrize("document", ["README.md", "notebooks/index.ipynb"])
def test_every_link_and_badge_in_readme_and_index_resolves(document):
    path = ROOT / document
    text = path.read_text(encoding="utf-8") if path.suffix == ".md" else "\n".join(
        c["source"] for c in launch.read_notebook(path)["cells"] if c["cell_type"] == "markdown")
    found = links(text)
    assert launch.binder_url(launch.INDEX_PATH) in found and launch.colab_url(launch.INDEX_PATH) in found
    problems = [p for t in found if (p := link_problem(t, path.parent))]
    assert not problems, "\n".join(problems)
    for notebook in launch.chapter_notebooks():  # every chapter that exists is linked, three ways
        rel = notebook.relative_to(ROOT).as_posix()
        local = os.path.relpath(notebook, path.parent).replace(os.sep, "/")
        for wanted in (local, launch.colab_url(rel), launch.binder_url(rel)):
            assert wanted in found, f"{document} does not link {wanted}; run: python -m course_lib index"


def test_index_is_a_valid_markdown_first_notebook_with_committed_outputs():
    import nbformat

    nb = nbformat.read(ROOT / launch.INDEX_PATH, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].cell_type == "markdown" and len(code) <= 1 < len(nb.cells) - len(code)
    for cell in code:  # executed, outputs committed, no error
        assert cell.execution_count is not None and cell.outputs, "run: python -m course_lib index --force"
        assert all(o.output_type != "error" and o.get("name") != "stderr" for o in cell.outputs)
    assert "course_lib index" in nb.cells[-1].source  # says it is generated


def test_index_passes_nbval_lax():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", launch.INDEX_PATH],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_course_map_links_exactly_the_notebooks_that_exist(tmp_path, monkeypatch):
    monkeypatch.setattr(course_map, "execute", lambda nb, cwd, timeout=120: nb)  # the real run: test_index_*
    good_chapter(tmp_path, "tf", title="Cells, unrolled")
    (tmp_path / "README.md").write_text("# x\n\n## Chapters\n\nintro\n\n| a |\n| --- |\n| b |\n\nafter\n\n## Next\n")
    table = course_map.chapter_table(tmp_path, "index")
    row1, row2 = table.splitlines()[2:4]
    assert "**Cells, unrolled**" in row1  # the notebook's own title
    assert "[notebook](tf/01_dynamic_rnn.ipynb)" in row1 and row1.rstrip(" |").endswith("*coming*")
    assert "notebook" not in row2 and row2.count("*coming*") == 2
    assert course_map.write_index(tmp_path) and course_map.index_is_current(tmp_path)
    assert course_map.write_readme(tmp_path) and course_map.readme_is_current(tmp_path)
    readme = (tmp_path / "README.md").read_text()
    assert "| a |" not in readme and "intro" in readme and "after\n\n## Next" in readme
    assert readme.count(course_map.README_TABLE_START) == 1
    assert not course_map.write_readme(tmp_path)  # idempotent
    good_chapter(tmp_path, "torch")  # a new notebook lands: stale until regenerated
    assert not course_map.index_is_current(tmp_path) and not course_map.readme_is_current(tmp_path)
    assert launch.main(["--root", str(tmp_path), "--check"]) == 1
    assert launch.main(["--root", str(tmp_path)]) == 0
    assert launch.main(["--root", str(tmp_path), "--check"]) == 0


def test_retarget_rewrites_a_forks_links(tmp_path, monkeypatch):
    path = good_chapter(tmp_path, "tf")
    monkeypatch.setattr(launch, "REPOSITORY", "someone/fork")
    monkeypatch.setattr(launch, "BRANCH", "teaching/2027")
    assert launch.retarget_notebooks(tmp_path) == [path]
    assert header_problems(path, tmp_path) == []
    assert "someone/fork@teaching/2027" in path.read_text()
    assert launch.retarget_notebooks(tmp_path) == []


def test_notebooks_for_splits_the_tree_by_framework(tmp_path):
    tf_nb, torch_nb = good_chapter(tmp_path, "tf"), good_chapter(tmp_path, "torch")
    index = write_notebook(tmp_path / "notebooks" / "index.ipynb", [("markdown", "# map")])
    sol_tf = write_notebook(tmp_path / "notebooks" / "solutions" / "a.ipynb", [("code", "import tensorflow as tf")])
    sol_torch = write_notebook(tmp_path / "notebooks" / "solutions" / "b.ipynb", [("code", "from course_lib import torch as cl")])
    assert launch.notebooks_for("tf", tmp_path) == [index, sol_tf, tf_nb]
    assert launch.notebooks_for("torch", tmp_path) == [sol_torch, torch_nb]
    real = set(launch.notebooks_for("tf")) | set(launch.notebooks_for("torch"))
    assert real == set(all_notebooks()), "every notebook runs in one framework's GPU job"


# -- Binder --------------------------------------------------------------------------------


def test_binder_runtime_pins_a_supported_python():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11"
    import tomllib

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert Version(runtime.removeprefix("python-")) in SpecifierSet(requires)


def test_binder_requirements_mirror_the_root_pins_with_the_cpu_torch():
    root_pins, root_other = read_requirements(ROOT / "requirements.txt")
    binder_pins, binder_other = read_requirements(BINDER / "requirements.txt")
    assert root_other == ["-e ."], "the root requirements install course_lib itself"
    # The one documented difference: PyTorch's CPU build from PyTorch's CPU index.
    assert binder_other == [f"--extra-index-url {TORCH_CPU_INDEX}"]
    cpu = Version(binder_pins.pop("torch"))
    assert cpu.local == "cpu" and cpu.public == Version(root_pins.pop("torch")).public
    assert str(cpu) == f"{cpu.public}+cpu"  # the wheel name's form: torch-2.13.0+cpu-cp311-...
    assert binder_pins == root_pins, (
        "binder/requirements.txt must pin what requirements.txt pins (torch as +cpu): "
        f"only in the root {sorted(set(root_pins.items()) - set(binder_pins.items()))}, "
        f"only in binder/ {sorted(set(binder_pins.items()) - set(root_pins.items()))}")
    text = (BINDER / "requirements.txt").read_text()
    assert not re.search(r"^\s*(-e\b|\.\s*$|file:)", text, flags=re.M), "no local path: postBuild installs course_lib"


def test_binder_overrides_switch_off_jupyterlab_news():
    from jupyterlab.commands import get_app_dir
    from jupyterlab_server.settings_utils import get_settings
    import jsonschema

    overrides = json.loads((BINDER / "overrides.json").read_text())
    plugin = "@jupyterlab/apputils-extension:notification"
    assert overrides == {plugin: {"fetchNews": "false", "checkForUpdates": False}}
    settings, _ = get_settings(str(BINDER), str(Path(get_app_dir()) / "schemas"), str(BINDER / "no-user-settings"),
                               plugin, overrides=overrides)
    schema = settings["schema"]
    jsonschema.validate(overrides[plugin], schema)  # the keys and values the installed JupyterLab knows
    assert schema["properties"]["fetchNews"]["default"] == "false"
    assert schema["properties"]["checkForUpdates"]["default"] is False


def _executable_script(path: Path) -> str:
    text = path.read_text()
    assert text.startswith("#!/bin/bash\n"), f"{path.name} needs a bash shebang"
    assert os.access(path, os.X_OK), f"{path.name} must be executable (git update-index --chmod=+x {path.relative_to(ROOT)})"
    subprocess.run(["bash", "-n", str(path)], check=True)
    return text


def test_binder_postbuild_installs_course_lib_and_writes_the_overrides(tmp_path):
    text = _executable_script(BINDER / "postBuild")
    assert re.search(r"^set -e", text, flags=re.M)
    # Run it for real, with pip intercepted and JupyterLab's app dir in tmp_path.
    shim = tmp_path / "bin"
    shim.mkdir()
    log = tmp_path / "pip.log"
    (shim / "python").write_text(
        "#!/bin/bash\n"
        f'if [ "$1" = -m ] && [ "$2" = pip ]; then echo "$@" >> {log}; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n')
    (shim / "python").chmod(0o755)
    env = dict(os.environ, PATH=f"{shim}:{os.environ['PATH']}", JUPYTERLAB_DIR=str(tmp_path / "lab"))
    subprocess.run(["bash", str(BINDER / "postBuild")], cwd=ROOT, env=env, check=True, timeout=120)
    assert "pip install" in log.read_text() and "-e ." in log.read_text()
    written = tmp_path / "lab" / "settings" / "overrides.json"
    assert json.loads(written.read_text()) == json.loads((BINDER / "overrides.json").read_text())


def test_binder_start_execs_the_server_command():
    text = _executable_script(BINDER / "start")
    assert text.rstrip().splitlines()[-1] == 'exec "$@"'
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([str(BINDER / "start"), "env"], env=env, capture_output=True, text=True, check=True).stdout
    assert "TF_CPP_MIN_LOG_LEVEL=3" in out.splitlines()


# -- the GPU workflow ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def test_gpu_workflow_runs_only_trusted_code(workflow):
    triggers = workflow["on"]
    assert set(triggers) == {"workflow_dispatch", "push"}, "no pull_request / pull_request_target trigger"
    branches = triggers["push"]["branches"]
    assert "main" in branches and not {"*", "**"} & set(branches)
    assert not {"branches-ignore", "tags"} & set(triggers["push"])
    assert workflow["permissions"] == {"contents": "read"}
    text = WORKFLOW.read_text()
    assert "pull_request" not in re.sub(r"#.*", "", text)
    assert "${{ github.event." not in text, "no event data interpolated into scripts"
    for job in workflow["jobs"].values():
        assert {"self-hosted", "gpu"} <= set(job["runs-on"])
        checkout = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
        assert checkout and checkout[0]["with"]["persist-credentials"] is False
        assert re.fullmatch(r"actions/checkout@[0-9a-f]{40}", checkout[0]["uses"]), "pin actions by commit"


def test_gpu_workflow_installs_the_gpu_builds_and_runs_the_notebooks(workflow):
    root_pins, _ = read_requirements(ROOT / "requirements.txt")
    (job,) = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["framework"] == [f for f, _ in launch.FRAMEWORKS]
    script = "\n".join(s.get("run", "") for s in job["steps"])
    assert f"tensorflow[and-cuda]=={root_pins['tensorflow-cpu']}" in script, "same TF version as requirements.txt"
    assert "requirements.txt" in script and "-e ." in script
    assert "doctor --framework" in script and "--require-gpu" in script
    assert "--list-notebooks" in script and "--nbval-lax" in script
    for step in job["steps"]:
        if "run" in step:  # shell syntax, with the ${{ }} expressions stubbed
            body = re.sub(r"\$\{\{[^}]*\}\}", "x", step["run"])
            subprocess.run(["bash", "-n", "-c", body], check=True)
