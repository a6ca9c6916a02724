"""``python -m bench.gpu.bench_device --device cuda [bench options]``: the PyTorch bench on a device.

``python -m bench`` builds its PyTorch candidates on the CPU. This runs the same command with the
candidates built on ``--device`` and timed there:

* the build runs with ``--device`` as PyTorch's default device, so every module and input it
  makes lands there (``torch.from_numpy``, which always gives a CPU tensor, is ``torch.as_tensor``
  meanwhile, which follows the default device);
* the calls run without a default device (it costs a little on every PyTorch call), so whatever a
  candidate makes while it runs must follow its inputs, as course_lib's code does;
* on CUDA every call ends with ``torch.cuda.synchronize()``: a time is the work's, not its launch.

Only ``--backend torch`` (the default here); every other option is the bench's (bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys

from bench import run as bench_run  # first: it sets OMP_WAIT_POLICY before torch is imported


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.gpu.bench_device", description=__doc__.split("\n\n")[0],
                                     epilog="Any other option goes to python -m bench.")
    parser.add_argument("--device", required=True, help="a PyTorch device: cuda, cuda:0, cpu")
    parser.add_argument("--backend", default="torch", help="torch (the device is PyTorch's)")
    args, rest = parser.parse_known_args(argv)
    if args.backend != "torch":
        parser.error(f"--backend must be torch (a device is PyTorch's), got {args.backend!r}")
    return args.device, rest


def _device(name: str):
    import torch

    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise SystemExit(f"--device must name a PyTorch device (cuda, cuda:0, cpu), got {name!r}: {exc}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: PyTorch sees no CUDA device here (torch.cuda.is_available() is False)")
    torch.empty(1, device=device)  # fails here, clearly, for a device that is not there
    return device


@contextlib.contextmanager
def _built_on(device):
    """PyTorch's default device is ``device`` in the block, ``torch.from_numpy`` follows it."""
    import torch

    from_numpy = torch.from_numpy
    torch.from_numpy = torch.as_tensor
    try:
        with torch.device(device):
            yield
    finally:
        torch.from_numpy = from_numpy


def _synchronized(fn, device):
    import torch

    @functools.wraps(fn)
    def call():
        out = fn()
        torch.cuda.synchronize(device)
        return out
    return call


def on_device(cases, device):
    """Patch the bench's torch ``cases`` module so that ``build`` and ``environment`` use ``device``."""
    import torch

    build, environment = cases.build, cases.environment

    @functools.wraps(build)
    def build_on_device(*args, **kwargs):
        with _built_on(device):
            candidates, specs, skipped, check = build(*args, **kwargs)
        if device.type == "cuda":
            for c in candidates:
                c.fn = _synchronized(c.fn, device)
        return candidates, specs, skipped, check

    def environment_on_device():
        env = dict(environment(), torch_device=str(device))
        if device.type == "cuda":
            env["gpu"] = torch.cuda.get_device_name(device)
        return env

    cases.build, cases.environment = build_on_device, environment_on_device


def main(argv=None) -> int:
    name, rest = _parse(sys.argv[1:] if argv is None else argv)
    device = _device(name)
    from bench import torch_cases

    on_device(torch_cases, device)
    print(f"PyTorch candidates built and timed on {device}"
          + (f" ({torch_cases.environment()['gpu']})" if device.type == "cuda" else ""), flush=True)
    return bench_run.main(["--backend", "torch", *rest])


if __name__ == "__main__":
    sys.exit(main())
