// RUN: linac-opt %s -linac-tile-chunk-loop=stage-inputs=true -canonicalize -cse | FileCheck %s
// RUN: linac-opt %s -linac-tile-chunk-loop -canonicalize | FileCheck %s --check-prefix=NOSTAGE
// RUN: linac-opt %s -linac-tile-chunk-loop="stage-inputs=true stage-in-input-type=true prefetch-next-chunk=false" -canonicalize -cse | FileCheck %s --check-prefix=GPU

// The GPU pipeline's staging: the local buffers keep the inputs' bf16 (no
// conversion in the copy), and nothing is prefetched.
// GPU-LABEL: func.func @prefetch_next_chunk(
// GPU:         memref.alloca() : memref<16x64xbf16>
// GPU-NOT:     memref.alloca() : memref<16x64xf32>
// GPU:         scf.for
// GPU:           linalg.generic
// GPU-NEXT:      ^bb0(%[[IN:.*]]: bf16, %{{.*}}: bf16):
// GPU-NEXT:        linalg.yield %[[IN]] : bf16
// GPU-NOT:       memref.prefetch
// GPU:           linac.chunk_state_update
// GPU-LABEL: func.func @burst_before_sequential_phase(
// GPU-NOT:     memref.prefetch

// With staged inputs (the CPU pipeline), each chunk prefetches the next
// chunk's q, k, v rows (read) and output rows (write) into L2, one prefetch
// per 64-byte line (32 bf16 elements). The row count is
// min(C, length - (chunk start + C)), empty after the last chunk.
// (Here V and the output are bf16 like q: the op takes one dtype.)

// CHECK-LABEL: func.func @prefetch_next_chunk(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<?x?x?x64xbf16>, %[[V:[^:]+]]: memref<?x?x?x64xbf16>, %[[O:[^:]+]]: memref<?x?x?x64xbf16>
// CHECK:       scf.for %[[CHUNK:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:         %[[OFFSET:.*]] = arith.muli %[[CHUNK]], %c16 : index
// CHECK:         %[[REST:.*]] = arith.subi %{{.*}}, %[[OFFSET]] : index
// The staging copies of this chunk come first.
// CHECK:         linalg.generic
// CHECK:         %[[NEXT:.*]] = arith.addi %[[OFFSET]], %c16 : index
// CHECK:         %[[LEFT:.*]] = arith.subi %{{.*}}, %{{.*}} : index
// CHECK:         %[[COUNT:.*]] = arith.minsi %[[LEFT]], %c16 : index
// CHECK:         scf.for %[[T:.*]] = %c0 to %[[COUNT]] step %c1 {
// CHECK:           scf.for %[[COL:.*]] = %c0 to %c64 step %c32 {
// CHECK:             memref.prefetch %[[Q]][%{{.*}}, %{{.*}}, %{{.*}}, %[[COL]]], read, locality<2>, data : memref<?x?x?x64xbf16>
// A body of products only: the loops are marked for
// linac-vectorize-contractions to spread over the products.
// CHECK:         } {linac.deferred_prefetch}
// k is q here: one prefetch of those rows.
// CHECK-NOT:     memref.prefetch %[[Q]]
// CHECK:         scf.for
// CHECK:           scf.for %{{.*}} = %c0 to %c64 step %c32 {
// CHECK:             memref.prefetch %[[V]]{{.*}}, read, locality<2>, data : memref<?x?x?x64xbf16>
// CHECK:         scf.for
// CHECK:           scf.for %{{.*}} = %c0 to %c64 step %c32 {
// CHECK:             memref.prefetch %[[O]]{{.*}}, write, locality<2>, data : memref<?x?x?x64xbf16>
// CHECK:         linac.chunk_state_update

// A body with a sequential phase (here the UT transform's forward
// substitution) keeps its prefetches as one burst at the top of the chunk:
// they overlap that phase.
// CHECK-LABEL: func.func @burst_before_sequential_phase(
// CHECK:         memref.prefetch
// CHECK-NOT:     linac.deferred_prefetch
// CHECK:         linac.ut_transform

// Without staging (GPUs) nothing is prefetched.
// NOSTAGE-NOT: memref.prefetch
!view64 = memref<?x64xbf16, strided<[?, ?], offset: ?>>
func.func @prefetch_next_chunk(%q: memref<?x?x?x64xbf16>, %v: memref<?x?x?x64xbf16>,
                               %o: memref<?x?x?x64xbf16>, %scale: f32) {
  linac.chunk_loop q(%q : memref<?x?x?x64xbf16>) k(%q : memref<?x?x?x64xbf16>)
      v(%v : memref<?x?x?x64xbf16>)
      output(%o : memref<?x?x?x64xbf16>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: memref<?x64xf32, strided<[?, ?], offset: ?>>, %kc: memref<?x64xf32, strided<[?, ?], offset: ?>>,
       %vc: memref<?x?xf32, strided<[?, ?], offset: ?>>,
       %S: memref<64x?xf32, strided<[?, ?], offset: ?>>, %oc: memref<?x?xf32, strided<[?, ?], offset: ?>>):
    linac.chunk_state_update ins(%kc, %vc : memref<?x64xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>) outs(%S : memref<64x?xf32, strided<[?, ?], offset: ?>>)
  }
  return
}

func.func @burst_before_sequential_phase(%q: memref<?x?x?x64xbf16>, %v: memref<?x?x?x64xbf16>,
                                         %o: memref<?x?x?x64xbf16>, %scale: f32) {
  linac.chunk_loop q(%q : memref<?x?x?x64xbf16>) k(%q : memref<?x?x?x64xbf16>)
      v(%v : memref<?x?x?x64xbf16>)
      output(%o : memref<?x?x?x64xbf16>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: memref<?x64xf32, strided<[?, ?], offset: ?>>, %kc: memref<?x64xf32, strided<[?, ?], offset: ?>>,
       %vc: memref<?x?xf32, strided<[?, ?], offset: ?>>,
       %S: memref<64x?xf32, strided<[?, ?], offset: ?>>, %oc: memref<?x?xf32, strided<[?, ?], offset: ?>>):
    %A = memref.alloca() : memref<16x16xf32>
    %B = memref.alloca() : memref<16xf32>
    %T = memref.alloca() : memref<16x16xf32>
    linac.ut_transform ins(%A, %B : memref<16x16xf32>, memref<16xf32>) outs(%T : memref<16x16xf32>)
    linac.chunk_state_update ins(%kc, %vc : memref<?x64xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>) outs(%S : memref<64x?xf32, strided<[?, ?], offset: ?>>)
  }
  return
}
