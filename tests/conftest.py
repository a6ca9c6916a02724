"""Fixtures shared by the tests: the two backends behind one small adapter.

``backend`` is parametrised over the backends to test; ``B`` gives tensors, NumPy
conversion and the backend module ``cl`` for it, so one test body checks both.

Two environment variables point a run elsewhere (CI sets neither: both backends, on the CPU):

* ``COURSE_BACKENDS=torch`` (default ``tf,torch``): test only the listed backends. What needs a
  backend left out (the ``tf_backend`` fixture, parity tests, a test that imports TensorFlow) is
  skipped with the variable as its reason, so the torch tests run where TensorFlow is missing.
* ``COURSE_DEVICE=cuda`` (or ``cuda:0``, ``cpu``; default unset: the CPU, as always): PyTorch's
  default device for the whole run (``torch.set_default_device``), so the tests' tensors and
  modules live there. A device that is not there skips every PyTorch test, saying so.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

from tests import section_reruns, selection
from tests.selection import BACKENDS, DEVICE  # noqa: F401 (BACKENDS: test modules parametrise over it)


def pytest_configure(config):
    config.addinivalue_line("markers", "backends(*names): the test needs these backends (in a subprocess, say); "
                                       "skipped when COURSE_BACKENDS leaves one out")
    selection.configure()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    section_reruns.schedule(items, BACKENDS)  # chapter notebooks' section re-runs on nbval's kernel


def pytest_report_header(config):
    return selection.header()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    selection.skip_unless_backends(item)
    try:
        return (yield)
    except ImportError as exc:  # a fixture imported a left-out backend
        selection.skip_if_left_out(exc)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    try:
        return (yield)
    except ImportError as exc:  # the test imported a left-out backend
        selection.skip_if_left_out(exc)
        raise


class Backend:
    """A thin adapter: ``name``, ``cl`` (the course_lib backend), tensor helpers."""

    def __init__(self, name: str):
        if name in selection.LEFT_OUT:
            pytest.skip(selection.LEFT_OUT[name])
        self.name = name
        if name == "tf":
            import keras
            import tensorflow as tf
            from course_lib import tf as cl

            self.fw, self.keras = tf, keras
        else:
            import torch
            from course_lib import torch as cl

            self.fw = torch
        self.cl = cl

    # -- tensors -------------------------------------------------------------------
    def float(self, x):
        x = np.asarray(x, dtype=np.float32)
        return self.fw.constant(x) if self.name == "tf" else self.fw.tensor(x, device=DEVICE)

    def int(self, x):
        x = np.asarray(x)
        if self.name == "tf":
            return self.fw.constant(x.astype(np.int32))
        return self.fw.tensor(x.astype(np.int64), device=DEVICE)

    def np(self, x):
        return self.cl.to_numpy(x)

    # -- layers --------------------------------------------------------------------
    def dense(self, in_features: int, units: int, use_bias: bool = True):
        """A dense layer built for ``in_features`` (Keras Dense / torch Linear)."""
        if self.name == "tf":
            layer = self.keras.layers.Dense(units, use_bias=use_bias)
            layer.build((None, in_features))
            return layer
        return self.fw.nn.Linear(in_features, units, bias=use_bias)

    def __repr__(self):
        return self.name


@pytest.fixture(params=BACKENDS)
def backend(request) -> Backend:
    return Backend(request.param)


@pytest.fixture
def tf_backend() -> Backend:
    return Backend("tf")


@pytest.fixture
def torch_backend() -> Backend:
    return Backend("torch")


def random_weights(template: dict, seed: int = 0, scale: float = 0.5) -> dict:
    """A weights dict with the keys and shapes of ``template`` and seeded random values."""
    rng = np.random.default_rng(seed)
    return {k: (rng.standard_normal(np.shape(v)) * scale).astype(np.float32) for k, v in sorted(template.items())}


def assert_close(a, b, atol=1e-5, what=""):
    """Leaf-wise ``allclose`` over nested structures (NumPy-converted)."""
    from course_lib.common import nest

    la, lb = nest.flatten(a), nest.flatten(b)
    assert len(la) == len(lb), f"{what}: {len(la)} leaves vs {len(lb)}"
    for i, (x, y) in enumerate(zip(la, lb)):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, f"{what} leaf {i}: shape {x.shape} vs {y.shape}"
        np.testing.assert_allclose(x, y, atol=atol, rtol=0, err_msg=f"{what} leaf {i}")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models: one CPU thread is faster than two, and much faster on a busy machine
    (``pytestmark = pytest.mark.usefixtures("one_torch_thread")`` in a module)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
