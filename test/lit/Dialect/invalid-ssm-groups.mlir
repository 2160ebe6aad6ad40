// XFAIL: *
// Known bug: linac.ssm's verifier does not check that the groups G of b and
// c divide the heads H of x (the op's description says "G groups dividing
// H"). With G = 3 and H = 4 the op verifies, and linac-chunk-ssm then builds
// a chunk loop that does not ("'linac.chunk_loop' op v has 4 heads, not a
// multiple of q's 3").
// RUN: linac-opt %s -split-input-file -verify-diagnostics

func.func @groups_do_not_divide_heads(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x3x16xf32>, %c: memref<2x16x3x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error-re @+1 {{'linac.ssm' op {{.*(heads|groups|divide).*}}}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x3x16xf32>) c(%c : memref<2x16x3x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}
