"""Chapter 7's quality table: models and baselines scored the same way on the test split (framework-free).

The notebook and ``bench/chatbot_quality.py`` both build it with ``score`` and print it with ``table``, so
their figures are the same computation.
"""

from __future__ import annotations

from typing import List, NamedTuple, Optional, Sequence

from course_lib.common import reply_metrics as rm


class Quality(NamedTuple):
    """One row: ``name``; test ``perplexity`` (None for a baseline that gives no probabilities); corpus
    ``chrf`` and ``bleu``; ``distinct1`` / ``distinct2``; ``top_share`` of the prompts that get the single most
    frequent reply ``top_reply``; ``replies`` themselves."""

    name: str
    perplexity: Optional[float]
    chrf: float
    bleu: float
    distinct1: float
    distinct2: float
    top_share: float
    top_reply: str
    replies: List[str]


def score(name: str, replies: Sequence[str], references: Sequence[str], perplexity: Optional[float] = None) -> Quality:
    """Score ``replies`` (one per test pair) against the ``references``."""
    replies = list(replies)
    top, share = rm.top_reply_share(replies)
    return Quality(name, perplexity, rm.chrf(replies, references), rm.bleu(replies, references),
                   rm.distinct_n(replies, 1), rm.distinct_n(replies, 2), share, top, replies)


def baselines(train_pairs, test_pairs) -> List[Quality]:
    """The commonest training reply for every prompt, and retrieval (the reply of the most similar
    training prompt), scored on ``test_pairs``."""
    references = [r for _, r in test_pairs]
    prompts = [p for p, _ in test_pairs]
    commonest = rm.commonest_reply(train_pairs)
    return [score("commonest reply", [commonest] * len(prompts), references),
            score("retrieval", rm.retrieval_replies(train_pairs, prompts), references)]


def references_row(test_pairs) -> Quality:
    """The reference replies scored against themselves: the ceiling of chrF/BLEU and the corpus's own diversity."""
    references = [r for _, r in test_pairs]
    return score("reference replies", references, references)


def table(rows: Sequence[Quality]) -> str:
    """The rows as a text table (perplexity ``-`` where a baseline has none)."""
    width = max(len("model"), *(len(r.name) for r in rows))
    lines = [f"{'model':{width}} {'perplexity':>10} {'chrF':>6} {'BLEU':>6} {'dist-1':>7} {'dist-2':>7} "
             f"{'top reply':>10}"]
    for r in rows:
        ppl = f"{r.perplexity:10.1f}" if r.perplexity is not None else f"{'-':>10}"
        lines.append(f"{r.name:{width}} {ppl} {r.chrf:6.1f} {r.bleu:6.1f} {r.distinct1:7.2f} {r.distinct2:7.2f} "
                     f"{r.top_share:10.1%}")
    return "\n".join(lines)


def test_replies(ch, model, tokenizer, prompts: Sequence[str], method: str = "greedy", chunk: int = 64,
                 **options) -> List[str]:
    """The replies of ``model`` to ``prompts``, decoded ``chunk`` prompts at a time (bounded memory: TensorFlow
    keeps what the largest batch needed, and 256 prompts at a time cost a chapter 7 notebook 350 MiB more)."""
    bot = ch.Chatbot(model, tokenizer)
    out = []
    for start in range(0, len(prompts), chunk):
        out += [r.text for r in bot.replies(list(prompts[start:start + chunk]), method, **options)]
    return out


def model_row(ch, name: str, model, tokenizer, data, method: str = "greedy", **options) -> Quality:
    """A model's row: test perplexity (teacher forced, ``data.test``'s token ids) and its replies' scores.

    Args:
      ch: the chapter's binding (``Trainer``, ``Chatbot``).
      data: a ``pretrain.Corpus`` whose tokenizer is the model's (perplexities per token compare only then).
    """
    from course_lib.chapters.ch07_chatbot.pretrain import epoch_batches

    if tokenizer.serialized != data.tokenizer.serialized:
        raise ValueError(f"{name}: its tokenizer is not the corpus's: per-token perplexities would not compare")
    test_pairs = data.grouped.splits.test
    perplexity = ch.Trainer(model).evaluate(epoch_batches(data.test, 128)).perplexity
    replies = test_replies(ch, model, tokenizer, [p for p, _ in test_pairs], method, **options)
    return score(name, replies, [r for _, r in test_pairs], perplexity)
