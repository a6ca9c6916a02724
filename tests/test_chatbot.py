"""Chapter 7's chatbot in both backends: a tiny model learns a few pairs and answers them exactly;
one weights dict gives the same logits, replies and alignments in TensorFlow and PyTorch; checkpoints
round-trip, and a missing, corrupted or failed checkpoint gives a clear error and leaves the old one
intact; whatever a user types gets a reply or a message, never a traceback; sampled softmax."""

import importlib
import json
import subprocess
import sys

import numpy as np
import pytest

from course_lib.common import chat_data as cd
from course_lib.common.checkpoint import CheckpointError
from course_lib.common.tokenizer import SubwordTokenizer
from tests.conftest import BACKENDS, Backend

PAIRS = [("hi", "hello there"), ("how are you", "fine thanks"), ("bye", "see you soon"),
         ("what is your name", "i am a bot"), ("tell me a joke", "no jokes today")]


def chatbot(bk):
    """The chapter's binding for ``bk``: ``course_lib.chapters.ch07_chatbot.tf`` / ``.torch``."""
    return importlib.import_module(f"course_lib.chapters.ch07_chatbot.{bk.name}")


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def tokenizer():
    return SubwordTokenizer.train([t for pair in PAIRS for t in pair], vocab_size=40)


def tiny_batch(tokenizer, pairs=PAIRS):
    return cd.make_batch([tokenizer.encode(p) for p, _ in pairs], [tokenizer.encode(r) for _, r in pairs],
                         tokenizer.pad_id, tokenizer.bos_id, tokenizer.eos_id)


@pytest.fixture(scope="module", params=BACKENDS)
def trained(request, tokenizer):
    """A tiny attention model trained on PAIRS until it knows them: ``(backend, model, bot)``."""
    bk = Backend(request.param)
    cb = chatbot(bk)
    bk.cl.set_seed(0)
    model = cb.Seq2SeqChatbot(tokenizer.vocab_size, embedding_size=16, units=32, attention="bahdanau")
    trainer = cb.Trainer(model, learning_rate=0.02, clip_norm=5.0)
    batch = tiny_batch(tokenizer)
    losses = [trainer.train_step(batch) for _ in range(120)]
    assert losses[-1] < 0.05 < losses[0], losses[::20]
    return bk, model, cb.Chatbot(model, tokenizer, max_reply_tokens=12)


# -- learning -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["greedy", "beam"])
def test_tiny_model_overfits_and_answers_exactly(trained, method):
    _, _, bot = trained
    replies = bot.replies([p for p, _ in PAIRS], method=method, beam_width=3)
    assert [r.text for r in replies] == [r for _, r in PAIRS]
    for r in replies:
        assert r.message is None and r.reply_tokens[-1] == "</s>" and r.method == method
        assert r.alignments.shape == (len(r.reply_tokens), len(r.source_tokens))
        np.testing.assert_allclose(r.alignments.sum(-1), 1.0, atol=1e-5)


def test_sampling_is_seeded(trained):
    _, _, bot = trained
    first = [r.text for r in bot.replies([p for p, _ in PAIRS], "sample", temperature=2.0, seed=3)]
    again = [r.text for r in bot.replies([p for p, _ in PAIRS], "sample", temperature=2.0, seed=3)]
    assert first == again
    cold = [r.text for r in bot.replies([p for p, _ in PAIRS], "sample", temperature=0.05, seed=3)]
    assert cold == [r for _, r in PAIRS]  # a low temperature samples the argmax


def test_uniform_logits_give_perplexity_v(backend, tokenizer):
    """Known answer: a zero output layer gives every token 1/V, so the perplexity is exactly V."""
    cb = chatbot(backend)
    model = cb.Seq2SeqChatbot(tokenizer.vocab_size, 8, 8, attention="luong")
    weights = backend.cl.export_weights(model)
    backend.cl.import_weights(model, {k: np.zeros_like(v) if k.startswith("output_layer/") else v
                                      for k, v in weights.items()})
    result = cb.Trainer(model).evaluate([tiny_batch(tokenizer)])
    assert result.tokens == sum(len(tokenizer.encode(r)) + 1 for _, r in PAIRS)
    assert result.perplexity == pytest.approx(tokenizer.vocab_size, rel=1e-5)


# -- the two backends ---------------------------------------------------------------------------

@pytest.mark.parametrize("attention", ["bahdanau", "luong", None])
def test_same_weights_same_logits_replies_and_alignments(tf_backend, torch_backend, tokenizer, attention):
    import torch

    models = [chatbot(bk).Seq2SeqChatbot(tokenizer.vocab_size, 8, 12, attention=attention)
              for bk in (tf_backend, torch_backend)]
    torch_backend.cl.import_weights(models[1], tf_backend.cl.export_weights(models[0]))
    batch = tiny_batch(tokenizer)
    tf_logits = models[0](*[np.asarray(a, np.int32) for a in batch[:3]], np.asarray(batch.target_length, np.int32))
    with torch.no_grad():
        models[1].eval()
        torch_logits = models[1](*[torch.as_tensor(a) for a in batch[:3]], torch.as_tensor(batch.target_length))
    np.testing.assert_allclose(tf_logits.numpy(), torch_logits.numpy(), atol=1e-5)
    for method in ("greedy", "beam"):
        a, b = (m.decode(batch.source, batch.source_length, method, maximum_iterations=6) for m in models)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        if attention:
            np.testing.assert_allclose(a[2], b[2], atol=1e-5)


def test_reverse_padded(backend):
    x = np.arange(1, 13, dtype=np.float32).reshape(3, 4, 1)
    got = backend.np(chatbot(backend).reverse_padded(backend.float(x), backend.int([4, 2, 0])))[..., 0]
    np.testing.assert_array_equal(got, [[4, 3, 2, 1], [6, 5, 7, 8], [9, 10, 11, 12]])


def test_reverse_source_keeps_alignments_in_prompt_order(backend, tokenizer):
    """Reading backwards changes the encoder's final state, not where a memory row sits."""
    cb = chatbot(backend)
    forward = cb.Seq2SeqChatbot(tokenizer.vocab_size, 8, 8, attention="luong", bidirectional=False)
    backward = cb.Seq2SeqChatbot(tokenizer.vocab_size, 8, 8, attention="luong", bidirectional=False,
                                 reverse_source=True)
    backend.cl.import_weights(backward, backend.cl.export_weights(forward))
    source = backend.int([[5, 6, 7, 0], [8, 9, 10, 11]])
    lengths = backend.int([3, 4])
    reversed_source = chatbot(backend).reverse_padded(source, lengths)
    memory_fw, _ = forward.encode(reversed_source, lengths)  # reads the prompt backwards, by hand
    memory_bw, state_bw = backward.encode(source, lengths)
    _, state_fw = forward.encode(reversed_source, lengths)
    expected = backend.np(cb.reverse_padded(memory_fw, lengths))
    np.testing.assert_allclose(backend.np(memory_bw), expected, atol=1e-6)
    np.testing.assert_allclose(backend.np(state_bw[0]), backend.np(state_fw[0]), atol=1e-6)


def test_model_argument_errors(backend):
    cb = chatbot(backend)
    with pytest.raises(ValueError, match="`attention` must be one of"):
        cb.Seq2SeqChatbot(10, attention="dot")
    with pytest.raises(ValueError, match="`units` must be even"):
        cb.Seq2SeqChatbot(10, units=7)
    with pytest.raises(ValueError, match="`vocab_size`"):
        cb.Seq2SeqChatbot(0)
    with pytest.raises(ValueError, match="`dropout`"):
        cb.Seq2SeqChatbot(10, dropout=1.0)


# -- checkpoints --------------------------------------------------------------------------------

def replies_of(bot):
    return [(r.text, r.ids) for r in bot.replies([p for p, _ in PAIRS] + ["hi how are you"], "beam", beam_width=3)]


def test_checkpoint_round_trip_gives_identical_replies(trained, tmp_path):
    bk, model, bot = trained
    cb = chatbot(bk)
    path = cb.save_checkpoint(tmp_path / "ckpt", model, bot.tokenizer)
    manifest = json.loads((path / "checkpoint.json").read_text())
    assert manifest["backend"] == bk.name and manifest["config"] == model.get_config()
    loaded, tokenizer = cb.load_checkpoint(path)
    assert tokenizer.serialized == bot.tokenizer.serialized
    assert replies_of(cb.Chatbot(loaded, tokenizer, max_reply_tokens=12)) == replies_of(bot)
    for name, w in bk.cl.export_weights(model).items():
        np.testing.assert_array_equal(bk.cl.export_weights(loaded)[name], w)
    # a second save replaces the first: one version of each file remains
    cb.save_checkpoint(path, loaded, tokenizer)
    assert sorted(p.name for p in path.iterdir()) == sorted(
        ["checkpoint.json", f"model-000002{cb.WEIGHTS_SUFFIX}", "tokenizer-000002.model"])


def test_failed_save_leaves_the_old_checkpoint_intact(trained, tmp_path, monkeypatch):
    bk, model, bot = trained
    cb = chatbot(bk)
    path = cb.save_checkpoint(tmp_path / "ckpt", model, bot.tokenizer)
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    other = cb.Seq2SeqChatbot(bot.tokenizer.vocab_size, 16, 32)  # untrained: different replies

    def disk_full(self, target):
        raise OSError("No space left on device")

    monkeypatch.setattr(SubwordTokenizer, "save", disk_full)  # fails after the weights file was written
    with pytest.raises(CheckpointError, match="No space left.*the checkpoint there is unchanged"):
        cb.save_checkpoint(path, other, bot.tokenizer)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before  # no stray or changed file
    loaded, tokenizer = cb.load_checkpoint(path)
    assert replies_of(cb.Chatbot(loaded, tokenizer, max_reply_tokens=12)) == replies_of(bot)
    with pytest.raises(ValueError, match="tokenizer has"):
        cb.save_checkpoint(tmp_path / "mismatch", cb.Seq2SeqChatbot(99, 8, 8), bot.tokenizer)
    assert not (tmp_path / "mismatch").exists()


def test_missing_and_corrupted_checkpoints_give_clear_errors(trained, tmp_path):
    bk, model, bot = trained
    cb = chatbot(bk)
    with pytest.raises(FileNotFoundError, match="no checkpoint at.*does not exist"):
        cb.load_checkpoint(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no checkpoint.json"):
        cb.load_checkpoint(tmp_path / "empty")

    path = cb.save_checkpoint(tmp_path / "ckpt", model, bot.tokenizer)
    weights = next(path.glob(f"model-*{cb.WEIGHTS_SUFFIX}"))
    good = weights.read_bytes()
    weights.write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(CheckpointError, match=f"{weights.name} is corrupted"):
        cb.load_checkpoint(path)
    weights.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one bit flipped
    with pytest.raises(CheckpointError, match="SHA-256 differs"):
        cb.load_checkpoint(path)
    weights.unlink()
    with pytest.raises(CheckpointError, match="is missing"):
        cb.load_checkpoint(path)
    weights.write_bytes(good)
    manifest = path / "checkpoint.json"
    text = manifest.read_text()
    manifest.write_text(text[:40])
    with pytest.raises(CheckpointError, match="not valid JSON"):
        cb.load_checkpoint(path)
    other = "torch" if bk.name == "tf" else "tf"
    manifest.write_text(text.replace(f'"backend": "{bk.name}"', f'"backend": "{other}"'))
    with pytest.raises(CheckpointError, match=f"saved by the '{other}' backend"):
        cb.load_checkpoint(path)
    manifest.write_text(text)
    loaded, _ = cb.load_checkpoint(path)  # the files are untouched by the failed loads
    # a broken checkpoint can be replaced by a good one
    manifest.write_text("garbage")
    cb.save_checkpoint(path, loaded, bot.tokenizer)
    assert cb.load_checkpoint(path)[1].serialized == bot.tokenizer.serialized


def test_torch_checkpoint_refuses_pickled_code(tmp_path):
    """``weights_only=True``: a weights file that carries a pickled object is refused, not run."""
    torch_backend = Backend("torch")
    import torch

    from course_lib.common import checkpoint
    cb = chatbot(torch_backend)
    tok = SubwordTokenizer.train([t for pair in PAIRS for t in pair], vocab_size=40)
    model = cb.Seq2SeqChatbot(tok.vocab_size, 8, 8)
    path = cb.save_checkpoint(tmp_path / "ckpt", model, tok)
    weights = next(path.glob("model-*.pt"))
    torch.save({"state": model.state_dict(), "evil": Exception("pickled object")}, weights)
    manifest = json.loads((path / "checkpoint.json").read_text())
    manifest["files"]["model"]["sha256"] = checkpoint.sha256_of(weights)  # a forged but consistent checkpoint
    (path / "checkpoint.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="does not hold this model's weights.*Unpickl|weights_only"):
        cb.load_checkpoint(path)


# -- what users type ----------------------------------------------------------------------------

def test_chat_inputs_never_raise(trained):
    _, _, bot = trained
    empty, spaces, unknown, huge, mixed, not_text = bot.replies(
        ["", "   \n", "\U0001F600\u2603", "hi " * 3334, "hi \U0001F600", None])
    assert empty.text == "" and "empty" in empty.message
    assert spaces.text == "" and "empty" in spaces.message
    assert unknown.text == "" and "never saw" in unknown.message and "cannot read" in unknown.message
    assert len("hi " * 3334) > 10_000
    assert huge.text and f"read only the first {bot.max_prompt_tokens}" in huge.message
    assert len(huge.source_tokens) == bot.max_prompt_tokens
    assert mixed.text == "hello there" and "1 character(s)" in mixed.message
    assert not_text.text == "" and "text" in not_text.message
    assert bot.reply("").message == empty.message
    with pytest.raises(ValueError, match="`method`"):
        bot.reply("hi", method="nucleus")


def test_chatbot_refuses_another_tokenizer(trained):
    bk, model, _ = trained
    other = SubwordTokenizer.train(["something else entirely"] * 3, vocab_size=30)
    with pytest.raises(ValueError, match="use the tokenizer it was trained with"):
        chatbot(bk).Chatbot(model, other)


def test_chat_widget_static_view(trained):
    from course_lib.common.widgets import ChatWidget, replies_table

    _, _, bot = trained
    view = ChatWidget(bot, ["hi", "", "tell me a joke"])
    text = view.summary()
    assert "you: hi" in text and "bot (greedy): hello there" in text and "note: Say something" in text
    assert view.explorer().target_tokens[0][-1] == "</s>"
    bundle = view._repr_mimebundle_()
    assert bundle["image/png"] and bundle["text/plain"] == text
    table = replies_table({"greedy": bot.replies(["hi", "bye"]), "beam": bot.replies(["hi", "bye"], "beam")},
                          ["hi", "bye"])
    assert "hello there" in table and "see you soon" in table


# -- sampled softmax ----------------------------------------------------------------------------

def test_sampled_softmax_twins_agree(tf_backend, torch_backend):
    import tensorflow as tf
    import torch

    rng = np.random.default_rng(0)
    V, A, N, S = 50, 6, 7, 10
    weights, biases = rng.standard_normal((V, A)).astype(np.float32), rng.standard_normal(V).astype(np.float32)
    inputs = rng.standard_normal((N, A)).astype(np.float32)
    labels = np.array([[0], [3], [7], [49], [3], [12], [0]])
    sampled = tf_backend.np(chatbot(tf_backend).log_uniform_candidates(S, V, tf.constant(labels), seed=1))
    assert len(set(sampled[0].tolist())) == S and ((sampled[2] > 0) & (sampled[2] <= 1)).all()
    free = [i for i, k in enumerate(sampled[0]) if k not in (0, 3)]
    for position, label in zip(free, [k for k in (0, 3) if k not in sampled[0]]):
        sampled[0][position] = label  # accidental hits to remove; the samples stay distinct
    assert {0, 3} <= set(sampled[0].tolist()) and len(set(sampled[0].tolist())) == S
    want = tf_backend.np(chatbot(tf_backend).sampled_softmax_loss(
        tf.constant(weights), tf.constant(biases), tf.constant(labels), tf.constant(inputs), S, V,
        sampled_values=tuple(tf.constant(v) for v in sampled)))
    got = torch_backend.np(chatbot(torch_backend).sampled_softmax_loss(
        torch.tensor(weights), torch.tensor(biases), torch.tensor(labels), torch.tensor(inputs), S, V,
        sampled_values=tuple(torch.tensor(v) for v in sampled)))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_torch_log_uniform_sampler():
    import torch

    from course_lib.torch.sampled_softmax import log_uniform_candidates
    labels = torch.tensor([[0], [999]])
    sampled, true_count, sampled_count = log_uniform_candidates(64, 1000, labels, seed=0)
    assert len(set(sampled.tolist())) == 64 and sampled.min() >= 0 and sampled.max() < 1000
    assert true_count.shape == (2, 1) and sampled_count.shape == (64,)
    assert true_count[0, 0] > true_count[1, 0]  # class 0 is the likeliest
    assert torch.equal(log_uniform_candidates(64, 1000, labels, seed=0)[0], sampled)
    draws = torch.cat([log_uniform_candidates(1, 1000, labels, seed=s)[0] for s in range(400)])
    assert (draws < 10).float().mean() > 0.25  # Zipf-like: p(k < 10) = log(11) / log(1001) = 0.35


def test_sampled_softmax_training_step_runs(backend, tokenizer):
    cb = chatbot(backend)
    backend.cl.set_seed(0)
    model = cb.Seq2SeqChatbot(tokenizer.vocab_size, 8, 16)
    trainer = cb.Trainer(model, learning_rate=0.02, num_sampled=8)
    batch = tiny_batch(tokenizer)
    full_before = trainer.loss(batch)
    for _ in range(30):
        sampled = trainer.train_step(batch)
    assert np.isfinite(sampled) and trainer.loss(batch) < full_before


def test_chat_widget_answers_what_is_typed(trained):
    """The live widget: a value arriving in the text box (Enter) is answered and the box is cleared."""
    pytest.importorskip("ipywidgets")
    from course_lib.common.widgets import ChatWidget

    _, _, bot = trained
    view = ChatWidget(bot)
    view.widget  # builds the controls
    controls = view._controls
    controls["method"].value = "beam"
    controls["text"].value = "bye"
    assert controls["text"].value == ""
    assert [r.text for r in view.history] == ["see you soon"] and view.history[0].method == "beam"
    assert "see you soon" in controls["history"].value and controls["alignment"].children
    controls["text"].value = "\U0001F600"
    assert "cannot read" in view.history[-1].message and "cannot read" in controls["history"].value


def test_chat_widget_refuses_a_method_the_bot_lacks(trained):
    from course_lib.common.widgets import ChatWidget

    _, _, bot = trained
    with pytest.raises(ValueError, match=r"`method` must be one of \('greedy', 'beam', 'sample'\), got 'nucleus'"):
        ChatWidget(bot, method="nucleus")


# -- the package's shape ------------------------------------------------------------------------

def test_the_two_bindings_export_the_same_names():
    tf_binding = importlib.import_module("course_lib.chapters.ch07_chatbot.tf")
    torch_binding = importlib.import_module("course_lib.chapters.ch07_chatbot.torch")
    assert tf_binding.__all__ == torch_binding.__all__
    assert len(set(tf_binding.__all__)) == len(tf_binding.__all__)
    assert all(hasattr(tf_binding, n) and hasattr(torch_binding, n) for n in tf_binding.__all__)
    public = [{n for n in dir(m) if not n.startswith("_")} - {"annotations", framework}
              for m, framework in ((tf_binding, "tf"), (torch_binding, "torch"))]
    assert public[0] == public[1], public[0] ^ public[1]
    # written once: the framework-free parts are the same objects in both
    for name in ("Chatbot", "Reply", "Evaluation", "CheckpointError", "CheckResult", "ATTENTION_TYPES", "METHODS"):
        assert getattr(tf_binding, name) is getattr(torch_binding, name), name


def test_backends_define_the_same_sampled_softmax():
    tf_mod = importlib.import_module("course_lib.tf.sampled_softmax")
    torch_mod = importlib.import_module("course_lib.torch.sampled_softmax")
    assert sorted(tf_mod.__all__) == sorted(torch_mod.__all__)
    assert all(hasattr(tf_mod, n) and hasattr(torch_mod, n) for n in tf_mod.__all__)


def test_framework_free_modules_import_no_framework():
    code = ("import sys\n"
            "import course_lib.chapters.ch07_chatbot\n"
            "from course_lib.chapters.ch07_chatbot import checkers, checkpoints, decoding, replies, training\n"
            "from course_lib.chapters.ch07_chatbot import cli, glosses, pretrain, pretrained, quality\n"
            "import course_lib.common.chat_splits, course_lib.common.reply_metrics\n"
            "import course_lib.common.widgets.chat\n"
            "print(sorted(m for m in ('tensorflow', 'torch', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["tf", "torch"])
def test_a_binding_imports_only_its_own_framework(name):
    other = {"tf": "torch", "torch": "tensorflow"}[name]
    code = (f"import sys; from course_lib.chapters.ch07_chatbot import {name}; "
            f"print({other!r} in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
