"""Chapter 5's checkers reject wrong answers with a message that names the slip (rows repeated out of
place or along another axis, the length penalty's formula, paths that do not follow the parents or
are padded in the wrong order) and a hint, and accept the worked solutions.

Wrong answers are the solutions with one thing broken (a subclass overriding one method, or a
function wrapped around the solution), so each test names exactly the slip it checks.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.chapters.ch05_custom_decoder import checkers

from tests.chapters.helpers import check, rejects, solution


def test_tile_batch_that_repeats_the_whole_batch(backend):
    fw = backend.fw

    def wrong(t, multiplier):
        if isinstance(t, (list, tuple)):
            return [wrong(x, multiplier) for x in t]
        return fw.concat([t] * multiplier, axis=0) if backend.name == "tf" else fw.cat([t] * multiplier, dim=0)

    rejects(check(backend, "check_tile_batch", wrong), "value", "whole batch", "a, a, b, b")


def test_tile_batch_that_adds_an_axis(backend):
    fw = backend.fw

    def wrong(t, multiplier):
        if isinstance(t, (list, tuple)):
            return [wrong(x, multiplier) for x in t]
        return fw.stack([t] * multiplier, axis=1) if backend.name == "tf" else fw.stack([t] * multiplier, dim=1)

    rejects(check(backend, "check_tile_batch", wrong), "value", "added an axis")


@pytest.mark.parametrize("axis,words", [(None, ["without an axis", "flattens"]), (1, ["along axis 1", "axis 0"]),
                                        (-1, ["along axis 1", "axis 0"])])
def test_tile_batch_that_repeats_along_another_axis(backend, axis, words):
    fw = backend.fw

    def wrong(t, multiplier):
        if isinstance(t, (list, tuple)):
            return [wrong(x, multiplier) for x in t]
        if backend.name == "tf":
            return fw.repeat(t, multiplier) if axis is None else fw.repeat(t, multiplier, axis=axis)
        return fw.repeat_interleave(t, multiplier) if axis is None else fw.repeat_interleave(t, multiplier, dim=axis)

    rejects(check(backend, "check_tile_batch", wrong), "value", *words)


def test_tile_batch_that_forgets_lists(backend):
    right = solution(backend, "check_tile_batch")

    def wrong(t, multiplier):
        return right(t[0] if isinstance(t, list) else t, multiplier)

    rejects(check(backend, "check_tile_batch", wrong), "structure", "return a list of 2")


@pytest.mark.parametrize("slip,words", [
    (lambda lp, L, a: lp / L ** a, ["length ** alpha"]),
    (lambda lp, L, a: lp / ((5 + L) / 6), ["forgot the exponent"]),
    (lambda lp, L, a: lp * ((5 + L) / 6) ** a, ["multiplied by the penalty"]),
    (lambda lp, L, a: lp / ((5 + L) / 6 * a), ["multiplied (5 + length) / 6 by alpha"]),
    (lambda lp, L, a: lp / ((5 + L) ** a / 6), ["raised only (5 + length)"]),
    (lambda lp, L, a: lp - ((5 + L) / 6) ** a, ["subtracted the penalty"]),
    (lambda lp, L, a: ((5 + L) / 6) ** a, ["returned the penalty itself"]),
    (lambda lp, L, a: lp, ["returned the log-probabilities unchanged"]),
])
def test_length_penalty_slips(backend, slip, words):
    def wrong(log_probs, lengths, alpha):
        with np.errstate(divide="ignore"):
            return slip(np.asarray(backend.np(log_probs), np.float64), np.asarray(backend.np(lengths), np.float64),
                        alpha)

    rejects(check(backend, "check_length_penalty", wrong), "value", "hypothesis", *words)


def test_gather_tree_that_returns_the_step_ids(backend):
    rejects(check(backend, "check_gather_tree", lambda step_ids, parent_ids, end: step_ids), "value",
            "step_ids as they are")


def test_gather_tree_without_end_token_padding(backend):
    def wrong(step_ids, parent_ids, end_token):
        step_ids, parent_ids = backend.np(step_ids), backend.np(parent_ids)
        T, B, W = step_ids.shape
        out = np.empty_like(step_ids)
        beam = np.tile(np.arange(W), (B, 1))
        for t in reversed(range(T)):
            out[t] = step_ids[t][np.arange(B)[:, None], beam]
            beam = parent_ids[t][np.arange(B)[:, None], beam]
        return out

    rejects(check(backend, "check_gather_tree", wrong), "value", "after a sequence's first end token")


def _traced(step_ids, parent_ids, early=False, parent_slot=False):
    """The paths traced back from the last step (no padding), or one of two one-step-off slips."""
    T, B, W = step_ids.shape
    out = np.empty_like(step_ids)
    beam = np.tile(np.arange(W), (B, 1))
    rows = np.arange(B)[:, None]
    for t in reversed(range(T)):
        if early:  # uses the parents of step t + 1 at step t
            beam = parent_ids[t][rows, beam] if t < T - 1 else beam
            out[t] = step_ids[t][rows, beam]
        else:  # parent_slot: reads the token in the slot of the parent pointer
            out[t] = step_ids[t][rows, parent_ids[t][rows, beam] if parent_slot else beam]
            beam = parent_ids[t][rows, beam]
    return out


def _padded(ids, end_token):
    ended = np.cumsum(ids == end_token, axis=0) - (ids == end_token) > 0
    return np.where(ended, end_token, ids)


@pytest.mark.parametrize("early,parent_slot,pad", [(True, False, False), (True, False, True), (False, True, True)])
def test_gather_tree_with_the_parents_one_step_off(backend, early, parent_slot, pad):
    def wrong(step_ids, parent_ids, end_token):
        out = _traced(backend.np(step_ids), backend.np(parent_ids), early=early, parent_slot=parent_slot)
        return _padded(out, end_token) if pad else out

    rejects(check(backend, "check_gather_tree", wrong), "value", "one step off", "parent_ids[t, b, beam]")


def test_gather_tree_padded_before_following_the_parents(backend):
    def wrong(step_ids, parent_ids, end_token):
        return _traced(_padded(backend.np(step_ids), end_token), backend.np(parent_ids))

    rejects(check(backend, "check_gather_tree", wrong), "value", "slot by slot before following the parents")


def test_gather_tree_padded_without_following_the_parents(backend):
    def wrong(step_ids, parent_ids, end_token):
        return _padded(backend.np(step_ids), end_token)

    rejects(check(backend, "check_gather_tree", wrong), "value", "did not follow the parents")


def test_gather_tree_batch_major(backend):
    def wrong(step_ids, parent_ids, end_token):
        return np.transpose(solution(backend, "check_gather_tree")(step_ids, parent_ids, end_token), (1, 0, 2))

    rejects(check(backend, "check_gather_tree", wrong), "shape", "the shape of step_ids: [T, B, W]")


@pytest.mark.parametrize("checker", ["check_tile_batch", "check_length_penalty", "check_gather_tree"])
def test_the_solutions_are_accepted(backend, checker):
    result = check(backend, checker, solution(backend, checker))
    assert result, result.message


def test_the_slips_differ_from_the_right_answer_on_the_cases():
    """Each named slip of the length penalty gives other scores than GNMT's on some case (else it could
    never be told apart), and no two slips give the same scores on every case (else the message could name
    the wrong one)."""
    slips = [checkers.penalty_slips(*case) for case in checkers.PENALTY_CASES]
    right = [lp / checkers.length_penalty(L, a) for lp, L, a in checkers.PENALTY_CASES]
    for name in slips[0]:
        assert any(not np.allclose(s[name], r) for s, r in zip(slips, right)), name
    for a in slips[0]:
        for b in slips[0]:
            if a < b:
                assert any(not np.allclose(s[a], s[b]) for s in slips), (a, b)


def test_gather_tree_reference_is_cl_gather_tree(backend):
    cl = backend.cl
    for step_ids, parent_ids, end in checkers.gather_tree_cases():
        T, B, _ = step_ids.shape
        got = cl.gather_tree(backend.int(step_ids), backend.int(parent_ids), backend.int(np.full(B, T)), end)
        np.testing.assert_array_equal(backend.np(got), checkers.gather_tree_reference(step_ids, parent_ids, end))
