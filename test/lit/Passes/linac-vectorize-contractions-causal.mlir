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
