"""The PyTorch candidates: course_lib (``cl``) against ``nn.LSTM`` and ``nn.LSTMCell`` loops.

Every candidate gets its own modules, loaded with the same NumPy weights (``make_data``), so
candidates that do the same work compute the same numbers (checked after the warm-up).
Mode ``eager`` is PyTorch's normal mode (autograd on CPU); mode ``compile`` times the hand
loops of ``bench.torch_hand`` and course_lib's greedy decode under ``torch.compile`` (their first
call compiles). Gradients are taken with ``torch.autograd.grad`` (no ``.grad`` accumulation, no
optimizer); decodes run under ``torch.inference_mode()``.
"""

from __future__ import annotations

from bench import checks
from bench.checks import check_outputs
from bench.data import END, START, make_attention_weights, make_data
from bench.harness import Candidate, RatioSpec, describe_error

MODES = ("eager",)
MODE_LABEL = {"eager": "torch eager", "compile": "torch.compile"}
#: ``torch.compile``'s backend for the compiled candidates (None: no compiled candidates)
COMPILE_BACKEND = "inductor"


def environment() -> dict:
    import torch

    return {
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "torch_cuda": torch.cuda.is_available(),
        "torch_parallel_backend": next((ln.split(":", 1)[1].strip() for ln in torch.__config__.parallel_info().splitlines()
                                        if ln.startswith("ATen parallel backend")), "?"),
    }


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def build(shapes, modes=MODES, log=print, compile_backend=COMPILE_BACKEND):
    """Returns ``(candidates, ratio_specs, skipped, check_fn)`` (see ``bench.tf_cases.build``).

    ``compile_backend``: ``torch.compile``'s backend for the ``compile`` candidates (None: none).
    """
    import torch
    from torch import nn

    from bench import torch_hand as hand
    from course_lib import torch as cl

    class LoopLSTMCell(cl.LSTMCell):
        """A trivial subclass: the same math, but not the stock class, so it takes the step loop."""

    s, d, attention_weights = shapes, make_data(shapes), make_attention_weights(shapes)
    B, T, E, H, W = s.batch, s.tgt_len, s.embed, s.units, s.beam_width
    t = {k: torch.from_numpy(v) for k, v in d.items()}
    dec_in, targets = t["dec_in"], t["targets"]
    ones = torch.ones(B, T)
    full = torch.full((B,), T, dtype=torch.int64)
    ragged = t["lengths_ragged"]
    ragged_weights = (torch.arange(T)[None, :] < ragged[:, None]).float()
    h0, c0, memory = t["h0"], t["c0"], t["memory"]
    memory_lengths = torch.full((B,), s.src_len, dtype=torch.int64)
    start = torch.full((B,), START, dtype=torch.int64)

    # -- modules loaded with the shared weights ------------------------------------------------
    def embedding():
        return hand.embedding(d["emb"])

    def linear():
        return hand.linear(d["out_kernel"], d["out_bias"])

    def load_cell(cell):
        cell.build(E)
        with torch.no_grad():
            cell.kernel.copy_(t["kernel"])
            cell.recurrent_kernel.copy_(t["recurrent_kernel"])
            cell.bias.copy_(t["bias"])
        return cell

    def load_torch_lstm(module, suffix=""):
        return hand.load_lstm(module, d["kernel"], d["recurrent_kernel"], d["bias"], suffix)

    def params(*modules):
        return [p for m in modules for p in m.parameters()]

    def decode(fn, compiled=False):
        """``fn()`` under ``inference_mode``; compiled first with ``torch.compile`` when asked."""
        fn = torch.compile(fn, backend=compile_backend) if compiled else fn

        def run():
            with torch.inference_mode():
                return fn()
        return run

    # -- 1. teacher-forced training step: forward + backward (gradients only, no optimizer) --
    def cl_train(cell_class=cl.LSTMCell, is_ragged=False):
        emb, cell, out = embedding(), load_cell(cell_class(H)), linear()
        decoder = cl.BasicDecoder(cell, cl.TrainingSampler(), out, impute_finished=is_ragged)
        ps = params(emb, cell, out)
        lengths, weights = (ragged, ragged_weights) if is_ragged else (full, ones)

        def step():
            outputs, _, _ = decoder(emb(dec_in), initial_state=[h0, c0], sequence_length=lengths)
            loss = cl.sequence_loss(outputs.rnn_output, targets, weights)
            return {"loss": loss.detach(), "grads": torch.autograd.grad(loss, ps)}
        return step

    def nn_lstm_train():
        emb, out = embedding(), linear()
        lstm = load_torch_lstm(nn.LSTM(E, H, batch_first=True), "_l0")
        ps = params(emb, lstm, out)

        def step():
            seq, _ = lstm(emb(dec_in), (h0[None], c0[None]))
            loss = cl.sequence_loss(out(seq), targets, ones)
            return {"loss": loss.detach(), "grads": torch.autograd.grad(loss, ps)}
        return step

    def hand_train():
        emb, cell, out = embedding(), load_torch_lstm(nn.LSTMCell(E, H)), linear()
        ps = params(emb, cell, out)

        def step():
            x = emb(dec_in)  # (B, T, E)
            h, c, logits = h0, c0, []
            for i in range(T):
                h, c = cell(x[:, i], (h, c))
                logits.append(out(h))  # per-step projection, as a decoder step does
            loss = cl.sequence_loss(torch.stack(logits, dim=1), targets, ones)
            return {"loss": loss.detach(), "grads": torch.autograd.grad(loss, ps)}
        return step

    # -- 2. greedy decode, maximum_iterations = T ------------------------------------------------
    def cl_greedy(compiled=False):
        emb, cell, out = embedding(), load_cell(cl.LSTMCell(H)), linear()
        decoder = cl.BasicDecoder(cell, cl.GreedyEmbeddingSampler(), out, maximum_iterations=T)

        def run():
            outputs, _, lengths = decoder(emb.weight, start_tokens=start, end_token=END, initial_state=[h0, c0])
            return {"logits": outputs.rnn_output, "ids": outputs.sample_id, "lengths": lengths}
        return decode(run, compiled)

    def hand_greedy(compiled=False):
        emb, cell, out = embedding(), load_torch_lstm(nn.LSTMCell(E, H)), linear()

        def run():
            logits, ids = hand.greedy_loop(emb, cell, out, start, h0, c0, T)
            return {"logits": logits, "ids": ids, "lengths": full}
        return decode(run, compiled)

    # -- 4. attention: greedy and beam search -----------------------------------------------------
    def attention_cell(beam):
        # The memory given here is set up again inside every timed call (its keys are part of
        # the decode's cost); the constructors need it (the wrapper's state_size reads it).
        mem, lengths = memory, memory_lengths
        if beam:
            mem, lengths = cl.tile_batch(memory, W), cl.tile_batch(memory_lengths, W)
        mechanism = cl.BahdanauAttention(H, mem, memory_sequence_length=lengths)
        cell = cl.AttentionWrapper(cl.LSTMCell(H), mechanism, attention_layer_size=H, alignment_history=True)
        cl.import_weights(cell, attention_weights)  # the seeded weights every attention peer loads
        return mechanism, cell

    def att_greedy(rows=1):
        """Attention greedy decode; ``rows=W`` runs it on B x W rows (beam search's arithmetic)."""
        emb, out = embedding(), linear()
        mechanism, cell = attention_cell(beam=rows > 1)
        decoder = cl.BasicDecoder(cell, cl.GreedyEmbeddingSampler(), out, maximum_iterations=T)

        @torch.inference_mode()
        def run():
            mechanism.setup_memory(cl.tile_batch(memory, rows), memory_sequence_length=cl.tile_batch(memory_lengths, rows))
            state = cell.get_initial_state(batch_size=B * rows, dtype=torch.float32).clone(cell_state=cl.tile_batch([h0, c0], rows))
            outputs, final_state, lengths = decoder(emb.weight, start_tokens=cl.tile_batch(start, rows), end_token=END,
                                                    initial_state=state)
            return {"logits": outputs.rnn_output, "ids": outputs.sample_id, "lengths": lengths,
                    "alignments": final_state.alignment_history.stack()}
        return run

    def hand_attention(compiled=False):
        """The attention greedy decode written by hand (``bench.torch_hand.attention_loop``)."""
        emb, att, out = embedding(), hand.BahdanauLSTM(attention_weights), linear()

        def run():
            logits, ids, alignments = hand.attention_loop(emb, att, out, memory, memory_lengths, start, h0, c0, T)
            return {"logits": logits, "ids": ids, "lengths": full, "alignments": alignments}
        return decode(run, compiled)

    def att_beam():
        emb, out = embedding(), linear()
        mechanism, cell = attention_cell(beam=True)
        decoder = cl.BeamSearchDecoder(cell, W, output_layer=out, maximum_iterations=T)

        @torch.inference_mode()
        def run():
            mechanism.setup_memory(cl.tile_batch(memory, W), memory_sequence_length=cl.tile_batch(memory_lengths, W))
            state = cell.get_initial_state(batch_size=B * W, dtype=torch.float32).clone(
                cell_state=cl.tile_batch([h0, c0], W))
            outputs, final_state, lengths = decoder(emb.weight, start_tokens=start, end_token=END,
                                                    initial_state=state)
            return {"ids": outputs.predicted_ids, "lengths": lengths, "state": final_state}
        return run

    # -- the candidates ---------------------------------------------------------------------------
    candidates, specs, skipped = [], [], {}

    def add(mode, section, name, label, factory, optional=False, traced=False):
        key = f"torch.{mode}.{section}.{name}"
        try:
            fn = factory()
        except Exception as exc:  # noqa: BLE001 - an optional section reports and skips
            if not optional:
                raise
            skipped[key] = describe_error(exc)
            return
        candidates.append(Candidate(key, label, fn, optional=optional, traced=traced))

    for mode in modes:
        m, ml = f"torch.{mode}", MODE_LABEL[mode]
        add(mode, "train", "cl", "cl BasicDecoder(TrainingSampler) fused (_VF.lstm)", cl_train)
        add(mode, "train", "fused_layer", "nn.LSTM + Linear + loss (fused layer)", nn_lstm_train)
        add(mode, "train", "hand_loop", "nn.LSTMCell Python loop, Linear per step", hand_train)
        add(mode, "train", "cl_step_loop", "cl BasicDecoder, LSTMCell subclass (step loop)",
            lambda: cl_train(LoopLSTMCell))
        add(mode, "train", "cl_ragged", "cl BasicDecoder, ragged lengths + impute_finished",
            lambda: cl_train(is_ragged=True))
        add(mode, "greedy", "cl", "cl BasicDecoder(GreedyEmbeddingSampler)", cl_greedy)
        add(mode, "greedy", "hand_loop", "nn.LSTMCell Python greedy loop (argmax)", hand_greedy)
        specs += [
            RatioSpec(f"{m}.train.cl/fused_layer", f"{ml}: train step, cl fused / nn.LSTM",
                      f"{m}.train.cl", f"{m}.train.fused_layer", 1.3),
            RatioSpec(f"{m}.train.cl/hand_loop", f"{ml}: train step, cl fused / nn.LSTMCell loop",
                      f"{m}.train.cl", f"{m}.train.hand_loop"),
            RatioSpec(f"{m}.train.cl_step_loop/hand_loop",
                      f"{ml}: train step, cl step loop (subclass) / nn.LSTMCell loop",
                      f"{m}.train.cl_step_loop", f"{m}.train.hand_loop", 1.1),
            RatioSpec(f"{m}.train.cl_ragged/cl", f"{ml}: train step, ragged+impute / full length",
                      f"{m}.train.cl_ragged", f"{m}.train.cl"),
            RatioSpec(f"{m}.greedy.cl/hand_loop", f"{ml}: greedy, cl / nn.LSTMCell loop",
                      f"{m}.greedy.cl", f"{m}.greedy.hand_loop", 1.0),
        ]
        missing = [n for n in ("BahdanauAttention", "AttentionWrapper", "BeamSearchDecoder", "tile_batch")
                   if not hasattr(cl, n)]
        if missing:
            skipped[f"{m}.attention"] = f"course_lib.torch lacks {', '.join(missing)}"
            continue
        add(mode, "attention", "greedy", "cl Bahdanau + AttentionWrapper greedy", att_greedy, optional=True)
        add(mode, "attention", "greedy_bw", f"cl attention greedy on B x {W} rows (beam's arithmetic)",
            lambda: att_greedy(W), optional=True)
        add(mode, "attention", "beam", f"cl BeamSearchDecoder W={W} + attention", att_beam, optional=True)
        add(mode, "attention", "hand_loop", "hand attention greedy loop (nn.LSTMCell, Linear)", hand_attention,
            optional=True)
        specs += [
            RatioSpec(f"{m}.attention.greedy/greedy", f"{ml}: attention greedy / plain greedy",
                      f"{m}.attention.greedy", f"{m}.greedy.cl", 2.0),
            RatioSpec(f"{m}.attention.beam/greedy", f"{ml}: beam-{W} + attention / attention greedy",
                      f"{m}.attention.beam", f"{m}.attention.greedy", 3.5),
            RatioSpec(f"{m}.attention.beam/greedy_bw", f"{ml}: beam-{W} + attention / attention greedy on B x {W} rows",
                      f"{m}.attention.beam", f"{m}.attention.greedy_bw", 1.1),
            RatioSpec(f"{m}.attention.greedy/hand_loop", f"{ml}: Bahdanau greedy, cl / hand attention loop",
                      f"{m}.attention.greedy", f"{m}.attention.hand_loop", 1.0),
        ]
    if compile_backend:
        specs += compiled_candidates(add, hand_greedy, cl_greedy, hand_attention, compile_backend)
    else:
        skipped["torch.compile"] = "not run (compile backend: none)"

    def check(outputs):
        results = {}
        for mode in (*modes, "compile"):
            results.update(check_outputs(outputs, f"torch.{mode}", T))
        results.update(checks.ids_agree(outputs, "torch.eager.attention.hand_agrees",
                                        "torch.eager.attention.greedy", "torch.eager.attention.hand_loop"))
        results.update(checks.alignments_agree(outputs, "torch.eager.attention.hand_alignments_agree",
                                               "torch.eager.attention.greedy", "torch.eager.attention.hand_loop"))
        for section in ("greedy", "attention"):  # a compiled hand loop computes what it does eagerly
            results.update(checks.ids_agree(outputs, f"torch.compile.{section}.hand_agrees_eager",
                                            f"torch.eager.{section}.hand_loop", f"torch.compile.{section}.hand_loop"))
        results.update(checks.alignments_agree(outputs, "torch.compile.attention.hand_alignments_agree_eager",
                                               "torch.eager.attention.hand_loop", "torch.compile.attention.hand_loop"))
        results.update(checks.ids_agree(outputs, "torch.compile.greedy.cl_agrees_eager",
                                        "torch.eager.greedy.cl", "torch.compile.greedy.cl"))
        return results

    return candidates, specs, skipped, check


def compiled_candidates(add, hand_greedy, cl_greedy, hand_attention, backend) -> list:
    """Add the ``torch.compile`` candidates (optional: a failure to compile skips with the error); their specs."""
    label = "" if backend == COMPILE_BACKEND else f" [{backend}]"
    add("compile", "greedy", "hand_loop", f"torch.compile(nn.LSTMCell greedy loop){label}", lambda: hand_greedy(True),
        optional=True, traced=True)
    add("compile", "greedy", "cl", f"torch.compile(cl BasicDecoder greedy){label}", lambda: cl_greedy(True),
        optional=True, traced=True)
    add("compile", "attention", "hand_loop", f"torch.compile(hand attention greedy loop){label}",
        lambda: hand_attention(True), optional=True, traced=True)
    return [
        RatioSpec("torch.greedy.cl/compiled_hand_loop", "torch: greedy, cl eager / compiled hand loop",
                  "torch.eager.greedy.cl", "torch.compile.greedy.hand_loop"),
        RatioSpec("torch.attention.greedy/compiled_hand_loop", "torch: Bahdanau greedy, cl eager / compiled hand loop",
                  "torch.eager.attention.greedy", "torch.compile.attention.hand_loop"),
        RatioSpec("torch.compile.greedy.cl/hand_loop", "torch.compile: greedy, cl / hand loop (both compiled)",
                  "torch.compile.greedy.cl", "torch.compile.greedy.hand_loop", 1.0),
        RatioSpec("torch.compile.greedy.cl/hand_loop.first_call",
                  "torch.compile 1st call (compile + run): greedy, cl / hand loop",
                  "torch.compile.greedy.cl", "torch.compile.greedy.hand_loop", first_call=True),
    ]
