"""Decode traces: what a decoder did at every step, as NumPy arrays, the same for both backends.

A ``DecodeTrace`` is recorded by ``TraceDecoder`` (``course_lib.tf.TraceDecoder`` or
``course_lib.torch.TraceDecoder``) and read by the widgets (``DecodeStepper``,
``BeamTreeViewer``). Shapes: ``T`` decode steps, ``B`` batch, ``W`` beams, ``K`` top-k,
``S`` memory (source) time, ``D`` input depth. Per step ``t`` and row ``b``:

* ``input_ids[t, b]`` the token that went in (-1 where only the vector is known: then
  ``inputs[t, b]`` holds it), ``sample_ids[t, b]`` the token the sampler picked,
* ``next_input_ids[t, b]`` the token fed back for step ``t + 1`` and ``fed_back_sample[t, b]``
  whether that is the model's own sample (greedy, sampling) or the ground truth (teacher forcing),
* ``top_k_ids / top_k_probs [T, B, K]`` the most likely next tokens, best first,
* ``finished[t, b]`` and ``lengths[t, b]`` after the step (as ``dynamic_decode`` counts them),
* ``alignments[t, b]`` the attention over the memory ``[S]`` (with an ``AttentionWrapper``).

A beam-search trace has a beam axis after the batch axis (``sample_ids [T, B, W]`` is
``BeamSearchDecoderOutput.predicted_ids``) and also ``parent_ids``, ``scores`` and ``log_probs``
``[T, B, W]``; ``final_beams()`` follows the parents back as ``gather_tree`` does.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Tuple, Union

import numpy as np

Alignments = Union[np.ndarray, Tuple[np.ndarray, ...], None]


def _shape(x) -> str:
    return f"shape {list(np.shape(x))}"


def gather_tree(step_ids, parent_ids, max_sequence_lengths, end_token) -> np.ndarray:
    """NumPy twin of the backends' ``gather_tree``: spell out each final beam from its parents.

    Args:
      step_ids: ``[T, B, W]`` int, the token each beam slot chose at each step.
      parent_ids: ``[T, B, W]`` int, the slot (of the step before) it grew from.
      max_sequence_lengths: ``[B]`` int, steps to trace per batch entry.
      end_token: int.

    Returns:
      ``[T, B, W]``: ``out[t, b, w]`` is the token at step ``t`` of the sequence that ends in
      slot ``w``; ``end_token`` at and after ``max_sequence_lengths[b]`` and after the first
      ``end_token`` of a sequence.
    """
    step_ids, parent_ids = np.asarray(step_ids), np.asarray(parent_ids)
    if step_ids.ndim != 3 or parent_ids.shape != step_ids.shape:
        raise ValueError(f"`step_ids` and `parent_ids` must both be [T, B, W], got {_shape(step_ids)} "
                         f"and {_shape(parent_ids)}")
    T, B, W = step_ids.shape
    lengths = np.asarray(max_sequence_lengths).reshape(-1)
    if lengths.shape != (B,):
        raise ValueError(f"`max_sequence_lengths` must be [B = {B}], got {_shape(lengths)}")
    out = np.empty_like(step_ids)
    beam = np.broadcast_to(np.arange(W), (B, W)).copy()  # (B, W): where each path is now
    rows = np.arange(B)[:, None]
    for t in reversed(range(T)):
        inside = (t < lengths)[:, None]  # (B, 1)
        out[t] = np.where(inside, step_ids[t][rows, beam], end_token)
        beam = np.where(inside, parent_ids[t][rows, beam], beam)
    is_end = (out == end_token).astype(np.int64)
    ended_before = (np.cumsum(is_end, axis=0) - is_end) > 0
    return np.where(ended_before, end_token, out)


@dataclasses.dataclass(frozen=True, eq=False)
class DecodeTrace:
    """Everything a decode did, step by step (see the module docstring for each field).

    Required: ``sample_ids``, ``finished``, ``lengths`` (``[T, B]``, or ``[T, B, W]`` for beam
    search). Optional fields are ``None`` when not recorded. ``initial_finished`` (``[B]`` or
    ``[B, W]``) are the flags before step 0; ``sampler`` names what picked the tokens.
    """

    sample_ids: np.ndarray
    finished: np.ndarray
    lengths: np.ndarray
    input_ids: Optional[np.ndarray] = None
    inputs: Optional[np.ndarray] = None
    next_input_ids: Optional[np.ndarray] = None
    fed_back_sample: Optional[np.ndarray] = None
    top_k_ids: Optional[np.ndarray] = None
    top_k_probs: Optional[np.ndarray] = None
    alignments: Alignments = None
    parent_ids: Optional[np.ndarray] = None
    scores: Optional[np.ndarray] = None
    log_probs: Optional[np.ndarray] = None
    initial_finished: Optional[np.ndarray] = None
    end_token: Optional[int] = None
    sampler: str = ""

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen)
        ids = np.asarray(self.sample_ids)
        if ids.ndim not in (2, 3):
            raise ValueError(f"`sample_ids` must be [T, B] (or [T, B, W] for beam search), got {_shape(ids)}")
        set_("sample_ids", ids.astype(np.int64))
        grid = ids.shape
        beam = ids.ndim == 3
        for name in ("finished", "lengths", "input_ids", "next_input_ids", "fed_back_sample",
                     "scores", "log_probs", "parent_ids"):
            value = getattr(self, name)
            if value is None:
                continue
            value = np.asarray(value)
            if value.shape != grid:
                raise ValueError(f"`{name}` must have the shape of `sample_ids` {list(grid)} "
                                 f"([T, B{', W' if beam else ''}]), got {_shape(value)}")
            if name in ("finished", "fed_back_sample"):
                value = value.astype(bool)
            elif name in ("scores", "log_probs"):
                value = value.astype(np.float64)
                if np.isnan(value).any():
                    where = np.argwhere(np.isnan(value))[0].tolist()
                    raise ValueError(f"`{name}` holds NaN at (step, row{', beam' if beam else ''}) {where}")
            else:
                value = value.astype(np.int64)
            set_(name, value)
        if beam:
            if self.parent_ids is None or self.scores is None:
                raise ValueError("a beam-search trace (`sample_ids` [T, B, W]) needs `parent_ids` and `scores` "
                                 "[T, B, W]")
            W = grid[2]
            bad = (self.parent_ids < 0) | (self.parent_ids >= W)
            if bad.any():
                raise ValueError(f"`parent_ids` must lie in [0, W = {W}), got {int(self.parent_ids[bad][0])} "
                                 f"at (step, row, beam) {np.argwhere(bad)[0].tolist()}")
        elif self.parent_ids is not None:
            raise ValueError(f"`parent_ids` belongs to beam search: `sample_ids` must then be [T, B, W], "
                             f"got {_shape(ids)}")
        if self.initial_finished is not None:
            init = np.asarray(self.initial_finished).astype(bool)
            if init.shape != grid[1:]:
                raise ValueError(f"`initial_finished` must be {list(grid[1:])}, got {_shape(init)}")
            set_("initial_finished", init)
        if self.inputs is not None:
            inputs = np.asarray(self.inputs, dtype=np.float64)
            if inputs.shape[:len(grid)] != grid or inputs.ndim != len(grid) + 1:
                raise ValueError(f"`inputs` must be {list(grid) + ['D']}, got {_shape(inputs)}")
            set_("inputs", inputs)
        self._check_top_k(grid)
        self._check_alignments(grid)
        if self.end_token is not None:
            set_("end_token", int(self.end_token))

    def _check_top_k(self, grid):
        if (self.top_k_ids is None) != (self.top_k_probs is None):
            raise ValueError("`top_k_ids` and `top_k_probs` go together: give both or neither")
        if self.top_k_ids is None:
            return
        k_ids, k_probs = np.asarray(self.top_k_ids).astype(np.int64), np.asarray(self.top_k_probs, np.float64)
        want = list(grid[:2]) + ["K"]
        if k_ids.ndim != 3 or k_ids.shape[:2] != grid[:2]:
            raise ValueError(f"`top_k_ids` must be {want}, got {_shape(k_ids)}")
        if k_probs.shape != k_ids.shape:
            raise ValueError(f"`top_k_probs` must have the shape of `top_k_ids` {list(k_ids.shape)}, "
                             f"got {_shape(k_probs)}")
        if np.isnan(k_probs).any() or (k_probs < 0).any() or (k_probs > 1 + 1e-6).any():
            raise ValueError("`top_k_probs` must be probabilities in [0, 1] without NaN")
        if (np.diff(k_probs, axis=-1) > 1e-9).any():
            raise ValueError("`top_k_probs` must be sorted best first (non-increasing along K)")
        object.__setattr__(self, "top_k_ids", k_ids)
        object.__setattr__(self, "top_k_probs", k_probs)

    def _check_alignments(self, grid):
        if self.alignments is None:
            return
        several = isinstance(self.alignments, (tuple, list))
        checked = []
        for i, a in enumerate(self.alignments if several else [self.alignments]):
            name = f"alignments[{i}]" if several else "alignments"
            a = np.asarray(a, dtype=np.float64)
            if a.ndim != len(grid) + 1 or a.shape[:len(grid)] != grid:
                raise ValueError(f"`{name}` must be {list(grid) + ['S']}, got {_shape(a)}")
            if np.isnan(a).any():
                raise ValueError(f"`{name}` holds NaN at {np.argwhere(np.isnan(a))[0].tolist()}")
            if (a < -1e-6).any():
                raise ValueError(f"`{name}` holds a negative weight at {np.argwhere(a < -1e-6)[0].tolist()}")
            checked.append(a)
        object.__setattr__(self, "alignments", tuple(checked) if several else checked[0])

    # -- sizes -------------------------------------------------------------------------------
    @property
    def num_steps(self) -> int:
        """``T``, the number of recorded steps."""
        return int(self.sample_ids.shape[0])

    @property
    def batch_size(self) -> int:
        return int(self.sample_ids.shape[1])

    @property
    def is_beam_search(self) -> bool:
        return self.sample_ids.ndim == 3

    @property
    def beam_width(self) -> Optional[int]:
        """``W`` for a beam-search trace, else None."""
        return int(self.sample_ids.shape[2]) if self.is_beam_search else None

    @property
    def top_k(self) -> int:
        return 0 if self.top_k_ids is None else int(self.top_k_ids.shape[-1])

    def alignment_list(self) -> list:
        """The alignments as a list with one array per attention mechanism (empty without attention)."""
        if self.alignments is None:
            return []
        return list(self.alignments) if isinstance(self.alignments, tuple) else [self.alignments]

    def finished_before(self, step: int) -> np.ndarray:
        """The finished flags going into ``step`` (``initial_finished`` for step 0): ``[B]`` or ``[B, W]``."""
        self.check_step(step)
        if step > 0:
            return self.finished[step - 1]
        if self.initial_finished is not None:
            return self.initial_finished
        return np.zeros(self.sample_ids.shape[1:], dtype=bool)

    def check_step(self, step: int, row: Optional[int] = None) -> None:
        """Raise ``IndexError`` naming the range when ``step`` (or ``row``) is outside the trace."""
        if not 0 <= int(step) < self.num_steps:
            raise IndexError(f"`step` must be in [0, {self.num_steps}), got {step}")
        if row is not None and not 0 <= int(row) < self.batch_size:
            raise IndexError(f"`row` must be in [0, {self.batch_size}), got {row}")

    # -- beam search ---------------------------------------------------------------------------
    def final_beams(self) -> np.ndarray:
        """The finished hypotheses ``[T, B, W]`` (best first) as the decoder's ``finalize`` spells them:
        ``gather_tree`` over ``sample_ids`` and ``parent_ids`` up to the longest beam of each entry."""
        if not self.is_beam_search:
            raise ValueError("`final_beams` needs a beam-search trace (sample_ids [T, B, W])")
        if self.num_steps == 0:
            return self.sample_ids.copy()
        max_lengths = self.lengths[-1].max(axis=1)  # (B,)
        end = -1 if self.end_token is None else self.end_token
        return gather_tree(self.sample_ids, self.parent_ids, max_lengths, end)

    def __repr__(self) -> str:
        kind = f"beam search, W={self.beam_width}" if self.is_beam_search else (self.sampler or "decode")
        extra = [f"top_k={self.top_k}"] if self.top_k else []
        if self.alignments is not None:
            extra.append(f"alignments over S={self.alignment_list()[0].shape[-1]}")
        return f"DecodeTrace({kind}: T={self.num_steps} steps, B={self.batch_size}{''.join(', ' + e for e in extra)})"
