// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-tile-chunk-loop

// Tiling needs static head dimensions K and V: they size the local buffers.

!view = memref<?x?xf32, strided<[?, ?], offset: ?>>
func.func @dynamic_head_dim_k(%q: memref<?x?x?x?xf32>, %v: memref<?x?x?x8xf32>, %scale: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op head dimensions K and V must be static to tile (run linac-specialize first)}}
  linac.chunk_loop q(%q : memref<?x?x?x?xf32>) k(%q : memref<?x?x?x?xf32>)
      v(%v : memref<?x?x?x8xf32>) output(%v : memref<?x?x?x8xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !view, %oc: !view):
  }
  return
}

// -----

!view = memref<?x?xf32, strided<[?, ?], offset: ?>>
func.func @dynamic_head_dim_v(%q: memref<?x?x?x8xf32>, %v: memref<?x?x?x?xf32>, %scale: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op head dimensions K and V must be static to tile (run linac-specialize first)}}
  linac.chunk_loop q(%q : memref<?x?x?x8xf32>) k(%q : memref<?x?x?x8xf32>)
      v(%v : memref<?x?x?x?xf32>) output(%v : memref<?x?x?x?xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !view, %S: !view, %oc: !view):
  }
  return
}
