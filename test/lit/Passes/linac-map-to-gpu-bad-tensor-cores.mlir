// RUN: not linac-opt %s -linac-map-to-gpu="tensor-cores=int8" 2>&1 | FileCheck %s

// An unknown tensor-core input type is an error that lists the accepted ones.
// CHECK: error: linac-map-to-gpu: tensor-cores must be none, tf32, bf16 or f16, got 'int8'
func.func @empty() {
  return
}
