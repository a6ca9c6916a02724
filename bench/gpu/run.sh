#!/usr/bin/env bash
# The PyTorch half of the course on a GPU, in one command: the torch unit tests, the eight PyTorch
# chapter notebooks under nbval and the bench at batch 64, 256 and 1024, with a report.
#
#   On the GPU machine (device tool, `carry: [".whl"]`, after bench/gpu/make_wheels.sh here):
#       bash bench/gpu/run.sh
#   Dry run on this machine's CPU, with the repository's .venv:
#       DEVICE=cpu bash bench/gpu/run.sh
#
# Writes to $OUT (the device tool's folder; default: a new temporary folder, printed): report.md
# (date, device, versions; pass/fail per test module and per notebook, wall time per notebook;
# the bench tables), results.json, and the logs setup.log, tests.log, notebooks.log, bench.log,
# bench.json: seven files, as the device tool brings back at most eight. The report is rewritten
# after every part, so a run stopped at its time limit still leaves one.
#
# Settings (environment; the dry run's defaults in brackets):
#   DEVICE         cuda
#   BUDGET_S       the whole run's seconds, 420 [900]: each part gets what is left, at most its own
#                  limit; a part that cannot start in time is reported as not run
#   ONLY           the parts to run, by name prefix ("nb_07 bench"); default all: tests, nb_01 ...
#                  nb_08, bench_64, bench_256, bench_1024, in that order
#   BENCH_BATCHES  "64 256 1024" ["64 256": batch 1024 takes over 150 s a run on 2 CPU cores]
#   BENCH_ARGS     more bench options, "--passes 3" ["--quick"]
#   BENCH_COMPILE  torch.compile backend of the bench's compiled peers, none (compiling them takes
#                  minutes on a GPU)
#   PYTHON         python3 [.venv/bin/python]
# Exit status: 0 when every part that was asked for ran and passed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

DEVICE=${DEVICE:-cuda}
DRY=""
[ "$DEVICE" = cpu ] && DRY=1
BUDGET_S=${BUDGET_S:-${DRY:+900}}
BUDGET_S=${BUDGET_S:-420}
BENCH_BATCHES=${BENCH_BATCHES:-${DRY:+64 256}}
BENCH_BATCHES=${BENCH_BATCHES:-64 256 1024}
BENCH_ARGS=${BENCH_ARGS-${DRY:+--quick}}
BENCH_ARGS=${BENCH_ARGS:---passes 3}
BENCH_COMPILE=${BENCH_COMPILE:-none}
ONLY=${ONLY:-}
OUT=${OUT:-$(mktemp -d /tmp/gpu-run-out.XXXXXX)}
WORK=$(mktemp -d /tmp/gpu-run-work.XXXXXX)
mkdir -p "$OUT"
T0=$(date +%s)
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    if [ -n "$DRY" ] && [ -x .venv/bin/python ]; then PYTHON=$ROOT/.venv/bin/python; fi
fi
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 TF_CPP_MIN_LOG_LEVEL=3
export JUPYTER_RUNTIME_DIR="$WORK/jupyter" IPYTHONDIR="$WORK/ipython" MPLCONFIGDIR="$WORK/matplotlib"
export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1  # only the plugin named below (-p nbval.plugin), as on any machine
PYTEST=(-m pytest -p nbval.plugin -p no:cacheprovider)
printf 'part\trc\tseconds\tlimit\n' > "$WORK/parts.tsv"

left() { echo $(( BUDGET_S - ($(date +%s) - T0) )); }

wanted() {  # wanted PART: is PART asked for (ONLY empty, or a word of ONLY is a prefix of it)?
    [ -z "$ONLY" ] && return 0
    local w
    for w in $ONLY; do [[ $1 == "$w"* ]] && return 0; done
    return 1
}

report() {  # rewrite $OUT from $WORK (cheap: no framework imported)
    "$PYTHON" -m bench.gpu.report "$WORK" "$OUT" >> "$WORK/setup.log" 2>&1 || echo "report failed (see setup.log)"
}

# part NAME LIMIT CMD...: run CMD with at most LIMIT seconds (less if the budget is short), its
# output in $WORK/NAME.log; records its exit status (124: stopped at the limit) and wall time.
part() {
    local name=$1 limit=$2 budget start_ns rc
    shift 2
    wanted "$name" || return 0
    budget=$(( $(left) - 15 ))  # keep time for the report
    if (( budget < 20 )); then
        printf '%s\tnot run\t0\t%s\n' "$name" "$limit" >> "$WORK/parts.tsv"
        echo "== $name: not run (out of time)"
        return
    fi
    (( limit > budget )) && limit=$budget
    echo "== $name (at most ${limit} s)"
    start_ns=$(date +%s%N)
    timeout -k 10 "$limit" "$@" > "$WORK/$name.log" 2>&1
    rc=$?
    printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(( ($(date +%s%N) - start_ns) / 1000000 ))e-3" "$limit" >> "$WORK/parts.tsv"
    echo "   rc $rc"
    report
}

# -- setup: the carried wheels, and what this run hides -----------------------------------------
{
    echo "run.sh: DEVICE=$DEVICE BUDGET_S=$BUDGET_S ONLY=${ONLY:-all} BENCH_BATCHES=$BENCH_BATCHES" \
         "BENCH_ARGS=$BENCH_ARGS BENCH_COMPILE=$BENCH_COMPILE PYTHON=$PYTHON OUT=$OUT"
    command -v nvidia-smi >/dev/null && nvidia-smi
    if "$PYTHON" -c "import nbval, ipykernel, ipywidgets, chatterbot_corpus, sentencepiece" 2>/dev/null; then
        echo "wheels: not installed (nbval, ipykernel, ipywidgets, chatterbot_corpus import already)"
        SITE=""
    elif ls .whl/*.whl >/dev/null 2>&1; then
        SITE=/tmp/course-site
        echo "wheels: installing $(ls .whl/*.whl | wc -l) from .whl/ into $SITE"
        "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl \
            || { echo "wheels: pip install failed"; SETUP_FAILED=1; }
    else
        echo "wheels: nbval & co. are missing and there is no .whl/ (run bench/gpu/make_wheels.sh, carry .whl)"
        SETUP_FAILED=1
    fi
    export PYTHONPATH="${SITE:+$SITE:}$ROOT"
    # The GPU machine has no TensorFlow; where there is one, hide it, so that a dry run finds what
    # the GPU run will (in every process: subprocesses and notebook kernels too).
    if "$PYTHON" -c "import importlib.util as u; raise SystemExit(u.find_spec('tensorflow') is None)" 2>/dev/null; then
        export PYTHONPATH="$PYTHONPATH:$ROOT/bench/gpu/without_tf"
        echo "tensorflow: hidden (bench/gpu/without_tf), as on the GPU machine"
    fi
    echo "PYTHONPATH=$PYTHONPATH"
    "$PYTHON" -m bench.gpu.environment "$DEVICE" > "$WORK/env.json" || echo "environment: failed"
} > "$WORK/setup.log" 2>&1
if [ -n "${SETUP_FAILED:-}" ]; then
    cat "$WORK/setup.log" >&2
    cp "$WORK/setup.log" "$OUT/setup.log"
    exit 3
fi
report
echo "setup done: $(tail -n +2 "$WORK/setup.log" | grep -E '^(wheels|tensorflow):' | tr '\n' ' ')"

# -- 1. the torch unit tests on the device --------------------------------------------------------
modules=() deselect=()
while read -r verb target _; do
    case "$verb" in
        run) modules+=("$target") ;;
        deselect) deselect+=(--deselect "$target") ;;
    esac
done < <(grep -vE '^\s*(#|$)' bench/gpu/tests.txt)
part tests 150 env COURSE_BACKENDS=torch COURSE_DEVICE="$DEVICE" \
    "$PYTHON" "${PYTEST[@]}" -q -rfEs --junitxml="$WORK/tests.xml" "${modules[@]}" "${deselect[@]}"

# -- 2. the PyTorch chapter notebooks (chapters 1-8), each in a fresh kernel, under nbval -------------------
for notebook in notebooks/torch/0[1-8]_*.ipynb; do
    stem=$(basename "$notebook" .ipynb)
    limit=90
    [[ $stem == 07_* ]] && limit=300
    part "nb_$stem" "$limit" "$PYTHON" "${PYTEST[@]}" --nbval-lax --nbval-current-env --nbval-cell-timeout=280 \
        -q -rfE --junitxml="$WORK/nb_$stem.xml" "$notebook"
done

# -- 3. the bench's PyTorch cases on the device ---------------------------------------------------
for batch in $BENCH_BATCHES; do
    # shellcheck disable=SC2086  # BENCH_ARGS: more options, split on spaces
    part "bench_$batch" 120 "$PYTHON" -m bench.gpu.bench_device --device "$DEVICE" --batch "$batch" \
        --torch-compile "$BENCH_COMPILE" --output "$WORK/bench_$batch.json" $BENCH_ARGS
done

report
echo "done in $(( $(date +%s) - T0 )) s; report: $OUT/report.md"
"$PYTHON" -m bench.gpu.report --status "$WORK"
