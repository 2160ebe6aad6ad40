// math.exp becomes libdevice's __nv_expf, and libdevice (found next to
// ptxas, with or without CUDA_HOME in the environment) is linked in: the PTX
// is self-contained, with no unresolved `.extern .func` that neither ptxas
// nor the driver JIT could link.
//
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=64 head-dim-v=64 chunk-size=32}), linac-to-nvvm)' | FileCheck %s

// CHECK:     gpu.binary @linac_kernels
// CHECK-NOT: __nv_expf
// CHECK-NOT: .extern .func
// CHECK:     ex2.approx

!tokens = memref<?x?x?x?xf32>
!gates = memref<?x?x?xf32>
func.func @simple_gla(%q: !tokens, %k: !tokens, %v: !tokens, %g: !gates,
                      %output: !tokens, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens) g(%g : !gates)
      output(%output : !tokens) scale(%scale)
      attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}
