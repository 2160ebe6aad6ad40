// The delta rule on the GPU, up to linac-map-to-gpu: the UT transform's
// forward substitution stays a sequential loop over rows, and inside it each
// row's product and update are spread over the threads, each followed by a
// barrier (row i reads the rows before it).
//
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=32 head-dim-v=32 chunk-size=16}), func.func(linac-recognize-recurrence), func.func(linac-interleave-householder, linac-chunk-recurrence), func.func(linac-tile-chunk-loop{block-v=16}, canonicalize, cse), func.func(linac-lower-chunk-ops, canonicalize), linac-map-to-gpu{chip=sm_90 features=+ptx80 block-size=128}, canonicalize, cse)' | FileCheck %s

// CHECK-LABEL: gpu.func @delta_rule(
// CHECK:         %[[TID:.*]] = gpu.thread_id x
// The chunk loop.
// CHECK:         scf.for %{{.*}} = %c0 to %{{.*}} step %c1 {
// The UT transform: rows in order, each a distributed product and update.
// CHECK:           scf.for %[[ROW:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:             scf.for %{{.*}} = %[[TID]] to %{{.*}} step %c128 {
// CHECK:               scf.for %{{.*}} = %c0 to %[[ROW]] step %c1 iter_args
// CHECK:             gpu.barrier
// CHECK:             memref.load
// CHECK:             scf.for %{{.*}} = %[[TID]] to %{{.*}} step %c128 {
// CHECK:               arith.cmpi eq, %{{.*}}, %[[ROW]] : index
// CHECK:             gpu.barrier
// CHECK-NEXT:      }
// CHECK:         gpu.return

!tokens = memref<?x?x?x?xf32>
!scalars = memref<?x?x?xf32>
func.func @delta_rule(%q: !tokens, %k: !tokens, %v: !tokens, %beta: !scalars,
                      %output: !tokens, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      beta(%beta : !scalars) output(%output : !tokens) scale(%scale)
      attributes {form = #linac.form<decay = none, update = delta>}
  return
}
