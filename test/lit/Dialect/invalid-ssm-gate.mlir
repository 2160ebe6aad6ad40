// XFAIL: *
// Known bug: linac.ssm's verifier checks z's sizes against x but neither its
// rank nor its element type. A z of rank 3 makes the verifier read a fourth
// dimension that does not exist (it prints a garbage size, or asserts); a z
// of i32 verifies, and linac-chunk-ssm then builds a linac.ssm_output that
// does not ("operand #2 must be 2D memref of floating-point values").
// RUN: linac-opt %s -split-input-file -verify-diagnostics

func.func @z_rank(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %z: memref<2x16x4xf32>, %output: memref<2x16x4x8xf32>) {
  // expected-error @+1 {{'linac.ssm' op z must be [B, T, H, P], got 'memref<2x16x4xf32>'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) z(%z : memref<2x16x4xf32>) output(%output : memref<2x16x4x8xf32>)
  return
}

// -----

func.func @z_element_type(%x: memref<2x16x4x8xf32>, %dt: memref<2x16x4xf32>, %a: memref<4xf32>, %b: memref<2x16x2x16xf32>, %c: memref<2x16x2x16xf32>, %z: memref<2x16x4x8xi32>, %output: memref<2x16x4x8xf32>) {
  // expected-error-re @+1 {{'linac.ssm' op z must have element type {{.*}}, got 'i32'}}
  linac.ssm x(%x : memref<2x16x4x8xf32>) dt(%dt : memref<2x16x4xf32>) a(%a : memref<4xf32>) b(%b : memref<2x16x2x16xf32>) c(%c : memref<2x16x2x16xf32>) z(%z : memref<2x16x4x8xi32>) output(%output : memref<2x16x4x8xf32>)
  return
}
