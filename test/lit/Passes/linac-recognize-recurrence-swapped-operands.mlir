// matchUpdate tries both operand orders of `decayed + update`; when the
// right order fails, the reason and the note it reports are those of that
// order, not of the swapped try: a bad scalar decay is blamed on the
// linac.scale that applies it (not on the outer product), and a delta rule
// whose prediction reads the old state on that prediction (not reported as a
// bad decay).
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-recognize-recurrence

// The decay must be exp(g_t), not g_t itself.
!qk = memref<2x16x4x8xf32>
func.func @decay_not_exp(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4xf32>, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the old state must enter unchanged (S), decayed by a scalar exp(g_t) * S or per key channel exp(g_t)[:, None] * S}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4xf32>) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: f32, %S: tensor<8x8xf32>):
    // expected-note @+1 {{see this operation}}
    %Sd = linac.scale %S, %gt : tensor<8x8xf32>
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

// exp of something other than g_t.
!qk = memref<2x16x4x8xf32>
func.func @decay_exp_of_scale(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4xf32>, %o: !qk, %scale: f32) {
  // expected-error @+1 {{the old state must enter unchanged (S), decayed by a scalar exp(g_t) * S or per key channel exp(g_t)[:, None] * S}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4xf32>) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: f32, %S: tensor<8x8xf32>):
    %d = math.exp %scale : f32
    // expected-note @+1 {{see this operation}}
    %Sd = linac.scale %S, %d : tensor<8x8xf32>
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

// The gated delta rule predicts v_t from the decayed state, not the old one.
!qk = memref<2x16x4x8xf32>
!s = memref<2x16x4xf32>
func.func @delta_predicts_from_old_state(%q: !qk, %k: !qk, %v: !qk, %g: !s, %b: !s, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the delta rule's prediction must be S^T k_t of the decayed state S}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : !s) beta(%b : !s) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: f32, %bt: f32, %S: tensor<8x8xf32>):
    %d = math.exp %gt : f32
    %Sd = linac.scale %S, %d : tensor<8x8xf32>
    %ST = linac.transpose %S : tensor<8x8xf32> -> tensor<8x8xf32>
    // expected-note @+1 {{see this operation}}
    %p = linac.matvec %ST, %kt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %e = arith.subf %vt, %p : tensor<8xf32>
    %be = linac.scale %e, %bt : tensor<8xf32>
    %u = linac.outer %kt, %be : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %Sd, %u : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// The same with the update first: `update + decayed`.
!qk = memref<2x16x4x8xf32>
func.func @decay_not_exp_swapped(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4xf32>, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the old state must enter unchanged (S), decayed by a scalar exp(g_t) * S or per key channel exp(g_t)[:, None] * S}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4xf32>) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: f32, %S: tensor<8x8xf32>):
    // expected-note @+1 {{see this operation}}
    %Sd = linac.scale %S, %gt : tensor<8x8xf32>
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

!qk = memref<2x16x4x8xf32>
!s = memref<2x16x4xf32>
func.func @delta_predicts_from_old_state_swapped(%q: !qk, %k: !qk, %v: !qk, %g: !s, %b: !s, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the delta rule's prediction must be S^T k_t of the decayed state S}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : !s) beta(%b : !s) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: f32, %bt: f32, %S: tensor<8x8xf32>):
    %d = math.exp %gt : f32
    %Sd = linac.scale %S, %d : tensor<8x8xf32>
    %ST = linac.transpose %S : tensor<8x8xf32> -> tensor<8x8xf32>
    // expected-note @+1 {{see this operation}}
    %p = linac.matvec %ST, %kt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %e = arith.subf %vt, %p : tensor<8xf32>
    %be = linac.scale %e, %bt : tensor<8xf32>
    %u = linac.outer %kt, %be : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %u, %Sd : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}
