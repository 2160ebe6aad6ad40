// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-interleave-householder

// Householder products need a recognized delta-rule step.
!q = memref<2x16x4x8xf32>
!k = memref<2x32x4x8xf32>
func.func @not_recognized(%q: !q, %k: !k, %b: memref<2x32x4xf32>, %o: !q, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op Householder products need a recognized delta-rule step}}
  linac.recurrence q(%q : !q) k(%k : !k) v(%k : !k) beta(%b : memref<2x32x4xf32>) output(%o : !q) scale(%scale)
      attributes {householder = 2 : i64} {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %bt: f32, %S: tensor<8x8xf32>):
    linac.yield %S, %vt : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}
