// RUN: linac-opt %s -split-input-file -linac-double-buffer-inputs -canonicalize -cse | FileCheck %s
// RUN: linac-opt %s -split-input-file -linac-double-buffer-inputs=chip=sm_80 | FileCheck %s --check-prefix=SM80

// linac-double-buffer-inputs: each staged input (a copy marked
// linac.staged_input at the top of a chunk loop, into a buffer allocated
// before it) gets two buffers. Chunk c reads half c mod 2; the first chunk's
// copy runs before the loop, and each chunk starts with the next chunk's
// copy into the other half. The loop's own copy is gone.

#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @staged(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x64xbf16>, %[[OUT:[^:]+]]: memref<?x64xf32>, %[[N:[^:]+]]: index)
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG:     %[[C16:.*]] = arith.constant 16 : index
// CHECK-NOT:     memref.alloca() : memref<16x64xbf16>
// CHECK:         %[[BUF:.*]] = memref.alloca() : memref<2x16x64xbf16>
// CHECK:         %[[CHUNKS:.*]] = arith.ceildivsi %[[N]], %[[C16]]
// CHECK:         %[[ANY:.*]] = arith.cmpi sgt, %[[CHUNKS]], %[[C0]]
// CHECK:         scf.if %[[ANY]] {
// CHECK:           %[[HALF0:.*]] = memref.subview %[[BUF]][0, 0, 0] [1, 16, 64] [1, 1, 1] : memref<2x16x64xbf16> to memref<16x64xbf16, strided<[64, 1]>>
// CHECK:           %[[FIRST:.*]] = arith.minsi %[[N]], %[[C16]]
// CHECK:           %[[SRC0:.*]] = memref.subview %[[Q]][0, 0] [%[[FIRST]], 64]
// CHECK:           %[[DST0:.*]] = memref.subview %[[HALF0]][0, 0] [%[[FIRST]], 64]
// CHECK:           linalg.generic {{.*}} ins(%[[SRC0]] : {{.*}}) outs(%[[DST0]] : {{.*}}) attrs =  {linac.staged_input}
// CHECK:         } {linac.prefetch = "first"}
// CHECK:         scf.for %[[C:.*]] = %[[C0]] to %[[CHUNKS]] step %[[C1]] {
// CHECK:           %[[NEXT:.*]] = arith.addi %[[C]], %[[C1]]
// CHECK:           %[[MORE:.*]] = arith.cmpi slt, %[[NEXT]], %[[CHUNKS]]
// CHECK:           scf.if %[[MORE]] {
// CHECK:             %[[NEXT_SLOT:.*]] = arith.remui %[[NEXT]], %[[C2]]
// CHECK:             %[[NEXT_HALF:.*]] = memref.subview %[[BUF]][%[[NEXT_SLOT]], 0, 0] [1, 16, 64] [1, 1, 1] : memref<2x16x64xbf16> to memref<16x64xbf16, strided<[64, 1], offset: ?>>
// CHECK:             %[[NEXT_T0:.*]] = arith.muli %[[NEXT]], %[[C16]]
// CHECK:             memref.subview %[[Q]][%[[NEXT_T0]], 0]
// CHECK:             memref.subview %[[NEXT_HALF]][0, 0]
// CHECK:             linalg.generic {{.*}} attrs =  {linac.staged_input}
// CHECK:           } {linac.prefetch = "next"}
// CHECK:           %[[SLOT:.*]] = arith.remui %[[C]], %[[C2]]
// CHECK:           %[[HALF:.*]] = memref.subview %[[BUF]][%[[SLOT]], 0, 0] [1, 16, 64] [1, 1, 1]
// CHECK:           %[[T0:.*]] = arith.muli %[[C]], %[[C16]]
// CHECK:           %[[DST:.*]] = memref.subview %[[HALF]][0, 0]
// CHECK-NOT:       linac.staged_input
// CHECK:           linalg.generic {{.*}} ins(%[[DST]] : memref<?x64xbf16, strided<[64, 1], offset: ?>>)
// CHECK:             arith.extf
// CHECK:         return

// sm_80 allows a block a quarter of its 163 KiB (less than 48 KiB, so 48):
// the 16 KiB of scratch and two 2 KiB halves fit.
// SM80-LABEL: func.func @staged(
// SM80:         memref.alloca() : memref<2x16x64xbf16>
func.func @staged(%q: memref<?x64xbf16>, %out: memref<?x64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %buf = memref.alloca() : memref<16x64xbf16>
  %scratch = memref.alloca() : memref<64x64xf32>
  %chunks = arith.ceildivsi %n, %c16 : index
  scf.for %c = %c0 to %chunks step %c1 {
    %t0 = arith.muli %c, %c16 : index
    %left = arith.subi %n, %t0 : index
    %tc = arith.minsi %left, %c16 : index
    %src = memref.subview %q[%t0, 0] [%tc, 64] [1, 1] : memref<?x64xbf16> to memref<?x64xbf16, strided<[64, 1], offset: ?>>
    %dst = memref.subview %buf[0, 0] [%tc, 64] [1, 1] : memref<16x64xbf16> to memref<?x64xbf16, strided<[64, 1]>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%src : memref<?x64xbf16, strided<[64, 1], offset: ?>>) outs(%dst : memref<?x64xbf16, strided<[64, 1]>>) attrs = {linac.staged_input} {
    ^bb0(%in: bf16, %o: bf16):
      linalg.yield %in : bf16
    }
    %o = memref.subview %out[%t0, 0] [%tc, 64] [1, 1] : memref<?x64xf32> to memref<?x64xf32, strided<[64, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%dst : memref<?x64xbf16, strided<[64, 1]>>) outs(%o : memref<?x64xf32, strided<[64, 1], offset: ?>>) {
    ^bb0(%in: bf16, %x: f32):
      %e = arith.extf %in : bf16 to f32
      linalg.yield %e : f32
    }
  }
  return
}

// -----

// Where the doubled buffer would take the block past what it may grow to
// (on sm_80, 48 KiB), the loop stays as it is.
#id = affine_map<(d0, d1) -> (d0, d1)>
// SM80-LABEL: func.func @too_big(
// SM80:         memref.alloca() : memref<16x64xbf16>
// SM80-NOT:     linac.prefetch
// CHECK-LABEL: func.func @too_big(
// CHECK:         memref.alloca() : memref<2x16x64xbf16>
func.func @too_big(%q: memref<?x64xbf16>, %out: memref<?x64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %buf = memref.alloca() : memref<16x64xbf16>
  %scratch = memref.alloca() : memref<11776xf32>
  %chunks = arith.ceildivsi %n, %c16 : index
  scf.for %c = %c0 to %chunks step %c1 {
    %t0 = arith.muli %c, %c16 : index
    %left = arith.subi %n, %t0 : index
    %tc = arith.minsi %left, %c16 : index
    %src = memref.subview %q[%t0, 0] [%tc, 64] [1, 1] : memref<?x64xbf16> to memref<?x64xbf16, strided<[64, 1], offset: ?>>
    %dst = memref.subview %buf[0, 0] [%tc, 64] [1, 1] : memref<16x64xbf16> to memref<?x64xbf16, strided<[64, 1]>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%src : memref<?x64xbf16, strided<[64, 1], offset: ?>>) outs(%dst : memref<?x64xbf16, strided<[64, 1]>>) attrs = {linac.staged_input} {
    ^bb0(%in: bf16, %o: bf16):
      linalg.yield %in : bf16
    }
    %o = memref.subview %out[%t0, 0] [%tc, 64] [1, 1] : memref<?x64xf32> to memref<?x64xf32, strided<[64, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%dst : memref<?x64xbf16, strided<[64, 1]>>) outs(%o : memref<?x64xf32, strided<[64, 1], offset: ?>>) {
    ^bb0(%in: bf16, %x: f32):
      %e = arith.extf %in : bf16 to f32
      linalg.yield %e : f32
    }
  }
  return
}

// -----

// A copy whose rows depend on a read of memory (here the chunk's length)
// cannot move a chunk ahead: the loop stays as it is.
#id = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @reads_memory(
// CHECK:         memref.alloca() : memref<16xf32>
// CHECK-NOT:     linac.prefetch
// CHECK:         linalg.generic {{.*}} attrs =  {linac.staged_input}
func.func @reads_memory(%g: memref<?xf32>, %lengths: memref<?xindex>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %buf = memref.alloca() : memref<16xf32>
  scf.for %c = %c0 to %n step %c1 {
    %len = memref.load %lengths[%c] : memref<?xindex>
    %src = memref.subview %g[0] [%len] [1] : memref<?xf32> to memref<?xf32, strided<[1]>>
    %dst = memref.subview %buf[0] [%len] [1] : memref<16xf32> to memref<?xf32, strided<[1]>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%src : memref<?xf32, strided<[1]>>) outs(%dst : memref<?xf32, strided<[1]>>) attrs = {linac.staged_input} {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    }
    memref.store %len, %lengths[%c] : memref<?xindex>
  }
  return
}
