"""Binder and the GPU workflow: the files exist, parse, agree with ``requirements.txt``, run.

The Binder files do what repo2docker expects (runtime, requirements mirroring the root pins with
PyTorch's CPU build, postBuild, start, JupyterLab overrides); the GPU workflow parses, runs only
trusted code, installs the GPU builds of the pinned versions and lists its notebooks with
``tools/course_index.py --list-notebooks`` (one job per framework of ``tools/chapters.json``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tools.manifest import ROOT, load_manifest

MANIFEST = load_manifest()
BINDER = ROOT / "binder"
WORKFLOW = ROOT / ".github" / "workflows" / "gpu-notebooks.yml"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


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
    assert job["strategy"]["matrix"]["framework"] == list(MANIFEST.frameworks)
    script = "\n".join(s.get("run", "") for s in job["steps"])
    assert f"tensorflow[and-cuda]=={root_pins['tensorflow-cpu']}" in script, "same TF version as requirements.txt"
    assert "requirements.txt" in script and "-e ." in script
    assert "doctor --framework" in script and "--require-gpu" in script
    assert "python tools/course_index.py --list-notebooks" in script and "--nbval-lax" in script
    for step in job["steps"]:
        if "run" in step:  # shell syntax, with the ${{ }} expressions stubbed
            body = re.sub(r"\$\{\{[^}]*\}\}", "x", step["run"])
            subprocess.run(["bash", "-n", "-c", body], check=True)
