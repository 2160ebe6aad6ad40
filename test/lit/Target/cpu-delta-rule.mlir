// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=32 head-dim-v=32 qk-l2norm=true beta-sigmoid=2.0 householder=2}), linac-to-cpu)' | FileCheck %s
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=32 head-dim-v=32 qk-l2norm=true beta-sigmoid=2.0 householder=2}), linac-to-cpu)' | FileCheck %s --check-prefix=DONE

// The gated delta rule with two Householder steps per token, the in-kernel
// L2 norm of q and k and sigmoid step sizes, through every CPU stage to the
// LLVM dialect.

// CHECK-LABEL: llvm.func @gated_delta_product(
// CHECK:         omp.parallel {
// CHECK:           omp.wsloop schedule(dynamic) {
// The L2 norm: 1 / sqrt(x . x + 1e-6).
// CHECK:             llvm.intr.sqrt(%{{.*}}) : (f32) -> f32
// The sigmoid step sizes: 2 / (1 + exp(-beta)), exp as a polynomial
// (linac-approximate-math): range reduction, then 2^n from the exponent bits.
// CHECK:             llvm.fneg
// CHECK:             llvm.intr.floor
// CHECK:             llvm.shl
// CHECK-NEXT:        llvm.bitcast %{{.*}} : i32 to f32
// CHECK:             llvm.fdiv
// CHECK:             omp.yield

// DONE-NOT: linac.
// DONE-NOT: scf.
// DONE-NOT: memref.
// DONE-NOT: linalg.
// DONE-NOT: math.
// DONE-NOT: llvm.intr.exp

!tokens = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!scalars = memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
!states = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!offsets = memref<?xi64, strided<[?], offset: ?>>

func.func @gated_delta_product(%q: !tokens, %k: !tokens, %v: !tokens,
                               %g: !scalars, %beta: !scalars,
                               %initial_state: !states, %output: !tokens,
                               %final_state: !states, %cu_seqlens: !offsets,
                               %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      g(%g : !scalars) beta(%beta : !scalars)
      initial_state(%initial_state : !states) output(%output : !tokens)
      final_state(%final_state : !states) cu_seqlens(%cu_seqlens : !offsets)
      scale(%scale) {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>, %gt: f32,
       %bt: f32, %S: tensor<?x?xf32>):
    %decay = math.exp %gt : f32
    %decayed = linac.scale %S, %decay : tensor<?x?xf32>
    %decayedT = linac.transpose %decayed : tensor<?x?xf32> -> tensor<?x?xf32>
    %predicted = linac.matvec %decayedT, %kt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %error = arith.subf %vt, %predicted : tensor<?xf32>
    %step = linac.scale %error, %bt : tensor<?xf32>
    %update = linac.outer %kt, %step : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    %next = arith.addf %decayed, %update : tensor<?x?xf32>
    %nextT = linac.transpose %next : tensor<?x?xf32> -> tensor<?x?xf32>
    %read = linac.matvec %nextT, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %out = linac.scale %read, %scale : tensor<?xf32>
    linac.yield %next, %out : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}
