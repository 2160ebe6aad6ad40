// RUN: linac-opt %s -split-input-file -linac-narrow-decayed-rows | FileCheck %s

// linac-narrow-decayed-rows: the f32 scratch of decayed rows read from bf16
// inputs becomes bf16 with its views, where every reader takes any float.

!rows = memref<?x16xbf16, strided<[?, ?], offset: ?>>
!vec = memref<?xf32, strided<[1]>>
!state = memref<16x16xf32, strided<[?, ?], offset: ?>>

// CHECK-LABEL: func.func @shared_row_scratch(
// CHECK:         %[[SCRATCH:.*]] = memref.alloca() : memref<16x16xbf16>
// CHECK:         %[[DQ:.*]] = memref.subview %[[SCRATCH]][0, 0] [%{{.*}}, 16] [1, 1] : memref<16x16xbf16> to memref<?x16xbf16, strided<[16, 1]>>
// CHECK:         linac.decayed_rows ins(%{{.*}}, %{{.*}} : {{.*}}) outs(%[[DQ]] : memref<?x16xbf16, strided<[16, 1]>>)
// CHECK:         linac.chunk_output ins(%[[DQ]], {{.*}} : memref<?x16xbf16, strided<[16, 1]>>,
// CHECK:         %[[DK:.*]] = memref.subview %[[SCRATCH]]{{.*}} to memref<?x16xbf16, strided<[16, 1]>>
// CHECK:         linac.decayed_rows {{.*}} outs(%[[DK]] : memref<?x16xbf16, strided<[16, 1]>>)
// CHECK:         linac.chunk_state_update ins(%[[DK]], %{{.*}} : memref<?x16xbf16, strided<[16, 1]>>,
// CHECK-NOT:     xf32>
// CHECK:         return
func.func @shared_row_scratch(%q: !rows, %k: !rows, %v: !rows, %fwd: !vec, %rev: !vec,
                              %scores: memref<?x?xf32>, %S: !state, %o: memref<?x16xf32>,
                              %n: index, %scale: f32) {
  %scratch = memref.alloca() : memref<16x16xf32>
  %dq = memref.subview %scratch[0, 0] [%n, 16] [1, 1] : memref<16x16xf32> to memref<?x16xf32, strided<[16, 1]>>
  linac.decayed_rows ins(%q, %fwd : !rows, !vec) outs(%dq : memref<?x16xf32, strided<[16, 1]>>)
  linac.chunk_output ins(%dq, %S, %scores, %v : memref<?x16xf32, strided<[16, 1]>>, !state, memref<?x?xf32>, !rows) scale(%scale) outs(%o : memref<?x16xf32>)
  %dk = memref.subview %scratch[0, 0] [%n, 16] [1, 1] : memref<16x16xf32> to memref<?x16xf32, strided<[16, 1]>>
  linac.decayed_rows ins(%k, %rev : !rows, !vec) outs(%dk : memref<?x16xf32, strided<[16, 1]>>)
  linac.chunk_state_update ins(%dk, %v : memref<?x16xf32, strided<[16, 1]>>, !rows) decay(%fwd : !vec) outs(%S : !state)
  return
}

// -----

// f32 inputs, and rows another op reads as f32, stay f32.
// CHECK-LABEL: func.func @f32_inputs(
// CHECK:         memref.alloca() : memref<16x16xf32>
// CHECK-LABEL: func.func @foreign_reader(
// CHECK:         memref.alloca() : memref<16x16xf32>
// CHECK:         linalg.copy
func.func @f32_inputs(%k: memref<?x16xf32>, %v: memref<?x16xf32>, %rev: memref<?xf32>,
                      %S: memref<16x16xf32>) {
  %scratch = memref.alloca() : memref<16x16xf32>
  linac.decayed_rows ins(%k, %rev : memref<?x16xf32>, memref<?xf32>) outs(%scratch : memref<16x16xf32>)
  linac.chunk_state_update ins(%scratch, %v : memref<16x16xf32>, memref<?x16xf32>) outs(%S : memref<16x16xf32>)
  return
}
func.func @foreign_reader(%k: memref<?x16xbf16>, %rev: memref<?xf32>, %out: memref<16x16xf32>) {
  %scratch = memref.alloca() : memref<16x16xf32>
  linac.decayed_rows ins(%k, %rev : memref<?x16xbf16>, memref<?xf32>) outs(%scratch : memref<16x16xf32>)
  linalg.copy ins(%scratch : memref<16x16xf32>) outs(%out : memref<16x16xf32>)
  return
}

// -----

// Rows that are also where a chunk_matmul accumulates (its f32 result
// operand, not one of its AnyFloat factors) stay f32: the use's operand
// decides, not the op.
// CHECK-LABEL: func.func @f32_operand_of_a_row_reader(
// CHECK:         memref.alloca() : memref<16x16xf32>
func.func @f32_operand_of_a_row_reader(%k: memref<?x16xbf16>, %rev: memref<?xf32>,
                                       %t: memref<16x16xf32>) {
  %scratch = memref.alloca() : memref<16x16xf32>
  linac.decayed_rows ins(%k, %rev : memref<?x16xbf16>, memref<?xf32>) outs(%scratch : memref<16x16xf32>)
  linac.chunk_matmul ins(%t, %t : memref<16x16xf32>, memref<16x16xf32>) outs(%scratch : memref<16x16xf32>)
  return
}
