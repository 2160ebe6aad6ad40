// RUN: linac-opt %s -split-input-file -linac-tile-chunk-loop=block-v=16 -cse | FileCheck %s

// With block-v < V the grid gains an outer value-tile dimension; each grid
// point owns the columns [vt * BV, vt * BV + bv) of v, the output and the
// states. With block-v >= V there is a single tile and no such dimension.

// V = 32 = 2 x 16: static tile width.
// CHECK-LABEL: func.func @even_tiles(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x?x?x8xf32>, %[[V:[^:]+]]: memref<?x?x?x32xf32>, %[[S0:[^:]+]]: memref<?x?x8x32xf32>
// CHECK:       scf.parallel (%[[VT:.*]], %[[HEAD:.*]], %[[SEQ:.*]]) = (%c0, %c0, %c0) to (%c2, %{{.*}}, %{{.*}}) step (%c1, %c1, %c1) {
// CHECK:         %[[V0:.*]] = arith.muli %[[VT]], %c16 : index
// CHECK:         memref.alloca() : memref<8x16xf32>
// CHECK:         memref.subview %[[S0]][%[[SEQ]], %[[HEAD]], 0, %[[V0]]] [1, 1, 8, 16] [1, 1, 1, 1] : memref<?x?x8x32xf32> to memref<8x16xf32, strided<[32, 1], offset: ?>>
// CHECK:         memref.alloca() : memref<16x16xf32>
// CHECK:         scf.for
// CHECK:           memref.subview %[[Q]][{{.*}}] [1, %{{.*}}, 1, 8]
// CHECK:           memref.subview %[[V]][%{{.*}}, %{{.*}}, %[[HEAD]], %[[V0]]] [1, %{{.*}}, 1, 16] [1, 1, 1, 1] : memref<?x?x?x32xf32> to memref<?x16xf32, strided<[?, 1], offset: ?>>
// CHECK:       } {linac.grid = ["value_tile", "head", "sequence"]}
!view8 = memref<?x8xf32, strided<[?, ?], offset: ?>>
!view16 = memref<?x16xf32, strided<[?, ?], offset: ?>>
func.func @even_tiles(%q: memref<?x?x?x8xf32>, %v: memref<?x?x?x32xf32>, %s0: memref<?x?x8x32xf32>,
                      %o: memref<?x?x?x32xf32>, %scale: f32) {
  linac.chunk_loop q(%q : memref<?x?x?x8xf32>) k(%q : memref<?x?x?x8xf32>)
      v(%v : memref<?x?x?x32xf32>) initial_state(%s0 : memref<?x?x8x32xf32>)
      output(%o : memref<?x?x?x32xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view8, %kc: !view8, %vc: memref<?x?xf32, strided<[?, ?], offset: ?>>,
       %S: memref<8x?xf32, strided<[?, ?], offset: ?>>, %oc: memref<?x?xf32, strided<[?, ?], offset: ?>>):
    linac.chunk_state_update ins(%kc, %vc : !view8, memref<?x?xf32, strided<[?, ?], offset: ?>>) outs(%S : memref<8x?xf32, strided<[?, ?], offset: ?>>)
  }
  return
}

// -----

// V = 24 = 16 + 8: the last tile is narrower, its width min(16, V - v0).
// CHECK-LABEL: func.func @uneven_tiles(
// CHECK:       scf.parallel (%[[VT:.*]], %{{.*}}, %{{.*}}) = (%c0, %c0, %c0) to (%c2, %{{.*}}, %{{.*}}) step
// CHECK:         %[[V0:.*]] = arith.muli %[[VT]], %c16 : index
// CHECK:         %[[REST:.*]] = arith.subi %c24, %[[V0]] : index
// CHECK:         %[[BV:.*]] = arith.minsi %c16, %[[REST]] : index
// CHECK:         %[[SBUF:.*]] = memref.alloca() : memref<8x16xf32>
// CHECK:         memref.subview %[[SBUF]][0, 0] [8, %[[BV]]] [1, 1] : memref<8x16xf32> to memref<8x?xf32, strided<[16, 1]>>
// CHECK:         scf.for
// CHECK:           memref.subview %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %[[V0]]] [1, %{{.*}}, 1, %[[BV]]] [1, 1, 1, 1] : memref<?x?x?x24xf32> to memref<?x?xf32, strided<[?, 1], offset: ?>>
// CHECK:       } {linac.grid = ["value_tile", "head", "sequence"]}
!view8 = memref<?x8xf32, strided<[?, ?], offset: ?>>
func.func @uneven_tiles(%q: memref<?x?x?x8xf32>, %v: memref<?x?x?x24xf32>, %o: memref<?x?x?x24xf32>, %scale: f32) {
  linac.chunk_loop q(%q : memref<?x?x?x8xf32>) k(%q : memref<?x?x?x8xf32>)
      v(%v : memref<?x?x?x24xf32>) output(%o : memref<?x?x?x24xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view8, %kc: !view8, %vc: memref<?x?xf32, strided<[?, ?], offset: ?>>,
       %S: memref<8x?xf32, strided<[?, ?], offset: ?>>, %oc: memref<?x?xf32, strided<[?, ?], offset: ?>>):
    linac.chunk_state_update ins(%kc, %vc : !view8, memref<?x?xf32, strided<[?, ?], offset: ?>>) outs(%S : memref<8x?xf32, strided<[?, ?], offset: ?>>)
  }
  return
}

// -----

// V = 8 <= block-v: one tile, no value-tile dimension.
// CHECK-LABEL: func.func @single_tile(
// CHECK:       scf.parallel (%{{[^,]+}}, %{{[^)]+}}) = (%c0, %c0) to
// CHECK:         memref.alloca() : memref<8x8xf32>
// CHECK:       } {linac.grid = ["head", "sequence"]}
!view8 = memref<?x8xf32, strided<[?, ?], offset: ?>>
func.func @single_tile(%q: memref<?x?x?x8xf32>, %o: memref<?x?x?x8xf32>, %scale: f32) {
  linac.chunk_loop q(%q : memref<?x?x?x8xf32>) k(%q : memref<?x?x?x8xf32>)
      v(%q : memref<?x?x?x8xf32>) output(%o : memref<?x?x?x8xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view8, %kc: !view8, %vc: !view8, %S: memref<8x8xf32, strided<[?, ?], offset: ?>>, %oc: !view8):
    linac.chunk_state_update ins(%kc, %vc : !view8, !view8) outs(%S : memref<8x8xf32, strided<[?, ?], offset: ?>>)
  }
  return
}

// -----

// Scratch buffers marked with linac.value_dims hold V in those dimensions:
// hoisted out of the chunk loop, they shrink to the value tile, and their
// views follow.
// CHECK-LABEL: func.func @value_scratch(
// CHECK:       scf.parallel
// The state [K, BV] and the output tile [C, BV].
// CHECK:         memref.alloca() : memref<8x16xf32>
// CHECK:         memref.alloca() : memref<16x16xf32>
// CHECK-NOT:     linac.value_dims
// The scratch [C, V] narrowed to [C, BV], then the unmarked scratch [C, C].
// CHECK:         %[[U:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT:    %[[T:.*]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT:    scf.for
// CHECK-NOT:       memref.alloca
// CHECK:           %[[UV:.*]] = memref.subview %[[U]][0, 0] [%{{.*}}, %{{.*}}] [1, 1] : memref<16x16xf32> to memref<?x?xf32, strided<[16, 1]>>
// CHECK:           linac.chunk_matmul ins(%[[T]], %{{.*}} : {{.*}}) outs(%[[UV]] : memref<?x?xf32, strided<[16, 1]>>)
!view8 = memref<?x8xf32, strided<[?, ?], offset: ?>>
!viewv = memref<?x32xf32, strided<[?, ?], offset: ?>>
func.func @value_scratch(%q: memref<?x?x?x8xf32>, %v: memref<?x?x?x32xf32>, %o: memref<?x?x?x32xf32>, %scale: f32) {
  linac.chunk_loop q(%q : memref<?x?x?x8xf32>) k(%q : memref<?x?x?x8xf32>)
      v(%v : memref<?x?x?x32xf32>) output(%o : memref<?x?x?x32xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view8, %kc: !view8, %vc: !viewv, %S: memref<8x32xf32, strided<[?, ?], offset: ?>>, %oc: !viewv):
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %rows = memref.dim %kc, %c0 : !view8
    %width = memref.dim %vc, %c1 : !viewv
    %u = memref.alloca() {linac.value_dims = array<i64: 1>} : memref<16x32xf32>
    %uv = memref.subview %u[0, 0] [%rows, %width] [1, 1] : memref<16x32xf32> to memref<?x?xf32, strided<[32, 1]>>
    %t = memref.alloca() : memref<16x16xf32>
    linac.chunk_matmul ins(%t, %vc : memref<16x16xf32>, !viewv) outs(%uv : memref<?x?xf32, strided<[32, 1]>>)
  }
  return
}
