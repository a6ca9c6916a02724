"""Chapter 7's shipped chatbots: one framework-neutral folder loads in both backends with identical greedy
replies; a changed byte in any of its files is caught before anything is loaded; ``python -m course_lib chat``
with prompts, bad input and a missing or broken model (exit codes); ``train-chatbot`` on a tiny CSV."""

from __future__ import annotations

import csv
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_lib.chapters.ch07_chatbot import pretrained
from course_lib.common.checkpoint import CheckpointError, sha256_of

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = pretrained.MODELS_DIR / pretrained.DEFAULT_MODEL


def binding(name):
    return importlib.import_module(f"course_lib.chapters.ch07_chatbot.{name}")


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def held_out_prompts():
    """20 fixed test-split prompts of the shipped model's own split (the recipe in its manifest)."""
    from course_lib.common import chat_data
    from course_lib.common.chat_splits import split_pairs_grouped

    training = json.loads((SHIPPED / "checkpoint.json").read_text(encoding="utf-8"))["training"]
    grouped = split_pairs_grouped(chat_data.load_chatbotdata_csv(), 0.1, 0.1, seed=training["split_seed"],
                                  threshold=training["near_duplicate_threshold"])
    prompts = [p for p, _ in grouped.splits.test]
    return prompts[::len(prompts) // 20][:20]


def test_both_shipped_models_are_there_sealed_and_small():
    total = 0
    for name in (pretrained.DEFAULT_MODEL, pretrained.NO_ATTENTION_MODEL):
        folder = pretrained.MODELS_DIR / name
        manifest = json.loads((folder / "checkpoint.json").read_text(encoding="utf-8"))
        assert manifest["backend"] == "numpy" and len(manifest["manifest_sha256"]) == 64
        assert set(manifest["files"]) == {"weights", "tokenizer", "loss"}
        assert manifest["data"]["sha256"] == sha256_of(ROOT / manifest["data"]["file"])
        assert manifest["training"]["wall_seconds"] <= 30 * 60 + 120  # the budget, plus the last evaluation
        assert {p.name for p in folder.iterdir()} == {"checkpoint.json"} | {f["path"] for f in manifest["files"].values()}
        total += sum(p.stat().st_size for p in folder.iterdir())
    assert total <= 20e6, f"the shipped models take {total / 1e6:.1f} MB"


def test_train_chatbot_defaults_are_the_shipped_models_recipe():
    """``python -m course_lib train-chatbot`` (and ``--attention none``) re-makes the shipped models: the
    Recipe's defaults are the settings their manifests record, and the config is the one the recipe builds."""
    from course_lib.chapters.ch07_chatbot.pretrain import Recipe

    for name, attention in ((pretrained.DEFAULT_MODEL, "bahdanau"), (pretrained.NO_ATTENTION_MODEL, None)):
        manifest = json.loads((pretrained.MODELS_DIR / name / "checkpoint.json").read_text(encoding="utf-8"))
        recipe = Recipe(attention=attention)
        recorded = {**manifest["config"], **manifest["training"]}  # (older manifests keep the encoder's
        assert {k: recorded[k] for k in Recipe._fields} == recipe._asdict(), name  # settings in config only)
        assert {k: manifest["config"][k] for k in recipe.model_kwargs()} == recipe.model_kwargs(), name


def test_the_shipped_model_gives_identical_greedy_replies_in_both_backends(held_out_prompts):
    replies = {}
    for name in ("tf", "torch"):
        ch = binding(name)
        loaded = ch.load_pretrained()
        replies[name] = [r.text for r in ch.Chatbot(loaded.model, loaded.tokenizer).replies(held_out_prompts)]
    assert replies["tf"] == replies["torch"]
    assert sum(bool(r) for r in replies["tf"]) == 20
    from course_lib.chapters.ch07_chatbot.glosses import judge, load_judgments

    judgments = load_judgments()  # the notebook counts a person's verdicts on these replies: they must be judged
    for prompt, reply in zip(held_out_prompts, replies["tf"]):
        judge(judgments, prompt, "greedy", reply)


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("which", ["checkpoint.json", "weights", "tokenizer", "loss"])
def test_a_changed_byte_in_any_shipped_file_is_caught(tmp_path, which):
    folder = tmp_path / "model"
    shutil.copytree(SHIPPED, folder)
    manifest = json.loads((folder / "checkpoint.json").read_text(encoding="utf-8"))
    path = folder / ("checkpoint.json" if which == "checkpoint.json" else manifest["files"][which]["path"])
    size = path.stat().st_size
    positions = [0, size // 2, size - 1]
    if which == "checkpoint.json":
        text = path.read_text(encoding="utf-8")
        positions += [text.index('"dropout"') + 12, text.index('"manifest_sha256"') + 20, text.index('"epoch"') + 9]
    for at in positions:
        _flip(path, at)
        with pytest.raises(CheckpointError):
            pretrained.read_pretrained(folder)
        _flip(path, at)  # back: it loads again
    assert pretrained.read_pretrained(folder)[0] == manifest["config"]


def test_an_unsealed_or_missing_model_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model at .*shipped models: .*chatbotdata-attention"):
        pretrained.read_pretrained("no-such-model")
    folder = tmp_path / "model"
    shutil.copytree(SHIPPED, folder)
    manifest = json.loads((folder / "checkpoint.json").read_text(encoding="utf-8"))
    del manifest["manifest_sha256"]
    (folder / "checkpoint.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(CheckpointError, match="not sealed"):
        pretrained.read_pretrained(folder)


# -- python -m course_lib chat ---------------------------------------------------------------------

def chat(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "course_lib", "chat", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=240)


def test_chat_replies_to_prompts_with_each_decoding(held_out_prompts):
    prompts = held_out_prompts[:2]
    greedy = chat("--backend", "torch", *prompts)
    assert greedy.returncode == 0, greedy.stderr
    lines = greedy.stdout.splitlines()
    assert len(lines) == 2 and all(lines)
    ch = binding("torch")
    loaded = ch.load_pretrained()
    assert lines == [r.text for r in ch.Chatbot(loaded.model, loaded.tokenizer).replies(prompts)]
    in_tf = chat("--backend", "tf", *prompts)  # the same replies, and no TensorFlow C++ notice on stderr
    assert in_tf.returncode == 0 and in_tf.stdout == greedy.stdout and in_tf.stderr == "", in_tf.stderr
    beam = chat("--beam-width", "4", *prompts)
    sample = chat("--sample", "--temperature", "0.8", "--seed", "1", *prompts)
    assert beam.returncode == sample.returncode == 0 and len(beam.stdout.splitlines()) == 2
    assert sample.stdout == chat("--sample", "--temperature", "0.8", "--seed", "1", *prompts).stdout  # seeded


def test_chat_bad_input_gets_the_widgets_messages_and_exit_codes():
    ch = binding("torch")
    loaded = ch.load_pretrained()
    bot = ch.Chatbot(loaded.model, loaded.tokenizer)
    empty, unknown, long = "", "\U0001F600\u2603", "배고파 " * 2500
    result = chat("--backend", "torch", empty, unknown, long)
    assert result.returncode == 1  # a prompt without a reply
    lines = result.stdout.split("\n")
    assert lines[0] == "" and lines[1] == "" and lines[2]  # one line per prompt; the long one is answered
    for prompt in (empty, unknown, long):
        assert f"note: {bot.reply(prompt).message}" in result.stderr
    assert len(long) >= 10_000 and "read only the first" in result.stderr
    interactive = chat("--backend", "torch", stdin="배고파\n\n/quit\n")
    assert interactive.returncode == 0 and interactive.stdout.count("bot: ") == 1
    assert "note: Say something: the prompt is empty." in interactive.stdout
    bad = chat("--sample", "--beam-width", "3", "hi")
    assert bad.returncode == 2 and "exclude each other" in bad.stderr
    assert "exit codes:" in chat("--help").stdout


def test_chat_with_a_missing_or_corrupted_model(tmp_path):
    missing = chat("--model", "no-such-model", "hi")
    assert missing.returncode == 3 and "no model at" in missing.stderr and "chatbotdata-attention" in missing.stderr
    folder = tmp_path / "model"
    shutil.copytree(SHIPPED, folder)
    weights = next(folder.glob("weights-*.npz"))
    _flip(weights, weights.stat().st_size // 3)
    broken = chat("--backend", "tf", "--model", str(folder), "hi")
    assert broken.returncode == 4 and weights.name in broken.stderr and "SHA-256 differs" in broken.stderr
    assert "Traceback" not in missing.stderr + broken.stderr


# -- python -m course_lib train-chatbot -----------------------------------------------------------------

def test_train_chatbot_writes_a_model_that_both_backends_load(tmp_path):
    from course_lib.common import chat_data

    data = tmp_path / "tiny.csv"
    with data.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Q", "A", "label"])
        for prompt, reply in chat_data.load_chatbotdata_csv()[:200]:
            writer.writerow([prompt, reply, 0])
    out = tmp_path / "model"
    result = subprocess.run([sys.executable, "-m", "course_lib", "train-chatbot", "--backend", "torch", "--data",
                             str(data), "--out", str(out), "--vocab-size", "500", "--embedding-size", "8",
                             "--units", "16", "--max-epochs", "2", "--quiet"],
                            capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert result.returncode == 0, result.stderr
    assert "best epoch" in result.stdout and "pairs moved by grouping" in result.stdout
    manifest = json.loads((out / "checkpoint.json").read_text(encoding="utf-8"))
    assert manifest["training"]["max_epochs"] == 2 and len(manifest["history"]) == 2
    assert manifest["data"]["sha256"] == sha256_of(data)
    models = {name: binding(name).load_pretrained(out) for name in ("tf", "torch")}
    import course_lib.tf as cl_tf
    import course_lib.torch as cl_torch

    a, b = cl_tf.export_weights(models["tf"].model), cl_torch.export_weights(models["torch"].model)
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
