// RUN: linac-opt %s -split-input-file -verify-diagnostics

// Regressions in the verifier of linac.chunk_cumsum. It read dimension 0 of
// rank-0 memrefs (a segfault) before it checked their rank.

func.func @rank_0(%g: memref<f32>, %G: memref<f32>) {
  // expected-error @+1 {{'linac.chunk_cumsum' op gates and result must both be [C] or [C, K], got 'memref<f32>' and 'memref<f32>'}}
  linac.chunk_cumsum ins(%g : memref<f32>) outs(%G : memref<f32>)
  return
}

// -----

// Regression: rows * repeat overflowed (undefined behaviour).
func.func @repeat_overflow(%g: memref<16xf32>, %G: memref<16xf32>) {
  // expected-error @+1 {{'linac.chunk_cumsum' op result has 16 rows, expected 16 x repeat 4611686018427387904}}
  linac.chunk_cumsum ins(%g : memref<16xf32>) outs(%G : memref<16xf32>) {repeat = 4611686018427387904 : i64}
  return
}
