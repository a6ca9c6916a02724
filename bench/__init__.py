"""Benchmarks of course_lib against framework baselines: ``python -m bench`` (see bench/README.md).

Run from the repository root. ``bench.run.run_bench(...)`` is the in-process entry point
(the smoke test uses it with tiny shapes); ``bench.run.main()`` is the command line.
"""
