// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-recognize-recurrence

// Steps linac-recognize-recurrence rejects: the error says what breaks the
// canonical form and, when an operation is to blame, a note points at it.

!qk = memref<2x16x4x8xf32>
func.func @state_not_a_sum(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the new state must be the decayed state plus a rank-1 update}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    // expected-note @+1 {{see this operation}}
    %Sn = arith.mulf %S, %S : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @missing_outer_product(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the new state must add k_t v_t^T (plain) or beta_t k_t (v_t - S^T k_t)^T (delta) to the decayed state}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    // expected-note @+1 {{see this operation}}
    %Sn = arith.addf %S, %S : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// v k^T is not k v^T.
!qk = memref<2x16x4x8xf32>
func.func @swapped_outer_product(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{the new state must add k_t v_t^T (plain) or beta_t k_t (v_t - S^T k_t)^T (delta) to the decayed state}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %vk = linac.outer %vt, %kt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    // expected-note @+1 {{see this operation}}
    %Sn = arith.addf %S, %vk : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// The readout comes before the update (o_t = S_{t-1}^T q_t): not the
// canonical form. The culprit is a block argument, so there is no note.
!qk = memref<2x16x4x8xf32>
func.func @reads_old_state(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the output must read the new state (readout after the update)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %S, %kv : tensor<8x8xf32>
    %St = linac.transpose %S : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @reads_with_key(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the output must be read with the query q_t}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %S, %kv : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %kt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// S q instead of S^T q.
!qk = memref<2x16x4x8xf32>
func.func @readout_without_transpose(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the output is not a readout S^T q_t of the new state}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %S, %kv : tensor<8x8xf32>
    %r = linac.matvec %Sn, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    // expected-note @+1 {{see this operation}}
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @scale_applied_twice(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the output must be multiplied by the recurrence's scale exactly once}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %S, %kv : tensor<8x8xf32>
    %qs = linac.scale %qt, %scale : tensor<8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qs : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    // expected-note @+1 {{see this operation}}
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @scale_missing(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{the output must be multiplied by the recurrence's scale exactly once}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %Sn = arith.addf %S, %kv : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    // expected-note @+1 {{see this operation}}
    %ot = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

// A vector decay scales the rows of S by exp(g_t), not by g_t.
!qk = memref<2x16x4x8xf32>
func.func @vector_decay_not_exp(%q: !qk, %k: !qk, %v: !qk, %g: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{the old state must enter unchanged (S), decayed by a scalar exp(g_t) * S or per key channel exp(g_t)[:, None] * S}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : !qk) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: tensor<8xf32>, %S: tensor<8x8xf32>):
    // expected-note @+1 {{see this operation}}
    %Sd = linac.scale_rows %S, %gt : tensor<8x8xf32>, tensor<8xf32>
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

!qk = memref<2x16x4x8xf32>
func.func @delta_beta_twice(%q: !qk, %k: !qk, %v: !qk, %b: memref<2x16x4xf32>, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the delta-rule update must be scaled by beta_t exactly once}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) beta(%b : memref<2x16x4xf32>) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %bt: f32, %S: tensor<8x8xf32>):
    %ST = linac.transpose %S : tensor<8x8xf32> -> tensor<8x8xf32>
    %p = linac.matvec %ST, %kt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %e = arith.subf %vt, %p : tensor<8xf32>
    %be = linac.scale %e, %bt : tensor<8xf32>
    %bk = linac.scale %kt, %bt : tensor<8xf32>
    %u = linac.outer %bk, %be : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    // expected-note @+1 {{see this operation}}
    %Sn = arith.addf %S, %u : tensor<8x8xf32>
    %St = linac.transpose %Sn : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %St, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %ot = linac.scale %r, %scale : tensor<8xf32>
    linac.yield %Sn, %ot : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

