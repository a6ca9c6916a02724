"""Decoders and the decode loop.

A decoder is three parts (tfa's split): the **cell** computes, the **sampler** picks the
token and says what goes in next, the optional **output layer** turns the cell output into
logits. ``dynamic_decode`` runs ``decoder.step`` until every row has finished::

    finished, inputs, state = decoder.initialize(...)
    while not all(finished):
        outputs, state, inputs, finished = decoder.step(time, inputs, state)

That is the loop below, in plain Python, the same as the PyTorch backend's: eagerly it runs as
written, under ``tf.function`` AutoGraph makes it one graph ``tf.while_loop``. Outputs are
collected in ``tf.TensorArray``s and stacked over time; ``final_sequence_lengths`` counts each
row's steps up to and including the one on which it finished. The interface's concepts are
documented once, in ``course_lib.common.interfaces``.
"""

from __future__ import annotations

import collections
import inspect
import sys
import warnings

import keras
import tensorflow as tf

from course_lib.common import nest
from course_lib.common.args import (
    MAXIMUM_ITERATIONS_CAP, accepted_kwargs, capped_message, check_callable, check_cell, check_maximum_iterations,
    check_sampler,
)
from course_lib.common.checks import check_state, describe
from course_lib.common.interfaces import DecoderInterface
from course_lib.tf import _fused
from course_lib.tf._autograph import graph_loop
from course_lib.tf.errors import _check_tflite_batch_size
from course_lib.tf.sampler import Sampler
from course_lib.tf.tensor_array import TensorArray  # noqa: F401  (part of this module's names)



class BasicDecoderOutput(collections.namedtuple("BasicDecoderOutput", ("rnn_output", "sample_id"))):
    """One step's (or, stacked, all steps') output: ``rnn_output [B, (T,) V]``, ``sample_id [B, (T)]``."""


class Decoder(DecoderInterface, keras.layers.Layer):
    """Interface of a decoder (``course_lib.common.interfaces``), and calling it runs ``dynamic_decode``.

    A subclass defines ``batch_size``, ``output_size``, ``output_dtype``, ``initialize`` and
    ``step``, optionally ``finalize`` and ``tracks_own_finished``. Keyword arguments of the
    constructor (``output_time_major``, ``impute_finished``, ``maximum_iterations``) are
    ``dynamic_decode``'s, as in tfa.

    Calling a decoder goes straight to ``call`` (no Keras input conversion), since its
    arguments may be embeddings, ids and states holding ``tf.TensorArray``s.
    """

    def __init__(self, output_time_major=False, impute_finished=False, maximum_iterations=None,
                 parallel_iterations=32, swap_memory=False, **kwargs):
        super().__init__(**kwargs)
        self.output_time_major = output_time_major
        self.impute_finished = impute_finished
        self.maximum_iterations = maximum_iterations
        self.parallel_iterations = parallel_iterations
        self.swap_memory = swap_memory

    def __call__(self, inputs, initial_state=None, training=None, **kwargs):
        self.built = True
        return self.call(inputs, initial_state=initial_state, training=training, **kwargs)

    def call(self, inputs, initial_state=None, training=None, **kwargs):
        """``decoder(inputs, initial_state=..., **kwargs)`` = ``dynamic_decode`` on this decoder.

        Returns ``(final_outputs, final_state, final_sequence_lengths)``.
        """
        return dynamic_decode(
            self, output_time_major=self.output_time_major, impute_finished=self.impute_finished,
            maximum_iterations=self.maximum_iterations, parallel_iterations=self.parallel_iterations,
            swap_memory=self.swap_memory, training=training,
            decoder_init_input=inputs, decoder_init_kwargs=dict(kwargs, initial_state=initial_state),
        )


BaseDecoder = Decoder


class BasicDecoder(Decoder):
    """Cell + sampler + optional output layer.

    Args:
      cell: an RNN cell.
      sampler: a ``Sampler`` (``TrainingSampler`` for teacher forcing, ``GreedyEmbeddingSampler``
        at inference, ...).
      output_layer: optional layer applied to the cell output (e.g. ``keras.layers.Dense(vocab)``).
      **kwargs: ``dynamic_decode`` options (``maximum_iterations``, ``impute_finished``, ...).

    Calling it: ``decoder(inputs, initial_state=..., sequence_length=...)`` under teacher
    forcing, ``decoder(embedding, start_tokens=..., end_token=..., initial_state=...)`` at
    inference; returns ``(BasicDecoderOutput, final_state, final_sequence_lengths)``. Teacher
    forcing with a stock cell takes a fused path instead of the step loop (the same numbers):
    ``cl.dynamic_decode(decoder, ...)`` always runs the loop. ``output_dtype.rnn_output`` is the
    dtype of the initial state's first float leaf (tfa's rule; ``float16`` under a
    ``mixed_float16`` policy); without ``initial_state`` the cell's zero state is used, for any
    cell (a Keras 3 cell takes no ``dtype`` and uses its compute dtype; under a mixed policy a
    course cell's zero state is float16 too, its compute dtype).
    """

    def __init__(self, cell, sampler, output_layer=None, **kwargs):
        super().__init__(**kwargs)
        check_cell(cell)
        check_sampler(sampler, Sampler)
        check_callable(output_layer, "output_layer", allow_none=True)
        self.cell = cell
        self.sampler = sampler
        self.output_layer = output_layer
        self._float_dtype = tf.float32

    @property
    def batch_size(self):
        return self.sampler.batch_size

    def _rnn_output_size(self):
        size = tf.TensorShape([self.cell.output_size])
        if self.output_layer is None:
            return size
        if getattr(self.output_layer, "units", None) is not None:
            return tf.TensorShape([self.output_layer.units])
        out = self.output_layer.compute_output_shape(tf.TensorShape([None]).concatenate(size))
        return tf.TensorShape(out)[1:]

    @property
    def output_size(self):
        return BasicDecoderOutput(rnn_output=self._rnn_output_size(), sample_id=self.sampler.sample_ids_shape)

    @property
    def output_dtype(self):
        return BasicDecoderOutput(rnn_output=self._float_dtype, sample_id=self.sampler.sample_ids_dtype)

    def initialize(self, inputs, initial_state=None, **kwargs):
        """Initialize the sampler with ``inputs`` and ``kwargs``; check ``initial_state``.

        Returns ``(finished [B], first_inputs [B, D], initial_state)``.
        """
        finished, first_inputs = self.sampler.initialize(inputs, **kwargs)
        B = self.sampler.batch_size
        inputs_dtype = first_inputs.dtype if first_inputs.dtype.is_floating else tf.float32
        if initial_state is None:
            initial_state = _zero_state(self.cell, B, inputs_dtype)
        else:
            initial_state = nest.like_state_size(self.cell.state_size, initial_state)
            check_state(self.cell.state_size, initial_state, B if isinstance(B, int) else None, "initial_state")
        self._float_dtype = _first_float_dtype(initial_state, inputs_dtype)
        return finished, first_inputs, initial_state

    def step(self, time, inputs, state, training=None):
        """One step: the cell computes, the output layer projects, the sampler picks.

        Args: time (scalar int32); inputs ``[B, D]``; state (the cell's). Returns
        ``(BasicDecoderOutput(rnn_output [B, V], sample_id [B]), next_state, next_inputs, finished [B])``.
        """
        cell_outputs, cell_state = _call_cell(self.cell, inputs, state, training)  # (B, H)
        cell_state = nest.like_state_size(state, cell_state)  # the loop's structure (Keras returns lists)
        if self.output_layer is not None:
            cell_outputs = self.output_layer(cell_outputs)  # (B, V)
        sample_ids = self.sampler.sample(time=time, outputs=cell_outputs, state=cell_state)
        finished, next_inputs, next_state = self.sampler.next_inputs(
            time=time, outputs=cell_outputs, state=cell_state, sample_ids=sample_ids)
        return BasicDecoderOutput(cell_outputs, sample_ids), next_state, next_inputs, finished

    def call(self, inputs, initial_state=None, training=None, **kwargs):
        """Teacher forcing with a stock cell runs fused (``_fused.teacher_forced``); anything else
        runs ``dynamic_decode``'s step loop. Returns ``(final_outputs, final_state, final_sequence_lengths)``."""
        if _fused.takes_teacher_forcing(self, inputs):
            finished, _, state = self.initialize(inputs, initial_state=initial_state, **kwargs)
            outputs, state, lengths = _fused.teacher_forced(
                self, state, self.impute_finished, _maximum_iterations(self.maximum_iterations))
            outputs = BasicDecoderOutput(*outputs)
            outputs, state = self.finalize(outputs, state, lengths)
            return (outputs if self.output_time_major else _batch_major(outputs)), state, lengths
        return super().call(inputs, initial_state=initial_state, training=training, **kwargs)


def _zero_state(cell, batch_size, dtype):
    """The zero state of any cell for ``batch_size`` rows: its ``get_initial_state`` with the
    arguments it takes (a Keras 3 cell takes no ``dtype``: its compute dtype), else zeros
    ``[batch_size, size]`` for every size of ``cell.state_size``. Under a mixed policy
    (``mixed_float16``) a Keras-layer cell's state is in its compute dtype, whatever ``dtype``
    says, as a Keras cell's own zero state is: its outputs are float16 too."""
    compute, variable = getattr(cell, "compute_dtype", None), getattr(cell, "variable_dtype", None)
    if compute is not None and variable is not None and compute != variable:
        dtype = tf.as_dtype(compute)
    if not hasattr(cell, "get_initial_state"):
        return tf.nest.map_structure(lambda size: tf.zeros([batch_size, size], dtype), cell.state_size)
    return cell.get_initial_state(**accepted_kwargs(cell.get_initial_state, batch_size=batch_size, dtype=dtype))


def _first_float_dtype(state, default):
    """The dtype of the first floating tensor of ``state`` (``default`` if it has none)."""
    for leaf in tf.nest.flatten(state):
        if isinstance(leaf, (tf.Tensor, tf.Variable)) and leaf.dtype.is_floating:
            return leaf.dtype
    return default


def _call_cell(cell, inputs, state, training):
    """``cell(inputs, state)``, with ``training=`` only when it is set and the cell takes it."""
    if training is None:
        return cell(inputs, state)
    try:
        params = inspect.signature(getattr(cell, "call", cell)).parameters
    except (TypeError, ValueError):
        params = {}
    if "training" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return cell(inputs, state, training=training)
    return cell(inputs, state)


def _maximum_iterations(maximum_iterations):
    """None, or the limit as an int32 scalar tensor (checked: a non-negative whole number)."""
    if maximum_iterations is None:
        return None
    if isinstance(maximum_iterations, (tf.Tensor, tf.Variable)):
        if maximum_iterations.shape.rank not in (None, 0):
            raise ValueError(f"`maximum_iterations` must be a scalar, got {describe(maximum_iterations)}")
        if not maximum_iterations.dtype.is_integer:
            raise TypeError(f"`maximum_iterations` must be an integer, got {describe(maximum_iterations)}")
        if tf.executing_eagerly():
            check_maximum_iterations(int(maximum_iterations))
        return tf.cast(maximum_iterations, tf.int32)
    return tf.constant(check_maximum_iterations(maximum_iterations), tf.int32)


def _expand_like(mask, x):
    """``mask [B]`` reshaped to broadcast against ``x [B, ...]``."""
    return tf.reshape(mask, tf.concat([tf.shape(mask), tf.ones([x.shape.rank - mask.shape.rank], tf.int32)], 0))


def _keep_finished(finished, new, old):
    """Rows that had finished keep ``old``; a history (``tf.TensorArray``) or a scalar passes through."""
    if isinstance(new, tf.TensorArray) or new.shape.rank == 0:
        return new
    return tf.where(_expand_like(finished, new), old, new)


def _zero_finished(finished, out):
    """Rows that had finished emit zeros."""
    return tf.where(_expand_like(finished, out), tf.zeros_like(out), out)


def _batch_major(outputs):
    """``[T, B, ...]`` leaves -> ``[B, T, ...]``."""
    def transpose(x):
        if isinstance(x, tf.TensorArray) or x.shape.rank is None or x.shape.rank < 2:
            return x
        return tf.transpose(x, [1, 0] + list(range(2, x.shape.rank)))
    return tf.nest.map_structure(transpose, outputs)


def _output_arrays(decoder):
    """One empty, growing ``tf.TensorArray`` per output leaf, ``[B, *output_size]`` each."""
    batch = decoder.batch_size
    batch_shape = tf.TensorShape([batch if isinstance(batch, int) else None])
    return tf.nest.map_structure(  # TensorShapes and dtypes are leaves
        lambda size, dtype: tf.TensorArray(dtype, size=0, dynamic_size=True,
                                           element_shape=batch_shape.concatenate(tf.TensorShape(size))),
        decoder.output_size, decoder.output_dtype)


def dynamic_decode(decoder, output_time_major=False, impute_finished=False, maximum_iterations=None,
                   parallel_iterations=32, swap_memory=False, training=None, scope=None,
                   enable_tflite_convertible=False, **kwargs):
    """Run ``decoder`` step by step until every row has finished.

    The loop below is plain Python. Eagerly it runs as written; under ``tf.function``,
    AutoGraph turns the ``while`` (its condition is a tensor) into one graph ``tf.while_loop``.

    Args:
      decoder: a ``Decoder``.
      output_time_major: return ``[T, B, ...]`` outputs instead of ``[B, T, ...]``.
      impute_finished: once a row has finished, its outputs are zero and its state is frozen
        (``tf.TensorArray`` leaves pass through).
      maximum_iterations: stop after this many steps. Without it the loop stops after
        ``MAXIMUM_ITERATIONS_CAP`` steps and warns, so an inference decode cannot hang.
      training: passed to ``decoder.step``.
      parallel_iterations, swap_memory: options of the graph loop.
      scope: accepted for tfa compatibility; unused.
      enable_tflite_convertible: as tfa, requires a batch size of 1 (an ``InvalidArgumentValueError``,
        a ``ValueError`` and a ``tf.errors.InvalidArgumentError``, at the call or when traced; an
        assertion when the batch size is only known at run time). The loop is the same.
      **kwargs: ``decoder_init_input`` and ``decoder_init_kwargs`` for ``decoder.initialize``,
        or keyword arguments for it.

    Returns:
      ``(final_outputs, final_state, final_sequence_lengths [B])``.
    """
    if not isinstance(decoder, Decoder):
        raise TypeError(f"`decoder` must be a Decoder, got {describe(decoder)}")
    limit = _maximum_iterations(maximum_iterations)
    if "decoder_init_input" in kwargs or "decoder_init_kwargs" in kwargs:
        init_input = kwargs.pop("decoder_init_input", None)
        init_kwargs = kwargs.pop("decoder_init_kwargs", None) or {}
        finished, inputs, state = decoder.initialize(init_input, **init_kwargs)
    else:
        finished, inputs, state = decoder.initialize(**kwargs)
    if enable_tflite_convertible:
        finished = _check_tflite_batch_size(decoder.batch_size, finished)

    cap = limit if limit is not None else tf.constant(MAXIMUM_ITERATIONS_CAP, tf.int32)
    run = _decode_steps if tf.executing_eagerly() else _graph_loop(_decode_steps)
    outputs_ta, state, finished, lengths = run(decoder, inputs, state, finished, cap, impute_finished, training,
                                               parallel_iterations, swap_memory)
    if limit is None:
        lengths = _warn_if_capped(finished, lengths)
    final_outputs = tf.nest.map_structure(lambda ta: ta.stack(), outputs_ta)  # (T, B, ...)
    final_outputs, state = decoder.finalize(final_outputs, state, lengths)
    if not output_time_major:
        final_outputs = _batch_major(final_outputs)
    return final_outputs, state, lengths


def _decode_steps(decoder, inputs, state, finished, cap, impute_finished=False, training=None,
                  parallel_iterations=32, swap_memory=False):
    """The decode loop: ``decoder.step`` until every row has finished or ``cap`` steps have run.

    Returns ``(outputs_ta, final_state, finished [B], lengths [B])``; ``outputs_ta`` holds one
    ``tf.TensorArray`` per output leaf, ``[B, ...]`` per step.
    """
    lengths = tf.zeros_like(finished, dtype=tf.int32)
    outputs_ta = _output_arrays(decoder)
    time = tf.constant(0, tf.int32)
    while tf.logical_and(tf.logical_not(tf.reduce_all(finished)), time < cap):
        tf.autograph.experimental.set_loop_options(parallel_iterations=parallel_iterations, swap_memory=swap_memory)
        outputs, next_state, next_inputs, step_finished = decoder.step(time, inputs, state, training)
        next_finished = step_finished if decoder.tracks_own_finished else tf.logical_or(step_finished, finished)
        next_lengths = tf.where(finished, lengths, time + 1)  # (B,): steps up to the finishing one
        if decoder.tracks_own_finished and hasattr(next_state, "lengths"):  # beams move between slots
            next_lengths = tf.cast(next_state.lengths, tf.int32)  # only the decoder knows each one's length
        if impute_finished:  # a row that had finished before this step emits zeros and keeps its state
            outputs = tf.nest.map_structure(lambda out: _zero_finished(finished, out), outputs)
            next_state = tf.nest.map_structure(lambda new, old: _keep_finished(finished, new, old), next_state, state)
        outputs_ta = tf.nest.map_structure(lambda ta, out: ta.write(time, out), outputs_ta, outputs)
        state, inputs, finished, lengths = next_state, next_inputs, next_finished, next_lengths
        time = time + 1
    return outputs_ta, state, finished, lengths


_graph_loop = graph_loop  # AutoGraph converts this loop (and dynamic_rnn's), not the rest of course_lib


def _warn_if_capped(finished, lengths):
    """Warn when rows are still unfinished after ``MAXIMUM_ITERATIONS_CAP`` steps (in a graph: a
    ``tf.print`` to stderr when it happens); returns ``lengths``."""
    capped = tf.logical_not(tf.reduce_all(finished))
    if tf.executing_eagerly():
        if bool(capped):
            unfinished = int(tf.reduce_sum(tf.cast(tf.logical_not(finished), tf.int32)))
            warnings.warn(capped_message(unfinished), RuntimeWarning, stacklevel=3)
        return lengths

    def warn():
        tf.print("WARNING:", capped_message(), output_stream=sys.stderr)
        return tf.constant(True)

    flag = tf.cond(capped, warn, lambda: tf.constant(False))
    with tf.control_dependencies([flag]):
        return tf.identity(lengths)
