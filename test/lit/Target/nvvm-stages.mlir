// The NVPTX pipeline of codegen/Pipeline.cpp up to the NVVM dialect
// (specialize ... lower, gpu, nvvm), replayed with linac-opt.
//
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=64 head-dim-v=64 dtype=f16 chunk-size=32}), func.func(linac-recognize-recurrence), func.func(linac-chunk-recurrence), func.func(linac-tile-chunk-loop{block-v=16}, canonicalize, cse), func.func(linac-lower-chunk-ops, canonicalize), linac-map-to-gpu{chip=sm_90 features=+ptx80 block-size=128}, canonicalize, cse)' | FileCheck %s --check-prefix=GPU
// RUN: linac-opt %s --pass-pipeline='builtin.module(func.func(linac-specialize{head-dim-k=64 head-dim-v=64 dtype=f16 chunk-size=32}), func.func(linac-recognize-recurrence), func.func(linac-chunk-recurrence), func.func(linac-tile-chunk-loop{block-v=16}, canonicalize, cse), func.func(linac-lower-chunk-ops, canonicalize), linac-map-to-gpu{chip=sm_90 features=+ptx80 block-size=128}, canonicalize, cse, gpu.module(expand-strided-metadata, lower-affine, convert-scf-to-cf, convert-nvgpu-to-nvvm, convert-gpu-to-nvvm{index-bitwidth=64}, canonicalize, cse), reconcile-unrealized-casts)' | FileCheck %s --check-prefix=NVVM

// GPU:       module attributes {gpu.container_module} {
// GPU-NOT:   func.func
// GPU:         gpu.module @linac_kernels [#nvvm.target<chip = "sm_90", features = "+ptx80">] {
// GPU-LABEL:     gpu.func @simple_gla(
// The state [64, 16], the output tile [32, 16], the forward and reverse
// cumulative decays [32], the window sums and the scores [32, 32] and the
// decayed rows [32, 64] in workgroup memory, each row of a multiple of 32
// bytes 16 bytes longer (against bank conflicts).
// GPU-SAME:        workgroup(%{{[^ ]+}} : memref<64x20xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{[^ ]+}} : memref<32x20xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{[^ ]+}} : memref<32xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{[^ ]+}} : memref<32xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{[^ ]+}} : memref<32x36xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{[^ ]+}} : memref<32x36xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{[^ ]+}} : memref<32x68xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// GPU-SAME:        kernel attributes {known_block_size = array<i32: 128, 1, 1>, nvvm.minctasm = 1 : i32}
// GPU:           %[[TID:.*]] = gpu.thread_id x
// GPU:           %[[T0:.*]] = arith.cmpi eq, %[[TID]], %c0 : index
// GPU:           gpu.block_id x
// GPU:           gpu.block_id y
// GPU:           gpu.block_id z
// The chunk loop: the cumulative sum runs on thread 0, the linalg ops are
// spread over the threads with barriers in between.
// GPU:           scf.for
// GPU:             scf.if %[[T0]] {
// GPU-NEXT:          scf.for {{.*}} iter_args
// GPU:             gpu.barrier
// GPU:             scf.for %{{.*}} = %[[TID]] to %{{.*}} step %c128 {
// GPU:             math.exp
// GPU:             gpu.barrier
// GPU:             arith.truncf %{{.*}} : f32 to f16
// GPU:           gpu.return

// NVVM:      gpu.module @linac_kernels [#nvvm.target<chip = "sm_90", features = "+ptx80">] {
// NVVM-DAG:    llvm.mlir.global internal @__wg_simple_gla_0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<1280 x f32>
// NVVM-DAG:    llvm.mlir.global internal @__wg_simple_gla_6() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<2176 x f32>
// NVVM-LABEL:  llvm.func @simple_gla(
// NVVM-SAME:     attributes {gpu.kernel, gpu.known_block_size = array<i32: 128, 1, 1>, nvvm.kernel, nvvm.maxntid = array<i32: 128, 1, 1>, nvvm.minctasm = 1 : i32}
// NVVM:          nvvm.read.ptx.sreg.tid.x range <i32, 0, 128> : i32
// NVVM:          nvvm.read.ptx.sreg.ctaid.x : i32
// NVVM:          nvvm.read.ptx.sreg.ctaid.y : i32
// NVVM:          nvvm.read.ptx.sreg.ctaid.z : i32
// NVVM:          llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr<3>
// NVVM:          nvvm.barrier0
// NVVM:          llvm.fpext %{{.*}} : f16 to f32
// NVVM:          llvm.fptrunc %{{.*}} : f32 to f16
// NVVM-NOT:    gpu.barrier
// NVVM-NOT:    gpu.thread_id

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
      scale(%scale) {
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
