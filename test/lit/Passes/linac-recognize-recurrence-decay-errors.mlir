// RUN: linac-opt %s -split-input-file -verify-diagnostics=only-expected -linac-recognize-recurrence

// A decay linac-recognize-recurrence rejects: the error says what the decay
// must be. (Where the note points is checked by
// linac-recognize-recurrence-decay-note.mlir.)

// The decay must be exp(g_t), not g_t itself.
!qk = memref<2x16x4x8xf32>
func.func @decay_not_exp(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4xf32>, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op step is not a linear recurrence linac can chunk: the old state must enter unchanged (S), decayed by a scalar exp(g_t) * S or per key channel exp(g_t)[:, None] * S}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4xf32>) output(%o : !qk) scale(%scale) {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %gt: f32, %S: tensor<8x8xf32>):
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


