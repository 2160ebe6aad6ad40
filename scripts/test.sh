#!/usr/bin/env bash
# Runs every test of linac: the C++ unit tests, the lit/FileCheck tests and
# the Python tests. Run scripts/setup.sh once before.
#
#   scripts/test.sh              the default build (build/), every test, then
#                                60 s of fuzzing (scripts/fuzz.sh: a clang
#                                build in build-fuzz/, about 10 min the first time)
#   scripts/test.sh --no-fuzz    the same without the fuzzing
#   scripts/test.sh --sanitize   an AddressSanitizer + UndefinedBehaviorSanitizer
#                                build (build-asan/, no Python extension): the
#                                C++ unit tests and the lit tests
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=0
fuzz=1
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    --no-fuzz) fuzz=0 ;;
    *) echo "usage: scripts/test.sh [--sanitize | --no-fuzz]" >&2; exit 2 ;;
  esac
done

lit=/usr/lib/llvm-22/bin/lit

if [ "$sanitize" = 1 ]; then
  build=build-asan
  if [ ! -f "$build/build.ninja" ]; then
    cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
      -DLINAC_SANITIZE=ON -DLINAC_ENABLE_PYTHON=OFF >/dev/null
  fi
  cmake --build "$build"
  # Abort on the first report: a tool that lit expects to fail (`not ...`)
  # must not pass by exiting 1 from a sanitizer. Leaks are not checked: LLVM
  # and MLIR keep process-wide registries alive on purpose. LLVM's allocators
  # poison memory only in instrumented code, and libMLIR.so is not: user
  # poisoning would give false reports.
  export ASAN_OPTIONS="abort_on_error=1:detect_leaks=0:allow_user_poisoning=0"
  export UBSAN_OPTIONS="abort_on_error=1:print_stacktrace=1"

  echo "== C++ unit tests (ASan + UBSan)"
  ctest --test-dir "$build" --output-on-failure

  echo "== lit tests (ASan + UBSan)"
  "$lit" -sv "$build/test/lit"
  exit 0
fi

cmake --build build

echo "== C++ unit tests"
ctest --test-dir build --output-on-failure

echo "== lit tests"
"$lit" -sv build/test/lit

echo "== Python tests"
python3 -m pytest -q test/python

if [ "$fuzz" = 1 ]; then
  echo "== fuzzing (60 s)"
  bash scripts/fuzz.sh 60
fi
