// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=64 head-dim-v=32}), linac-to-cpu)' | FileCheck %s
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=64 head-dim-v=32}), linac-to-cpu)' | FileCheck %s --check-prefix=DONE
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=64 head-dim-v=32 dtype=bf16}), linac-to-cpu)' | FileCheck %s --check-prefix=BF16

// linac-to-cpu, every stage of the CPU pipeline after specialization: the
// step region reaches the LLVM dialect, the grid as an OpenMP parallel loop.

// CHECK:       module {
// CHECK-NOT:   func.func
// CHECK-LABEL: llvm.func @simple_gla(
// Memref descriptors are expanded: (allocated, aligned, offset, sizes..., strides...).
// CHECK-SAME:    %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: i64,
// The grid: one OpenMP work-sharing loop over (head, sequence).
// CHECK:         omp.parallel {
// CHECK:           omp.wsloop schedule(dynamic) {
// CHECK-NEXT:        omp.loop_nest (%{{.*}}, %{{.*}}) : i64 = (%{{.*}}, %{{.*}}) to (%{{.*}}, %{{.*}}) step (%{{.*}}, %{{.*}}) {
// Per grid point local buffers live on a stack frame that is released after
// each iteration.
// CHECK:             llvm.intr.stacksave : !llvm.ptr
// CHECK:             llvm.alloca %{{.*}} x f32
// The decays: exp of differences of chunk-local cumulative sums, as a
// polynomial (linac-approximate-math) so that the loops around it vectorize:
// range reduction, then 2^n from the exponent bits; no call to libm.
// CHECK-NOT:         llvm.intr.exp
// CHECK:             llvm.intr.floor
// CHECK:             llvm.shl
// CHECK-NEXT:        llvm.bitcast %{{.*}} : i32 to f32
// CHECK:             llvm.intr.stackrestore
// CHECK:             omp.yield

// No dialect above LLVM (and OpenMP) is left anywhere.
// DONE-NOT:    linac.
// DONE-NOT:    scf.
// DONE-NOT:    memref.
// DONE-NOT:    linalg.
// DONE-NOT:    arith.
// DONE-NOT:    math.
// DONE-NOT:    llvm.intr.exp
// DONE-NOT:    unrealized_conversion_cast

// bf16 inputs are read as bf16 and widened with integer operations (no bf16
// arithmetic reaches LLVM).
// BF16-LABEL: llvm.func @simple_gla(
// BF16:         %[[X:.*]] = llvm.load %{{.*}} : !llvm.ptr -> bf16
// BF16:         llvm.bitcast %[[X]] : bf16 to i16
// BF16-NOT:     llvm.fpext %{{.*}} : bf16
// BF16-NOT:     llvm.fmul %{{.*}} : bf16

!tokens = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!gates = memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
!states = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!offsets = memref<?xi64, strided<[?], offset: ?>>

func.func @simple_gla(%q: !tokens, %k: !tokens, %v: !tokens, %g: !gates,
                      %initial_state: !states, %output: !tokens,
                      %final_state: !states, %cu_seqlens: !offsets,
                      %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens) g(%g : !gates)
      initial_state(%initial_state : !states) output(%output : !tokens)
      final_state(%final_state : !states) cu_seqlens(%cu_seqlens : !offsets)
      scale(%scale) attributes {chunk_size = 64 : i64} {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>, %gt: f32,
       %S: tensor<?x?xf32>):
    %decay = math.exp %gt : f32
    %decayed = linac.scale %S, %decay : tensor<?x?xf32>
    %kv = linac.outer %kt, %vt : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    %next = arith.addf %decayed, %kv : tensor<?x?xf32>
    %nextT = linac.transpose %next : tensor<?x?xf32> -> tensor<?x?xf32>
    %read = linac.matvec %nextT, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %out = linac.scale %read, %scale : tensor<?xf32>
    linac.yield %next, %out : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}
