"""The package's shape: thin root, backends isolated, the same public names in both."""

import subprocess
import sys

import pytest

MODULES = ["cells", "rnn", "sampler", "scheduled_sampler", "decoder", "tensor_array", "loss", "weights", "utils",
           "attention", "attention.ops", "attention.base", "attention.bahdanau_luong", "attention.monotonic",
           "attention.location", "attention.wrapper", "beam_search", "beam_step", "beam_ops", "errors", "trace",
           "contrib", "contrib.nn", "contrib.rnn", "contrib.rnn.cells", "contrib.rnn.wrappers", "contrib.seq2seq",
           "contrib.seq2seq.helper", "contrib.seq2seq.basic_decoder", "contrib.seq2seq.attention_wrapper",
           "contrib.seq2seq.beam_search_decoder", "contrib.seq2seq.loss"]


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_root_imports_no_framework():
    assert _run("import sys, course_lib, course_lib.common; "
                "print(sorted(m for m in ('tensorflow', 'torch', 'keras') if m in sys.modules))") == "[]"


def test_torch_backend_does_not_import_tensorflow():
    assert _run("import sys; from course_lib import torch as cl; "
                "print('tensorflow' in sys.modules, 'keras' in sys.modules)") == "False False"


def test_tf_backend_does_not_import_torch():
    assert _run("import sys; from course_lib import tf as cl; print('torch' in sys.modules)") == "False"


def _public(module):
    return {n for n in dir(module) if not n.startswith("_")} - {"annotations"}


def test_backends_export_the_same_names(tf_backend, torch_backend):
    diff = _public(tf_backend.cl) ^ _public(torch_backend.cl)
    # module objects differ by name only where the framework is imported under its own name
    diff -= {"keras", "tf", "torch", "nn", "F", "np"}
    diff -= {"contrib"}  # a subpackage: an attribute of a backend once some test has imported it
    assert diff == set(), f"names in one backend only: {sorted(diff)}"


@pytest.mark.parametrize("module", MODULES)
def test_modules_define_the_same_public_names(module):
    import importlib

    tf_mod = importlib.import_module(f"course_lib.tf.{module}")
    torch_mod = importlib.import_module(f"course_lib.torch.{module}")

    def defined(mod):
        return {n for n, v in vars(mod).items()
                if not n.startswith("_") and getattr(v, "__module__", mod.__name__) == mod.__name__
                and (callable(v) or isinstance(v, (int, float)))}

    # TF's TensorArray is tf.TensorArray itself; PyTorch's is course_lib's own class
    def names(mod):
        extra = {"TensorArray"} & set(vars(mod)) if module in ("decoder", "tensor_array") else set()
        return (defined(mod) - {"TensorArray"}) | extra

    assert names(tf_mod) == names(torch_mod)


@pytest.mark.parametrize("alias,name", [
    ("TrainingHelper", "TrainingSampler"), ("GreedyEmbeddingHelper", "GreedyEmbeddingSampler"),
    ("SampleEmbeddingHelper", "SampleEmbeddingSampler"), ("InferenceHelper", "InferenceSampler"),
    ("ScheduledEmbeddingTrainingHelper", "ScheduledEmbeddingTrainingSampler"),
    ("ScheduledOutputTrainingHelper", "ScheduledOutputTrainingSampler"), ("CustomHelper", "CustomSampler"),
    ("BasicRNNCell", "SimpleRNNCell"),
])
def test_tf1_aliases(backend, alias, name):
    assert getattr(backend.cl, alias) is getattr(backend.cl, name)


def test_tf_backend_import_and_first_decode_print_no_log_lines():
    """No TF banner or C++ log line reaches stderr (JupyterLab would show it in the notebook)."""
    code = ("from course_lib import tf as cl; import keras, tensorflow as tf; "
            "d = cl.BasicDecoder(cl.LSTMCell(4), cl.GreedyEmbeddingSampler(), keras.layers.Dense(5), "
            "maximum_iterations=3); d(tf.ones([5, 3]), start_tokens=tf.zeros([2], tf.int32), end_token=1)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr == "", out.stderr[-2000:]


def test_quiet_import_keeps_other_stderr_lines():
    from course_lib.tf import _quiet

    code = ("import os\nfrom course_lib.tf._quiet import _native_stderr_filtered\n"
            "with _native_stderr_filtered():\n"
            "    os.write(2, b'I0000 port.cc:153] oneDNN custom operations are on. x\\nreal problem\\n')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stderr == "real problem\n"
    assert _quiet.BANNER.search("WARNING: All log messages before absl::InitializeLog() is called")
