// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=64 head-dim-v=64}), linac-to-nvvm)' | FileCheck %s

// linac-to-nvvm, every stage of the NVPTX pipeline: a gpu.binary whose
// object is the PTX of one kernel entry, with its workgroup buffers in
// shared memory and barriers between the stages of the chunked algorithm.

// CHECK:       module attributes {gpu.container_module} {
// CHECK-NOT:   func.func
// CHECK-NOT:   gpu.func
// CHECK:       gpu.binary @linac_kernels [#gpu.object<#nvvm.target<chip = "sm_90", features = "+ptx80">
// CHECK-SAME:    assembly = "
// CHECK-SAME:    .version 8.0\0A.target sm_90\0A.address_size 64
// CHECK-SAME:    .visible .entry linear_attn(
// CHECK-SAME:    .maxntid 128, 1, 1
// linac-to-nvvm tiles with chunks of 16 and value tiles of 16 (a tiling
// whose buffers fit in static shared memory whatever the decay): a state
// tile of 64 x 16 f32, an output tile of 16 x 16 f32, the chunk's staged q
// and k (16 x 64 f32) and v (16 x 16), two of each (the next chunk's copied
// during this one), and scores of 16 x 16 f32; each row 16 bytes longer
// against bank conflicts (64 x 20, 16 x 20, 2 x 16 x 68, 2 x 16 x 20).
// CHECK-SAME:    .shared .align 16 .b8 __wg_linear_attn_0[5120];
// CHECK-SAME:    .shared .align 16 .b8 __wg_linear_attn_1[1280];
// CHECK-SAME:    .shared .align 16 .b8 __wg_linear_attn_2[8704];
// CHECK-SAME:    .shared .align 16 .b8 __wg_linear_attn_3[8704];
// CHECK-SAME:    .shared .align 16 .b8 __wg_linear_attn_4[2560];
// CHECK-SAME:    .shared .align 16 .b8 __wg_linear_attn_5[1280];
// CHECK-SAME:    %tid.x;
// CHECK-SAME:    %ctaid.x;
// CHECK-SAME:    %ctaid.y;
// CHECK-SAME:    %ctaid.z;
// CHECK-SAME:    st.shared.b32
// CHECK-SAME:    bar.sync \090;
// CHECK-SAME:    ld.shared.b32
// CHECK-SAME:    st.global.b32
// CHECK-SAME:    ret;

!tokens = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!states = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!offsets = memref<?xi64, strided<[?], offset: ?>>

func.func @linear_attn(%q: !tokens, %k: !tokens, %v: !tokens,
                       %initial_state: !states, %output: !tokens,
                       %final_state: !states, %cu_seqlens: !offsets,
                       %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      initial_state(%initial_state : !states) output(%output : !tokens)
      final_state(%final_state : !states) cu_seqlens(%cu_seqlens : !offsets)
      scale(%scale) {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>,
       %S: tensor<?x?xf32>):
    %kv = linac.outer %kt, %vt : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    %next = arith.addf %S, %kv : tensor<?x?xf32>
    %nextT = linac.transpose %next : tensor<?x?xf32> -> tensor<?x?xf32>
    %read = linac.matvec %nextT, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %out = linac.scale %read, %scale : tensor<?xf32>
    linac.yield %next, %out : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}
