// A step that is not chunkable, through both back ends: the recognizer keeps
// it (allow-sequential), linac-sequential-recurrence tiles it, and the CPU
// and NVPTX stages take the result unchanged.
//
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=16 head-dim-v=8 dtype=bf16}), func.func(linac-recognize-recurrence{allow-sequential=true}), func.func(linac-interleave-householder, linac-chunk-recurrence), func.func(linac-sequential-recurrence, linac-tile-chunk-loop, canonicalize, cse), func.func(linac-lower-chunk-ops, canonicalize))' 2>%t.warnings > %t.lower.mlir
// RUN: FileCheck %s --check-prefix=WARN < %t.warnings
// RUN: FileCheck %s --check-prefix=LOWER < %t.lower.mlir
// RUN: linac-opt %t.lower.mlir --pass-pipeline='builtin.module(func.func(convert-linalg-to-loops), convert-scf-to-openmp, expand-strided-metadata, lower-affine, arith-expand{include-bf16=true}, convert-math-to-llvm, finalize-memref-to-llvm, convert-scf-to-cf, convert-arith-to-llvm, convert-index-to-llvm, convert-openmp-to-llvm, convert-func-to-llvm, convert-cf-to-llvm, reconcile-unrealized-casts, canonicalize, cse)' | FileCheck %s --check-prefix=LLVM
// RUN: linac-opt %t.lower.mlir --pass-pipeline='builtin.module(linac-map-to-gpu{chip=sm_90 features=+ptx80 block-size=128}, canonicalize, cse)' | FileCheck %s --check-prefix=GPU
// RUN: rm -rf %t.aot && linac-compile %s --function=squash --allow-sequential --target=sm_90 --head-dim-k=16 --head-dim-v=8 --no-cache -o %t.aot 2>&1 | FileCheck %s --check-prefix=AOT
// RUN: FileCheck %s --check-prefix=JSON < %t.aot/squash.json

// WARN: warning: step is not a linear recurrence linac can chunk: the old state must enter unchanged (S), decayed by a scalar exp(g_t) * S or per key channel exp(g_t)[:, None] * S; it runs one token at a time

// LOWER-LABEL: func.func @squash(
// LOWER-NOT:   linac.
// LOWER:       scf.parallel
// LOWER:         scf.for
// LOWER:           linalg.generic
// LOWER:             arith.mulf
// LOWER:       } {linac.grid = ["head", "sequence"]}

// LLVM-LABEL: llvm.func @squash(
// LLVM:         omp.parallel
// LLVM:         llvm.store %{{.*}}, %{{.*}} : bf16, !llvm.ptr
// LLVM-NOT:     scf.
// LLVM-NOT:     linalg.

// GPU:       gpu.module @linac_kernels
// GPU:         gpu.func @squash(
// GPU-SAME:      workgroup(
// GPU-SAME:      kernel
// GPU:           gpu.block_id y
// GPU:           gpu.block_id z
// GPU:           scf.for
// GPU:             gpu.barrier

// AOT: linac-compile: wrote {{.*}}squash.{json,h,ptx

// JSON: "form": "sequential"
// The reason points at the op that breaks the form: the linac.scale of S * S.
// JSON: "sequential_reason": "the old state must enter unchanged (S), decayed by a scalar exp(g_t) * S or per key channel exp(g_t)[:, None] * S (at {{.*}}sequential-recurrence.mlir:[[# @LINE + 14]]:{{[0-9]+}})"

// S' = S * S * 0.5 + k v^T: no transcendental functions, so the PTX needs no
// libdevice.
!tokens = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!states = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
func.func @squash(%q: !tokens, %k: !tokens, %v: !tokens, %initial_state: !states,
                  %output: !tokens, %final_state: !states, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      initial_state(%initial_state : !states) output(%output : !tokens)
      final_state(%final_state : !states) scale(%scale) {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>, %S: tensor<?x?xf32>):
    %half = arith.constant 0.5 : f32
    %sq = arith.mulf %S, %S : tensor<?x?xf32>
    %h = linac.scale %sq, %half : tensor<?x?xf32>
    %kv = linac.outer %kt, %vt : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    %next = arith.addf %h, %kv : tensor<?x?xf32>
    %nextT = linac.transpose %next : tensor<?x?xf32> -> tensor<?x?xf32>
    %read = linac.matvec %nextT, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %out = linac.scale %read, %scale : tensor<?xf32>
    linac.yield %next, %out : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}
