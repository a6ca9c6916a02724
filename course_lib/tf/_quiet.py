"""Keep TensorFlow's start-up banner out of notebooks.

TensorFlow 2.21 prints "oneDNN custom operations are on" (twice) from C++ while it is
imported, before its logging is configured, so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide it, and
JupyterLab's kernel shows C++ stderr in the notebook. ``import_tensorflow`` imports it with the
process's stderr (file descriptor 2) captured, drops exactly those banner lines and writes every
other line back, so real errors still show.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

BANNER = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|port\.cc:\d+\] oneDNN custom operations are on"
    r"|cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized"
    r"|^To enable the following instructions: .*rebuild TensorFlow"
)


@contextlib.contextmanager
def _native_stderr_filtered():
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (an embedded interpreter): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not BANNER.search(line))
            if kept:
                os.write(2, kept.encode("utf-8"))


def import_tensorflow():
    """``import tensorflow`` without its start-up banner; a no-op once it is imported."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with _native_stderr_filtered():
        import tensorflow
    return tensorflow
