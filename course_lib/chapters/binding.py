"""How a chapter's checkers, written once, are bound to a backend (framework-free).

A chapter's ``checkers`` module writes each checker as ``check_x(bk, answer)``: ``bk`` is a
``Backend``, the adapter (``course_lib.chapters._tf`` or ``_torch``: ``cl``, ``float32``, ``ids``,
``numpy``, ``no_grad``, ...) plus the chapter's own framework pieces (the layers it builds, the
words of its hints). The chapter's ``tf`` and ``torch`` modules build their ``Backend`` and
``bind`` the checkers to it, so that a notebook calls ``ex.check_x(answer)``::

    _BACKEND = Backend(_tf, where="tf.where", builtin_lstm=_builtin_lstm)
    check_unroll, check_masked_nll = bind(checkers, _BACKEND, __name__)
"""

from __future__ import annotations

import inspect
from types import ModuleType

import numpy as np


class Backend:
    """A backend as a chapter's checkers see it: the adapter's names, and ``pieces`` on top.

    Args:
        adapter: ``course_lib.chapters._tf`` or ``course_lib.chapters._torch``.
        **pieces: the chapter's framework-specific names (functions, classes, hint words).
    """

    def __init__(self, adapter: ModuleType, **pieces):
        self._adapter = adapter
        for name, value in pieces.items():
            setattr(self, name, value)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._adapter, name)

    def array(self, x) -> np.ndarray:
        """One tensor (or array) -> a NumPy array."""
        return np.asarray(self._adapter.numpy(x))

    def __repr__(self) -> str:
        return f"Backend({self._adapter.NAME})"


def bind(checkers: ModuleType, bk: Backend, module: str) -> tuple:
    """The functions ``checkers.CHECKERS`` with ``bk`` as their first argument, in that order.

    Each keeps its name, docstring and signature (less ``bk``) and says it lives in ``module``
    (the binding that a notebook imports).
    """
    return tuple(_bound(checker, bk, module) for checker in checkers.CHECKERS)


def _bound(checker, bk: Backend, module: str):
    def bound(*args, **kwargs):
        return checker(bk, *args, **kwargs)

    signature = inspect.signature(checker)
    bound.__name__ = bound.__qualname__ = checker.__name__
    bound.__doc__ = checker.__doc__
    bound.__module__ = module
    bound.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])
    return bound
