// RUN: linac-opt %s --linac-profile-phases | FileCheck %s

// Five phases: up to the first barrier (under a condition: maybe never); the loop's body up to its first
// barrier (from the second chunk on, with the tail of the chunk before); from
// there to the barrier of the inner loop (visited once per inner step); from
// there to the loop's last barrier; after the loop to the return. Each is
// labelled by the names in its operations' locations. Thread 0 reads the
// clock at the start, after each barrier and before the return, and adds the
// cycles since its last reading to the phase's row of the global.

// CHECK: memref.global @linac_profile_kernel : memref<5x2xi64, #gpu.address_space<global>> = dense<0> {alignment = 8 : i64}
// CHECK-LABEL: gpu.func @kernel
// CHECK-SAME: linac.profile_phases = ["load state [conditional]", "chunk loop: chunk_output [mma.sync]", "chunk loop, inner loop: ut_transform", "chunk loop: stage inputs, chunk_state_update", "end: store state"]
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK: %[[LEADER:.*]] = arith.cmpi eq, %[[TID]], %{{.*}}
// CHECK: %[[COUNTERS:.*]] = memref.get_global @linac_profile_kernel
// CHECK: %[[LAST:.*]] = memref.alloca() : memref<i64>
// CHECK: scf.if %[[LEADER]] {
// CHECK-NEXT: %[[T0:.*]] = nvvm.read.ptx.sreg.clock64 : i64
// CHECK-NEXT: memref.store %[[T0]], %[[LAST]][]
// CHECK: gpu.barrier {linac.profile_phase = 0 : i64}
// CHECK-NEXT: %[[ROW0:.*]] = arith.constant 0 : index
// CHECK-NEXT: scf.if %[[LEADER]] {
// CHECK-NEXT: %[[NOW:.*]] = nvvm.read.ptx.sreg.clock64 : i64
// CHECK-NEXT: %[[BEFORE:.*]] = memref.load %[[LAST]][]
// CHECK-NEXT: %[[CYCLES:.*]] = arith.subi %[[NOW]], %[[BEFORE]] : i64
// CHECK-NEXT: memref.atomic_rmw addi %[[CYCLES]], %[[COUNTERS]][%[[ROW0]], %{{.*}}]
// CHECK-NEXT: memref.atomic_rmw addi %{{.*}}, %[[COUNTERS]][%[[ROW0]], %{{.*}}]
// CHECK-NEXT: memref.store %[[NOW]], %[[LAST]][]
// CHECK: scf.for
// CHECK: gpu.barrier {linac.profile_phase = 1 : i64}
// CHECK: scf.for
// CHECK: gpu.barrier {linac.profile_phase = 2 : i64}
// CHECK: gpu.barrier {linac.profile_phase = 3 : i64}
// CHECK: }
// CHECK: %[[ROW4:.*]] = arith.constant 4 : index
// CHECK-NEXT: scf.if %[[LEADER]] {
// CHECK: memref.atomic_rmw addi %{{.*}}, %[[COUNTERS]][%[[ROW4]], %{{.*}}]
// CHECK: gpu.return

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @kernel(%buffer: memref<64xf32>, %n: index, %initial: i1) kernel {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %zero = arith.constant 0.0 : f32
      scf.if %initial {
        memref.store %zero, %buffer[%c0] : memref<64xf32> loc(#load_state)
        gpu.barrier
      }
      scf.for %i = %c0 to %n step %c1 {
        %a = arith.constant 0 : i32
        %c = arith.constant 0.0 : f32
        %d = nvvm.mma.sync A[%a, %a, %a, %a] B[%a, %a] C[%c, %c, %c, %c] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)> loc(#chunk_output)
        gpu.barrier
        scf.for %j = %c0 to %n step %c1 {
          memref.store %zero, %buffer[%j] : memref<64xf32> loc(#ut_transform)
          gpu.barrier
        }
        %x = memref.load %buffer[%i] : memref<64xf32> loc(#stage_inputs)
        memref.store %x, %buffer[%c1] : memref<64xf32> loc(#chunk_state_update)
        gpu.barrier
      }
      memref.store %zero, %buffer[%c1] : memref<64xf32> loc(#store_state)
      gpu.return
    }
  }
}

#loc = loc("input.mlir":1:1)
#load_state = loc("load state"(#loc))
#chunk_output = loc("chunk_output"(#loc))
#stage_inputs = loc("stage inputs"(#loc))
#ut_transform = loc("ut_transform"(#loc))
#chunk_state_update = loc("chunk_state_update"(#loc))
#store_state = loc("store state"(#loc))
