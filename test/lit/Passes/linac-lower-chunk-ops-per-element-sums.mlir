// RUN: linac-opt %s -split-input-file -linac-lower-chunk-ops="per-element-sums=true" -cse | FileCheck %s

// linac-lower-chunk-ops with per-element-sums (the GPU pipeline): every
// cumulative or window sum of the gates is an element of an elementwise
// linalg.generic that adds its own gates in one scf.for, in the order of the
// row-by-row form. No loop over the rows holds a linalg op (on a GPU, a
// barrier per row).

// Forward: element i adds g[0 .. i] ascending, from 0.
// CHECK-LABEL: func.func @cumsum(
// CHECK-SAME:    %[[G:[^:]+]]: memref<?xf32>, %[[OUT:[^:]+]]: memref<?xf32>)
// CHECK-NOT:   linac.
// CHECK:       %[[N:.*]] = memref.dim %[[G]], %c0
// CHECK:       %[[ROWS:.*]] = memref.subview %[[OUT]][0] [%[[N]]] [1]
// CHECK:       linalg.generic {{.*}} iterator_types = ["parallel"]} outs(%[[ROWS]]
// CHECK:         %[[I:.*]] = linalg.index 0 : index
// CHECK:         %[[END:.*]] = arith.addi %[[I]], %c1 : index
// CHECK:         %[[SUM:.*]] = scf.for %[[M:.*]] = %c0 to %[[END]] step %c1 iter_args(%[[ACC:.*]] = %cst) -> (f32) {
// CHECK-NEXT:      %[[GM:.*]] = memref.load %[[G]][%[[M]]]
// CHECK-NEXT:      %[[NEXT:.*]] = arith.addf %[[ACC]], %[[GM]] : f32
// CHECK-NEXT:      scf.yield %[[NEXT]] : f32
// CHECK:         linalg.yield %[[SUM]] : f32
// CHECK-NOT:   scf.for
func.func @cumsum(%g: memref<?xf32>, %G: memref<?xf32>) {
  linac.chunk_cumsum ins(%g : memref<?xf32>) outs(%G : memref<?xf32>)
  return
}

// -----

// Reverse with repeat = 2: row r is step i = r / 2, which adds g[i + 1 ..
// n - 1] from the last row down (m = (i + 1) + n - 1 - u).
// CHECK-LABEL: func.func @cumsum_reverse_repeat(
// CHECK-SAME:    %[[G:[^:]+]]: memref<?xf32>, %[[OUT:[^:]+]]: memref<?xf32>)
// CHECK:       %[[N:.*]] = memref.dim %[[G]], %c0
// CHECK:       %[[ROWS:.*]] = arith.muli %[[N]], %c2 : index
// CHECK:       memref.subview %[[OUT]][0] [%[[ROWS]]] [1]
// CHECK:         %[[R:.*]] = linalg.index 0 : index
// CHECK:         %[[I:.*]] = arith.divui %[[R]], %c2 : index
// CHECK:         %[[FROM:.*]] = arith.addi %[[I]], %c1 : index
// CHECK:         %[[BOTH:.*]] = arith.addi %[[FROM]], %[[N]] : index
// CHECK:         %[[MIRROR:.*]] = arith.subi %[[BOTH]], %c1 : index
// CHECK:         scf.for %[[U:.*]] = %[[FROM]] to %[[N]] step %c1 iter_args(
// CHECK-NEXT:      %[[M:.*]] = arith.subi %[[MIRROR]], %[[U]] : index
// CHECK-NEXT:      memref.load %[[G]][%[[M]]]
func.func @cumsum_reverse_repeat(%g: memref<?xf32>, %G: memref<?xf32>) {
  linac.chunk_cumsum ins(%g : memref<?xf32>) outs(%G : memref<?xf32>) {reverse, repeat = 2 : i64}
  return
}

// -----

// Vector gates: one iteration per channel c (a thread each on a GPU), its
// running sum down the rows in a register, row i stored as g[0 .. i, c]: the
// row-by-row form's additions, without a barrier per row.
// CHECK-LABEL: func.func @cumsum_vector(
// CHECK-SAME:    %[[G:[^:]+]]: memref<?x8xf32>, %[[S:[^:]+]]: memref<?x8xf32>
// CHECK:       scf.for %[[C:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:         scf.for %[[I:.*]] = %c0 to %{{.*}} step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT:      %[[GI:.*]] = memref.load %[[G]][%[[I]], %[[C]]]
// CHECK-NEXT:      %[[SUM:.*]] = arith.addf %[[ACC]], %[[GI]]
// CHECK:             memref.store %[[SUM]], %[[S]][%{{.*}}, %[[C]]]
// CHECK:           scf.yield %[[SUM]]
// CHECK:       } {linac.thread_parallel}
func.func @cumsum_vector(%g: memref<?x8xf32>, %G: memref<?x8xf32>) {
  linac.chunk_cumsum ins(%g : memref<?x8xf32>) outs(%G : memref<?x8xf32>)
  return
}

// -----

// Scalar gates' window sums E[i, t] = g[t + 1] + ... + g[i] (empty, so 0, for
// t >= i), each element its own loop; then the mask and exp as without.
// CHECK-LABEL: func.func @window_sums(
// CHECK-SAME:    %[[G:[^:]+]]: memref<?xf32>, %[[W:[^:]+]]: memref<?x?xf32>
// CHECK:       linalg.generic {{.*}} outs(%[[W]] : memref<?x?xf32>)
// CHECK:         %[[I:.*]] = linalg.index 0 : index
// CHECK:         %[[T:.*]] = linalg.index 1 : index
// CHECK:         %[[FROM:.*]] = arith.addi %[[T]], %c1 : index
// CHECK:         %[[TO:.*]] = arith.addi %[[I]], %c1 : index
// CHECK:         scf.for %[[M:.*]] = %[[FROM]] to %[[TO]] step %c1 iter_args(
// CHECK-NEXT:      memref.load %[[G]][%[[M]]]
// CHECK:       math.exp
// CHECK-NOT:   scf.for
func.func @window_sums(%q: memref<?x64xf16>, %k: memref<?x64xf16>, %g: memref<?xf32>, %W: memref<?x?xf32>, %P: memref<?x?xf32>) {
  linac.decayed_scores ins(%q, %k : memref<?x64xf16>, memref<?x64xf16>) gates(%g : memref<?xf32>) workspace(%W : memref<?x?xf32>) outs(%P : memref<?x?xf32>)
  return
}

// -----

// Vector gates: in each sub-chunk of 16 queries, the sums before it are
// per-element (forward from its start, reverse to it), and the band inside
// it is one contraction over the channels whose every score sums its own
// window, from the query's token down (the diagonal form's order), masked
// above the diagonal. The only loop holding linalg ops is the sub-chunks'.
// CHECK-LABEL: func.func @vector_decay_scores(
// CHECK:       scf.for
// CHECK:         scf.if
// CHECK:           linalg.generic {{.*}}["parallel", "parallel"]
// CHECK:             scf.for {{.*}} iter_args
// CHECK:           linalg.generic {{.*}}["parallel", "parallel"]
// CHECK:           linalg.generic {{.*}}["parallel", "parallel"]
// CHECK:             scf.for {{.*}} iter_args
// CHECK:         linalg.generic {{.*}}["parallel", "parallel", "reduction"]
// CHECK:           %[[A:.*]] = linalg.index 0 : index
// CHECK:           %[[J:.*]] = linalg.index 1 : index
// CHECK:           scf.for {{.*}} iter_args
// CHECK:           math.exp
// CHECK:           %[[VISIBLE:.*]] = arith.cmpi ule, %[[J]], %[[A]] : index
// CHECK:           arith.select %[[VISIBLE]]
// CHECK-NOT:     scf.for
// CHECK:         return
func.func @vector_decay_scores(%q: memref<?x32xf32>, %k: memref<?x32xf32>, %g: memref<?x32xf32>, %W: memref<?x32xf32>, %P: memref<?x?xf32>) {
  linac.decayed_scores ins(%q, %k : memref<?x32xf32>, memref<?x32xf32>) gates(%g : memref<?x32xf32>) workspace(%W : memref<?x32xf32>) outs(%P : memref<?x?xf32>)
  return
}

// -----

// With a static width, the band is two thread-parallel loops: iteration
// (j, group) (2 groups of 16 channels at K = 32) runs down the queries
// a >= j, its 16 windows growing by one gate a step (none at a == j), and
// stores sum_c q k exp(window) as the partial score (a, j, group) in a
// buffer of its own beside the workspace; then iteration (a, j) adds a
// visible score's 2 partials.
// CHECK-LABEL: func.func @vector_decay_band_threads(
// CHECK:         %[[PARTIALS:.*]] = memref.alloca() : memref<256x2xf32>
// CHECK:         scf.for %[[ITEM:.*]] = %c0 to %c32 step %c1 {
// CHECK:           %[[J:.*]] = arith.divui %[[ITEM]], %c2
// CHECK:           %[[GROUP:.*]] = arith.remui %[[ITEM]], %c2
// CHECK:           scf.if
// CHECK-COUNT-16:    memref.load %{{.*}}[%[[J]], %{{.*}}] : memref<?x?xf32
// CHECK:             scf.for %[[A:.*]] = %[[J]] to %{{.*}} step %c1 iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK:               %[[FIRST:.*]] = arith.cmpi eq, %[[A]], %[[J]]
// CHECK:               %[[G:.*]] = memref.load %{{.*}}[%[[A]], %{{.*}}]
// CHECK:               %[[WIDER:.*]] = arith.addf %{{.*}}, %[[G]]
// CHECK:               %[[W:.*]] = arith.select %[[FIRST]], %{{.*}}, %[[WIDER]]
// CHECK:               math.exp %[[W]]
// CHECK-COUNT-15:      math.exp
// CHECK:               memref.store %{{.*}}, %[[PARTIALS]][%{{.*}}, %{{.*}}] : memref<256x2xf32>
// CHECK:         } {linac.thread_parallel}
// CHECK:         scf.for %[[ITEM2:.*]] = %c0 to %c256 step %c1 {
// CHECK:           %[[A2:.*]] = arith.divui %[[ITEM2]], %c16
// CHECK:           %[[J2:.*]] = arith.remui %[[ITEM2]], %c16
// CHECK:           arith.cmpi ule, %[[J2]], %[[A2]]
// CHECK:           scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args
// CHECK:             memref.load %[[PARTIALS]]
// CHECK:           memref.store
// CHECK:         } {linac.thread_parallel}
// CHECK:         return
func.func @vector_decay_band_threads(%q: memref<?x32xf32>, %k: memref<?x32xf32>, %g: memref<?x32xf32>, %P: memref<?x?xf32>) {
  %W = memref.alloca() : memref<48x32xf32>
  linac.decayed_scores ins(%q, %k : memref<?x32xf32>, memref<?x32xf32>) gates(%g : memref<?x32xf32>) workspace(%W : memref<48x32xf32>) outs(%P : memref<?x?xf32>)
  return
}
