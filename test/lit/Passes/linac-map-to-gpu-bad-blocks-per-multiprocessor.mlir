// RUN: not linac-opt %s -linac-map-to-gpu="min-blocks-per-multiprocessor=0" 2>&1 | FileCheck %s

// A register budget of no block is an error that names the option.
// CHECK: error: linac-map-to-gpu: min-blocks-per-multiprocessor must be at least 1, got 0
func.func @empty() {
  return
}
