"""``contrib.seq2seq``'s attention (TensorFlow): TF1's mechanisms and ``AttentionWrapper``.

The mechanisms are the modern ones (``course_lib.tf.attention``) with TF1's signatures
(``num_units`` and a required ``memory`` first). ``AttentionWrapper`` is the modern wrapper with
TF1's state: ``AttentionWrapperState(cell_state, attention, time, alignments, alignment_history,
attention_state)`` from ``zero_state(batch_size, dtype)``, which ``clone(cell_state=...)`` fills.
The TF1 arguments are handled once, in ``course_lib.common.contrib.decoding``.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.common.contrib import AttentionWrapperState  # noqa: F401  (one of this module's names)
from course_lib.common.contrib import decoding as tf1
from course_lib.tf import attention as modern
from course_lib.tf.attention import AttentionMechanism, hardmax, monotonic_attention, safe_cumprod  # noqa: F401


class BahdanauAttention(tf1.BahdanauAttentionArgs, modern.BahdanauAttention):
    __doc__ = tf1.BahdanauAttentionArgs.__doc__


class LuongAttention(tf1.LuongAttentionArgs, modern.LuongAttention):
    __doc__ = tf1.LuongAttentionArgs.__doc__


class BahdanauMonotonicAttention(tf1.BahdanauMonotonicAttentionArgs, modern.BahdanauMonotonicAttention):
    __doc__ = tf1.BahdanauMonotonicAttentionArgs.__doc__


class LuongMonotonicAttention(tf1.LuongMonotonicAttentionArgs, modern.LuongMonotonicAttention):
    __doc__ = tf1.LuongMonotonicAttentionArgs.__doc__


class AttentionWrapper(tf1.AttentionWrapperLogic, modern.AttentionWrapper):
    __doc__ = tf1.AttentionWrapperLogic.__doc__
    _tfa_state_class = modern.AttentionWrapperState
    _time_size = tf.TensorShape([])

    def _zero_time(self, state):
        return tf.zeros([], tf.int32)

    def call(self, inputs, state, **kwargs):
        """One step. Args: inputs ``[B, D_in]``; state TF1's ``AttentionWrapperState``.

        Returns ``(output [B, A] (or the cell output), next_state)`` with ``time + 1``.
        """
        return self._tf1_step(super().call, inputs, state, **kwargs)


__all__ = ["AttentionMechanism", "BahdanauAttention", "LuongAttention", "BahdanauMonotonicAttention",
           "LuongMonotonicAttention", "AttentionWrapper", "AttentionWrapperState", "hardmax",
           "monotonic_attention", "safe_cumprod"]
