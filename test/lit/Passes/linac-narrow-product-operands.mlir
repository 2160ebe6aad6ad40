// RUN: linac-opt %s -split-input-file -linac-lower-chunk-ops -linac-narrow-product-operands | FileCheck %s

// linac-narrow-product-operands: in a kernel with bf16 inputs, each product
// (of at least 8 x 8) that reads an f32 local buffer gets a bf16 copy of it in
// a twin buffer just before it; later products of the block reuse the copy
// until something writes the buffer.

!rows = memref<16x16xbf16>
!f32m = memref<16x16xf32>

// The state S in Q S and the scores P in P V are rounded; the state update
// K^T V already reads two bf16 operands.
// CHECK-LABEL: func.func @output_and_update(
// CHECK-SAME:      %[[Q:[^:]*]]: memref<16x16xbf16>, %[[K:[^:]*]]: memref<16x16xbf16>, %[[V:[^:]*]]: memref<16x16xbf16>
// CHECK:         %[[S:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT:    %[[S16:.*]] = memref.alloca() : memref<16x16xbf16>
// CHECK-NEXT:    %[[P:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT:    %[[P16:.*]] = memref.alloca() : memref<16x16xbf16>
// CHECK:         linalg.generic {{.*}} ins(%[[S]] : memref<16x16xf32>) outs(%[[S16]] : memref<16x16xbf16>)
// CHECK:           arith.truncf
// CHECK:         linalg.generic {{.*}} ins(%[[Q]], %[[S16]] : memref<16x16xbf16>, memref<16x16xbf16>)
// CHECK:         ^bb0(%[[QE:.*]]: bf16, %[[SE:.*]]: bf16, %{{.*}}: f32):
// CHECK-NEXT:      arith.extf %[[SE]] : bf16 to f32
// CHECK:         linalg.generic {{.*}} ins(%[[P]] : memref<16x16xf32>) outs(%[[P16]] : memref<16x16xbf16>)
// CHECK:         linalg.generic {{.*}} ins(%[[P16]], %[[V]] : memref<16x16xbf16>, memref<16x16xbf16>)
// CHECK:         linalg.generic {{.*}} ins(%[[K]], %[[V]] : memref<16x16xbf16>, memref<16x16xbf16>) outs(%[[S]] : memref<16x16xf32>)
// CHECK-NEXT:    ^bb0
// CHECK-NOT:       arith.extf %{{.*}} : f32
// CHECK:         return
func.func @output_and_update(%q: !rows, %k: !rows, %v: !rows, %o: !f32m, %scale: f32) {
  %S = memref.alloca() : !f32m
  %P = memref.alloca() : !f32m
  linac.chunk_output ins(%q, %S, %P, %v : !rows, !f32m, !f32m, !rows) scale(%scale) outs(%o : !f32m)
  linac.chunk_state_update ins(%k, %v : !rows, !rows) outs(%S : !f32m)
  return
}

// -----

!rows = memref<16x16xbf16>
!f32m = memref<16x16xf32>

// The delta rule: T feeds T K and T V, S feeds W S and Q S, U feeds P U and
// K^T U, each through one copy (U -= W S writes U before its copy). The
// state update writes S, so the second output copies it again; P and U,
// unwritten, keep theirs.
// CHECK-LABEL: func.func @pseudo_values_copied_once(
// CHECK:         %[[S:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT:    %[[S16:.*]] = memref.alloca() : memref<16x16xbf16>
// CHECK-NEXT:    %[[P:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT:    %[[P16:.*]] = memref.alloca() : memref<16x16xbf16>
// CHECK-NEXT:    %[[T:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT:    %[[T16:.*]] = memref.alloca() : memref<16x16xbf16>
// CHECK-NEXT:    %[[W:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT:    %[[W16:.*]] = memref.alloca() : memref<16x16xbf16>
// CHECK-NEXT:    %[[U:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT:    %[[U16:.*]] = memref.alloca() : memref<16x16xbf16>
// CHECK:         ins(%[[T]] : memref<16x16xf32>) outs(%[[T16]] : memref<16x16xbf16>)
// CHECK:         linalg.generic {{.*}} ins(%[[T16]], %{{.*}} : {{.*}}) outs(%[[W]] : memref<16x16xf32>)
// CHECK-NOT:     outs(%[[T16]]
// CHECK:         linalg.generic {{.*}} ins(%[[T16]], %{{.*}} : {{.*}}) outs(%[[U]] : memref<16x16xf32>)
// CHECK:         ins(%[[W]] : memref<16x16xf32>) outs(%[[W16]] : memref<16x16xbf16>)
// CHECK:         ins(%[[S]] : memref<16x16xf32>) outs(%[[S16]] : memref<16x16xbf16>)
// CHECK:         linalg.generic {{.*}} ins(%[[W16]], %[[S16]] : {{.*}}) outs(%[[U]] : memref<16x16xf32>)
// CHECK:           arith.subf
// CHECK-NOT:     outs(%[[S16]]
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %[[S16]] : {{.*}})
// CHECK:         ins(%[[P]] : memref<16x16xf32>) outs(%[[P16]] : memref<16x16xbf16>)
// CHECK:         ins(%[[U]] : memref<16x16xf32>) outs(%[[U16]] : memref<16x16xbf16>)
// CHECK:         linalg.generic {{.*}} ins(%[[P16]], %[[U16]] : {{.*}})
// CHECK-NOT:     outs(%[[U16]]
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %[[U16]] : {{.*}}) outs(%[[S]] : memref<16x16xf32>)
// CHECK:         ins(%[[S]] : memref<16x16xf32>) outs(%[[S16]] : memref<16x16xbf16>)
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %[[S16]] : {{.*}})
// CHECK-NOT:     outs(%[[U16]]
// CHECK:         linalg.generic {{.*}} ins(%[[P16]], %[[U16]] : {{.*}})
// CHECK:         return
func.func @pseudo_values_copied_once(%q: !rows, %k: !rows, %v: !rows, %o: !f32m, %scale: f32) {
  %S = memref.alloca() : !f32m
  %P = memref.alloca() : !f32m
  %T = memref.alloca() : !f32m
  %W = memref.alloca() : !f32m
  %U = memref.alloca() : !f32m
  linac.chunk_matmul ins(%T, %k : !f32m, !rows) outs(%W : !f32m)
  linac.chunk_matmul ins(%T, %v : !f32m, !rows) outs(%U : !f32m)
  linac.chunk_matmul ins(%W, %S : !f32m, !f32m) outs(%U : !f32m) {accumulate = #linac<accumulate subtract>}
  linac.chunk_output ins(%q, %S, %P, %U : !rows, !f32m, !f32m, !f32m) scale(%scale) outs(%o : !f32m)
  linac.chunk_state_update ins(%k, %U : !rows, !f32m) outs(%S : !f32m)
  linac.chunk_output ins(%q, %S, %P, %U : !rows, !f32m, !f32m, !f32m) scale(%scale) outs(%o : !f32m)
  return
}

// -----

// A one-row product (the UT transform's solve) is no tensor-core tile, and a
// one-token state update (a decode step's outer product) sums one term: both
// left alone.
// CHECK-LABEL: func.func @one_row_left_alone(
// CHECK-NOT:     memref.alloca() : memref<{{.*}}bf16>
// CHECK:         return
func.func @one_row_left_alone(%k: memref<16x16xbf16>, %row: memref<1x16xf32>, %k1: memref<1x16xbf16>) {
  %T = memref.alloca() : memref<1x16xf32>
  %A = memref.alloca() : memref<16x16xf32>
  linac.chunk_matmul ins(%T, %A : memref<1x16xf32>, memref<16x16xf32>) outs(%row : memref<1x16xf32>)
  %U = memref.alloca() : memref<1x16xf32>
  %S = memref.alloca() : memref<16x16xf32>
  linac.chunk_state_update ins(%k1, %U : memref<1x16xbf16>, memref<1x16xf32>) outs(%S : memref<16x16xf32>)
  return
}

// -----

// Without 16-bit inputs there is nothing to round to.
// CHECK-LABEL: func.func @f32_kernel_left_alone(
// CHECK-NOT:     bf16
// CHECK:         return
func.func @f32_kernel_left_alone(%k: memref<16x16xf32>, %o: memref<16x16xf32>) {
  %A = memref.alloca() : memref<16x16xf32>
  linac.chunk_matmul ins(%A, %k : memref<16x16xf32>, memref<16x16xf32>) outs(%o : memref<16x16xf32>)
  return
}
