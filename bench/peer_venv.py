"""The tfa peer's virtual environment: where it lives, whether it works, and making it once.

tfa 0.23 runs only on TensorFlow <= 2.15 with Keras 2, which cannot share a process (or a venv)
with the course's TF 2.21 / Keras 3, so the peer runs in its own venv, cached outside the
repository. It is made only where nothing exists yet at its path: a directory that is there
but does not import ``tensorflow_addons`` (another run still installing it, a broken install,
a path chosen by hand) is left alone, and the bench says how to make or fix it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

#: the pins: tfa's last release, the last TF it supports (the full wheel: tfa's custom ops,
#: gather_tree among them, need symbols that ``tensorflow-cpu`` lacks), and tfa's typeguard
PACKAGES = ("tensorflow==2.15.1", "tensorflow-addons==0.23.0", "typeguard>=2.7,<3")
#: overrides the venv's path (the tests point it at an empty directory)
ENV_VAR = "SEQ2SEQ_TFA_VENV"
DEFAULT_PATH = Path("~/.cache/seq2seq-course/tfa-0.23-venv")
#: what ``import`` must succeed for the venv to count as ready
PROBE = "import tensorflow, tensorflow_addons"


def venv_path() -> Path:
    """The tfa venv's directory: ``$SEQ2SEQ_TFA_VENV`` or ``~/.cache/seq2seq-course/tfa-0.23-venv``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH).expanduser()


def venv_python(path: Path) -> Path:
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def how_to_make(path: Path) -> str:
    """The commands that make the venv by hand (what the skip message prints)."""
    pins = " ".join(f'"{p}"' if "<" in p or ">" in p else p for p in PACKAGES)
    return (f"make it with: python3.11 -m venv {path} && {venv_python(path)} -m pip install {pins} "
            f"(Python 3.9-3.11; about 600 MB), or remove {path} and run `python -m bench --peer tfa` "
            f"again (it makes the venv when nothing is at that path; ${ENV_VAR} moves it)")


def probe(python: Path, timeout: float = 120.0) -> str | None:
    """None when ``python`` imports TensorFlow and tfa; otherwise why not (one line)."""
    if not python.exists():
        return f"no interpreter at {python}"
    try:
        done = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, timeout=timeout, check=False,
                              env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python} did not run: {exc}"
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        return f"`{PROBE}` failed in {python}: {lines[-1] if lines else 'exit ' + str(done.returncode)}"
    return None


@contextlib.contextmanager
def _lock(path: Path):
    """An exclusive lock beside ``path`` (two bench runs never make the venv at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _create(path: Path, log) -> str | None:
    """Make the venv in a scratch directory, check it, move it to ``path``; None or why it failed."""
    scratch = path.with_name(f"{path.name}.partial-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    steps = [[sys.executable, "-m", "venv", str(scratch)],
             [str(venv_python(scratch)), "-m", "pip", "install", "--quiet", *PACKAGES]]
    for cmd in steps:
        log(f"[tfa] $ {' '.join(cmd)}")
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            return f"`{' '.join(cmd[:4])} ...` did not finish: {exc}"
        if done.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            lines = [ln for ln in (done.stderr or done.stdout).strip().splitlines() if ln.strip()]
            return f"`{' '.join(cmd[:4])} ...` failed (offline?): {lines[-1] if lines else done.returncode}"
    why = probe(venv_python(scratch))
    if why is not None:
        shutil.rmtree(scratch, ignore_errors=True)
        return why
    os.replace(scratch, path)  # bin/python is a link to the base interpreter: it works moved
    return None


def ensure_venv(create: bool = True, log=print) -> tuple[Path | None, str]:
    """``(python, note)``: the tfa venv's interpreter when it works, else ``(None, why + how to make it)``.

    Makes the venv first when nothing is at its path and ``create`` is true (minutes: it
    downloads TensorFlow 2.15).
    """
    path = venv_path()
    if not path.exists() and create:
        with _lock(path):
            if not path.exists():
                log(f"[tfa] making the tfa venv at {path} (once; {', '.join(PACKAGES)})")
                why = _create(path, log)
                if why is not None:
                    return None, f"could not make the tfa venv at {path}: {why}; {how_to_make(path)}"
    if not path.exists():
        return None, f"no tfa venv at {path}; {how_to_make(path)}"
    why = probe(venv_python(path))
    if why is not None:
        return None, f"the tfa venv at {path} is not usable ({why}); {how_to_make(path)}"
    return venv_python(path), f"tfa venv {path}"


if __name__ == "__main__":  # `python -m bench.peer_venv`: make (or check) the venv, print where it is
    python, note = ensure_venv(log=lambda msg: print(msg, flush=True))
    print(note if python else f"FAILED: {note}")
    sys.exit(0 if python else 1)
