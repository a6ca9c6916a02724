"""bench/gpu: the GPU run's script parses, its test list names what exists, and its report says
what passed, failed, timed out or did not run (from a made-up run's files)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from bench.gpu import report

ROOT = Path(__file__).resolve().parents[1]
GPU = ROOT / "bench" / "gpu"


def test_run_script_parses_and_is_executable():
    for script in ("run.sh", "make_wheels.sh"):
        subprocess.run(["bash", "-n", str(GPU / script)], check=True)
        assert (GPU / script).stat().st_mode & 0o111, f"{script} must be executable"


def test_the_test_list_names_existing_tests():
    lines = [ln for ln in (GPU / "tests.txt").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    verbs = {ln.split()[0] for ln in lines}
    assert verbs == {"run", "deselect"}, verbs
    for line in lines:
        verb, target = line.split()[:2]
        path, _, test = target.partition("::")
        assert (ROOT / path).exists(), f"{line!r}: no {path}"
        if verb == "deselect":
            assert "|" in line and line.split("|", 1)[1].strip(), f"{line!r}: say why it is deselected"
            name = re.sub(r"\[.*\]$", "", test)
            assert re.search(rf"^def {re.escape(name)}\(", (ROOT / path).read_text(), re.M), f"{line!r}: no {name}"


def test_every_wheel_is_pinned_once():
    names = []
    for line in (GPU / "wheels.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.]*", line.strip()), line
            names.append(re.sub(r"[-_.]+", "-", line.split("==")[0].lower()))
    assert len(names) == len(set(names)), "one version of each"


def _junit(path: Path, cases):
    body = "".join(
        f'<testcase classname="{cls}" name="{name}" time="0.5">{inner}</testcase>' for cls, name, inner in cases)
    path.write_text(f'<?xml version="1.0"?><testsuites><testsuite name="pytest">{body}</testsuite></testsuites>')


@pytest.fixture
def run_files(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "parts.tsv").write_text("part\trc\tseconds\tlimit\n"
                                    "tests\t1\t30.5\t150\n"
                                    "nb_01_dynamic_rnn\t0\t12.25\t90\n"
                                    "nb_07_chatbot\t124\t300.1\t300\n"
                                    "bench_64\t0\t20.0\t120\n"
                                    "bench_1024\tnot run\t0\t120\n")
    (work / "env.json").write_text(json.dumps({"date": "2026-12-04 10:00 UTC", "device": "cuda", "gpu": "NVIDIA H200",
                                               "versions": {"torch": "2.11.0"}, "torch_cuda": "13.0"}))
    _junit(work / "tests.xml", [
        ("tests.test_cells", "test_a[torch]", ""),
        ("tests.test_cells", "test_b[tf]", '<skipped message="COURSE_BACKENDS=torch leaves out the tf backend"/>'),
        ("tests.chapters.test_ch01_dynamic_rnn", "test_c", '<failure message="AssertionError: 3 != 4">tb</failure>'),
    ])
    _junit(work / "nb_01_dynamic_rnn.xml", [("01_dynamic_rnn.ipynb", "Cell 0", ""), ("01_dynamic_rnn.ipynb", "Cell 1", "")])
    _junit(work / "nb_07_chatbot.xml", [])
    (work / "bench_64.json").write_text(json.dumps({
        "timings": {"torch.eager.greedy.cl": {"label": "cl greedy", "median_s": 0.0123}},
        "ratios": {"r": {"label": "greedy, cl / hand", "value": 1.05}},
        "checks": {"c": {"ok": True, "detail": "same"}}, "skipped": {}, "errors": {}}))
    (work / "tests.log").write_text("1 failed, 1 passed, 1 skipped\n")
    (work / "nb_01_dynamic_rnn.log").write_text("2 passed\n")
    return work, tmp_path / "out"


def test_report_says_what_passed_failed_timed_out_and_did_not_run(run_files):
    work, out = run_files
    summary = report.write(work, out)
    text = (out / "report.md").read_text()
    assert text.startswith("# The PyTorch half of course_lib on NVIDIA H200")
    assert "1 passed, 1 failed, 0 errors, 1 skipped" in text
    assert "| `tests/test_cells.py` | 1 | 0 | 0 | 1 |" in text
    assert "`tests/chapters/test_ch01_dynamic_rnn.py::test_c` (failed): AssertionError: 3 != 4" in text
    assert "| `notebooks/torch/01_dynamic_rnn.ipynb` | passed | 2 | 12.2 |" in text
    assert "| `notebooks/torch/07_chatbot.ipynb` | TIMED OUT at 300 s | 0 | 300.1 |" in text
    assert "| bench_1024 | NOT RUN (out of time) |" in text
    assert "| cl greedy | 12.30 |" in text and "| greedy, cl / hand | 1.05x |" in text
    assert "1 x COURSE_BACKENDS=torch leaves out the tf backend" in text
    assert [n["passed"] for n in summary["notebooks"]] == [True, False]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.md", "results.json", "setup.log", "tests.log", "notebooks.log", "bench.log", "bench.json"])
    assert len(list(out.iterdir())) <= 8  # what the device tool brings back
    assert json.loads((out / "results.json").read_text())["tests"]["total"]["failed"] == 1
    assert report.status(work) == 1


def test_status_is_zero_only_when_every_part_passed(tmp_path, capsys):
    (tmp_path / "parts.tsv").write_text("part\trc\tseconds\tlimit\ntests\t0\t3.0\t150\nbench_64\t0\t2.0\t120\n")
    assert report.status(tmp_path) == 0
    assert "tests" in capsys.readouterr().out
    (tmp_path / "parts.tsv").write_text("part\trc\tseconds\tlimit\n")
    assert report.status(tmp_path) == 1  # nothing ran
