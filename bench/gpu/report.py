"""The GPU run's report: ``python -m bench.gpu.report WORK OUT`` (and ``--status WORK``).

``bench/gpu/run.sh`` leaves in WORK what each part wrote: ``parts.tsv`` (part, exit status,
seconds, limit), ``env.json``, the JUnit XML and log of the tests and of each notebook, and the
bench's JSON and log per batch. This writes to OUT ``report.md`` and ``results.json`` from them,
and gathers the logs into five files (the device tool brings back eight at most). It imports no
framework, so run.sh calls it after every part. ``--status`` prints one line per part and exits
0 only when every part ran and passed.
"""

from __future__ import annotations

import collections
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

#: the log files in OUT and the WORK logs each gathers (by name prefix)
LOGS = {"setup.log": "setup", "tests.log": "tests", "notebooks.log": "nb_", "bench.log": "bench_"}
#: terminal colours, raw or as JUnit XML escapes them
_ANSI = re.compile(r"(\x1b|#x1B)\[[0-9;]*m")


def read_parts(work: Path) -> list[dict]:
    """The rows of ``parts.tsv``: name, rc (an int, or None when the part was not run), seconds, limit."""
    path = work / "parts.tsv"
    rows = []
    for line in path.read_text().splitlines()[1:] if path.exists() else []:
        name, rc, seconds, limit = line.split("\t")
        rows.append({"name": name, "rc": None if rc == "not run" else int(rc), "seconds": float(seconds),
                     "limit": int(limit)})
    return rows


def _outcome(case) -> tuple[str, str]:
    """(outcome, message); an nbval cell's message is its reason and the error's last line."""
    for tag, outcome in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        node = case.find(tag)
        if node is None:
            continue
        message = _ANSI.sub("", node.get("message") or node.text or "").strip()
        if message.startswith("Notebook cell execution failed"):
            lines = [ln.strip() for ln in _ANSI.sub("", node.text or message).splitlines() if ln.strip()]
            reason = next((ln for ln in lines if re.match(r"Cell \d+:", ln)), lines[0])
            message = reason if lines[-1] == reason else f"{reason} / {lines[-1]}"
        return outcome, message
    return "passed", ""


def read_junit(path: Path) -> list[dict]:
    """One dict per test case: module, name, outcome (passed/failed/error/skipped), message, seconds."""
    if not path.exists():
        return []
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return []
    cases = []
    for case in root.iter("testcase"):
        parts = (case.get("classname") or "").split(".")
        upto = next((i for i, p in enumerate(parts) if p.startswith("test_")), len(parts) - 1)
        outcome, message = _outcome(case)
        cases.append({"module": "/".join(parts[:upto + 1]) + ".py", "name": case.get("name", ""),
                      "outcome": outcome, "message": message, "seconds": float(case.get("time") or 0)})
    return cases


def _count(cases) -> dict:
    counts = collections.Counter(c["outcome"] for c in cases)
    return {k: counts.get(k, 0) for k in ("passed", "failed", "error", "skipped")}


def _first_line(text: str, width: int = 160) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= width else line[:width - 3] + "..."


def summarize(work: Path) -> dict:
    """Everything report.md shows, as one JSON-able dict (results.json)."""
    parts = {p["name"]: p for p in read_parts(work)}
    env = json.loads((work / "env.json").read_text()) if (work / "env.json").exists() else {}
    tests = read_junit(work / "tests.xml")
    modules = collections.OrderedDict()
    for case in tests:
        modules.setdefault(case["module"], []).append(case)
    notebooks = []
    for name in sorted(n for n in parts if n.startswith("nb_")):
        cells = read_junit(work / f"{name}.xml")
        part = parts[name]
        bad = [c for c in cells if c["outcome"] in ("failed", "error")]
        ok = part["rc"] == 0 and not bad and bool(cells)
        notebooks.append({"notebook": f"notebooks/torch/{name[3:]}.ipynb", "passed": ok, "rc": part["rc"],
                          "seconds": part["seconds"], "cells": len(cells), "failed_cells": [
                              {"cell": c["name"], "message": _first_line(c["message"], 300)} for c in bad]})
    bench = {}
    for name in sorted((n for n in parts if n.startswith("bench_")), key=lambda n: int(n.split("_")[1])):
        path = work / f"{name}.json"
        bench[name.split("_")[1]] = json.loads(path.read_text()) if path.exists() else None
    skips = collections.Counter(_first_line(c["message"]) for c in tests if c["outcome"] == "skipped")
    per_module = {m: dict(_count(cs), seconds=round(sum(c["seconds"] for c in cs), 2)) for m, cs in modules.items()}
    return {
        "env": env, "parts": list(parts.values()),
        "tests": {"total": _count(tests), "modules": per_module,
                  "failures": [{"test": f"{c['module']}::{c['name']}", "outcome": c["outcome"],
                                "message": _first_line(c["message"], 300)}
                               for c in tests if c["outcome"] in ("failed", "error")],
                  "skip_reasons": dict(skips.most_common()),
                  "deselected": _deselected()},
        "notebooks": notebooks, "bench": bench,
    }


def _deselected() -> list[dict]:
    path = Path(__file__).with_name("tests.txt")
    rows = []
    for line in path.read_text().splitlines() if path.exists() else []:
        if line.startswith("deselect "):
            test, _, why = line[len("deselect "):].partition("|")
            rows.append({"test": test.strip(), "why": why.strip()})
    return rows


def _status(part: dict | None) -> str:
    if part is None:
        return "not reached"
    if part["rc"] is None:
        return "NOT RUN (out of time)"
    if part["rc"] == 124:
        return f"TIMED OUT at {part['limit']} s"
    return "passed" if part["rc"] == 0 else f"FAILED (exit {part['rc']})"


def _bench_tables(bench: dict) -> list[str]:
    runs = {b: r for b, r in bench.items() if r}
    if not runs:
        return ["(no bench run finished)"]
    batches = list(runs)
    head = "| | " + " | ".join(f"batch {b}" for b in batches) + " |"
    rule = "| --- |" + " ---: |" * len(batches)
    lines = ["Median ms per call (`python -m bench --backend torch`, built and timed on the device):", "", head, rule]
    labels = collections.OrderedDict()
    for r in runs.values():
        for key, t in r["timings"].items():
            labels.setdefault(key, t["label"])
    for key, label in labels.items():
        cells = [runs[b]["timings"].get(key, {}).get("median_s") for b in batches]
        lines.append(f"| {label} | " + " | ".join("-" if c is None else f"{c * 1e3:.2f}" for c in cells) + " |")
    lines += ["", "Ratios (lower is better; the CPU targets, informational on a GPU):", "",
              head.replace("| |", "| ratio |"), rule]
    ratio_labels = collections.OrderedDict()
    for r in runs.values():
        for key, rec in r["ratios"].items():
            ratio_labels.setdefault(key, rec["label"])
    for key, label in ratio_labels.items():
        cells = []
        for b in batches:
            rec = runs[b]["ratios"].get(key)
            cells.append("-" if not rec or rec.get("value") is None else f"{rec['value']:.2f}x")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    bad = [(b, k, c["detail"]) for b, r in runs.items() for k, c in r["checks"].items() if not c["ok"]]
    n_checks = sum(len(r["checks"]) for r in runs.values())
    lines += ["", f"Checks (candidates doing the same work agree): {n_checks - len(bad)} of {n_checks} ok."]
    lines += [f"- FAIL batch {b}: {k}: {d}" for b, k, d in bad]
    for b, r in runs.items():
        lines += [f"- batch {b} skipped {k}: {_first_line(str(why))}" for k, why in r["skipped"].items()]
        lines += [f"- batch {b} ERROR {k}: {_first_line(tb.strip().splitlines()[-1])}"
                  for k, tb in r["errors"].items()]
    return lines


def render(s: dict) -> str:
    env, parts = s["env"], {p["name"]: p for p in s["parts"]}
    v = env.get("versions", {})
    gpu = env.get("gpu") or f"the CPU (device {env.get('device', '?')}: a dry run)"
    total = s["tests"]["total"]
    nb_ok = sum(n["passed"] for n in s["notebooks"])
    lines = [f"# The PyTorch half of course_lib on {gpu}", "",
             f"- date: {env.get('date', '?')}; device: `{env.get('device', '?')}`"
             + (f" ({gpu}, {env.get('gpu_memory_gib')} GiB, compute capability {env.get('gpu_capability')}; "
                f"nvidia-smi: {env.get('nvidia_smi')})" if env.get("gpu") else ""),
             f"- machine: {env.get('platform', '?')}, {env.get('cpus', '?')} CPUs; Python {env.get('python', '?')}",
             f"- versions: torch {v.get('torch', '?')} (CUDA {env.get('torch_cuda')}, cuDNN {env.get('cudnn')}), "
             + ", ".join(f"{k} {v[k]}" for k in v if k != "torch"),
             f"- TensorFlow importable: {env.get('tensorflow_importable')} (the TensorFlow half is not run here)",
             f"- command: `bash bench/gpu/run.sh` (DEVICE={env.get('device', '?')}); "
             f"wall time of the parts: {sum(p['seconds'] for p in s['parts']):.0f} s", "",
             "## Summary", "",
             f"- unit tests (`COURSE_BACKENDS=torch COURSE_DEVICE={env.get('device', '?')}`): "
             f"{_status(parts.get('tests'))}: {total['passed']} passed, {total['failed']} failed, "
             f"{total['error']} errors, {total['skipped']} skipped",
             f"- notebooks (`pytest --nbval-lax`): {nb_ok} of {len(s['notebooks'])} passed",
             f"- bench: batches {', '.join(b for b, r in s['bench'].items() if r) or 'none'} finished", "",
             "## Unit tests", "", "| module | passed | failed | errors | skipped | s |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for m, c in s["tests"]["modules"].items():
        lines.append(f"| `{m}` | {c['passed']} | {c['failed']} | {c['error']} | {c['skipped']} | {c['seconds']:.1f} |")
    lines += ["", f"Failures: {len(s['tests']['failures']) or 'none'}"]
    lines += [f"- `{f['test']}` ({f['outcome']}): {f['message']}" for f in s["tests"]["failures"]]
    lines += ["", "Skip reasons:"] + [f"- {n} x {why}" for why, n in s["tests"]["skip_reasons"].items()]
    lines += ["", "Deselected (they need TensorFlow in a subprocess):"]
    lines += [f"- `{d['test']}`: {d['why']}" for d in s["tests"]["deselected"]]
    lines += ["", "## Notebooks", "", "| notebook | result | cells | wall s |", "| --- | --- | ---: | ---: |"]
    for n in s["notebooks"]:
        result = "passed" if n["passed"] else _status(parts.get("nb_" + Path(n["notebook"]).stem))
        if not n["passed"] and n["rc"] == 0:
            result = "FAILED (no cells ran)"
        lines.append(f"| `{n['notebook']}` | {result} | {n['cells']} | {n['seconds']:.1f} |")
        lines += [f"|  | {c['cell']}: {c['message'].replace('|', '/')} | | |" for c in n["failed_cells"]]
    lines += ["", "## Bench", ""] + _bench_tables(s["bench"])
    lines += ["", "## Parts", "", "| part | result | s | limit s |", "| --- | --- | ---: | ---: |"]
    lines += [f"| {p['name']} | {_status(p)} | {p['seconds']:.1f} | {p['limit']} |" for p in s["parts"]]
    return "\n".join(lines) + "\n"


def write(work: Path, out: Path) -> dict:
    """Write report.md, results.json and the gathered logs to ``out``; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(work)
    (out / "report.md").write_text(render(summary))
    (out / "results.json").write_text(json.dumps(summary, indent=1, default=str))
    for target, prefix in LOGS.items():
        sources = sorted(p for p in work.glob(f"{prefix}*.log"))
        with open(out / target, "w") as f:
            for src in sources:
                if len(sources) > 1:
                    f.write(f"\n===== {src.stem} =====\n")
                f.write(src.read_text(errors="replace"))
    bench = {b: r for b, r in summary["bench"].items() if r}
    (out / "bench.json").write_text(json.dumps(bench, indent=1))
    return summary


def status(work: Path) -> int:
    """One line per part; 0 when every part ran and passed."""
    parts = read_parts(work)
    for p in parts:
        print(f"  {p['name']:<28} {_status(p):<24} {p['seconds']:7.1f} s")
    return 0 if parts and all(p["rc"] == 0 for p in parts) else 1


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--status":
        return status(Path(argv[1]))
    if len(argv) != 2:
        print("usage: python -m bench.gpu.report WORK OUT | --status WORK", file=sys.stderr)
        return 2
    write(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
