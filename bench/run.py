"""The bench command: ``python -m bench [--quick] [--backend tf|torch|all] [--passes N] [--peer tfa]``.

Prints the environment, then a table of timings and a table of ratios (each with its target
and PASS/MISS when it has one), and writes everything to ``bench/results/latest.json``.
PASS/MISS is informational: the command exits 0 unless a benchmark crashes. See
bench/README.md for what each line means.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
import traceback

if __package__ in (None, ""):  # `python bench/run.py`: make `bench` and `course_lib` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

# PyTorch's OpenMP threads spin while they wait (GNU OpenMP's default). On a 2-core machine
# that other processes keep busy, a spinning thread takes the core its partner needs, and a
# torch step gets 3-30x slower at random. PASSIVE lets waiting threads sleep: on the shared
# machine it turned a 93 s torch run into 14 s with 10x narrower min..max. It only applies
# if set before torch is first imported; the environment line says what was in effect.
_OMP_NOTE = "from the environment" if "OMP_WAIT_POLICY" in os.environ else ""
if not _OMP_NOTE and "torch" not in sys.modules:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    _OMP_NOTE = "set by the bench (override: OMP_WAIT_POLICY=ACTIVE python -m bench)"
elif not _OMP_NOTE:
    _OMP_NOTE = "not set (torch was imported before the bench)"

from bench import harness  # noqa: E402
from bench.harness import Shapes  # noqa: E402

BACKENDS = ("tf", "torch")
#: peers outside this process: ``tfa`` (tfa 0.23 on TF 2.15, in its own venv) joins the TF cases
PEERS = ("tfa",)
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "latest.json")

#: the default run and the quick one
DEFAULT = {"passes": 5, "warmup": 2, "min_time": 0.3}
QUICK = {"passes": 2, "warmup": 1, "min_time": 0.0}


def _cases(backend):
    if backend == "tf":
        from bench import tf_cases as cases
    elif backend == "torch":
        from bench import torch_cases as cases
    else:
        raise ValueError(f"`backend` must be one of {BACKENDS}, got {backend!r}")
    return cases


def run_bench(shapes: Shapes | None = None, backends=BACKENDS, passes: int = 5, warmup: int = 2,
              min_time: float = 0.3, threads: int | None = None, log=None, peers=(),
              torch_compile: str | None = "inductor") -> dict:
    """Run the bench in this process and return the results (what ``latest.json`` holds).

    Args:
      shapes: the problem size (default ``Shapes()``: B=64, V=1000, E=64, H=256, T=S=30, W=5).
      backends: any of ``"tf"``, ``"torch"``; each is run on its own (all its passes, then the next).
      passes: timed passes (samples per candidate).
      warmup: calls per candidate before timing (>= 1; the first traces ``tf.function``s).
      min_time: seconds one sample should last at least (sets the calls per sample); 0: one call.
      threads: set the frameworks' intra-op threads (None: their defaults).
      log: progress printer (default: stderr).
      peers: any of ``PEERS``; ``"tfa"`` adds tfa 0.23's candidates to the TF cases (skipped,
        with how to make its venv, when the venv is missing and cannot be made).
      torch_compile: ``torch.compile``'s backend for the compiled PyTorch peers (None: not run).

    Returns a dict with ``env``, ``config``, ``timings`` (candidate key -> times in seconds),
    ``ratios``, ``skipped`` (key -> why), ``checks`` and ``errors`` (backend -> traceback).
    """
    shapes = shapes or Shapes()
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    t_start = time.perf_counter()
    result = {
        "env": dict(harness.environment(str(threads) if threads else ""), omp_wait_policy=_OMP_NOTE),
        "config": {"shapes": dataclasses.asdict(shapes),
                   "backends": list(backends), "passes": passes, "warmup": warmup, "min_time_s": min_time,
                   "threads": threads, "peers": list(peers), "torch_compile": torch_compile},
        "timings": {}, "ratios": {}, "skipped": {}, "checks": {}, "errors": {},
    }
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise ValueError(f"`peers` must be among {PEERS}, got {unknown}")
    if "tfa" in peers and "tf" not in backends:
        result["skipped"]["tf.peer.tfa"] = "the tfa peer is timed with the TF cases: add --backend tf (or all)"
    for backend in backends:
        log(f"[{backend}] building candidates")
        attached = None
        try:
            cases = _cases(backend)
            if threads:
                cases.set_threads(threads)
            result["env"].update(cases.environment())
            options = {"compile_backend": torch_compile} if backend == "torch" else {}
            candidates, specs, skipped, check = cases.build(shapes, log=log, **options)
            result["skipped"].update(skipped)
            if backend == "tf" and "tfa" in peers:
                from bench import tfa_peer

                attached, skipped = tfa_peer.attach(shapes, cases.MODES, candidates, threads=threads, log=log)
                result["skipped"].update(skipped)
                if attached is not None:
                    specs = specs + attached.specs
                    result["env"].update(attached.env)
            log(f"[{backend}] warm-up ({warmup} call(s) each; tf.function traces on the first)")
            result["skipped"].update(harness.warm_up(candidates, warmup, min_time, log=log))
            outputs = {c.key: _to_numpy(c.result()) for c in candidates}
            result["checks"].update(check(outputs))
            if attached is not None:
                result["checks"].update(attached.check(outputs))
            for c in candidates:
                c.output = None
            log(f"[{backend}] timing: {passes} interleaved pass(es) over {len(candidates)} candidates")
            harness.time_passes(candidates, passes, log=log)
        except Exception:  # noqa: BLE001 - report, go on with the next backend
            result["errors"][backend] = traceback.format_exc()
            log(f"[{backend}] CRASHED:\n{result['errors'][backend]}")
            continue
        finally:
            if attached is not None:
                attached.close()
        by_key = {c.key: c for c in candidates}
        for c in candidates:
            result["timings"][c.key] = harness.timing_record(c)
        for spec in specs:
            record = harness.ratio_record(spec, by_key)
            if record is not None:
                result["ratios"][spec.key] = record
            else:
                missing = [k for k in (spec.numerator, spec.denominator) if k not in by_key]
                result["ratios"][spec.key] = {
                    "label": spec.label, "numerator": spec.numerator, "denominator": spec.denominator,
                    "value": None, "target": spec.target, "status": "SKIPPED",
                    "why": "not timed: " + ", ".join(missing)}
    result["env"]["loadavg_end"] = harness._loadavg()
    result["elapsed_s"] = time.perf_counter() - t_start
    return result


def _to_numpy(structure):
    """Leaves of a candidate's output -> NumPy (TF tensors, torch tensors; others kept)."""
    from course_lib.common import nest

    def convert(x):
        if hasattr(x, "detach"):
            return x.detach().cpu().numpy()
        if hasattr(x, "numpy"):
            return x.numpy()
        return x
    return nest.map_structure(convert, structure)


# -- the report ------------------------------------------------------------------------------
_MODE = {"tf.eager": "TF eager", "tf.function": "TF tf.function", "torch.eager": "torch eager",
         "torch.compile": "torch.compile"}
_SECTION = {"train": "1 train step", "greedy": "2 greedy", "attention": "4 attention"}


def _ms(x):
    return f"{x * 1e3:9.1f}" if x is not None and math.isfinite(x) else "      n/a"


def _target(x: float) -> str:
    return f"{x:.1f}" if round(x, 1) == x else f"{x:.2f}"


def format_report(result: dict) -> str:
    """The printed tables (environment, timings, ratios, skips, checks)."""
    cfg, env = result["config"], result["env"]
    s = cfg["shapes"]
    lines = []
    add = lines.append
    add("=" * 100)
    add(f"course_lib bench (CPU): batch {s['batch']}, vocab {s['vocab']}, embedding {s['embed']}, "
        f"LSTM {s['units']}, target length {s['tgt_len']}, memory length {s['src_len']}, "
        f"beam width {s['beam_width']}")
    versions = ", ".join(f"{k} {env[k]}" for k in ("python", "tensorflow", "keras", "torch", "numpy") if k in env)
    add(f"versions: {versions}")
    if env.get("tfa_peer"):
        add(f"tfa peer (its own venv and worker process, timed there, interleaved): {env['tfa_peer']}")
    add(f"machine: {env.get('platform')}; {env.get('cpu_count')} cores ({env.get('cpus_usable')} usable); "
        f"load average {env.get('loadavg_start')} at start, {env.get('loadavg_end')} at end")
    load, cores = (env.get("loadavg_start") or [0])[0], env.get("cpus_usable") or 1
    if load > 0.5 * cores:
        add(f"WARNING: the machine was busy (1-min load {load} on {cores} cores): timings are noisy; "
            "see min..max, and consider more --passes or --threads 1")
    threads = []
    if "tf_intra_op_threads" in env:
        threads.append(f"TF intra-op {env['tf_intra_op_threads']}, inter-op {env['tf_inter_op_threads']}")
    if "torch_threads" in env:
        threads.append(f"torch {env['torch_threads']} threads (inter-op {env['torch_interop_threads']})")
    if env.get("env_vars"):
        threads.append("env " + " ".join(f"{k}={v}" for k, v in env["env_vars"].items()))
    if env.get("omp_wait_policy"):
        threads.append(f"OMP_WAIT_POLICY {env['omp_wait_policy']}")
    add("threads: " + "; ".join(threads))
    add(f"method: warm-up {cfg['warmup']} call(s) per candidate before timing (the first traces the "
        f"tf.function); {cfg['passes']} interleaved passes (order rotated each pass); a sample = enough "
        f"calls to last >= {cfg['min_time_s']} s; time = median over passes; ratio = median over passes "
        "of the per-pass ratio (time.perf_counter).")
    add("train step = embedding lookup + decoder + Dense/Linear(vocab) + sequence_loss, forward and backward: "
        "gradients of all weights (tape.gradient / torch.autograd.grad), no optimizer update. Targets are "
        "full length unless the line says ragged. Decodes: greedy / beam search of exactly "
        f"{s['tgt_len']} steps (the end token's logit bias is -1e4, so it is never emitted); no gradients.")
    add("")
    add("Timings, ms per call")
    header = f"  {'backend / mode':<15s} {'section':<13s} {'candidate':<52s} {'median':>9s} {'min':>9s} " \
             f"{'max':>9s} {'1st call':>9s} {'calls':>5s}"
    add(header)
    add("  " + "-" * (len(header) - 2))
    for key, rec in result["timings"].items():
        mode = _MODE.get(".".join(key.split(".")[:2]), key)
        add(f"  {mode:<15s} {_SECTION.get(rec['section'], rec['section']):<13s} {rec['label'][:52]:<52s} "
            f"{_ms(rec['median_s'])} {_ms(rec['min_s'])} {_ms(rec['max_s'])} {_ms(rec['first_call_s'])} "
            f"{rec['reps']:>5d}")
    add("")
    add("Ratios (lower is better; a target means ratio <= target; PASS/MISS is informational, on the median)")
    add(f"  {'':<66s} {'median':>7s} {'of mins':>8s}")
    for key, rec in result["ratios"].items():
        target = f"target <= {_target(rec['target'])}x" if rec.get("target") is not None else "(no target)"
        if rec.get("value") is None:
            add(f"  {rec['label']:<66s} {'-':>7s} {'-':>8s}   {target:<16s} SKIPPED ({rec.get('why', '')})")
            continue
        status = rec.get("status") or ""
        add(f"  {rec['label']:<66s} {rec['value']:6.2f}x {rec['ratio_of_mins']:7.2f}x   {target:<16s} {status}")
    if result["skipped"]:
        add("")
        add("Skipped")
        for key, why in result["skipped"].items():
            add(f"  {key}: {why}")
    if result["checks"]:
        add("")
        add("Checks (candidates doing the same work give the same numbers)")
        for key, rec in result["checks"].items():
            add(f"  {'ok  ' if rec['ok'] else 'FAIL'} {key}: {rec['detail']}")
    if result["errors"]:
        add("")
        add("ERRORS")
        for backend, tb in result["errors"].items():
            add(f"  {backend}: {tb.strip().splitlines()[-1]}")
    add(f"elapsed {result['elapsed_s']:.0f} s")
    add("=" * 100)
    return "\n".join(lines)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {text!r}")
    return int(text)


def _shapes(args) -> Shapes:
    """The problem size of the command line: the default or ``--tiny``, with ``--batch`` if given."""
    shapes = Shapes.tiny() if args.tiny else Shapes()
    return shapes if args.batch is None else dataclasses.replace(shapes, batch=args.batch)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"short smoke run: {QUICK['passes']} passes, {QUICK['warmup']} warm-up call, "
                             "one call per sample")
    parser.add_argument("--backend", choices=("tf", "torch", "all"), default="all")
    parser.add_argument("--passes", type=int, help=f"timed passes (default {DEFAULT['passes']})")
    parser.add_argument("--warmup", type=int, help=f"warm-up calls per candidate (default {DEFAULT['warmup']})")
    parser.add_argument("--min-time", type=float,
                        help=f"seconds a sample should last at least (default {DEFAULT['min_time']})")
    parser.add_argument("--threads", type=int, help="set intra-op threads of both frameworks (default: theirs)")
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (the smoke test's), to check the bench")
    parser.add_argument("--batch", type=_positive_int, metavar="N",
                        help=f"batch size (default {Shapes.batch}, or the tiny shapes' with --tiny)")
    parser.add_argument("--torch-compile", default="inductor", metavar="BACKEND",
                        help="torch.compile backend of the compiled PyTorch peers, or none (default %(default)s)")
    parser.add_argument("--peer", action="append", choices=PEERS, default=[],
                        help="also time a peer: tfa (tfa 0.23 on TF 2.15, in a venv made once under "
                             "~/.cache/seq2seq-course; see bench/README.md)")
    parser.add_argument("--output", default=RESULTS, help="where to write the JSON results (default %(default)s)")
    args = parser.parse_args(argv)

    settings = dict(QUICK if args.quick else DEFAULT)
    for name in ("passes", "warmup", "min_time"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    shapes = _shapes(args)
    compile_backend = None if args.torch_compile.lower() == "none" else args.torch_compile
    result = run_bench(shapes, backends, threads=args.threads, peers=tuple(args.peer),
                       torch_compile=compile_backend, **settings)
    print(format_report(result), flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(_jsonable(result), f, indent=1)
    print(f"results written to {os.path.relpath(args.output)}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
