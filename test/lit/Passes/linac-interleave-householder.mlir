// RUN: linac-opt %s -split-input-file -linac-interleave-householder | FileCheck %s

// linac-interleave-householder: a delta rule with n Householder steps per
// token (DeltaProduct) becomes the chunked delta rule over the interleaved
// sub-steps, a linac.chunk_loop with interleave = n whose chunks hold whole
// tokens (chunk_size / n of them).

// CHECK-LABEL: func.func @gated_delta_product(
// CHECK-NOT:   linac.recurrence
// CHECK:       linac.chunk_loop q(%{{[^ ]+}} : memref<2x16x4x8xf32>) k(%{{[^ ]+}} : memref<2x32x4x8xf32>) v(%{{[^ ]+}} : memref<2x32x4x8xf32>) g(%{{[^ ]+}} : memref<2x16x4xf32>) beta(%{{[^ ]+}} : memref<2x32x4xf32>)
// CHECK-SAME:    attributes {chunk_size = 16 : i64, form = #linac.form<decay = scalar, update = delta>, interleave = 2 : i64} {
// CHECK-NEXT:  ^bb0(%[[Q:[^:]+]]: {{.*}}, %[[K:[^:]+]]: {{.*}}, %[[V:[^:]+]]: {{.*}}, %[[G:[^:]+]]: {{.*}}, %[[B:[^:]+]]: {{.*}}, %[[S:[^:]+]]: {{.*}}, %[[O:[^:]+]]: {{.*}}):
// The tokens' forward decays [C] and the sub-steps' reverse and forward
// decays [n C] (each token's decay on its first sub-step).
// CHECK:         memref.alloca() : memref<16xf32>
// CHECK:         linac.chunk_cumsum ins(%[[G]] : {{.*}}) outs(%[[GQ:[^ ]+]] : {{.*}})
// CHECK-NEXT:    memref.alloca() : memref<32xf32>
// CHECK:         linac.chunk_cumsum ins(%[[G]] : {{.*}}) outs(%[[GKR:[^ ]+]] : {{.*}}) {repeat = 2 : i64, reverse}
// CHECK-NEXT:    memref.alloca() : memref<32xf32>
// CHECK:         linac.chunk_cumsum ins(%[[G]] : {{.*}}) outs(%[[GKF:[^ ]+]] : {{.*}}) {repeat = 2 : i64}
// Query i reads after sub-step 2 i + 1; key j belongs to token j / 2.
// CHECK:         memref.alloca() : memref<16x32xf32>
// CHECK:         linac.decayed_scores ins(%[[Q]], %[[K]] : {{.*}}) gates(%[[G]] : {{.*}}) workspace(%[[WS:[^ ]+]] : {{.*}}) outs(%[[P:[^ ]+]] : {{.*}}) {interleave = 2 : i64, query_stride = 2 : i64}
// The delta rule over the 32 sub-steps.
// CHECK:         linac.decayed_scores ins(%[[K]], %[[K]] : {{.*}}) gates(%[[G]] : {{.*}}) workspace(%[[WS]] : {{.*}}) outs(%[[A:[^ ]+]] : memref<?x?xf32, strided<[32, 1]>>) {interleave = 2 : i64, strict}
// CHECK:         linac.ut_transform ins(%[[A]], %[[B]] : {{.*}}) outs(%[[T:[^ ]+]] :
// CHECK:         linac.decayed_rows ins(%[[K]], %[[GKF]] : {{.*}})
// CHECK:         linac.chunk_matmul ins(%[[T]], %[[V]] : {{.*}}) outs(%[[U:[^ ]+]] :
// CHECK:         linac.chunk_output ins(%{{[^,]+}}, %[[S]], %[[P]], %[[U]] : {{.*}})
// CHECK:         linac.decayed_rows ins(%[[K]], %[[GKR]] : {{.*}})
// CHECK:         linac.chunk_state_update ins(%{{[^,]+}}, %[[U]] : {{.*}}) decay(%[[GQ]] : {{.*}}) outs(%[[S]] :
!q = memref<2x16x4x8xf32>
!k = memref<2x32x4x8xf32>
func.func @gated_delta_product(%q: !q, %k: !k, %v: !k, %g: memref<2x16x4xf32>, %b: memref<2x32x4xf32>, %o: !q, %scale: f32) {
  linac.recurrence q(%q : !q) k(%k : !k) v(%v : !k) g(%g : memref<2x16x4xf32>) beta(%b : memref<2x32x4xf32>) output(%o : !q) scale(%scale)
      attributes {chunk_size = 32 : i64, householder = 2 : i64, form = #linac.form<decay = scalar, update = delta>}
  return
}

// -----

// Three steps per token, no decay: 64 / 3 = 21 tokens per chunk.
// CHECK-LABEL: func.func @delta_product(
// CHECK:       linac.chunk_loop
// CHECK-SAME:    attributes {chunk_size = 21 : i64, form = #linac.form<decay = none, update = delta>, interleave = 3 : i64} {
// CHECK-NOT:     linac.chunk_cumsum
// CHECK:         memref.alloca() : memref<21x63xf32>
// CHECK:         linac.decayed_scores {{.*}} {interleave = 3 : i64, query_stride = 3 : i64}
// CHECK:         memref.alloca() : memref<63x63xf32>
!q = memref<2x16x4x8xf32>
!k = memref<2x48x4x8xf32>
func.func @delta_product(%q: !q, %k: !k, %v: !k, %b: memref<2x48x4xf32>, %o: !q, %scale: f32) {
  linac.recurrence q(%q : !q) k(%k : !k) v(%v : !k) beta(%b : memref<2x48x4xf32>) output(%o : !q) scale(%scale)
      attributes {householder = 3 : i64, form = #linac.form<decay = none, update = delta>}
  return
}

// -----

// Decode: one token (n sub-steps) per chunk.
// CHECK-LABEL: func.func @recurrent_product(
// CHECK:       linac.chunk_loop
// CHECK-SAME:    attributes {chunk_size = 1 : i64, form = #linac.form<decay = none, update = delta>, interleave = 2 : i64} {
!q = memref<2x16x4x8xf32>
!k = memref<2x32x4x8xf32>
func.func @recurrent_product(%q: !q, %k: !k, %v: !k, %b: memref<2x32x4xf32>, %o: !q, %scale: f32) {
  linac.recurrence q(%q : !q) k(%k : !k) v(%v : !k) beta(%b : memref<2x32x4xf32>) output(%o : !q) scale(%scale)
      attributes {householder = 2 : i64, mode = #linac<mode recurrent>, form = #linac.form<decay = none, update = delta>}
  return
}

// -----

// One step per token is left to linac-chunk-recurrence.
// CHECK-LABEL: func.func @single_step(
// CHECK:       linac.recurrence
// CHECK-NOT:   linac.chunk_loop
!q = memref<2x16x4x8xf32>
func.func @single_step(%q: !q, %b: memref<2x16x4xf32>, %o: !q, %scale: f32) {
  linac.recurrence q(%q : !q) k(%q : !q) v(%q : !q) beta(%b : memref<2x16x4xf32>) output(%o : !q) scale(%scale)
      attributes {form = #linac.form<decay = none, update = delta>}
  return
}
