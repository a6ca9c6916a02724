"""What the tests of the chapters' checkers share: which solution solves which checker, loading
the solutions and a chapter's binding, and ``rejects`` (a checker turned an answer down, saying why)."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: chapter package -> (the stem of its notebooks and solutions, {checker: the solution's name})
CHAPTERS = {
    "ch01_dynamic_rnn": ("01_dynamic_rnn", {
        "check_unroll": "my_dynamic_rnn", "check_masked_nll": "masked_mean_nll",
        "check_builtin_lstm": "lstm_like_dynamic_rnn"}),
    "ch02_dynamic_decode": ("02_dynamic_decode", {
        "check_decode_loop": "my_greedy_decode", "check_temperature": "temperature_probs",
        "check_lengths_from_ids": "lengths_from_ids"}),
    "ch03_custom_wrapper": ("03_custom_wrapper", {
        "check_running_sum_cell": "RunningSumCell", "check_input_projection_wrapper": "InputProjectionWrapper",
        "check_gru_cell": "MyGRUCell"}),
    "ch04_custom_helper": ("04_custom_helper", {
        "check_feed_mask_sampler": "FeedMaskSampler", "check_frame_sampler": "make_frame_sampler",
        "check_top_k_sampler": "TopKSampler"}),
    "ch05_custom_decoder": ("05_custom_decoder", {
        "check_tile_batch": "my_tile_batch", "check_length_penalty": "gnmt_scores",
        "check_gather_tree": "my_gather_tree"}),
    "ch06_attention": ("06_attention", {
        "check_context": "context_vectors", "check_bahdanau_score": "normalized_bahdanau_score",
        "check_masked_softmax": "masked_softmax"}),
}

#: checker name -> its chapter package
CHAPTER_OF = {checker: package for package, (_, solved) in CHAPTERS.items() for checker in solved}

_loaded = {}


def solutions(backend_name: str, stem: str):
    """The solutions module ``notebooks/solutions/<backend>/<stem>.py``, loaded once."""
    key = (backend_name, stem)
    if key not in _loaded:
        path = ROOT / "notebooks" / "solutions" / backend_name / f"{stem}.py"
        spec = importlib.util.spec_from_file_location(f"solutions_{backend_name}_{stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[key] = module
    return _loaded[key]


def binding(bk, package: str):
    """``course_lib.chapters.<package>.<backend>``: the checkers a notebook of that backend imports as ``ex``."""
    return importlib.import_module(f"course_lib.chapters.{package}.{bk.name}")


def checker(bk, name: str):
    """The checker ``name`` of its chapter's binding for ``bk``."""
    return getattr(binding(bk, CHAPTER_OF[name]), name)


def solution(bk, name: str):
    """The worked solution that the checker ``name`` accepts."""
    stem, solved = CHAPTERS[CHAPTER_OF[name]]
    return getattr(solutions(bk.name, stem), solved[name])


def check(bk, name: str, answer):
    """Run the checker ``name`` of backend ``bk`` on ``answer``."""
    return checker(bk, name)(answer)


def rejects(result, kind, *words):
    """The result failed with ``kind`` and its message holds every word in ``words`` and a hint."""
    assert not result, f"accepted a wrong answer: {result.message}"
    assert result.kind == kind, result.message
    for word in words:
        assert word in result.message, f"{word!r} not in {result.message!r}"
    assert "hint:" in result.message, result.message


def method_name(bk):
    """The method a cell computes in: ``call`` (Keras) or ``forward`` (PyTorch)."""
    return "call" if bk.name == "tf" else "forward"
