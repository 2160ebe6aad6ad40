// The registered linac-to-nvvm pipeline tiles with chunks of 16 and value
// tiles of 16, so a decay's extra scratch buffers (the decayed rows [C, K],
// the window sums [C, C]) still fit in the 48 KiB of static shared memory for
// K = V = 64 (with the op's chunks of 64 and value tiles of 32 they took
// 66048 bytes and linac-map-to-gpu failed).
//
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=64 head-dim-v=64}), linac-to-nvvm)' | FileCheck %s

// CHECK: gpu.binary @linac_kernels
// CHECK-SAME: .visible .entry simple_gla(

!tokens = memref<?x?x?x?xf32>
!gates = memref<?x?x?xf32>
func.func @simple_gla(%q: !tokens, %k: !tokens, %v: !tokens, %g: !gates,
                      %output: !tokens, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens) g(%g : !gates)
      output(%output : !tokens) scale(%scale)
      attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}
