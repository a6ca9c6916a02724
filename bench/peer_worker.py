"""A peer's worker process: builds a peer's candidates in its own venv and times them on request.

Run by ``bench.peer_client`` as ``<venv python> -m bench.peer_worker CASES_MODULE`` from the
repository root. Standard library and NumPy only (the peer's venv has its own NumPy and no
course_lib). ``CASES_MODULE`` (``bench.tfa_cases``) defines ``build(shapes, data, modes) ->
[(key, label, fn, traced)]`` and may define ``environment() -> dict`` and ``set_threads(n)``.

Protocol: one JSON object per line; requests on stdin, one reply per request on the original
stdout (everything the frameworks print goes to stderr). Every reply has ``"ok"``; a failed
request replies ``{"ok": false, "error": one line, "traceback": ...}`` and the worker goes on.

* ``{"cmd": "build", "data": NPZ, "shapes": {...}, "modes": [...], "threads": N or null}``
  -> ``{"candidates": [{"key", "label", "traced"}], "env": {...}}``
* ``{"cmd": "run", "key": K, "reps": N, "keep": bool}`` -> ``{"seconds": per call}``, timed here
  with ``time.perf_counter`` exactly as ``Candidate.run_timed`` times a local candidate
* ``{"cmd": "output", "key": K, "path": NPZ}``: writes the single-array fields of K's last kept
  result (ids, loss, lengths, alignments; not lists such as gradients) to NPZ -> ``{"fields": [...]}``
* ``{"cmd": "quit"}`` -> ``{}``, then the worker exits
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}"[:300]


def _as_array(value):
    """A NumPy array for a tensor or array (``None`` for lists, tuples and other structures)."""
    import numpy as np

    if isinstance(value, (list, tuple, dict)):
        return None
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value) if isinstance(value, (np.ndarray, np.generic, float, int)) else None


class Worker:
    """The worker's state: its cases module, its built candidates and their last kept results."""

    def __init__(self, cases_module: str):
        self.cases = importlib.import_module(cases_module)
        self.fns, self.kept = {}, {}

    def build(self, data, shapes, modes, threads=None):
        import numpy as np

        if threads and hasattr(self.cases, "set_threads"):
            self.cases.set_threads(threads)
        with np.load(data) as arrays:
            arrays = {k: arrays[k] for k in arrays.files}
        built = self.cases.build(shapes, arrays, tuple(modes))
        self.fns = {key: fn for key, _, fn, _ in built}
        env = self.cases.environment() if hasattr(self.cases, "environment") else {}
        return {"candidates": [{"key": k, "label": label, "traced": bool(traced)} for k, label, _, traced in built],
                "env": env}

    def run(self, key, reps=1, keep=False):
        fn = self.fns[key]
        t0 = time.perf_counter()
        for _ in range(int(reps) - 1):
            fn()
        out = fn()
        seconds = (time.perf_counter() - t0) / int(reps)
        if keep:
            self.kept[key] = out
        return {"seconds": seconds}

    def output(self, key, path):
        import numpy as np

        out = self.kept[key]
        fields = {name: arr for name, arr in ((k, _as_array(v)) for k, v in out.items()) if arr is not None}
        np.savez(path, **fields)
        return {"fields": sorted(fields)}


def serve(cases_module: str, requests, replies) -> None:
    """Answer ``requests`` (lines) on ``replies`` (a text stream) until ``quit`` or end of input."""
    worker = None
    for line in requests:
        if not line.strip():
            continue
        reply = {"ok": True}
        try:
            request = json.loads(line)
            cmd = request.pop("cmd")
            if cmd == "quit":
                replies.write(json.dumps(reply) + "\n")
                replies.flush()
                return
            if worker is None:
                worker = Worker(cases_module)
            if cmd not in ("build", "run", "output"):
                raise ValueError(f"unknown command {cmd!r}")
            reply.update(getattr(worker, cmd)(**request))
        except Exception as exc:  # noqa: BLE001 - report it to the bench, keep serving
            reply = {"ok": False, "error": _one_line(exc), "traceback": traceback.format_exc()}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m bench.peer_worker CASES_MODULE", file=sys.stderr)
        return 2
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")  # the protocol keeps the real stdout ...
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # ... and whatever else prints goes to stderr
    serve(argv[0], sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
