"""Attention (TensorFlow / Keras 3), following `tensorflow_addons.seq2seq` 0.23: this package only re-exports.

A mechanism holds the encoder's output (the *memory*) and scores a decoder query against it::

    mechanism = BahdanauAttention(units, memory, memory_sequence_length)  # keys computed once
    alignments, next_state = mechanism(query, state)                      # [B, T] each

Modules, each importing only those above it:

* ``ops``: ``hardmax``, ``safe_cumprod``, ``monotonic_attention`` (stateless functions);
* ``keras_support`` (TensorFlow only): ``get_config`` / ``from_config``, tfa's two-phase ``build`` and
  the nodes of a functional ``keras.Model`` whose memory is a Keras symbolic tensor;
* ``base``: ``AttentionMechanism`` (memory set-up, masking) and the additive / multiplicative scores;
* ``bahdanau_luong``: ``BahdanauAttention``, ``LuongAttention``;
* ``monotonic``: ``BahdanauMonotonicAttention``, ``LuongMonotonicAttention``;
* ``location``: ``LocationSensitiveAttention`` (Tacotron 2);
* ``wrapper``: ``AttentionWrapper`` (a cell that attends at every step), ``AttentionWrapperState``.

Shapes: B batch, T memory time, D memory depth, U ``units``. Positions past
``memory_sequence_length`` get exactly zero alignment.
"""

from course_lib.tf.attention.ops import hardmax, monotonic_attention, safe_cumprod
from course_lib.tf.attention.base import AttentionMechanism
from course_lib.tf.attention.bahdanau_luong import BahdanauAttention, LuongAttention
from course_lib.tf.attention.monotonic import BahdanauMonotonicAttention, LuongMonotonicAttention
from course_lib.tf.attention.location import LocationSensitiveAttention, LocationSensitiveAttentionState
from course_lib.tf.attention.wrapper import (
    AttentionWrapper, AttentionWrapperState, alignment_history_batch_major,
)

__all__ = [
    "AttentionMechanism", "BahdanauAttention", "LuongAttention", "BahdanauMonotonicAttention",
    "LuongMonotonicAttention", "LocationSensitiveAttention", "LocationSensitiveAttentionState",
    "AttentionWrapper", "AttentionWrapperState", "alignment_history_batch_major",
    "monotonic_attention", "safe_cumprod", "hardmax",
]
