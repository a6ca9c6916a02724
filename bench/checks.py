"""The bench's agreement checks: candidates doing the same work give the same numbers.

Every check takes ``outputs`` (candidate key -> the dict its last warm-up call returned, as
NumPy) and returns ``{check_key: {"ok": bool, "detail": str}}``; a candidate that was not
run (skipped) is not checked.
"""

from __future__ import annotations

#: greedy / beam ids: at least this share equal (a near-tie may flip one argmax in a thousand)
IDS_AGREE = 0.99
#: losses: relative difference at most this
LOSS_RTOL = 1e-4


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
        ok = all(abs(v - ref) <= LOSS_RTOL * max(1.0, abs(ref)) for v in losses.values())
        results[f"{prefix}.train.losses_agree"] = {
            "ok": ok, "detail": ", ".join(f"{k} {v:.6f}" for k, v in losses.items())}
    a, b = outputs.get(f"{prefix}.greedy.cl"), outputs.get(f"{prefix}.greedy.hand_loop")
    if a is not None and b is not None:
        same = float(np.mean(np.asarray(a["ids"]) == np.asarray(b["ids"])))
        results[f"{prefix}.greedy.ids_agree"] = {"ok": same >= IDS_AGREE, "detail": f"{same:.1%} of greedy ids equal"}
    for key in (f"{prefix}.greedy.cl", f"{prefix}.attention.greedy", f"{prefix}.attention.beam"):
        results.update(full_length(outputs, key, T))
    return results


def full_length(outputs: dict, key: str, T: int) -> dict:
    """``{key + ".full_length": ...}``: the decode of candidate ``key`` ran all ``T`` steps in every row."""
    import numpy as np

    if key not in outputs:
        return {}
    lengths = np.asarray(outputs[key]["lengths"])
    return {f"{key}.full_length": {
        "ok": bool((lengths == T).all()),
        "detail": f"lengths {lengths.min()}..{lengths.max()} (want {T}: the end token is never emitted)"}}


def ids_agree(outputs: dict, key: str, a: str, b: str, field: str = "ids") -> dict:
    """``{key: ...}``: ``outputs[a][field]`` and ``outputs[b][field]`` are equal (>= ``IDS_AGREE``)."""
    import numpy as np

    if a not in outputs or b not in outputs:
        return {}
    x, y = np.asarray(outputs[a][field]), np.asarray(outputs[b][field])
    if x.shape != y.shape:
        return {key: {"ok": False, "detail": f"{field} shapes differ: {x.shape} vs {y.shape}"}}
    same = float(np.mean(x == y))
    return {key: {"ok": same >= IDS_AGREE, "detail": f"{same:.1%} of {field} equal"}}


def losses_agree(outputs: dict, key: str, a: str, b: str) -> dict:
    """``{key: ...}``: the two candidates' ``loss`` agree to ``LOSS_RTOL``."""
    import numpy as np

    if a not in outputs or b not in outputs:
        return {}
    x, y = float(np.asarray(outputs[a]["loss"])), float(np.asarray(outputs[b]["loss"]))
    ok = abs(x - y) <= LOSS_RTOL * max(1.0, abs(x))
    return {key: {"ok": ok, "detail": f"loss {x:.6f} vs {y:.6f}"}}


def alignments_agree(outputs: dict, key: str, a: str, b: str, atol: float = 1e-5) -> dict:
    """``{key: ...}``: alignment histories ``[T, B, S]`` allclose, on the rows whose ids all agree."""
    import numpy as np

    if a not in outputs or b not in outputs:
        return {}
    x, y = np.asarray(outputs[a]["alignments"]), np.asarray(outputs[b]["alignments"])
    if x.shape != y.shape:
        return {key: {"ok": False, "detail": f"alignment shapes differ: {x.shape} vs {y.shape}"}}
    rows = (np.asarray(outputs[a]["ids"]) == np.asarray(outputs[b]["ids"])).all(axis=1)  # [B]
    if not rows.any():
        return {key: {"ok": False, "detail": "no row with the same ids to compare alignments on"}}
    diff = float(np.abs(x[:, rows] - y[:, rows]).max())
    return {key: {"ok": diff <= atol, "detail": f"max |difference| {diff:.1e} (atol {atol:g}) "
                                                f"over {int(rows.sum())}/{rows.size} rows"}}
