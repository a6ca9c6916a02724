"""The framework-free half of TF1's decoders, attention mechanisms and ``AttentionWrapper`` (mixins).

Each is mixed in front of the modern class of a backend, ``class BasicDecoder(BasicDecoderLogic,
modern.BasicDecoder, Decoder)``: the mixin takes TF1's arguments, checks them and calls the
modern constructor with them (``super().__init__``), so the steps and the loop stay the modern ones.
"""

from __future__ import annotations

from course_lib.common import nest
from course_lib.common.contrib.args import check_mechanism_args, not_callable_message
from course_lib.common.contrib.helpers import check_helper
from course_lib.common.contrib.state import check_attention_state, check_state_layout, from_tfa_state, to_tfa_state


class DecoderLogic:
    """TF1's ``Decoder`` interface: subclass it and run it with ``dynamic_decode(decoder)``.

    A subclass calls ``super().__init__()`` and defines ``batch_size``, ``output_size``,
    ``output_dtype`` and::

        initialize(name=None) -> (finished [B], first_inputs, initial_state)
        step(time, inputs, state, name=None) -> (outputs, next_state, next_inputs, finished)

    and optionally ``finalize(outputs, final_state, sequence_lengths)`` and ``tracks_own_finished``.
    (The loop passes a fourth positional argument to ``step``: keep TF1's ``name=None``.)
    A TF1 decoder is not called; calling one raises a TypeError that says to use ``dynamic_decode``.
    """

    def __call__(self, *args, **kwargs):
        raise TypeError(not_callable_message(self))


class BasicDecoderLogic:
    """TF1's ``BasicDecoder``: cell + helper + optional output layer, the inputs bound at construction.

    Args:
      cell: an RNN cell (``contrib.rnn``'s, an ``AttentionWrapper``, ...).
      helper: a ``contrib.seq2seq.Helper`` (``TrainingHelper(inputs, sequence_length)``, ...).
      initial_state: the cell's initial state (``cell.zero_state(B, dtype)``, an encoder's state).
      output_layer: optional layer applied to the cell output (a Keras ``Dense`` / ``nn.Linear``).

    ``dynamic_decode(decoder, ...)`` runs it and returns ``(BasicDecoderOutput(rnn_output
    [B, T, V], sample_id [B, T]), final_state, final_sequence_lengths [B])``. A backend sets
    ``_helper_sampler``, the class that shows a Helper to the modern decoder as a sampler.
    """

    def __init__(self, cell, helper, initial_state, output_layer=None):
        check_helper(helper)
        check_state_layout(getattr(cell, "state_size", None), initial_state, "initial_state")
        super().__init__(cell, self._helper_sampler(helper), output_layer=output_layer)
        object.__setattr__(self, "helper", helper)  # not a layer or module: kept out of their tracking
        object.__setattr__(self, "_initial_state", initial_state)

    def __call__(self, *args, **kwargs):
        raise TypeError(not_callable_message(self))

    @property
    def output_dtype(self):
        """``BasicDecoderOutput(rnn_output=`` the initial state's dtype (TF1's rule) ``, sample_id=``
        the helper's ``sample_ids_dtype)``."""
        return super().output_dtype._replace(rnn_output=nest.flatten(self._initial_state)[0].dtype,
                                             sample_id=self.helper.sample_ids_dtype)

    def initialize(self, name=None):
        """Returns ``(finished [B], first_inputs [B, D], initial_state)``."""
        finished, first_inputs = self.helper.initialize()
        return finished, first_inputs, self._initial_state


class BeamSearchDecoderLogic:
    """TF1's ``BeamSearchDecoder``: the ``beam_width`` best sequences of every batch entry.

    Args:
      cell: an RNN cell (e.g. a contrib ``AttentionWrapper`` over tiled memory).
      embedding: ``[V, E]`` matrix or a callable ids -> vectors.
      start_tokens: int ``[B]``; end_token: int scalar.
      initial_state: the cell's state for ``B * beam_width`` rows: ``tile_batch(encoder_state,
        beam_width)``, or ``wrapper.zero_state(B * beam_width, dtype).clone(cell_state=...)``.
      beam_width: W.
      output_layer: optional layer applied to the cell output.
      length_penalty_weight, coverage_penalty_weight: GNMT's penalties (0: off).
      reorder_tensor_arrays: reorder the alignment history along the final beams.

    ``dynamic_decode(decoder, maximum_iterations=...)`` returns ``(FinalBeamSearchDecoderOutput(
    predicted_ids [B, T, W], beam_search_decoder_output), final_state, final_sequence_lengths [B, W])``.
    An untiled ``initial_state`` fails here, at construction, saying to use ``tile_batch``.
    """

    def __init__(self, cell, embedding, start_tokens, end_token, initial_state, beam_width, output_layer=None,
                 length_penalty_weight=0.0, coverage_penalty_weight=0.0, reorder_tensor_arrays=True):
        check_state_layout(getattr(cell, "state_size", None), initial_state, "initial_state")
        super().__init__(cell, beam_width, output_layer=output_layer, length_penalty_weight=length_penalty_weight,
                         coverage_penalty_weight=coverage_penalty_weight, reorder_tensor_arrays=reorder_tensor_arrays)
        object.__setattr__(self, "_inputs", dict(embedding=embedding, start_tokens=start_tokens, end_token=end_token,
                                                 initial_state=initial_state))  # the caller's: not tracked
        self.initialize()  # TF1 checked its inputs (and split the beams) at construction

    def __call__(self, *args, **kwargs):
        raise TypeError(not_callable_message(self))

    def initialize(self, name=None):
        """Returns ``(finished [B, W], start_inputs [B, W, E], BeamSearchDecoderState)``."""
        return super().initialize(**self._inputs)


class AttentionWrapperLogic:
    """TF1's ``AttentionWrapper``: the modern wrapper's step on TF1's state (with ``time``).

    Args: as TF1 (and the modern wrapper): ``cell``, ``attention_mechanism`` (or a list),
    ``attention_layer_size``, ``alignment_history``, ``cell_input_fn``, ``output_attention``,
    ``initial_cell_state`` (what ``zero_state`` puts in ``cell_state``), ``name``,
    ``attention_layer``, ``attention_fn``.

    ``zero_state(batch_size, dtype)`` gives ``AttentionWrapperState(cell_state, attention, time=0,
    alignments, alignment_history, attention_state)``; each step adds 1 to ``time``. With beam
    search, ``batch_size`` is ``B * beam_width`` and the memory is tiled (``tile_batch``).
    A backend sets ``_tfa_state_class`` and ``_time_size`` and defines ``_zero_time(state)``.
    """

    def __init__(self, cell, attention_mechanism, attention_layer_size=None, alignment_history=False,
                 cell_input_fn=None, output_attention=True, initial_cell_state=None, name=None, attention_layer=None,
                 attention_fn=None):
        if initial_cell_state is not None:
            check_state_layout(getattr(cell, "state_size", None), initial_cell_state, "initial_cell_state")
        super().__init__(cell, attention_mechanism, attention_layer_size=attention_layer_size,
                         alignment_history=alignment_history, cell_input_fn=cell_input_fn,
                         output_attention=output_attention, initial_cell_state=initial_cell_state, name=name,
                         attention_layer=attention_layer, attention_fn=attention_fn)

    @property
    def state_size(self):
        """TF1's ``AttentionWrapperState`` of sizes (``time``: a scalar)."""
        return from_tfa_state(super().state_size, time=self._time_size)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None, **kwargs):
        """TF1's zero state (see ``zero_state``); ``inputs`` gives B and the dtype (PyTorch: ``device=``)."""
        state = super().get_initial_state(inputs=inputs, batch_size=batch_size, dtype=dtype, **kwargs)
        return from_tfa_state(state, time=self._zero_time(state))

    def zero_state(self, batch_size, dtype=None, **kwargs):
        """The state before the first step: ``cell_state`` (zeros or ``initial_cell_state``), zero
        attention, ``time`` 0, the initial alignments, an empty history (or ``()``)."""
        return self.get_initial_state(batch_size=batch_size, dtype=dtype, **kwargs)

    def _tf1_step(self, modern_step, inputs, state, **kwargs):
        """``modern_step`` (the modern wrapper's call) on tfa's five fields, then ``time + 1``."""
        check_attention_state(state, "state")
        output, next_state = modern_step(inputs, to_tfa_state(state, self._tfa_state_class), **kwargs)
        return output, from_tfa_state(next_state, time=state.time + 1)


# -- the mechanisms' TF1 signatures: num_units and a required memory first ------------------------------

class BahdanauAttentionArgs:
    """TF1's ``BahdanauAttention(num_units, memory, memory_sequence_length=None, normalize=False,
    probability_fn=None, score_mask_value=None, dtype=None, custom_key_value_fn=None, name=...)``.

    ``probability_fn``: a callable ``score [B, T] -> alignments`` (default softmax). Masked scores
    get the dtype's minimum (TF1: -inf; the same alignments for rows of length > 0).
    ``custom_key_value_fn`` and other ``score_mask_value``s raise NotImplementedError.
    """

    def __init__(self, num_units, memory, memory_sequence_length=None, normalize=False, probability_fn=None,
                 score_mask_value=None, dtype=None, custom_key_value_fn=None, name="BahdanauAttention"):
        check_mechanism_args(memory, score_mask_value, custom_key_value_fn, type(self).__name__)
        super().__init__(num_units, memory=memory, memory_sequence_length=memory_sequence_length, normalize=normalize,
                         probability_fn=probability_fn or "softmax", dtype=dtype, name=name)


class LuongAttentionArgs:
    """TF1's ``LuongAttention(num_units, memory, memory_sequence_length=None, scale=False,
    probability_fn=None, score_mask_value=None, dtype=None, custom_key_value_fn=None, name=...)``."""

    def __init__(self, num_units, memory, memory_sequence_length=None, scale=False, probability_fn=None,
                 score_mask_value=None, dtype=None, custom_key_value_fn=None, name="LuongAttention"):
        check_mechanism_args(memory, score_mask_value, custom_key_value_fn, type(self).__name__)
        super().__init__(num_units, memory=memory, memory_sequence_length=memory_sequence_length, scale=scale,
                         probability_fn=probability_fn or "softmax", dtype=dtype, name=name)


class BahdanauMonotonicAttentionArgs:
    """TF1's ``BahdanauMonotonicAttention(num_units, memory, memory_sequence_length=None,
    normalize=False, score_mask_value=None, sigmoid_noise=0.0, sigmoid_noise_seed=None,
    score_bias_init=0.0, mode="parallel", dtype=None, name=...)``."""

    def __init__(self, num_units, memory, memory_sequence_length=None, normalize=False, score_mask_value=None,
                 sigmoid_noise=0.0, sigmoid_noise_seed=None, score_bias_init=0.0, mode="parallel", dtype=None,
                 name="BahdanauMonotonicAttention"):
        check_mechanism_args(memory, score_mask_value, None, type(self).__name__)
        super().__init__(num_units, memory=memory, memory_sequence_length=memory_sequence_length, normalize=normalize,
                         sigmoid_noise=sigmoid_noise, sigmoid_noise_seed=sigmoid_noise_seed,
                         score_bias_init=score_bias_init, mode=mode, dtype=dtype, name=name)


class LuongMonotonicAttentionArgs:
    """TF1's ``LuongMonotonicAttention(num_units, memory, memory_sequence_length=None, scale=False,
    score_mask_value=None, sigmoid_noise=0.0, sigmoid_noise_seed=None, score_bias_init=0.0,
    mode="parallel", dtype=None, name=...)``."""

    def __init__(self, num_units, memory, memory_sequence_length=None, scale=False, score_mask_value=None,
                 sigmoid_noise=0.0, sigmoid_noise_seed=None, score_bias_init=0.0, mode="parallel", dtype=None,
                 name="LuongMonotonicAttention"):
        check_mechanism_args(memory, score_mask_value, None, type(self).__name__)
        super().__init__(num_units, memory=memory, memory_sequence_length=memory_sequence_length, scale=scale,
                         sigmoid_noise=sigmoid_noise, sigmoid_noise_seed=sigmoid_noise_seed,
                         score_bias_init=score_bias_init, mode=mode, dtype=dtype, name=name)
