// linac.ssm's verifier checks that the groups G of b and c divide the heads H
// of x (G = 3 and H = 4 here).
// RUN: linac-opt %s -split-input-file -verify-diagnostics

func.func @groups_do_not_divide_heads(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x3x16xf32>, %c: memref<2x16x3x16xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error-re @+1 {{'linac.ssm' op {{.*(heads|groups|divide).*}}}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x3x16xf32>) c(%c : memref<2x16x3x16xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}
