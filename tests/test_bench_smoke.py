"""The bench (``python -m bench``) runs end to end on tiny shapes, in process, for each backend.

No timing assertions: only that every expected measurement is there with a positive finite
time, that the candidates doing the same work agree (the bench's own checks), and that the
report and the JSON can be written. Attention and beam search may be reported as skipped
(with a reason) while course_lib's attention is incomplete. The PyTorch peers (the hand
attention loop, the ``torch.compile``d loops) must run and agree. The tfa peer needs its own
venv, which CI does not have: its skip message is tested (the venv path pointed at an empty
directory), and its worker's protocol is tested with a fake peer in this interpreter.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
import textwrap
import warnings

import numpy as np
import pytest

from bench import harness, peer_venv, tfa_peer
from bench.cell_times import CellTimer, format_slowest
from bench.harness import RatioSpec, Shapes
from bench.peer_client import PeerError, PeerProcess
from bench.run import _jsonable, format_report, run_bench

MODES = {"tf": ("eager", "function"), "torch": ("eager",)}
TIMED = {
    "train": {"tf": ("cl", "fused_layer", "hand_loop", "cl_ragged"),
              "torch": ("cl", "fused_layer", "hand_loop", "cl_step_loop", "cl_ragged")},
    "greedy": {"tf": ("cl", "hand_loop"), "torch": ("cl", "hand_loop")},
}
ATTENTION = {"tf": ("greedy", "beam"), "torch": ("greedy", "beam", "hand_loop")}
RATIOS = {
    "tf": ("train.cl/fused_layer", "train.cl/hand_loop", "train.cl_ragged/cl", "greedy.cl/hand_loop"),
    "torch": ("train.cl/fused_layer", "train.cl/hand_loop", "train.cl_step_loop/hand_loop",
              "train.cl_ragged/cl", "greedy.cl/hand_loop"),
}
ATTENTION_RATIOS = ("attention.greedy/greedy", "attention.beam/greedy")


def _positive_finite(x):
    return isinstance(x, float) and math.isfinite(x) and x > 0


@contextlib.contextmanager
def _tfa_venv_at(path):
    """Point the tfa venv's path (``$SEQ2SEQ_TFA_VENV``) at ``path`` for the block."""
    old = os.environ.get(peer_venv.ENV_VAR)
    os.environ[peer_venv.ENV_VAR] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(peer_venv.ENV_VAR)
        else:
            os.environ[peer_venv.ENV_VAR] = old


_RESULTS = {}


def _tiny_run(name):
    """One tiny bench run per backend and test session; TF's asks for the tfa peer, whose venv is absent."""
    if name not in _RESULTS:
        with tempfile.TemporaryDirectory() as empty, _tfa_venv_at(empty):
            _RESULTS[name] = run_bench(Shapes.tiny(), backends=(name,), passes=1, warmup=1, min_time=0.0,
                                       log=lambda msg: None, peers=("tfa",) if name == "tf" else ())
    return _RESULTS[name]


def test_bench_runs_on_tiny_shapes(backend):
    name = backend.name
    result = _tiny_run(name)

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
        for cand in ATTENTION[name]:
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


def test_torch_peers_run_and_agree():
    """The hand attention loop equals cl's attention greedy; the compiled hand loops equal the eager ones."""
    result = _tiny_run("torch")
    timings, checks = result["timings"], result["checks"]
    for key in ("torch.eager.attention.hand_loop", "torch.compile.greedy.hand_loop",
                "torch.compile.attention.hand_loop"):
        assert key in timings, f"{key} not timed: {result['skipped'].get(key)}"
        assert _positive_finite(timings[key]["first_call_s"]) and _positive_finite(timings[key]["median_s"])
    for key in ("torch.eager.attention.hand_agrees", "torch.eager.attention.hand_alignments_agree",
                "torch.compile.greedy.hand_agrees_eager", "torch.compile.attention.hand_agrees_eager",
                "torch.compile.attention.hand_alignments_agree_eager"):
        assert checks[key]["ok"], (key, checks[key])
    assert "100.0%" in checks["torch.eager.attention.hand_agrees"]["detail"]
    for ratio in ("torch.eager.attention.greedy/hand_loop", "torch.greedy.cl/compiled_hand_loop",
                  "torch.attention.greedy/compiled_hand_loop"):
        assert _positive_finite(result["ratios"][ratio]["value"]), (ratio, result["ratios"][ratio])
    assert result["ratios"]["torch.eager.attention.greedy/hand_loop"]["target"] == 1.0
    key = "torch.compile.greedy.cl"  # course_lib's decode under torch.compile: timed and equal to eager
    assert key in timings, f"{key} not timed: {result['skipped'].get(key)}"
    assert checks["torch.compile.greedy.cl_agrees_eager"]["ok"], checks["torch.compile.greedy.cl_agrees_eager"]


def test_tfa_peer_without_its_venv_says_how_to_make_it():
    result = _tiny_run("tf")
    why = result["skipped"]["tf.peer.tfa"]
    assert "no tfa venv" not in why and "is not usable" in why, why  # the path exists (empty): left alone
    for needle in ("python -m bench --peer tfa", "tensorflow==2.15.1", "tensorflow-addons==0.23.0",
                   peer_venv.ENV_VAR):
        assert needle in why, (needle, why)
    assert not result["errors"] and not any(".tfa" in k for k in result["timings"])
    assert "tf.function.train.cl/tfa" not in result["ratios"]
    assert "tf.peer.tfa" in format_report(result)


def test_tfa_venv_is_not_made_where_a_directory_already_is(tmp_path):
    with _tfa_venv_at(tmp_path):
        python, why = peer_venv.ensure_venv(create=True, log=lambda msg: None)
    assert python is None and str(tmp_path) in why
    assert list(tmp_path.iterdir()) == []  # nothing installed into a directory the bench did not make


def test_tfa_venv_that_cannot_be_made_is_skipped_and_cleaned_up(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # "offline": pip finds no TensorFlow
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-wheels"))
    path = tmp_path / "cache" / "tfa-venv"
    with _tfa_venv_at(path):
        python, why = peer_venv.ensure_venv(create=True, log=lambda msg: None)
    assert python is None and "could not make the tfa venv" in why and "pip install" in why, why
    assert sorted(p.name for p in path.parent.iterdir()) == ["tfa-venv.lock"]  # no venv, no scratch left


def test_tfa_candidates_go_next_to_their_twins():
    local = [harness.Candidate(k, k, fn=None)
             for k in ("tf.eager.train.cl", "tf.eager.greedy.cl", "tf.eager.attention.beam")]
    remote = [harness.Candidate(k, k, fn=None)
              for k in ("tf.eager.greedy.tfa", "tf.eager.attention.tfa_beam", "tf.eager.attention.tfa_greedy")]
    tfa_peer.interleave(local, remote)
    assert [c.key for c in local] == ["tf.eager.train.cl", "tf.eager.greedy.cl", "tf.eager.greedy.tfa",
                                     "tf.eager.attention.beam", "tf.eager.attention.tfa_beam",
                                     "tf.eager.attention.tfa_greedy"]  # no twin: at the end
    specs = {s.key: s for s in tfa_peer.ratio_specs(("eager", "function"))}
    assert specs["tf.function.train.cl/tfa"].target == 0.9
    assert specs["tf.first_call.attention.greedy/tfa"].first_call


FAKE_PEER = """
    import time

    import numpy as np


    def environment():
        return {"fake_peer": "fake 1.0"}


    def build(shapes, data, modes):
        w = data["w"]

        def work():
            time.sleep(0.002)
            print("noise that must not reach the protocol")
            return {"ids": np.argmax(w, -1), "loss": np.float32(w.sum()), "grads": [w, w]}

        def broken():
            raise ValueError("broken on purpose")
        return [(f"tf.{m}.greedy.fake", f"fake {shapes['batch']}", work, m == "function") for m in modes] + [
            ("tf.eager.greedy.broken", "broken", broken, False)]
"""


def test_peer_worker_protocol_with_a_fake_peer(tmp_path):
    (tmp_path / "fake_peer_cases.py").write_text(textwrap.dedent(FAKE_PEER))
    w = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::-1].copy()
    peer = PeerProcess(sys.executable, "fake_peer_cases", extra_path=[tmp_path])
    try:
        built = peer.build({"w": w}, {"batch": 3}, ["eager", "function"])
        assert built["env"] == {"fake_peer": "fake 1.0"}
        candidates = peer.candidates(built)
        assert [(c.key, c.label, c.traced) for c in candidates] == [
            ("tf.eager.greedy.fake", "fake 3", False), ("tf.function.greedy.fake", "fake 3", True),
            ("tf.eager.greedy.broken", "broken", False)]
        failed = harness.warm_up(candidates, warmup=1, min_time=0.0, log=lambda msg: None)
        assert failed == {"tf.eager.greedy.broken": "ValueError: broken on purpose (in the peer worker)"}
        assert [c.key for c in candidates] == ["tf.eager.greedy.fake", "tf.function.greedy.fake"]
        harness.time_passes(candidates, passes=2, log=lambda msg: None)
        for c in candidates:
            assert c.first_call_s >= 0.002 and len(c.samples) == 2 and min(c.samples) >= 0.002
        out = candidates[0].result()
        assert sorted(out) == ["ids", "loss"]  # single arrays come back; lists (gradients) do not
        np.testing.assert_array_equal(out["ids"], np.argmax(w, -1))
        assert float(out["loss"]) == float(w.sum())
        by_key = {c.key: c for c in candidates}
        rec = harness.ratio_record(RatioSpec("r", "r", *by_key, target=1e9, first_call=True), by_key)
        assert rec["value"] == pytest.approx(candidates[0].first_call_s / candidates[1].first_call_s)
        with pytest.raises(PeerError, match="unknown command"):
            peer.request("nonsense")
        assert peer.request("run", key="tf.eager.greedy.fake")["seconds"] > 0  # still serving
    finally:
        peer.close()
    assert peer.process.returncode == 0
    with pytest.raises(PeerError, match="exited"):
        peer.request("run", key="tf.eager.greedy.fake")


def test_cell_timer_reports_the_slowest_cells():
    now = [0.0]
    timer = CellTimer(clock=lambda: now[0])
    hooks = timer.hooks()
    for index, (seconds, source) in enumerate([(0.5, "import x"), (4.0, "\n  train(model)  \n"), (2.0, "decode()"),
                                              (1.0, "plot()")]):
        cell = {"source": source, "execution_count": index + 1}
        hooks["on_cell_execute"](cell=cell, cell_index=index)
        now[0] += seconds
        reply = {"content": {"execution_count": index + 1}}
        hooks["on_cell_executed"](cell=cell, cell_index=index, execute_reply=reply)
    hooks["on_cell_execute"](cell={"source": "hang()"}, cell_index=7)  # never replies
    now[0] += 1.5
    slowest = timer.slowest()
    assert [(c["index"], c["seconds"], c["source"], c["finished"]) for c in slowest] == [
        (1, 4.0, "train(model)", True), (2, 2.0, "decode()", True), (7, 1.5, "hang()", False)]
    assert slowest[0]["execution_count"] == 2
    line = format_slowest(slowest)
    assert line.startswith("slowest: 4.0 s cell 1 `train(model)`") and "cell 7 (unfinished) `hang()`" in line
