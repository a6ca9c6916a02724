"""``python -m course_lib chat`` and ``python -m course_lib train-chatbot``: chapter 7's chatbot in a terminal."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

#: chat's exit codes (also in its --help)
OK, NO_REPLY, USAGE, NO_MODEL, BROKEN_MODEL = 0, 1, 2, 3, 4

CHAT_EPILOG = """exit codes:
  0  every prompt got a reply (an interactive session ended with end of input or /quit)
  1  a prompt got no reply: it was empty or had no character the model knows (the note says why)
  2  bad options
  3  no such model (the message lists the shipped ones)
  4  a model file is corrupted or changed (the message names it)

Replies go to standard output, one line per prompt (an empty line for a prompt without a reply);
notes (a prompt cut to its first tokens, skipped characters, why there is no reply) go to standard error.
"""


def _binding(backend: str):
    """The chapter's binding of ``backend`` (PyTorch on one thread: small models run faster so)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ notices (oneDNN) on a chat's stderr
    if backend == "torch":
        import torch

        torch.set_num_threads(1)
        from course_lib import torch as cl
        from course_lib.chapters.ch07_chatbot import torch as ch
    else:
        from course_lib import tf as cl
        from course_lib.chapters.ch07_chatbot import tf as ch
    return ch, cl


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def chat_parser() -> argparse.ArgumentParser:
    from course_lib.chapters.ch07_chatbot.pretrained import DEFAULT_MODEL

    parser = argparse.ArgumentParser(
        prog="python -m course_lib chat", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Talk to a chatbot shipped with the course (chapter 7): one reply per PROMPT, or, without "
                    "prompts, an interactive conversation.", epilog=CHAT_EPILOG)
    parser.add_argument("prompts", nargs="*", metavar="PROMPT", help="prompts to answer (none: interactive)")
    parser.add_argument("--backend", choices=["tf", "torch"], default="torch", help="framework (default torch)")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"a shipped model's name or a model folder (default {DEFAULT_MODEL})")
    parser.add_argument("--beam-width", type=_positive_int, default=None, help="beam search with this many beams")
    parser.add_argument("--length-penalty", type=float, default=1.0, help="beam search's length penalty (default 1)")
    parser.add_argument("--sample", action="store_true", help="sample each token instead of the likeliest")
    parser.add_argument("--temperature", type=_positive_float, default=0.7, help="sampling temperature (default 0.7)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    return parser


def _decoding(args) -> tuple:
    if args.sample and args.beam_width:
        raise SystemExit("--sample and --beam-width exclude each other")  # pragma: no cover - argparse below
    if args.beam_width:
        return "beam", dict(beam_width=args.beam_width, length_penalty_weight=args.length_penalty)
    if args.sample:
        return "sample", dict(temperature=args.temperature, seed=args.seed)
    return "greedy", {}


def chat_main(argv=None) -> int:
    """The ``chat`` command; returns its exit code."""
    parser = chat_parser()
    args = parser.parse_args(argv)
    if args.sample and args.beam_width:
        parser.error("--sample and --beam-width exclude each other")
    method, options = _decoding(args)
    from course_lib.common.checkpoint import CheckpointError

    ch, _ = _binding(args.backend)
    try:
        loaded = ch.load_pretrained(args.model)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return NO_MODEL
    except CheckpointError as exc:
        print(f"error: the model cannot be loaded: {exc}", file=sys.stderr)
        return BROKEN_MODEL
    bot = ch.Chatbot(loaded.model, loaded.tokenizer)
    if args.prompts:
        code = OK
        for reply in bot.replies(args.prompts, method, **options):
            print(reply.text, flush=True)
            if reply.message:
                print(f"note: {reply.message}", file=sys.stderr, flush=True)
            if not reply.text:
                code = NO_REPLY
        return code
    print(f"chatting with {loaded.folder.name} ({args.backend}, {method}); end with /quit or Ctrl-D", file=sys.stderr)
    while True:
        try:
            prompt = input("you: ")
        except EOFError:
            print(file=sys.stderr)
            return OK
        if prompt.strip() in ("/quit", "/exit"):
            return OK
        reply = bot.reply(prompt, method, **options)
        if reply.text:
            print(f"bot: {reply.text}", flush=True)
        if reply.message:
            print(f"note: {reply.message}", flush=True)


def train_parser() -> argparse.ArgumentParser:
    from course_lib.chapters.ch07_chatbot.pretrain import Recipe

    r = Recipe()
    parser = argparse.ArgumentParser(
        prog="python -m course_lib train-chatbot",
        description="Train chapter 7's chatbot on ChatbotData's training split until the validation perplexity "
                    "stops improving, and write a framework-neutral model folder (NumPy weights, tokenizer, "
                    "sealed checkpoint.json with every file's SHA-256, loss plot) that both backends load.")
    parser.add_argument("--backend", choices=["tf", "torch"], default="tf", help="framework to train with (default tf, "
                        "the faster of the two on a 2-core CPU)")
    parser.add_argument("--out", type=Path, default=None, help="model folder (default notebooks/data/models/"
                        "chatbotdata-attention, or chatbotdata-no-attention with --attention none)")
    parser.add_argument("--data", type=Path, default=None, help="a CSV with columns Q,A (default: the shipped "
                        "ChatbotData.csv)")
    parser.add_argument("--attention", choices=["bahdanau", "luong", "none"], default=r.attention)
    for name in ("vocab_size", "embedding_size", "units", "batch_size", "max_epochs", "patience", "seed"):
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(r, name),
                            help=f"default {getattr(r, name)}")
    for name in ("dropout", "label_smoothing", "learning_rate", "decay", "min_learning_rate", "max_minutes"):
        parser.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(r, name),
                            help=f"default {getattr(r, name)}")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def train_main(argv=None) -> int:
    """The ``train-chatbot`` command; returns its exit code."""
    from course_lib.chapters.ch07_chatbot import pretrain, pretrained

    args = train_parser().parse_args(argv)
    fields = pretrain.Recipe._fields
    recipe = pretrain.Recipe(**{k: v for k, v in vars(args).items() if k in fields and k != "attention"},
                             attention=None if args.attention == "none" else args.attention)
    out = args.out or pretrained.MODELS_DIR / (pretrained.DEFAULT_MODEL if recipe.attention
                                               else pretrained.NO_ATTENTION_MODEL)
    ch, cl = _binding(args.backend)
    try:
        data = pretrain.corpus(recipe, args.data)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE
    g = data.grouped
    print(f"ChatbotData: train / valid / test pairs {[len(s) for s in g.splits]}; {g.grouped_prompts} prompts in "
          f"near-duplicate groups, {g.moved} pairs moved by grouping; vocabulary {data.tokenizer.vocab_size}")
    monitor = None if args.quiet else (lambda total: pretrain.TqdmMonitor(total, f"training {out.name}"))
    new_model = None
    if args.backend == "torch":
        def new_model(**kwargs):
            return ch.Seq2SeqChatbot(**kwargs).to(cl.default_device())
    started = time.time()
    result = pretrain.train(ch, cl, recipe, data, new_model=new_model, monitor=monitor)
    test = ch.Trainer(result.model).evaluate(pretrain.epoch_batches(data.test, 128))
    extra = pretrain.manifest_entries(recipe, data, result, args.backend, args.data)
    extra["training"]["test_perplexity"] = round(test.perplexity, 3)
    steps = pretrain.steps_per_epoch(data.train, recipe.batch_size)
    title = (f"{recipe.attention or 'no'} attention: train loss (label smoothing {recipe.label_smoothing}) and "
             "validation NLL")
    folder = pretrained.save_pretrained(out, cl.export_weights(result.model), data.tokenizer,
                                        result.model.get_config(), extra,
                                        pretrain.loss_plot_writer(result, steps, title))
    size = sum(p.stat().st_size for p in folder.iterdir())
    print(f"best epoch {result.best_epoch} of {len(result.history)} ({result.stopped}); test perplexity "
          f"{test.perplexity:.2f}; {result.wall_s / 60:.1f} min, load average {min(result.load):.1f}-"
          f"{max(result.load):.1f}; wrote {folder} ({size / 1e6:.1f} MB) in {time.time() - started:.0f} s")
    return OK
