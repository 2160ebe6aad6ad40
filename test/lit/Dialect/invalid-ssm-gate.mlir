// linac.ssm's verifier checks z's rank and element type, not only its sizes.
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
