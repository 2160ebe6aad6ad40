// RUN: linac-opt %s -split-input-file -verify-diagnostics

// The modifiers of linac.recurrence (householder, beta_sigmoid, normalize)
// against its operands, and the interleave of linac.chunk_loop.

!qk = memref<2x16x4x8xf32>
func.func @householder_zero(%q: !qk, %b: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op householder must be at least 1, got 0}}
  linac.recurrence q(%q : !qk) k(%q : !qk) v(%q : !qk) beta(%b : memref<2x16x4xf32>)
      output(%o : !qk) scale(%s) attributes {householder = 0 : i64, form = #linac.form<decay = none, update = delta>}
  return
}

// -----

// With householder = n, k, v and beta hold n sub-steps per token of q.
!qk = memref<2x16x4x8xf32>
!k2 = memref<2x32x4x8xf32>
func.func @householder_keys(%q: !qk, %v: !k2, %b: memref<2x32x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 1 of k (16) must be 2 sub-steps per token of q (16)}}
  linac.recurrence q(%q : !qk) k(%q : !qk) v(%v : !k2) beta(%b : memref<2x32x4xf32>)
      output(%o : !qk) scale(%s) attributes {householder = 2 : i64, form = #linac.form<decay = none, update = delta>}
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!k2 = memref<2x32x4x8xf32>
func.func @householder_values(%q: !qk, %k: !k2, %b: memref<2x32x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 1 of v (16) must be 2 sub-steps per token of q (16)}}
  linac.recurrence q(%q : !qk) k(%k : !k2) v(%q : !qk) beta(%b : memref<2x32x4xf32>)
      output(%o : !qk) scale(%s) attributes {householder = 2 : i64, form = #linac.form<decay = none, update = delta>}
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!k2 = memref<2x32x4x8xf32>
func.func @householder_beta(%q: !qk, %k: !k2, %b: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 1 of beta (16) must be 2 sub-steps per token of q (16)}}
  linac.recurrence q(%q : !qk) k(%k : !k2) v(%k : !k2) beta(%b : memref<2x16x4xf32>)
      output(%o : !qk) scale(%s) attributes {householder = 2 : i64, form = #linac.form<decay = none, update = delta>}
  return
}

// -----

// g and the output stay one per token.
!qk = memref<2x16x4x8xf32>
!k2 = memref<2x32x4x8xf32>
func.func @householder_gates(%q: !qk, %k: !k2, %g: memref<2x32x4xf32>, %b: memref<2x32x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 1 of g (32) does not match dimension 1 of q (16)}}
  linac.recurrence q(%q : !qk) k(%k : !k2) v(%k : !k2) g(%g : memref<2x32x4xf32>) beta(%b : memref<2x32x4xf32>)
      output(%o : !qk) scale(%s) attributes {householder = 2 : i64, form = #linac.form<decay = scalar, update = delta>}
  return
}

// -----

!qk = memref<2x32x4x8xf32>
func.func @householder_without_beta(%q: memref<2x16x4x8xf32>, %k: !qk, %o: memref<2x16x4x8xf32>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op householder products are delta-rule steps: they need a beta operand}}
  linac.recurrence q(%q : memref<2x16x4x8xf32>) k(%k : !qk) v(%k : !qk)
      output(%o : memref<2x16x4x8xf32>) scale(%s) attributes {householder = 2 : i64, form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @beta_sigmoid_without_beta(%q: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op beta_sigmoid needs a beta operand}}
  linac.recurrence q(%q : !qk) k(%q : !qk) v(%q : !qk)
      output(%o : !qk) scale(%s) attributes {beta_sigmoid = 1.0 : f32, form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @normalize_delta(%q: !qk, %b: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op normalize applies to plain updates only}}
  linac.recurrence q(%q : !qk) k(%q : !qk) v(%q : !qk) beta(%b : memref<2x16x4xf32>)
      output(%o : !qk) scale(%s) attributes {normalize, form = #linac.form<decay = none, update = delta>}
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @interleave_zero(%q: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op interleave must be at least 1, got 0}}
  linac.chunk_loop q(%q : !qk) k(%q : !qk) v(%q : !qk) output(%o : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, interleave = 0 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!vec = memref<?xf32, strided<[?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @interleave_keys(%q: !qk, %b: memref<2x48x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op dimension 1 of k (16) must be 3 sub-steps per token of q (16)}}
  linac.chunk_loop q(%q : !qk) k(%q : !qk) v(%q : !qk) beta(%b : memref<2x48x4xf32>) output(%o : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, interleave = 3 : i64, form = #linac.form<decay = none, update = delta>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %bc: !vec, %S: !state, %oc: !view):
  }
  return
}
