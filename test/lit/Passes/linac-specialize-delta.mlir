// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{householder=3 qk-l2norm=true beta-sigmoid=2.0}))' | FileCheck %s
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{householder=1}))' | FileCheck %s --check-prefix=ONE

// linac-specialize sets the delta-rule modifiers of each linac.recurrence:
// Householder steps per token, the in-kernel L2 norm of q and k, sigmoid
// step sizes; without them the recurrence keeps its own.

// CHECK-LABEL: func.func @delta_modifiers(
// CHECK:       linac.recurrence
// CHECK-SAME:    attributes {beta_sigmoid = 2.000000e+00 : f32, form = #linac.form<decay = none, update = delta>, householder = 3 : i64, qk_l2norm}

// ONE-LABEL:   func.func @delta_modifiers(
// ONE:         linac.recurrence
// ONE-SAME:      attributes {form = #linac.form<decay = none, update = delta>}
func.func @delta_modifiers(%q: memref<?x?x?x8xf32>, %k: memref<?x?x?x8xf32>, %v: memref<?x?x?x8xf32>, %b: memref<?x?x?xf32>, %o: memref<?x?x?x8xf32>, %scale: f32) {
  linac.recurrence q(%q : memref<?x?x?x8xf32>) k(%k : memref<?x?x?x8xf32>) v(%v : memref<?x?x?x8xf32>)
      beta(%b : memref<?x?x?xf32>) output(%o : memref<?x?x?x8xf32>) scale(%scale)
      attributes {form = #linac.form<decay = none, update = delta>}
  return
}
