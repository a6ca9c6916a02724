"""Chapter 5's checkers reject wrong answers with a message that names the slip (rows repeated out of
place, the length penalty's formula, paths that do not follow the parents) and a hint.

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


def test_tile_batch_that_forgets_lists(backend):
    right = solution(backend, "check_tile_batch")

    def wrong(t, multiplier):
        return right(t[0] if isinstance(t, list) else t, multiplier)

    rejects(check(backend, "check_tile_batch", wrong), "structure", "return a list of 2")


@pytest.mark.parametrize("slip,words", [
    (lambda lp, L, a: lp / L ** a, ["length ** alpha"]),
    (lambda lp, L, a: lp / ((5 + L) / 6), ["forgot the exponent"]),
    (lambda lp, L, a: lp * ((5 + L) / 6) ** a, ["multiplied by the penalty"]),
])
def test_length_penalty_slips(backend, slip, words):
    def wrong(log_probs, lengths, alpha):
        return slip(np.asarray(backend.np(log_probs), np.float64), np.asarray(backend.np(lengths), np.float64), alpha)

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


def test_gather_tree_with_the_parents_one_step_off(backend):
    def wrong(step_ids, parent_ids, end_token):  # uses the parents of step t + 1 at step t
        step_ids, parent_ids = backend.np(step_ids), backend.np(parent_ids)
        T, B, W = step_ids.shape
        out = np.empty_like(step_ids)
        beam = np.tile(np.arange(W), (B, 1))
        rows = np.arange(B)[:, None]
        for t in reversed(range(T)):
            beam = parent_ids[t][rows, beam] if t < T - 1 else beam
            out[t] = step_ids[t][rows, beam]
        return out

    rejects(check(backend, "check_gather_tree", wrong), "value", "`sequences` at step", "beam")


def test_gather_tree_reference_is_cl_gather_tree(backend):
    cl = backend.cl
    for step_ids, parent_ids, end in checkers.gather_tree_cases():
        T, B, _ = step_ids.shape
        got = cl.gather_tree(backend.int(step_ids), backend.int(parent_ids), backend.int(np.full(B, T)), end)
        np.testing.assert_array_equal(backend.np(got), checkers.gather_tree_reference(step_ids, parent_ids, end))
