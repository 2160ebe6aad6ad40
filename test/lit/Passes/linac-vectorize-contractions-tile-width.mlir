// RUN: linac-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(linac-vectorize-contractions))' | FileCheck %s
// RUN: linac-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(linac-vectorize-contractions{vector-bits=256}))' | FileCheck %s --check-prefix=AVX2
// RUN: linac-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(linac-vectorize-contractions{vector-bits=128}))' | FileCheck %s --check-prefix=SSE

// The rank-1 micro-kernel's tile, 16 accumulators: 8 rows of the output by
// two 16-lane vectors, or 4 rows by four where that covers whole output rows
// of 33 to 64 columns known statically (64 at K = V = 64).

#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d2)>

// AVX2 (vector-bits=256, 16 registers): 8 accumulators, 2 rows by four
// 8-lane vectors, at every width; SSE (128): 2 rows by four 4-lane vectors.

// 64 columns: 4 x 64 tiles, four rhs vectors a step; a static width that is
// a multiple of the tile's needs no lane mask.
// CHECK-LABEL: func.func @sixty_four_columns(
// CHECK:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c4
// CHECK:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c64
// CHECK:           scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK-COUNT-4:     vector.transfer_read %arg1[%{{[^]]*}}], %{{[^ ]*}} {in_bounds = [true]}
// CHECK-COUNT-16:    vector.fma
// AVX2-LABEL: func.func @sixty_four_columns(
// AVX2:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2
// AVX2:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// AVX2:           scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2-COUNT-4:     vector.transfer_read %arg1[%{{[^]]*}}], %{{[^ ]*}} {in_bounds = [true]} : memref<64x64xf32>, vector<8xf32>
// AVX2-COUNT-8:     vector.fma {{.*}} : vector<8xf32>
// AVX2-NOT:         vector.fma
// AVX2:             scf.yield
// SSE-LABEL: func.func @sixty_four_columns(
// SSE:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2
// SSE:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c16
// SSE:           scf.for {{.*}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
// SSE-COUNT-8:     vector.fma {{.*}} : vector<4xf32>
func.func @sixty_four_columns(%x: memref<?x64xf32, strided<[64, 1]>>,
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

// 128 columns (measured slower with 4 x 64 tiles) and dynamic widths: 8 x 32
// tiles, two rhs vectors a step; the dynamic width's reads are masked.
// CHECK-LABEL: func.func @wide_and_dynamic(
// CHECK:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c8
// CHECK:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// CHECK:           scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK-COUNT-2:     vector.transfer_read %arg1[%{{[^]]*}}], %{{[^ ]*}} {in_bounds = [true]}
// CHECK-COUNT-16:    vector.fma
// CHECK:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c8
// CHECK:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// CHECK:           scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK-COUNT-2:     vector.transfer_read %arg3[%{{[^]]*}}], %{{[^,]*}}, %{{[^ ]*}} : memref<128x?xf32
// AVX2-LABEL: func.func @wide_and_dynamic(
// AVX2:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2
// AVX2:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// AVX2:           scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// AVX2:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2
// AVX2:         scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// AVX2-COUNT-4:     vector.transfer_read %arg3[%{{[^]]*}}], %{{[^,]*}}, %{{[^ ]*}} : memref<128x?xf32, strided<[64, 1]>>, vector<8xf32>
func.func @wide_and_dynamic(%x: memref<?x128xf32, strided<[128, 1]>>,
                            %s: memref<128x128xf32>,
                            %out: memref<?x128xf32, strided<[128, 1]>>,
                            %t: memref<128x?xf32, strided<[64, 1]>>,
                            %out2: memref<?x?xf32, strided<[64, 1]>>) {
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %s : memref<?x128xf32, strided<[128, 1]>>, memref<128x128xf32>)
      outs(%out : memref<?x128xf32, strided<[128, 1]>>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %t : memref<?x128xf32, strided<[128, 1]>>, memref<128x?xf32, strided<[64, 1]>>)
      outs(%out2 : memref<?x?xf32, strided<[64, 1]>>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}
