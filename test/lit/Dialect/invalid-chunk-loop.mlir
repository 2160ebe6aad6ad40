// RUN: linac-opt %s -split-input-file -verify-diagnostics

// linac.chunk_loop: the operand and form checks it shares with
// linac.recurrence, and its body arguments.

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @body_argument_count(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op body takes 5 arguments, got 4}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @body_argument_count_gated(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op body takes 7 arguments, got 6}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4xf32>) output(%o : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = scalar, update = plain>, normalize} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %gc: memref<?xf32>, %S: !state, %oc: !view):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
func.func @body_argument_not_memref(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op body argument #3 must be a memref view, got 'tensor<8x8xf32>'}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: tensor<8x8xf32>, %oc: !view):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @chunk_size_zero(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op chunk_size must be positive, got 0}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s)
      attributes {chunk_size = 0 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @operands_checked(%q: !qk, %k: memref<2x16x4x4xf32>, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op dimension 3 of q (8) does not match dimension 3 of k (4)}}
  linac.chunk_loop q(%q : !qk) k(%k : memref<2x16x4x4xf32>) v(%v : !qk) output(%o : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @form_checked(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op decay = scalar needs g of shape [B, T, H]}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = scalar, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
func.func @missing_form(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op requires attribute 'form'}}
  "linac.chunk_loop"(%q, %k, %v, %o, %s) <{chunk_size = 16 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1>}> ({
  ^bb0:
    linac.yield
  }, {
  }) : (!qk, !qk, !qk, !qk, f32) -> ()
  return
}

// -----

// aux inputs: one layout each, from a fixed set, and one body argument each.
!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @aux_without_layout(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %a: memref<4xf32>, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op has 1 aux inputs but 0 aux_layouts}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) aux(%a : memref<4xf32>) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view, %ac: memref<1xf32>):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @layout_without_aux(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op has 0 aux inputs but 1 aux_layouts}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>, aux_layouts = ["head"]} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @aux_unknown_layout(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %a: memref<4xf32>, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op unknown aux layout 'sequence' (expected token, token_value, head or head_value)}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) aux(%a : memref<4xf32>) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>, aux_layouts = ["sequence"]} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view, %ac: memref<1xf32>):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @aux_body_argument_count(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %a: memref<4xf32>, %z: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op body takes 7 arguments, got 6}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) aux(%a, %z : memref<4xf32>, !qk) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>, aux_layouts = ["head", "token_value"]} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view, %ac: memref<1xf32>):
  }
  return
}

// -----

// The readout region (non-causal attention) takes the body's arguments.
!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @readout_argument_count(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op body takes 5 arguments, got 4}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view):
  } {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @readout_argument_not_memref(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op body argument #4 must be a memref view, got 'tensor<16x8xf32>'}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view):
  } {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: tensor<16x8xf32>):
  }
  return
}

// -----

// Grouped heads on a chunk loop: v has a multiple of q's heads.
!qk = memref<2x16x3x8xf32>
!vo = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @grouped_heads_not_a_multiple(%q: !qk, %k: !qk, %v: !vo, %o: !vo, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op v has 4 heads, not a multiple of q's 3}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !vo) output(%o : !vo) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view):
  }
  return
}
