"""``python -m course_lib doctor``: a healthy environment passes, every simulated problem is a
``FAIL`` line with a fix and exit code 1, and nothing missing makes the doctor itself crash.

Missing packages are simulated in-process: ``importlib.metadata`` answers "not installed" for
them and ``sys.modules[name] = None`` makes their import fail.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from course_lib import doctor
from course_lib.doctor import findings, machine, notebooks, packages

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = [fw for fw, dist in (("tf", "tensorflow-cpu"), ("torch", "torch"))
             if findings.installed(dist) or (fw == "tf" and findings.installed("tensorflow"))]


def hide(monkeypatch, *names, modules=()):
    """Make the distributions ``names`` look uninstalled and the ``modules`` unimportable."""
    real = metadata.version
    hidden = {findings.norm(n) for n in names}

    def version(name):
        if findings.norm(name) in hidden:
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "version", version)
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def run(capsys, *argv):
    code = doctor.main(list(argv))
    return code, capsys.readouterr().out


def lines_with(out: str, *words: str) -> list[str]:
    return [line for line in out.splitlines() if all(w in line for w in words)]


# -- a healthy environment -----------------------------------------------------------------


def test_healthy_environment_is_ready(capsys):
    assert INSTALLED, "neither framework is installed"
    argv = [] if len(INSTALLED) == 2 else ["--framework", INSTALLED[0]]
    code, out = run(capsys, *argv)
    assert code == 0, out
    assert out.rstrip().splitlines()[-1].startswith("Ready for class.")
    assert lines_with(out, "ok", "Python 3.")
    assert lines_with(out, "ok", "course_lib", "from")
    assert lines_with(out, "ok", "numpy")
    assert lines_with(out, "ok", "widgets render in JupyterLab", "jupyterlab_widgets")
    assert lines_with(out, "GiB available")
    assert lines_with(out, "info", "CPU:", "cores")
    for framework in INSTALLED:
        assert lines_with(out, "ok", f"course_lib.{framework}.default_device() ->"), out
    assert "FAIL" not in out and "Traceback" not in out


def test_command_line_entry_points():
    help_ = subprocess.run([sys.executable, "-m", "course_lib", "--help"], capture_output=True, text=True)
    assert help_.returncode == 0 and "doctor" in help_.stdout
    moved = subprocess.run([sys.executable, "-m", "course_lib", "index"], capture_output=True, text=True)
    assert moved.returncode == 2 and "tools/course_index.py" in moved.stderr  # repository tooling now
    result = subprocess.run([sys.executable, "-m", "course_lib", "doctor", "--framework", INSTALLED[-1]],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ready for class." in result.stdout
    assert "oneDNN" not in result.stderr and "absl" not in result.stderr  # framework log lines silenced
    wrong = subprocess.run([sys.executable, "-m", "course_lib", "nonsense"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "unknown command" in wrong.stderr


# -- problems: each a FAIL line with a fix, exit code 1 ------------------------------------


def test_missing_package_is_a_problem_with_a_fix(monkeypatch, capsys):
    hide(monkeypatch, "matplotlib", modules=["matplotlib"])
    code, out = run(capsys, "--framework", INSTALLED[-1])
    assert code == 1
    (line,) = lines_with(out, "FAIL", "matplotlib is not installed")
    fix = out.splitlines()[out.splitlines().index(line) + 1]
    pin = packages.read_pins(ROOT / "requirements.txt")["matplotlib"]
    assert fix.strip().startswith("fix: ") and f'-m pip install "matplotlib=={pin}"' in fix
    # notebooks that import matplotlib are reported too, each with its own fix line
    assert re.search(r"\d+ problems? found", out.splitlines()[-1])


def test_torch_only_environment_does_not_crash(monkeypatch, capsys):
    hide(monkeypatch, "tensorflow-cpu", "tensorflow", "keras", modules=["tensorflow", "keras"])
    code, out = run(capsys)
    assert code == 1  # TensorFlow's notebooks cannot run here ...
    assert lines_with(out, "FAIL", "tensorflow-cpu is not installed", "--framework torch")
    assert lines_with(out, "info", "tensorflow is not installed: its device check is skipped")
    if "torch" in INSTALLED:
        assert lines_with(out, "ok", "course_lib.torch.default_device() ->")
        code, out = run(capsys, "--framework", "torch")  # ... but a PyTorch-only class is ready
        assert code == 0, out
        assert "tensorflow" not in out.lower().replace("tensorflow/", "")


def test_broken_framework_install_is_a_problem(monkeypatch, capsys):
    framework = INSTALLED[-1]
    module = "torch" if framework == "torch" else "tensorflow"
    monkeypatch.setitem(sys.modules, module, None)  # installed per metadata, but the import fails
    code, out = run(capsys, "--framework", framework)
    assert code == 1
    (line,) = lines_with(out, "FAIL", f"{module} is installed but does not import")
    assert "fix:" in out.splitlines()[out.splitlines().index(line) + 1]


def test_version_other_than_the_pin_warns_and_strict_fails(monkeypatch, capsys):
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "1.0.0" if findings.norm(name) == "numpy" else real(name))
    code, out = run(capsys, "--framework", INSTALLED[-1])
    assert code == 0 and lines_with(out, "warn", "numpy 1.0.0 is installed; the course is tested with")
    assert "1 warning" in out.splitlines()[-1]
    code, out = run(capsys, "--framework", INSTALLED[-1], "--strict")
    assert code == 1


def test_missing_test_tool_is_only_a_warning(monkeypatch, capsys):
    hide(monkeypatch, "hypothesis")
    code, out = run(capsys, "--framework", INSTALLED[-1])
    assert code == 0 and lines_with(out, "warn", "hypothesis is not installed (only needed to run the tests)")


def test_widget_extension_problems(monkeypatch, tmp_path):
    monkeypatch.setattr(packages, "_labextension_dirs", lambda: [tmp_path])
    report = []
    packages.check_widgets(report)
    (finding,) = report
    assert finding.status == doctor.FAIL and "@jupyter-widgets/jupyterlab-manager" in finding.message
    assert "--force-reinstall" in finding.fix and "restart JupyterLab" in finding.fix
    manager = tmp_path / "@jupyter-widgets" / "jupyterlab-manager"
    manager.mkdir(parents=True)
    (manager / "package.json").write_text(json.dumps({"version": "5.0.0"}))
    monkeypatch.setattr(packages, "_disabled_labextensions", lambda: {"@jupyter-widgets/jupyterlab-manager"})
    report = []
    packages.check_widgets(report)
    assert report[0].status == doctor.FAIL and report[0].fix.startswith("jupyter labextension enable")
    hide(monkeypatch, "jupyterlab_widgets")
    report = []
    packages.check_widgets(report)
    assert report[0].status == doctor.FAIL and "jupyterlab_widgets" in report[0].fix


@pytest.mark.parametrize("available, status", [(1.0, doctor.FAIL), (2.5, doctor.WARN), (8.0, doctor.OK)])
def test_memory_thresholds(monkeypatch, available, status):
    monkeypatch.setattr(machine, "memory_gib", lambda: (available, 16.0))
    report = []
    machine.check_memory(report)
    assert report[0].status == status and (status == doctor.OK or "Shut Down All Kernels" in report[0].fix)


def test_require_gpu_fails_without_a_gpu(monkeypatch, capsys):
    if "torch" not in INSTALLED:
        pytest.skip("needs PyTorch")  # the tf path is the same code
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, out = run(capsys, "--framework", "torch", "--require-gpu")
    assert code == 1 and lines_with(out, "FAIL", "--require-gpu: PyTorch sees no GPU")


def test_a_check_that_breaks_is_reported_not_raised(monkeypatch, capsys):
    def broken(report):
        raise RuntimeError("boom")

    monkeypatch.setattr(packages, "check_widgets", broken)
    code, out = run(capsys, "--framework", INSTALLED[-1])
    assert code == 1 and lines_with(out, "FAIL", "RuntimeError: boom")
    assert lines_with(out, "GiB available")  # the later checks still ran


def test_without_the_repository_versions_are_shown_not_compared(tmp_path):
    report = []
    packages.check_packages(report, tmp_path, set(INSTALLED), strict=False)
    assert report[0].status == doctor.INFO and "requirements.txt not found" in report[0].message
    assert any(f.status == doctor.OK and f.message.startswith("numpy ") for f in report)
    report = []
    notebooks.check_notebooks(report, None, set(INSTALLED), {})
    assert report[0].status == doctor.INFO and "skipped" in report[0].message


# -- notebooks and their data --------------------------------------------------------------


def _notebook(path, cells):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [{"cell_type": t, "metadata": {}, "source": s} for t, s in cells],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_notebook_imports_and_data_are_checked(tmp_path):
    (tmp_path / "tools").mkdir()
    shutil.copy(ROOT / "tools" / "chapters.json", tmp_path / "tools" / "chapters.json")  # read as data
    notebook = tmp_path / "notebooks" / "tf" / "07_chatbot.ipynb"
    _notebook(notebook, [
        ("markdown", "# Chapter 7 · Chat (TensorFlow)\n\n![loop](../../figures/loop.png)\n[web](https://example.org/x.png)"),
        ("code", "%pip install -q something\nimport numpy as np, json\nfrom course_lib.common import nest\n"
                 "import not_a_module_xyz\nif 0:\n    from google.colab import output"),
        ("code", 'pairs = load("../../data/pairs.tsv")\nextra = "../../data/ChatbotData.csv"  # optional download\n'
                 'ckpt = "checkpoints/model.keras"'),
    ])
    report = []
    notebooks.check_notebooks(report, tmp_path, {"tf", "torch"}, {"numpy": "2.4.6"})
    by_status = {s: [f for f in report if f.status == s] for s in (doctor.OK, doctor.INFO, doctor.FAIL)}
    fails = {f.message: f.fix for f in by_status[doctor.FAIL]}
    assert set(fails) == {
        "notebooks/tf/07_chatbot.ipynb imports not_a_module_xyz, which is not installed",
        "notebooks/tf/07_chatbot.ipynb needs figures/loop.png, which is missing",
        "notebooks/tf/07_chatbot.ipynb needs data/pairs.tsv, which is missing",
    }, report
    assert fails["notebooks/tf/07_chatbot.ipynb imports not_a_module_xyz, which is not installed"].endswith(
        "-m pip install not-a-module-xyz")
    assert fails["notebooks/tf/07_chatbot.ipynb needs figures/loop.png, which is missing"] == "git checkout -- figures/loop.png"
    assert any("optional ../../data/ChatbotData.csv" in f.message for f in by_status[doctor.INFO])
    (coming,) = [f.message for f in by_status[doctor.INFO] if "not written yet" in f.message]
    # every manifest chapter but the one tf notebook written: both frameworks missing -> the slug, one -> fw/slug
    slugs = [c["slug"] for c in json.loads((ROOT / "tools" / "chapters.json").read_text())["chapters"]]
    expected = [s if s != "07_chatbot" else "torch/07_chatbot" for s in slugs]
    assert coming == "not written yet: " + ", ".join(expected), coming
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "loop.png").write_bytes(b"png")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pairs.tsv").write_text("a\tb\n")
    _notebook(notebook, [(t, s.replace("import not_a_module_xyz\n", "")) for t, s in
                         [(c["cell_type"], c["source"]) for c in notebooks.read_notebook(notebook)["cells"]]])
    report = []
    notebooks.check_notebooks(report, tmp_path, {"tf"}, {})
    assert [f.status for f in report if "07_chatbot.ipynb" in f.message] == [doctor.INFO, doctor.OK], report


def test_notebooks_without_a_manifest_are_found_and_a_broken_one_is_a_problem(tmp_path):
    _notebook(tmp_path / "notebooks" / "torch" / "09_extra.ipynb", [("code", "import json")])
    report = []
    notebooks.check_notebooks(report, tmp_path, {"tf", "torch"}, {})  # no tools/chapters.json: the tree
    assert [(f.status, f.message) for f in report] == [
        (doctor.OK, "notebooks/torch/09_extra.ipynb: its 1 imports and 0 files are present"),
        (doctor.INFO, "not written yet: tf/09_extra")]
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "chapters.json").write_text('{"chapters": [')
    report = []
    notebooks.check_notebooks(report, tmp_path, {"torch"}, {})
    assert report[0].status == doctor.FAIL and "tools/chapters.json is not a readable chapter manifest" in report[0].message
    assert report[0].fix == "git checkout -- tools/chapters.json"
    assert report[1].status == doctor.OK and "09_extra" in report[1].message  # the notebooks are still checked


def test_every_existing_notebook_finds_what_it_needs():
    report = []
    notebooks.check_notebooks(report, ROOT, set(INSTALLED), packages.read_pins(ROOT / "requirements.txt"))
    problems = [f"{f.message}\n  fix: {f.fix}" for f in report if f.status == doctor.FAIL]
    assert not problems, "\n".join(problems)
    checked = {f.message.split(":")[0] for f in report if f.status == doctor.OK}
    manifest = json.loads((ROOT / "tools" / "chapters.json").read_text())
    assert checked == {f"notebooks/{fw}/{c['slug']}.ipynb" for c in manifest["chapters"] for fw in INSTALLED}


def test_the_doctor_does_not_import_the_repository_tools():
    code = "import sys, course_lib.doctor; sys.exit(any(m == 'tools' or m.startswith('tools.') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
