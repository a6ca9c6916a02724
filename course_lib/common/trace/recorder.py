"""Recording a decode: ``TraceRecorder`` collects the steps as NumPy; how each step's next
input was chosen (``feed_back``, ``start_ids``) and where the alignments are (``find_alignments``).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from course_lib.common.trace.record import Alignments, DecodeTrace, _shape


def top_k_of(logits: np.ndarray, k: int, temperature: Optional[float] = None):
    """``(ids [..., k], probs [..., k])`` of ``softmax(logits / temperature)``, best first; ties
    go to the lower id (as ``tf.math.top_k``)."""
    z = np.asarray(logits, dtype=np.float64)
    if temperature is not None:
        z = z / float(temperature)
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=-1, keepdims=True)
    k = min(int(k), p.shape[-1])
    order = np.argsort(-p, axis=-1, kind="stable")[..., :k]
    return order.astype(np.int64), np.take_along_axis(p, order, axis=-1)


def find_alignments(state) -> Alignments:
    """The ``alignments`` of the first ``AttentionWrapperState`` inside a (nested) state, or None.

    Duck-typed on the field names, so it works on either backend's states (NumPy-converted or not).
    """
    fields = getattr(type(state), "_fields", ())
    if "alignments" in fields and "attention_state" in fields:
        return state.alignments
    if isinstance(state, (tuple, list)):
        for item in state:
            found = find_alignments(item)
            if found is not None:
                return found
    return None


class TraceRecorder:
    """Collects one decode's steps as NumPy (the framework-free half of ``TraceDecoder``).

    The backends convert their tensors with ``to_numpy`` and call ``start`` once, then
    ``record`` after every ``decoder.step``; ``trace()`` stacks the steps into a ``DecodeTrace``.
    """

    def __init__(self, top_k: int = 5):
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 0:
            raise ValueError(f"`top_k` must be an int >= 0, got {top_k!r}")
        self.top_k = int(top_k)
        self._steps = None

    def start(self, finished, input_ids, sampler="", end_token=None, tracks_own_finished=False,
              temperature=None):
        """A new decode: ``finished [B]`` (``[B, W]``) and ``input_ids`` going into step 0 (or None)."""
        self._steps = []
        self._initial_finished = np.asarray(finished, dtype=bool)
        self._finished = self._initial_finished
        self._lengths = np.zeros(self._finished.shape, dtype=np.int64)
        self._input_ids = None if input_ids is None else np.asarray(input_ids, dtype=np.int64)
        self._sampler, self._end_token = sampler, end_token
        self._tracks_own_finished, self._temperature = tracks_own_finished, temperature

    @property
    def started(self) -> bool:
        return self._steps is not None

    def record(self, time, inputs, sample_ids, step_finished, next_input_ids=None, fed_back_sample=None,
               logits=None, alignments=None, parent_ids=None, scores=None, log_probs=None, lengths=None):
        """One step, all NumPy. ``next_input_ids`` also becomes the next step's ``input_ids``."""
        if self._steps is None:
            raise RuntimeError("TraceRecorder.start(...) must be called before record(...)")
        grid = self._finished.shape
        finished = np.asarray(step_finished, dtype=bool)
        if not self._tracks_own_finished:
            finished = finished | self._finished
        if lengths is None:  # dynamic_decode's count: steps up to and including the finishing one
            lengths = np.where(~self._finished, int(time) + 1, self._lengths)
        unknown = np.full(grid, -1, dtype=np.int64)
        step = {
            "sample_ids": np.asarray(sample_ids).astype(np.int64).reshape(grid),
            "finished": finished,
            "lengths": np.asarray(lengths, dtype=np.int64),
            "input_ids": unknown if self._input_ids is None else self._input_ids,
            "inputs": np.asarray(inputs, dtype=np.float64).reshape(grid + (-1,)),
            "next_input_ids": unknown if next_input_ids is None else np.asarray(next_input_ids, dtype=np.int64),
            "fed_back_sample": None if fed_back_sample is None else np.broadcast_to(fed_back_sample, grid),
            "alignments": alignments,
            "parent_ids": parent_ids, "scores": scores, "log_probs": log_probs,
        }
        if logits is not None and self.top_k > 0 and np.ndim(logits) == 2:
            step["top_k_ids"], step["top_k_probs"] = top_k_of(logits, self.top_k, self._temperature)
        self._steps.append(step)
        self._finished, self._lengths = finished, step["lengths"]
        self._input_ids = None if next_input_ids is None else step["next_input_ids"]

    def trace(self) -> DecodeTrace:
        """The recorded decode as a ``DecodeTrace``."""
        if self._steps is None:
            raise RuntimeError("nothing recorded yet: run a decode with the TraceDecoder first")
        steps = self._steps

        def stack(name, dtype=None):
            values = [s.get(name) for s in steps]
            if not steps or any(v is None for v in values):
                return None
            return np.stack([np.asarray(v, dtype=dtype) for v in values])

        def stack_alignments():
            values = [s["alignments"] for s in steps]
            if not steps or any(v is None for v in values):
                return None
            if isinstance(values[0], (tuple, list)):
                return tuple(np.stack([np.asarray(v[i]) for v in values]) for i in range(len(values[0])))
            return np.stack([np.asarray(v) for v in values])

        grid = (len(steps),) + self._finished.shape
        input_ids = stack("input_ids")
        known = input_ids is not None and (input_ids >= 0).all()
        return DecodeTrace(
            sample_ids=stack("sample_ids") if steps else np.zeros(grid, np.int64),
            finished=stack("finished") if steps else np.zeros(grid, bool),
            lengths=stack("lengths") if steps else np.zeros(grid, np.int64),
            input_ids=input_ids,
            inputs=None if known else stack("inputs"),
            next_input_ids=stack("next_input_ids"),
            fed_back_sample=stack("fed_back_sample", bool),
            top_k_ids=stack("top_k_ids"), top_k_probs=stack("top_k_probs"),
            alignments=stack_alignments(),
            parent_ids=stack("parent_ids"), scores=stack("scores"), log_probs=stack("log_probs"),
            initial_finished=self._initial_finished,
            end_token=self._end_token, sampler=self._sampler,
        )


#: How a decoder chooses the next input, as ``TraceDecoder`` tells it from the sampler.
FEED_KINDS = ("sample", "teacher_forcing", "scheduled_embedding", "scheduled_output", "beam", "other")


def start_ids(kind: str, start_tokens, ground_truth, finished) -> Optional[np.ndarray]:
    """The ids going into step 0 (``[B]``, or ``[B, W]`` for beam search), or None if unknown.

    ``start_tokens [B]`` (inference), ``ground_truth [B, T]`` (teacher forcing, optional).
    """
    grid = np.shape(finished)
    if kind in ("sample", "beam") and start_tokens is not None:
        start = np.asarray(start_tokens, dtype=np.int64).reshape(-1)
        return np.broadcast_to(start.reshape((-1,) + (1,) * (len(grid) - 1)), grid).copy()
    if kind in ("teacher_forcing", "scheduled_embedding", "scheduled_output") and ground_truth is not None:
        ground_truth = np.asarray(ground_truth)
        if ground_truth.ndim != 2 or ground_truth.shape[0] != grid[0]:
            raise ValueError(f"`input_ids` must be [B = {grid[0]}, T] ground-truth ids, got {_shape(ground_truth)}")
        return ground_truth[:, 0].astype(np.int64) if ground_truth.shape[1] else np.full(grid, -1)
    return None


def feed_back(kind: str, time: int, sample_ids, ground_truth=None):
    """``(next_input_ids, fed_back_sample)`` of step ``time`` (``[B]`` each; None when unknown).

    ``sample``: the sample goes back in; ``teacher_forcing``: the ground truth ``[B, T]`` of step
    ``time + 1``; ``scheduled_embedding``: the sample where it is >= 0, else the ground truth;
    ``scheduled_output``: the output (no id) where ``sample_ids`` is True, else the ground truth.
    Unknown ids are -1.
    """
    sample_ids = np.asarray(sample_ids)
    B = sample_ids.shape[0]
    truth = np.full(B, -1, dtype=np.int64)
    if ground_truth is not None and time + 1 < np.shape(ground_truth)[1]:
        truth = np.asarray(ground_truth)[:, time + 1].astype(np.int64)
    if kind in ("sample", "beam"):
        return sample_ids.astype(np.int64), np.ones(sample_ids.shape, dtype=bool)
    if kind == "teacher_forcing":
        return truth, np.zeros(B, dtype=bool)
    if kind == "scheduled_embedding":
        sampled = sample_ids > -1
        return np.where(sampled, sample_ids, truth).astype(np.int64), sampled
    if kind == "scheduled_output":
        sampled = sample_ids.astype(bool)
        return np.where(sampled, -1, truth), sampled
    return None, None
