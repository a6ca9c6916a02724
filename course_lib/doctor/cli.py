"""The doctor's report: run every check in order, print it with fixes and a verdict, the command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import course_lib.doctor.machine as machine
import course_lib.doctor.notebooks as notebooks
import course_lib.doctor.packages as packages
from course_lib.doctor.findings import FAIL, INFO, WARN, Finding

DESCRIPTION = "python -m course_lib doctor: is this machine ready for the course?"


def run(frameworks=("tf", "torch"), require_gpu=False, strict=False, root: Path | None = None) -> list[Finding]:
    """Every check, in order; returns the findings (nothing is printed)."""
    frameworks = set(frameworks)
    root = packages.find_root() if root is None else Path(root)
    report: list[Finding] = []
    pins = packages.read_pins(root / "requirements.txt") if root and (root / "requirements.txt").is_file() else {}
    steps = [  # looked up at each run, so a test can replace one check
        lambda: packages.check_python(report),
        lambda: packages.check_course_lib(report, root),
        lambda: packages.check_packages(report, root, frameworks, strict),
        lambda: packages.check_widgets(report),
        lambda: machine.check_memory(report),  # before the frameworks take their share
        lambda: machine.check_devices(report, frameworks, require_gpu, pins),
        lambda: notebooks.check_notebooks(report, root, frameworks, pins),
    ]
    for step in steps:
        try:
            step()
        except Exception as error:  # a check that breaks is a finding too, never a crash
            report.append(Finding(FAIL, "doctor", f"a check failed unexpectedly: {type(error).__name__}: {error}",
                                  "please report this with the output above"))
    if "google.colab" not in sys.modules and os.environ.get("BINDER_LAUNCH_HOST"):
        report.append(Finding(INFO, "Memory", "Binder: CPU only, at most 2 GB; shut a notebook's kernel down before the next"))
    return report


def format_report(report: list[Finding], strict: bool = False) -> str:
    """The report as text: sections, one line per finding, fixes, and a verdict."""
    lines, section = ["course_lib doctor: is this machine ready for the course?"], None
    for finding in report:
        if finding.section != section:
            section = finding.section
            lines += ["", section]
        lines.append(f"  {finding.status:<4}  {finding.message}")
        if finding.fix and finding.status in (WARN, FAIL):
            lines.append(f"        fix: {finding.fix}")
    bad = [f for f in report if f.status == FAIL or (strict and f.status == WARN)]
    warnings = sum(f.status == WARN for f in report) if not strict else 0
    lines.append("")
    if bad:
        lines.append(f"{len(bad)} problem{'s' * (len(bad) != 1)} found: run the fix lines above, then run the doctor again.")
    else:
        lines.append("Ready for class." + (f" ({warnings} warning{'s' * (warnings != 1)} above.)" if warnings else ""))
    return "\n".join(lines)


def exit_code(report: list[Finding], strict: bool = False) -> int:
    """0 when ready, 1 when a check failed (``strict``: or warned)."""
    return int(any(f.status == FAIL or (strict and f.status == WARN) for f in report))


def main(argv: list[str] | None = None) -> int:
    """``python -m course_lib doctor [--framework tf|torch] [--require-gpu] [--strict]``; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m course_lib doctor", description=DESCRIPTION)
    parser.add_argument("--framework", choices=("both", "tf", "torch"), default="both",
                        help="check only what one framework's notebooks need (default: both)")
    parser.add_argument("--require-gpu", action="store_true", help="fail unless each framework sees a GPU (GPU runners)")
    parser.add_argument("--strict", action="store_true", help="warnings (e.g. versions other than the pins) are problems too")
    parser.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    frameworks = ("tf", "torch") if args.framework == "both" else (args.framework,)
    report = run(frameworks, args.require_gpu, args.strict, args.root)
    print(format_report(report, args.strict), flush=True)
    return exit_code(report, args.strict)
