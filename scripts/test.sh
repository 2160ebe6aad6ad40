#!/usr/bin/env bash
# Runs every test of linac: the C++ unit tests, the lit/FileCheck tests and
# the Python tests. Run scripts/setup.sh once before.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake --build build

echo "== C++ unit tests"
ctest --test-dir build --output-on-failure

echo "== lit tests"
/usr/lib/llvm-22/bin/lit -sv build/test/lit

echo "== Python tests"
python3 -m pytest -q test/python
