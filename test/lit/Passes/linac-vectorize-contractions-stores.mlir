// RUN: linac-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(linac-vectorize-contractions{vector-bits=256}))' | FileCheck %s

// How the micro-kernels store their tiles. Masked vector stores are slow on
// some CPUs (AMD Zen: microcoded), so whole rows in bounds take plain
// stores, and masks stay for the edges.

#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d2)>

// Rank-1 form, a static width that is a multiple of the tile's: each row of
// the tile is stored, unmasked and in bounds, under a branch on the row
// being one of the output's (the chunk's last rows may be fewer).
// CHECK-LABEL: func.func @whole_columns(
// CHECK:         scf.yield
// CHECK:         %[[VALID:.*]] = arith.cmpi slt, %{{.*}}, %[[ROWS:.*]] : index
// CHECK-NEXT:    scf.if %[[VALID]] {
// CHECK-COUNT-4:   vector.transfer_write %{{[^,]*}}, %arg2[%{{.*}}, %{{.*}}] {in_bounds = [true]} : vector<8xf32>, memref<?x64xf32, strided<[64, 1]>>
// CHECK-NEXT:    }
// CHECK:         %[[VALID2:.*]] = arith.cmpi slt, %{{.*}}, %[[ROWS]] : index
// CHECK-NEXT:    scf.if %[[VALID2]] {
// CHECK-NOT:     vector.create_mask
// CHECK-NOT:     vector.transfer_write {{.*}}, %{{[^ ]*}} :
// CHECK:         return
func.func @whole_columns(%x: memref<?x64xf32, strided<[64, 1]>>,
                         %s: memref<64x64xf32>,
                         %out: memref<?x64xf32, strided<[64, 1]>>) {
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %s : memref<?x64xf32, strided<[64, 1]>>, memref<64x64xf32>)
      outs(%out : memref<?x64xf32, strided<[64, 1]>>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d2)>

// A dynamic width keeps its masked stores (row mask and lane mask).
// CHECK-LABEL: func.func @dynamic_columns(
// CHECK:         scf.yield
// CHECK-NOT:     scf.if
// CHECK:         vector.transfer_write %{{[^,]*}}, %arg2[%{{.*}}, %{{.*}}], %{{[^ ]*}} : vector<8xf32>, memref<?x?xf32>
func.func @dynamic_columns(%x: memref<?x?xf32>, %s: memref<?x?xf32>,
                           %out: memref<?x?xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %s : memref<?x?xf32>, memref<?x?xf32>)
      outs(%out : memref<?x?xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#l = affine_map<(d0, d1, d2) -> (d0, d2)>
#r = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>

// Dot-product form (Q K^T): a row of the tile whose columns are all in
// bounds is read, added to and stored whole; a row at an edge is masked.
// CHECK-LABEL: func.func @dot_products(
// CHECK:         %[[END:.*]] = arith.addi %[[J0:.*]], %c4
// CHECK:         %[[WHOLE:.*]] = arith.cmpi sle, %[[END]], %{{.*}} : index
// CHECK:         %[[VALID:.*]] = arith.cmpi slt
// CHECK:         %[[BOTH:.*]] = arith.andi %[[VALID]], %[[WHOLE]] : i1
// CHECK:         scf.if %[[BOTH]] {
// CHECK:           vector.transfer_read %arg2[%{{.*}}, %[[J0]]], %{{[^ ]*}} {in_bounds = [true]} : memref<?x?xf32>, vector<4xf32>
// CHECK:           vector.transfer_write %{{[^,]*}}, %arg2[%{{.*}}, %[[J0]]] {in_bounds = [true]} : vector<4xf32>, memref<?x?xf32>
// CHECK:         } else {
// CHECK:           vector.transfer_read %arg2[%{{.*}}, %[[J0]]], %{{[^,]*}}, %{{[^ ]*}} : memref<?x?xf32>, vector<4xf32>
// CHECK:           vector.transfer_write %{{[^,]*}}, %arg2[%{{.*}}, %[[J0]]], %{{[^ ]*}} : vector<4xf32>, memref<?x?xf32>
// CHECK:         }
func.func @dot_products(%q: memref<?x?xf32>, %k: memref<?x?xf32>,
                        %out: memref<?x?xf32>) {
  linalg.generic {indexing_maps = [#l, #r, #o],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<?x?xf32>, memref<?x?xf32>)
      outs(%out : memref<?x?xf32>) {
  ^bb0(%p: f32, %w: f32, %acc: f32):
    %m = arith.mulf %p, %w : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}
