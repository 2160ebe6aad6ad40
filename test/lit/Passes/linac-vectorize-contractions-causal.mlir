// RUN: linac-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(linac-vectorize-contractions))' | FileCheck %s

// A contraction marked linac.causal_output (by linac-lower-chunk-ops, for
// the scores a causal mask follows) skips the outputs above the causal
// diagonal of query stride s: row tile [i0, i0 + 4) needs the keys below
// (i0 + 4) * s only.

#q = affine_map<(d0, d1, d2) -> (d0, d2)>
#k = affine_map<(d0, d1, d2) -> (d1, d2)>
#p = affine_map<(d0, d1, d2) -> (d0, d1)>

// P = Q K^T with the output masked afterwards (linac.causal_output, s = 2):
// the column loop of row tile i0 ends at min(cols, (i0 + 4) * 2).
// CHECK-LABEL: func.func @scores_causal_output(
// CHECK:         scf.for %[[I0:.*]] = %{{.*}} to %{{.*}} step %c4{{[_0-9]*}} {
// CHECK:           %[[END:.*]] = arith.addi %[[I0]], %c4{{[_0-9]*}} : index
// CHECK:           %[[KEYS:.*]] = arith.muli %[[END]], %c2 : index
// CHECK:           %[[BOUND:.*]] = arith.minsi %{{.*}}, %[[KEYS]] : index
// CHECK:           scf.for %{{.*}} = %{{.*}} to %[[BOUND]] step %c4{{[_0-9]*}} {
func.func @scores_causal_output(%q: memref<?x64xf32, strided<[64, 1]>>,
                                %k: memref<?x64xf32, strided<[64, 1]>>,
                                %s: memref<?x?xf32, strided<[32, 1]>>) {
  linalg.generic {indexing_maps = [#q, #k, #p],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<?x64xf32, strided<[64, 1]>>, memref<?x64xf32, strided<[64, 1]>>)
      outs(%s : memref<?x?xf32, strided<[32, 1]>>) attrs = {linac.causal_output = 2 : i64} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  }
  return
}

// -----

#q = affine_map<(d0, d1, d2) -> (d0, d2)>
#k = affine_map<(d0, d1, d2) -> (d1, d2)>
#p = affine_map<(d0, d1, d2) -> (d0, d1)>

// Without the mark every column is computed.
// CHECK-LABEL: func.func @scores_full(
// CHECK:         %[[COLS:.*]] = memref.dim %{{.*}}, %c1 : memref<?x?xf32
// CHECK:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c4{{[_0-9]*}} {
// CHECK-NEXT:      %{{.*}} = arith.constant 4 : index
// CHECK-NEXT:      %{{.*}} = arith.constant 0 : index
// CHECK-NEXT:      scf.for %{{.*}} = %{{.*}} to %[[COLS]] step
func.func @scores_full(%q: memref<?x64xf32, strided<[64, 1]>>,
                       %k: memref<?x64xf32, strided<[64, 1]>>,
                       %s: memref<?x?xf32, strided<[32, 1]>>) {
  linalg.generic {indexing_maps = [#q, #k, #p],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<?x64xf32, strided<[64, 1]>>, memref<?x64xf32, strided<[64, 1]>>)
      outs(%s : memref<?x?xf32, strided<[32, 1]>>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  }
  return
}

// -----

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d2)>

// O += P V with P zero above the diagonal (linac.causal_lhs, s = 1): row tile
// [i0, i0 + 4) sums the rows r < i0 of V for all its rows, then the diagonal
// block r in [i0, i0 + 4) row by row (row i0 + ii keeps its accumulators for
// r > i0 + ii: a NaN there never meets P's zero), and nothing beyond it.
// CHECK-LABEL: func.func @values_causal_lhs(
// CHECK:         scf.for %[[I0:.*]] = %{{.*}} to %{{.*}} step %c4{{[_0-9]*}} {
// CHECK:           scf.for
// CHECK:             %[[BEFORE:.*]] = arith.minsi %{{.*}}, %[[I0]] : index
// CHECK:             %[[END:.*]] = arith.addi %[[I0]], %c4{{[_0-9]*}} : index
// CHECK:             %[[AFTER:.*]] = arith.minsi %{{.*}}, %[[END]] : index
// CHECK:             %[[FULL:.*]]:16 = scf.for %{{.*}} = %{{.*}} to %[[BEFORE]] step %c1{{[_0-9]*}} iter_args(
// CHECK-NOT:           arith.select
// CHECK:               scf.yield
// CHECK:             scf.for %[[R:.*]] = %[[BEFORE]] to %[[AFTER]] step %c1{{[_0-9]*}} iter_args(%{{[^ ]*}} = %[[FULL]]#0,
// CHECK:               %[[ROW1:.*]] = arith.addi %[[I0]], %c1{{[_0-9]*}} : index
// CHECK:               %[[SEES:.*]] = arith.cmpi slt, %[[R]], %[[ROW1]] : index
// CHECK:               %[[SUM:.*]] = vector.fma
// CHECK:               arith.select %[[SEES]], %[[SUM]], %{{.*}} : vector<16xf32>
func.func @values_causal_lhs(%p: memref<?x?xf32, strided<[32, 1]>>,
                             %v: memref<?x64xf32, strided<[64, 1]>>,
                             %o: memref<?x64xf32, strided<[64, 1]>>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%p, %v : memref<?x?xf32, strided<[32, 1]>>, memref<?x64xf32, strided<[64, 1]>>)
      outs(%o : memref<?x64xf32, strided<[64, 1]>>) attrs = {linac.causal_lhs = 1 : i64} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  }
  return
}

// -----

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d2)>

// Without the mark one reduction runs over the whole depth, no selects.
// CHECK-LABEL: func.func @values_full(
// CHECK-SAME:    %{{[^:]+}}: memref<?x?xf32, strided<[32, 1]>>, %[[V:[^:]+]]:
// CHECK:         %[[DEPTH:.*]] = memref.dim %[[V]], %c0{{[_0-9]*}} : memref<?x64xf32
// CHECK:         scf.for %{{.*}} = %{{.*}} to %[[DEPTH]] step %c1{{[_0-9]*}} iter_args(
// CHECK-NOT:     arith.select
// CHECK:         return
func.func @values_full(%p: memref<?x?xf32, strided<[32, 1]>>,
                       %v: memref<?x64xf32, strided<[64, 1]>>,
                       %o: memref<?x64xf32, strided<[64, 1]>>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%p, %v : memref<?x?xf32, strided<[32, 1]>>, memref<?x64xf32, strided<[64, 1]>>)
      outs(%o : memref<?x64xf32, strided<[64, 1]>>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  }
  return
}
