// RUN: linac-opt %s -split-input-file -verify-diagnostics

// Regressions: the verifiers compared the unsigned values of I64Attr getters
// with 1, so negative counts passed as huge ones (householder = -2 then met
// an unrelated out-of-bounds error deep in the pipeline; repeat = -1 lowered
// to a loop that wrote nothing).

!qk = memref<?x?x?x16xf32>
!b = memref<?x?x?xf32>
func.func @householder(%q: !qk, %k: !qk, %v: !qk, %beta: !b, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.recurrence' op householder must be at least 1, got -2}}
  linac.recurrence q(%q : !qk) k(%k : !qk) v(%v : !qk) beta(%beta : !b)
      output(%o : !qk) scale(%s) attributes {householder = -2 : i64, form = #linac.form<decay = none, update = delta>}
  return
}

// -----

func.func @repeat(%g: memref<?xf32>, %G: memref<?xf32>) {
  // expected-error @+1 {{'linac.chunk_cumsum' op repeat must be at least 1, got -1}}
  linac.chunk_cumsum ins(%g : memref<?xf32>) outs(%G : memref<?xf32>) {repeat = -1 : i64}
  return
}

// -----

func.func @query_stride(%q: memref<16x64xf16>, %k: memref<16x64xf16>, %P: memref<16x16xf32>) {
  // expected-error @+1 {{'linac.decayed_scores' op query_stride and interleave must be at least 1, got -1 and 1}}
  linac.decayed_scores ins(%q, %k : memref<16x64xf16>, memref<16x64xf16>) outs(%P : memref<16x16xf32>) {query_stride = -1 : i64}
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @chunk_size(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op chunk_size must be positive, got -16}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s)
      attributes {chunk_size = -16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view):
  }
  return
}

// -----

!qk = memref<2x16x4x8xf32>
!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!state = memref<8x8xf32, strided<[?, ?], offset: ?>>
func.func @interleave(%q: !qk, %k: !qk, %v: !qk, %o: !qk, %s: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op interleave must be at least 1, got -1}}
  linac.chunk_loop q(%q : !qk) k(%k : !qk) v(%v : !qk) output(%o : !qk) scale(%s)
      attributes {chunk_size = 16 : i64, interleave = -1 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !state, %oc: !view):
  }
  return
}
