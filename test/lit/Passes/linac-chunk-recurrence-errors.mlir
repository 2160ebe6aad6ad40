// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-chunk-recurrence

// linac-chunk-recurrence needs a canonical form, and one step per token.

!qk = memref<2x16x4x8xf32>
func.func @not_recognized(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op must be recognized (linac-recognize-recurrence) before it is chunked}}
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

!q = memref<2x16x4x8xf32>
!k = memref<2x32x4x8xf32>
func.func @householder_product(%q: !q, %k: !k, %b: memref<2x32x4xf32>, %o: !q, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op has Householder products: run linac-interleave-householder first}}
  linac.recurrence q(%q : !q) k(%k : !k) v(%k : !k) beta(%b : memref<2x32x4xf32>) output(%o : !q) scale(%scale)
      attributes {householder = 2 : i64, form = #linac.form<decay = none, update = delta>}
  return
}
