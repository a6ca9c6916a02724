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


#: id fed as the first decoder input
START = 0
#: the end token; the output layer's bias for it is -1e4 in every model, so greedy and beam
#: search never emit it and every decode runs exactly ``tgt_len`` steps
END = 1


@dataclasses.dataclass
class Candidate:
    """One thing to time: ``fn()`` runs the work once and returns only when it is done."""

    key: str  # "<backend>.<mode>.<section>.<name>"
    label: str  # what the table shows
    fn: Callable[[], object]
    reps: int = 1
    first_call_s: float = float("nan")
    optional: bool = False  # a failure skips it (attention, beam search) instead of failing the run
    traced: bool = False  # a tf.function: its first call traces, so it always gets a second warm-up call
    output: object = None  # what the last warm-up call returned (for the checks)
    samples: list = dataclasses.field(default_factory=list)

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
            t0 = time.perf_counter()
            c.output = c.fn()
            c.first_call_s = last = time.perf_counter() - t0
            extra = max(warmup, 1) - 1
            if not c.traced and c.first_call_s > SLOW_FIRST_CALL_S:
                extra = 0
            elif c.traced:
                extra = max(extra, 1)
            for _ in range(extra):
                t0 = time.perf_counter()
                c.output = c.fn()
                last = time.perf_counter() - t0
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
            fn, reps = c.fn, c.reps
            t0 = time.perf_counter()
            for _ in range(reps):
                fn()
            c.samples.append((time.perf_counter() - t0) / reps)
        log(f"  pass {p + 1}/{passes}: {time.perf_counter() - t_pass:5.1f} s")


def timing_record(c: Candidate) -> dict:
    s = c.samples
    return {
        "label": c.label, "backend": c.backend, "mode": c.mode, "section": c.section,
        "median_s": statistics.median(s), "min_s": min(s), "max_s": max(s),
        "samples_s": list(s), "reps": c.reps, "first_call_s": c.first_call_s,
    }


def ratio_record(spec: RatioSpec, by_key: dict) -> dict | None:
    """Paired median ratio (see the module docstring); None when a side was not timed."""
    a, b = by_key.get(spec.numerator), by_key.get(spec.denominator)
    if a is None or b is None or not a.samples or len(a.samples) != len(b.samples):
        return None
    per_pass = [x / y for x, y in zip(a.samples, b.samples)]
    value = statistics.median(per_pass)
    status = None
    if spec.target is not None:
        status = "PASS" if value <= spec.target else "MISS"
    return {
        "label": spec.label, "numerator": spec.numerator, "denominator": spec.denominator,
        "value": value, "per_pass": per_pass,
        "ratio_of_medians": statistics.median(a.samples) / statistics.median(b.samples),
        "ratio_of_mins": min(a.samples) / min(b.samples),
        "target": spec.target, "status": status,
    }


def make_data(shapes: Shapes) -> dict:
    """Seeded NumPy weights and inputs, the same for every candidate and both backends.

    Weights in Keras layout (gates i, f, c, o): ``emb [V, E]``, ``kernel [E, 4H]``,
    ``recurrent_kernel [H, 4H]``, ``bias [4H]`` (forget gate 1), ``out_kernel [H, V]``,
    ``out_bias [V]`` (``END``: -1e4). Inputs: ``targets [B, T]`` in ``[2, V)``, ``dec_in``
    (``START`` then the targets shifted right), ``h0``/``c0 [B, H]`` (an "encoder" state),
    ``lengths_ragged [B]`` in ``[T//2, T]`` (row 0 full), ``memory [B, S, H]``.
    """
    import numpy as np

    s = shapes
    rng = np.random.default_rng(s.seed)
    f32 = np.float32

    def uniform(shape, fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape).astype(f32)

    H, E, V, B, T, S = s.units, s.embed, s.vocab, s.batch, s.tgt_len, s.src_len
    bias = np.zeros(4 * H, f32)
    bias[H:2 * H] = 1.0
    out_bias = np.zeros(V, f32)
    out_bias[END] = -1e4
    targets = rng.integers(2, V, size=(B, T)).astype(np.int64)
    dec_in = np.concatenate([np.full((B, 1), START, np.int64), targets[:, :-1]], axis=1)
    lengths = rng.integers(max(T // 2, 1), T + 1, size=B).astype(np.int64)
    lengths[0] = T
    return {
        "emb": (rng.standard_normal((V, E)) * 0.1).astype(f32),
        "kernel": uniform((E, 4 * H), E, 4 * H),
        "recurrent_kernel": uniform((H, 4 * H), H, 4 * H),
        "bias": bias,
        "out_kernel": uniform((H, V), H, V),
        "out_bias": out_bias,
        "targets": targets,
        "dec_in": dec_in,
        "h0": (rng.standard_normal((B, H)) * 0.5).astype(f32),
        "c0": (rng.standard_normal((B, H)) * 0.5).astype(f32),
        "lengths_ragged": lengths,
        "memory": rng.standard_normal((B, S, H)).astype(f32),
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


def check_outputs(outputs: dict, prefix: str, T: int) -> dict:
    """Same work, same numbers, for one backend and mode (``prefix`` = ``"<backend>.<mode>"``).

    ``outputs``: candidate key -> the dict its last warm-up call returned (NumPy-convertible
    values). Checks: the train candidates' losses agree; cl and the hand loop pick the same
    greedy ids; every decode ran ``T`` steps.
    """
    import numpy as np

    results = {}
    losses = {k: float(np.asarray(outputs[f"{prefix}.train.{k}"]["loss"]))
              for k in ("cl", "fused_layer", "hand_loop", "cl_step_loop") if f"{prefix}.train.{k}" in outputs}
    if losses:
        ref = losses.get("cl", next(iter(losses.values())))
        ok = all(abs(v - ref) <= 1e-4 * max(1.0, abs(ref)) for v in losses.values())
        results[f"{prefix}.train.losses_agree"] = {
            "ok": ok, "detail": ", ".join(f"{k} {v:.6f}" for k, v in losses.items())}
    a, b = outputs.get(f"{prefix}.greedy.cl"), outputs.get(f"{prefix}.greedy.hand_loop")
    if a is not None and b is not None:
        same = float(np.mean(np.asarray(a["ids"]) == np.asarray(b["ids"])))
        results[f"{prefix}.greedy.ids_agree"] = {"ok": same >= 0.99, "detail": f"{same:.1%} of greedy ids equal"}
    for key in (f"{prefix}.greedy.cl", f"{prefix}.attention.greedy", f"{prefix}.attention.beam"):
        if key in outputs:
            lengths = np.asarray(outputs[key]["lengths"])
            results[f"{key}.full_length"] = {
                "ok": bool((lengths == T).all()),
                "detail": f"lengths {lengths.min()}..{lengths.max()} (want {T}: the end token is never emitted)"}
    return results
