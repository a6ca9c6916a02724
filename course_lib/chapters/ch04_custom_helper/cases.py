"""Chapter 4's exercise cases, NumPy references and the usual mistakes (framework-free).

The checkers (``checkers``) run a learner's sampler on these numbers; nothing here builds a tensor.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from course_lib.chapters.rnn_cases import cell_weight_shapes, rng_weights
from course_lib.common.checking import Mismatch, expect_shape

# -- exercise 1: FeedMaskSampler ----------------------------------------------------------------

#: vocabulary, embedding, units, batch, time of the decoder the FeedMaskSampler checker runs
FEED = dict(V=7, E=4, H=6, B=4, T=6, lengths=[6, 3, 1, 5], seed=41)


def feed_mask_arrays():
    """``(weights, embedding [V, E], ids [B, T], lengths [B], masks)``: the decoder's weights (Keras
    layout), the ground-truth ids and three ``feed_sample`` masks ``[B, T]`` (random, all false =
    teacher forcing, all true = free running after the first step)."""
    d = FEED
    shapes = {f"cell/{k}": s for k, s in cell_weight_shapes("LSTMCell", d["E"], d["H"]).items()}
    shapes.update({"output_layer/kernel": (d["H"], d["V"]), "output_layer/bias": (d["V"],)})
    weights = rng_weights(shapes, d["seed"], scale=1.0)
    rng = np.random.default_rng(d["seed"] + 1)
    embedding = rng.standard_normal((d["V"], d["E"])).astype(np.float32)
    ids = rng.integers(0, d["V"], size=(d["B"], d["T"]))
    lengths = np.array(d["lengths"])
    random_mask = rng.random((d["B"], d["T"])) < 0.5
    random_mask[:, 0] = False
    masks = {"random": random_mask, "all false (teacher forcing)": np.zeros((d["B"], d["T"]), bool),
             "all true (free running)": np.ones((d["B"], d["T"]), bool)}
    return weights, embedding, ids, lengths, masks


class FeedMaskReferenceBase:
    """The reference FeedMaskSampler's framework-free half: it keeps what ``initialize`` is given
    and knows its batch size. A binding adds ``__init__(feed_sample)``, ``sample`` and
    ``next_inputs`` in tensor code, and ``cl.Sampler`` as a second base."""

    def initialize(self, inputs, sequence_length, embedding):
        self.inputs, self.sequence_length, self.embedding = inputs, sequence_length, embedding
        return self.sequence_length <= 0, self.inputs[:, 0]

    @property
    def batch_size(self):
        return self.inputs.shape[0]


def one_step_late(mask: np.ndarray) -> np.ndarray:
    """``mask`` shifted one step later: what a sampler reading ``feed_sample[:, time]`` for step
    ``time + 1`` follows (the usual slip)."""
    return np.concatenate([np.zeros_like(mask[:, :1]), mask[:, :-1]], axis=1)


def explain_feed(mask: np.ndarray, lengths) -> Callable[[tuple], str]:
    """For a wrong logit at (row, step, ...): what that step should have read."""
    def explain(idx):
        row, step = idx[0], idx[1]
        if step >= lengths[row]:
            return f"row {row} has length {lengths[row]}, so step {step} is past its end"
        if step == 0:
            return "step 0 reads the first ground-truth input inputs[:, 0]"
        if mask[row, step]:
            return (f"feed_sample[{row}, {step}] is True: step {step} must read the embedding of the token "
                    f"picked at step {step - 1}")
        return f"feed_sample[{row}, {step}] is False: step {step} must read the ground truth inputs[:, {step}]"
    return explain


# -- exercise 2: make_frame_sampler -------------------------------------------------------------

#: (r, depth) cases of make_frame_sampler; silence threshold
FRAME_CASES = [(3, 1), (2, 4), (1, 2)]
FRAME_SILENCE = 0.1


def frame_outputs(r: int, depth: int) -> np.ndarray:
    """Step outputs ``[4, r * depth]`` that tell the usual mistakes apart: row 0 loud everywhere,
    row 1 loud except its last frame, row 2 silent, row 3 silent except its last frame."""
    rng = np.random.default_rng(100 * r + depth)
    loud = rng.uniform(0.3, 0.9, (4, r, depth)) * rng.choice([-1, 1], (4, r, depth))
    quiet = rng.uniform(-0.05, 0.05, (4, r, depth))
    frames = loud.copy()
    frames[1, -1] = quiet[1, -1]
    frames[2] = quiet[2]
    frames[3, :-1] = quiet[3, :-1]
    return frames.reshape(4, r * depth).astype(np.float32)


def frame_finished(outputs: np.ndarray, silence: float = FRAME_SILENCE) -> np.ndarray:
    """``[B]``: a step is silent when every number of it is below ``silence`` in magnitude."""
    return np.abs(outputs).max(axis=-1) < silence


FRAME_ROW_STORY = {
    0: "row 0 is loud in every frame: it goes on",
    1: "row 1's last frame is quiet but its other frames are loud: the step is not silent, so it goes on "
       "(look at every number of the step, not only the last frame)",
    2: "row 2 is quiet in every frame: a silent step, so it has finished",
    3: "row 3 is quiet except its last frame: the step is not silent, so it goes on",
}


def frame_next_inputs_mistake(got: np.ndarray, outputs: np.ndarray, depth: int) -> Optional[str]:
    """Name the usual mistakes of next_inputs_fn (None when ``got`` is right)."""
    if got.shape == outputs[:, -depth:].shape and np.allclose(got, outputs[:, -depth:]):
        return None
    if got.shape == outputs[:, :depth].shape and np.allclose(got, outputs[:, :depth]) and outputs.shape[1] > depth:
        return "you fed back the first frame; Tacotron feeds back the last one: outputs[:, -depth:]"
    if got.shape == outputs.shape:
        return "you fed back the whole step [B, r * depth]; the next input is one frame [B, depth]"
    return None


# -- exercise 3: TopKSampler --------------------------------------------------------------------

#: logits of the top-k checker: two rows of logits, each repeated TOP_K_REPEATS times
TOP_K_LOGITS = np.array([[2.0, 1.5, 1.0, 0.2, -1.0, -2.0],
                         [0.0, 3.0, -1.0, 2.5, 1.0, 0.5]], np.float32)
TOP_K_REPEATS = 4000
TOP_K_CASES = (1, 3)
TOP_K_TOLERANCE = 0.035


def top_k_probabilities(logits: np.ndarray, k: int) -> np.ndarray:
    """``[rows, V]``: softmax over the k largest logits of each row, 0 elsewhere."""
    logits = np.asarray(logits, np.float64)
    out = np.zeros_like(logits)
    for row, z in enumerate(logits):
        top = np.argsort(-z, kind="stable")[:k]
        e = np.exp(z[top] - z[top].max())
        out[row, top] = e / e.sum()
    return out


def check_top_k_draws(ids: np.ndarray, k: int) -> str:
    """Raise a ``Mismatch`` unless ``ids`` ``[2 * TOP_K_REPEATS]`` look like top-k draws."""
    expect_shape("sample_ids", ids, [len(TOP_K_LOGITS) * TOP_K_REPEATS], "batch",
                 hint="one id per row: return sample_ids [B], not [B, 1] or [B, k]")
    if ids.dtype.kind not in "iu":
        raise Mismatch("value", f"`sample_ids` must be integer token ids, got dtype {ids.dtype}",
                       "return the ids of the drawn tokens, not their logits or probabilities")
    want = top_k_probabilities(TOP_K_LOGITS, k)
    rows = ids.reshape(len(TOP_K_LOGITS), TOP_K_REPEATS)
    for r, (drawn, p) in enumerate(zip(rows, want)):
        order = list(np.argsort(-TOP_K_LOGITS[r], kind="stable"))
        outside = [int(i) for i in drawn if i < 0 or i >= len(p) or p[int(i)] == 0]
        if outside:
            bad = outside[0]
            rank = order.index(bad) + 1 if 0 <= bad < len(p) else None
            what = f"the {rank}{_ordinal(rank)} likeliest" if rank else "not a token id"
            raise Mismatch("value", f"with k = {k}, a row with logits {TOP_K_LOGITS[r].tolist()} drew token {bad}, "
                           f"{what}; only the {k} likeliest may be drawn",
                           "take the k largest logits (top_k) and draw among those only")
        freq = np.bincount(drawn.astype(np.int64), minlength=len(p)) / len(drawn)
        worst = int(np.argmax(np.abs(freq - p)))
        if abs(freq[worst] - p[worst]) > TOP_K_TOLERANCE:
            uniform = np.where(p > 0, 1.0 / k, 0.0)
            if np.abs(freq - uniform).max() < TOP_K_TOLERANCE:
                why = "you drew the k tokens uniformly; weight them by their softmax probabilities"
            else:
                why = "draw with probabilities softmax(the k largest logits), renormalised over those k"
            raise Mismatch("value", f"with k = {k}, token {worst} was drawn {freq[worst]:.3f} of the time for logits "
                           f"{TOP_K_LOGITS[r].tolist()}; expected {p[worst]:.3f} (± {TOP_K_TOLERANCE})", why)
    return ""


def _ordinal(n) -> str:
    return {1: "st", 2: "nd", 3: "rd"}.get(n if n < 20 else n % 10, "th")
