// RUN: linac-opt %s -split-input-file -verify-diagnostics

// Regression: a head size of 0 passed the verifier and linac-tile-chunk-loop
// then divided by it (SIGFPE) while splitting V into value tiles.

!tokens = memref<?x?x?x0xf32>
func.func @zero_head_size(%q: !tokens, %k: !tokens, %v: !tokens, %output: !tokens, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 3 of q (the head size) must not be 0}}
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      output(%output : !tokens) scale(%scale) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<?x?x?x16xf32>
!vo = memref<?x?x?x0xf32>
func.func @zero_value_size(%q: !qk, %k: !qk, %v: !vo, %output: !vo, %scale: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 3 of v (the head size) must not be 0}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !vo)
      output(%output : !vo) scale(%scale) attributes {form = #linac.form<decay = none, update = plain>}
  return
}
