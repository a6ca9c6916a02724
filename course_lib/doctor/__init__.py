"""``python -m course_lib doctor``: is this machine ready for the course?

Checks, in order: Python; the packages that ``requirements.txt`` pins (installed, same
version); whether ipywidgets render in JupyterLab (the ``jupyterlab_widgets`` extension);
free memory; the CPU, the GPU and the device each framework and ``course_lib`` will use;
and, for every chapter notebook that exists, that the modules it imports and the shipped
files it names (under ``figures/`` or ``data/``, or images in its Markdown) are there. A file
that a notebook only uses when the learner has downloaded it carries ``# optional`` on its line.

Prints a line per check (``ok``, ``info``, ``warn``, ``FAIL``) and under each problem the
command that fixes it. Exit code 0 when ready, 1 when a ``FAIL`` was found (``--strict``: or a
``warn``). Frameworks are imported lazily and a missing or broken one is a finding, never a
crash; a PyTorch-only class runs ``python -m course_lib doctor --framework torch``.

Modules, by concern: ``findings`` (a ``Finding``, its statuses, shared helpers), ``packages``
(Python, pins, widget extension), ``machine`` (memory, CPU, GPU, framework devices),
``notebooks`` (each notebook's imports and files), ``cli`` (the run, the report, the command).
This package re-exports the report's entry points only; the checks live in their modules.
"""

from course_lib.doctor.cli import exit_code, format_report, main, run
from course_lib.doctor.findings import FAIL, INFO, OK, WARN, Finding

__all__ = ["FAIL", "INFO", "OK", "WARN", "Finding", "exit_code", "format_report", "main", "run"]
