// RUN: linac-opt %s -split-input-file -linac-map-to-gpu="block-size=64 tensor-cores=bf16" -canonicalize -cse | FileCheck %s
// RUN: linac-opt %s -split-input-file -linac-map-to-gpu="block-size=64 tensor-cores=tf32" -canonicalize -cse | FileCheck %s --check-prefix=TF32
// RUN: linac-opt %s -split-input-file -linac-map-to-gpu="block-size=64" -canonicalize -cse | FileCheck %s --check-prefix=NONE

// linac-map-to-gpu tensor-cores=...: contractions run as 16x8 output tiles
// spread over the block's warps, each a chain of nvvm.mma.sync over k.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

// Two bf16 operands: m16n8k16 on pairs of bf16 packed into 32-bit registers.
// The 32x16 output has 2 x 2 = 4 tiles; 2 warps take every other one.
// CHECK-LABEL: gpu.func @bf16_products(
// CHECK:         %[[TID:.*]] = gpu.thread_id x
// CHECK:         %[[WARP:.*]] = arith.divui %[[TID]], %c32
// CHECK:         scf.for %{{.*}} = %[[WARP]] to %c4 step %c2 {
// The accumulator is loaded, carried through k in four f32 and stored.
// CHECK:           scf.for %{{.*}} = %c0 to %c64 step %c16 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, f32, f32, f32) {
// CHECK:             arith.bitcast %{{.*}} : bf16 to i16
// CHECK:             arith.shli
// CHECK:             nvvm.mma.sync A[{{.*}}, {{.*}}, {{.*}}, {{.*}}]  B[{{.*}}, {{.*}}]  C[{{.*}}, {{.*}}, {{.*}}, {{.*}}]
// CHECK-SAME:          multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK-SAME:          (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-COUNT-4:     llvm.extractvalue
// CHECK:             scf.yield
// CHECK-COUNT-4:   memref.store
// CHECK:         gpu.barrier
// TF32-LABEL:  gpu.func @bf16_products(
// TF32:          nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 8>
// Without tensor cores each thread reduces its own outputs.
// NONE-LABEL:  gpu.func @bf16_products(
// NONE-NOT:      nvvm.mma.sync
// NONE:          gpu.return
func.func @bf16_products(%q: memref<?x32x64xbf16>, %k: memref<?x16x64xbf16>, %out: memref<?x32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %q, %c0 : memref<?x32x64xbf16>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %qs = memref.subview %q[%sq, 0, 0] [1, 32, 64] [1, 1, 1] : memref<?x32x64xbf16> to memref<32x64xbf16, strided<[64, 1], offset: ?>>
    %ks = memref.subview %k[%sq, 0, 0] [1, 16, 64] [1, 1, 1] : memref<?x16x64xbf16> to memref<16x64xbf16, strided<[64, 1], offset: ?>>
    %os = memref.subview %out[%sq, 0, 0] [1, 32, 16] [1, 1, 1] : memref<?x32x16xf32> to memref<32x16xf32, strided<[16, 1], offset: ?>>
    linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qs, %ks : memref<32x64xbf16, strided<[64, 1], offset: ?>>, memref<16x64xbf16, strided<[64, 1], offset: ?>>)
        outs(%os : memref<32x16xf32, strided<[16, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

// Operands in shared memory whose rows run along a static k (q and k of
// q k^T): each register's two bf16 are neighbours, one 4-byte load. An
// operand whose k runs down its columns (v of p v) keeps two 2-byte loads.
// CHECK-LABEL: gpu.func @bf16_pairs_in_shared(
// CHECK:         scf.for %{{.*}} = %c0 to %c64 step %c16 iter_args(
// CHECK-NOT:       arith.bitcast %{{.*}} : bf16 to i16
// CHECK-COUNT-6:   vector.load %{{.*}} {alignment = 4 : i64} : memref<{{.*}}, #gpu.address_space<workgroup>>, vector<2xbf16>
// CHECK-NOT:       arith.bitcast %{{.*}} : bf16 to i16
// CHECK:           nvvm.mma.sync
// One k-step (k = 16): no k loop.
// CHECK:         gpu.barrier
// CHECK-COUNT-4:   vector.load %{{.*}} {alignment = 4 : i64} : memref<{{.*}}, #gpu.address_space<workgroup>>, vector<2xbf16>
// CHECK-COUNT-4:   arith.bitcast %{{.*}} : bf16 to i16
// CHECK:           nvvm.mma.sync
func.func @bf16_pairs_in_shared(%q: memref<?x32x64xbf16>, %k: memref<?x16x64xbf16>, %v: memref<?x16x8xbf16>, %out: memref<?x32x16xf32>, %out2: memref<?x32x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %q, %c0 : memref<?x32x64xbf16>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %bq = memref.alloca() : memref<32x64xbf16>
    %bk = memref.alloca() : memref<16x64xbf16>
    %bp = memref.alloca() : memref<32x16xbf16>
    %bv = memref.alloca() : memref<16x8xbf16>
    %qs = memref.subview %q[%sq, 0, 0] [1, 32, 64] [1, 1, 1] : memref<?x32x64xbf16> to memref<32x64xbf16, strided<[64, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qs : memref<32x64xbf16, strided<[64, 1], offset: ?>>) outs(%bq : memref<32x64xbf16>) {
    ^bb0(%x: bf16, %o: bf16):
      linalg.yield %x : bf16
    }
    %ks = memref.subview %k[%sq, 0, 0] [1, 16, 64] [1, 1, 1] : memref<?x16x64xbf16> to memref<16x64xbf16, strided<[64, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ks : memref<16x64xbf16, strided<[64, 1], offset: ?>>) outs(%bk : memref<16x64xbf16>) {
    ^bb0(%x: bf16, %o: bf16):
      linalg.yield %x : bf16
    }
    %vs = memref.subview %v[%sq, 0, 0] [1, 16, 8] [1, 1, 1] : memref<?x16x8xbf16> to memref<16x8xbf16, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%vs : memref<16x8xbf16, strided<[8, 1], offset: ?>>) outs(%bv : memref<16x8xbf16>) {
    ^bb0(%x: bf16, %o: bf16):
      linalg.yield %x : bf16
    }
    %os = memref.subview %out[%sq, 0, 0] [1, 32, 16] [1, 1, 1] : memref<?x32x16xf32> to memref<32x16xf32, strided<[16, 1], offset: ?>>
    linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%bq, %bk : memref<32x64xbf16>, memref<16x64xbf16>)
        outs(%os : memref<32x16xf32, strided<[16, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    %os2 = memref.subview %out2[%sq, 0, 0] [1, 32, 8] [1, 1, 1] : memref<?x32x8xf32> to memref<32x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%bp, %bv : memref<32x16xbf16>, memref<16x8xbf16>)
        outs(%os2 : memref<32x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

// An fp32 operand (a chunk's intermediate) runs in tf32 (m16n8k8). A chunk's
// last rows (min(T - t0, 16) of 16) read as zero past the end and are not
// written: the loads and stores are guarded.
// CHECK-LABEL: gpu.func @ragged_rows(
// CHECK:         scf.for %{{.*}} = %c0 to %c16 step %c8 iter_args(
// CHECK:           scf.if %{{.*}} -> (f32) {
// CHECK:             memref.load
// CHECK:           } else {
// CHECK:             scf.yield %{{.*}} : f32
// CHECK:           nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 8>
// CHECK:         scf.if %{{.*}} {
// CHECK-NEXT:      memref.store
func.func @ragged_rows(%a: memref<?x?x16xf32>, %v: memref<?x16x8xbf16>, %out: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %n = memref.dim %a, %c0 : memref<?x?x16xf32>
  %t = memref.dim %a, %c1 : memref<?x?x16xf32>
  %rows = arith.minsi %t, %c16 : index
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %as = memref.subview %a[%sq, 0, 0] [1, %rows, 16] [1, 1, 1] : memref<?x?x16xf32> to memref<?x16xf32, strided<[16, 1], offset: ?>>
    %vs = memref.subview %v[%sq, 0, 0] [1, 16, 8] [1, 1, 1] : memref<?x16x8xbf16> to memref<16x8xbf16, strided<[8, 1], offset: ?>>
    %os = memref.subview %out[%sq, 0, 0] [1, %rows, 8] [1, 1, 1] : memref<?x?x8xf32> to memref<?x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%as, %vs : memref<?x16xf32, strided<[16, 1], offset: ?>>, memref<16x8xbf16, strided<[8, 1], offset: ?>>)
        outs(%os : memref<?x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%x: f32, %y: bf16, %o: f32):
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %x, %yf : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

// A decode step (one row) would waste the 16-row instruction, and a payload
// that is not a multiply-add is not a product: both stay on the CUDA cores.
// CHECK-LABEL: gpu.func @not_products(
// CHECK-NOT:     nvvm.mma.sync
// CHECK:         gpu.return
func.func @not_products(%a: memref<?x1x16xbf16>, %b: memref<?x16x8xbf16>, %c: memref<?x16x16xbf16>, %out: memref<?x1x8xf32>, %out2: memref<?x16x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %a, %c0 : memref<?x1x16xbf16>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %as = memref.subview %a[%sq, 0, 0] [1, 1, 16] [1, 1, 1] : memref<?x1x16xbf16> to memref<1x16xbf16, strided<[16, 1], offset: ?>>
    %bs = memref.subview %b[%sq, 0, 0] [1, 16, 8] [1, 1, 1] : memref<?x16x8xbf16> to memref<16x8xbf16, strided<[8, 1], offset: ?>>
    %cs = memref.subview %c[%sq, 0, 0] [1, 16, 16] [1, 1, 1] : memref<?x16x16xbf16> to memref<16x16xbf16, strided<[16, 1], offset: ?>>
    %os = memref.subview %out[%sq, 0, 0] [1, 1, 8] [1, 1, 1] : memref<?x1x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    %os2 = memref.subview %out2[%sq, 0, 0] [1, 16, 8] [1, 1, 1] : memref<?x16x8xf32> to memref<16x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%as, %bs : memref<1x16xbf16, strided<[16, 1], offset: ?>>, memref<16x8xbf16, strided<[8, 1], offset: ?>>)
        outs(%os : memref<1x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%cs, %bs : memref<16x16xbf16, strided<[16, 1], offset: ?>>, memref<16x8xbf16, strided<[8, 1], offset: ?>>)
        outs(%os2 : memref<16x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %e = math.exp %yf : f32
      %p = arith.mulf %xf, %e : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

// out -= A B (the delta rule's U -= W S) runs on the tensor cores too: the
// chain accumulates into the negated output, negated back when stored.
// `A B - out` is no such product and stays on the CUDA cores.
// CHECK-LABEL: gpu.func @subtracted_product(
// CHECK:           %[[C0:.*]] = arith.negf
// CHECK-COUNT-3:   arith.negf
// CHECK:           %[[MMA:.*]] = nvvm.mma.sync {{.*}} C[%[[C0]],
// CHECK:           %[[R0:.*]] = llvm.extractvalue %[[MMA]][0]
// CHECK:           %[[N0:.*]] = arith.negf %[[R0]] : f32
// CHECK-NEXT:      memref.store %[[N0]]
// CHECK-COUNT-3:   arith.negf
// CHECK:         gpu.barrier
// CHECK-NOT:     nvvm.mma.sync
// CHECK:         gpu.return
func.func @subtracted_product(%a: memref<?x16x16xbf16>, %b: memref<?x16x8xbf16>, %out: memref<?x16x8xf32>, %out2: memref<?x16x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %a, %c0 : memref<?x16x16xbf16>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %as = memref.subview %a[%sq, 0, 0] [1, 16, 16] [1, 1, 1] : memref<?x16x16xbf16> to memref<16x16xbf16, strided<[16, 1], offset: ?>>
    %bs = memref.subview %b[%sq, 0, 0] [1, 16, 8] [1, 1, 1] : memref<?x16x8xbf16> to memref<16x8xbf16, strided<[8, 1], offset: ?>>
    %os = memref.subview %out[%sq, 0, 0] [1, 16, 8] [1, 1, 1] : memref<?x16x8xf32> to memref<16x8xf32, strided<[8, 1], offset: ?>>
    %os2 = memref.subview %out2[%sq, 0, 0] [1, 16, 8] [1, 1, 1] : memref<?x16x8xf32> to memref<16x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%as, %bs : memref<16x16xbf16, strided<[16, 1], offset: ?>>, memref<16x8xbf16, strided<[8, 1], offset: ?>>)
        outs(%os : memref<16x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %s = arith.subf %o, %p : f32
      linalg.yield %s : f32
    }
    linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%as, %bs : memref<16x16xbf16, strided<[16, 1], offset: ?>>, memref<16x8xbf16, strided<[8, 1], offset: ?>>)
        outs(%os2 : memref<16x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %s = arith.subf %p, %o : f32
      linalg.yield %s : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}
