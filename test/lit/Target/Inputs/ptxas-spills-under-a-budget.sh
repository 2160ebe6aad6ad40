#!/bin/sh
# A stand-in for ptxas (linac-compile finds it through LINAC_PTXAS) that
# reports spills for PTX asking for more than one block a multiprocessor
# (.minnctapersm 2 or more) and none otherwise, and writes an empty cubin.
# Usage as ptxas's: -arch=sm_XX -v -o OUTPUT INPUT, or --version.
if [ "$1" = "--version" ]; then
  echo "fake ptxas that spills under a register budget"
  exit 0
fi
output=$4
input=$5
: > "$output"
echo "ptxas info    : Function properties for fake"
if grep -q '\.minnctapersm [2-9]' "$input"; then
  echo "    8 bytes stack frame, 8 bytes spill stores, 8 bytes spill loads"
else
  echo "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads"
fi
