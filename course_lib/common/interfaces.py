"""The two interfaces of the decode loop, written once: a sampler and a decoder.

Both backends' ``Sampler`` and ``Decoder`` derive from these (and from ``keras.layers.Layer`` /
``torch.nn.Module`` for the decoder), so the concepts, their docstrings and their defaults live
here, framework-free; a backend adds only what needs its tensors (shapes, dtypes, the loop).

A **sampler** (TF1: a Helper) answers three questions for ``BasicDecoder``:

* ``initialize(...) -> (finished [B], first_inputs)``: where does decoding start?
* ``sample(time, outputs, state) -> sample_ids``: which token did the step emit?
* ``next_inputs(time, outputs, state, sample_ids) -> (finished, next_inputs, next_state)``:
  what goes in next (ground truth under teacher forcing, the sample's embedding at inference),
  and which rows are done?

A **decoder** is what ``dynamic_decode`` runs::

    finished, inputs, state = decoder.initialize(...)
    while not all(finished):
        outputs, state, inputs, finished = decoder.step(time, inputs, state)

with ``batch_size``, ``output_size`` and ``output_dtype`` (one step's outputs, without the batch
axis) describing what it emits, ``tracks_own_finished`` saying whether its finished flags are
final, and ``finalize`` post-processing the stacked outputs.
"""

from __future__ import annotations

import abc

from course_lib.common.args import check_initialized


class SamplerInterface(abc.ABC):
    """What every sampler defines; see the module docstring."""

    _batch_size = None

    @abc.abstractmethod
    def initialize(self, inputs, **kwargs):
        """Returns ``(finished [B] bool, first_inputs [B, ...])``."""

    @abc.abstractmethod
    def sample(self, time, outputs, state):
        """Returns ``sample_ids [B, *sample_ids_shape]``."""

    @abc.abstractmethod
    def next_inputs(self, time, outputs, state, sample_ids):
        """Returns ``(finished [B], next_inputs [B, ...], next_state)``."""

    @property
    def batch_size(self):
        """The batch size, known after ``initialize`` (a ValueError before, as in tfa)."""
        return check_initialized(self, self._batch_size)


class DecoderInterface:
    """What every decoder defines; see the module docstring. Calling a decoder runs ``dynamic_decode``."""

    @property
    def batch_size(self):
        """The batch size ``B``."""
        raise NotImplementedError

    @property
    def output_size(self):
        """A structure of shapes (without batch) like one step's outputs."""
        raise NotImplementedError

    @property
    def output_dtype(self):
        """A structure of dtypes like one step's outputs."""
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
