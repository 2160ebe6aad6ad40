#!/usr/bin/env bash
# The GPU check, one command on a machine with an NVIDIA GPU, CUDA, CMake, PyTorch and Triton
# but no LLVM/MLIR and no network (scripts/make-device-bundle.sh prepares its inputs on a CPU
# machine, in build-device/):
#
#   1. builds the runtime without the compiler (cmake -DLINAC_ENABLE_COMPILER=OFF);
#   2. runs the C++ unit tests (their GPU tests run when a driver is there);
#   3. runs every op of the bundle on the GPU against the CPU kernels' results
#      (test/gpu/test_gpu_ops.py);
#   4. profiles the benchmark's chunked kernels phase by phase: the cycles between barriers
#      of their --profile-phases builds (benchmarks/gpu_profile.py);
#   5. times the tile-option variants of the chunked kernels (benchmarks/gpu_variants.py);
#   6. benchmarks linac against flash-linear-attention and FlashAttention (sdpa)
#      (benchmarks/gpu_ops.py);
#   7. runs compute-sanitizer (memcheck, racecheck) on two ops' correctness cases.
#
#   bash scripts/device-check.sh [--bundle build-device] [--out DIR] [--build-dir DIR]
#                                [--quick] [--no-bench] [--no-variants] [--no-profile]
#                                [--no-sanitizer] [--time-limit SECONDS]
#
# Everything goes to --out (default $OUT when set, else build-device-results/), at most 8
# files (what the device tool brings back): device-check.log, gpu-tests.json, profile.json,
# variants.json, sanitizer.log, results/gpu/<date>.{json,meta.json,png} (the unit tests' full
# log stays in the build folder; the check prints its summary, or its tail on failure).
# --time-limit bounds the whole check: each stage runs under `timeout` with its share of
# what is left, the benchmark stops measuring peers in time, and its results are written
# after every problem.
# Without a GPU (no nvidia-smi, no torch.cuda) the GPU stages say so and skip; the exit
# status is then that of the build and the unit tests. Each stage prints its time.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="$ROOT/build-device"
RESULTS="${OUT:-$ROOT/build-device-results}"
BUILD="$ROOT/build-device-runtime"
QUICK=()
BENCH=1
VARIANTS=1
PROFILE=1
SANITIZER=1
TIME_LIMIT=0
while (($#)); do
  case "$1" in
    --bundle) BUNDLE="$(cd "$2" && pwd)"; shift 2 ;;
    --out) RESULTS="$2"; shift 2 ;;
    --build-dir) BUILD="$2"; shift 2 ;;
    --quick) QUICK=(--quick); shift ;;
    --no-bench) BENCH=0; shift ;;
    --no-variants) VARIANTS=0; shift ;;
    --no-profile) PROFILE=0; shift ;;
    --no-sanitizer) SANITIZER=0; shift ;;
    --time-limit) TIME_LIMIT="$2"; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "device-check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$RESULTS"
RESULTS="$(cd "$RESULTS" && pwd)"

main() {
START=$SECONDS
FAILED=()
stage() { echo; echo "== [$((SECONDS - START)) s] $*"; }
fail() { FAILED+=("$1"); echo "FAILED: $1"; }
# Seconds a stage may take: at most $1, and no more than what the time limit leaves after
# keeping $2 seconds for the stages after it.
allow() {
  local cap=$1 keep=${2:-0}
  if ((TIME_LIMIT > 0)); then
    local left=$((TIME_LIMIT - (SECONDS - START) - keep))
    ((left < cap)) && cap=$left
  fi
  ((cap < 1)) && cap=1
  echo "$cap"
}

stage "machine"
echo "linac $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), bundle $BUNDLE, results $RESULTS"
GPU=1
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
else
  GPU=0
  echo "no GPU: nvidia-smi is missing or finds no device; the GPU stages are skipped"
fi
python3 - <<'EOF'
try:
    import torch
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"torch.cuda.is_available() = {torch.cuda.is_available()}")
except ImportError as error:
    print(f"torch not importable ({error}): the GPU stages are skipped")
EOF
if [[ ! -f "$BUNDLE/manifest.json" ]]; then
  echo "error: $BUNDLE/manifest.json not found: run scripts/make-device-bundle.sh on a machine with the compiler" >&2
  return 1
fi
# The device tool's copy of the checkout can carry an older .git than its files: the
# bundle's own record says which compiler made the kernels.
python3 -c "import json, sys; m = json.load(open(sys.argv[1])); print(f\"bundle made by linac {m['linac_commit']} on {m['created']}, target {m['target']}\")" "$BUNDLE/manifest.json"

stage "build the runtime without LLVM/MLIR into $BUILD"
CONFIGURE=(-G Ninja -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
  -DLINAC_ENABLE_COMPILER=OFF -DLINAC_ENABLE_PYTHON=OFF)
command -v ninja >/dev/null 2>&1 || CONFIGURE[1]="Unix Makefiles"
[[ -d "$BUNDLE/googletest" ]] && CONFIGURE+=(-DLINAC_GTEST_SOURCE_DIR="$BUNDLE/googletest")
mkdir -p "$BUILD"
if timeout "$(allow 300 60)" cmake "${CONFIGURE[@]}" >"$BUILD/cmake.log" 2>&1 &&
   timeout "$(allow 300 60)" cmake --build "$BUILD" -j "$(nproc)" >>"$BUILD/cmake.log" 2>&1; then
  tail -n 2 "$BUILD/cmake.log"
  ls -l "$BUILD/lib/liblinac_runtime.so"
else
  tail -n 30 "$BUILD/cmake.log"
  fail "build"
  echo "nothing else can run without the runtime"
  return 1
fi
export LINAC_RUNTIME_LIB="$BUILD/lib/liblinac_runtime.so"

stage "C++ unit tests"
if [[ -x "$BUILD/bin/linac-unit-tests" ]]; then
  if timeout "$(allow 120 60)" "$BUILD/bin/linac-unit-tests" >"$BUILD/unit-tests.log" 2>&1; then
    grep -E '^\[==========\]|^\[  PASSED  \]|^\[  SKIPPED \] [0-9]+ tests?,' "$BUILD/unit-tests.log"
    # Why the GPU tests skipped, if they did (gtest prints the reason after "Skipped").
    grep -m 1 -A 1 ': Skipped$' "$BUILD/unit-tests.log" | tail -n 1 | sed 's/^/  skip reason: /'
  else
    tail -n 40 "$BUILD/unit-tests.log"
    fail "unit tests"
  fi
else
  echo "SKIP: linac-unit-tests was not built (no GoogleTest, none in the bundle)"
fi

REQUIRE=()
((GPU)) && REQUIRE=(--require-gpu)
stage "GPU correctness: every op of the bundle against the CPU kernels"
if ! timeout "$(allow 180 60)" python3 "$ROOT/test/gpu/test_gpu_ops.py" --bundle "$BUNDLE" \
    --out "$RESULTS/gpu-tests.json" "${REQUIRE[@]}"; then
  fail "GPU correctness"
fi

if ((BENCH && PROFILE)); then
  stage "GPU phase profile of the chunked kernels (cycles between barriers)"
  if ! timeout "$(allow 60 150)" python3 "$ROOT/benchmarks/gpu_profile.py" --bundle "$BUNDLE" \
      --out "$RESULTS/profile.json"; then
    fail "GPU phase profile"
  fi
fi

if ((BENCH && VARIANTS)); then
  stage "GPU tile-option variants of the chunked kernels"
  if ! timeout "$(allow 90 150)" python3 "$ROOT/benchmarks/gpu_variants.py" --bundle "$BUNDLE" \
      --out "$RESULTS/variants.json"; then
    fail "GPU variants"
  fi
fi

if ((BENCH)); then
  stage "GPU benchmark: linac vs flash-linear-attention vs FlashAttention (sdpa)"
  # fla-core and einops from the bundle's wheels (pure Python: unpacked, no pip, no network).
  PYLIB="$BUILD/pylib"
  if compgen -G "$BUNDLE/wheels/*.whl" >/dev/null; then
    rm -rf "$PYLIB" && mkdir -p "$PYLIB"
    for wheel in "$BUNDLE"/wheels/*.whl; do
      python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$wheel" "$PYLIB"
    done
    export PYTHONPATH="$PYLIB${PYTHONPATH:+:$PYTHONPATH}"
    echo "unpacked the wheels of $BUNDLE/wheels into $PYLIB"
  else
    echo "no wheels in the bundle: fla is used only if already installed"
  fi
  # Peers (fla's first calls autotune for minutes) stop in time to leave the sanitizer its
  # share and linac's remaining problems theirs.
  BENCH_TIME=$(allow 100000 60)
  BUDGET=$((BENCH_TIME > 120 ? BENCH_TIME - 60 : BENCH_TIME / 2))
  if ! timeout "$BENCH_TIME" python3 "$ROOT/benchmarks/gpu_ops.py" --bundle "$BUNDLE" \
      --out-dir "$RESULTS/results/gpu" --budget-s "$BUDGET" "${QUICK[@]}"; then
    fail "GPU benchmark"
  fi
else
  stage "GPU benchmark: skipped (--no-bench)"
fi

stage "compute-sanitizer: memcheck and racecheck on two ops' correctness cases"
if ((!SANITIZER)); then
  echo "SKIP: --no-sanitizer"
elif ((GPU)) && command -v compute-sanitizer >/dev/null 2>&1; then
  for tool in memcheck racecheck; do
    SECONDS_FOR_TOOL=$(allow 60 5)
    if ((SECONDS_FOR_TOOL < 20)); then
      echo "SKIP: $tool: ${SECONDS_FOR_TOOL} s left" | tee -a "$RESULTS/sanitizer.log"
      continue
    fi
    echo "== $tool" >>"$RESULTS/sanitizer.log"
    timeout "$SECONDS_FOR_TOOL" compute-sanitizer --tool "$tool" --kernel-name kns=chunk_ \
      python3 "$ROOT/test/gpu/test_gpu_ops.py" --bundle "$BUNDLE" \
      --ops chunk_simple_gla chunk_gated_delta_rule >>"$RESULTS/sanitizer.log" 2>&1
    status=$?
    grep -E "ERROR SUMMARY|RACECHECK SUMMARY|Hazard|Invalid" "$RESULTS/sanitizer.log" | tail -n 4
    echo "$tool: exit status $status (124: out of time)"
  done
else
  echo "SKIP: no GPU or no compute-sanitizer"
fi

stage "done"
((GPU)) || echo "GPU parts skipped: no GPU on this machine (build and unit tests only)"
if ((${#FAILED[@]})); then
  echo "device check FAILED: ${FAILED[*]}"
  return 1
fi
echo "device check passed; results in $RESULTS"
}

main 2>&1 | tee "$RESULTS/device-check.log"
exit "${PIPESTATUS[0]}"
