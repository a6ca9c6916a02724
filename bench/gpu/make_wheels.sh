#!/usr/bin/env bash
# Download, on this machine, the wheels that bench/gpu/run.sh installs on the GPU machine (which
# has no network): every line of bench/gpu/wheels.txt, for CPython 3.12 on x86-64 Linux, without
# their dependencies (wheels.txt names them all), into .whl/ at the repository's root. .whl/ is
# ignored through .git/info/exclude (never committed) and travels to the GPU machine when the
# device tool's `carry` names it. Prints the total size (keep it under ~40 MiB: the working tree
# travels too, 64 MiB in all).
#
#   bash bench/gpu/make_wheels.sh          # PYTHON=python3 by default (any Python with pip)
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
WHEELS=.whl

exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF "/$WHEELS/" "$exclude" 2>/dev/null || echo "/$WHEELS/" >> "$exclude"

rm -rf "$WHEELS"
mkdir -p "$WHEELS"
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 \
         manylinux2014_x86_64 manylinux1_x86_64 manylinux_2_31_x86_64 manylinux_2_34_x86_64 manylinux_2_35_x86_64; do
    platforms+=(--platform "$p")
done
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" -d "$WHEELS" -r bench/gpu/wheels.txt

# one wheel per line of wheels.txt, and no line without its wheel
wanted=$(grep -cvE '^\s*(#|$)' bench/gpu/wheels.txt)
got=$(ls "$WHEELS"/*.whl | wc -l)
if [ "$wanted" -ne "$got" ]; then
    echo "make_wheels: $wanted packages in bench/gpu/wheels.txt but $got wheels in $WHEELS/" >&2
    exit 1
fi
echo "$got wheels in $WHEELS/, $(du -sh "$WHEELS" | cut -f1) in all:"
ls -S "$WHEELS" | head -5 | sed 's/^/  largest: /'
git check-ignore -q "$WHEELS/" && echo "$WHEELS/ is ignored by git (.git/info/exclude)"
