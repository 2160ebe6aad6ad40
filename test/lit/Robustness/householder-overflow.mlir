// RUN: linac-opt %s -verify-diagnostics

// Regression: checking the sub-steps of k, v and beta multiplied q's tokens
// by the Householder count and overflowed (undefined behaviour).

!qk = memref<2x16x4x64xf32>
!b = memref<2x16x4xf32>
func.func @householder_overflow(%q: !qk, %k: !qk, %v: !qk, %beta: !b, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 1 of k (16) must be 4611686018427387904 sub-steps per token of q (16)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) beta(%beta : !b)
      output(%o : !qk) scale(%s) attributes {householder = 4611686018427387904 : i64, form = #linac.form<decay = none, update = delta>}
  return
}
