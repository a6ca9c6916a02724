"""The doctor's first checks: Python, the pinned packages, and the JupyterLab widget extension.

Versions are compared with the ``name==version`` pins of the checkout's ``requirements.txt``;
without a checkout (course_lib installed from GitHub, as in Colab) they are shown only.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from importlib import metadata
from pathlib import Path

from course_lib.doctor.findings import FAIL, INFO, OK, STANDS_IN, WARN, Finding, in_colab, installed, norm, pip_command

MIN_PYTHON, TESTED_PYTHON = (3, 10), (3, 11)
TEST_TOOLS = {"pytest", "nbval", "hypothesis", "playwright"}  # only needed to run the tests
FRAMEWORK_OF = {"tensorflow-cpu": "tf", "tensorflow": "tf", "keras": "tf", "torch": "torch"}
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: the checkout this course_lib is part of, when it is one (course_lib/doctor/packages.py -> root)
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def find_root() -> Path | None:
    """The course checkout: the folder above ``course_lib`` or, failing that, above the cwd."""
    for candidate in [PACKAGE_ROOT, *Path.cwd().resolve().parents, Path.cwd().resolve()]:
        if (candidate / "requirements.txt").is_file() and (candidate / "course_lib").is_dir():
            return candidate
    return None


def _same_version(have: str, pinned: str) -> bool:
    have, pinned = have.split("+")[0], pinned.split("+")[0]  # 2.13.0+cpu is 2.13.0
    try:
        from packaging.version import Version

        return Version(have) == Version(pinned)
    except Exception:
        return have == pinned


def read_pins(path: Path) -> dict[str, str]:
    """``{distribution name: version}`` for the ``name==version`` lines of a requirements file."""
    pins = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip()
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;]+)", line)
        if match:
            pins[match[1]] = match[2]
    return pins


def check_python(report: list) -> None:
    """Python 3.10+ (the course is tested on 3.11)."""
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        report.append(Finding(FAIL, "Python", f"Python {version} is too old: the course needs 3.10+ (tested on 3.11)",
                              "install Python 3.11, then: python3.11 -m venv .venv && .venv/bin/pip install -r requirements.txt"))
    else:
        tested = "" if sys.version_info[:2] == TESTED_PYTHON else " (the course is tested on 3.11)"
        report.append(Finding(OK, "Python", f"Python {version} at {sys.executable}{tested}"))


def check_course_lib(report: list, root: Path | None) -> None:
    """Which course_lib is imported, and whether it is this checkout's."""
    import course_lib

    where = Path(course_lib.__file__).resolve().parent.parent
    report.append(Finding(OK, "Python", f"course_lib {course_lib.__version__} from {where}"))
    if root is not None and where != root:
        report.append(Finding(WARN, "Python", f"course_lib is imported from {where}, not from this checkout {root}",
                              f"{pip_command()} install -e {shlex.quote(str(root))}"))


def check_packages(report: list, root: Path | None, frameworks: set, strict: bool) -> None:
    """Every pinned package (those of ``frameworks`` only): installed, and at its pinned version."""
    section = "Packages"
    requirements = root / "requirements.txt" if root else None
    if requirements is None or not requirements.is_file():
        report.append(Finding(INFO, section, "requirements.txt not found (course_lib installed without the repository, "
                                             "e.g. in Colab): versions are shown, not compared with the pins"))
        pins = {"numpy": "", "ipywidgets": "", "matplotlib": "", "tensorflow": "", "keras": "", "torch": ""}
    else:
        pins = read_pins(requirements)
    mismatch = FAIL if strict else WARN
    for name, pinned in pins.items():
        framework = FRAMEWORK_OF.get(norm(name))
        if framework and framework not in frameworks:
            continue
        if norm(name) == "jupyterlab" and in_colab():
            continue
        version, shown = installed(name), name
        for other in STANDS_IN.get(norm(name), ()):
            if version is None and installed(other):
                version, shown = installed(other), f"{other} (stands in for {name})"
        want = f'"{name}=={pinned}"' if pinned else name
        if version is None:
            fix = f"{pip_command()} install {want}"
            if norm(name) == "torch" and pinned:
                fix += f"  (CPU-only machine: add --extra-index-url {TORCH_CPU_INDEX})"
            optional = norm(name) in TEST_TOOLS
            note = " (only needed to run the tests)" if optional else ""
            if framework:
                other = "torch" if framework == "tf" else "tf"
                note = f" (teaching only the other framework? python -m course_lib doctor --framework {other})"
            report.append(Finding(WARN if optional else FAIL, section, f"{name} is not installed{note}", fix))
        elif pinned and not _same_version(version, pinned):
            report.append(Finding(mismatch, section, f"{shown} {version} is installed; the course is tested with {pinned}",
                                  f"{pip_command()} install {want}"))
        else:
            report.append(Finding(OK, section, f"{shown} {version}"))


def _labextension_dirs() -> list[Path]:
    try:
        from jupyter_core.paths import jupyter_path

        return [Path(p) for p in jupyter_path("labextensions")]
    except Exception:
        return [Path(sys.prefix) / "share" / "jupyter" / "labextensions"]


def _disabled_labextensions() -> set[str]:
    disabled: set[str] = set()
    try:
        from jupyter_core.paths import jupyter_config_path

        for folder in jupyter_config_path():
            page_config = Path(folder) / "labconfig" / "page_config.json"
            if page_config.is_file():
                entries = json.loads(page_config.read_text(encoding="utf-8")).get("disabledExtensions", {})
                disabled |= {k for k, v in entries.items() if v} if isinstance(entries, dict) else set(entries)
    except Exception:
        pass
    return disabled


def check_widgets(report: list) -> None:
    """Whether ipywidgets render in JupyterLab: jupyterlab_widgets, its extension, enabled, compatible."""
    section, manager = "Widgets", "@jupyter-widgets/jupyterlab-manager"
    if in_colab():
        report.append(Finding(INFO, section, "Colab renders ipywidgets with its own widget manager"))
        return
    ipywidgets = installed("ipywidgets")
    wanted = next((r.split(";")[0] for r in (metadata.requires("ipywidgets") or []) if ipywidgets
                   and r.replace("-", "_").startswith("jupyterlab_widgets")), "jupyterlab_widgets") if ipywidgets else "jupyterlab_widgets"
    restart = "; then restart JupyterLab and reload the browser tab"
    version = installed("jupyterlab_widgets")
    if version is None:
        report.append(Finding(FAIL, section, "the ipywidgets JupyterLab extension (jupyterlab_widgets) is not installed: "
                                             "widgets would show as static pictures", f'{pip_command()} install "{wanted}"{restart}'))
        return
    found = next((d / manager for d in _labextension_dirs() if (d / manager / "package.json").is_file()), None)
    if found is None:
        report.append(Finding(FAIL, section, f"jupyterlab_widgets {version} is installed but JupyterLab does not find "
                                             f"its extension {manager}",
                              f'{pip_command()} install --force-reinstall --no-deps "jupyterlab_widgets=={version}"{restart}'))
        return
    if manager in _disabled_labextensions():
        report.append(Finding(FAIL, section, f"the widget extension {manager} is disabled in JupyterLab",
                              f"jupyter labextension enable {manager}{restart}"))
        return
    try:
        from packaging.requirements import Requirement

        if ipywidgets and not Requirement(wanted).specifier.contains(version, prereleases=True):
            report.append(Finding(FAIL, section, f"ipywidgets {ipywidgets} needs {wanted}, found {version}",
                                  f'{pip_command()} install "{wanted}"{restart}'))
            return
    except Exception:
        pass
    extension = json.loads((found / "package.json").read_text(encoding="utf-8")).get("version", "?")
    report.append(Finding(OK, section, f"widgets render in JupyterLab: jupyterlab_widgets {version} "
                                       f"({manager} {extension}), ipywidgets {ipywidgets}"))
