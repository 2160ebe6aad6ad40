// linac-chunk-recurrence keeps qk_l2norm for non-causal attention: the body
// normalizes the keys it accumulates, the readout the queries it reads with.
// RUN: linac-opt %s -linac-chunk-recurrence | FileCheck %s

// CHECK-LABEL: func.func @noncausal_l2norm
// CHECK:       linac.chunk_loop
// CHECK:         linac.chunk_l2_normalize
// CHECK:         linac.chunk_state_update
// CHECK:       } {
// CHECK:         linac.chunk_l2_normalize
// CHECK:         linac.chunk_readout
!qk = memref<2x16x4x8xf32>
func.func @noncausal_l2norm(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale)
      attributes {mode = #linac<mode noncausal>, qk_l2norm, form = #linac.form<decay = none, update = plain>}
  return
}
