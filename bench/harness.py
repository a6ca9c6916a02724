"""Framework-free parts of the bench: shapes, candidates, the timing loop and the ratios.

Timing protocol (the same for every candidate):

* warm-up: every candidate is called ``warmup`` times before any timing (the first call of a
  ``tf.function`` traces it; its time is kept as ``first_call_s``); the warm-up also picks
  ``reps``, the number of calls per sample, so that one sample lasts at least ``min_time``;
* a *pass* times every candidate of a backend once, one sample each (``reps`` calls timed
  together with ``time.perf_counter``, divided by ``reps``); the order is rotated by one
  candidate each pass, so no candidate always runs first or right after the same one;
* a candidate's time is the median of its samples over the passes; a ratio ``a / b`` is the
  median over passes of ``a_p / b_p`` (both measured in the same pass, a few seconds apart),
  which cancels most of the slow-downs that other processes cause on a shared machine.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import statistics
import sys
import time
from typing import Callable


@dataclasses.dataclass(frozen=True)
class Shapes:
    """The problem size. The default is the course's reference size."""

    batch: int = 64
    vocab: int = 1000
    embed: int = 64
    units: int = 256
    tgt_len: int = 30  # decoder (target) steps; greedy and beam search decode this many
    src_len: int = 30  # attention memory length
    beam_width: int = 5
    seed: int = 0

    @classmethod
    def tiny(cls) -> "Shapes":
        """The smallest configuration (smoke test)."""
        return cls(batch=3, vocab=11, embed=4, units=8, tgt_len=4, src_len=5, beam_width=2)


@dataclasses.dataclass
class Candidate:
    """One thing to time: ``fn()`` runs the work once and returns only when it is done."""

    key: str  # "<backend>.<mode>.<section>.<name>"
    label: str  # what the table shows
    fn: Callable[[], object]
    reps: int = 1
    first_call_s: float = float("nan")
    optional: bool = False  # a failure skips it (attention, beam search) instead of failing the run
    traced: bool = False  # tf.function / torch.compile: the first call traces, so it gets a second warm-up call
    output: object = None  # what the last warm-up call returned (for the checks)
    samples: list = dataclasses.field(default_factory=list)

    def run_timed(self, reps: int = 1, keep_output: bool = False) -> float:
        """Call ``fn`` ``reps`` times (>= 1); seconds per call. ``keep_output``: keep the last result."""
        fn = self.fn
        t0 = time.perf_counter()
        for _ in range(reps - 1):
            fn()
        out = fn()
        seconds = (time.perf_counter() - t0) / reps
        if keep_output:
            self.output = out
        return seconds

    def result(self):
        """What the last call with ``keep_output`` returned (for the checks)."""
        return self.output

    @property
    def backend(self):
        return self.key.split(".")[0]

    @property
    def mode(self):
        return self.key.split(".")[1]

    @property
    def section(self):
        return self.key.split(".")[2]


@dataclasses.dataclass(frozen=True)
class RatioSpec:
    """``numerator / denominator`` (candidate keys), with an optional target (ratio <= target)."""

    key: str
    label: str
    numerator: str
    denominator: str
    target: float | None = None
    first_call: bool = False  # compare the first calls (trace/compile + run), one sample each


def environment(threads_note: str = "") -> dict:
    """Versions, cores, threads and load: what a reader needs to judge the numbers."""
    env = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "loadavg_start": _loadavg(),
        "env_vars": {k: os.environ[k] for k in (
            "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
            "TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES") if k in os.environ},
    }
    try:
        import numpy
        env["numpy"] = numpy.__version__
    except ImportError:  # pragma: no cover
        pass
    if threads_note:
        env["threads_requested"] = threads_note
    return env


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


#: an untraced candidate whose first call took longer than this gets no further warm-up calls
SLOW_FIRST_CALL_S = 2.0


def warm_up(candidates, warmup: int, min_time: float, log=print) -> dict:
    """Call each candidate ``warmup`` times (>= 1); set ``first_call_s``, ``reps`` and ``output``.

    To keep the run short, an eager candidate whose first call took over ``SLOW_FIRST_CALL_S``
    (beam search) is warm after that one call; a traced one (``tf.function``) always gets two.

    An optional candidate that raises is dropped from ``candidates`` (in place); returns
    ``{key: one-line error}`` for those. A required one that raises propagates the error.
    """
    failed = {}
    for c in list(candidates):
        try:
            c.first_call_s = last = c.run_timed(1, keep_output=True)
            extra = max(warmup, 1) - 1
            if not c.traced and c.first_call_s > SLOW_FIRST_CALL_S:
                extra = 0
            elif c.traced:
                extra = max(extra, 1)
            for _ in range(extra):
                last = c.run_timed(1, keep_output=True)
        except Exception as exc:  # noqa: BLE001
            if not c.optional:
                raise
            failed[c.key] = describe_error(exc)
            candidates.remove(c)
            log(f"  warm-up {c.key:<36s} FAILED, skipped: {failed[c.key]}")
            continue
        c.reps = max(1, math.ceil(min_time / last)) if min_time > 0 and last > 0 else 1
        log(f"  warm-up {c.key:<36s} 1st call {c.first_call_s * 1e3:8.1f} ms, "
            f"then {last * 1e3:8.1f} ms; {c.reps} call(s) per sample")
    return failed


def time_passes(candidates, passes: int, log=print) -> None:
    """``passes`` interleaved passes; appends one per-call time (s) per pass to each candidate."""
    n = len(candidates)
    for p in range(passes):
        t_pass = time.perf_counter()
        order = candidates[p % n:] + candidates[:p % n] if n else []
        for c in order:
            c.samples.append(c.run_timed(c.reps))
        log(f"  pass {p + 1}/{passes}: {time.perf_counter() - t_pass:5.1f} s")


def timing_record(c: Candidate) -> dict:
    s = c.samples
    return {
        "label": c.label, "backend": c.backend, "mode": c.mode, "section": c.section,
        "median_s": statistics.median(s), "min_s": min(s), "max_s": max(s),
        "samples_s": list(s), "reps": c.reps, "first_call_s": c.first_call_s,
    }


def ratio_record(spec: RatioSpec, by_key: dict) -> dict | None:
    """Paired median ratio (see the module docstring), or with ``spec.first_call`` the ratio of
    the two first calls; None when a side was not timed."""
    a, b = by_key.get(spec.numerator), by_key.get(spec.denominator)
    if spec.first_call:
        if a is None or b is None or not (a.first_call_s > 0 and b.first_call_s > 0):
            return None
        value = a.first_call_s / b.first_call_s
        per_pass, of_medians, of_mins = [value], value, value
    else:
        if a is None or b is None or not a.samples or len(a.samples) != len(b.samples):
            return None
        per_pass = [x / y for x, y in zip(a.samples, b.samples)]
        value = statistics.median(per_pass)
        of_medians = statistics.median(a.samples) / statistics.median(b.samples)
        of_mins = min(a.samples) / min(b.samples)
    status = None
    if spec.target is not None:
        status = "PASS" if value <= spec.target else "MISS"
    return {
        "label": spec.label, "numerator": spec.numerator, "denominator": spec.denominator,
        "value": value, "per_pass": per_pass, "ratio_of_medians": of_medians, "ratio_of_mins": of_mins,
        "target": spec.target, "status": status, "first_call": spec.first_call,
    }


def describe_error(exc: BaseException) -> str:
    """One line: the exception type, its message's first line and where it was raised."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    for fr in reversed(frames):
        if "course_lib" in fr.filename:
            rel = fr.filename.replace("\\", "/").rsplit("/course_lib/", 1)[-1]
            where = f" (at course_lib/{rel}:{fr.lineno})"
            break
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    msg = lines[0] if lines else ""
    if msg.startswith("in user code") and len(lines) > 1:  # a tf.function trace error: the cause is last
        msg = lines[-1]
    import re

    if not re.match(r"^[A-Za-z_.]*(Error|Exception)\b", msg):
        msg = f"{type(exc).__name__}: {msg}"
    return f"{msg[:300]}{where}"
