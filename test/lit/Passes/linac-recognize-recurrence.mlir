// RUN: linac-opt %s -split-input-file -linac-recognize-recurrence | FileCheck %s

// Each step linac-recognize-recurrence matches, and the canonical form it
// leaves in place of the region.

!qk = memref<2x16x4x8xf32>
!g = memref<2x16x4xf32>

// S <- S + k v^T, o = scale * S^T q (the scale on the output).
// CHECK-LABEL: func.func @no_decay
// CHECK:       linac.recurrence q(%{{[^ ]+}} : memref<2x16x4x8xf32>)
// CHECK-SAME:    attributes {form = #linac.form<decay = none, update = plain>}
// CHECK-NOT:   ^bb0
// CHECK-NOT:   linac.
// CHECK:       return
func.func @no_decay(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %S, %kv : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// S <- exp(g) S + k v^T, with the outer product on the left of the sum.
// CHECK-LABEL: func.func @scalar_decay
// CHECK:       linac.recurrence {{.*}} g(%{{[^ ]+}} : memref<2x16x4xf32>)
// CHECK-SAME:    attributes {form = #linac.form<decay = scalar, update = plain>}
// CHECK-NOT:   ^bb0
!qk = memref<2x16x4x8xf32>
!g = memref<2x16x4xf32>
func.func @scalar_decay(%q: !qk, %k: !qk, %v: !qk, %g: !g, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : !g) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: f32, %S: tensor<8x8xf32>):
    %d = math.exp %gt : f32
    %Sd = linac.scale %S, %d : tensor<8x8xf32>
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %kv, %Sd : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// The scale may multiply the (new) state before the readout.
// CHECK-LABEL: func.func @scale_on_state
// CHECK:       linac.recurrence
// CHECK-SAME:    attributes {form = #linac.form<decay = scalar, update = plain>}
!qk = memref<2x16x4x8xf32>
!g = memref<2x16x4xf32>
func.func @scale_on_state(%q: !qk, %k: !qk, %v: !qk, %g: !g, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : !g) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: f32, %S: tensor<8x8xf32>):
    %d = math.exp %gt : f32
    %Sd = linac.scale %S, %d : tensor<8x8xf32>
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %Sd, %kv : tensor<8x8xf32>
    %Ss = linac.scale %Sn, %scale : tensor<8x8xf32>
    %St = linac.transpose %Ss : tensor<8x8xf32> -> tensor<8x8xf32>
    %ot = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// The scale may multiply the query.
// CHECK-LABEL: func.func @scale_on_query
// CHECK:       linac.recurrence
// CHECK-SAME:    attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>, mode = #linac<mode recurrent>, normalize}
!qk = memref<2x16x4x8xf32>
func.func @scale_on_query(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale)
      attributes {chunk_size = 16 : i64, mode = #linac<mode recurrent>, normalize} {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %S, %kv : tensor<8x8xf32>
    %qs = linac.scale %qt, %scale : tensor<8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %ot = linac.matvec %St, %qs : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// K != V, dynamic sizes, and an already canonical recurrence (left alone).
// CHECK-LABEL: func.func @rectangular_and_canonical
// CHECK:       linac.recurrence {{.*}} attributes {form = #linac.form<decay = none, update = plain>}
// CHECK:       linac.recurrence {{.*}} attributes {form = #linac.form<decay = vector, update = plain>}
func.func @rectangular_and_canonical(%q: memref<?x?x?x16xf32>, %v: memref<?x?x?x?xf32>, %g: memref<?x?x?x16xf32>, %scale: f32) {
  linac.recurrence q(%q : memref<?x?x?x16xf32>) k(%q : memref<?x?x?x16xf32>) v(%v : memref<?x?x?x?xf32>) output(%v : memref<?x?x?x?xf32>) scale(%scale) {
  ^bb0(%qt: tensor<16xf32>, %kt: tensor<16xf32>, %vt: tensor<?xf32>, %S: tensor<16x?xf32>):
    %kv = linac.outer %kt, %vt : tensor<16xf32>, tensor<?xf32> -> tensor<16x?xf32>
    %Sn = arith.addf %S, %kv : tensor<16x?xf32>
    %St = linac.transpose %Sn : tensor<16x?xf32> -> tensor<?x16xf32>
    %r = linac.matvec %St, %qt : tensor<?x16xf32>, tensor<16xf32> -> tensor<?xf32>
    %ot = linac.scale %r, %scale : tensor<?xf32>
    linac.yield %Sn, %ot : tensor<16x?xf32>, tensor<?xf32>
  }
  linac.recurrence q(%q : memref<?x?x?x16xf32>) k(%q : memref<?x?x?x16xf32>) v(%v : memref<?x?x?x?xf32>) g(%g : memref<?x?x?x16xf32>) output(%v : memref<?x?x?x?xf32>) scale(%scale)
      attributes {form = #linac.form<decay = vector, update = plain>}
  return
}

// -----

// S <- diag(exp(g)) S + k v^T: a decay per key channel.
// CHECK-LABEL: func.func @vector_decay
// CHECK:       linac.recurrence {{.*}} g(%{{[^ ]+}} : memref<2x16x4x8xf32>)
// CHECK-SAME:    attributes {form = #linac.form<decay = vector, update = plain>}
// CHECK-NOT:   ^bb0
!qk = memref<2x16x4x8xf32>
func.func @vector_decay(%q: !qk, %k: !qk, %v: !qk, %g: !qk, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %d = math.exp %gt : tensor<8xf32>
    %Sd = linac.scale_rows %S, %d : tensor<8x8xf32>, tensor<8xf32>
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %Sd, %kv : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// The delta rule: S <- S + beta k (v - S^T k)^T, beta on the error.
// CHECK-LABEL: func.func @delta_rule
// CHECK:       linac.recurrence {{.*}} beta(%{{[^ ]+}} : memref<2x16x4xf32>)
// CHECK-SAME:    attributes {form = #linac.form<decay = none, update = delta>}
// CHECK-NOT:   ^bb0
!qk = memref<2x16x4x8xf32>
func.func @delta_rule(%q: !qk, %k: !qk, %v: !qk, %b: memref<2x16x4xf32>, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) beta(%b : memref<2x16x4xf32>) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %bt: f32, %S: tensor<8x8xf32>):
    %ST = linac.transpose %S : tensor<8x8xf32> -> tensor<8x8xf32>
    %p = linac.matvec %ST, %kt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %e = arith.subf %vt, %p : tensor<8xf32>
    %be = linac.scale %e, %bt : tensor<8xf32>
    %u = linac.outer %kt, %be : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %S, %u : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// The gated delta rule, beta on the outer product and the prediction read
// from the decayed state.
// CHECK-LABEL: func.func @gated_delta_rule
// CHECK:       linac.recurrence
// CHECK-SAME:    attributes {form = #linac.form<decay = scalar, update = delta>}
!qk = memref<2x16x4x8xf32>
!s = memref<2x16x4xf32>
func.func @gated_delta_rule(%q: !qk, %k: !qk, %v: !qk, %g: !s, %b: !s, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : !s) beta(%b : !s) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: f32, %bt: f32, %S: tensor<8x8xf32>):
    %d = math.exp %gt : f32
    %Sd = linac.scale %S, %d : tensor<8x8xf32>
    %ST = linac.transpose %Sd : tensor<8x8xf32> -> tensor<8x8xf32>
    %p = linac.matvec %ST, %kt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %e = arith.subf %vt, %p : tensor<8xf32>
    %u = linac.outer %kt, %e : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %bu = linac.scale %u, %bt : tensor<8x8xf32>
    %Sn = arith.addf %bu, %Sd : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// A delta rule after a per-channel decay, beta on the key; the recurrence's
// modifiers are kept.
// CHECK-LABEL: func.func @vector_delta_rule
// CHECK:       linac.recurrence
// CHECK-SAME:    attributes {beta_sigmoid = 2.000000e+00 : f32, form = #linac.form<decay = vector, update = delta>, householder = 2 : i64, qk_l2norm}
!qk = memref<2x16x4x8xf32>
!k2 = memref<2x32x4x8xf32>
func.func @vector_delta_rule(%q: !qk, %k: !k2, %v: !k2, %g: !qk, %b: memref<2x32x4xf32>, %o: !qk, %scale: f32) {
  linac.recurrence q(%q : !qk) k(%k : !k2) v(%v : !k2) g(%g : !qk) beta(%b : memref<2x32x4xf32>) output(%o : !qk) scale(%scale)
      attributes {householder = 2 : i64, qk_l2norm, beta_sigmoid = 2.0 : f32} {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: tensor<8xf32>, %bt: f32, %S: tensor<8x8xf32>):
    %d = math.exp %gt : tensor<8xf32>
    %Sd = linac.scale_rows %S, %d : tensor<8x8xf32>, tensor<8xf32>
    %ST = linac.transpose %Sd : tensor<8x8xf32> -> tensor<8x8xf32>
    %p = linac.matvec %ST, %kt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %e = arith.subf %vt, %p : tensor<8xf32>
    %bk = linac.scale %kt, %bt : tensor<8xf32>
    %u = linac.outer %bk, %e : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %Sd, %u : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}
