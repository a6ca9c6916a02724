"""For the CPU dry run of bench/gpu/run.sh: TensorFlow and Keras look not installed, as on the GPU
machine, in every Python process that has this folder on PYTHONPATH (subprocesses and notebook
kernels too): ``import tensorflow`` raises ModuleNotFoundError and ``importlib.util.find_spec``
gives None. Not used on the GPU machine, which has no TensorFlow to hide."""

import importlib.abc
import sys

_HIDDEN = ("tensorflow", "keras", "tf_keras")


class _Hiding(importlib.abc.MetaPathFinder):
    """A finder of sys.meta_path that finds nothing of the hidden packages."""

    def __init__(self, finder):
        self._finder = finder

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in _HIDDEN or not hasattr(self._finder, "find_spec"):
            return None
        return self._finder.find_spec(fullname, path, target)

    def __getattr__(self, name):  # invalidate_caches, find_distributions, ...
        return getattr(self._finder, name)


sys.meta_path[:] = [_Hiding(finder) for finder in sys.meta_path]
