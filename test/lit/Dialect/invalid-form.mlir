// RUN: linac-opt %s -split-input-file -verify-diagnostics

// linac.recurrence: chunk size, step region xor canonical form, and the
// canonical form against the operands it needs.

!qk = memref<2x16x4x64xf32>
func.func @chunk_size_not_power_of_two(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op chunk_size must be a power of two in [1, 256], got 48}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {chunk_size = 48 : i64, form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @chunk_size_too_large(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op chunk_size must be a power of two in [1, 256], got 512}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {chunk_size = 512 : i64, form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @chunk_size_zero(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op chunk_size must be a power of two in [1, 256], got 0}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {chunk_size = 0 : i64, form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @chunk_size_negative(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op chunk_size must be a power of two in [1, 256], got -64}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {chunk_size = -64 : i64, form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @neither_step_nor_form(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op needs a step region or a canonical form}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s)
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @both_step_and_form(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op has both a step region and a canonical form}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s)
      attributes {form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qt: tensor<8xf32>, %kt: tensor<8xf32>, %vt: tensor<8xf32>, %S: tensor<8x8xf32>):
    %kv = linac.outer %kt, %vt : tensor<8xf32>, tensor<8xf32> -> tensor<8x8xf32>
    %n = arith.addf %S, %kv : tensor<8x8xf32>
    %t = linac.transpose %n : tensor<8x8xf32> -> tensor<8x8xf32>
    %r = linac.matvec %t, %qt : tensor<8x8xf32>, tensor<8xf32> -> tensor<8xf32>
    %o_t = linac.scale %r, %s : tensor<8xf32>
    linac.yield %n, %o_t : tensor<8x8xf32>, tensor<8xf32>
  }
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @decay_none_with_g(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op decay = none takes no g operand}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @decay_scalar_without_g(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op decay = scalar needs g of shape [B, T, H]}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @decay_scalar_with_vector_g(%q: !qk, %k: !qk, %v: !qk, %g: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op decay = scalar needs g of shape [B, T, H]}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : !qk)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @decay_vector_with_scalar_g(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op decay = vector needs g of shape [B, T, H, K]}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = vector, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @decay_vector_without_g(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op decay = vector needs g of shape [B, T, H, K]}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = vector, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @delta_without_beta(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op update = delta needs a beta operand}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = delta>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @plain_with_beta(%q: !qk, %k: !qk, %v: !qk, %b: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op update = plain takes no beta operand}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) beta(%b : memref<2x16x4xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

func.func @unknown_decay() attributes {
  // expected-error @+2 {{expected one of [none, scalar, vector] for how the state decays before each update, got: matrix}}
  // expected-error @+1 {{failed to parse Linac_RecurrenceFormAttr parameter 'decay'}}
  form = #linac.form<decay = matrix, update = plain>} {
  return
}

// -----

func.func @missing_update() attributes {
  // expected-error @+1 {{expected ','}}
  form = #linac.form<decay = none>} {
  return
}

// -----

func.func @unknown_mode() attributes {
  // expected-error @+2 {{expected ::mlir::linac::ExecutionMode to be one of: chunk, recurrent}}
  // expected-error @+1 {{failed to parse Linac_ExecutionModeAttr parameter 'value'}}
  mode = #linac<mode prefill>} {
  return
}

// -----

// Householder products are an attribute of linac.recurrence, not of the form.
func.func @householder_in_form() attributes {
  // expected-error @+1 {{expected '>'}}
  form = #linac.form<decay = none, update = delta, householder = 2>} {
  return
}
