"""AutoGraph converts the library's two loops, and nothing else of the library.

Under ``tf.function``, AutoGraph rewrites every Python function the traced code calls (its
source parsed, transformed and compiled again) unless the function's module is on its
do-not-convert list, as TensorFlow's and Keras' own modules are. Converting course_lib's helpers
(argument checks, ``nest``, ``setup_memory``, ``get_initial_state``, ``clone``, a decoder's
``step``...) bought nothing: none of them has Python control flow over tensor values. It cost
most of a decode's first call: about 135 functions converted, 3 of the 4 seconds of a Bahdanau
greedy decode's first ``tf.function`` call on 2 CPU cores (``bench``: first calls).

So course_lib's TensorFlow backend and its framework-free ``common`` are put on that list, as
Keras is, and the two loops that need AutoGraph, ``dynamic_decode``'s ``_decode_steps`` and
``dynamic_rnn``'s ``_step_loop``, are converted explicitly by ``graph_loop``. Code a learner
passes in (a decoder's ``step``, a cell's ``call``) is converted as before: the rule names our
modules only.

The list is TensorFlow's private ``autograph.core.config.CONVERSION_RULES`` (TensorFlow pins it
as public API nowhere); ``tests/test_decoder.py`` checks that a decode's trace converts only the
loop, so a TensorFlow upgrade that moves it fails there, loudly.
"""

from __future__ import annotations

import functools

import tensorflow as tf
from tensorflow.python.autograph.core import config as _autograph_config

#: the modules AutoGraph leaves as they are (prefixes, as TensorFlow's own rules)
LIBRARY_MODULES = ("course_lib.tf", "course_lib.common")


def _register() -> None:
    present = {getattr(rule, "_prefix", None) for rule in _autograph_config.CONVERSION_RULES}
    ours = tuple(_autograph_config.DoNotConvert(m) for m in LIBRARY_MODULES if m not in present)
    _autograph_config.CONVERSION_RULES = ours + tuple(_autograph_config.CONVERSION_RULES)


_register()


@functools.lru_cache(maxsize=None)
def graph_loop(fn):
    """``fn`` converted by AutoGraph once per process: its Python ``while``/``for`` over tensors
    become graph loops, and what it calls outside course_lib is converted as usual.

    Under ``tf.function`` AutoGraph converts what the traced function calls, but not what Keras
    calls (a layer's ``call`` inside ``model.fit``) nor course_lib (above), so the loops convert
    themselves.
    """
    return tf.autograph.to_graph(fn)
