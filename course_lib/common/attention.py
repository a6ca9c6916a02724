"""The framework-free half of attention: what a mechanism and the wrapper know without tensors.

``MechanismLogic`` (a mixin of both backends' ``AttentionMechanism``) holds the memory
bookkeeping and the default hooks; ``WrapperSizes`` (a mixin of both ``AttentionWrapper``s)
the sizes of the wrapper's output and state. Each backend keeps the tensor code: setting the
memory up, scoring, normalising, attending.
"""

from __future__ import annotations

from course_lib.common import nest
from course_lib.common.checks import describe

SET_UP_HINT = "pass `memory=` when constructing it or call `setup_memory(memory)` first"


def pick_function(value, table: dict, name: str):
    """``value`` when it is callable, else ``table[value]``; a ValueError naming ``name`` otherwise."""
    if callable(value):
        return value
    if value not in table:
        raise ValueError(f"`{name}` must be one of {sorted(table)} or a callable, got {value!r}")
    return table[value]


def check_layer(layer, name: str, layer_type, what: str) -> None:
    """``layer`` is None or an instance of ``layer_type`` (a TypeError naming ``name`` otherwise)."""
    if layer is not None and not isinstance(layer, layer_type):
        raise TypeError(f"`{name}` must be {what} or None, got {describe(layer)}")


def split_memory_inputs(inputs, memory_sequence_length=None):
    """``mechanism(inputs, setup_memory=True)``'s inputs -> ``(memory, memory_sequence_length)``.

    ``inputs`` is the memory, or tfa's list ``[memory]`` / ``[memory, memory_sequence_length]``.
    """
    if not isinstance(inputs, (list, tuple)):
        return inputs, memory_sequence_length
    if len(inputs) not in (1, 2):
        raise ValueError("with `setup_memory=True`, `inputs` must be the memory or [memory, "
                         f"memory_sequence_length], got a list of {len(inputs)}")
    if len(inputs) == 2 and memory_sequence_length is not None:
        raise ValueError("give `memory_sequence_length` in `inputs` ([memory, lengths]) or as a keyword, "
                         "not both")
    return inputs[0], (inputs[1] if len(inputs) == 2 else memory_sequence_length)


def split_query_inputs(inputs, state=None):
    """A query call's inputs -> ``(query, state)``.

    ``mechanism(query, state)`` or tfa's ``mechanism([query, state])`` and
    ``mechanism([query, state, memory])`` (the set-up memory, which a Keras graph adds to
    connect the query to the memory; it is not used here).
    """
    if state is not None or not isinstance(inputs, (list, tuple)):
        return inputs, state
    if len(inputs) not in (2, 3):
        raise ValueError("`inputs` of a query must be the query, or [query, state] (optionally "
                         f"[query, state, memory]), got a list of {len(inputs)}")
    return inputs[0], inputs[1]


def as_wrapper_state(state, state_class, state_size):
    """``state`` as a ``state_class`` (an ``AttentionWrapperState``), as tfa rebuilds it.

    Args:
      state: an ``AttentionWrapperState``; or a list / tuple of its five fields, or the flat list
        of its tensors (what ``keras.layers.RNN`` passes a cell; ``()`` histories have none).
      state_class: the backend's ``AttentionWrapperState``.
      state_size: a callable giving the wrapper's ``state_size`` (the structure to rebuild).
    """
    if isinstance(state, state_class):
        return state
    if isinstance(state, (list, tuple)):
        template = state_size()
        leaves = nest.flatten(state)
        if len(leaves) == len(nest.flatten(template)):
            return nest.pack_sequence_as(template, leaves)
        expected = f"{len(nest.flatten(template))} tensors of the structure {nest.structure_string(template)}"
        raise TypeError(f"`state` must be an AttentionWrapperState (from `get_initial_state`), its five fields "
                        f"or its flat list of {expected}, got {len(leaves)} tensors in "
                        f"{nest.structure_string(state)}")
    raise TypeError(f"`state` must be an AttentionWrapperState (from `get_initial_state`) or a list of its "
                    f"fields {state_class._fields}, got {describe(state)}")


def find_attention_states(state) -> list:
    """The attention-wrapper states in a (nested) cell state: itself, or those it holds.

    Duck-typed on the field names (``alignments``, ``attention_state``), as
    ``course_lib.common.trace.recorder.find_alignments``: the backends' ``AttentionWrapperState``
    and contrib's TF1 one (which adds ``time``) both count; a found state is not searched further.
    """
    fields = getattr(type(state), "_fields", ())
    if "alignments" in fields and "attention_state" in fields:
        return [state]
    if isinstance(state, (tuple, list)):
        return [found for item in state for found in find_attention_states(item)]
    return []


class MechanismLogic:
    """Memory bookkeeping and default hooks of an attention mechanism.

    A backend's mechanism sets ``values``, ``keys``, ``batch_size`` and ``_alignments_size`` in
    ``setup_memory`` and ``_probability`` in its constructor; a subclass defines ``_score``.
    """

    def _maybe_setup(self, memory, memory_sequence_length):
        if memory is not None:
            self.setup_memory(memory, memory_sequence_length)
        elif memory_sequence_length is not None:
            raise ValueError("`memory_sequence_length` needs `memory`, got memory=None")

    @property
    def memory_initialized(self):
        """True once the memory is set up (tfa's name)."""
        return self.values is not None

    def _check_memory(self):
        if self.values is None:
            if getattr(self, "_symbolic_memory", None) is not None:
                raise ValueError(f"`memory` of {type(self).__name__} '{self.name}' is a Keras symbolic tensor "
                                 "(a functional model's): query the mechanism in that model "
                                 "(`mechanism([query, state])` on its inputs), or set the memory up with a "
                                 "tensor (`setup_memory(memory)`) to use it outside")
            raise ValueError(f"`memory` of {type(self).__name__} '{self.name}' was never set up: {SET_UP_HINT}")

    @property
    def alignments_size(self):
        """T, the memory's max_time (None until the memory is set up)."""
        return self._alignments_size

    @property
    def state_size(self):
        """The size of the mechanism's state: T (the previous alignments)."""
        return self.alignments_size

    def probability_fn(self, score, state):
        """Masked scores ``[B, T]`` (and the previous state) -> alignments ``[B, T]``."""
        return self._probability(score)

    def _score(self, query, state):
        raise NotImplementedError("an AttentionMechanism subclass defines `_score(query, state)`")

    def _next_state(self, alignments, state):
        return alignments


class WrapperSizes:
    """``output_size`` and ``state_size`` of an ``AttentionWrapper``.

    The backend's wrapper sets ``cell``, ``_attn_mechanisms``, ``_is_multi``, ``_output_attention``,
    ``_alignment_history`` and defines ``_attention_size`` and ``_state_class``
    (its ``AttentionWrapperState``).
    """

    def _item_or_tuple(self, seq):
        seq = tuple(seq)
        return seq if self._is_multi else seq[0]

    def _check_not_symbolic(self):
        """A ValueError saying what to do when a mechanism's memory is a Keras symbolic tensor.

        Impossible under Keras 3: a cell run by ``keras.layers.RNN`` (or by a decoder) in a
        functional model gets no constants, so a memory that is a node of that graph never
        reaches the wrapper when the model runs (tfa's Keras 2 graphs carried it as a graph tensor).
        """
        for m in self._attn_mechanisms:
            if m.values is None and getattr(m, "_symbolic_memory", None) is not None:
                raise ValueError(
                    f"the memory of {type(m).__name__} '{m.name}' is a Keras symbolic tensor (a functional "
                    "model's), which an AttentionWrapper cannot attend over: keras.layers.RNN and the "
                    "decoders pass a cell no constants in Keras 3, so the memory would not reach it when the "
                    "model runs. Set the memory up inside a layer's `call` instead (`mechanism.setup_memory("
                    "memory)`, then run the RNN or the decoder there) and use that layer in the model; "
                    "or query the mechanism directly (`mechanism([query, state])`) in the functional model")

    def _require_memory(self, what: str):
        """tfa's ValueError when a size that needs the memory is asked for before it is set up."""
        self._check_not_symbolic()
        for m in self._attn_mechanisms:
            if m.values is None:
                raise ValueError(f"`AttentionWrapper.{what}` needs the memory of {type(m).__name__} "
                                 f"'{m.name}', which was never set up: {SET_UP_HINT} (the attention "
                                 "mechanisms of an AttentionWrapper must have a memory before its sizes are known)")

    @property
    def output_size(self):
        """A (the attention depth) if ``output_attention``, else the cell's output size.

        Without an attention layer A is the memory depth: asked for before the memory is set up,
        it raises a ValueError (as tfa); with ``attention_layer_size`` it is known at once.
        """
        self._check_not_symbolic()
        if not self._output_attention:
            return self.cell.output_size
        size = self._attention_size
        if size is None:
            self._require_memory("output_size")
        return size

    @property
    def state_size(self):
        """An ``AttentionWrapperState`` of sizes (alignment_history: T, or ``()`` when not kept).

        The alignments' size is the memory's max_time (None until the memory is set up; tfa:
        ``TensorShape([None])``). The attention's size needs the memory unless
        ``attention_layer_size`` is given: asked for before, this raises a ValueError (as tfa).
        """
        self._check_not_symbolic()
        attention = self._attention_size
        if attention is None:
            self._require_memory("state_size")
        return self._state_class(
            cell_state=self.cell.state_size,
            attention=attention,
            alignments=self._item_or_tuple(m.alignments_size for m in self._attn_mechanisms),
            alignment_history=self._item_or_tuple(
                m.alignments_size if self._alignment_history else () for m in self._attn_mechanisms),
            attention_state=self._item_or_tuple(m.state_size for m in self._attn_mechanisms))
