"""Run every notebook and measure it against the course's budget: ``python -m bench.notebooks``.

Each notebook under ``notebooks/`` runs top to bottom with nbclient in a fresh kernel (what a
learner's "Run all" does); the command prints its wall time (kernel start included) and the peak
resident memory of the kernel process and its children, against the notebook's budget in the
chapter manifest ``tools/chapters.json`` (its chapter's ``budget``: 60 s and 1.5 GiB, chapter 7
240 s; ``default_budget`` for the index; Binder's limit is 2 GB). It exits 1 when a notebook
fails or is over budget.

    python -m bench.notebooks                       # all notebooks
    python -m bench.notebooks 01 torch/02           # only paths containing one of these
    python -m bench.notebooks --json bench/results/notebooks.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from bench import cell_times
from tools.manifest import Budget, load_manifest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MIB = 1024 * 1024


def budget_for(path: Path) -> Budget:
    """The budget of a notebook (seconds, MiB): its chapter's in the manifest, else the default."""
    return load_manifest().budget_for(Path(path).stem)


def find_notebooks(filters=()) -> list:
    paths = sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    rel = [p.relative_to(NOTEBOOKS).as_posix() for p in paths]
    return [p for p, r in zip(paths, rel) if not filters or any(f in r for f in filters)]


class PeakRSS:
    """Samples the summed RSS of this process's children (the kernel and what it starts) in a thread."""

    def __init__(self, interval: float = 0.05):
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        for child in psutil.Process().children(recursive=True):
            try:
                total += child.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def run_notebook(path: Path, timeout: int) -> dict:
    """Execute ``path`` in a fresh kernel (in memory: the file is not changed); measure it."""
    nb = nbformat.read(path, as_version=4)
    timer = cell_times.CellTimer()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}}, **timer.hooks())
    error = None
    start = time.perf_counter()
    with PeakRSS() as memory:
        try:
            client.execute()
        except CellExecutionError as exc:
            error = f"{getattr(exc, 'ename', 'error')}: {getattr(exc, 'evalue', '')}"[:200]
        except (CellTimeoutError, DeadKernelError, RuntimeError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
    seconds = time.perf_counter() - start
    peak_mib = memory.peak / MIB
    budget = budget_for(path)
    return {"notebook": path.relative_to(ROOT).as_posix(), "seconds": round(seconds, 2),
            "peak_mib": round(peak_mib, 1), "error": error, "slowest_cells": timer.slowest(),
            "budget_seconds": budget.seconds, "budget_mib": budget.memory_mib,
            "within_budget": error is None and seconds <= budget.seconds and peak_mib <= budget.memory_mib}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run every notebook; print wall time and peak kernel memory.")
    parser.add_argument("filters", nargs="*", help="run only notebooks whose path (under notebooks/) contains one")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell before giving up (default 600)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    paths = find_notebooks(args.filters)
    if not paths:
        print("no notebooks found", file=sys.stderr)
        return 1
    budgets = sorted({budget_for(p) for p in paths})
    print(f"{len(paths)} notebooks; budgets (tools/chapters.json) "
          + ", ".join(f"{b.seconds:.0f} s and {b.memory_mib:.0f} MiB" for b in budgets)
          + f"; {psutil.cpu_count()} CPUs, Python {platform.python_version()}")
    width = max(len(p.relative_to(ROOT).as_posix()) for p in paths)
    print(f"{'notebook':<{width}}  {'wall':>7}  {'peak RSS':>10}  verdict")
    results = []
    for path in paths:
        r = run_notebook(path, args.timeout)
        results.append(r)
        if r["error"]:
            verdict = f"FAILED  {r['error']}"
        elif r["within_budget"]:
            verdict = (f"ok ({r['seconds'] / r['budget_seconds']:.0%} of {r['budget_seconds']:.0f} s, "
                       f"{r['peak_mib'] / r['budget_mib']:.0%} of the memory)")
        else:
            verdict = "OVER BUDGET"
        print(f"{r['notebook']:<{width}}  {r['seconds']:>5.1f} s  {r['peak_mib']:>6.0f} MiB  {verdict}", flush=True)
        print(f"    {cell_times.format_slowest(r['slowest_cells'])}", flush=True)
    total = sum(r["seconds"] for r in results)
    bad = [r for r in results if not r["within_budget"]]
    print(f"total {total:.0f} s; {len(results) - len(bad)}/{len(results)} within budget")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"budgets_from": "tools/chapters.json", "results": results}, indent=2) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
