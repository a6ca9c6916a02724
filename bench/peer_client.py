"""The bench's side of a peer worker (``bench.peer_worker``): start it, ask, and time through it.

A ``RemoteCandidate`` is a ``Candidate`` whose calls run in the worker: ``run_timed`` asks the
worker to time ``reps`` calls there (with ``time.perf_counter``, as a local candidate is timed),
so the pipe's latency is not in the number, and ``result`` fetches the checked fields of its last
kept output through an ``.npz``. The harness warms up and times remote and local candidates
alike, interleaved in the same passes.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from bench.harness import Candidate

ROOT = Path(__file__).resolve().parents[1]


class PeerError(RuntimeError):
    """A request failed in the worker, or the worker died (the message says which)."""


class PeerProcess:
    """A worker process running ``python -m bench.peer_worker CASES_MODULE`` with ``python``.

    Args:
      python: the peer venv's interpreter.
      cases_module: the module that builds the peer's candidates, importable in that venv.
      extra_path: directories put on the worker's ``PYTHONPATH`` after the repository root.
    """

    def __init__(self, python, cases_module: str, extra_path=()):
        self.scratch = tempfile.TemporaryDirectory(prefix="bench-peer-")
        self.stderr_path = os.path.join(self.scratch.name, "worker-stderr.txt")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *map(str, extra_path)]),
                   TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))
        env.pop("PYTHONHOME", None)
        self._stderr = open(self.stderr_path, "w")  # noqa: SIM115 - open while the worker runs
        self.process = subprocess.Popen([str(python), "-m", "bench.peer_worker", cases_module], cwd=str(ROOT),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                        text=True, env=env)

    def request(self, cmd: str, **args) -> dict:
        """Send one request; return the reply, or raise ``PeerError`` with the worker's one-line error."""
        if self.process.poll() is not None:
            raise PeerError(f"the peer worker has exited ({self.process.returncode}); {self.stderr_tail()}")
        try:
            self.process.stdin.write(json.dumps(dict(args, cmd=cmd)) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except (BrokenPipeError, OSError) as exc:
            raise PeerError(f"the peer worker stopped answering ({exc}); {self.stderr_tail()}") from None
        if not line:
            self.process.wait(timeout=30)
            raise PeerError(f"the peer worker died ({self.process.returncode}); {self.stderr_tail()}")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise PeerError(f"{reply.get('error')} (in the peer worker)")
        return reply

    def stderr_tail(self, lines: int = 3) -> str:
        try:
            text = Path(self.stderr_path).read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no worker stderr"
        return "worker stderr: " + " | ".join(text[-lines:]) if text else "worker stderr empty"

    def build(self, data: dict, shapes: dict, modes, threads=None) -> dict:
        """Pass ``data`` (NumPy arrays) through an ``.npz``; build; ``{"candidates": [...], "env": {...}}``."""
        import numpy as np

        path = os.path.join(self.scratch.name, "data.npz")
        np.savez(path, **data)
        return self.request("build", data=path, shapes=shapes, modes=list(modes), threads=threads)

    def candidates(self, built: dict, optional: bool = True) -> list:
        """``RemoteCandidate``s for the worker's built candidates."""
        return [RemoteCandidate(c["key"], c["label"], fn=None, optional=optional, traced=c["traced"], peer=self)
                for c in built["candidates"]]

    def close(self) -> None:
        """Ask the worker to quit (kill it if it does not), remove the scratch directory."""
        try:
            if self.process.poll() is None:
                try:
                    self.request("quit")
                    self.process.wait(timeout=30)
                except (PeerError, subprocess.TimeoutExpired, OSError, ValueError):
                    self.process.kill()
                    self.process.wait(timeout=30)
        finally:
            self._stderr.close()
            self.scratch.cleanup()


class RemoteCandidate(Candidate):
    """A candidate that runs in a peer worker (``fn`` is unused)."""

    def __init__(self, *args, peer: PeerProcess, **kwargs):
        super().__init__(*args, **kwargs)
        self.peer = peer

    def run_timed(self, reps: int = 1, keep_output: bool = False) -> float:
        return self.peer.request("run", key=self.key, reps=int(reps), keep=bool(keep_output))["seconds"]

    def result(self):
        import numpy as np

        path = os.path.join(self.peer.scratch.name, "output.npz")
        self.peer.request("output", key=self.key, path=path)
        with np.load(path) as arrays:
            return {k: arrays[k] for k in arrays.files}
