"""Command line: ``python -m course_lib doctor | chat | train-chatbot``.

* ``doctor``: is this machine ready for the course? (see ``course_lib.doctor``)
* ``chat``: talk to a chatbot shipped with the course (chapter 7; ``chat --help`` lists its exit codes)
* ``train-chatbot``: train chapter 7's chatbot on ChatbotData and write a model folder both backends load

Repository tooling (the index and the README's chapter table) is not part of the library:
``python tools/course_index.py`` in a checkout.
"""

from __future__ import annotations

import sys

USAGE = """usage: python -m course_lib COMMAND [options]

commands:
  doctor         check Python, packages, widgets, CPU/GPU, memory and notebook data; prints a fix
                 for each problem; exit code 0 when ready, 1 when not (--help for options)
  chat           talk to chapter 7's shipped chatbot: one reply per prompt given, or an interactive
                 conversation (--backend tf|torch, --model, --beam-width, --sample; --help for exit codes)
  train-chatbot  train chapter 7's chatbot on ChatbotData to convergence and write a framework-neutral
                 model folder (progress bar, loss plot, SHA-256 of every file; --help for the settings)
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "doctor":
        from course_lib.doctor import main as doctor_main

        return doctor_main(rest)
    if command in ("chat", "train-chatbot"):
        from course_lib.chapters.ch07_chatbot import cli

        try:
            return (cli.chat_main if command == "chat" else cli.train_main)(rest)
        except SystemExit as exc:  # argparse: --help (0) or bad options (2)
            return exc.code if isinstance(exc.code, int) else 2
    if command == "index":
        print("`index` is repository tooling now: python tools/course_index.py (in a checkout)", file=sys.stderr)
        return 2
    print(f"unknown command {command!r}\n\n{USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
