"""The GPU run of the course (``bench/gpu/run.sh``) and the bench on a device (``bench_device``)."""
