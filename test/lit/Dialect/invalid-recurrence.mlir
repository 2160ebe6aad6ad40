// RUN: linac-opt %s -split-input-file -verify-diagnostics

// Operand checks of linac.recurrence: ranks, element types and the
// dimensions that must agree between q, k, v, output, g, beta and the states.

!qk = memref<2x16x4x64xf32>
func.func @q_rank(%q: memref<2x16x64xf32>, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op q must be [B, T, H, D], got 'memref<2x16x64xf32>'}}
  linac.recurrence q(%q : memref<2x16x64xf32>) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @k_rank(%q: !qk, %k: memref<2x16x4x64x1xf32>, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op k must be [B, T, H, D], got 'memref<2x16x4x64x1xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : memref<2x16x4x64x1xf32>) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @v_rank(%q: !qk, %k: !qk, %v: memref<64xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op v must be [B, T, H, D], got 'memref<64xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : memref<64xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @output_rank(%q: !qk, %k: !qk, %v: !qk, %o: memref<2x16x4xf32>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op output must be [B, T, H, D], got 'memref<2x16x4xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : memref<2x16x4xf32>) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf64>
func.func @q_element_type(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op q must have element type f16, bf16 or f32, got 'f64'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf16>
func.func @k_element_type(%q: !qk, %k: memref<2x16x4x64xbf16>, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op k must have element type 'f16', got 'bf16'}}
  linac.recurrence q(%q : !qk) k(%k : memref<2x16x4x64xbf16>) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf16>
func.func @v_element_type(%q: !qk, %k: !qk, %v: memref<2x16x4x64xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op v must have element type 'f16', got 'f32'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : memref<2x16x4x64xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xbf16>
func.func @output_element_type(%q: !qk, %k: !qk, %v: !qk, %o: memref<2x16x4x64xf32>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op output must have element type 'bf16', got 'f32'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : memref<2x16x4x64xf32>) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @batch_mismatch(%q: !qk, %k: memref<3x16x4x64xf32>, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 0 of q (2) does not match dimension 0 of k (3)}}
  linac.recurrence q(%q : !qk) k(%k : memref<3x16x4x64xf32>) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @time_mismatch(%q: !qk, %k: !qk, %v: memref<2x8x4x64xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 1 of v (8) must be 1 sub-steps per token of q (16)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : memref<2x8x4x64xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @output_time_mismatch(%q: !qk, %k: !qk, %v: !qk, %o: memref<2x8x4x64xf32>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 1 of q (16) does not match dimension 1 of output (8)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : memref<2x8x4x64xf32>) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

// Heads agree between v and output; q and k may have fewer (grouped heads).
!qk = memref<2x16x4x64xf32>
func.func @heads_mismatch(%q: !qk, %k: !qk, %v: !qk, %o: memref<2x16x8x64xf32>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 2 of v (4) does not match dimension 2 of output (8)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : memref<2x16x8x64xf32>) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @head_dim_k_mismatch(%q: !qk, %k: memref<2x16x4x32xf32>, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 3 of q (64) does not match dimension 3 of k (32)}}
  linac.recurrence q(%q : !qk) k(%k : memref<2x16x4x32xf32>) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

// V may differ from K, but v and output must agree on it.
!qk = memref<2x16x4x64xf32>
func.func @head_dim_v_mismatch(%q: !qk, %k: !qk, %v: memref<2x16x4x32xf32>, %o: memref<2x16x4x16xf32>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 3 of v (32) does not match dimension 3 of output (16)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : memref<2x16x4x32xf32>)
      output(%o : memref<2x16x4x16xf32>) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @g_rank(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op g must be [B, T, H] (scalar decay) or [B, T, H, K] (vector decay), got 'memref<2x16xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf16>
func.func @g_element_type(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4xf16>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op g must have element type 'f32', got 'f16'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4xf16>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @g_time_mismatch(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x15x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 1 of g (15) does not match dimension 1 of q (16)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x15x4xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @vector_g_head_dim_mismatch(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4x32xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 3 of g (32) does not match dimension 3 of q (64)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4x32xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = vector, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @beta_rank(%q: !qk, %k: !qk, %v: !qk, %b: memref<2x16x4x1xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op beta must be [B, T, H], got 'memref<2x16x4x1xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) beta(%b : memref<2x16x4x1xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = delta>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @beta_element_type(%q: !qk, %k: !qk, %v: !qk, %b: memref<2x16x4xbf16>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op beta must have element type 'f32', got 'bf16'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) beta(%b : memref<2x16x4xbf16>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = delta>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @beta_heads_mismatch(%q: !qk, %k: !qk, %v: !qk, %b: memref<2x16x2xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 2 of beta (2) does not match dimension 2 of v (4)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) beta(%b : memref<2x16x2xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = delta>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @initial_state_rank(%q: !qk, %k: !qk, %v: !qk, %s0: memref<4x64x64xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op initial_state must be [N, H, K, V], got 'memref<4x64x64xf32>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) initial_state(%s0 : memref<4x64x64xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

// States are float32 whatever the input type.
!qk = memref<2x16x4x64xf16>
func.func @final_state_element_type(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %sT: memref<2x4x64x64xf16>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op final_state must have element type 'f32', got 'f16'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) final_state(%sT : memref<2x4x64x64xf16>) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @state_heads_mismatch(%q: !qk, %k: !qk, %v: !qk, %s0: memref<2x8x64x64xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 1 of initial_state (8) does not match dimension 2 of v (4)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) initial_state(%s0 : memref<2x8x64x64xf32>)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @state_k_mismatch(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %sT: memref<2x4x32x64xf32>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 2 of final_state (32) does not match dimension 3 of q (64)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) final_state(%sT : memref<2x4x32x64xf32>) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @state_v_mismatch(%q: !qk, %k: !qk, %v: memref<2x16x4x32xf32>, %s0: memref<2x4x64x64xf32>, %o: memref<2x16x4x32xf32>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 3 of initial_state (64) does not match dimension 3 of v (32)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : memref<2x16x4x32xf32>) initial_state(%s0 : memref<2x4x64x64xf32>)
      output(%o : memref<2x16x4x32xf32>) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<1x16x4x64xf32>
func.func @cu_seqlens_rank(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %cu: memref<3x1xi64>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op cu_seqlens must be [N + 1], got 'memref<3x1xi64>'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) cu_seqlens(%cu : memref<3x1xi64>) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<1x16x4x64xf32>
func.func @cu_seqlens_type(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %cu: memref<3xi32>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op cu_seqlens must have element type 'i64', got 'i32'}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk)
      output(%o : !qk) cu_seqlens(%cu : memref<3xi32>) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

// Dynamic sizes are compatible with anything.
!qk = memref<?x?x?x?xf32>
func.func @dynamic_ok(%q: !qk, %k: memref<2x16x4x64xf32>, %v: !qk, %o: !qk, %s: f32) {
  linac.recurrence q(%q : !qk) k(%k : memref<2x16x4x64xf32>) v(%v : !qk)
      output(%o : !qk) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

// Grouped heads: q and k have the same heads, a divisor of v's.
!qk = memref<2x16x2x64xf32>
!vo = memref<2x16x4x64xf32>
func.func @grouped_q_k_heads(%q: !qk, %k: !vo, %v: !vo, %o: !vo, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 2 of q (2) does not match dimension 2 of k (4)}}
  linac.recurrence q(%q : !qk) k(%k : !vo) v(%v : !vo)
      output(%o : !vo) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
!vo = memref<2x16x6x64xf32>
func.func @grouped_heads_not_a_multiple(%q: !qk, %k: !qk, %v: !vo, %o: !vo, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op v has 6 heads, not a multiple of q's 4}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !vo)
      output(%o : !vo) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

!qk = memref<2x16x0x64xf32>
!vo = memref<2x16x4x64xf32>
func.func @grouped_heads_zero_query_heads(%q: !qk, %k: !qk, %v: !vo, %o: !vo, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op v has 4 heads, not a multiple of q's 0}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !vo)
      output(%o : !vo) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

// Decays, step sizes and states are per value head.
!qk = memref<2x16x2x64xf32>
!vo = memref<2x16x4x64xf32>
func.func @grouped_g_heads(%q: !qk, %k: !qk, %v: !vo, %g: memref<2x16x2xf32>, %o: !vo, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 2 of g (2) does not match dimension 2 of v (4)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !vo) g(%g : memref<2x16x2xf32>)
      output(%o : !vo) scale(%s) attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}

// -----

!qk = memref<2x16x2x64xf32>
!vo = memref<2x16x4x64xf32>
func.func @grouped_beta_heads(%q: !qk, %k: !qk, %v: !vo, %b: memref<2x16x2xf32>, %o: !vo, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 2 of beta (2) does not match dimension 2 of v (4)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !vo) beta(%b : memref<2x16x2xf32>)
      output(%o : !vo) scale(%s) attributes {form = #linac.form<decay = none, update = delta>}
  return
}

// -----

!qk = memref<2x16x2x64xf32>
!vo = memref<2x16x4x64xf32>
func.func @grouped_state_heads(%q: !qk, %k: !qk, %v: !vo, %o: !vo, %sT: memref<2x2x64x64xf32>, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op dimension 1 of final_state (2) does not match dimension 2 of v (4)}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !vo)
      output(%o : !vo) final_state(%sT : memref<2x2x64x64xf32>) scale(%s) attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

// Non-causal attention: every query reads the whole sequence's state, a plain
// sum of k v^T.
!qk = memref<2x16x4x64xf32>
func.func @noncausal_decay(%q: !qk, %k: !qk, %v: !qk, %g: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op non-causal attention has no decay and no step sizes}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) g(%g : memref<2x16x4xf32>)
      output(%o : !qk) scale(%s) attributes {mode = #linac<mode noncausal>, form = #linac.form<decay = scalar, update = plain>}
  return
}

// -----

!qk = memref<2x16x4x64xf32>
func.func @noncausal_beta(%q: !qk, %k: !qk, %v: !qk, %b: memref<2x16x4xf32>, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op non-causal attention has no decay and no step sizes}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) beta(%b : memref<2x16x4xf32>)
      output(%o : !qk) scale(%s) attributes {mode = #linac<mode noncausal>, form = #linac.form<decay = none, update = delta>}
  return
}
