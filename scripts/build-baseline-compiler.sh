#!/usr/bin/env bash
# Builds linac-compile as it was at a git revision, for side-by-side GPU timings of a
# compiler change (scripts/make-device-bundle.sh --baseline REF compiles the benchmark's
# kernels with it too; benchmarks/gpu_ops.py times both in one run).
#
#   bash scripts/build-baseline-compiler.sh REF [-o build-baseline]
#
# Prints the path of the built linac-compile on its last line. The sources of REF are
# exported (git archive) into <dir>/<commit>/src and built there (Ninja, Release, only the
# linac-compile target); a second call for the same commit reuses the build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/build-baseline"
REF=""
while (($#)); do
  case "$1" in
    -o) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "build-baseline-compiler.sh: unknown argument $1" >&2; exit 2 ;;
    *) REF="$1"; shift ;;
  esac
done
if [[ -z "$REF" ]]; then
  echo "build-baseline-compiler.sh: give the git revision to build (e.g. HEAD~3)" >&2
  exit 2
fi
COMMIT="$(git -C "$ROOT" rev-parse --verify "$REF^{commit}")" || {
  echo "build-baseline-compiler.sh: $REF is not a commit of $ROOT" >&2
  exit 2
}
DIR="$OUT/$COMMIT"
if [[ ! -d "$DIR/src" ]]; then
  mkdir -p "$DIR/src"
  git -C "$ROOT" archive "$COMMIT" | tar -x -C "$DIR/src"
fi
echo "== linac-compile at ${COMMIT:0:12} ($REF) in $DIR" >&2
cmake -G Ninja -S "$DIR/src" -B "$DIR/build" -DCMAKE_BUILD_TYPE=Release \
  -DPython3_EXECUTABLE="$(command -v python3)" >/dev/null
cmake --build "$DIR/build" --target linac-compile >&2
echo "$DIR/build/bin/linac-compile"
