// RUN: linac-opt %s -split-input-file -linac-map-to-gpu=block-size=64 -canonicalize -cse | FileCheck %s
// RUN: linac-opt %s -split-input-file -linac-map-to-gpu="chip=sm_80 features=+ptx76" | FileCheck %s --check-prefix=TARGET

// linac-map-to-gpu: each function with a linac grid becomes a gpu.func kernel
// (one block per grid point, known block size), local buffers become
// workgroup attributions, linalg ops become loops strided over the threads
// followed by a gpu.barrier, and other writes run on thread 0.

// TARGET:      module attributes {gpu.container_module}
// TARGET:      gpu.module @linac_kernels [#nvvm.target<chip = "sm_80", features = "+ptx76">]
// TARGET:      gpu.func @tiled(
// TARGET-SAME:   known_block_size = array<i32: 128, 1, 1>, nvvm.minctasm = 1 : i32

#id = affine_map<(d0, d1) -> (d0, d1)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK:       module attributes {gpu.container_module} {
// The host functions are gone: the runtime launches the kernels.
// CHECK-NOT:   func.func
// CHECK:       gpu.module @linac_kernels [#nvvm.target<chip = "sm_90", features = "+ptx80">] {

// CHECK-LABEL: gpu.func @tiled(
// CHECK-SAME:    %[[A:[^:]+]]: memref<?x?x16x16xf32>, %[[FLAG:[^:]+]]: memref<?xi64>, %[[OUT:[^:]+]]: memref<?x?x16x8xf32>)
// Rows of a multiple of 32 bytes take 16 more against shared-memory bank
// conflicts: 16 x 8 floats in 16 x 12, 16 x 16 in 16 x 20.
// CHECK-SAME:    workgroup(%[[BUFW:[^ ]+]] : memref<16x12xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[ACCW:[^ ]+]] : memref<16x20xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// One block per SM (nvvm.minctasm) keeps ptxas from capping registers.
// CHECK-SAME:    kernel attributes {known_block_size = array<i32: 64, 1, 1>, nvvm.minctasm = 1 : i32} {
// CHECK-NOT:     memref.alloca
// CHECK-NOT:     scf.parallel
// CHECK:         %[[TID:.*]] = gpu.thread_id x
// CHECK:         %[[T0:.*]] = arith.cmpi eq, %[[TID]], %c0 : index
// Value tiles on x, heads on y, sequences on z.
// CHECK:         %[[VT:.*]] = gpu.block_id x
// CHECK:         %[[HEAD:.*]] = gpu.block_id y
// CHECK:         %[[SEQ:.*]] = gpu.block_id z
// The kernel reads and writes them through views of their own shape.
// CHECK:         %[[BUF:.*]] = memref.subview %[[BUFW]][0, 0] [16, 8] [1, 1] : memref<16x12xf32, #gpu.address_space<workgroup>> to memref<16x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>>
// CHECK:         %[[ACC:.*]] = memref.subview %[[ACCW]][0, 0] [16, 16] [1, 1] : memref<16x20xf32, #gpu.address_space<workgroup>> to memref<16x16xf32, strided<[20, 1]>, #gpu.address_space<workgroup>>
// CHECK:         %[[V0:.*]] = arith.muli %[[VT]], %c8 : index
// CHECK:         %[[SRC:.*]] = memref.subview %[[A]][%[[SEQ]], %[[HEAD]], 0, %[[V0]]] [1, 1, 16, 8]
// Uniform control flow: the linalg ops inside an scf.if are distributed in
// each branch, each followed by a barrier. The copy from global memory runs
// as asynchronous 16-byte copies (cp.async) where the source's address is a
// multiple of 16 at run time (its static strides fold the other checks
// away), a uniform branch: 16 x 8 floats are 32 copies, one each for the
// first 32 threads, committed as one group and waited for before the barrier.
// CHECK:         scf.if %{{.*}} {
// CHECK:           %[[PTR:.*]] = memref.extract_aligned_pointer_as_index %[[SRC]]
// CHECK:           %[[ADDR:.*]] = arith.addi %[[PTR]], %{{.*}} : index
// CHECK-NEXT:      %[[MOD:.*]] = arith.remui %[[ADDR]], %c16 : index
// CHECK-NEXT:      %[[ALIGNED:.*]] = arith.cmpi eq, %[[MOD]], %c0 : index
// CHECK-NEXT:      scf.if %[[ALIGNED]] {
// CHECK-NEXT:        %[[UNIT:.*]] = memref.cast %[[SRC]] : memref<16x8xf32, strided<[16, 1], offset: ?>> to memref<16x8xf32, strided<[?, 1], offset: ?>>
// CHECK-NEXT:        %[[IN:.*]] = arith.cmpi ult, %[[TID]], %c32 : index
// CHECK-NEXT:        scf.if %[[IN]] {
// CHECK-NEXT:          %[[VROW:.*]] = arith.divui %[[TID]], %c2 : index
// CHECK-NEXT:          %[[VREM:.*]] = arith.remui %[[TID]], %c2 : index
// CHECK-NEXT:          %[[VCOL:.*]] = arith.muli %[[VREM]], %c4 : index
// CHECK-NEXT:          nvgpu.device_async_copy %[[UNIT]][%[[VROW]], %[[VCOL]]], %[[BUF]][%[[VROW]], %[[VCOL]]], 4 {bypassL1} : memref<16x8xf32, strided<[?, 1], offset: ?>> to memref<16x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>>
// CHECK-NEXT:        }
// CHECK-NEXT:        nvvm.cp.async.commit.group
// Element by element otherwise: 16 x 8 static elements on 64 threads are
// two per thread, elements tid and tid + 64: the loop is unrolled, here
// completely.
// CHECK-NEXT:      } else {
// CHECK-NEXT:        %[[COL:.*]] = arith.remui %[[TID]], %c8 : index
// CHECK-NEXT:        %[[ROW:.*]] = arith.divui %[[TID]], %c8 : index
// CHECK-NEXT:        %[[X:.*]] = memref.load %[[SRC]][%[[ROW]], %[[COL]]]
// CHECK-NEXT:        memref.store %[[X]], %[[BUF]][%[[ROW]], %[[COL]]] : memref<16x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>>
// CHECK-NEXT:        %[[I:.*]] = arith.addi %[[TID]], %c64 : index
// The outermost index needs no remainder: the elements stay below 16 x 8.
// CHECK-NEXT:        %[[COL2:.*]] = arith.remui %[[I]], %c8 : index
// CHECK-NEXT:        %[[ROW2:.*]] = arith.divui %[[I]], %c8 : index
// CHECK-NEXT:        %[[X2:.*]] = memref.load %[[SRC]][%[[ROW2]], %[[COL2]]]
// CHECK-NEXT:        memref.store %[[X2]], %[[BUF]][%[[ROW2]], %[[COL2]]]
// CHECK-NEXT:      }
// CHECK-NEXT:      nvvm.cp.async.wait.group 0
// CHECK-NEXT:      gpu.barrier
// CHECK-NEXT:    } else {
// CHECK:           memref.store %{{.*}}, %[[BUF]]
// CHECK:           memref.store %{{.*}}, %[[BUF]]
// CHECK-NEXT:      gpu.barrier
// CHECK-NEXT:    }
// A contraction: each thread owns output elements and reduces sequentially.
// CHECK-NEXT:    scf.for %[[I:.*]] = %[[TID]] to %c256 step %c64 {
// CHECK:           %[[INIT:.*]] = memref.load %[[ACC]]
// CHECK-NEXT:      %[[SUM:.*]] = scf.for %{{.*}} = %c0 to %c8 step %c1 iter_args(%{{.*}} = %[[INIT]]) -> (f32) {
// CHECK:           }
// CHECK-NEXT:      memref.store %[[SUM]], %[[ACC]]
// CHECK-NEXT:    }
// CHECK-NEXT:    gpu.barrier
// Other writes run on thread 0, then a barrier.
// CHECK-NEXT:    scf.if %[[T0]] {
// CHECK-NEXT:      memref.store %{{.*}}, %[[BUF]][%c0, %c0]
// CHECK-NEXT:    }
// CHECK-NEXT:    gpu.barrier
// CHECK-NOT:     scf.for
// CHECK:         memref.store %{{.*}}, %{{.*}} : memref<16x8xf32, strided<[8, 1], offset: ?>>
// CHECK:         memref.store %{{.*}}, %{{.*}} : memref<16x8xf32, strided<[8, 1], offset: ?>>
// CHECK-NEXT:    gpu.barrier
// CHECK-NEXT:    gpu.return
func.func @tiled(%a: memref<?x?x16x16xf32>, %flag: memref<?xi64>, %out: memref<?x?x16x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %n = memref.dim %a, %c0 : memref<?x?x16x16xf32>
  %h = memref.dim %a, %c1 : memref<?x?x16x16xf32>
  %nf = memref.dim %flag, %c0 : memref<?xi64>
  %has = arith.cmpi sgt, %nf, %c0 : index
  scf.parallel (%vt, %hd, %sq) = (%c0, %c0, %c0) to (%c2, %h, %n) step (%c1, %c1, %c1) {
    memref.alloca_scope {
      %buf = memref.alloca() : memref<16x8xf32>
      %acc = memref.alloca() : memref<16x16xf32>
      %v0 = arith.muli %vt, %c8 : index
      %src = memref.subview %a[%sq, %hd, 0, %v0] [1, 1, 16, 8] [1, 1, 1, 1] : memref<?x?x16x16xf32> to memref<16x8xf32, strided<[16, 1], offset: ?>>
      scf.if %has {
        linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
            ins(%src : memref<16x8xf32, strided<[16, 1], offset: ?>>) outs(%buf : memref<16x8xf32>) {
        ^bb0(%in: f32, %o: f32):
          linalg.yield %in : f32
        }
      } else {
        %z = arith.constant 0.0 : f32
        linalg.fill ins(%z : f32) outs(%buf : memref<16x8xf32>)
      }
      linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%buf, %buf : memref<16x8xf32>, memref<16x8xf32>) outs(%acc : memref<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %o, %p : f32
        linalg.yield %s : f32
      }
      %one = arith.constant 1.0 : f32
      memref.store %one, %buf[%c0, %c0] : memref<16x8xf32>
      %dst = memref.subview %out[%sq, %hd, 0, 0] [1, 1, 16, 8] [1, 1, 1, 1] : memref<?x?x16x8xf32> to memref<16x8xf32, strided<[8, 1], offset: ?>>
      linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%buf : memref<16x8xf32>) outs(%dst : memref<16x8xf32, strided<[8, 1], offset: ?>>) {
      ^bb0(%in: f32, %o: f32):
        linalg.yield %in : f32
      }
    }
    scf.reduce
  } {linac.grid = ["value_tile", "head", "sequence"]}
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// 32 x 16 static elements on 64 threads: 8 each, counted from 0 and unrolled
// by 4, so each thread has four loads in flight (element tid + 64 k). (Not a
// plain copy, which would take 16-byte vectors.)
// CHECK-LABEL: gpu.func @even_split(
// CHECK:         %[[TID:.*]] = gpu.thread_id x
// CHECK:         scf.for %[[K:.*]] = %c0 to %c8 step %c4 {
// CHECK-NEXT:      %[[STEP:.*]] = arith.muli %[[K]], %c64 : index
// CHECK-NEXT:      %[[I0:.*]] = arith.addi %[[TID]], %[[STEP]] : index
// CHECK:           memref.load
// CHECK:           memref.store
// CHECK:           memref.load
// CHECK:           memref.store
// CHECK:           memref.load
// CHECK:           memref.store
// CHECK:           memref.load
// CHECK:           memref.store
// CHECK-NEXT:    }
// CHECK-NEXT:    gpu.barrier
func.func @even_split(%a: memref<?x32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %a, %c0 : memref<?x32x16xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %buf = memref.alloca() : memref<32x16xf32>
    %src = memref.subview %a[%sq, 0, 0] [1, 32, 16] [1, 1, 1] : memref<?x32x16xf32> to memref<32x16xf32, strided<[16, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%src : memref<32x16xf32, strided<[16, 1], offset: ?>>) outs(%buf : memref<32x16xf32>) {
    ^bb0(%in: f32, %o: f32):
      %neg = arith.negf %in : f32
      linalg.yield %neg : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// A grid without a value-tile dimension: heads on y, sequences on z; views
// of a local buffer move to workgroup memory with it.
// CHECK:       gpu.module @linac_kernels
// CHECK-LABEL: gpu.func @untiled(
// CHECK-SAME:    workgroup(%[[BUFW:[^ ]+]] : memref<8x12xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-NOT:     gpu.block_id x
// CHECK:         %[[HEAD:.*]] = gpu.block_id y
// CHECK:         %[[SEQ:.*]] = gpu.block_id z
// CHECK:         %[[BUF:.*]] = memref.subview %[[BUFW]][0, 0] [8, 8] [1, 1] : memref<8x12xf32, #gpu.address_space<workgroup>> to memref<8x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>>
// CHECK:         memref.subview %[[BUF]][0, 0] [4, 8] [1, 1] : memref<8x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>> to memref<4x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>>
// CHECK:         memref.subview %{{.*}}[%[[SEQ]], %[[HEAD]], 0, 0]
func.func @untiled(%out: memref<?x?x4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x?x4x8xf32>
  %h = memref.dim %out, %c1 : memref<?x?x4x8xf32>
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    %buf = memref.alloca() : memref<8x8xf32>
    %half = memref.subview %buf[0, 0] [4, 8] [1, 1] : memref<8x8xf32> to memref<4x8xf32, strided<[8, 1]>>
    %dst = memref.subview %out[%sq, %hd, 0, 0] [1, 1, 4, 8] [1, 1, 1, 1] : memref<?x?x4x8xf32> to memref<4x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%half : memref<4x8xf32, strided<[8, 1]>>) outs(%dst : memref<4x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    }
    scf.reduce
  } {linac.grid = ["head", "sequence"]}
  return
}

// -----

// A chunk's rows are min(remaining, 16). The threads spread over the rows
// times 16 columns, skipping the columns beyond the rows, so the index math
// divides by constants; the outermost dimension keeps its own extent (the
// trip count), and a dimension of extent 1 takes index 0.
// CHECK-LABEL: gpu.func @bounded_rows(
// CHECK:         %[[ROWS:.*]] = arith.minsi %{{.*}}, %c16 : index
// CHECK:         %[[N:.*]] = arith.muli %[[ROWS]], %c16 : index
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %[[N]] step %c64 {
// CHECK-NEXT:      %[[COL:.*]] = arith.remui %[[I]], %c16 : index
// CHECK-NEXT:      %[[ROW:.*]] = arith.divui %[[I]], %c16 : index
// CHECK-NEXT:      %[[IN:.*]] = arith.cmpi slt, %[[COL]], %[[ROWS]] : index
// CHECK-NEXT:      scf.if %[[IN]] {
// CHECK-NEXT:        memref.store %{{.*}}, %{{.*}}[%[[ROW]], %[[COL]]]
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    gpu.barrier
// One row: no division at all.
// CHECK:         scf.for %[[J:.*]] = %{{.*}} to %[[ROWS]] step %c64 {
// CHECK-NEXT:      memref.store %{{.*}}, %{{.*}}[%c0, %[[J]]]
// CHECK-NEXT:    }
// A contraction keeps its indexing, the outermost remainder included (its
// reduction outweighs the division; the remainder bounds the index for LLVM).
// CHECK:         %[[NN:.*]] = arith.muli %[[ROWS]], %[[ROWS]] : index
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %[[NN]] step %c64 {
// CHECK-NEXT:      %[[COL:.*]] = arith.remui %[[I]], %[[ROWS]] : index
// CHECK-NEXT:      %[[R:.*]] = arith.divui %[[I]], %[[ROWS]] : index
// CHECK-NEXT:      %[[ROW:.*]] = arith.remui %[[R]], %[[ROWS]] : index
// CHECK-NOT:       scf.if
// CHECK:           memref.load %{{.*}}[%[[ROW]], %[[COL]]]
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @bounded_rows(%a: memref<?x?x16x16xf32>, %remaining: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %a, %c0 : memref<?x?x16x16xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %scores = memref.alloca() : memref<16x16xf32>
    %product = memref.alloca() : memref<16x16xf32>
    %rows = arith.minsi %remaining, %c16 : index
    %s = memref.subview %scores[0, 0] [%rows, %rows] [1, 1] : memref<16x16xf32> to memref<?x?xf32, strided<[16, 1]>>
    linalg.fill ins(%zero : f32) outs(%s : memref<?x?xf32, strided<[16, 1]>>)
    %row = memref.subview %scores[0, 0] [1, %rows] [1, 1] : memref<16x16xf32> to memref<1x?xf32, strided<[16, 1]>>
    linalg.fill ins(%zero : f32) outs(%row : memref<1x?xf32, strided<[16, 1]>>)
    %p = memref.subview %product[0, 0] [%rows, %rows] [1, 1] : memref<16x16xf32> to memref<?x?xf32, strided<[16, 1]>>
    linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%s, %s : memref<?x?xf32, strided<[16, 1]>>, memref<?x?xf32, strided<[16, 1]>>)
        outs(%p : memref<?x?xf32, strided<[16, 1]>>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %m = arith.mulf %x, %y : f32
      %sum = arith.addf %o, %m : f32
      linalg.yield %sum : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

// A chunk's inputs staged into shared memory in their own type (a copy of
// min(remaining, 16) rows of 64 bf16, global to shared), as asynchronous
// 16-byte copies where the source's address allows it: two a thread, rows
// past the chunk's end read from its last row with no bytes (zero-filled),
// one commit; element by element otherwise. No barrier between two such
// copies (they read global memory and write distinct buffers); one wait for
// the copies and one barrier after the last.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: gpu.func @staged_inputs(
// CHECK-SAME:    workgroup(%[[BQ:[^ ]+]] : memref<16x72xbf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[BK:[^ ]+]] : memref<16x72xbf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK:         %[[TID:.*]] = gpu.thread_id x
// CHECK:         %[[BQV:.*]] = memref.subview %[[BQ]][0, 0] [16, 64] [1, 1] : memref<16x72xbf16, #gpu.address_space<workgroup>> to memref<16x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>
// CHECK:         %[[ROWS:.*]] = arith.minsi %{{.*}}, %c16 : index
// CHECK:         %[[SQ:.*]] = memref.subview %{{.*}} : memref<?x?x64xbf16> to memref<?x64xbf16, strided<[64, 1], offset: ?>>
// CHECK:         %[[LQ:.*]] = memref.subview %[[BQV]]
// CHECK:         %[[BASE:[^,]*]], %[[OFFSET:[^,]*]], %{{.*}} = memref.extract_strided_metadata %[[SQ]]
// CHECK:         %[[PTR:.*]] = memref.extract_aligned_pointer_as_index %[[SQ]]
// CHECK:         %[[BYTES:.*]] = arith.muli %[[OFFSET]], %c2 : index
// CHECK-NEXT:    %[[ADDR:.*]] = arith.addi %[[PTR]], %[[BYTES]] : index
// CHECK-NEXT:    %[[MOD:.*]] = arith.remui %[[ADDR]], %c16 : index
// CHECK-NEXT:    %[[ALIGNED:.*]] = arith.cmpi eq, %[[MOD]], %c0 : index
// CHECK-NEXT:    scf.if %[[ALIGNED]] {
// CHECK-NEXT:      %[[UNIT:.*]] = memref.cast %[[SQ]]
// CHECK-NEXT:      %[[LAST:.*]] = arith.subi %[[ROWS]], %c1 : index
// CHECK-NEXT:      %[[ROW0:.*]] = arith.divui %[[TID]], %c8 : index
// CHECK-NEXT:      %[[REM0:.*]] = arith.remui %[[TID]], %c8 : index
// CHECK-NEXT:      %[[COL0:.*]] = arith.muli %[[REM0]], %c8 : index
// CHECK-NEXT:      %[[CLAMPED0:.*]] = arith.minui %[[ROW0]], %[[LAST]] : index
// CHECK-NEXT:      %[[IN0:.*]] = arith.cmpi ult, %[[ROW0]], %[[ROWS]] : index
// CHECK-NEXT:      %[[READ0:.*]] = arith.select %[[IN0]], %c8, %c0 : index
// CHECK-NEXT:      nvgpu.device_async_copy %[[UNIT]][%[[CLAMPED0]], %[[COL0]]], %[[LQ]][%[[ROW0]], %[[COL0]]], 8, %[[READ0]] {bypassL1} : memref<?x64xbf16, strided<[?, 1], offset: ?>> to memref<?x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>
// CHECK:           nvgpu.device_async_copy
// CHECK-NEXT:      nvvm.cp.async.commit.group
// CHECK-NEXT:    } else {
// CHECK-NEXT:      %[[TOTAL:.*]] = arith.muli %[[ROWS]], %c64 : index
// CHECK-NEXT:      scf.for %{{.*}} = %[[TID]] to %[[TOTAL]] step %c64 {
// CHECK:             memref.load %[[SQ]]
// CHECK-NEXT:        memref.store %{{.*}}, %[[LQ]]
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NOT:     gpu.barrier
// CHECK:         memref.extract_aligned_pointer_as_index
// CHECK-NOT:     gpu.barrier
// CHECK-COUNT-2: nvgpu.device_async_copy %{{.*}} : memref<?x64xbf16, strided<[?, 1], offset: ?>> to memref<?x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>
// CHECK-NOT:     gpu.barrier
// CHECK:         nvvm.cp.async.wait.group 0
// CHECK-NEXT:    gpu.barrier
// The sum of the two reads shared memory after the barrier.
// CHECK:         memref.load %{{.*}} : memref<?x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>
// CHECK:         memref.load %{{.*}} : memref<?x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>>
func.func @staged_inputs(%q: memref<?x?x64xbf16>, %k: memref<?x?x64xbf16>,
                         %out: memref<?x?x64xbf16>, %remaining: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %h = memref.dim %q, %c0 : memref<?x?x64xbf16>
  scf.parallel (%hd) = (%c0) to (%h) step (%c1) {
    %bq = memref.alloca() : memref<16x64xbf16>
    %bk = memref.alloca() : memref<16x64xbf16>
    %rows = arith.minsi %remaining, %c16 : index
    %sq = memref.subview %q[%hd, 0, 0] [1, %rows, 64] [1, 1, 1] : memref<?x?x64xbf16> to memref<?x64xbf16, strided<[64, 1], offset: ?>>
    %lq = memref.subview %bq[0, 0] [%rows, 64] [1, 1] : memref<16x64xbf16> to memref<?x64xbf16, strided<[64, 1]>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%sq : memref<?x64xbf16, strided<[64, 1], offset: ?>>) outs(%lq : memref<?x64xbf16, strided<[64, 1]>>) {
    ^bb0(%in: bf16, %o: bf16):
      linalg.yield %in : bf16
    }
    %sk = memref.subview %k[%hd, 0, 0] [1, %rows, 64] [1, 1, 1] : memref<?x?x64xbf16> to memref<?x64xbf16, strided<[64, 1], offset: ?>>
    %lk = memref.subview %bk[0, 0] [%rows, 64] [1, 1] : memref<16x64xbf16> to memref<?x64xbf16, strided<[64, 1]>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%sk : memref<?x64xbf16, strided<[64, 1], offset: ?>>) outs(%lk : memref<?x64xbf16, strided<[64, 1]>>) {
    ^bb0(%in: bf16, %o: bf16):
      linalg.yield %in : bf16
    }
    %so = memref.subview %out[%hd, 0, 0] [1, %rows, 64] [1, 1, 1] : memref<?x?x64xbf16> to memref<?x64xbf16, strided<[64, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%lq, %lk : memref<?x64xbf16, strided<[64, 1]>>, memref<?x64xbf16, strided<[64, 1]>>)
        outs(%so : memref<?x64xbf16, strided<[64, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: bf16):
      %sum = arith.addf %x, %y : bf16
      linalg.yield %sum : bf16
    }
    scf.reduce
  } {linac.grid = ["head"]}
  return
}

// -----

// A chunk's inputs staged into shared memory in their own type (a copy of
// min(remaining, 16) rows, global to shared) whose rows (63 bf16) cannot be
// cut into vectors: element by element, each thread issues all its
// loads first, rows clamped to the chunk's last instead of guarded, then
// the stores of rows inside the chunk; no barrier between two such copies
// (they read global memory and write distinct buffers), one after the last.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: gpu.func @staged_inputs_odd_rows(
// CHECK-SAME:    workgroup(%[[BQ:[^ ]+]] : memref<16x63xbf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[BK:[^ ]+]] : memref<16x63xbf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK:         %[[TID:.*]] = gpu.thread_id x
// CHECK:         %[[ROWS:.*]] = arith.minsi %{{.*}}, %c16 : index
// CHECK:         %[[LAST:.*]] = arith.subi %[[ROWS]], %c1 : index
// CHECK:         %[[ROW0:.*]] = arith.divui %[[TID]], %c63 : index
// CHECK:         %[[CLAMPED0:.*]] = arith.minui %[[ROW0]], %[[LAST]] : index
// CHECK:         %[[X0:.*]] = memref.load %{{.*}}[%[[CLAMPED0]], %{{.*}}] : memref<?x63xbf16,
// CHECK-COUNT-15: memref.load %{{.*}} : memref<?x63xbf16, strided<[63, 1], offset: ?>>
// CHECK-NOT:     gpu.barrier
// CHECK:         %[[INSIDE0:.*]] = arith.cmpi ult, %[[ROW0]], %[[ROWS]] : index
// CHECK-NEXT:    scf.if %[[INSIDE0]] {
// CHECK-NEXT:      memref.store %[[X0]], %{{.*}}[%[[ROW0]], %{{.*}}] : memref<?x63xbf16, strided<[63, 1]>, #gpu.address_space<workgroup>>
// CHECK-NOT:     gpu.barrier
// CHECK-COUNT-16: memref.load %{{.*}} : memref<?x63xbf16, strided<[63, 1], offset: ?>>
// CHECK-NOT:     gpu.barrier
// CHECK:         memref.store %{{.*}} : memref<?x63xbf16, strided<[63, 1]>, #gpu.address_space<workgroup>>
// CHECK:         gpu.barrier
// The sum of the two reads shared memory after the barrier.
// CHECK:         memref.load %{{.*}} : memref<?x63xbf16, strided<[63, 1]>, #gpu.address_space<workgroup>>
// CHECK:         memref.load %{{.*}} : memref<?x63xbf16, strided<[63, 1]>, #gpu.address_space<workgroup>>
func.func @staged_inputs_odd_rows(%q: memref<?x?x63xbf16>, %k: memref<?x?x63xbf16>,
                         %out: memref<?x?x63xbf16>, %remaining: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %h = memref.dim %q, %c0 : memref<?x?x63xbf16>
  scf.parallel (%hd) = (%c0) to (%h) step (%c1) {
    %bq = memref.alloca() : memref<16x63xbf16>
    %bk = memref.alloca() : memref<16x63xbf16>
    %rows = arith.minsi %remaining, %c16 : index
    %sq = memref.subview %q[%hd, 0, 0] [1, %rows, 63] [1, 1, 1] : memref<?x?x63xbf16> to memref<?x63xbf16, strided<[63, 1], offset: ?>>
    %lq = memref.subview %bq[0, 0] [%rows, 63] [1, 1] : memref<16x63xbf16> to memref<?x63xbf16, strided<[63, 1]>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%sq : memref<?x63xbf16, strided<[63, 1], offset: ?>>) outs(%lq : memref<?x63xbf16, strided<[63, 1]>>) {
    ^bb0(%in: bf16, %o: bf16):
      linalg.yield %in : bf16
    }
    %sk = memref.subview %k[%hd, 0, 0] [1, %rows, 63] [1, 1, 1] : memref<?x?x63xbf16> to memref<?x63xbf16, strided<[63, 1], offset: ?>>
    %lk = memref.subview %bk[0, 0] [%rows, 63] [1, 1] : memref<16x63xbf16> to memref<?x63xbf16, strided<[63, 1]>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%sk : memref<?x63xbf16, strided<[63, 1], offset: ?>>) outs(%lk : memref<?x63xbf16, strided<[63, 1]>>) {
    ^bb0(%in: bf16, %o: bf16):
      linalg.yield %in : bf16
    }
    %so = memref.subview %out[%hd, 0, 0] [1, %rows, 63] [1, 1, 1] : memref<?x?x63xbf16> to memref<?x63xbf16, strided<[63, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%lq, %lk : memref<?x63xbf16, strided<[63, 1]>>, memref<?x63xbf16, strided<[63, 1]>>)
        outs(%so : memref<?x63xbf16, strided<[63, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: bf16):
      %sum = arith.addf %x, %y : bf16
      linalg.yield %sum : bf16
    }
    scf.reduce
  } {linac.grid = ["head"]}
  return
}

// -----

// Buffers beyond the 48 KiB of static shared memory (here 64 KiB, 66 KiB
// with the padded rows) become views of the kernel's dynamic shared memory,
// at offsets that keep each 16-byte aligned; the kernel records the bytes
// the launch must give it.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: gpu.func @dynamic_shared_memory(
// CHECK-NOT:     workgroup(
// CHECK-SAME:    kernel attributes {{{.*}}linac.dynamic_shared_bytes = 67600 : i64
// CHECK:         %[[DYNAMIC:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK-DAG:     memref.view %[[DYNAMIC]][%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128x132xf32, #gpu.address_space<workgroup>>
// CHECK-DAG:     memref.view %[[DYNAMIC]][%c67584][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<3xf32, #gpu.address_space<workgroup>>
// TARGET-LABEL: gpu.func @dynamic_shared_memory(
// TARGET:        gpu.dynamic_shared_memory
func.func @dynamic_shared_memory(%out: memref<?x128x128xf32>, %small: memref<?x3xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x128x128xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %buf = memref.alloca() : memref<128x128xf32>
    %few = memref.alloca() : memref<3xf32>
    %dst = memref.subview %out[%sq, 0, 0] [1, 128, 128] [1, 1, 1] : memref<?x128x128xf32> to memref<128x128xf32, strided<[128, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%buf : memref<128x128xf32>) outs(%dst : memref<128x128xf32, strided<[128, 1], offset: ?>>) {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    }
    %d = memref.subview %small[%sq, 0] [1, 3] [1, 1] : memref<?x3xf32> to memref<3xf32, strided<[1], offset: ?>>
    memref.copy %few, %d : memref<3xf32> to memref<3xf32, strided<[1], offset: ?>>
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

// A chain of copies that ends with one element by element (a chunk's gates,
// one value a row): the wait for the asynchronous copies before it still
// comes before the barrier after the last.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0) -> (d0)>
#rowOf = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: gpu.func @async_then_element_copy(
// CHECK:         nvgpu.device_async_copy
// CHECK:         nvvm.cp.async.commit.group
// CHECK-NOT:     gpu.barrier
// CHECK-NOT:     nvvm.cp.async.wait.group
// CHECK:         memref.load %{{.*}} : memref<?xf32, strided<[1], offset: ?>>
// CHECK:         memref.store %{{.*}} : memref<?xf32, strided<[1]>, #gpu.address_space<workgroup>>
// CHECK-NOT:     gpu.barrier
// CHECK:         nvvm.cp.async.wait.group 0
// CHECK-NEXT:    gpu.barrier
func.func @async_then_element_copy(%q: memref<?x?x64xbf16>, %g: memref<?x?xf32>,
                                   %out: memref<?x?x64xf32>, %remaining: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %h = memref.dim %q, %c0 : memref<?x?x64xbf16>
  scf.parallel (%hd) = (%c0) to (%h) step (%c1) {
    %bq = memref.alloca() : memref<16x64xbf16>
    %bg = memref.alloca() : memref<16xf32>
    %rows = arith.minsi %remaining, %c16 : index
    %sq = memref.subview %q[%hd, 0, 0] [1, %rows, 64] [1, 1, 1] : memref<?x?x64xbf16> to memref<?x64xbf16, strided<[64, 1], offset: ?>>
    %lq = memref.subview %bq[0, 0] [%rows, 64] [1, 1] : memref<16x64xbf16> to memref<?x64xbf16, strided<[64, 1]>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%sq : memref<?x64xbf16, strided<[64, 1], offset: ?>>) outs(%lq : memref<?x64xbf16, strided<[64, 1]>>) {
    ^bb0(%in: bf16, %o: bf16):
      linalg.yield %in : bf16
    }
    %sg = memref.subview %g[%hd, 0] [1, %rows] [1, 1] : memref<?x?xf32> to memref<?xf32, strided<[1], offset: ?>>
    %lg = memref.subview %bg[0] [%rows] [1] : memref<16xf32> to memref<?xf32, strided<[1]>>
    linalg.generic {indexing_maps = [#row, #row], iterator_types = ["parallel"]}
        ins(%sg : memref<?xf32, strided<[1], offset: ?>>) outs(%lg : memref<?xf32, strided<[1]>>) {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    }
    %so = memref.subview %out[%hd, 0, 0] [1, %rows, 64] [1, 1, 1] : memref<?x?x64xf32> to memref<?x64xf32, strided<[64, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #rowOf, #id], iterator_types = ["parallel", "parallel"]}
        ins(%lq, %lg : memref<?x64xbf16, strided<[64, 1]>>, memref<?xf32, strided<[1]>>)
        outs(%so : memref<?x64xf32, strided<[64, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: f32, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %p = arith.mulf %xf, %y : f32
      linalg.yield %p : f32
    }
    scf.reduce
  } {linac.grid = ["head"]}
  return
}

// -----

// Rows are padded only where that helps and is safe: not rows whose length is
// no multiple of 32 bytes (24 bytes here), not a buffer some op reads other
// than through its strides (memref.copy), not single rows.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: gpu.func @unpadded_rows(
// CHECK-SAME:    workgroup(%{{[^ ]+}} : memref<16x6xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{[^ ]+}} : memref<16x8xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %{{[^ ]+}} : memref<1x64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
func.func @unpadded_rows(%out: memref<?x16x6xf32>, %copied: memref<?x16x8xf32>, %row: memref<?x1x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x16x6xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %short = memref.alloca() : memref<16x6xf32>
    %whole = memref.alloca() : memref<16x8xf32>
    %single = memref.alloca() : memref<1x64xf32>
    %d0 = memref.subview %out[%sq, 0, 0] [1, 16, 6] [1, 1, 1] : memref<?x16x6xf32> to memref<16x6xf32, strided<[6, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%short : memref<16x6xf32>) outs(%d0 : memref<16x6xf32, strided<[6, 1], offset: ?>>) {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    }
    %d1 = memref.subview %copied[%sq, 0, 0] [1, 16, 8] [1, 1, 1] : memref<?x16x8xf32> to memref<16x8xf32, strided<[8, 1], offset: ?>>
    memref.copy %whole, %d1 : memref<16x8xf32> to memref<16x8xf32, strided<[8, 1], offset: ?>>
    %d2 = memref.subview %row[%sq, 0, 0] [1, 1, 64] [1, 1, 1] : memref<?x1x64xf32> to memref<1x64xf32, strided<[64, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%single : memref<1x64xf32>) outs(%d2 : memref<1x64xf32, strided<[64, 1], offset: ?>>) {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

// A block may grow past the static 48 KiB for its padding, up to a quarter of
// the chip's shared memory (four blocks a multiprocessor; 56.75 KiB on
// sm_90): the 48 KiB of 96 x 128 f32 become 96 x 132 (49.5 KiB) in dynamic
// shared memory. sm_80's quarter is less than 48 KiB: there the block keeps
// its static 48 KiB unpadded.
#id = affine_map<(d0, d1) -> (d0, d1)>
// TARGET-LABEL: gpu.func @padding_within_grown_limit(
// TARGET-SAME:    workgroup(%{{[^ ]+}} : memref<96x128xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// TARGET-NOT:     linac.dynamic_shared_bytes
// CHECK-LABEL: gpu.func @padding_within_grown_limit(
// CHECK-SAME:    linac.dynamic_shared_bytes = 50688
// CHECK:         gpu.dynamic_shared_memory
// CHECK:         memref.view {{.*}} to memref<96x132xf32, #gpu.address_space<workgroup>>
func.func @padding_within_grown_limit(%out: memref<?x96x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x96x128xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %buf = memref.alloca() : memref<96x128xf32>
    %dst = memref.subview %out[%sq, 0, 0] [1, 96, 128] [1, 1, 1] : memref<?x96x128xf32> to memref<96x128xf32, strided<[128, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%buf : memref<96x128xf32>) outs(%dst : memref<96x128xf32, strided<[128, 1], offset: ?>>) {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

// Past that, the block keeps its static 48 KiB unpadded: 1536 rows of 32
// bytes would grow by half, to 72 KiB.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: gpu.func @padding_past_grown_limit(
// CHECK-SAME:    workgroup(%{{[^ ]+}} : memref<1536x8xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-NOT:     linac.dynamic_shared_bytes
func.func @padding_past_grown_limit(%out: memref<?x1536x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x1536x8xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %buf = memref.alloca() : memref<1536x8xf32>
    %dst = memref.subview %out[%sq, 0, 0] [1, 1536, 8] [1, 1, 1] : memref<?x1536x8xf32> to memref<1536x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%buf : memref<1536x8xf32>) outs(%dst : memref<1536x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

// Without a linac grid nothing changes.
// CHECK-LABEL: func.func @no_grid
// CHECK-NOT:   gpu.
// TARGET-LABEL: func.func @no_grid
// TARGET-NOT:   gpu.
func.func @no_grid(%out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  %x = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    memref.store %x, %out[%i] : memref<4xf32>
    scf.reduce
  }
  return
}
