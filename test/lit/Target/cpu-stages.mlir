// The CPU pipeline of codegen/Pipeline.cpp, stage by stage (specialize,
// recognize, chunk, tile, lower, llvm), replayed with linac-opt.
//
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=32 head-dim-v=32 dtype=f16 chunk-size=16}), func.func(linac-recognize-recurrence), func.func(linac-chunk-recurrence))' | FileCheck %s --check-prefix=CHUNK
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=32 head-dim-v=32 dtype=f16 chunk-size=16}), func.func(linac-recognize-recurrence), func.func(linac-chunk-recurrence), func.func(linac-tile-chunk-loop{block-v=0}, canonicalize, cse), func.func(linac-lower-chunk-ops, canonicalize))' > %t.lower.mlir
// RUN: FileCheck %s --check-prefix=LOWER < %t.lower.mlir
// RUN: linac-opt %t.lower.mlir --pass-pipeline='builtin.module(func.func(convert-linalg-to-loops), convert-scf-to-openmp, expand-strided-metadata, lower-affine, arith-expand{include-bf16=true}, convert-math-to-llvm, finalize-memref-to-llvm, convert-scf-to-cf, convert-arith-to-llvm, convert-index-to-llvm, convert-openmp-to-llvm, convert-func-to-llvm, convert-cf-to-llvm, reconcile-unrealized-casts, canonicalize, cse)' | FileCheck %s --check-prefix=LLVM

// CHUNK-LABEL: func.func @linear_attn(
// CHUNK-SAME:    memref<?x?x?x32xf16, strided<[?, ?, ?, ?], offset: ?>>
// CHUNK:       linac.chunk_loop
// CHUNK-SAME:    attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>, normalize}
// CHUNK:         linac.decayed_scores
// CHUNK:         linac.chunk_output
// CHUNK:         linac.chunk_state_update
// CHUNK:         linac.chunk_normalize

// LOWER-LABEL: func.func @linear_attn(
// LOWER-NOT:   linac.
// LOWER:       scf.parallel
// LOWER:         scf.for
// LOWER:           linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// LOWER:           arith.select
// LOWER:           scf.for
// LOWER:             arith.divf
// LOWER:           arith.truncf %{{.*}} : f32 to f16
// LOWER:       } {linac.grid = ["head", "sequence"]}
// LOWER-NOT:   linac.

// LLVM-LABEL: llvm.func @linear_attn(
// LLVM:         omp.parallel
// LLVM:         llvm.fdiv
// LLVM:         llvm.fptrunc %{{.*}} : f32 to f16
// LLVM-NOT:     scf.
// LLVM-NOT:     memref.

!tokens = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
func.func @linear_attn(%q: !tokens, %k: !tokens, %v: !tokens, %output: !tokens, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      output(%output : !tokens) scale(%scale) attributes {normalize} {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>, %S: tensor<?x?xf32>):
    %kv = linac.outer %kt, %vt : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    %next = arith.addf %S, %kv : tensor<?x?xf32>
    %nextT = linac.transpose %next : tensor<?x?xf32> -> tensor<?x?xf32>
    %read = linac.matvec %nextT, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %out = linac.scale %read, %scale : tensor<?xf32>
    linac.yield %next, %out : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}
