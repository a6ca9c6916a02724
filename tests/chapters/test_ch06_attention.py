"""Chapter 6's checkers reject wrong answers with a message that names the slip (the context's sum,
the normalized Bahdanau score's parts, the masked softmax's padding and overflow) and a hint, and
accept the worked solutions; their references are what ``cl``'s attention mechanisms compute.

Wrong answers are the solutions with one thing broken (a subclass overriding one method, or a
function wrapped around the solution), so each test names exactly the slip it checks.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import numpy as np
import pytest

from course_lib.chapters.ch06_attention import checkers

from tests.chapters.helpers import check, rejects, solution


@pytest.mark.parametrize("slip,kind,words", [
    (lambda a, m: m.mean(axis=1), "value", ["ignored the alignments"]),
    (lambda a, m: a[..., None] * m, "shape", ["weighted *sum*"]),
    (lambda a, m: (a[..., None] * m).sum(-1), "shape", ["depth axis"]),
    (lambda a, m: (a[..., None] * m).sum(1) * 2, "value", ["`contexts` at example 0, depth 0"]),
    (lambda a, m: m.sum(axis=1), "value", ["without the alignments"]),
    (lambda a, m: a @ m, "shape", ["as matrices", "[N, N, D]"]),
    (lambda a, m: a[:, None, :] @ m, "shape", ["middle axis", "squeeze"]),
])
def test_context_slips(backend, slip, kind, words):
    def wrong(alignments, memory):
        return slip(backend.np(alignments).astype(np.float64), backend.np(memory).astype(np.float64))

    rejects(check(backend, "check_context", wrong), kind, *words)


def test_context_shapes_are_the_issues(backend):
    alignments, memory = checkers.context_arrays()
    assert alignments.shape[1:] == (20,) and memory.shape[1:] == (20, 30)


@pytest.mark.parametrize("flags,words", [
    (dict(normalize=False), ["weight normalisation"]),
    (dict(bias=False), ["the bias b"]),
    (dict(squash=False), ["the tanh"]),
    (dict(gain=False), ["the gain g"]),
    (dict(unit=False), ["did not divide it by its norm"]),
    (dict(bias_inside=False), ["after the tanh"]),
])
def test_bahdanau_score_slips(backend, flags, words):
    def wrong(*arrays):
        return checkers.bahdanau_reference(*[backend.np(a) for a in arrays], **flags)

    rejects(check(backend, "check_bahdanau_score", wrong), "value", *words)


def test_bahdanau_score_after_the_softmax(backend):
    def wrong(*arrays):
        score = checkers.bahdanau_reference(*[backend.np(a) for a in arrays])
        e = np.exp(score - score.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    rejects(check(backend, "check_bahdanau_score", wrong), "value", "softmax")


def test_bahdanau_reference_is_cl_normalized_bahdanau(backend):
    """The checker's reference is BahdanauAttention(normalize=True)'s score: with an identity
    memory layer, the keys are the memory, and softmax(reference) is cl's alignments."""
    cl = backend.cl
    query, keys, query_kernel, v, g, b = checkers.bahdanau_arrays()
    U = keys.shape[-1]
    weights = {"memory_layer/kernel": np.eye(U, dtype=np.float32), "query_layer/kernel": query_kernel,
               "attention_v": v, "attention_g": np.float32(g), "attention_b": b}
    if backend.name == "tf":
        mechanism = cl.BahdanauAttention(U, memory=backend.float(keys), normalize=True)
        mechanism(backend.float(query))
    else:
        mechanism = cl.BahdanauAttention(U, normalize=True, memory_size=U, query_size=query.shape[-1])
    cl.import_weights(mechanism, weights)
    mechanism.setup_memory(backend.float(keys))
    alignments, _ = mechanism(backend.float(query))
    score = checkers.bahdanau_reference(query, keys, query_kernel, v, g, b)
    e = np.exp(score - score.max(-1, keepdims=True))
    np.testing.assert_allclose(backend.np(alignments), e / e.sum(-1, keepdims=True), atol=1e-5)


def test_masked_softmax_over_every_position(backend):
    def wrong(scores, lengths):
        s = backend.np(scores).astype(np.float64)
        e = np.exp(s - s.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    rejects(check(backend, "check_masked_softmax", wrong), "value", "every position")


def test_masked_softmax_with_minus_infinity(backend):
    def wrong(scores, lengths):
        s, L = backend.np(scores).astype(np.float64), backend.np(lengths)
        mask = np.arange(s.shape[1])[None, :] < L[:, None]
        z = np.where(mask, s, -np.inf)
        with np.errstate(invalid="ignore"):
            e = np.exp(z - z.max(-1, keepdims=True))
            return e / e.sum(-1, keepdims=True)

    rejects(check(backend, "check_masked_softmax", wrong), "value", "NaN", "length 0")


def test_masked_softmax_with_a_uniform_empty_row(backend):
    def wrong(scores, lengths):
        s, L = backend.np(scores).astype(np.float64), backend.np(lengths)
        mask = np.arange(s.shape[1])[None, :] < L[:, None]
        z = np.where(mask, s, -1e9)
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)  # a length-0 row comes out uniform

    rejects(check(backend, "check_masked_softmax", wrong), "value", "row 3 has length 0")


def _mask(scores, lengths):
    return np.arange(scores.shape[1])[None, :] < lengths[:, None]


def test_masked_softmax_without_subtracting_the_row_maximum(backend):
    """The issue's answer, exp of the scores times the mask, normalised: right wherever the scores are
    small (rows 0-4, the checker's old case), NaN for the row of scores around 100."""
    fw = backend.fw

    def wrong(scores, lengths):
        if backend.name == "tf":
            mask = fw.sequence_mask(lengths, fw.shape(scores)[1], dtype=scores.dtype)
            e = fw.exp(scores) * mask
            return e / fw.maximum(fw.reduce_sum(e, -1, keepdims=True), 1e-30)  # a length-0 row: 0, not NaN
        mask = (fw.arange(scores.shape[1])[None, :] < lengths[:, None]).float()
        e = fw.exp(scores) * mask
        return e / e.sum(-1, keepdim=True).clamp_min(1e-30)

    scores, lengths = checkers.masked_softmax_arrays()
    small = backend.np(wrong(backend.float(scores[:5]), backend.int(lengths[:5])))
    np.testing.assert_allclose(small, checkers.masked_softmax_reference(scores[:5], lengths[:5]), atol=1e-5)
    assert scores[5].max() > checkers.OVERFLOW
    rejects(check(backend, "check_masked_softmax", wrong), "value", "row 5", "overflows float32",
            "subtract each row's largest score")


@pytest.mark.parametrize("slip,words", [
    (lambda s, m: checkers._softmax(s) * m, ["zeroed the padding after a softmax over every position"]),
    (lambda s, m: checkers._softmax(np.where(m, s, 0.0)), ["set the padded scores to 0"]),
    (lambda s, m: checkers._softmax(np.where(m, s, 0.0)) * m, ["set the padded scores to 0", "multiplied by the mask"]),
])
def test_masked_softmax_slips(backend, slip, words):
    def wrong(scores, lengths):
        s = backend.np(scores).astype(np.float64)
        return slip(s, _mask(s, backend.np(lengths)))

    rejects(check(backend, "check_masked_softmax", wrong), "value", *words)


def test_masked_softmax_with_the_mask_one_too_long(backend):
    def wrong(scores, lengths):
        s, L = backend.np(scores).astype(np.float64), backend.np(lengths)
        return checkers.masked_softmax_reference(s, np.minimum(L + 1, s.shape[1]))  # positions <= length

    rejects(check(backend, "check_masked_softmax", wrong), "value", "<=")


@pytest.mark.parametrize("checker", ["check_context", "check_bahdanau_score", "check_masked_softmax"])
def test_the_solutions_are_accepted(backend, checker):
    result = check(backend, checker, solution(backend, checker))
    assert result, result.message


def test_masked_softmax_reference_is_cl_masking(backend):
    """The checker's reference is what a mechanism does with memory_sequence_length (Luong, identity keys)."""
    cl = backend.cl
    scores, lengths = checkers.masked_softmax_arrays()
    B, S = scores.shape
    # Luong with keys = one-hot positions and a query equal to the scores gives score = the scores
    memory = np.tile(np.eye(S, dtype=np.float32), (B, 1, 1))
    if backend.name == "tf":
        mechanism = cl.LuongAttention(S, memory=backend.float(memory), memory_sequence_length=backend.int(lengths))
    else:
        mechanism = cl.LuongAttention(S, memory_size=S)
    cl.import_weights(mechanism, {"memory_layer/kernel": np.eye(S, dtype=np.float32)})
    mechanism.setup_memory(backend.float(memory), memory_sequence_length=backend.int(lengths))
    alignments, _ = mechanism(backend.float(scores))
    np.testing.assert_allclose(backend.np(alignments), checkers.masked_softmax_reference(scores, lengths), atol=1e-6)


def test_the_monotonic_scan_figure_shows_what_cl_computes(backend, monkeypatch):
    """figures/monotonic_scan.png draws section 5's example: its numbers are cl.monotonic_attention's
    (recursive and parallel) for the same stopping chances, which the notebook source also uses."""
    root = Path(__file__).resolve().parents[2]
    monkeypatch.syspath_prepend(str(root / "figures"))
    diagrams = importlib.import_module("diagrams_attention")
    p = np.array([diagrams.SCAN_P_CHOOSE], np.float32)
    previous = np.eye(p.shape[1], dtype=np.float32)[[diagrams.SCAN_PREVIOUS]]
    _, weights, off_end = diagrams.scan()
    for mode in ("recursive", "parallel"):
        got = backend.np(backend.cl.monotonic_attention(backend.float(p), backend.float(previous), mode))
        np.testing.assert_allclose(got[0], weights, atol=1e-6)
    assert np.isclose(weights.sum() + off_end, 1.0) and weights[:diagrams.SCAN_PREVIOUS].sum() == 0
    source = (root / "notebooks" / "src" / "06_attention.txt").read_text()
    chances = [ast.literal_eval(m) for m in re.findall(r"p_choose = \w+\.\w+\((\[\[[^\]]*\]\])\)", source)]
    assert len(chances) == 2 and all(c == [list(diagrams.SCAN_P_CHOOSE)] for c in chances), chances  # the tf and torch cells
    previous_rows = [ast.literal_eval(m) for m in re.findall(r"previous = \w+\.\w+\((\[\[[^\]]*\]\])\)", source)]
    assert len(previous_rows) == 2 and all(r[0].index(1.0) == diagrams.SCAN_PREVIOUS for r in previous_rows), previous_rows
