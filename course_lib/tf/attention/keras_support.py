"""What the attention layers need from Keras beyond the decode loop (TensorFlow / Keras 3).

``MechanismKeras``, a mixin of ``AttentionMechanism``, gives:

* tfa 0.23's ``get_config`` / ``from_config``: ``memory`` is None (a tensor is not config), the
  probability function by name, ``memory_layer`` / ``query_layer`` serialized *without* their build
  config (Keras 3 would rebuild them on load, so a clone would have weights the original has not
  made yet), ``dtype`` as Keras 3's serialized ``DTypePolicy``;
* tfa's two-phase ``build``: ``build(memory_shape)`` builds ``memory_layer``;
  ``build([query_shape, state_shape])`` builds ``query_layer``; ``get_build_config`` records both,
  so a layer loaded from a saved model rebuilds both before its weights are read;
* symbolic calls: a KerasTensor memory or query (a functional ``keras.Model``) goes through
  ``keras.layers.Layer.__call__``, which records a set-up node and query nodes (the query node
  takes the set-up memory as a third input, as in tfa, so the graph connects query and memory).
  When the model runs, Keras calls the layer again with tensors: the memory is set up then.

``WrapperKeras``, a mixin of ``AttentionWrapper``, gives its ``get_config`` / ``from_config``.

Keras 3 facts this relies on: every node of a layer is checked against the number of outputs of
its *first* node (the set-up node), so the set-up node returns as many tensors as a query node
(the values, then the keys once per leaf of the mechanism's state); eager calls bypass
``Layer.__call__`` (course_lib's fast path), so masks and mixed-precision casts are done by the
layers themselves (see ``base``).
"""

from __future__ import annotations

import keras
import tensorflow as tf


def is_symbolic(x) -> bool:
    """True when ``x`` (or an entry of a list/tuple) is a Keras symbolic tensor."""
    if isinstance(x, (list, tuple)):
        return any(is_symbolic(v) for v in x)
    return isinstance(x, keras.KerasTensor)


def _is_shape(x) -> bool:
    if isinstance(x, tf.TensorShape):
        return True
    return isinstance(x, (list, tuple)) and all(d is None or isinstance(d, int) for d in x)


def _shapes(input_shape) -> list:
    """``build``'s argument as a list of shapes (one shape, or a list of them as Keras gives)."""
    if _is_shape(input_shape):
        return [tuple(tf.TensorShape(input_shape).as_list())]
    return list(input_shape)


def _build_inner(layer, shape) -> None:
    if layer is not None and not layer.built and shape is not None:
        layer.build(tuple(tf.TensorShape(shape).as_list()))


def _input_shape(layer):
    """The input shape an inner layer was built for (None if unbuilt or unknown)."""
    if layer is None or not layer.built:
        return None
    config = layer.get_build_config() or {}
    return config.get("input_shape")


def serialize_inner(layer) -> dict:
    """``keras.layers.serialize(layer)`` without ``build_config`` (tfa's format for inner layers)."""
    config = keras.layers.serialize(layer)
    config.pop("build_config", None)
    return config


def _deserialize(value, custom_objects):
    if isinstance(value, dict):
        return keras.layers.deserialize(value, custom_objects=custom_objects)
    if isinstance(value, (list, tuple)):
        return [_deserialize(v, custom_objects) for v in value]
    return value


class MechanismKeras:
    """Config, two-phase build and functional-graph calls of an attention mechanism (see module)."""

    # -- config ----------------------------------------------------------------------------
    def _mechanism_config(self) -> dict:
        """The subclass's own constructor arguments (``units``, ``normalize``, ...)."""
        return {}

    def get_config(self):
        """tfa 0.23's config: Layer's keys, inner layers, ``memory: None`` and the subclass's keys."""
        config = keras.layers.Layer.get_config(self)
        for name in ("query_layer", "memory_layer"):
            layer = getattr(self, name, None)
            if layer is not None:
                config[name] = serialize_inner(layer)
        config["memory"] = None
        config.update(self._mechanism_config())
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The mechanism of ``config`` (from ``get_config``), without a memory."""
        config = dict(config)
        for name in ("query_layer", "memory_layer"):
            config[name] = _deserialize(config.get(name), custom_objects)
        if isinstance(config.get("probability_fn"), dict):
            config["probability_fn"] = keras.saving.deserialize_keras_object(
                config["probability_fn"], custom_objects=custom_objects)
        return cls(**config)

    def _probability_fn_config(self):
        value = self._probability_fn_arg
        return value if isinstance(value, str) else keras.saving.serialize_keras_object(value)

    # -- build -----------------------------------------------------------------------------
    def build(self, input_shape=None):
        """tfa's two-phase build of the inner layers.

        Args:
          input_shape: the memory's shape `[B, T, D]` (or `[memory_shape, lengths_shape]`): builds
            `memory_layer`; or `[query_shape, state_shape]` (optionally a third, the memory's):
            builds `query_layer` (and `memory_layer` from the third).
        """
        if input_shape is None:
            return
        shapes = _shapes(input_shape)
        first = tf.TensorShape(shapes[0])
        if first.rank == 3:
            _build_inner(self.memory_layer, first)
            return
        if len(shapes) > 2 and _is_shape(shapes[2]) and tf.TensorShape(shapes[2]).rank == 3:
            _build_inner(self.memory_layer, shapes[2])
        _build_inner(self.query_layer, first)

    def get_build_config(self):
        """The shapes `memory_layer` and `query_layer` were built for (None if neither is built)."""
        config = {key: shape for key, shape in (("memory_shape", _input_shape(self.memory_layer)),
                                                ("query_shape", _input_shape(self.query_layer)))
                  if shape is not None}
        return config or None

    def build_from_config(self, config):
        """Build the inner layers from `get_build_config`'s shapes (when a saved model loads)."""
        if config and config.get("memory_shape") is not None:
            self.build(config["memory_shape"])
        if config and config.get("query_shape") is not None:
            self.build([config["query_shape"], None])

    # -- functional graphs -----------------------------------------------------------------
    def _symbolic_call(self, inputs, state, setup_memory, mask, memory_sequence_length):
        """A call on Keras symbolic tensors: through `Layer.__call__`, which records a graph node."""
        if setup_memory:
            if memory_sequence_length is not None and not isinstance(inputs, (list, tuple)):
                inputs = [inputs, memory_sequence_length]
            kwargs = {"setup_memory": True} if mask is None else {"setup_memory": True, "mask": mask}
            outputs = keras.layers.Layer.__call__(self, inputs, **kwargs)
            self._symbolic_memory = outputs[0]
            return outputs[0]
        inputs = [inputs, state] if state is not None else list(inputs)
        if len(inputs) == 2 and self._symbolic_memory is not None:
            inputs.append(self._symbolic_memory)  # connects the query node to the memory
        if self.query_layer is not None and not self.query_layer.built:
            self.build([inputs[0].shape, None])
        return keras.layers.Layer.__call__(self, inputs)

    def _state_structure(self):
        """The structure of the mechanism's state (one tensor; a subclass may override)."""
        return 0

    def compute_output_spec(self, inputs, state=None, mask=None, setup_memory=False,
                            memory_sequence_length=None):
        """The outputs' KerasTensors of a symbolic call (nothing is computed).

        Returns:
          set-up: `(values [B, T, D], keys [B, T, U], ...)`, the keys once per leaf of the state,
          so that the set-up node has a query node's number of outputs (Keras 3 checks every node
          of a layer against its first one); query: `(alignments [B, T], next_state)`.
        """
        dtype = self.compute_dtype
        if setup_memory:
            memory = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
            if len(memory.shape) != 3:
                raise ValueError(f"`memory` must be 3-D [batch, max_time, depth], got shape {list(memory.shape)}")
            self._symbolic_time = memory.shape[1]
            units = memory.shape[-1]
            if self.memory_layer is not None:
                units = self.memory_layer.compute_output_shape(memory.shape)[-1]
            keys = keras.KerasTensor(tuple(memory.shape[:2]) + (units,), dtype=dtype)
            return (keras.KerasTensor(memory.shape, dtype=dtype),) + (keys,) * len(
                tf.nest.flatten(self._state_structure()))
        query = inputs[0]
        time = getattr(self, "_symbolic_time", None)
        if time is None and isinstance(self._alignments_size, int):
            time = self._alignments_size
        spec = lambda: keras.KerasTensor((query.shape[0], time), dtype=dtype)
        return spec(), tf.nest.map_structure(lambda _: spec(), self._state_structure())

    def compute_mask(self, inputs, mask=None):
        """No Keras mask on the outputs (the memory's mask is used inside, as in tfa)."""


class WrapperKeras:
    """``get_config`` / ``from_config`` of ``AttentionWrapper`` (mechanisms come back without memory)."""

    def get_config(self):
        """The wrapper's config: Layer's keys, the serialized cell, mechanism(s), attention layer(s)."""
        for arg, value in (("cell_input_fn", self._cell_input_fn_arg), ("attention_fn", self._attention_fn_arg),
                           ("initial_cell_state", self._initial_cell_state)):
            if value is not None:
                raise ValueError(f"AttentionWrapper.get_config cannot serialise `{arg}` (a function or "
                                 f"tensors), got {type(value).__name__}: build the wrapper without it to save "
                                 "its config, and pass it again after loading")
        config = keras.layers.Layer.get_config(self)
        mechanisms = [keras.layers.serialize(m) for m in self._attn_mechanisms]
        sizes = self._attention_layer_sizes
        layers = None
        if sizes is None and self._attention_layers is not None:
            layers = [keras.layers.serialize(layer) for layer in self._attention_layers]
        config.update(
            cell=keras.layers.serialize(self.cell),
            attention_mechanism=mechanisms if self._is_multi else mechanisms[0],
            attention_layer_size=(list(sizes) if self._is_multi else sizes[0]) if sizes else None,
            alignment_history=self._alignment_history,
            output_attention=self._output_attention,
            attention_layer=(layers if self._is_multi else layers[0]) if layers else None)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The wrapper of ``config``; set its mechanisms' memory up before using it."""
        config = dict(config)
        for key in ("cell", "attention_mechanism", "attention_layer"):
            config[key] = _deserialize(config.get(key), custom_objects)
        return cls(**config)
