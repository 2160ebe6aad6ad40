// XFAIL: *
// Known bug: the registered linac-to-nvvm pipeline tiles with block-v = 32
// and the op's chunk size; with a decay the chunk body has more scratch
// buffers (the decayed rows [C, K], the window sums [C, C]), and for
// K = V = 64, C = 64 the block's buffers take 66048 bytes, over the 48 KiB
// of static shared memory, so linac-map-to-gpu fails. linac-compile retries
// smaller tilings; the registered pipeline should pick one that fits too.
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
