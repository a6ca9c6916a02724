"""Exercise checkers, the framework-free half: results, messages, NumPy comparisons and the
test cases both backends check against (NumPy in, NumPy out).

A checker (``course_lib.tf.exercises`` / ``course_lib.torch.exercises``) runs a learner's
function or class on small cases, compares with ``course_lib`` and prints one line::

    ✓ check_unroll: ...                                    (and returns a true CheckResult)
    ✗ check_unroll — value: `outputs` at row 1, step 3: ...
      hint: ...                                            (and returns a false one)

It never raises for a wrong answer, so a notebook keeps running; ``bool(result)`` says whether
it passed and ``result.message`` is the text.
"""

from __future__ import annotations

import traceback
from typing import Callable, Optional, Sequence

import numpy as np


class CheckResult:
    """What a checker found: ``ok``, the printed ``message`` and the check's ``kind`` of problem
    (``"shape"``, ``"value"``, ``"structure"``, ``"error"``, ``"not implemented"``; None when ok)."""

    def __init__(self, name: str, ok: bool, message: str, kind: Optional[str] = None):
        self.name, self.ok, self.message, self.kind = name, ok, message, kind

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"CheckResult({self.name!r}, ok={self.ok}, kind={self.kind!r})"

    def _ipython_display_(self):
        """Nothing: the checker has printed its message already (no second copy under it)."""


class Mismatch(Exception):
    """Raised inside a check body: what kind of problem, what exactly, and a hint."""

    def __init__(self, kind: str, problem: str, hint: str = ""):
        super().__init__(problem)
        self.kind, self.problem, self.hint = kind, problem, hint


#: what each exercise asks for, in one line: the hint when a problem has no more precise one
HINTS = {
    "check_unroll": "loop over the steps: cell(inputs[:, t], state); past a row's length, a zero output and "
                    "the old state",
    "check_masked_nll": "-log_softmax(logits) at the targets, times the mask (t < length), summed, divided by "
                        "the sum of the mask",
    "check_builtin_lstm": "run the layer on the padded batch, then make its outputs zero past each row's "
                          "length and its final state the state at each row's length",
    "check_decode_loop": "decoder.initialize(...) once, then decoder.step(t, inputs, state) until every row has "
                         "finished or maximum_iterations steps have run",
    "check_temperature": "softmax(logits / temperature) over the last axis",
    "check_lengths_from_ids": "each row's first end token: its index + 1 is the length (T when there is none)",
    "check_running_sum_cell": "state_size = output_size = depth; the state starts at zeros; new = state + inputs "
                              "is both the output and the new state",
    "check_input_projection_wrapper": "keep self.cell and self.projection; project the inputs, then call the cell",
    "check_gru_cell": "create kernel, recurrent_kernel and bias on the first call, then apply the GRU formula",
}


def run_check(name: str, body: Callable[[], str]) -> CheckResult:
    """Run ``body`` (which returns the success text or raises ``Mismatch``), print the verdict."""
    try:
        text = body()
    except Mismatch as m:
        message = f"✗ {name} — {m.kind}: {m.problem}"
        hint = m.hint or HINTS.get(name, "")
        if hint:
            message += f"\n  hint: {hint}"
        result = CheckResult(name, False, message, m.kind)
    else:
        result = CheckResult(name, True, f"✓ {name}: {text}")
    print(result.message)
    return result


def call(fn, *args, what: str, hint: str = "", **kwargs):
    """Call the learner's ``fn``; turn what it raises into a ``Mismatch`` naming ``what``."""
    try:
        return fn(*args, **kwargs)
    except Mismatch:
        raise
    except NotImplementedError:  # the stub: the exercise's one-line hint (run_check), not the detailed one
        raise Mismatch("not implemented yet", f"{what} raised NotImplementedError (the exercise's stub)") from None
    except Exception as exc:  # the learner's bug: report it as a message, not a traceback
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f" (line {frame.lineno}: `{(frame.line or '').strip()}`)" if frame.line else ""
        raise Mismatch("error", f"{what} raised {type(exc).__name__}: {exc}{where}", hint) from None


def fmt(x) -> str:
    """A number for a message: 4 decimals for floats, as is for ints and bools."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return f"{float(x):.4f}"


def expect_shape(name: str, got, want: Sequence[int], axes: str = "", hint: str = "") -> None:
    """``Mismatch("shape", ...)`` when ``np.shape(got) != want``; ``axes`` names the axes."""
    got_shape = list(np.shape(got))
    if got_shape != list(want):
        what = f" ({axes})" if axes else ""
        raise Mismatch("shape", f"`{name}` must have shape {list(want)}{what}, got {got_shape}", hint)


def first_difference(got: np.ndarray, want: np.ndarray, atol: float):
    """The index (a tuple) of the first element that differs by more than ``atol``, or None."""
    got, want = np.asarray(got), np.asarray(want)
    if got.dtype.kind in "biu" and want.dtype.kind in "biu":
        bad = got != want
    else:
        bad = ~np.isclose(got.astype(np.float64), want.astype(np.float64), atol=atol, rtol=0)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])


def expect_close(name: str, got, want, axes: Sequence[str], atol: float = 1e-5,
                 hint="", explain: Optional[Callable[[tuple], str]] = None) -> None:
    """Shape first, then values: a ``Mismatch`` naming the first differing position by its axes
    (``row 1, step 3``). ``hint`` and ``explain`` may be functions of that index."""
    want = np.asarray(want)
    expect_shape(name, got, want.shape, ", ".join(axes) if len(axes) == want.ndim else "",
                 hint=hint(None) if callable(hint) else hint)
    got = np.asarray(got)
    idx = first_difference(got, want, atol)
    if idx is None:
        return
    where = ", ".join(f"{axis} {i}" for axis, i in zip(axes, idx)) if idx else "the value"
    problem = f"`{name}` at {where}: expected {fmt(want[idx])}, got {fmt(got[idx])}"
    if explain is not None:
        extra = explain(idx)
        if extra:
            problem += f" ({extra})"
    raise Mismatch("value", problem, hint(idx) if callable(hint) else hint)


def as_state_leaves(name: str, got, want_leaves: list, leaf_names: Sequence[str]) -> list:
    """The leaves of a learner's state, checked against the structure of ``want_leaves``."""
    n = len(want_leaves)
    if n == 1:
        if isinstance(got, (list, tuple)) and len(got) == 1:
            return list(got)
        if isinstance(got, (list, tuple)):
            raise Mismatch("structure", f"`{name}` must be one tensor [batch, units], got a "
                           f"{type(got).__name__} of {len(got)}", "this cell's state is a single tensor")
        return [got]
    if not isinstance(got, (list, tuple)) or len(got) != n:
        given = f"a {type(got).__name__} of {len(got)}" if isinstance(got, (list, tuple)) else "a single tensor"
        raise Mismatch("structure", f"`{name}` must be a list [{', '.join(leaf_names)}] of {n} tensors, got {given}",
                       "an LSTM state is the list [h, c]; keep the structure that the cell returns")
    return list(got)


# -- numbers both backends check against ------------------------------------------------

def rng_weights(shapes: dict, seed: int, scale: float = 0.5) -> dict:
    """A weights dict (Keras layout) with seeded normal values: the same in both backends."""
    rng = np.random.default_rng(seed)
    return {k: (rng.standard_normal(shape) * scale).astype(np.float32) for k, shape in sorted(shapes.items())}


def cell_weight_shapes(kind: str, input_size: int, units: int) -> dict:
    """Keras-layout shapes of a stock cell's weights."""
    gates = {"SimpleRNNCell": 1, "GRUCell": 3, "LSTMCell": 4}[kind]
    bias = (2, 3 * units) if kind == "GRUCell" else (gates * units,)
    return {"kernel": (input_size, gates * units), "recurrent_kernel": (units, gates * units), "bias": bias}


#: (cell kind, units, batch, time, depth, sequence_length) for check_unroll
UNROLL_CASES = [
    ("LSTMCell", 4, 4, 6, 3, [6, 1, 0, 3]),
    ("GRUCell", 3, 2, 4, 2, [4, 2]),
    ("SimpleRNNCell", 5, 3, 5, 4, [5, 5, 5]),
]


#: (batch, time, depth, sequence_length) for check_builtin_lstm
BUILTIN_CASES = [(4, 6, 3, [6, 1, 0, 3]), (2, 5, 2, [5, 5])]


def inputs_for(case_index: int, shape, seed: int = 100) -> np.ndarray:
    return np.random.default_rng(seed + case_index).standard_normal(shape).astype(np.float32)


def explain_padding(lengths, time_axis: int = 1) -> Callable[[tuple], str]:
    """For a mismatch at ``(row, step, ...)``: say whether the step is inside the row's length."""
    def explain(idx):
        if len(idx) <= time_axis:
            return ""
        row, step = idx[0], idx[time_axis]
        if step >= lengths[row]:
            return f"row {row} has length {lengths[row]}, so step {step} is padding"
        return f"step {step} is inside row {row}'s length {lengths[row]}"
    return explain


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def masked_nll_cases():
    """``[(logits [B, T, V], targets [B, T], lengths [B])]`` for check_masked_nll."""
    rng = np.random.default_rng(7)
    cases = []
    for B, T, V, lengths in [(3, 5, 6, [5, 2, 1]), (2, 4, 5, [4, 4]), (4, 3, 7, [3, 0, 2, 1])]:
        logits = (rng.standard_normal((B, T, V)) * 2).astype(np.float32)
        targets = rng.integers(0, V, size=(B, T)).astype(np.int64)
        cases.append((logits, targets, np.array(lengths, np.int64)))
    return cases


def masked_nll_mistake(got: float, logits, targets, lengths) -> Optional[str]:
    """Name a common mistake when ``got`` equals what it computes, else None."""
    logp = np.log(softmax(logits))  # (B, T, V)
    B, T = targets.shape
    nll = -np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]  # (B, T)
    mask = (np.arange(T)[None, :] < lengths[:, None]).astype(np.float64)
    valid_rows = lengths > 0
    candidates = {
        "you averaged over the padding positions too: weight each position by the mask": nll.mean(),
        "you divided the masked sum by B*T; divide by the number of real tokens (the sum of the weights)":
            (nll * mask).sum() / (B * T),
        "the sign is flipped: the loss is the *negative* log-likelihood": -(nll * mask).sum() / mask.sum(),
        "you averaged each row and then the rows; sequence_loss divides the total by the number of "
        "real tokens, so a long row counts more than a short one":
            ((nll * mask).sum(1)[valid_rows] / mask.sum(1)[valid_rows]).mean(),
    }
    for text, value in candidates.items():
        if abs(got - value) < 1e-4:
            return text
    return None


def decode_lengths(sample_ids: np.ndarray, end_token: int) -> np.ndarray:
    """What ``dynamic_decode`` reports: each row's steps up to and including its first end token."""
    sample_ids = np.asarray(sample_ids)
    T = sample_ids.shape[1]
    is_end = sample_ids == end_token
    return np.where(is_end.any(axis=1), is_end.argmax(axis=1) + 1, T).astype(np.int64)


#: (sample_ids [B, T], end_token) for check_lengths_from_ids
LENGTH_CASES = [
    (np.array([[3, 4, 2, 5, 2], [2, 0, 0, 0, 0], [3, 3, 3, 3, 3], [4, 2, 2, 2, 2]]), 2),
    (np.array([[1, 1, 1], [0, 0, 1]]), 1),
    (np.array([[5, 6, 7, 0, 0, 0, 0]]), 0),
]


def explain_length(row: int, got: int, sample_ids: np.ndarray, end_token: int) -> str:
    """Why row ``row``'s decode length is what it is, given what the learner returned."""
    ids = sample_ids[row]
    ends = np.flatnonzero(ids == end_token)
    T = len(ids)
    if not len(ends):
        return (f"row {row} never emits the end token {end_token}, so it runs all {T} steps",
                "a row that never ends has the full length T")
    first = int(ends[0])
    if got == first:
        return (f"row {row}'s first end token is at step {first}, and the step that emits it counts",
                "the length is the index of the first end token + 1")
    if len(ends) > 1 and got in (int(ends[-1]), int(ends[-1]) + 1):
        return (f"row {row}'s *first* end token is at step {first}; later ones do not count",
                "take the first end token of each row (argmax of a boolean picks the first True)")
    return (f"row {row}'s first end token is at step {first}", "the length is the index of the first end token + 1")


#: softmax temperatures for check_temperature
TEMPERATURES = (1.0, 0.5, 2.0, 10.0)


def temperature_logits() -> np.ndarray:
    return (np.random.default_rng(11).standard_normal((3, 7)) * 3).astype(np.float32)


# -- chapter 2: the greedy decode loop ---------------------------------------------------

#: the decoder the decode-loop checker builds: vocabulary, embedding, units, batch, limit
DECODE = dict(V=6, E=4, H=8, B=5, start_token=1, end_token=2, maximum_iterations=7, seed=15)


def decode_loop_arrays(seed: int = DECODE["seed"]):
    """``(weights, embedding [V, E], initial_state [h, c])`` for the decode-loop checker: the
    same NumPy numbers in both backends, chosen so the rows end at different steps."""
    V, E, H, B = DECODE["V"], DECODE["E"], DECODE["H"], DECODE["B"]
    shapes = {f"cell/{k}": s for k, s in cell_weight_shapes("LSTMCell", E, H).items()}
    shapes.update({"output_layer/kernel": (H, V), "output_layer/bias": (V,)})
    weights = rng_weights(shapes, seed, scale=1.0)
    rng = np.random.default_rng(seed + 1)
    embedding = rng.standard_normal((V, E)).astype(np.float32)
    initial_state = [rng.standard_normal((B, H)).astype(np.float32) for _ in range(2)]
    return weights, embedding, initial_state


# -- chapter 3: cells and wrappers -------------------------------------------------------

#: (batch, time, depth, sequence_length) for the cell checkers
CELL_CASES = [(3, 5, 4, [5, 2, 0]), (2, 3, 2, [3, 3])]


def running_sum(inputs: np.ndarray, lengths) -> tuple:
    """NumPy reference: outputs = the running sum inside each length (0 past it); final state =
    the sum over the row's valid steps. inputs ``[B, T, D]``."""
    B, T, _ = inputs.shape
    mask = (np.arange(T)[None, :] < np.asarray(lengths)[:, None])[..., None]  # (B, T, 1)
    sums = np.cumsum(inputs * mask, axis=1)
    return sums * mask, sums[:, -1]


def gru_step_variants(x: np.ndarray, h: np.ndarray, weights: dict) -> dict:
    """One GRU step in NumPy: the right one (Keras ``reset_after=True``) and two classic slips,
    ``{name: h'}``, so that a checker can say which formula a learner wrote."""
    W, U, b = weights["kernel"], weights["recurrent_kernel"], weights["bias"]
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    xz, xr, xh = np.split(x @ W + b[0], 3, axis=-1)
    hz, hr, hh = np.split(h @ U + b[1], 3, axis=-1)
    z, r = sig(xz + hz), sig(xr + hr)
    right = z * h + (1 - z) * np.tanh(xh + r * hh)
    swapped = (1 - z) * h + z * np.tanh(xh + r * hh)
    U_h = U[:, 2 * U.shape[0]:]
    reset_before = z * h + (1 - z) * np.tanh(xh + (r * h) @ U_h + b[1][2 * U.shape[0]:])
    return {"right": right, "swapped": swapped, "reset_before": reset_before}
