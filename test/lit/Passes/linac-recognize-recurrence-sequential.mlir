// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-recognize-recurrence=allow-sequential=true | FileCheck %s

// With allow-sequential, a step the recognizer cannot match is kept for
// linac-sequential-recurrence: a warning says why, and the linac.sequential
// attribute carries the reason and where it is. Canonical steps are still
// recognized.

!qk = memref<2x16x4x8xf32>

// CHECK-LABEL: func.func @tanh_state
// CHECK:       linac.recurrence
// CHECK-SAME:    linac.sequential = "the new state must be the decayed state plus a rank-1 update (at {{.*}}linac-recognize-recurrence-sequential.mlir:[[@LINE+8]]:11)"
// CHECK-NOT:     form =
// CHECK:         math.tanh
func.func @tanh_state(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-warning @+1 {{step is not a linear recurrence linac can chunk: the new state must be the decayed state plus a rank-1 update; it runs one token at a time}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    // expected-note @+1 {{see this operation}}
    %Sn = math.tanh %S : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>

// CHECK-LABEL: func.func @canonical
// CHECK:       linac.recurrence
// CHECK-SAME:    form = #linac.form<decay = none, update = plain>
// CHECK-NOT:     linac.sequential
func.func @canonical(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
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

// The readout is not scaled: also kept, with its reason.
!qk = memref<2x16x4x8xf32>

// CHECK-LABEL: func.func @unscaled_readout
// CHECK:       linac.sequential = "the output must be multiplied by the recurrence's scale exactly once
func.func @unscaled_readout(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-warning @+1 {{the output must be multiplied by the recurrence's scale exactly once; it runs one token at a time}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %S, %kv : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    // expected-note @+1 {{see this operation}}
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    linac.yield %Sn, %r : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}
