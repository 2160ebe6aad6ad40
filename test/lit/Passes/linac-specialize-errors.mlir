// RUN: split-file %s %t
// RUN: linac-opt %t/dtype.mlir -verify-diagnostics --pass-pipeline='builtin.module(func.func(linac-specialize{dtype=f8}))'
// RUN: linac-opt %t/sizes.mlir -verify-diagnostics --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-v=-32}))'
// RUN: linac-opt %t/sizes.mlir -verify-diagnostics --pass-pipeline='builtin.module(func.func(linac-specialize{householder=-2}))'
// RUN: linac-opt %t/not-an-argument.mlir -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=8}))'

//--- dtype.mlir
// expected-error @+1 {{linac-specialize: unknown dtype 'f8' (expected f32, f16 or bf16)}}
func.func @unknown_dtype(%q: memref<?x?x?x?xf32>, %o: memref<?x?x?x?xf32>, %scale: f32) {
  linac.recurrence q(%q : memref<?x?x?x?xf32>) k(%q : memref<?x?x?x?xf32>)
      v(%q : memref<?x?x?x?xf32>) output(%o : memref<?x?x?x?xf32>) scale(%scale)
      attributes {form = #linac.form<decay = none, update = plain>}
  return
}

//--- sizes.mlir
// expected-error @+1 {{linac-specialize: sizes must be positive}}
func.func @negative_size(%q: memref<?x?x?x?xf32>, %o: memref<?x?x?x?xf32>, %scale: f32) {
  linac.recurrence q(%q : memref<?x?x?x?xf32>) k(%q : memref<?x?x?x?xf32>)
      v(%q : memref<?x?x?x?xf32>) output(%o : memref<?x?x?x?xf32>) scale(%scale)
      attributes {form = #linac.form<decay = none, update = plain>}
  return
}

//--- not-an-argument.mlir
// The pass rewrites argument types; a buffer made inside the function cannot
// be retyped.
func.func @local_output(%q: memref<2x16x4x?xf32>, %scale: f32) {
  %o = memref.alloc() : memref<2x16x4x8xf32>
  // expected-error @+1 {{'linac.recurrence' op linac-specialize: operand output must be an argument of the function}}
  linac.recurrence q(%q : memref<2x16x4x?xf32>) k(%q : memref<2x16x4x?xf32>)
      v(%q : memref<2x16x4x?xf32>) output(%o : memref<2x16x4x8xf32>) scale(%scale)
      attributes {form = #linac.form<decay = none, update = plain>}
  return
}

// -----

func.func @local_query(%k: memref<2x16x4x?xf32>, %scale: f32) {
  %q = memref.alloc() : memref<2x16x4x8xf32>
  // expected-error @+1 {{'linac.recurrence' op linac-specialize: operand q must be an argument of the function}}
  linac.recurrence q(%q : memref<2x16x4x8xf32>) k(%k : memref<2x16x4x?xf32>)
      v(%k : memref<2x16x4x?xf32>) output(%k : memref<2x16x4x?xf32>) scale(%scale)
      attributes {form = #linac.form<decay = none, update = plain>}
  return
}
