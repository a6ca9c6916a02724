"""The bench (``python -m bench``) runs end to end on tiny shapes, in process, for each backend.

No timing assertions: only that every expected measurement is there with a positive finite
time, that the candidates doing the same work agree (the bench's own checks), and that the
report and the JSON can be written. Attention and beam search may be reported as skipped
(with a reason) while course_lib's attention is incomplete.
"""

from __future__ import annotations

import json
import math
import warnings

from bench.harness import Shapes
from bench.run import _jsonable, format_report, run_bench

MODES = {"tf": ("eager", "function"), "torch": ("eager",)}
TIMED = {
    "train": {"tf": ("cl", "fused_layer", "hand_loop", "cl_ragged"),
              "torch": ("cl", "fused_layer", "hand_loop", "cl_step_loop", "cl_ragged")},
    "greedy": {"tf": ("cl", "hand_loop"), "torch": ("cl", "hand_loop")},
}
ATTENTION = ("greedy", "beam")
RATIOS = {
    "tf": ("train.cl/fused_layer", "train.cl/hand_loop", "train.cl_ragged/cl", "greedy.cl/hand_loop"),
    "torch": ("train.cl/fused_layer", "train.cl/hand_loop", "train.cl_step_loop/hand_loop",
              "train.cl_ragged/cl", "greedy.cl/hand_loop"),
}
ATTENTION_RATIOS = ("attention.greedy/greedy", "attention.beam/greedy")


def _positive_finite(x):
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_bench_runs_on_tiny_shapes(backend):
    name = backend.name
    result = run_bench(Shapes.tiny(), backends=(name,), passes=1, warmup=1, min_time=0.0, log=lambda msg: None)

    assert not result["errors"], result["errors"]
    timings = result["timings"]
    for mode in MODES[name]:
        prefix = f"{name}.{mode}"
        for section, names in TIMED.items():
            for cand in names[name]:
                key = f"{prefix}.{section}.{cand}"
                assert key in timings, f"missing timing {key}; have {sorted(timings)}"
                rec = timings[key]
                assert len(rec["samples_s"]) == 1 and rec["reps"] >= 1
                for field in ("median_s", "min_s", "max_s", "first_call_s"):
                    assert _positive_finite(rec[field]), (key, field, rec[field])
        for ratio in RATIOS[name]:
            rec = result["ratios"][f"{prefix}.{ratio}"]
            assert _positive_finite(rec["value"]), (ratio, rec)
            assert rec["status"] in (None, "PASS", "MISS")
        for cand in ATTENTION:
            key = f"{prefix}.attention.{cand}"
            if key in timings:
                assert _positive_finite(timings[key]["median_s"]), key
            else:
                why = result["skipped"].get(key) or result["skipped"].get(f"{prefix}.attention")
                assert why, f"{key} neither timed nor skipped with a reason"
                warnings.warn(f"bench skipped {key}: {why}")
        for ratio in ATTENTION_RATIOS:
            rec = result["ratios"][f"{prefix}.{ratio}"]
            assert rec["status"] == "SKIPPED" or _positive_finite(rec["value"]), (ratio, rec)

    assert result["checks"], "the bench compared no outputs"
    failed = {k: v["detail"] for k, v in result["checks"].items() if not v["ok"]}
    assert not failed, failed

    report = format_report(result)
    for rec in timings.values():
        assert rec["label"][:52] in report
    json.loads(json.dumps(_jsonable(result)))
