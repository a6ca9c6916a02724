"""Every exercise checker of the chapters' packages: both bindings export the same checkers, the
worked solutions pass, a stub is "not implemented yet" and a crash is a message, not a traceback;
each binding imports only its own framework, and the modules written once import none."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys

import pytest

from tests.chapters.helpers import CHAPTER_OF, CHAPTERS, ROOT, binding, check, rejects, solution


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("package", sorted(CHAPTERS))
def test_both_backends_define_the_same_checkers(tf_backend, torch_backend, package):
    tf_ex, torch_ex = binding(tf_backend, package), binding(torch_backend, package)
    assert tf_ex.__all__ == torch_ex.__all__
    assert tf_ex.__all__[0] == "CheckResult" and tf_ex.CheckResult is torch_ex.CheckResult
    assert set(CHAPTERS[package][1]) == {n for n in tf_ex.__all__ if n.startswith("check_")}
    for name in tf_ex.__all__:
        assert callable(getattr(tf_ex, name)) and callable(getattr(torch_ex, name))
    for name in tf_ex.__all__[1:]:
        tf_check, torch_check = getattr(tf_ex, name), getattr(torch_ex, name)
        assert tf_check.__name__ == torch_check.__name__ == name
        assert (tf_check.__module__, torch_check.__module__) == (tf_ex.__name__, torch_ex.__name__)
        assert str(inspect.signature(tf_check)) == str(inspect.signature(torch_check))
        assert len(inspect.signature(tf_check).parameters) == 1, "a checker takes the learner's answer only"
        assert tf_check.__doc__ == torch_check.__doc__ and tf_check.__doc__.startswith("Exercise: ")


@pytest.mark.parametrize("package", sorted(CHAPTERS))
def test_the_bound_checkers_are_the_chapters_checkers_in_order(package):
    checkers = importlib.import_module(f"course_lib.chapters.{package}.checkers")
    names = [c.__name__ for c in checkers.CHECKERS]
    assert set(names) == set(CHAPTERS[package][1]) and len(names) == len(set(names))
    assert set(checkers.HINTS) == set(names), "each checker has its one-line hint"


@pytest.mark.parametrize("checker", sorted(CHAPTER_OF))
def test_solutions_pass(backend, checker, capsys):
    result = check(backend, checker, solution(backend, checker))
    assert result, result.message
    assert capsys.readouterr().out.startswith(f"✓ {checker}:")


@pytest.mark.parametrize("checker", sorted(CHAPTER_OF))
def test_a_stub_is_reported_as_not_done(backend, checker, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    result = check(backend, checker, stub)
    rejects(result, "not implemented yet", "NotImplementedError")
    out = capsys.readouterr().out
    assert out.startswith(f"✗ {checker}") and "Traceback" not in out


@pytest.mark.parametrize("checker", sorted(CHAPTER_OF))
def test_a_stub_is_not_implemented_yet_and_a_crash_is_a_message(backend, checker):
    def stub(*args, **kwargs):
        raise NotImplementedError

    result = check(backend, checker, stub)
    assert not result and result.kind == "not implemented yet", result.message
    assert "hint:" in result.message

    def crash(*args, **kwargs):
        raise KeyError("oops")

    result = check(backend, checker, crash)
    assert not result and result.kind == "error", result.message
    assert "KeyError" in result.message and "line" in result.message


@pytest.mark.parametrize("fw,other", [("tf", "torch"), ("torch", "tensorflow")])
def test_a_binding_imports_only_its_framework(fw, other):
    imports = "; ".join(f"import course_lib.chapters.{package}.{fw}" for package in sorted(CHAPTERS))
    assert _run(f"import sys; {imports}; print({other!r} in sys.modules)") == "False"


def test_a_tensorflow_binding_imported_first_prints_nothing():
    """A binding loads TensorFlow through course_lib.tf, which quiets its start-up logging."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a notebook kernel starts
    for package in sorted(CHAPTERS):
        done = subprocess.run([sys.executable, "-c", f"import course_lib.chapters.{package}.tf"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0 and done.stdout + done.stderr == "", (package, done.stderr)


def test_what_is_written_once_imports_no_framework():
    modules = ["course_lib.chapters.binding", "course_lib.chapters.rnn_cases",
               "course_lib.chapters.ch04_custom_helper.cases"]
    modules += [f"course_lib.chapters.{package}.checkers" for package in sorted(CHAPTERS)]
    imports = "; ".join(f"import {m}" for m in modules)
    assert _run(f"import sys; {imports}; "
                "print(sorted(m for m in ('tensorflow', 'torch', 'keras') if m in sys.modules))") == "[]"
