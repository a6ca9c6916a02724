"""`AttentionWrapper`: a cell that attends over a memory at every step (TensorFlow / Keras 3).

One step, as `tensorflow_addons.seq2seq.AttentionWrapper` 0.23::

    cell_inputs = cell_input_fn(inputs, state.attention)         # default concat -> [B, D_in + A]
    cell_output, cell_state = cell(cell_inputs, state.cell_state)
    alignments, attention_state = mechanism(cell_output, state.attention_state)   # [B, T]
    context = alignments @ mechanism.values                        # [B, D]
    attention = attention_layer(concat([cell_output, context]))    # [B, A] (or context)
    output = attention if output_attention else cell_output

Imported from `course_lib.tf.attention`, where it belongs to the public names.
"""

from __future__ import annotations

import collections

import keras
import tensorflow as tf

from course_lib.common import nest
from course_lib.common.attention import WrapperSizes, as_wrapper_state
from course_lib.common.checks import describe
from course_lib.tf.attention.base import AttentionMechanism
from course_lib.tf.attention.keras_support import WrapperKeras


class AttentionWrapperState(collections.namedtuple(
        "AttentionWrapperState",
        ("cell_state", "attention", "alignments", "alignment_history", "attention_state"))):
    """State of an `AttentionWrapper`.

    Fields (one entry per mechanism, as a tuple, when the wrapper has several):
      cell_state: the wrapped cell's state.
      attention: `[B, A]` attention emitted at the previous step.
      alignments: `[B, T]` alignments of the previous step.
      alignment_history: a time-major `tf.TensorArray` of `[B, T]` alignments when
        `alignment_history=True`, else `()`; see `alignment_history_batch_major`.
      attention_state: the mechanism's state (`[B, T]`, or a structure of them).
    """

    def clone(self, **kwargs):
        """A copy with some fields replaced; a replaced tensor must keep its shape.

        Example: `state = wrapper.get_initial_state(batch_size=B).clone(cell_state=encoder_state)`.
        """
        for field, new in kwargs.items():
            if field not in self._fields:
                raise TypeError(f"`{field}` is not a field of AttentionWrapperState {self._fields}")
            old = getattr(self, field)
            if not nest.same_structure(old, new):
                raise ValueError(f"`{field}` must have the structure {nest.structure_string(old)}, "
                                 f"got {nest.structure_string(new)}")
            for old_leaf, new_leaf in zip(nest.flatten(old), nest.flatten(new)):
                old_shape, new_shape = getattr(old_leaf, "shape", None), getattr(new_leaf, "shape", None)
                if (isinstance(old_shape, tf.TensorShape) and old_shape.is_fully_defined()
                        and new_shape is not None and tf.TensorShape(new_shape).is_fully_defined()
                        and old_shape != tf.TensorShape(new_shape)):
                    raise ValueError(f"`{field}` must keep the shape {old_shape.as_list()}, got "
                                     f"{describe(new_leaf)}")
        return self._replace(**kwargs)


def alignment_history_batch_major(state):
    """The alignment history as `[B, decoder_time, T]` (a tuple of them for several mechanisms).

    Args:
      state: an `AttentionWrapperState` (e.g. the decoder's final state), or its
        `alignment_history` (a `tf.TensorArray` of `[B, T]` entries).

    Returns:
      `tf.transpose(history.stack(), [1, 0, 2])`.
    """
    history = state.alignment_history if isinstance(state, AttentionWrapperState) else state
    if isinstance(history, tuple):
        if not history:
            raise ValueError("`state` has no alignment history: build the AttentionWrapper "
                             "with alignment_history=True")
        return tuple(alignment_history_batch_major(h) for h in history)
    return tf.transpose(history.stack(), [1, 0, 2])


def _mark_used(history):
    """Eagerly, a written ``tf.TensorArray`` warns when it is dropped unread; one carried in a state
    may be (a caller keeps only the outputs), so it counts as used."""
    mark = getattr(history, "mark_used", None)
    if mark is not None:
        mark()


def _compute_attention(attention_mechanism, cell_output, attention_state, attention_layer):
    """One mechanism's attention: `(attention [B, A], alignments [B, T], next_attention_state)`."""
    alignments, next_attention_state = attention_mechanism(cell_output, attention_state)
    context = tf.squeeze(tf.matmul(alignments[:, None, :], attention_mechanism.values), 1)  # (B, D)
    if attention_layer is not None:
        return attention_layer(tf.concat([cell_output, context], 1)), alignments, next_attention_state
    return context, alignments, next_attention_state


@keras.saving.register_keras_serializable(package="course_lib")
class AttentionWrapper(WrapperSizes, WrapperKeras, keras.layers.Layer):
    """Wraps a cell with attention; itself a cell (`output, state = wrapper(inputs, state)`).

    The state is an `AttentionWrapperState` (a plain tuple of its five fields is rebuilt, as
    `keras.layers.RNN(AttentionWrapper(...))` passes it). With `alignment_history=True`, the
    alignments of every step are kept in a `tf.TensorArray`; after a decode, get them batch-major
    with `tf.transpose(final_state.alignment_history.stack(), [1, 0, 2])`  # [B, decoder_time, T]
    (or `alignment_history_batch_major(final_state)`).

    `output_size` and `state_size` need the memory (tfa: a ValueError before it is set up), except
    `output_size` with `attention_layer_size`. Float inputs are cast to the state's dtype (what
    Keras' autocasting does under a mixed policy). `get_config` / `from_config` serialise the cell,
    the mechanisms (without memory) and the attention layers; `get_initial_state(dtype=None)` uses
    the memory's dtype (tfa passes None to the cell).

    Args:
      cell: the cell to wrap (cell protocol: `output_size`, `state_size`, `get_initial_state`).
      attention_mechanism: a mechanism, or a list of them (their attentions are concatenated).
      attention_layer_size: None (the attention is the context `[B, D]`), an int A, or a list
        with one int per mechanism: a `Dense(A, use_bias=False)` over `concat([cell_output, context])`.
      alignment_history: keep every step's alignments in `state.alignment_history`.
      cell_input_fn: `(inputs, attention) -> cell_inputs`; default `concat([inputs, attention], -1)`.
      output_attention: output the attention (Luong) if True, else the cell output (Bahdanau).
      initial_cell_state: the cell state that `get_initial_state` returns (default: zeros).
      name: the layer name.
      attention_layer: instead of `attention_layer_size`, a layer (or list) to use as the attention layer.
      attention_fn: `(mechanism, cell_output, attention_state, attention_layer) ->
        (attention, alignments, next_attention_state)` replacing the default computation.
      **kwargs: for the Keras layer (`dtype`: also the attention layers' dtype policy; default
        that of each mechanism).
    """

    def __init__(self, cell, attention_mechanism, attention_layer_size=None, alignment_history=False,
                 cell_input_fn=None, output_attention=True, initial_cell_state=None, name=None,
                 attention_layer=None, attention_fn=None, **kwargs):
        super().__init__(name=name, **kwargs)
        for attr in ("output_size", "state_size", "get_initial_state"):
            if attr not in dir(cell) or not callable(cell):  # dir: a wrapped wrapper's sizes may need its memory
                raise TypeError(f"`cell` must follow the cell protocol (callable, with `{attr}`), "
                                f"got {type(cell).__name__}")
        self._is_multi = isinstance(attention_mechanism, (list, tuple))
        mechanisms = list(attention_mechanism) if self._is_multi else [attention_mechanism]
        if not mechanisms:
            raise ValueError("`attention_mechanism` must hold at least one mechanism, got an empty list")
        for m in mechanisms:
            if not isinstance(m, AttentionMechanism):
                raise TypeError("`attention_mechanism` must be an AttentionMechanism or a list of them, "
                                f"got {type(m).__name__}")
        if cell_input_fn is not None and not callable(cell_input_fn):
            raise TypeError(f"`cell_input_fn` must be callable, got {type(cell_input_fn).__name__}")
        if attention_layer_size is not None and attention_layer is not None:
            raise ValueError("give `attention_layer_size` or `attention_layer`, not both")
        layers = None
        self._attention_layer_sizes = None
        if attention_layer_size is not None:
            sizes = list(attention_layer_size) if isinstance(attention_layer_size, (list, tuple)) \
                else [attention_layer_size]
            if len(sizes) != len(mechanisms):
                raise ValueError(f"`attention_layer_size` must have one size per attention mechanism "
                                 f"({len(mechanisms)}), got {attention_layer_size!r}")
            for size in sizes:
                if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
                    raise ValueError(f"`attention_layer_size` must hold positive ints, got {attention_layer_size!r}")
            policy = self.dtype_policy if kwargs.get("dtype") is not None else None
            layers = [keras.layers.Dense(size, use_bias=False, name="attention_layer", dtype=policy or m.dtype_policy)
                      for size, m in zip(sizes, mechanisms)]
            self._attention_layer_sizes = sizes
        elif attention_layer is not None:
            layers = list(attention_layer) if isinstance(attention_layer, (list, tuple)) else [attention_layer]
            if len(layers) != len(mechanisms):
                raise ValueError(f"`attention_layer` must have one layer per attention mechanism "
                                 f"({len(mechanisms)}), got {len(layers)}")
        self.cell = cell
        if self._is_multi:
            self.attention_mechanisms = mechanisms
            self.attention_layers = layers
        else:
            self.attention_mechanism = mechanisms[0]
            self.attention_layer = layers[0] if layers else None
        self._attn_mechanisms = tuple(mechanisms)
        self._attention_layers = tuple(layers) if layers else None
        self._cell_input_fn_arg, self._attention_fn_arg = cell_input_fn, attention_fn  # for get_config
        self._cell_input_fn = cell_input_fn or (lambda inputs, attention: tf.concat([inputs, attention], -1))
        self._attention_fn = attention_fn or _compute_attention
        self._output_attention = output_attention
        self._alignment_history = alignment_history
        self._initial_cell_state = initial_cell_state

    def __call__(self, inputs, state, **kwargs):
        # Straight to `call`: Keras 3 layers reject the tf.TensorArray inside the state.
        self.built = True
        return self.call(inputs, state, **kwargs)

    def build(self, input_shape=None):
        """Nothing to make up front: the cell and the attention layers build on their first call."""

    @property
    def _attention_size(self):
        if self._attention_layer_sizes is not None:
            return sum(self._attention_layer_sizes)
        if self._attention_layers is not None and all(getattr(a, "units", None) for a in self._attention_layers):
            return sum(layer.units for layer in self._attention_layers)
        depths = [None if m.values is None else m.values.shape[-1] for m in self._attn_mechanisms]
        if None in depths:
            return None  # known once the memory is set up
        if self._attention_layers is None:
            return sum(depths)
        return sum(layer.compute_output_shape((None, self.cell.output_size + d))[-1]
                   for layer, d in zip(self._attention_layers, depths))

    _state_class = AttentionWrapperState

    def _check_batch(self, batch_size, arg):
        self._check_not_symbolic()
        for m in self._attn_mechanisms:
            m._check_memory()
            if isinstance(batch_size, int) and isinstance(m.batch_size, int) and batch_size != m.batch_size:
                raise ValueError(
                    f"`{arg}` has batch size {batch_size} but the memory of {m.name} has {m.batch_size}; "
                    "with beam search, tile the memory, its lengths and the cell state with "
                    "`tile_batch(x, beam_width)` and use batch_size * beam_width")

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """The state before the first step: zero attention, initial alignments, empty histories.

        Args:
          inputs: optional `[B, ...]` tensor to read `batch_size` and `dtype` from.
          batch_size: B (default: the memory's batch size).
          dtype: float dtype (default: the memory's).

        Returns:
          an `AttentionWrapperState`.
        """
        first = self._attn_mechanisms[0]
        self._check_not_symbolic()
        first._check_memory()
        if inputs is not None:
            inputs = tf.convert_to_tensor(inputs)
            batch_size = inputs.shape[0] if inputs.shape[0] is not None else tf.shape(inputs)[0]
            dtype = inputs.dtype
        batch_size = first.batch_size if batch_size is None else batch_size
        dtype = tf.as_dtype(dtype or first.values.dtype)
        self._check_batch(batch_size, "batch_size")
        if self._initial_cell_state is not None:
            cell_state = self._initial_cell_state
        else:
            try:
                cell_state = self.cell.get_initial_state(batch_size=batch_size, dtype=dtype)
            except TypeError:  # a plain Keras 3 cell takes no dtype
                cell_state = self.cell.get_initial_state(batch_size=batch_size)
        alignments = [m.initial_alignments(batch_size, dtype) for m in self._attn_mechanisms]
        histories = [tf.TensorArray(dtype, size=0, dynamic_size=True, element_shape=a.shape)
                     if self._alignment_history else () for a in alignments]
        return AttentionWrapperState(
            cell_state=cell_state,
            attention=tf.zeros([batch_size, self._attention_size], dtype=dtype),
            alignments=self._item_or_tuple(alignments),
            alignment_history=self._item_or_tuple(histories),
            attention_state=self._item_or_tuple(m.initial_state(batch_size, dtype)
                                                for m in self._attn_mechanisms))

    def call(self, inputs, state, **kwargs):
        """One attention step.

        Args:
          inputs: `[B, D_in]` inputs of this step (float inputs are cast to the state's dtype).
          state: the previous `AttentionWrapperState` (or a tuple of its five fields).
          **kwargs: passed to the wrapped cell (e.g. `training`).

        Returns:
          `(output, next_state)`: output `[B, A]` (attention) or `[B, cell.output_size]`.
        """
        state = as_wrapper_state(state, AttentionWrapperState, lambda: self.state_size)
        dtype = state.attention.dtype
        if tf.is_tensor(inputs) and inputs.dtype.is_floating and inputs.dtype != dtype:
            inputs = tf.cast(inputs, dtype)  # what Keras' autocasting would do (mixed precision)
        cell_inputs = self._cell_input_fn(inputs, state.attention)  # (B, D_in + A)
        cell_output, next_cell_state = self.cell(cell_inputs, state.cell_state, **kwargs)
        self._check_batch(cell_output.shape[0], "inputs")
        if self._is_multi:
            previous_states, previous_histories = state.attention_state, state.alignment_history
        else:
            previous_states, previous_histories = [state.attention_state], [state.alignment_history]
        attentions, all_alignments, next_states, histories = [], [], [], []
        for i, mechanism in enumerate(self._attn_mechanisms):
            layer = self._attention_layers[i] if self._attention_layers else None
            attention, alignments, next_attention_state = self._attention_fn(
                mechanism, cell_output, previous_states[i], layer)
            history = previous_histories[i]
            if self._alignment_history:
                history = history.write(history.size(), alignments)
                _mark_used(history)
            attentions.append(attention)
            all_alignments.append(alignments)
            next_states.append(next_attention_state)
            histories.append(history)
        attention = tf.concat(attentions, 1)  # (B, A)
        next_state = AttentionWrapperState(
            cell_state=next_cell_state,
            attention=attention,
            alignments=self._item_or_tuple(all_alignments),
            alignment_history=self._item_or_tuple(histories),
            attention_state=self._item_or_tuple(next_states))
        return (attention if self._output_attention else cell_output), next_state
