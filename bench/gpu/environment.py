"""``python -m bench.gpu.environment DEVICE``: the GPU run's machine and versions, as JSON on stdout."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from importlib import metadata

#: the distributions whose versions the report gives
PACKAGES = ("torch", "numpy", "pytest", "nbval", "ipykernel", "jupyter_client", "ipywidgets", "matplotlib",
            "sentencepiece", "chatterbot-corpus", "PyYAML", "tqdm", "hypothesis")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def _nvidia_smi() -> str:
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(nvidia-smi: {exc})"
    return done.stdout.strip() or done.stderr.strip()


def collect(device: str) -> dict:
    """The date, the machine, the device PyTorch sees and the packages' versions."""
    import torch

    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(), "executable": sys.executable,
        "platform": platform.platform(), "cpus": os.cpu_count(),
        "device": device, "cuda_available": torch.cuda.is_available(),
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.cuda.is_available() else None,
        "versions": {name: _version(name) for name in PACKAGES},
        "tensorflow_importable": _importable("tensorflow"),
    }
    if torch.device(device).type == "cuda" and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(torch.device(device))
        env.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                   gpu_capability=f"{props.major}.{props.minor}", nvidia_smi=_nvidia_smi())
    return env


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


if __name__ == "__main__":
    print(json.dumps(collect(sys.argv[1] if len(sys.argv) > 1 else "cuda"), indent=1))
