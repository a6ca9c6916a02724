"""The framework-free half of attention: what a mechanism and the wrapper know without tensors.

``MechanismLogic`` (a mixin of both backends' ``AttentionMechanism``) holds the memory
bookkeeping and the default hooks; ``WrapperSizes`` (a mixin of both ``AttentionWrapper``s)
the sizes of the wrapper's output and state. Each backend keeps the tensor code: setting the
memory up, scoring, normalising, attending.
"""

from __future__ import annotations


def pick_function(value, table: dict, name: str):
    """``value`` when it is callable, else ``table[value]``; a ValueError naming ``name`` otherwise."""
    if callable(value):
        return value
    if value not in table:
        raise ValueError(f"`{name}` must be one of {sorted(table)} or a callable, got {value!r}")
    return table[value]


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

    def _check_memory(self):
        if self.values is None:
            raise ValueError(f"`memory` of {type(self).__name__} '{self.name}' was never set up: pass "
                             "`memory=` when constructing it or call `setup_memory(memory)` first")

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

    @property
    def output_size(self):
        """A (the attention depth) if ``output_attention``, else the cell's output size.

        Without an attention layer A is the memory depth: None until the memory is set up.
        """
        return self._attention_size if self._output_attention else self.cell.output_size

    @property
    def state_size(self):
        """An ``AttentionWrapperState`` of sizes (alignment_history: T, or ``()`` when not kept)."""
        return self._state_class(
            cell_state=self.cell.state_size,
            attention=self._attention_size,
            alignments=self._item_or_tuple(m.alignments_size for m in self._attn_mechanisms),
            alignment_history=self._item_or_tuple(
                m.alignments_size if self._alignment_history else () for m in self._attn_mechanisms),
            attention_state=self._item_or_tuple(m.state_size for m in self._attn_mechanisms))
