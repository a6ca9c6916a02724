"""The bench's ``--batch`` and ``bench.gpu.bench_device`` (the PyTorch bench built and timed on a device)."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

from bench.harness import Candidate


def test_batch_option_changes_the_batch_only(tmp_path):
    from bench.gpu import bench_device

    out = tmp_path / "bench.json"
    code = bench_device.main(["--device", "cpu", "--tiny", "--batch", "2", "--quick", "--torch-compile", "none",
                              "--output", str(out)])
    result = json.loads(out.read_text())
    assert code == 0 and not result["errors"], result["errors"]
    assert result["config"]["shapes"]["batch"] == 2
    assert result["config"]["shapes"]["units"] == 8  # the rest stays tiny
    assert result["env"]["torch_device"] == "cpu"
    assert result["timings"] and all(t["median_s"] > 0 for t in result["timings"].values())
    assert all(check["ok"] for check in result["checks"].values()), result["checks"]


@pytest.mark.parametrize("value", ["0", "-3", "two"])
def test_batch_must_be_a_positive_int(capsys, value):
    from bench.run import main

    with pytest.raises(SystemExit):
        main(["--batch", value])
    assert f"argument --batch: must be a positive int, got '{value}'" in capsys.readouterr().err


def test_bench_device_refuses_another_backend_and_a_bad_device(capsys):
    from bench.gpu import bench_device

    with pytest.raises(SystemExit):
        bench_device.main(["--device", "cpu", "--backend", "tf"])
    assert "--backend must be torch" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="--device must name a PyTorch device"):
        bench_device.main(["--device", "gpu0"])


def test_on_device_builds_on_the_device_and_restores_from_numpy():
    torch = pytest.importorskip("torch")
    from bench.gpu import bench_device

    made = {}

    def build(shapes):
        made["zeros"] = torch.zeros(2)
        made["from_numpy"] = torch.from_numpy(np.ones(3, np.float32))
        made["linear"] = torch.nn.Linear(2, 2)
        return [Candidate("torch.eager.x.y", "y", lambda: made["zeros"] + 1)], [], {}, None

    cases = types.SimpleNamespace(build=build, environment=lambda: {"torch": torch.__version__})
    default = torch.zeros(1).device
    bench_device.on_device(cases, torch.device("meta"))
    candidates, _, _, _ = cases.build(None)
    assert {made["zeros"].device.type, made["from_numpy"].device.type, made["linear"].weight.device.type} == {"meta"}
    assert torch.from_numpy is not torch.as_tensor and torch.from_numpy(np.ones(1)).device.type == "cpu"
    assert torch.zeros(1).device == default  # the default device is back
    assert candidates[0].fn().device.type == "meta"
    assert cases.environment()["torch_device"] == "meta"
