"""``python -m course_lib doctor``: is this machine ready for the course?

Checks, in order: Python; the packages that ``requirements.txt`` pins (installed, same
version); whether ipywidgets render in JupyterLab (the ``jupyterlab_widgets`` extension);
free memory; the CPU, the GPU and the device each framework and ``course_lib`` will use;
and, for every chapter notebook that exists, that the modules it imports and the shipped
files it names (under ``figures/`` or ``data/``, or images in its Markdown) are there. A file
that a notebook only uses when the learner has downloaded it carries ``# optional`` on its line.

Prints a line per check (``ok``, ``info``, ``warn``, ``FAIL``) and under each problem the
command that fixes it. Exit code 0 when ready, 1 when a ``FAIL`` was found (``--strict``: or a
``warn``). Frameworks are imported lazily and a missing or broken one is a finding, never a
crash; a PyTorch-only class runs ``python -m course_lib doctor --framework torch``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from course_lib.common import launch

OK, INFO, WARN, FAIL = "ok", "info", "warn", "FAIL"
NOTEBOOK_MEMORY_GIB = 1.5  # a notebook's kernel stays under this (the chapters' budget; Binder gives 2 GB)
MIN_PYTHON, TESTED_PYTHON = (3, 10), (3, 11)
TEST_TOOLS = {"pytest", "nbval", "hypothesis", "playwright"}  # only needed to run the tests
FRAMEWORK_OF = {"tensorflow-cpu": "tf", "tensorflow": "tf", "keras": "tf", "torch": "torch"}
STANDS_IN = {"tensorflow-cpu": ("tensorflow",)}  # the GPU build of TF replaces the CPU build
DIST_OF_MODULE = {"yaml": "PyYAML", "sklearn": "scikit-learn", "PIL": "Pillow", "chatterbot_corpus": "chatterbot-corpus"}
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@dataclass
class Finding:
    """One line of the report; ``fix`` is the command (or action) that solves a problem."""

    status: str
    section: str
    message: str
    fix: str = ""


def _pip() -> str:
    python = "python" if shutil.which("python") and Path(shutil.which("python")).resolve() == Path(sys.executable).resolve() else shlex.quote(sys.executable)
    return f"{python} -m pip"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
    except Exception:  # a broken dist-info
        return None


def _same_version(installed: str, pinned: str) -> bool:
    installed, pinned = installed.split("+")[0], pinned.split("+")[0]  # 2.13.0+cpu is 2.13.0
    try:
        from packaging.version import Version

        return Version(installed) == Version(pinned)
    except Exception:
        return installed == pinned


def _in_colab() -> bool:
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def find_root() -> Path | None:
    """The course checkout: the folder above ``course_lib`` or, failing that, above the cwd."""
    for candidate in [launch.ROOT, *Path.cwd().resolve().parents, Path.cwd().resolve()]:
        if (candidate / "requirements.txt").is_file() and (candidate / "course_lib").is_dir():
            return candidate
    return None


def read_pins(path: Path) -> dict[str, str]:
    """``{distribution name: version}`` for the ``name==version`` lines of a requirements file."""
    pins = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip()
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;]+)", line)
        if match:
            pins[match[1]] = match[2]
    return pins


# -- checks --------------------------------------------------------------------------------


def check_python(report: list) -> None:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        report.append(Finding(FAIL, "Python", f"Python {version} is too old: the course needs 3.10+ (tested on 3.11)",
                              "install Python 3.11, then: python3.11 -m venv .venv && .venv/bin/pip install -r requirements.txt"))
    else:
        tested = "" if sys.version_info[:2] == TESTED_PYTHON else " (the course is tested on 3.11)"
        report.append(Finding(OK, "Python", f"Python {version} at {sys.executable}{tested}"))


def check_course_lib(report: list, root: Path | None) -> None:
    import course_lib

    where = Path(course_lib.__file__).resolve().parent.parent
    report.append(Finding(OK, "Python", f"course_lib {course_lib.__version__} from {where}"))
    if root is not None and where != root:
        report.append(Finding(WARN, "Python", f"course_lib is imported from {where}, not from this checkout {root}",
                              f"{_pip()} install -e {shlex.quote(str(root))}"))


def check_packages(report: list, root: Path | None, frameworks: set, strict: bool) -> None:
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
        framework = FRAMEWORK_OF.get(_norm(name))
        if framework and framework not in frameworks:
            continue
        if _norm(name) == "jupyterlab" and _in_colab():
            continue
        version, shown = _installed(name), name
        for other in STANDS_IN.get(_norm(name), ()):
            if version is None and _installed(other):
                version, shown = _installed(other), f"{other} (stands in for {name})"
        want = f'"{name}=={pinned}"' if pinned else name
        if version is None:
            fix = f"{_pip()} install {want}"
            if _norm(name) == "torch" and pinned:
                fix += f"  (CPU-only machine: add --extra-index-url {TORCH_CPU_INDEX})"
            optional = _norm(name) in TEST_TOOLS
            note = " (only needed to run the tests)" if optional else ""
            if framework:
                other = "torch" if framework == "tf" else "tf"
                note = f" (teaching only the other framework? python -m course_lib doctor --framework {other})"
            report.append(Finding(WARN if optional else FAIL, section, f"{name} is not installed{note}", fix))
        elif pinned and not _same_version(version, pinned):
            report.append(Finding(mismatch, section, f"{shown} {version} is installed; the course is tested with {pinned}",
                                  f"{_pip()} install {want}"))
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
    section, manager = "Widgets", "@jupyter-widgets/jupyterlab-manager"
    if _in_colab():
        report.append(Finding(INFO, section, "Colab renders ipywidgets with its own widget manager"))
        return
    ipywidgets = _installed("ipywidgets")
    wanted = next((r.split(";")[0] for r in (metadata.requires("ipywidgets") or []) if ipywidgets
                   and r.replace("-", "_").startswith("jupyterlab_widgets")), "jupyterlab_widgets") if ipywidgets else "jupyterlab_widgets"
    restart = "; then restart JupyterLab and reload the browser tab"
    version = _installed("jupyterlab_widgets")
    if version is None:
        report.append(Finding(FAIL, section, "the ipywidgets JupyterLab extension (jupyterlab_widgets) is not installed: "
                                             "widgets would show as static pictures", f'{_pip()} install "{wanted}"{restart}'))
        return
    found = next((d / manager for d in _labextension_dirs() if (d / manager / "package.json").is_file()), None)
    if found is None:
        report.append(Finding(FAIL, section, f"jupyterlab_widgets {version} is installed but JupyterLab does not find "
                                             f"its extension {manager}",
                              f'{_pip()} install --force-reinstall --no-deps "jupyterlab_widgets=={version}"{restart}'))
        return
    if manager in _disabled_labextensions():
        report.append(Finding(FAIL, section, f"the widget extension {manager} is disabled in JupyterLab",
                              f"jupyter labextension enable {manager}{restart}"))
        return
    try:
        from packaging.requirements import Requirement

        if ipywidgets and not Requirement(wanted).specifier.contains(version, prereleases=True):
            report.append(Finding(FAIL, section, f"ipywidgets {ipywidgets} needs {wanted}, found {version}",
                                  f'{_pip()} install "{wanted}"{restart}'))
            return
    except Exception:
        pass
    extension = json.loads((found / "package.json").read_text(encoding="utf-8")).get("version", "?")
    report.append(Finding(OK, section, f"widgets render in JupyterLab: jupyterlab_widgets {version} "
                                       f"({manager} {extension}), ipywidgets {ipywidgets}"))


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def memory_gib() -> tuple[float, float] | None:
    """(available, total) memory in GiB, within a container's cgroup limit when there is one."""
    available = total = None
    meminfo = _read("/proc/meminfo")
    if meminfo:
        values = {k: int(v.split()[0]) * 1024 for k, v in (line.split(":", 1) for line in meminfo.splitlines() if ":" in line)}
        available, total = values.get("MemAvailable"), values.get("MemTotal")
    else:
        try:
            import psutil

            vm = psutil.virtual_memory()
            available, total = vm.available, vm.total
        except Exception:
            return None
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit, usage = _read(limit_file), _read(usage_file)
        if limit and limit.isdigit() and usage and usage.isdigit() and int(limit) < (total or 2**62):
            total, available = int(limit), min(available or 2**62, int(limit) - int(usage))
    if available is None or total is None:
        return None
    return available / 2**30, total / 2**30


def check_memory(report: list) -> None:
    section, memory = "Memory", memory_gib()
    if memory is None:
        report.append(Finding(INFO, section, "free memory could not be read on this system"))
        return
    available, total = memory
    text = f"{available:.1f} GiB available of {total:.1f} GiB; a notebook needs up to {NOTEBOOK_MEMORY_GIB} GiB"
    fix = "close other programs and shut down unused kernels (JupyterLab: Kernel > Shut Down All Kernels)"
    if available < NOTEBOOK_MEMORY_GIB:
        report.append(Finding(FAIL, section, text, fix))
    elif available < 2 * NOTEBOOK_MEMORY_GIB:
        report.append(Finding(WARN, section, text + ": run one notebook at a time", fix))
    else:
        report.append(Finding(OK, section, text))


def _nvidia_gpu() -> bool:
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def _cpu_line() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    quota = (_read("/sys/fs/cgroup/cpu.max") or "").split()
    limit = f", limited to {int(quota[0]) / int(quota[1]):.1f} by the container" if len(quota) == 2 and quota[0].isdigit() else ""
    return f"CPU: {cores} cores{limit} ({platform.machine() or 'unknown'}, {platform.system()})"


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the C++ log lines a framework writes to file descriptor 2 (TF's oneDNN notice)."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (some embedded consoles)
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _import_framework(report: list, section: str, module: str, dist: str, pinned_fix: str):
    """The framework module, or None (a finding says why) when it is missing or broken."""
    if module == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with _quiet_stderr():
            imported = importlib.import_module(module)
            if module == "tensorflow":
                imported.config.list_physical_devices("GPU")  # the first call logs too
        return imported
    except Exception as error:  # ImportError, or a broken install raising anything
        if _installed(dist) is None and not any(_installed(d) for d in STANDS_IN.get(dist, ())):
            report.append(Finding(INFO, section, f"{module} is not installed: its device check is skipped"))
        else:
            report.append(Finding(FAIL, section, f"{module} is installed but does not import: {type(error).__name__}: "
                                                 f"{str(error).splitlines()[0] if str(error) else ''}", pinned_fix))
        return None


def check_devices(report: list, frameworks: set, require_gpu: bool, pins: dict) -> None:
    section, nvidia = "Devices", _nvidia_gpu()
    report.append(Finding(INFO, section, _cpu_line()))
    if not nvidia:
        report.append(Finding(INFO, section, "no NVIDIA GPU found: the notebooks run on the CPU (each is sized for a 2-core CPU)"))
    torch_pin, tf_pin = pins.get("torch", ""), pins.get("tensorflow-cpu", "")
    for framework in sorted(frameworks):
        if framework == "torch":
            torch = _import_framework(report, section, "torch", "torch",
                                      f'{_pip()} install --force-reinstall "torch=={torch_pin or "<version>"}"')
            if torch is None:
                gpu = False
            else:
                gpu = torch.cuda.is_available()
                try:
                    from course_lib.torch.utils import default_device

                    picked = f"course_lib.torch.default_device() -> {default_device()}"
                except Exception as error:
                    report.append(Finding(FAIL, section, f"course_lib.torch does not import: {type(error).__name__}: {error}",
                                          f"{_pip()} install -e ."))
                    picked = ""
                if gpu:
                    free, total = torch.cuda.mem_get_info()
                    report.append(Finding(OK, section, f"PyTorch {torch.__version__} uses {torch.cuda.get_device_name(0)} "
                                                       f"({free / 2**30:.0f} of {total / 2**30:.0f} GiB free); {picked}"))
                elif nvidia:
                    report.append(Finding(WARN, section, f"an NVIDIA GPU is present but PyTorch {torch.__version__} cannot use it "
                                                         f"(a CPU build, or no driver); {picked}",
                                          f'{_pip()} install --force-reinstall "torch=={torch_pin or "<version>"}"  '
                                          "(PyPI's Linux wheel is the CUDA build)"))
                else:
                    report.append(Finding(OK, section, f"PyTorch {torch.__version__} on the CPU; {picked}"))
        else:
            tf = _import_framework(report, section, "tensorflow", "tensorflow-cpu",
                                   f'{_pip()} install --force-reinstall "tensorflow-cpu=={tf_pin or "<version>"}"')
            if tf is None:
                gpu = False
            else:
                gpus = tf.config.list_physical_devices("GPU")
                gpu = bool(gpus)
                try:
                    from course_lib.tf.utils import default_device

                    picked = f"course_lib.tf.default_device() -> {default_device()}"
                except Exception as error:
                    report.append(Finding(FAIL, section, f"course_lib.tf does not import: {type(error).__name__}: {error}",
                                          f"{_pip()} install -e ."))
                    picked = ""
                if gpu:
                    report.append(Finding(OK, section, f"TensorFlow {tf.__version__} places ops on {len(gpus)} GPU(s); {picked}"))
                elif nvidia:
                    report.append(Finding(WARN, section, f"an NVIDIA GPU is present but TensorFlow {tf.__version__} does not see it "
                                                         f"(tensorflow-cpu is the CPU build); {picked}",
                                          f'{_pip()} uninstall -y tensorflow-cpu && {_pip()} install '
                                          f'"tensorflow[and-cuda]=={tf_pin or "<version>"}"'))
                else:
                    report.append(Finding(OK, section, f"TensorFlow {tf.__version__} on the CPU; {picked}"))
        if require_gpu and not gpu:
            name = "PyTorch" if framework == "torch" else "TensorFlow"
            report.append(Finding(FAIL, section, f"--require-gpu: {name} sees no GPU",
                                  "check the driver (nvidia-smi) and install the GPU builds (see the warnings above)"))


# -- notebooks -----------------------------------------------------------------------------

_IMPORT = re.compile(r"^\s*(?:import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)|from\s+([\w.]+)\s+import\b)", re.M)
_MD_FILE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)|<img[^>]*\ssrc=[\"']([^\"']+)")
_LITERAL = re.compile(r"[\"']([\w./-]+/[\w.-]+\.\w+)[\"']")


def notebook_needs(path: Path, root: Path) -> tuple[list[str], list[str], list[str]]:
    """(modules it imports, shipped files it names, optional files it names) for one notebook."""
    cells = launch.read_notebook(path)["cells"]
    modules, files, optional = set(), set(), set()
    for cell in cells:
        source = cell["source"]
        if cell["cell_type"] == "markdown":
            for match in _MD_FILE.finditer(source):
                target = (match[1] or match[2]).split("#")[0]
                if target and not re.match(r"^[a-z]+:", target):
                    files.add(target)
            continue
        if cell["cell_type"] != "code":
            continue
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for match in _IMPORT.finditer(code):
            names = [m.split()[0] for m in match[1].split(",")] if match[1] else [match[2]]
            modules |= {n if n.startswith("course_lib") else n.split(".")[0] for n in names if n}
        for line in code.splitlines():
            for literal in _LITERAL.findall(line):
                resolved = (path.parent / literal).resolve()
                if any(resolved.is_relative_to(root / folder) for folder in ("data", "figures")):
                    (optional if re.search(r"#.*\boptional\b", line) else files).add(literal)
    modules.discard("google")  # google.colab, imported only in Colab
    return sorted(modules), sorted(files), sorted(optional)


def _module_missing(module: str) -> str | None:
    try:
        return None if importlib.util.find_spec(module) is not None else "is not installed"
    except Exception as error:
        return f"does not import ({type(error).__name__}: {error})"


def check_notebooks(report: list, root: Path | None, frameworks: set, pins: dict) -> None:
    section = "Notebooks and data"
    if root is None:
        report.append(Finding(INFO, section, "no course checkout found (course_lib installed without the repository): skipped"))
        return
    coming = []
    for chapter in launch.CHAPTERS:
        for framework, _ in launch.FRAMEWORKS:
            rel = launch.notebook_path(chapter.stem, framework)
            path = root / rel
            if not path.is_file():
                coming.append((chapter.stem, framework))
                continue
            if framework not in frameworks:
                continue
            try:
                modules, files, optional = notebook_needs(path, root)
            except (OSError, ValueError, KeyError) as error:
                report.append(Finding(FAIL, section, f"{rel} is not a readable notebook: {error}", f"git checkout -- {rel}"))
                continue
            problems = 0
            for module in modules:
                why = _module_missing(module)
                if why:
                    problems += 1
                    dist = DIST_OF_MODULE.get(module, module.split(".")[0].replace("_", "-"))
                    pinned = next((f'"{n}=={v}"' for n, v in pins.items() if _norm(n) == _norm(dist)), dist)
                    fix = f"{_pip()} install -e ." if module.startswith("course_lib") else f"{_pip()} install {pinned}"
                    report.append(Finding(FAIL, section, f"{rel} imports {module}, which {why}", fix))
            for name in files:
                if not ((path.parent / name).exists() or (root / name).exists()):
                    problems += 1
                    shown = os.path.relpath((path.parent / name).resolve(), root)
                    report.append(Finding(FAIL, section, f"{rel} needs {shown}, which is missing", f"git checkout -- {shown}"))
            for name in optional:
                if not (path.parent / name).exists():
                    report.append(Finding(INFO, section, f"{rel}: optional {name} not present (the notebook says where to get it)"))
            if not problems:
                report.append(Finding(OK, section, f"{rel}: its {len(modules)} imports and {len(files)} files are present"))
    if coming:
        stems = dict.fromkeys(stem for stem, _ in coming)
        both = {stem for stem in stems if sum(s == stem for s, _ in coming) == len(launch.FRAMEWORKS)}
        names = [stem if stem in both else f"{fw}/{stem}" for stem in stems for s, fw in coming
                 if s == stem and (stem not in both or fw == launch.FRAMEWORKS[0][0])]
        report.append(Finding(INFO, section, "not written yet: " + ", ".join(names)))


# -- the report ----------------------------------------------------------------------------


def run(frameworks=("tf", "torch"), require_gpu=False, strict=False, root: Path | None = None) -> list[Finding]:
    """Every check, in order; returns the findings (nothing is printed)."""
    frameworks = set(frameworks)
    root = find_root() if root is None else Path(root)
    report: list[Finding] = []
    pins = read_pins(root / "requirements.txt") if root and (root / "requirements.txt").is_file() else {}
    steps = [
        lambda: check_python(report),
        lambda: check_course_lib(report, root),
        lambda: check_packages(report, root, frameworks, strict),
        lambda: check_widgets(report),
        lambda: check_memory(report),  # before the frameworks take their share
        lambda: check_devices(report, frameworks, require_gpu, pins),
        lambda: check_notebooks(report, root, frameworks, pins),
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
    parser = argparse.ArgumentParser(prog="python -m course_lib doctor", description=__doc__.split("\n\n")[0].strip("`"))
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


if __name__ == "__main__":
    sys.exit(main())
