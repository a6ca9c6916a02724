"""Command line: ``python -m course_lib doctor``.

* ``doctor``: is this machine ready for the course? (see ``course_lib.doctor``)

Repository tooling (the index and the README's chapter table) is not part of the library:
``python tools/course_index.py`` in a checkout.
"""

from __future__ import annotations

import sys

USAGE = """usage: python -m course_lib COMMAND [options]

commands:
  doctor   check Python, packages, widgets, CPU/GPU, memory and notebook data; prints a fix
           for each problem; exit code 0 when ready, 1 when not (--help for options)
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
    if command == "index":
        print("`index` is repository tooling now: python tools/course_index.py (in a checkout)", file=sys.stderr)
        return 2
    print(f"unknown command {command!r}\n\n{USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
