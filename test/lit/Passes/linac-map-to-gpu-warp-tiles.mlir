// RUN: linac-opt %s -split-input-file -linac-map-to-gpu="block-size=128 tensor-cores=bf16 warp-tiles=1" -canonicalize -cse | FileCheck %s
// RUN: linac-opt %s -split-input-file -linac-map-to-gpu="block-size=128 tensor-cores=bf16" -canonicalize -cse | FileCheck %s --check-prefix=SINGLE

// linac-map-to-gpu warp-tiles=1: each warp runs a group of a product's 16x8
// tiles together, and a group of one or two tiles splits its k chain into
// independent accumulators.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

// A state update's shape, S[128, 32] += K^T[128, 16] V[16, 32]: 8 x 4 = 32
// tiles, 8 a warp, in groups of 2 x 4 (the fewest fragment registers of the
// groups of 8: 2 A and 4 B fragments a k step). Group g covers rows
// 32 g .. 32 g + 31 and every column.
// CHECK-LABEL: gpu.func @grouped_tiles(
// CHECK:         %[[TID:.*]] = gpu.thread_id x
// CHECK:         %[[WARP:.*]] = arith.divui %[[TID]], %c32
// CHECK:         scf.for %[[G:.*]] = %[[WARP]] to %c4 step %c4 {
// CHECK:           %[[ROW:.*]] = arith.muli %[[G]], %c32
// CHECK:           %[[ROW1:.*]] = arith.addi %[[ROW]], %c16
// CHECK:           %[[R0:.*]] = arith.addi %[[ROW]], %[[LANE_GROUP:.*]] : index
// CHECK:           arith.addi %[[ROW1]], %[[LANE_GROUP]] : index
// CHECK-COUNT-32:  memref.load
// One k step (k = 16): no k loop. Both A fragments and all four B fragments
// (8 and 4 loads of two bf16 each) load before the eight products, each on
// its own accumulator.
// CHECK-COUNT-32:  memref.load
// CHECK-NOT:       memref.load
// CHECK:           nvvm.mma.sync A[[[A0:%[0-9]+]], %{{.*}}, %{{.*}}, %{{.*}}]  B[[[B0:%[0-9]+]], %{{.*}}]
// CHECK-NEXT:      llvm.extractvalue
// CHECK:           nvvm.mma.sync A[[[A0]], %{{.*}}, %{{.*}}, %{{.*}}]  B[[[B1:%[0-9]+]], %{{.*}}]
// CHECK-COUNT-2:   nvvm.mma.sync A[[[A0]],
// CHECK:           nvvm.mma.sync A[[[A1:%[0-9]+]], %{{.*}}, %{{.*}}, %{{.*}}]  B[[[B0]], %{{.*}}]
// CHECK:           nvvm.mma.sync A[[[A1]], %{{.*}}, %{{.*}}, %{{.*}}]  B[[[B1]], %{{.*}}]
// CHECK-COUNT-2:   nvvm.mma.sync A[[[A1]],
// CHECK-NOT:       nvvm.mma.sync
// CHECK-COUNT-32:  memref.store
// CHECK:         gpu.barrier
// Without warp-tiles each warp runs its 8 tiles one at a time.
// SINGLE-LABEL: gpu.func @grouped_tiles(
// SINGLE:         scf.for %{{.*}} = %{{.*}} to %c32 step %c4 {
// SINGLE-COUNT-1:   nvvm.mma.sync
// SINGLE-NOT:       nvvm.mma.sync
// SINGLE:         gpu.barrier
func.func @grouped_tiles(%k: memref<?x16x128xbf16>, %v: memref<?x16x32xbf16>, %s: memref<?x128x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %k, %c0 : memref<?x16x128xbf16>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %ks = memref.subview %k[%sq, 0, 0] [1, 16, 128] [1, 1, 1] : memref<?x16x128xbf16> to memref<16x128xbf16, strided<[128, 1], offset: ?>>
    %vs = memref.subview %v[%sq, 0, 0] [1, 16, 32] [1, 1, 1] : memref<?x16x32xbf16> to memref<16x32xbf16, strided<[32, 1], offset: ?>>
    %ss = memref.subview %s[%sq, 0, 0] [1, 128, 32] [1, 1, 1] : memref<?x128x32xf32> to memref<128x32xf32, strided<[32, 1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0)>, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%ks, %vs : memref<16x128xbf16, strided<[128, 1], offset: ?>>, memref<16x32xbf16, strided<[32, 1], offset: ?>>)
        outs(%ss : memref<128x32xf32, strided<[32, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %r = arith.addf %o, %p : f32
      linalg.yield %r : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

// Scores, P[16, 16] -= Q[16, 128] K^T: 2 tiles on 4 warps, one each, a
// chain of 8 k steps split in two: accumulator set 0 (the negated output)
// takes the even k steps, set 1 (from zero) the odd ones. The sets are
// added, then negated back, and stored.
// CHECK-LABEL: gpu.func @split_chain(
// CHECK:         scf.for %{{.*}} = %{{.*}} to %c2 step %c4 {
// CHECK-COUNT-4:   arith.negf
// CHECK:           %[[SUMS:.*]]:8 = scf.for %[[K:.*]] = %c0 to %c128 step %c32 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %cst, %{{.*}} = %cst, %{{.*}} = %cst, %{{.*}} = %cst)
// CHECK:             nvvm.mma.sync {{.*}} C[%arg{{[0-9]+}}, %arg{{[0-9]+}}, %arg{{[0-9]+}}, %arg{{[0-9]+}}]
// CHECK:             arith.addi %[[K]], %c16
// CHECK:             nvvm.mma.sync
// CHECK-NOT:         nvvm.mma.sync
// CHECK:             scf.yield
// CHECK:           %[[E0:.*]] = arith.addf %[[SUMS]]#0, %[[SUMS]]#4
// CHECK:           %[[N0:.*]] = arith.negf %[[E0]]
// CHECK:           memref.store %[[N0]]
// CHECK:           arith.addf %[[SUMS]]#1, %[[SUMS]]#5
// CHECK:           arith.addf %[[SUMS]]#2, %[[SUMS]]#6
// CHECK:           arith.addf %[[SUMS]]#3, %[[SUMS]]#7
// CHECK:         gpu.barrier
// SINGLE-LABEL: gpu.func @split_chain(
// SINGLE:         scf.for %{{.*}} = %c0 to %c128 step %c16 iter_args({{[^)]*}}) -> (f32, f32, f32, f32) {
func.func @split_chain(%q: memref<?x16x128xbf16>, %k: memref<?x16x128xbf16>, %out: memref<?x16x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %q, %c0 : memref<?x16x128xbf16>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %qs = memref.subview %q[%sq, 0, 0] [1, 16, 128] [1, 1, 1] : memref<?x16x128xbf16> to memref<16x128xbf16, strided<[128, 1], offset: ?>>
    %ks = memref.subview %k[%sq, 0, 0] [1, 16, 128] [1, 1, 1] : memref<?x16x128xbf16> to memref<16x128xbf16, strided<[128, 1], offset: ?>>
    %os = memref.subview %out[%sq, 0, 0] [1, 16, 16] [1, 1, 1] : memref<?x16x16xf32> to memref<16x16xf32, strided<[16, 1], offset: ?>>
    linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qs, %ks : memref<16x128xbf16, strided<[128, 1], offset: ?>>, memref<16x128xbf16, strided<[128, 1], offset: ?>>)
        outs(%os : memref<16x16xf32, strided<[16, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %r = arith.subf %o, %p : f32
      linalg.yield %r : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

// An f32 operand (tf32, k steps of 8), O[16, 32] += Q[16, 128] S[128, 32]:
// 4 tiles, one a warp, 16 k steps in four chains of 4.
// CHECK-LABEL: gpu.func @split_in_four(
// CHECK:         %[[SUMS:.*]]:16 = scf.for %{{.*}} = %c0 to %c128 step %c32 iter_args(
// CHECK-COUNT-4:     nvvm.mma.sync {{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 8>
// CHECK-NOT:         nvvm.mma.sync
// CHECK:           %[[S01:.*]] = arith.addf %[[SUMS]]#0, %[[SUMS]]#4
// CHECK:           %[[S012:.*]] = arith.addf %[[S01]], %[[SUMS]]#8
// CHECK:           %[[S0123:.*]] = arith.addf %[[S012]], %[[SUMS]]#12
// CHECK:           memref.store %[[S0123]]
func.func @split_in_four(%q: memref<?x16x128xf32>, %s: memref<?x128x32xf32>, %out: memref<?x16x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %q, %c0 : memref<?x16x128xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %qs = memref.subview %q[%sq, 0, 0] [1, 16, 128] [1, 1, 1] : memref<?x16x128xf32> to memref<16x128xf32, strided<[128, 1], offset: ?>>
    %ss = memref.subview %s[%sq, 0, 0] [1, 128, 32] [1, 1, 1] : memref<?x128x32xf32> to memref<128x32xf32, strided<[32, 1], offset: ?>>
    %os = memref.subview %out[%sq, 0, 0] [1, 16, 32] [1, 1, 1] : memref<?x16x32xf32> to memref<16x32xf32, strided<[32, 1], offset: ?>>
    linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qs, %ss : memref<16x128xf32, strided<[128, 1], offset: ?>>, memref<128x32xf32, strided<[32, 1], offset: ?>>)
        outs(%os : memref<16x32xf32, strided<[32, 1], offset: ?>>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %r = arith.addf %o, %p : f32
      linalg.yield %r : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}
