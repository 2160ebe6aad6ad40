// RUN: linac-opt %s -split-input-file -linac-map-to-gpu="block-size=64 tensor-cores=bf16 ldmatrix=true" -canonicalize -cse | FileCheck %s
// RUN: linac-opt %s -split-input-file -linac-map-to-gpu="block-size=64 tensor-cores=bf16" -canonicalize -cse | FileCheck %s --check-prefix=OFF

// linac-map-to-gpu{ldmatrix}: the 16-bit fragments of mma.sync load with
// ldmatrix where each 8-element row segment is 16-byte aligned in shared
// memory and whole. Lane l addresses row l % 8 of matrix l / 8: A's four
// 8x8 matrices are (rows 0-7, k 0-7), (rows 8-15, k 0-7), (rows 0-7, k 8-15),
// (rows 8-15, k 8-15); B's two are k 0-7 and k 8-15 of its 8 columns.
// OFF-NOT: nvgpu.ldmatrix

// q k^T: both operands run along k (stored); p v: v runs along n, loaded
// transposed; p^T stored k-major gives A transposed too. The row padding
// keeps every row 16-byte aligned (72, 24 and 40 elements).
// CHECK-LABEL: gpu.func @stored_and_transposed(
// CHECK:         %[[TID:.*]] = gpu.thread_id x
// CHECK:         %[[LANE:.*]] = arith.remui %[[TID]], %c32
// CHECK:         %[[ROW:.*]] = arith.remui %[[LANE]], %c8
// CHECK:         %[[MATRIX:.*]] = arith.divui %[[LANE]], %c8
// CHECK:         %[[HALF:.*]] = arith.remui %[[MATRIX]], %c2
// CHECK:         %[[ROWOFF:.*]] = arith.muli %[[HALF]], %c8
// CHECK:         %[[KHALF:.*]] = arith.divui %[[MATRIX]], %c2
// CHECK:         %[[KOFF:.*]] = arith.muli %[[KHALF]], %c8
// CHECK:         scf.for %{{.*}} = %c0 to %c64 step %c16 iter_args(
// CHECK-NOT:       memref.load
// CHECK:           nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false} : memref<32x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK-COUNT-4:   llvm.bitcast %{{.*}} : vector<2xbf16> to i32
// CHECK:           nvgpu.ldmatrix %{{.*}} {numTiles = 2 : i32, transpose = false} : memref<16x64xbf16, strided<[72, 1]>, #gpu.address_space<workgroup>> -> vector<2x2xbf16>
// CHECK-COUNT-2:   llvm.bitcast %{{.*}} : vector<2xbf16> to i32
// CHECK:           nvvm.mma.sync
// CHECK:         gpu.barrier
// CHECK:           nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false} : memref<32x16xbf16, strided<[24, 1]>, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// The transposed B: lane l addresses k row (l / 8 % 2) * 8 + l % 8.
// CHECK:           %[[BK:.*]] = arith.addi %[[ROWOFF]], %[[ROW]]
// CHECK:           nvgpu.ldmatrix %{{.*}}[%[[BK]], %c0] {numTiles = 2 : i32, transpose = true} : memref<16x8xbf16, #gpu.address_space<workgroup>> -> vector<2x2xbf16>
// CHECK:           nvvm.mma.sync
// CHECK:         gpu.barrier
// The transposed A: k row (l / 16) * 8 + l % 8, column tile row + (l / 8 % 2) * 8.
// CHECK:           %[[AM:.*]] = arith.addi %{{.*}}, %[[ROWOFF]]
// CHECK:           %[[AK:.*]] = arith.addi %[[KOFF]], %[[ROW]]
// CHECK:           nvgpu.ldmatrix %{{.*}}[%[[AK]], %[[AM]]] {numTiles = 4 : i32, transpose = true} : memref<16x32xbf16, strided<[40, 1]>, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK:           nvgpu.ldmatrix %{{.*}} {numTiles = 2 : i32, transpose = true}
// CHECK:           nvvm.mma.sync
#id = affine_map<(d0, d1) -> (d0, d1)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @stored_and_transposed(%q: memref<?x32x64xbf16>, %out: memref<?x32x16xf32>, %out2: memref<?x32x8xf32>, %out3: memref<?x32x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %q, %c0 : memref<?x32x64xbf16>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %bq = memref.alloca() : memref<32x64xbf16>
    %bk = memref.alloca() : memref<16x64xbf16>
    %bp = memref.alloca() : memref<32x16xbf16>
    %bpt = memref.alloca() : memref<16x32xbf16>
    %bv = memref.alloca() : memref<16x8xbf16>
    %qs = memref.subview %q[%sq, 0, 0] [1, 32, 64] [1, 1, 1] : memref<?x32x64xbf16> to memref<32x64xbf16, strided<[64, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qs : memref<32x64xbf16, strided<[64, 1], offset: ?>>) outs(%bq : memref<32x64xbf16>) {
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
    %os3 = memref.subview %out3[%sq, 0, 0] [1, 32, 8] [1, 1, 1] : memref<?x32x8xf32> to memref<32x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#km, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%bpt, %bv : memref<16x32xbf16>, memref<16x8xbf16>)
        outs(%os3 : memref<32x8xf32, strided<[8, 1], offset: ?>>) {
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

// A chunk's ragged rows: rows past the end read the last row instead (their
// products land in output rows that are not written), so every lane's
// address stays inside the buffer.
// CHECK-LABEL: gpu.func @ragged_rows(
// CHECK:           %[[LAST1:.*]] = arith.maxui %[[ROWS:.*]], %c1
// CHECK:           %[[LAST:.*]] = arith.subi %[[LAST1]], %c1
// CHECK:           %[[CLAMPED:.*]] = arith.minui %{{.*}}, %[[LAST]]
// CHECK:           nvgpu.ldmatrix %{{.*}}[%[[CLAMPED]], %{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<?x64xbf16
// CHECK:           nvgpu.ldmatrix %{{.*}} {numTiles = 2 : i32, transpose = false} : memref<16x64xbf16
// CHECK:           nvvm.mma.sync
// CHECK:         scf.if
// CHECK-NEXT:      memref.store
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @ragged_rows(%rows: index, %out: memref<?x32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x32x16xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %bq = memref.alloca() : memref<32x64xbf16>
    %bk = memref.alloca() : memref<16x64xbf16>
    %c32 = arith.constant 32 : index
    %r = arith.minsi %rows, %c32 : index
    %qs = memref.subview %bq[0, 0] [%r, 64] [1, 1] : memref<32x64xbf16> to memref<?x64xbf16, strided<[64, 1]>>
    %os = memref.subview %out[%sq, 0, 0] [1, %r, 16] [1, 1, 1] : memref<?x32x16xf32> to memref<?x16xf32, strided<[16, 1], offset: ?>>
    linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qs, %bk : memref<?x64xbf16, strided<[64, 1]>>, memref<16x64xbf16>)
        outs(%os : memref<?x16xf32, strided<[16, 1], offset: ?>>) {
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

// Where a tile's row segment may be partly outside the operand, ldmatrix
// would read it whole: a dynamic k (masked to zero past its end), rows not
// 16-byte aligned (20 elements; they keep 4-byte pairs), and a transposed
// operand whose rows (m) are dynamic. The static k^T beside them still
// loads its matrices.
// CHECK-LABEL: gpu.func @not_ldmatrix(
// CHECK-NOT:       nvgpu.ldmatrix
// CHECK:           nvvm.mma.sync
// CHECK:         gpu.barrier
// CHECK-COUNT-4:   vector.load %{{.*}} {alignment = 4 : i64} : memref<32x16xbf16, strided<[20, 1]>, #gpu.address_space<workgroup>>, vector<2xbf16>
// CHECK:           nvgpu.ldmatrix %{{.*}} {numTiles = 2 : i32, transpose = false} : memref<16x16xbf16
// CHECK:           nvvm.mma.sync
// CHECK:         gpu.barrier
// CHECK-NOT:       nvgpu.ldmatrix {{.*}}memref<16x?xbf16
// CHECK:           nvgpu.ldmatrix %{{.*}} {numTiles = 2 : i32, transpose = false} : memref<16x16xbf16
// CHECK:           nvvm.mma.sync
// CHECK:         gpu.return
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#km = affine_map<(d0, d1, d2) -> (d2, d0)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @not_ldmatrix(%kk: index, %rows: index, %out: memref<?x32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %n = memref.dim %out, %c0 : memref<?x32x16xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %bq = memref.alloca() : memref<32x64xbf16>
    %bk = memref.alloca() : memref<16x64xbf16>
    %bn = memref.alloca() : memref<32x20xbf16>
    %bt = memref.alloca() : memref<16x32xbf16>
    %os = memref.subview %out[%sq, 0, 0] [1, 32, 16] [1, 1, 1] : memref<?x32x16xf32> to memref<32x16xf32, strided<[16, 1], offset: ?>>
    %k = arith.minsi %kk, %c64 : index
    %qs = memref.subview %bq[0, 0] [32, %k] [1, 1] : memref<32x64xbf16> to memref<32x?xbf16, strided<[64, 1]>>
    %ks = memref.subview %bk[0, 0] [16, %k] [1, 1] : memref<16x64xbf16> to memref<16x?xbf16, strided<[64, 1]>>
    linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qs, %ks : memref<32x?xbf16, strided<[64, 1]>>, memref<16x?xbf16, strided<[64, 1]>>)
        outs(%os : memref<32x16xf32, strided<[16, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    %ns = memref.subview %bn[0, 0] [32, 16] [1, 1] : memref<32x20xbf16> to memref<32x16xbf16, strided<[20, 1]>>
    %ks1 = memref.subview %bk[0, 0] [16, 16] [1, 1] : memref<16x64xbf16> to memref<16x16xbf16, strided<[64, 1]>>
    linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%ns, %ks1 : memref<32x16xbf16, strided<[20, 1]>>, memref<16x16xbf16, strided<[64, 1]>>)
        outs(%os : memref<32x16xf32, strided<[16, 1], offset: ?>>) {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xf = arith.extf %x : bf16 to f32
      %yf = arith.extf %y : bf16 to f32
      %p = arith.mulf %xf, %yf : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    %r = arith.minsi %rows, %c32 : index
    %ts = memref.subview %bt[0, 0] [16, %r] [1, 1] : memref<16x32xbf16> to memref<16x?xbf16, strided<[32, 1]>>
    %os2 = memref.subview %out[%sq, 0, 0] [1, %r, 16] [1, 1, 1] : memref<?x32x16xf32> to memref<?x16xf32, strided<[16, 1], offset: ?>>
    %ks2 = memref.subview %bk[0, 0] [16, 16] [1, 1] : memref<16x64xbf16> to memref<16x16xbf16, strided<[64, 1]>>
    linalg.generic {indexing_maps = [#km, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%ts, %ks2 : memref<16x?xbf16, strided<[32, 1]>>, memref<16x16xbf16, strided<[64, 1]>>)
        outs(%os2 : memref<?x16xf32, strided<[16, 1], offset: ?>>) {
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
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

// tf32 (an fp32 operand): an 8x8 b16 matrix is 8 rows of 4 fp32, and a lane
// receives word l % 4 of row l / 4, the fragment's (g, t): A's four matrices
// are rows 0-7 / 8-15 at k 0-3, then 4-7; B's two are k 0-3 and 4-7. A
// transposed load would split the words, so s (k x n, n contiguous) keeps its
// 4-byte loads.
// CHECK-LABEL: gpu.func @tf32_rows(
// CHECK:         %[[LANE:.*]] = arith.remui %thread_id_x, %c32
// CHECK:         %[[MATRIX:.*]] = arith.divui %[[LANE]], %c8
// CHECK:         %[[KHALF:.*]] = arith.divui %[[MATRIX]], %c2
// CHECK:         %[[KOFF:.*]] = arith.muli %[[KHALF]], %c4
// CHECK:         scf.for %[[K0:.*]] = %c0 to %c16 step %c8 iter_args(
// CHECK:           %[[K:.*]] = arith.addi %[[K0]], %[[KOFF]]
// CHECK:           nvgpu.ldmatrix %{{.*}}[%{{.*}}, %[[K]]] {numTiles = 4 : i32, transpose = false} : memref<32x16xf32, strided<[20, 1]>, #gpu.address_space<workgroup>> -> vector<4x1xf32>
// CHECK-COUNT-4:   llvm.bitcast %{{.*}} : vector<1xf32> to i32
// CHECK:           nvgpu.ldmatrix %{{.*}} {numTiles = 2 : i32, transpose = false} : memref<8x16xf32, strided<[20, 1]>, #gpu.address_space<workgroup>> -> vector<2x1xf32>
// CHECK:           nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>
// CHECK:         gpu.barrier
// CHECK:           nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false} : memref<32x16xf32
// CHECK-NOT:       nvgpu.ldmatrix
// CHECK:           nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>
func.func @tf32_rows(%out: memref<?x32x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x32x8xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %ba = memref.alloca() : memref<32x16xf32>
    %bb = memref.alloca() : memref<8x16xf32>
    %bs = memref.alloca() : memref<16x8xf32>
    %os = memref.subview %out[%sq, 0, 0] [1, 32, 8] [1, 1, 1] : memref<?x32x8xf32> to memref<32x8xf32, strided<[8, 1], offset: ?>>
    linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%ba, %bb : memref<32x16xf32>, memref<8x16xf32>)
        outs(%os : memref<32x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%ba, %bs : memref<32x16xf32>, memref<16x8xf32>)
        outs(%os : memref<32x8xf32, strided<[8, 1], offset: ?>>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}
