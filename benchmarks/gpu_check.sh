#!/usr/bin/env bash
# One prepared accelerator check: the CUDA-parametrised tests (ops, heads, detectors, distillers)
# and the multi-seed distillation benchmark (benchmarks/bench_distill_gain.py) with every training
# run on the GPU, several at a time. Nothing here is needed by the test suite (which runs on CPU).
#
#   OUT=/tmp/gpu_out bash benchmarks/gpu_check.sh [SECONDS]     # benchmarks stop after SECONDS - 20 (default 480)
#
# Writes to $OUT: cuda_tests.log, gain_*.md, bench_*.log (tails), runs.tgz (every run's metrics + logs).
set -u
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
LIMIT=${1:-480}
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -d .whl ]; then  # packages missing on a bare accelerator machine, carried as wheels
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; nproc;
  python3 -c "import torch, mmengine; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'mmengine', mmengine.__version__)"; } \
    > "$OUT/cuda_tests.log" 2>&1
start=$(date +%s)
bench() {  # name, then bench_distill_gain.py arguments
    local name=$1; shift
    timeout $((LIMIT - 20)) python3 benchmarks/bench_distill_gain.py --work-dir "work_dirs/gpu_$name" "$@" \
        > "work_dirs/bench_$name.log" 2>&1
    echo "exit $? after $(( $(date +%s) - start )) s" >> "work_dirs/bench_$name.log"
    cp "work_dirs/gpu_$name/distill_gain.md" "$OUT/gain_$name.md" 2>/dev/null
}
mkdir -p work_dirs
BENCHES=${BENCHES:-"A B"}
for b in $BENCHES; do
    case $b in
        A) bench A --teacher-iters 260 --student-iters 130 --seeds 0 1 2 3 4 --jobs 27 & ;;
        B) bench B --teacher-iters 300 --student-iters 100 --seeds 0 1 2 --families gfl --jobs 10 & ;;
        C) bench C --teacher-iters 800 --student-iters 400 --seeds 0 1 2 --families gfl --jobs 10 & ;;
        D) bench D --teacher-iters 260 --student-iters 130 --seeds 0 1 2 --families gfl --jobs 9 & ;;
    esac
done
# finished runs' metrics reach $OUT as they come (a run cut by the time limit still reports them)
( while sleep 10; do tar czf "$OUT/metrics.tgz" $(find work_dirs/gpu_* -name '*.json' 2>/dev/null) 2>/dev/null; done ) &
SYNC=$!
# CUDA tests while the benchmarks train (they share the GPU)
[ -n "${SKIP_TESTS:-}" ] || timeout 300 python3 -m pytest -q -p no:cacheprovider -k cuda tests/test_ops tests/test_models tests/test_structures \
    >> "$OUT/cuda_tests.log" 2>&1
echo "pytest exit $? after $(( $(date +%s) - start )) s" >> "$OUT/cuda_tests.log"
wait $(jobs -p | grep -v "^$SYNC$")
kill $SYNC
nvidia-smi --query-gpu=memory.used --format=csv >> "$OUT/cuda_tests.log" 2>&1
for b in $BENCHES; do tail -c 20000 "work_dirs/bench_$b.log" > "$OUT/bench_$b.log"; done
tar czf "$OUT/runs.tgz" $(find work_dirs/gpu_* \( -name '*.json' -o -name 'train_stdout.log' -o -name '*.md' \) \
    -size -2M 2>/dev/null) 2>/dev/null
ls -la "$OUT"
