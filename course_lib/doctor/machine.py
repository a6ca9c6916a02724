"""The doctor's machine checks: free memory, the CPU, the GPU and the device each framework uses.

Frameworks are imported here, lazily and with their C++ log lines silenced; a missing or broken
one is a finding, never a crash.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import shutil
import sys
from pathlib import Path

from course_lib.doctor.findings import FAIL, INFO, OK, STANDS_IN, WARN, Finding, installed, pip_command, read_text

NOTEBOOK_MEMORY_GIB = 1.5  # a notebook's kernel stays under this (the chapters' budget; Binder gives 2 GB)


def memory_gib() -> tuple[float, float] | None:
    """(available, total) memory in GiB, within a container's cgroup limit when there is one."""
    available = total = None
    meminfo = read_text("/proc/meminfo")
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
        limit, usage = read_text(limit_file), read_text(usage_file)
        if limit and limit.isdigit() and usage and usage.isdigit() and int(limit) < (total or 2**62):
            total, available = int(limit), min(available or 2**62, int(limit) - int(usage))
    if available is None or total is None:
        return None
    return available / 2**30, total / 2**30


def check_memory(report: list) -> None:
    """Free memory against what one notebook's kernel needs."""
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
    quota = (read_text("/sys/fs/cgroup/cpu.max") or "").split()
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
        if installed(dist) is None and not any(installed(d) for d in STANDS_IN.get(dist, ())):
            report.append(Finding(INFO, section, f"{module} is not installed: its device check is skipped"))
        else:
            report.append(Finding(FAIL, section, f"{module} is installed but does not import: {type(error).__name__}: "
                                                 f"{str(error).splitlines()[0] if str(error) else ''}", pinned_fix))
        return None


def _picked_device(report: list, section: str, framework: str) -> str:
    """``"course_lib.<framework>.default_device() -> ..."``, or "" (a finding) when it does not import."""
    try:
        utils = importlib.import_module(f"course_lib.{framework}.utils")
        return f"course_lib.{framework}.default_device() -> {utils.default_device()}"
    except Exception as error:
        report.append(Finding(FAIL, section, f"course_lib.{framework} does not import: {type(error).__name__}: {error}",
                              f"{pip_command()} install -e ."))
        return ""


def _torch_device(report: list, section: str, nvidia: bool, pin: str) -> bool:
    """Report what PyTorch and course_lib.torch use; returns whether PyTorch sees a GPU."""
    reinstall = f'{pip_command()} install --force-reinstall "torch=={pin or "<version>"}"'
    torch = _import_framework(report, section, "torch", "torch", reinstall)
    if torch is None:
        return False
    gpu = torch.cuda.is_available()
    picked = _picked_device(report, section, "torch")
    if gpu:
        free, total = torch.cuda.mem_get_info()
        report.append(Finding(OK, section, f"PyTorch {torch.__version__} uses {torch.cuda.get_device_name(0)} "
                                           f"({free / 2**30:.0f} of {total / 2**30:.0f} GiB free); {picked}"))
    elif nvidia:
        report.append(Finding(WARN, section, f"an NVIDIA GPU is present but PyTorch {torch.__version__} cannot use it "
                                             f"(a CPU build, or no driver); {picked}",
                              f"{reinstall}  (PyPI's Linux wheel is the CUDA build)"))
    else:
        report.append(Finding(OK, section, f"PyTorch {torch.__version__} on the CPU; {picked}"))
    return gpu


def _tf_device(report: list, section: str, nvidia: bool, pin: str) -> bool:
    """Report what TensorFlow and course_lib.tf use; returns whether TensorFlow sees a GPU."""
    tf = _import_framework(report, section, "tensorflow", "tensorflow-cpu",
                           f'{pip_command()} install --force-reinstall "tensorflow-cpu=={pin or "<version>"}"')
    if tf is None:
        return False
    gpus = tf.config.list_physical_devices("GPU")
    picked = _picked_device(report, section, "tf")
    if gpus:
        report.append(Finding(OK, section, f"TensorFlow {tf.__version__} places ops on {len(gpus)} GPU(s); {picked}"))
    elif nvidia:
        report.append(Finding(WARN, section, f"an NVIDIA GPU is present but TensorFlow {tf.__version__} does not see it "
                                             f"(tensorflow-cpu is the CPU build); {picked}",
                              f'{pip_command()} uninstall -y tensorflow-cpu && {pip_command()} install '
                              f'"tensorflow[and-cuda]=={pin or "<version>"}"'))
    else:
        report.append(Finding(OK, section, f"TensorFlow {tf.__version__} on the CPU; {picked}"))
    return bool(gpus)


def check_devices(report: list, frameworks: set, require_gpu: bool, pins: dict) -> None:
    """The CPU, whether there is an NVIDIA GPU, and the device each framework and course_lib will use."""
    section, nvidia = "Devices", _nvidia_gpu()
    report.append(Finding(INFO, section, _cpu_line()))
    if not nvidia:
        report.append(Finding(INFO, section, "no NVIDIA GPU found: the notebooks run on the CPU (each is sized for a 2-core CPU)"))
    for framework in sorted(frameworks):
        if framework == "torch":
            gpu = _torch_device(report, section, nvidia, pins.get("torch", ""))
        else:
            gpu = _tf_device(report, section, nvidia, pins.get("tensorflow-cpu", ""))
        if require_gpu and not gpu:
            name = "PyTorch" if framework == "torch" else "TensorFlow"
            report.append(Finding(FAIL, section, f"--require-gpu: {name} sees no GPU",
                                  "check the driver (nvidia-smi) and install the GPU builds (see the warnings above)"))
