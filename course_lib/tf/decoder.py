"""Decoders and the decode loop.

A decoder is three parts (tfa's split): the **cell** computes, the **sampler** picks the
token and says what goes in next, the optional **output layer** turns the cell output into
logits. ``dynamic_decode`` runs ``decoder.step`` until every row has finished::

    finished, inputs, state = decoder.initialize(...)
    while not all(finished):
        outputs, state, inputs, finished = decoder.step(time, inputs, state)

Here that loop is a ``tf.while_loop``: eagerly it runs as Python, under ``tf.function`` it is
one graph loop. Outputs are collected in ``tf.TensorArray``s and stacked over time;
``final_sequence_lengths`` counts each row's steps up to and including the one on which it
finished.
"""

from __future__ import annotations

import collections
import inspect
import sys
import warnings

import keras
import tensorflow as tf

from course_lib.common import nest
from course_lib.common.checks import check_state, describe
from course_lib.tf import _fused
from course_lib.tf.sampler import Sampler, TrainingSampler

#: ``dynamic_decode`` without ``maximum_iterations`` stops after this many steps and warns,
#: so that an inference decode whose rows never emit the end token cannot hang.
MAXIMUM_ITERATIONS_CAP = 500

#: histories that grow per step live in TensorArrays (the PyTorch backend has a twin class)
TensorArray = tf.TensorArray


class BasicDecoderOutput(collections.namedtuple("BasicDecoderOutput", ("rnn_output", "sample_id"))):
    """One step's (or, stacked, all steps') output: ``rnn_output [B, (T,) V]``, ``sample_id [B, (T)]``."""


class Decoder(keras.layers.Layer):
    """Interface of a decoder, and calling it runs ``dynamic_decode``.

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

    @property
    def batch_size(self):
        raise NotImplementedError

    @property
    def output_size(self):
        """A structure of ``tf.TensorShape``s (without batch) like one step's outputs."""
        raise NotImplementedError

    @property
    def output_dtype(self):
        raise NotImplementedError

    @property
    def tracks_own_finished(self) -> bool:
        """True when ``step``'s finished flags are final (beam search); False lets
        ``dynamic_decode`` OR them with the previous ones."""
        return False

    def initialize(self, inputs, initial_state=None, **kwargs):
        """Returns ``(finished [B], initial_inputs, initial_state)``."""
        raise NotImplementedError

    def step(self, time, inputs, state, training=None):
        """Returns ``(outputs, next_state, next_inputs, finished)``."""
        raise NotImplementedError

    def finalize(self, outputs, final_state, sequence_lengths):
        """Post-process the stacked (time-major) outputs; the default returns them as they are."""
        return outputs, final_state

    def call(self, inputs, initial_state=None, training=None, **kwargs):
        """``decoder(inputs, initial_state=..., **kwargs)`` = ``dynamic_decode`` on this decoder.

        Returns ``(final_outputs, final_state, final_sequence_lengths)``.
        """
        init_kwargs = dict(kwargs, initial_state=initial_state)
        return dynamic_decode(
            self,
            output_time_major=self.output_time_major,
            impute_finished=self.impute_finished,
            maximum_iterations=self.maximum_iterations,
            parallel_iterations=self.parallel_iterations,
            swap_memory=self.swap_memory,
            training=training,
            decoder_init_input=inputs,
            decoder_init_kwargs=init_kwargs,
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
    inference; returns ``(BasicDecoderOutput, final_state, final_sequence_lengths)``.
    """

    def __init__(self, cell, sampler, output_layer=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(cell) or not hasattr(cell, "state_size"):
            raise TypeError(f"`cell` must be an RNN cell (callable with `state_size`), got {describe(cell)}")
        if not isinstance(sampler, Sampler):
            raise TypeError(f"`sampler` must be a Sampler, got {describe(sampler)}")
        if output_layer is not None and not callable(output_layer):
            raise TypeError(f"`output_layer` must be callable or None, got {describe(output_layer)}")
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
        self._float_dtype = first_inputs.dtype if first_inputs.dtype.is_floating else tf.float32
        if initial_state is None:
            initial_state = self.cell.get_initial_state(batch_size=B, dtype=self._float_dtype)
        else:
            initial_state = nest.like_state_size(self.cell.state_size, initial_state)
            check_state(self.cell.state_size, initial_state, B if isinstance(B, int) else None, "initial_state")
        return finished, first_inputs, initial_state

    def step(self, time, inputs, state, training=None):
        """One step: the cell computes, the output layer projects, the sampler picks.

        Args: time (scalar int32); inputs ``[B, D]``; state (the cell's). Returns
        ``(BasicDecoderOutput(rnn_output [B, V], sample_id [B]), next_state, next_inputs, finished [B])``.
        """
        cell_outputs, cell_state = _call_cell(self.cell, inputs, state, training)  # (B, H)
        cell_state = nest.like_state_size(state, cell_state)
        if self.output_layer is not None:
            cell_outputs = self.output_layer(cell_outputs)  # (B, V)
        sample_ids = self.sampler.sample(time=time, outputs=cell_outputs, state=cell_state)
        finished, next_inputs, next_state = self.sampler.next_inputs(
            time=time, outputs=cell_outputs, state=cell_state, sample_ids=sample_ids
        )
        return BasicDecoderOutput(cell_outputs, sample_ids), next_state, next_inputs, finished

    def _unrolled_decode(self, initial_state, impute_finished, maximum_iterations):
        """Teacher forcing with a stock cell: every step's input projection in one product
        before the loop. Gives what the step loop gives (tested); None when it does not apply.
        """
        if type(self.sampler) is not TrainingSampler:
            return None
        inputs = self.sampler.inputs  # (T, B, D)
        _fused.build_stock(self.cell, inputs.shape[-1])
        if not _fused.supports(self.cell):
            return None
        lengths = self.sampler.sequence_length
        steps = tf.reduce_max(tf.concat([lengths, [0]], axis=0))
        if maximum_iterations is not None:
            steps = tf.minimum(steps, maximum_iterations)
            lengths = tf.minimum(lengths, steps)
        inputs = inputs[:steps]
        outputs, state = _fused.unroll(self.cell, inputs, lengths if impute_finished else None, initial_state)
        if self.output_layer is not None:
            outputs = self.output_layer(outputs)  # (T, B, V)
        sample_ids = tf.argmax(outputs, axis=-1, output_type=tf.int32)  # (T, B)
        if impute_finished:
            valid = tf.range(steps)[:, None] < lengths[None, :]  # (T, B)
            outputs = tf.where(valid[..., None], outputs, tf.zeros_like(outputs))
            sample_ids = tf.where(valid, sample_ids, tf.zeros_like(sample_ids))
        return BasicDecoderOutput(outputs, sample_ids), state, lengths


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


def _check_maximum_iterations(maximum_iterations):
    if maximum_iterations is None:
        return None
    if isinstance(maximum_iterations, (tf.Tensor, tf.Variable)):
        if maximum_iterations.shape.rank not in (None, 0):
            raise ValueError(f"`maximum_iterations` must be a scalar, got {describe(maximum_iterations)}")
        if not maximum_iterations.dtype.is_integer:
            raise TypeError(f"`maximum_iterations` must be an integer, got {describe(maximum_iterations)}")
        return tf.cast(maximum_iterations, tf.int32)
    if isinstance(maximum_iterations, bool) or not float(maximum_iterations).is_integer():
        raise TypeError(f"`maximum_iterations` must be an integer, got {maximum_iterations!r}")
    if maximum_iterations < 0:
        raise ValueError(f"`maximum_iterations` must be >= 0, got {maximum_iterations}")
    return tf.constant(int(maximum_iterations), tf.int32)


def _expand_like(mask, x):
    return tf.reshape(mask, tf.concat([tf.shape(mask), tf.ones([x.shape.rank - mask.shape.rank], tf.int32)], 0))


def _impute_state(finished, new, cur):
    if isinstance(new, tf.TensorArray) or new.shape.rank == 0:
        return new
    return tf.where(_expand_like(finished, new), cur, new)


def _transpose_batch_time(x):
    if isinstance(x, tf.TensorArray) or x.shape.rank is None or x.shape.rank < 2:
        return x
    return tf.transpose(x, [1, 0] + list(range(2, x.shape.rank)))


def dynamic_decode(decoder, output_time_major=False, impute_finished=False, maximum_iterations=None,
                   parallel_iterations=32, swap_memory=False, training=None, scope=None,
                   enable_tflite_convertible=False, **kwargs):
    """Run ``decoder`` step by step until every row has finished.

    Args:
      decoder: a ``Decoder``.
      output_time_major: return ``[T, B, ...]`` outputs instead of ``[B, T, ...]``.
      impute_finished: once a row has finished, its outputs are zero and its state is frozen
        (``tf.TensorArray`` leaves pass through).
      maximum_iterations: stop after this many steps. Without it the loop stops after
        ``MAXIMUM_ITERATIONS_CAP`` steps and warns, so an inference decode cannot hang.
      training: passed to ``decoder.step``.
      parallel_iterations, swap_memory: passed to ``tf.while_loop``.
      scope, enable_tflite_convertible: accepted for tfa compatibility; unused.
      **kwargs: ``decoder_init_input`` and ``decoder_init_kwargs`` for ``decoder.initialize``,
        or keyword arguments for it.

    Returns:
      ``(final_outputs, final_state, final_sequence_lengths [B])``.
    """
    if not isinstance(decoder, Decoder):
        raise TypeError(f"`decoder` must be a Decoder, got {describe(decoder)}")
    limit = _check_maximum_iterations(maximum_iterations)
    if "decoder_init_input" in kwargs or "decoder_init_kwargs" in kwargs:
        init_input = kwargs.pop("decoder_init_input", None)
        init_kwargs = kwargs.pop("decoder_init_kwargs", None) or {}
        finished, inputs, state = decoder.initialize(init_input, **init_kwargs)
    else:
        finished, inputs, state = decoder.initialize(**kwargs)

    fast = getattr(decoder, "_unrolled_decode", None)
    result = fast(state, impute_finished, limit) if fast is not None else None
    if result is not None:
        outputs, state, lengths = result
        outputs, state = decoder.finalize(outputs, state, lengths)
        if not output_time_major:
            outputs = tf.nest.map_structure(_transpose_batch_time, outputs)
        return outputs, state, lengths

    if limit is not None:
        finished = tf.logical_or(finished, limit <= 0)
    cap = limit if limit is not None else tf.constant(MAXIMUM_ITERATIONS_CAP, tf.int32)
    lengths = tf.zeros_like(finished, dtype=tf.int32)
    batch = decoder.batch_size
    batch_static = tf.TensorShape([batch if isinstance(batch, int) else None])
    outputs_ta = tf.nest.map_structure(  # TensorShapes and dtypes are leaves
        lambda size, dtype: tf.TensorArray(
            dtype, size=0, dynamic_size=True, element_shape=batch_static.concatenate(tf.TensorShape(size))
        ),
        decoder.output_size, decoder.output_dtype,
    )

    def condition(time, outputs_ta, state, inputs, finished, lengths):
        return tf.logical_and(tf.logical_not(tf.reduce_all(finished)), time < cap)

    def body(time, outputs_ta, state, inputs, finished, lengths):
        outputs, next_state, next_inputs, step_finished = decoder.step(time, inputs, state, training)
        next_finished = step_finished if decoder.tracks_own_finished else tf.logical_or(step_finished, finished)
        next_lengths = tf.where(tf.logical_not(finished), tf.fill(tf.shape(finished), time + 1), lengths)
        if decoder.tracks_own_finished and getattr(next_state, "lengths", None) is not None:
            next_lengths = tf.cast(next_state.lengths, tf.int32)  # beams move between slots: the decoder counts
        if limit is not None:
            next_finished = tf.logical_or(next_finished, time + 1 >= limit)
        if impute_finished:
            # a row that had finished before this step emits zeros and keeps its state
            outputs = tf.nest.map_structure(
                lambda out: tf.where(_expand_like(finished, out), tf.zeros_like(out), out), outputs
            )
            next_state = tf.nest.map_structure(lambda new, cur: _impute_state(finished, new, cur), next_state, state)
        outputs_ta = tf.nest.map_structure(lambda ta, out: ta.write(time, out), outputs_ta, outputs)
        return time + 1, outputs_ta, next_state, next_inputs, next_finished, next_lengths

    loop_vars = (tf.constant(0, tf.int32), outputs_ta, state, inputs, finished, lengths)
    _, outputs_ta, state, _, finished, lengths = tf.while_loop(
        condition, body, loop_vars, parallel_iterations=parallel_iterations, swap_memory=swap_memory
    )
    if limit is None:
        lengths = _warn_if_capped(finished, lengths)
    final_outputs = tf.nest.map_structure(lambda ta: ta.stack(), outputs_ta)  # (T, B, ...)
    final_outputs, state = decoder.finalize(final_outputs, state, lengths)
    if not output_time_major:
        final_outputs = tf.nest.map_structure(_transpose_batch_time, final_outputs)
    return final_outputs, state, lengths


def _warn_if_capped(finished, lengths):
    message = (
        f"dynamic_decode stopped after MAXIMUM_ITERATIONS_CAP = {MAXIMUM_ITERATIONS_CAP} steps with rows "
        "unfinished; pass `maximum_iterations` to choose the limit"
    )
    capped = tf.logical_not(tf.reduce_all(finished))
    if tf.executing_eagerly():
        if bool(capped):
            unfinished = int(tf.reduce_sum(tf.cast(tf.logical_not(finished), tf.int32)))
            message = message.replace("with rows unfinished", f"with {unfinished} rows unfinished")
            warnings.warn(message, RuntimeWarning, stacklevel=3)
        return lengths

    def warn():
        tf.print("WARNING:", message, output_stream=sys.stderr)
        return tf.constant(True)

    flag = tf.cond(capped, warn, lambda: tf.constant(False))
    with tf.control_dependencies([flag]):
        return tf.identity(lengths)
