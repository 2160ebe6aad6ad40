// linac.chunk_loop's verifier checks that each aux input's rank fits its
// layout (token: [B, T, H'] or [B, T, H', D]; token_value: [B, T, H', V];
// head: [H'] or [H', D]; head_value: [H', V]).
// RUN: linac-opt %s -split-input-file -verify-diagnostics

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @token_layout_of_rank_one(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %a: memref<4xf32>, %s: f32) {
  // expected-error-re @+1 {{'linac.chunk_loop' op {{.*}}aux{{.*}}}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) aux(%a : memref<4xf32>) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>, aux_layouts = ["token"]} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view, %ac: memref<?xf32, strided<[?], offset: ?>>):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @head_layout_of_rank_four(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error-re @+1 {{'linac.chunk_loop' op {{.*}}aux{{.*}}}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) aux(%v : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>, aux_layouts = ["head"]} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view, %ac: memref<8xf32>):
  }
  return
}
