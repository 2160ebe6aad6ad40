#!/usr/bin/env bash
# Fuzzes parse + verify + the pipeline (tools/linac-fuzz) for a bounded time:
#   scripts/fuzz.sh [seconds]      (default 60)
# Builds build-fuzz with clang-22 and libFuzzer first (apt-get install clang-22
# libclang-rt-22-dev). Seeds: the committed regression corpus test/fuzz/corpus,
# the lit tests' .mlir inputs (split at `// -----`) and lib/ops/*.mlir.
# New inputs go to build-fuzz/fuzz-corpus, crashers to build-fuzz/fuzz-crashes/;
# the script fails when one is found. Reproduce one with
#   build-fuzz/bin/linac-fuzz build-fuzz/fuzz-crashes/<file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
build=build-fuzz
cxx="${LINAC_FUZZ_CXX:-clang++-22}"
cc="${LINAC_FUZZ_CC:-clang-22}"

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz.sh: $cxx not found (apt-get install clang-22 libclang-rt-22-dev)" >&2
  exit 2
fi

if [ ! -f "$build/build.ninja" ]; then
  # -O1 builds twice as fast as -O3 and fuzzes as well; line tables make
  # sanitizer reports readable.
  cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only -DNDEBUG" \
    -DLINAC_FUZZ=ON -DLINAC_ENABLE_PYTHON=OFF -DLINAC_ENABLE_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target linac-fuzz -- -j"${LINAC_JOBS:-2}"

# Seeds from the lit tests, one file per `// -----` section.
seeds="$build/fuzz-seeds"
rm -rf "$seeds"
mkdir -p "$seeds" "$build/fuzz-corpus" "$build/fuzz-crashes"
find test/lit lib/ops -name '*.mlir' -print0 | sort -z |
  while IFS= read -r -d '' file; do
    name="$(echo "$file" | tr '/' '_')"
    awk -v out="$seeds/$name" \
      '/^\/\/ -----/ { n++; next } { print > (out "." n+0 ".mlir") }' "$file"
  done

echo "== fuzzing for ${seconds}s ($(ls "$seeds" | wc -l) seeds," \
  "$(ls test/fuzz/corpus | wc -l) regression inputs)"
# Sanitizer defaults are built into linac-fuzz (see its source). libFuzzer's
# progress goes to $build/fuzz.log; its final statistics are printed, and the
# log's end when it fails.
status=0
"$build/bin/linac-fuzz" \
  -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=16384 \
  -dict=test/fuzz/linac.dict -print_final_stats=1 \
  -artifact_prefix="$build/fuzz-crashes/" \
  "$build/fuzz-corpus" test/fuzz/corpus "$seeds" > "$build/fuzz.log" 2>&1 || status=$?
grep -E '^(Done|stat::)' "$build/fuzz.log" || true
if [ "$status" -ne 0 ]; then
  tail -n 60 "$build/fuzz.log"
  echo "fuzz.sh: linac-fuzz failed (exit $status); inputs in $build/fuzz-crashes/:" >&2
  ls "$build/fuzz-crashes/" >&2
  exit "$status"
fi
