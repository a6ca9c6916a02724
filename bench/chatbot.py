"""Chapter 7's chatbot: training throughput with and without length bucketing, in the same run.

    python bench/chatbot.py                      # both backends, 3 timed epochs of each kind
    python bench/chatbot.py --backend torch --epochs 2
    python -m bench.chatbot ...                  # the same

The chapter's model (bidirectional encoder, Bahdanau AttentionWrapper decoder, 128 units, vocabulary
800) trains on the chapter's data (chatterbot-corpus English, training split, batches of 32). An epoch
of random batches and an epoch of length-bucketed batches (``course_lib.common.chat_data.bucket_batches``)
alternate, after one warm-up epoch of each (TensorFlow traces its step there). Throughput is real target
tokens (reply tokens + ``</s>``, no padding) per second of training steps; the ratio is bucketed / random
for each backend. The command prints the environment, a table, and exits 0 unless a backend crashes.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course_lib.common import chat_data  # noqa: E402
from course_lib.common.tokenizer import SubwordTokenizer  # noqa: E402

BATCH_SIZE = 32


def corpus():
    """Encoded training pairs of the chapter: ``[(prompt ids, reply ids)]``."""
    splits = chat_data.split_pairs(chat_data.load_chatterbot_pairs("english", max_chars=120))
    tokenizer = SubwordTokenizer.train([t for pair in splits.train for t in pair], vocab_size=800)
    return tokenizer, [(tokenizer.encode(p), tokenizer.encode(r)) for p, r in splits.train]


def epoch_batches(encoded, bucketing: bool, seed: int):
    lengths = [max(len(p), len(r) + 1) for p, r in encoded]
    order = chat_data.bucket_batches(lengths, BATCH_SIZE, bucketing=bucketing, seed=seed)
    return [chat_data.make_batch([encoded[i][0] for i in rows], [encoded[i][1] for i in rows],
                                 SubwordTokenizer.pad_id, SubwordTokenizer.bos_id, SubwordTokenizer.eos_id)
            for rows in order]


def run_backend(name: str, tokenizer, encoded, epochs: int) -> dict:
    """Time ``epochs`` epochs of each kind, alternating; returns the tokens per second of each kind."""
    if name == "torch":
        import torch

        torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", "1")))
        from course_lib import torch as cl
        from course_lib.chapters.ch07_chatbot import torch as cb
        device = cl.default_device()
        cl.set_seed(0)
        model = cb.Seq2SeqChatbot(tokenizer.vocab_size, 64, 128, attention="bahdanau").to(device)

        def sync():
            if device.type == "cuda":
                torch.cuda.synchronize()
    else:
        from course_lib import tf as cl
        from course_lib.chapters.ch07_chatbot import tf as cb
        cl.set_seed(0)
        model = cb.Seq2SeqChatbot(tokenizer.vocab_size, 64, 128, attention="bahdanau")

        def sync():
            pass
    trainer = cb.Trainer(model, learning_rate=3e-3)
    seconds = {True: [], False: []}
    tokens = {True: [], False: []}
    slots = {True: [], False: []}
    for epoch in range(epochs + 1):  # epoch 0 is the warm-up of each kind
        for bucketing in ((True, False) if epoch % 2 else (False, True)):
            batches = epoch_batches(encoded, bucketing, seed=epoch)
            sync()
            start = time.perf_counter()
            for batch in batches:
                trainer.train_step(batch)
            sync()
            if epoch:
                seconds[bucketing].append(time.perf_counter() - start)
                tokens[bucketing].append(sum(int(b.target_length.sum()) for b in batches))
                slots[bucketing].append(sum(b.target.size for b in batches))
    return {bucketing: dict(tokens_per_s=sum(tokens[bucketing]) / sum(seconds[bucketing]),
                            epoch_s=float(np.median(seconds[bucketing])),
                            useful=sum(tokens[bucketing]) / sum(slots[bucketing]))
            for bucketing in (False, True)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["tf", "torch", "all"], default="all")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs of each kind (default 3)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tokenizer, encoded = corpus()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs; {len(encoded)} training pairs, "
          f"batch {BATCH_SIZE}, {args.epochs} timed epochs of each kind after a warm-up")
    print(f"{'backend':8} {'batches':9} {'target tokens/s':>16} {'s / epoch':>10} {'useful slots':>13} {'ratio':>7}")
    failed = False
    for name in (["tf", "torch"] if args.backend == "all" else [args.backend]):
        try:
            result = run_backend(name, tokenizer, encoded, args.epochs)
        except Exception as exc:  # report and go on with the other backend
            print(f"{name:8} crashed: {type(exc).__name__}: {exc}")
            failed = True
            continue
        ratio = result[True]["tokens_per_s"] / result[False]["tokens_per_s"]
        for bucketing in (False, True):
            r = result[bucketing]
            label = "bucketed" if bucketing else "random"
            print(f"{name:8} {label:9} {r['tokens_per_s']:16.0f} {r['epoch_s']:10.2f} {r['useful']:13.0%}"
                  f" {(f'{ratio:.2f}x' if bucketing else ''):>7}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
