"""TF1's Helper interface, and TF1's Helpers as modern samplers bound to their inputs (no framework).

A TF1 Helper takes its inputs at construction: ``TrainingHelper(inputs, sequence_length)``, then
``initialize()`` takes nothing. A modern sampler (tfa 0.23, ``course_lib``) takes its inputs in
``initialize(inputs, sequence_length=...)``. So each TF1 Helper here is a ``SamplerHelper``: it
makes the modern sampler, keeps the inputs, and calls ``sampler.initialize(inputs, ...)`` when it
is initialized (once at construction too, so that a bad argument fails there, as in TF1). A
backend binds each one to its own sampler class (``_sampler_class``).

``HelperAsSampler`` goes the other way: it lets the modern ``BasicDecoder`` drive any TF1 Helper
(yours too), so the contrib ``BasicDecoder`` runs on the modern decode loop.
"""

from __future__ import annotations

import abc

from course_lib.common.args import check_callable
from course_lib.common.checks import describe
from course_lib.common.interfaces import SamplerInterface

_INTERFACE = ("the properties batch_size, sample_ids_shape, sample_ids_dtype and the methods "
              "initialize(name=None) -> (finished, first_inputs), sample(time, outputs, state, name=None) "
              "-> sample_ids, next_inputs(time, outputs, state, sample_ids, name=None) -> "
              "(finished, next_inputs, next_state)")


class Helper(abc.ABC):
    """TF1's ``tf.contrib.seq2seq.Helper``: what a ``BasicDecoder`` feeds itself at each step.

    A subclass defines the properties ``batch_size``, ``sample_ids_shape`` (without the batch
    axis), ``sample_ids_dtype`` and the methods::

        initialize(name=None) -> (finished [B], first_inputs [B, ...])
        sample(time, outputs, state, name=None) -> sample_ids [B, ...]
        next_inputs(time, outputs, state, sample_ids, name=None) -> (finished, next_inputs, next_state)

    Its inputs are given at construction (unlike a modern sampler's ``initialize(inputs)``).
    """

    def __new__(cls, *args, **kwargs):
        missing = sorted(getattr(cls, "__abstractmethods__", ()))
        if missing:
            names = ", ".join(f"`{m}`" for m in missing)
            raise TypeError(f"{cls.__name__} is a Helper without {names}: a TF1 Helper defines {_INTERFACE}")
        return super().__new__(cls)

    @property
    @abc.abstractmethod
    def batch_size(self):
        """The batch size ``B``."""

    @property
    @abc.abstractmethod
    def sample_ids_shape(self):
        """The shape of one row's sample ids (``[]`` for token ids)."""

    @property
    @abc.abstractmethod
    def sample_ids_dtype(self):
        """The dtype of the sample ids."""

    @abc.abstractmethod
    def initialize(self, name=None):
        """Returns ``(finished [B], first_inputs [B, ...])``."""

    @abc.abstractmethod
    def sample(self, time, outputs, state, name=None):
        """Returns ``sample_ids [B, ...]``."""

    @abc.abstractmethod
    def next_inputs(self, time, outputs, state, sample_ids, name=None):
        """Returns ``(finished [B], next_inputs [B, ...], next_state)``."""


def check_helper(helper, name: str = "helper") -> None:
    """A contrib ``BasicDecoder`` takes a TF1 ``Helper``; a TypeError that says what was given otherwise."""
    if isinstance(helper, Helper):
        return
    if isinstance(helper, SamplerInterface):
        raise TypeError(
            f"`{name}` must be a TF1 Helper (inputs bound at construction), got the modern sampler "
            f"{type(helper).__name__}, which takes its inputs in initialize(...): use contrib.seq2seq's "
            "Helper (e.g. TrainingHelper(inputs, sequence_length)), or the modern BasicDecoder(cell, sampler)")
    missing = [m for m in ("initialize", "sample", "next_inputs") if not callable(getattr(helper, m, None))]
    if missing:
        raise TypeError(f"`{name}` must be a contrib.seq2seq.Helper, which defines {_INTERFACE}; got "
                        f"{describe(helper)} without {', '.join(f'`{m}`' for m in missing)}")
    raise TypeError(f"`{name}` must be a contrib.seq2seq.Helper (subclass it, as TF1's BasicDecoder asked), "
                    f"got {type(helper).__name__}")


class HelperAsSampler:
    """A TF1 Helper seen as a modern sampler (mixed into a backend's ``Sampler``): ``initialize``
    ignores the inputs (the helper has them), the rest is passed on."""

    def __init__(self, helper):
        self.helper = helper

    @property
    def batch_size(self):
        return self.helper.batch_size

    @property
    def sample_ids_shape(self):
        return self.helper.sample_ids_shape

    @property
    def sample_ids_dtype(self):
        return self.helper.sample_ids_dtype

    def initialize(self, inputs=None, **kwargs):
        return self.helper.initialize()

    def sample(self, time, outputs, state):
        return self.helper.sample(time=time, outputs=outputs, state=state)

    def next_inputs(self, time, outputs, state, sample_ids):
        return self.helper.next_inputs(time=time, outputs=outputs, state=state, sample_ids=sample_ids)


class SamplerHelper(Helper):
    """A TF1 Helper over a modern sampler: the inputs are bound at construction.

    ``self.sampler`` is the modern sampler; ``initialize()`` calls ``sampler.initialize(*inputs)``
    again each time (so a decode after an optimizer step sees the new weights).
    """

    #: the modern sampler class this Helper runs on (set by each backend)
    _sampler_class = None

    def _bind(self, sampler_kwargs: dict, init_args: tuple, init_kwargs: dict, initialize_now: bool = True):
        if self._sampler_class is None:
            raise TypeError(f"{type(self).__name__} is the framework-free half: use the one in "
                            "course_lib.tf.contrib.seq2seq or course_lib.torch.contrib.seq2seq")
        self.sampler = self._sampler_class(**sampler_kwargs)
        self._init_args, self._init_kwargs = init_args, init_kwargs
        if initialize_now:  # TF1 checked (and unstacked) the inputs at construction
            self.sampler.initialize(*init_args, **init_kwargs)

    @property
    def batch_size(self):
        return self.sampler.batch_size

    @property
    def sample_ids_shape(self):
        return self.sampler.sample_ids_shape

    @property
    def sample_ids_dtype(self):
        return self.sampler.sample_ids_dtype

    def initialize(self, name=None):
        """Returns ``(finished [B], first_inputs [B, ...])``."""
        return self.sampler.initialize(*self._init_args, **self._init_kwargs)

    def sample(self, time, outputs, state, name=None):
        return self.sampler.sample(time=time, outputs=outputs, state=state)

    def next_inputs(self, time, outputs, state, sample_ids, name=None):
        return self.sampler.next_inputs(time=time, outputs=outputs, state=state, sample_ids=sample_ids)


class TrainingHelper(SamplerHelper):
    """Teacher forcing: step ``t + 1`` reads ``inputs[:, t + 1]``; a row finishes at its length.

    Args:
      inputs: ``[B, T, D]`` (``[T, B, D]`` if ``time_major``).
      sequence_length: int ``[B]`` (required, as in TF1).
      time_major: whether ``inputs`` is time-major.
      name: unused (TF1's name scope).
    """

    def __init__(self, inputs, sequence_length, time_major=False, name=None):
        self._bind(dict(time_major=time_major), (inputs,), dict(sequence_length=sequence_length))


class GreedyEmbeddingHelper(SamplerHelper):
    """Inference: feed back the embedding of the argmax; a row finishes on ``end_token``.

    Args:
      embedding: ``[V, E]`` matrix (``embedding_lookup``'s params) or a callable ids -> vectors.
      start_tokens: int ``[B]``.
      end_token: int scalar.
    """

    def __init__(self, embedding, start_tokens, end_token):
        self._bind({}, (embedding,), dict(start_tokens=start_tokens, end_token=end_token))


class SampleEmbeddingHelper(SamplerHelper):
    """Inference by sampling from ``softmax(logits / softmax_temperature)``.

    Args: ``embedding``, ``start_tokens``, ``end_token`` as ``GreedyEmbeddingHelper``;
    ``softmax_temperature`` (None: 1); ``seed``.
    """

    def __init__(self, embedding, start_tokens, end_token, softmax_temperature=None, seed=None):
        self._bind(dict(softmax_temperature=softmax_temperature, seed=seed), (embedding,),
                   dict(start_tokens=start_tokens, end_token=end_token))


class ScheduledEmbeddingTrainingHelper(SamplerHelper):
    """Scheduled sampling over ids: with probability ``sampling_probability`` a row feeds the
    embedding of a sampled token instead of the ground truth (sample ids -1 where it does not).

    Args (TF1's order: ``embedding`` before ``sampling_probability``): ``inputs``,
    ``sequence_length``, ``embedding``, ``sampling_probability`` (scalar or ``[B]``),
    ``time_major``, ``seed``, ``scheduling_seed``, ``name`` (unused).
    """

    def __init__(self, inputs, sequence_length, embedding, sampling_probability, time_major=False, seed=None,
                 scheduling_seed=None, name=None):
        self._bind(dict(sampling_probability=sampling_probability, time_major=time_major, seed=seed,
                        scheduling_seed=scheduling_seed),
                   (inputs,), dict(sequence_length=sequence_length, embedding=embedding))


class ScheduledOutputTrainingHelper(SamplerHelper):
    """Scheduled sampling over outputs: with probability ``sampling_probability`` a row feeds its
    own output (through ``next_inputs_fn`` if given), with ``auxiliary_inputs [B, T, A]`` appended.

    Args: ``inputs``, ``sequence_length``, ``sampling_probability``, ``time_major``, ``seed``,
    ``next_inputs_fn``, ``auxiliary_inputs``, ``name`` (unused).
    """

    def __init__(self, inputs, sequence_length, sampling_probability, time_major=False, seed=None,
                 next_inputs_fn=None, auxiliary_inputs=None, name=None):
        self._bind(dict(sampling_probability=sampling_probability, time_major=time_major, seed=seed,
                        next_inputs_fn=next_inputs_fn),
                   (inputs,), dict(sequence_length=sequence_length, auxiliary_inputs=auxiliary_inputs))


class InferenceHelper(SamplerHelper):
    """Inference on anything (e.g. spectrogram frames), from functions; ``start_inputs`` at construction.

    Args: ``sample_fn(outputs) -> sample_ids``, ``sample_shape``, ``sample_dtype``,
    ``start_inputs [B, ...]``, ``end_fn(sample_ids) -> finished [B]``,
    ``next_inputs_fn(sample_ids) -> next_inputs`` (identity when None).
    """

    def __init__(self, sample_fn, sample_shape, sample_dtype, start_inputs, end_fn, next_inputs_fn=None):
        self._bind(dict(sample_fn=sample_fn, sample_shape=sample_shape, sample_dtype=sample_dtype, end_fn=end_fn,
                        next_inputs_fn=next_inputs_fn), (start_inputs,), {})


class CustomHelper(SamplerHelper):
    """A Helper from three functions: ``initialize_fn() -> (finished, first_inputs)`` (no argument,
    as TF1), ``sample_fn(time, outputs, state)``, ``next_inputs_fn(time, outputs, state, sample_ids)``.

    ``batch_size`` is known after the first ``initialize()`` (a ValueError before).
    """

    def __init__(self, initialize_fn, sample_fn, next_inputs_fn, sample_ids_shape=None, sample_ids_dtype=None):
        check_callable(initialize_fn, "initialize_fn")
        self._bind(dict(initialize_fn=lambda inputs=None, **kwargs: initialize_fn(), sample_fn=sample_fn,
                        next_inputs_fn=next_inputs_fn, sample_ids_shape=sample_ids_shape,
                        sample_ids_dtype=sample_ids_dtype), (None,), {}, initialize_now=False)
