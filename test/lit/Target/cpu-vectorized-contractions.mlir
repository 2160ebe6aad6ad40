// linac-vectorize-contractions rewrites the contractions whose operands all
// have unit-stride rows (the staged chunk buffers, local tiles) and leaves the
// others to convert-linalg-to-loops: a column-major, a strided or a
// dynamically strided operand (its inner stride unknown) is left alone.
//
// RUN: linac-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(linac-vectorize-contractions))' | FileCheck %s

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d2)>

// out[i, j] += sum_r a[i, r] b[r, j], every row contiguous: a micro-kernel.
// CHECK-LABEL: func.func @rank_one_unit_stride(
// CHECK-NOT:     linalg.generic
// CHECK:         vector.fma {{.*}} : vector<16xf32>
// CHECK-NOT:     linalg.generic
// CHECK:         return
func.func @rank_one_unit_stride(%a: memref<?x64xf32, strided<[64, 1]>>,
                                %b: memref<64x64xf32>,
                                %c: memref<?x64xf32, strided<[64, 1]>>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<?x64xf32, strided<[64, 1]>>, memref<64x64xf32>)
      outs(%c : memref<?x64xf32, strided<[64, 1]>>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d2)>

// The same product with a column-major lhs (inner stride 64): unchanged.
// CHECK-LABEL: func.func @rank_one_column_major_lhs(
// CHECK-NOT:     vector.
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME:      ins(%{{.*}}, %{{.*}} : memref<64x64xf32, strided<[1, 64]>>, memref<64x64xf32>)
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK-NOT:     vector.
// CHECK:         return
func.func @rank_one_column_major_lhs(%a: memref<64x64xf32, strided<[1, 64]>>,
                                     %b: memref<64x64xf32>,
                                     %c: memref<64x64xf32>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<64x64xf32, strided<[1, 64]>>, memref<64x64xf32>)
      outs(%c : memref<64x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d2)>

// An rhs read every other element (inner stride 2), as a strided view of a
// [B, T, H, K] input would be: unchanged.
// CHECK-LABEL: func.func @rank_one_strided_rhs(
// CHECK-NOT:     vector.
// CHECK:         linalg.generic
// CHECK-SAME:      memref<?x64xf32, strided<[?, 2], offset: ?>>
// CHECK-NOT:     vector.
// CHECK:         return
func.func @rank_one_strided_rhs(%a: memref<?x?xf32, strided<[64, 1]>>,
                                %b: memref<?x64xf32, strided<[?, 2], offset: ?>>,
                                %c: memref<?x64xf32, strided<[64, 1]>>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<?x?xf32, strided<[64, 1]>>, memref<?x64xf32, strided<[?, 2], offset: ?>>)
      outs(%c : memref<?x64xf32, strided<[64, 1]>>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#q = affine_map<(d0, d1, d2) -> (d0, d2)>
#k = affine_map<(d0, d1, d2) -> (d1, d2)>
#p = affine_map<(d0, d1, d2) -> (d0, d1)>

// out[i, j] += sum_d a[i, d] b[j, d] on contiguous rows: the dot-product
// micro-kernel, 4 x 4 sums accumulated lane-wise, then reduced together:
// four levels of shuffles and adds (to 8, 4, 2 and 1 vectors) leave sum n of
// the tile in lane n, four lanes per output row.
// CHECK-LABEL: func.func @dot_product_unit_stride(
// CHECK-NOT:     linalg.generic
// CHECK:         vector.fma {{.*}} : vector<16xf32>
// CHECK:         vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]
// CHECK:         vector.shuffle %{{.*}}, %{{.*}} [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]
// CHECK:         vector.shuffle %{{.*}}, %{{.*}} [0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29]
// CHECK:         %[[EVEN:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK-NEXT:    %[[ODD:.*]] = vector.shuffle %{{.*}}, %{{.*}} [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// CHECK-NEXT:    %[[SUMS:.*]] = arith.addf %[[EVEN]], %[[ODD]] : vector<16xf32>
// CHECK:         vector.extract_strided_slice %[[SUMS]] {offsets = [12], sizes = [4], strides = [1]} : vector<16xf32> to vector<4xf32>
// CHECK-NOT:     vector.reduction
// CHECK-NOT:     linalg.generic
// CHECK:         return
func.func @dot_product_unit_stride(%a: memref<?x64xf32, strided<[64, 1]>>,
                                   %b: memref<?x64xf32, strided<[64, 1]>>,
                                   %c: memref<?x?xf32, strided<[64, 1]>>) {
  linalg.generic {indexing_maps = [#q, #k, #p],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x64xf32, strided<[64, 1]>>, memref<?x64xf32, strided<[64, 1]>>)
      outs(%c : memref<?x?xf32, strided<[64, 1]>>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#q = affine_map<(d0, d1, d2) -> (d0, d2)>
#k = affine_map<(d0, d1, d2) -> (d1, d2)>
#p = affine_map<(d0, d1, d2) -> (d0, d1)>

// The same with the keys as an unstaged view of the input, whose inner
// stride is only known at run time: unchanged.
// CHECK-LABEL: func.func @dot_product_dynamic_stride(
// CHECK-NOT:     vector.
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME:      memref<?x64xf32, strided<[?, ?], offset: ?>>
// CHECK-NOT:     vector.
// CHECK:         return
func.func @dot_product_dynamic_stride(%a: memref<?x64xf32, strided<[64, 1]>>,
                                      %b: memref<?x64xf32, strided<[?, ?], offset: ?>>,
                                      %c: memref<?x?xf32, strided<[64, 1]>>) {
  linalg.generic {indexing_maps = [#q, #k, #p],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x64xf32, strided<[64, 1]>>, memref<?x64xf32, strided<[?, ?], offset: ?>>)
      outs(%c : memref<?x?xf32, strided<[64, 1]>>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#lhs = affine_map<(d0, d1, d2) -> (d0, d1)>
#rhs = affine_map<(d0, d1, d2) -> (d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d2)>

// A strided output (every other column) is left alone too.
// CHECK-LABEL: func.func @rank_one_strided_output(
// CHECK-NOT:     vector.
// CHECK:         linalg.generic
// CHECK-SAME:      outs(%{{.*}} : memref<64x32xf32, strided<[64, 2]>>)
// CHECK-NOT:     vector.
// CHECK:         return
func.func @rank_one_strided_output(%a: memref<64x64xf32>, %b: memref<64x32xf32>,
                                   %c: memref<64x32xf32, strided<[64, 2]>>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<64x64xf32>, memref<64x32xf32>)
      outs(%c : memref<64x32xf32, strided<[64, 2]>>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
