"""The flow of every exercise checker, written once: run the learner's code on small cases,
compare with ``course_lib``, print one verdict (NumPy in, NumPy out).

A checker (``course_lib.chapters.<chapter>``, bound to a backend) prints::

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


def run_check(name: str, body: Callable[[], str], hint: str = "") -> CheckResult:
    """Run ``body`` (which returns the success text or raises ``Mismatch``) and print the verdict.

    ``hint`` is the exercise's one-line hint, shown when the problem found has no more precise one.
    """
    try:
        text = body()
    except Mismatch as m:
        message = f"✗ {name} — {m.kind}: {m.problem}"
        hint = m.hint or hint
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
