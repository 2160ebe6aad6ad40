// linac.chunk_scan checks the queries' columns against the keys', and
// linac.ssm_output checks a per-channel skip [V] against x's columns.
// RUN: linac-opt %s -split-input-file -verify-diagnostics

func.func @scan_query_width(%q: memref<16x8xf32>, %k: memref<16x16xf32>, %v: memref<16x4xf32>, %g: memref<16xf32>, %S: memref<16x4xf32>, %o: memref<16x4xf32>) {
  // expected-error-re @+1 {{'linac.chunk_scan' op dimension 1 of queries (8) does not match dimension {{[01]}} of {{keys|state}} (16)}}
  linac.chunk_scan ins(%q, %k, %v, %g : memref<16x8xf32>, memref<16x16xf32>, memref<16x4xf32>, memref<16xf32>) outs(%S, %o : memref<16x4xf32>, memref<16x4xf32>)
  return
}

// -----

func.func @ssm_output_skip_width(%x: memref<16x8xf32>, %d: memref<5xf32>, %y: memref<16x8xf32>) {
  // expected-error-re @+1 {{'linac.ssm_output' op {{.*}}skip{{.*}}}}
  linac.ssm_output ins(%x : memref<16x8xf32>) skip(%d : memref<5xf32>) outs(%y : memref<16x8xf32>)
  return
}
