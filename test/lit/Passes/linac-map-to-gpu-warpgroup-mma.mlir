// RUN: linac-opt %s -split-input-file -linac-map-to-gpu="chip=sm_90a block-size=128 tensor-cores=bf16 warpgroup-mma=true" -canonicalize -cse | FileCheck %s
// RUN: not linac-opt %s -split-input-file -linac-map-to-gpu="chip=sm_90 tensor-cores=bf16 warpgroup-mma=true" 2>&1 | FileCheck %s --check-prefix=CHIP

// linac-map-to-gpu{warpgroup-mma} on sm_90a: a contraction with a side of
// 64-row multiples runs as warpgroup wgmma. The threads copy both operands
// into one shared scratch buffer in the core-matrix layout (8 rows x 16
// bytes contiguous, k innermost, zero past the sizes), fence the copies for
// the async proxy and meet at a barrier; each warpgroup then takes 64-row
// tiles, its accumulators in registers.
// CHIP: error: 'func.func' op warpgroup-mma needs the chip sm_90a (wgmma), not sm_90

// S[128 x 32] += K^T V over a chunk's rows (at most 16): bf16, m64n32k16.
// The scratch holds A (128 x 16 bf16, 4096 bytes) then B (32 x 16, 1024).
// CHECK-LABEL: gpu.func @state_update(
// CHECK-SAME:    workgroup(%[[SCRATCH:.*]] : memref<5120xi8, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}
// CHECK-DAG:     %[[A:.*]] = memref.view %[[SCRATCH]][%c0][] : memref<5120xi8, #gpu.address_space<workgroup>> to memref<2048xbf16, #gpu.address_space<workgroup>>
// CHECK-DAG:     %[[B:.*]] = memref.view %[[SCRATCH]][%c4096][] : memref<5120xi8, #gpu.address_space<workgroup>> to memref<512xbf16, #gpu.address_space<workgroup>>
// Element o of A's scratch: k = (o / 64 % 2) * 8 + o % 8, row = (o / 128) * 8 + o / 8 % 8.
// CHECK:         scf.for %[[O:.*]] = %thread_id_x to %c2048 step %c128 {
// CHECK:           %[[KIN:.*]] = arith.remui %[[O]], %c8
// CHECK:           %[[O8:.*]] = arith.divui %[[O]], %c8
// CHECK:           %[[RIN:.*]] = arith.remui %[[O8]], %c8
// CHECK:           %[[O64:.*]] = arith.divui %[[O]], %c64
// CHECK:           %[[KGROUP:.*]] = arith.remui %[[O64]], %c2
// CHECK:           %[[RGROUP:.*]] = arith.divui %[[O]], %c128
// CHECK:           %[[R8:.*]] = arith.muli %[[RGROUP]], %c8
// CHECK:           %[[ROW:.*]] = arith.addi %[[R8]], %[[RIN]]
// CHECK:           %[[K8:.*]] = arith.muli %[[KGROUP]], %c8
// CHECK:           %[[K:.*]] = arith.addi %[[K8]], %[[KIN]]
// The chunk's rows past its end are zero.
// CHECK:           %[[IN:.*]] = arith.cmpi ult, %[[K]], %{{.*}}
// CHECK:           scf.if %[[IN]] -> (bf16) {
// CHECK:             memref.load %{{.*}}[%[[K]], %[[ROW]]]
// CHECK:           } else {
// CHECK:           memref.store %{{.*}}, %[[A]][%[[O]]]
// CHECK:         scf.for %{{.*}} = %thread_id_x to %c512 step %c128 {
// CHECK:           memref.store %{{.*}}, %[[B]][%{{.*}}]
// CHECK:         nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT:    gpu.barrier
// CHECK-DAG:     %[[BPTR:.*]] = memref.extract_aligned_pointer_as_index %[[B]]
// CHECK-DAG:     %[[APTR:.*]] = memref.extract_aligned_pointer_as_index %[[A]]
// Two 64-row tiles, one warpgroup: tile t's A descriptor starts 8 row groups
// (8 x 256 bytes) further.
// CHECK:         scf.for %[[TILE:.*]] = %{{.*}} to %c2 step %c1 {
// CHECK:           arith.muli %[[TILE]], %c2048
// CHECK-COUNT-16:  llvm.insertvalue
// CHECK:           nvvm.wgmma.fence.aligned
// Descriptors: (address & 0x3FFFF) >> 4, leading byte offset 128 (bits 16-29:
// 8), stride byte offset 256 (bits 32-45: 16): 8 << 16 | 16 << 32.
// CHECK:           arith.andi %{{.*}}, %c262143_i64
// CHECK:           arith.shrui %{{.*}}, %c4_i64
// CHECK:           arith.ori %{{.*}}, %c68720001024_i64
// CHECK:           nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %{{.*}}, <m = 64, n = 32, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// CHECK-NOT:       nvvm.wgmma.mma_async
// CHECK:           nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT:      nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-COUNT-16:  memref.store
// CHECK:         gpu.barrier
#id = affine_map<(d0, d1) -> (d0, d1)>
#km = affine_map<(d0, d1, d2) -> (d0, d1)>
#kn = affine_map<(d0, d1, d2) -> (d0, d2)>
#mn = affine_map<(d0, d1, d2) -> (d1, d2)>
func.func @state_update(%k: memref<?x16x128xbf16>, %v: memref<?x16x32xbf16>, %s: memref<?x128x32xf32>, %rows: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %n = memref.dim %k, %c0 : memref<?x16x128xbf16>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %bk = memref.alloca() : memref<16x128xbf16>
    %bv = memref.alloca() : memref<16x32xbf16>
    %bs = memref.alloca() : memref<128x32xf32>
    %r = arith.minsi %rows, %c16 : index
    %ks = memref.subview %bk[0, 0] [%r, 128] [1, 1] : memref<16x128xbf16> to memref<?x128xbf16, strided<[128, 1]>>
    %vs = memref.subview %bv[0, 0] [%r, 32] [1, 1] : memref<16x32xbf16> to memref<?x32xbf16, strided<[32, 1]>>
    linalg.generic {indexing_maps = [#km, #kn, #mn], iterator_types = ["reduction", "parallel", "parallel"]}
        ins(%ks, %vs : memref<?x128xbf16, strided<[128, 1]>>, memref<?x32xbf16, strided<[32, 1]>>)
        outs(%bs : memref<128x32xf32>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %a = arith.addf %o, %p : f32
      linalg.yield %a : f32
    }
    %ss = memref.subview %s[%sq, 0, 0] [1, 128, 32] [1, 1, 1] : memref<?x128x32xf32> to memref<128x32xf32, strided<[32, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%bs : memref<128x32xf32>) outs(%ss : memref<128x32xf32, strided<[32, 1], offset: ?>>) {
    ^bb0(%x: f32, %o: f32):
      linalg.yield %x : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

// W[16 x 128] = T[16 x 16] (fp32) Kd[16 x 128]: 16 rows, but 128 columns, so
// the operands swap (W^T = Kd^T T^T): tf32 (T is fp32), m64n16k8, two k
// steps 256 bytes apart. Q K^T (16 x 16) keeps mma.sync.
// CHECK-LABEL: gpu.func @swapped(
// CHECK-SAME:    workgroup(%{{.*}} : memref<9216xi8, #gpu.address_space<workgroup>>
// CHECK:         scf.for %{{.*}} = %thread_id_x to %c2048 step %c128 {
// CHECK:         scf.for %{{.*}} = %thread_id_x to %c256 step %c128 {
// CHECK:           memref.load %{{.*}} : memref<16x16xf32
// CHECK:         gpu.barrier
// CHECK:           nvvm.wgmma.mma_async {{.*}}<m = 64, n = 16, k = 8>, D[<f32>, <one>], A[<tf32>, <one>, <row>], B[<tf32>, <one>, <col>]
// CHECK:           arith.addi %{{.*}}, %c256_i64
// CHECK:           nvvm.wgmma.mma_async {{.*}}<m = 64, n = 16, k = 8>
// CHECK:         gpu.barrier
// CHECK:           nvvm.mma.sync
// CHECK-NOT:     nvvm.wgmma.mma_async
// CHECK:         gpu.return
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @swapped(%t: memref<?x16x16xf32>, %k: memref<?x16x128xbf16>, %w: memref<?x16x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %k, %c0 : memref<?x16x128xbf16>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %bt = memref.alloca() : memref<16x16xf32>
    %bk = memref.alloca() : memref<16x128xbf16>
    %bq = memref.alloca() : memref<16x128xbf16>
    %bw = memref.alloca() : memref<16x128xf32>
    %bs = memref.alloca() : memref<16x16xf32>
    linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%bt, %bk : memref<16x16xf32>, memref<16x128xbf16>)
        outs(%bw : memref<16x128xf32>) {
    ^bb0(%x: f32, %y: bf16, %o: f32):
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %x, %yf : f32
      %a = arith.addf %o, %p : f32
      linalg.yield %a : f32
    }
    linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%bq, %bk : memref<16x128xbf16>, memref<16x128xbf16>)
        outs(%bs : memref<16x16xf32>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %a = arith.addf %o, %p : f32
      linalg.yield %a : f32
    }
    %ws = memref.subview %w[%sq, 0, 0] [1, 16, 128] [1, 1, 1] : memref<?x16x128xf32> to memref<16x128xf32, strided<[128, 1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
        ins(%bw : memref<16x128xf32>) outs(%ws : memref<16x128xf32, strided<[128, 1], offset: ?>>) {
    ^bb0(%x: f32, %o: f32):
      linalg.yield %x : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

#km = affine_map<(d0, d1, d2) -> (d0, d1)>
#kn = affine_map<(d0, d1, d2) -> (d0, d2)>
#mn = affine_map<(d0, d1, d2) -> (d1, d2)>

// A block whose buffers (224 KiB) leave no room for the 5 KiB of scratch
// within sm_90a's 227 KiB keeps mma.sync rather than failing.
// CHECK-LABEL: gpu.func @no_room_for_scratch(
// CHECK-NOT:     memref<5120xi8
// CHECK-NOT:     nvvm.wgmma.mma_async
// CHECK:         nvvm.mma.sync
// CHECK-NOT:     nvvm.wgmma.mma_async
// CHECK:         gpu.return
func.func @no_room_for_scratch(%big: memref<?x65536xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %big, %c0 : memref<?x65536xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %bk = memref.alloca() : memref<16x128xbf16>
    %bv = memref.alloca() : memref<16x32xbf16>
    %bs = memref.alloca() : memref<128x32xf32>
    %huge = memref.alloca() : memref<51968xf32>
    linalg.generic {indexing_maps = [#km, #kn, #mn], iterator_types = ["reduction", "parallel", "parallel"]}
        ins(%bk, %bv : memref<16x128xbf16>, memref<16x32xbf16>)
        outs(%bs : memref<128x32xf32>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %a = arith.addf %o, %p : f32
      linalg.yield %a : f32
    }
    %row = memref.subview %big[%sq, 0] [1, 51968] [1, 1] : memref<?x65536xf32> to memref<51968xf32, strided<[1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
        ins(%huge : memref<51968xf32>) outs(%row : memref<51968xf32, strided<[1], offset: ?>>) {
    ^bb0(%x: f32, %o: f32):
      linalg.yield %x : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

// S[128 x 32] -= K^T V: the accumulators start negated and are negated back
// when stored, as with mma.sync.
// CHECK-LABEL: gpu.func @state_downdate(
// CHECK:           %[[L0:.*]] = arith.negf
// CHECK-NEXT:      llvm.insertvalue %[[L0]]
// CHECK:           nvvm.wgmma.mma_async
// CHECK:           nvvm.wgmma.wait.group.sync.aligned 0
// CHECK:           %[[R0:.*]] = llvm.extractvalue
// CHECK-NEXT:      %[[N0:.*]] = arith.negf %[[R0]] : f32
// CHECK:           memref.store %[[N0]]
#km = affine_map<(d0, d1, d2) -> (d0, d1)>
#kn = affine_map<(d0, d1, d2) -> (d0, d2)>
#mn = affine_map<(d0, d1, d2) -> (d1, d2)>
func.func @state_downdate(%k: memref<?x16x128xbf16>, %v: memref<?x16x32xbf16>, %s: memref<?x128x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %k, %c0 : memref<?x16x128xbf16>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %bk = memref.alloca() : memref<16x128xbf16>
    %bv = memref.alloca() : memref<16x32xbf16>
    %ss = memref.subview %s[%sq, 0, 0] [1, 128, 32] [1, 1, 1] : memref<?x128x32xf32> to memref<128x32xf32, strided<[32, 1], offset: ?>>
    linalg.generic {indexing_maps = [#km, #kn, #mn], iterator_types = ["reduction", "parallel", "parallel"]}
        ins(%bk, %bv : memref<16x128xbf16>, memref<16x32xbf16>)
        outs(%ss : memref<128x32xf32, strided<[32, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %a = arith.subf %o, %p : f32
      linalg.yield %a : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}
