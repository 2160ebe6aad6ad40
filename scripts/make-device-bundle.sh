#!/usr/bin/env bash
# Prepares, on the CPU machine, what scripts/device-check.sh needs on a GPU machine that has
# no LLVM/MLIR and no network: every kernel of the GPU tests and the benchmark compiled ahead
# of time for sm_90 (linac-compile), the CPU kernels' results for the correctness cases, the
# flash-linear-attention wheel (fla-core, pure Python) and einops, and GoogleTest's sources.
#
#   bash scripts/make-device-bundle.sh [-o build-device] [--ops OP...] [--no-bench] [--no-variants]
#                                  [--no-profile] [--tuning FILE | --no-tuning] [--no-wheels]
#                                  [--baseline REF] [--baseline-options NAME=VALUE...]
#                                  [--candidate NAME=VALUE[,NAME=VALUE...]]...
#
# --baseline REF also builds linac-compile as it was at git revision REF
# (scripts/build-baseline-compiler.sh, minutes) and the benchmark's kernels with it:
# benchmarks/gpu_ops.py then times each beside this revision's (linac_vs_baseline).
# --baseline-options NAME=VALUE... (linac-compile options without their dashes, e.g.
# double-buffer=off) builds the baseline kernels with those options too; without
# --baseline, with this revision's compiler: an A/B of those options.
# --candidate NAME=VALUE[,NAME=VALUE...] (repeatable) builds the benchmark's kernels once
# more with those options, each candidate in kernels/candidates/<label>/, keeping only the
# kernels whose PTX they change: gpu_ops.py times each beside the default kernel
# (candidates: ms, speedup, error). Several option A/Bs in one device check.
#
# The kernels take the tilings of benchmarks/results/gpu/tuning-sm_90-h200.json (the H200
# sweep's, via linac-compile --tuning) where it has them; --no-tuning keeps the defaults.
#
# build-device/ is ignored by git (/build-*/) and stays under the 64 MiB the device tool
# carries. Needs build/bin/linac-compile and the linac Python package (scripts/setup.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/build-device"
WHEELS=1
BASELINE=""
PASS=()
while (($#)); do
  case "$1" in
    -o) OUT="$2"; shift 2 ;;
    --no-wheels) WHEELS=0; shift ;;
    --ops) shift; PASS+=(--ops); while (($#)) && [[ "$1" != -* ]]; do PASS+=("$1"); shift; done ;;
    --no-bench) PASS+=(--no-bench); shift ;;
    --no-variants) PASS+=(--no-variants); shift ;;
    --no-profile) PASS+=(--no-profile); shift ;;
    --tuning) PASS+=(--tuning "$2"); shift 2 ;;
    --no-tuning) PASS+=(--no-tuning); shift ;;
    --baseline) BASELINE="$2"; shift 2 ;;
    --candidate) PASS+=(--candidate "$2"); shift 2 ;;
    --baseline-options) shift; PASS+=(--baseline-options); while (($#)) && [[ "$1" != -* ]]; do PASS+=("$1"); shift; done ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "make-device-bundle.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
LIMIT_MB=64

if [[ -n "$BASELINE" ]]; then
  echo "== linac-compile at $BASELINE (the baseline)"
  PASS+=(--baseline-compiler "$(bash "$ROOT/scripts/build-baseline-compiler.sh" "$BASELINE" | tail -1)")
fi

echo "== kernels for sm_90 and CPU results into $OUT"
python3 "$ROOT/test/gpu/make_bundle.py" -o "$OUT" "${PASS[@]}"

if ((WHEELS)); then
  echo "== flash-linear-attention (fla-core) and einops wheels"
  mkdir -p "$OUT/wheels"
  if ! python3 -m pip download fla-core einops --no-deps -q -d "$OUT/wheels"; then
    echo "pip download failed: the benchmark will record fla as not importable" >&2
  fi
  ls "$OUT/wheels"
fi

GTEST_SRC=/usr/src/googletest/googletest
if [[ -d "$GTEST_SRC" && ! -d "$OUT/googletest" ]]; then
  echo "== GoogleTest sources (for a GPU machine without libgtest-dev)"
  cp -r "$GTEST_SRC" "$OUT/googletest"
fi

SIZE_MB=$(du -sm "$OUT" | cut -f1)
echo "== $OUT: ${SIZE_MB} MiB ($(find "$OUT/kernels" -name '*.json' | wc -l) kernels, $(find "$OUT/tests" -name '*.npz' | wc -l) cases)"
if ((SIZE_MB >= LIMIT_MB)); then
  echo "error: the bundle is ${SIZE_MB} MiB, over the ${LIMIT_MB} MiB the device tool carries" >&2
  exit 1
fi
