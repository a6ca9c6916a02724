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
    """Step outputs ``[6, r * depth]`` that tell the usual mistakes apart (row by row: ``FRAME_ROW_STORY``)."""
    rng = np.random.default_rng(100 * r + depth)
    loud = rng.uniform(0.3, 0.9, (6, r, depth)) * rng.choice([-1, 1], (6, r, depth))
    quiet = rng.uniform(-0.05, 0.05, (6, r, depth))
    frames = loud.copy()
    frames[1, -1] = quiet[1, -1]
    frames[2] = quiet[2]
    frames[3, :-1] = quiet[3, :-1]
    frames[4] = quiet[4] / 5  # nearly silent: one number just above the threshold, the rest tiny
    frames[4, 0, 0] = FRAME_SILENCE * 1.5
    frames[5] = -np.abs(loud[5])  # loud, every number negative
    return frames.reshape(6, r * depth).astype(np.float32)


def frame_finished(outputs: np.ndarray, silence: float = FRAME_SILENCE) -> np.ndarray:
    """``[B]``: a step is silent when every number of it is below ``silence`` in magnitude."""
    return np.abs(outputs).max(axis=-1) < silence


def frame_row_story(row: int, r: int) -> str:
    """What row ``row`` of ``frame_outputs(r, ...)`` holds, and whether its step is silent."""
    if r == 1 and row == 1:
        return "row 1 is quiet in every number (with r = 1 its one frame is the quiet last one): it has finished"
    if r == 1 and row == 3:
        return "row 3 is loud (with r = 1 its one frame is the loud last one): it goes on"
    return FRAME_ROW_STORY[row]


FRAME_ROW_STORY = {
    0: "row 0 is loud in every frame: it goes on",
    1: "row 1's last frame is quiet but its other frames are loud: the step is not silent, so it goes on "
       "(look at every number of the step, not only the last frame)",
    2: "row 2 is quiet in every frame (small numbers, not exact zeros): a silent step, so it has finished",
    3: "row 3 is quiet except its last frame: the step is not silent, so it goes on",
    4: f"row 4 is quiet except one number, {FRAME_SILENCE * 1.5:.2f}: that number is not below the threshold, "
       "so the step is not silent and it goes on",
    5: "row 5 is loud, every number negative (between -0.9 and -0.3): not silent, so it goes on",
}


def frame_end_variants(outputs: np.ndarray, r: int, depth: int, silence: float = FRAME_SILENCE) -> dict:
    """The finished flags ``[B]`` of the usual wrong ``end_fn``s, ``{name: flags}``."""
    frames = outputs.reshape(len(outputs), r, depth)
    return {
        "mean": np.abs(outputs).mean(axis=-1) < silence,
        "no abs": outputs.max(axis=-1) < silence,
        "exact zero": np.all(outputs == 0, axis=-1),
        "any": np.abs(outputs).min(axis=-1) < silence,
        "last frame": np.abs(frames[:, -1]).max(axis=-1) < silence,
        "first frame": np.abs(frames[:, 0]).max(axis=-1) < silence,
    }


#: the row of ``frame_outputs`` built to show each wrong end_fn
FRAME_END_TELLTALE_ROW = {"mean": 4, "no abs": 5, "exact zero": 2, "any": 1, "last frame": 1, "first frame": 3}

#: what each wrong end_fn does, and how to fix it
FRAME_END_SLIPS = {
    "mean": "your end_fn averages |x|: one loud number hides among quiet ones. Every number must be quiet: "
            "the max of |x| over the step < silence",
    "no abs": "your end_fn compares x, not |x|, with silence: a loud negative step looks silent. Take the "
              "absolute value first: max |x| < silence",
    "exact zero": "your end_fn asks for exact zeros (TF1's TacoTestHelper did): a model's silence is small "
                  "numbers, not zeros. Compare max |x| with silence",
    "any": "your end_fn finishes a row when *any* number is quiet; it must be every number: max |x| < silence, "
           "not min",
    "last frame": "your end_fn looks at the last frame only; the step is silent when all of its r frames are",
    "first frame": "your end_fn looks at the first frame only; the step is silent when all of its r frames are",
}


def frame_next_inputs_mistake(got: np.ndarray, outputs: np.ndarray, depth: int) -> Optional[str]:
    """Name the usual mistakes of next_inputs_fn (None when ``got`` is right)."""
    if got.shape == outputs[:, -depth:].shape and np.allclose(got, outputs[:, -depth:]):
        return None
    if got.shape == outputs[:, :depth].shape and np.allclose(got, outputs[:, :depth]) and outputs.shape[1] > depth:
        return "you fed back the first frame; Tacotron feeds back the last one: outputs[:, -depth:]"
    if got.shape == outputs.shape:
        return "you fed back the whole step [B, r * depth]; the next input is one frame [B, depth]"
    if depth > 1 and got.shape == outputs[:, -1:].shape and np.allclose(got, outputs[:, -1:]):
        return (f"you fed back the last number [B, 1] (section 5's frames had one number); a frame here has "
                f"depth = {depth} numbers: outputs[:, -depth:]")
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
        positions = top_k_positions_mistake(drawn, TOP_K_LOGITS[r], k)
        if outside and positions:
            raise Mismatch("value", f"with k = {k}, a row with logits {_logits_text(TOP_K_LOGITS[r])} drew token "
                           f"{outside[0]}, outside the {k} likeliest: {positions}",
                           "map each choice back to its token id: gather the top-k ids at the drawn positions")
        if outside:
            bad = outside[0]
            rank = order.index(bad) + 1 if 0 <= bad < len(p) else None
            what = f"the {rank}{_ordinal(rank)} likeliest" if rank else "not a token id"
            raise Mismatch("value", f"with k = {k}, a row with logits {_logits_text(TOP_K_LOGITS[r])} drew token {bad}, "
                           f"{what}; only the {k} likeliest may be drawn",
                           "take the k largest logits (top_k) and draw among those only")
        freq = np.bincount(drawn.astype(np.int64), minlength=len(p)) / len(drawn)
        worst = int(np.argmax(np.abs(freq - p)))
        if abs(freq[worst] - p[worst]) > TOP_K_TOLERANCE:
            why = "draw with probabilities softmax(the k largest logits), renormalised over those k"
            for name, wrong in top_k_wrong_probabilities(TOP_K_LOGITS[r], k).items():
                if np.abs(freq - wrong).max() < TOP_K_TOLERANCE:
                    why = TOP_K_SLIPS[name]
                    break
            raise Mismatch("value", f"with k = {k}, token {worst} was drawn {freq[worst]:.3f} of the time for logits "
                           f"{_logits_text(TOP_K_LOGITS[r])}; expected {p[worst]:.3f} (± {TOP_K_TOLERANCE})", why)
    return ""


def top_k_wrong_probabilities(logits: np.ndarray, k: int) -> dict:
    """``{name: [V] probabilities}`` of the usual wrong top-k draws for one row of logits."""
    logits = np.asarray(logits, np.float64)
    top = np.argsort(-logits, kind="stable")[:k]
    right = top_k_probabilities(logits[None], k)[0]

    def on_top(weights):
        out = np.zeros_like(logits)
        out[top] = weights / weights.sum()
        return out

    return {
        "greedy": on_top(np.eye(k)[0]),
        "uniform": on_top(np.ones(k)),
        "softmax of probabilities": on_top(np.exp(right[top])),  # logits-taking draw given probabilities
        "proportional to logits": on_top(np.maximum(logits[top], 0.0)),  # probability-taking draw given logits
    }


#: what each wrong top-k draw did, and how to fix it
TOP_K_SLIPS = {
    "greedy": "every draw is the likeliest token: that is greedy decoding. Draw at random among the k best, "
              "with probabilities softmax(their logits)",
    "uniform": "you drew the k tokens uniformly; weight them by their softmax probabilities",
    "softmax of probabilities": "the draws are too flat, as from softmax(softmax(logits)): you gave probabilities "
                                "to a draw that takes logits and applies the softmax itself. Give it the k logits",
    "proportional to logits": "the draws are proportional to the logits themselves: you gave logits to a draw that "
                              "takes probabilities (weights). Give it softmax(the k logits)",
}


def top_k_positions_mistake(drawn: np.ndarray, logits: np.ndarray, k: int) -> Optional[str]:
    """The usual slip of returning the position among the k best (0..k-1) instead of the token id, or None."""
    top = np.argsort(-np.asarray(logits), kind="stable")[:k]
    if set(top.tolist()) == set(range(k)) or not np.all((drawn >= 0) & (drawn < k)):
        return None
    return (f"every id drawn is below k = {k}: you returned the position among the k best (0 to k - 1), not the "
            f"token id it stands for (here the k best are tokens {sorted(top.tolist())})")


def _logits_text(row: np.ndarray) -> str:
    """A row of logits as a message writes it: ``[2, 1.5, 0.2]`` (not float32's 0.20000000298023224)."""
    return "[" + ", ".join(f"{float(v):g}" for v in row) + "]"


def _ordinal(n) -> str:
    return {1: "st", 2: "nd", 3: "rd"}.get(n if n < 20 else n % 10, "th")
