"""Chapter 7's reply quality on ChatbotData's test split, for both backends: the figures of the notebook's table.

    python -m bench.chatbot_quality                  # both backends, the live model trained too
    python -m bench.chatbot_quality --backend torch --no-live

For each backend: the shipped attention model (greedy, and beam search of 4 with length penalty 1), the
shipped no-attention model (greedy), the chapter's live model (trained here with ``pretrain.LIVE``, as the
notebook trains it; ``--no-live`` skips it), and the two baselines (the commonest training reply; retrieval:
the reply of the most similar training prompt), scored by ``course_lib.chapters.ch07_chatbot.quality``:
test perplexity (and the unigram model's), chrF and BLEU (sacrebleu), distinct-1/-2 and the share of prompts given the most frequent
reply. With both backends it also says whether their replies are identical. Exit code 0 unless a backend
crashes or the backends' shipped-model replies differ.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course_lib.chapters.ch07_chatbot import pretrain, pretrained, quality  # noqa: E402
from course_lib.common import reply_metrics  # noqa: E402


def rows_for(name: str, data: pretrain.Corpus, live: bool) -> list:
    """The table's model rows computed with backend ``name``."""
    if name == "torch":
        import torch

        torch.set_num_threads(1)
        from course_lib import torch as cl
        from course_lib.chapters.ch07_chatbot import torch as ch
    else:
        from course_lib import tf as cl
        from course_lib.chapters.ch07_chatbot import tf as ch
    shipped = ch.load_pretrained(pretrained.DEFAULT_MODEL)
    baseline = ch.load_pretrained(pretrained.NO_ATTENTION_MODEL)
    rows = [quality.model_row(ch, "shipped, greedy", shipped.model, shipped.tokenizer, data),
            quality.model_row(ch, "shipped, beam 4", shipped.model, shipped.tokenizer, data, "beam", beam_width=4,
                              length_penalty_weight=1.0),
            quality.model_row(ch, "no attention, greedy", baseline.model, baseline.tokenizer, data)]
    if live:
        result = pretrain.train(ch, cl, pretrain.LIVE, data, log=None)
        rows.append(quality.model_row(ch, "live, greedy", result.model, data.tokenizer, data))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["tf", "torch", "all"], default="all")
    parser.add_argument("--no-live", action="store_true", help="skip training the live model")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    manifest = pretrained.read_pretrained(pretrained.DEFAULT_MODEL)[3]
    recipe = pretrain.Recipe(**{k: v for k, v in manifest["training"].items() if k in pretrain.Recipe._fields})
    data = pretrain.corpus(recipe)
    assert data.sha256 == manifest["data"]["sha256"], "ChatbotData.csv differs from the one the model trained on"
    g = data.grouped
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; test pairs "
          f"{len(g.splits.test)}; {g.moved} pairs moved by grouping near-duplicate prompts")
    print(reply_metrics.signatures())
    unigram = reply_metrics.unigram_perplexity([r for _, r in data.train], [r for _, r in data.test],
                                               data.tokenizer.vocab_size)
    print(f"unigram model (training replies' token frequencies, prompt ignored): test perplexity {unigram:.1f}")
    fixed = quality.baselines(g.splits.train, g.splits.test) + [quality.references_row(g.splits.test)]
    replies, failed = {}, False
    for name in (["tf", "torch"] if args.backend == "all" else [args.backend]):
        try:
            rows = rows_for(name, data, live=not args.no_live)
        except Exception as exc:  # report and go on with the other backend
            print(f"{name}: crashed: {type(exc).__name__}: {exc}")
            failed = True
            continue
        replies[name] = {r.name: r.replies for r in rows}
        print(f"\n{name} ({time.perf_counter() - start:.0f} s so far)")
        print(quality.table(rows + fixed))
    if len(replies) == 2:
        shipped = ("shipped, greedy", "shipped, beam 4", "no attention, greedy")
        same = all(replies["tf"][k] == replies["torch"][k] for k in shipped)
        live_same = replies["tf"].get("live, greedy") == replies["torch"].get("live, greedy")
        print(f"\nshipped models: the two backends' replies are identical: {same}; live models (each trained in "
              f"its own framework): identical: {live_same}")
        failed = failed or not same
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
