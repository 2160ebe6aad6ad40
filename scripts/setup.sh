#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for linac: system packages (apt-get),
# Python packages (pip), the build (CMake + Ninja), the editable install of
# the Python package, then runs the demo (`python3 -m linac demo`).
# Safe to run again: every step is idempotent and the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "== linac setup: system packages"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools libomp-22-dev \
  cmake ninja-build ccache g++ libgtest-dev clang-22 libclang-rt-22-dev >/dev/null

echo "== linac setup: Python packages"
python3 -m pip install -q --disable-pip-version-check -r requirements.txt

echo "== linac setup: build"
cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release \
  -DPython3_EXECUTABLE="$(command -v python3)" >/dev/null
cmake --build build

echo "== linac setup: Python package"
python3 -m pip install -q --disable-pip-version-check --no-build-isolation -e frontend

echo "== linac setup: demo"
python3 -m linac demo
