"""Checkers for the exercises of chapter 7 (PyTorch): ``from course_lib.torch import exercises_ch7 as ex``.

Each ``check_*`` runs your function on small cases, compares it with ``course_lib.torch.chatbot`` and
prints ✓, or ✗ with what is wrong and a hint. It returns a ``CheckResult`` and never raises for a
wrong answer. The TensorFlow backend has the same checkers under the same names.
"""

from __future__ import annotations

import numpy as np
import torch

import course_lib.torch as cl
from course_lib.common import exercises as common
from course_lib.common import exercises_ch7 as ch7
from course_lib.common import nest
from course_lib.common.exercises import CheckResult, Mismatch, call, expect_close, expect_shape, run_check
from course_lib.torch import chatbot as cb

__all__ = ["CheckResult", "check_reverse_padded", "check_beam_start", "check_sampled_softmax"]


def _np(x):
    return np.asarray(cl.to_numpy(x))


def check_reverse_padded(my_reverse_padded) -> CheckResult:
    """Exercise: ``my_reverse_padded(x [B, T, ...], lengths [B]) -> [B, T, ...]``, each row reversed
    within its length (what the backward half of a bidirectional encoder reads)."""
    def body():
        for i, (_, _, _, lengths) in enumerate(ch7.REVERSE_CASES):
            x, L = ch7.reverse_inputs(i)
            want = ch7.reverse_padded_numpy(x, L)
            got = _np(call(my_reverse_padded, torch.tensor(x), torch.tensor(L),
                           what="my_reverse_padded(x, lengths)"))
            expect_shape("result", got, want.shape, hint="the result has the shape of `x`")
            if not np.array_equal(got, want):
                mistake = ch7.reverse_mistake(got, x, L)
                if mistake:
                    raise Mismatch("value", f"for lengths {lengths}: {mistake}")
                axes = ("row", "step", "feature")[:x.ndim]
                expect_close("result", got, want, axes, explain=common.explain_padding(lengths))
        return (f"reverses {len(ch7.REVERSE_CASES)} padded batches within their lengths "
                "(2-D and 3-D, lengths 0 and 1 too)")
    return run_check("check_reverse_padded", body)


def _beam_case():
    """A small attention model with fixed weights, an encoded batch of 2 prompts, beam width 3."""
    model = cb.Seq2SeqChatbot(20, embedding_size=6, units=8, attention="bahdanau")
    weights = cl.export_weights(model)
    cl.import_weights(model, common.rng_weights({k: v.shape for k, v in weights.items()}, seed=77))
    model.eval()
    source = torch.tensor([[5, 6, 7, 8], [9, 10, 0, 0]])
    lengths = torch.tensor([4, 2])
    with torch.no_grad():
        memory, state = model.encode(source, lengths)
    return model, memory, lengths, state, 3


def check_beam_start(beam_start) -> CheckResult:
    """Exercise: ``beam_start(model, memory [B, S, U], source_length [B], encoder_state [h, c], beam_width)
    -> AttentionWrapperState`` for ``B * beam_width`` rows, with the attention memory set up for them."""
    def body():
        model, memory, lengths, state, W = _beam_case()
        mechanism = model.decoder_cell.attention_mechanism
        want = model.decoder_start(memory, lengths, state, beam_width=W)
        want_values = _np(mechanism.values)
        model.decoder_start(memory, lengths, state)  # back to B rows: your function must set it up
        got = call(beam_start, model, memory, lengths, state, W,
                   what="beam_start(model, memory, source_length, encoder_state, beam_width)")
        if not isinstance(got, cl.AttentionWrapperState):
            raise Mismatch("structure", f"beam_start must return an AttentionWrapperState, got {type(got).__name__}",
                           "model.decoder_cell.get_initial_state(batch_size=..., dtype=..., device=...)"
                           ".clone(cell_state=...)")
        B = int(memory.shape[0])
        rows = _np(mechanism.values).shape[0]
        if rows != B * W:
            raise Mismatch("value", f"the attention memory has {rows} rows after beam_start, expected "
                           f"{B} x {W} = {B * W}",
                           "call model.decoder_cell.attention_mechanism.setup_memory(tiled memory, "
                           "memory_sequence_length=tiled lengths)")
        got_values = _np(mechanism.values)
        if not np.allclose(got_values, want_values, atol=1e-6):
            tiled_wrong = np.tile(_np(memory), (W, 1, 1))
            if got_values.shape == tiled_wrong.shape and np.allclose(got_values, tiled_wrong, atol=1e-6):
                raise Mismatch("value", "the memory rows are in the order a, b, a, b, ...: beam search keeps the "
                               "beams of one prompt next to each other (a, a, a, b, b, b)",
                               "cl.tile_batch(x, beam_width) repeats each row in place; torch's .repeat does not")
            expect_close("the attention memory", got_values, want_values, ("row", "step", "unit"),
                         hint="tile the memory with cl.tile_batch and mask it with the tiled lengths")
        for j, (g, w) in enumerate(zip(nest.flatten(got.cell_state), nest.flatten(want.cell_state))):
            name = f"cell_state[{j}] ({'hc'[j]})"
            expect_shape(name, _np(g), _np(w).shape, "rows = batch x beam_width, units",
                         hint="tile the encoder state too: cl.tile_batch(encoder_state, beam_width)")
            expect_close(name, _np(g), _np(w), ("row", "unit"),
                         hint="cl.tile_batch(encoder_state, beam_width): the beams of one prompt side by side")
        expect_shape("attention", _np(got.attention), _np(want.attention).shape, "rows, attention units")
        return f"a beam-search start for {B} prompts x {W} beams: memory, lengths and state tiled in place"
    return run_check("check_beam_start", body)


def check_sampled_softmax(my_sampled_softmax_loss) -> CheckResult:
    """Exercise: ``my_sampled_softmax_loss(weights [V, A], biases [V], labels [N, 1], inputs [N, A],
    sampled_values) -> [N]``, equal to ``course_lib.torch.chatbot.sampled_softmax_loss`` (and TensorFlow's)."""
    def body():
        for i in range(len(ch7.SAMPLED_CASES)):
            case = ch7.sampled_case(i)
            weights, biases, labels, inputs, values = case
            S, V = len(values[0]), weights.shape[0]
            tensors = [torch.tensor(a) for a in (weights, biases, labels, inputs)]
            sampled_values = tuple(torch.tensor(v) for v in values)
            want = _np(cb.sampled_softmax_loss(*tensors, S, V, sampled_values=sampled_values))
            got = _np(call(my_sampled_softmax_loss, *tensors, sampled_values,
                           what="my_sampled_softmax_loss(weights, biases, labels, inputs, sampled_values)"))
            expect_shape("loss", got, want.shape, "one loss per row", hint="no mean: one loss per row, [N]")
            if not np.allclose(got, want, atol=1e-4):
                mistake = ch7.sampled_mistake(got, case)
                if mistake:
                    raise Mismatch("value", f"case {i}: {mistake}")
                expect_close("loss", got, want, ("row",), atol=1e-4)
        return (f"equals sampled_softmax_loss (TensorFlow's formula) on {len(ch7.SAMPLED_CASES)} batches "
                "(accidental hits included)")
    return run_check("check_sampled_softmax", body)
