// Grouped heads in linac-sequential-recurrence: the grid runs over the value
// heads (H = 4 here) and value head h reads q and k at head h / (H / H_q),
// H_q = 2, as linac-tile-chunk-loop does.
// RUN: linac-opt %s -linac-sequential-recurrence -cse | FileCheck %s

// CHECK-LABEL: func.func @grouped_heads(
// CHECK-SAME:    %[[Q:[^:]+]]: memref<2x16x2x8xf32>, %[[K:[^:]+]]: memref<2x16x2x8xf32>, %[[V:[^:]+]]: memref<2x16x4x8xf32>
// CHECK-DAG:   %[[H:.*]] = memref.dim %[[V]], %c2
// CHECK:       scf.parallel (%[[HEAD:.*]], %{{.*}}) = (%c0, %c0) to (%[[H]], %{{.*}}) step (%c1, %c1) {
// CHECK:         %[[QHEAD:.*]] = arith.divui %[[HEAD]], %{{.*}}
// CHECK:         scf.for
// CHECK-DAG:       memref.subview %[[Q]][%{{.*}}, %{{.*}}, %[[QHEAD]], 0]
// CHECK-DAG:       memref.subview %[[K]][%{{.*}}, %{{.*}}, %[[QHEAD]], 0]
// CHECK-DAG:       memref.subview %[[V]][%{{.*}}, %{{.*}}, %[[HEAD]], 0]
!qk = memref<2x16x2x8xf32>
!vo = memref<2x16x4x8xf32>
func.func @grouped_heads(%q: !qk, %k: !qk, %v: !vo, %o: !vo, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !vo) output(%o : !vo) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %t = math.tanh %S : tensor<8x8xf32>
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %n = arith.addf %t, %kv : tensor<8x8xf32>
    %nT = linac.transpose %n : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %nT, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    linac.yield %n, %r : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}
