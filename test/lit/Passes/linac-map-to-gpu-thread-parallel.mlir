// RUN: linac-opt %s -linac-map-to-gpu=block-size=64 -canonicalize -cse | FileCheck %s

// linac-map-to-gpu: an scf.for marked linac.thread_parallel (the UT
// transform's columns) is strided over the block's threads, each running its
// iterations whole, sequential loops inside included, with one barrier after
// the loop instead of barriers inside it.

// CHECK-LABEL: gpu.func @columns(
// CHECK:         %[[TID:.*]] = gpu.thread_id x
// CHECK:         scf.for %[[C:.*]] = %[[TID]] to %{{.*}} step %c64 {
// CHECK-NEXT:      scf.for %[[I:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK-NOT:         gpu.barrier
// CHECK:             memref.store %{{.*}}[%[[I]], %[[C]]]
// CHECK:           }
// CHECK-NEXT:    }
// CHECK-NEXT:    gpu.barrier
// CHECK-NOT:     linac.thread_parallel
// CHECK:         gpu.return
func.func @columns(%t: memref<?x16x16xf32>, %rows: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %n = memref.dim %t, %c0 : memref<?x16x16xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %buf = memref.alloca() : memref<16x16xf32>
    scf.for %c = %c0 to %c16 step %c1 {
      scf.for %i = %c0 to %rows step %c1 {
        %x = arith.index_cast %i : index to i32
        %f = arith.sitofp %x : i32 to f32
        memref.store %f, %buf[%i, %c] : memref<16x16xf32>
      }
    } {linac.thread_parallel}
    %dst = memref.subview %t[%sq, 0, 0] [1, 16, 16] [1, 1, 1] : memref<?x16x16xf32> to memref<16x16xf32, strided<[16, 1], offset: ?>>
    memref.copy %buf, %dst : memref<16x16xf32> to memref<16x16xf32, strided<[16, 1], offset: ?>>
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}
