// RUN: linac-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(linac-vectorize-contractions))' | FileCheck %s

// An op just before a rank-1 contraction that only rewrites the
// contraction's output in place is folded into the micro-kernel's first
// read of the output: the state update's decay S *= f ...

#id = affine_map<(d0, d1) -> (d0, d1)>
#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d0, d2)>
#o = affine_map<(d0, d1, d2) -> (d1, d2)>

// CHECK-LABEL: func.func @state_decay_folded(
// CHECK-SAME:    %{{.*}}: memref<?x64xf32, strided<[64, 1]>>, %{{.*}}: memref<?x64xf32, strided<[64, 1]>>, %[[S:.*]]: memref<64x64xf32>, %[[F:.*]]: f32)
// CHECK-NOT:     linalg.generic
// CHECK:         %[[SPLAT:.*]] = vector.broadcast %[[F]] : f32 to vector<16xf32>
// CHECK:         %[[OLD:.*]] = vector.transfer_read %[[S]]
// CHECK-NEXT:    arith.mulf %[[OLD]], %[[SPLAT]] : vector<16xf32>
// CHECK:         vector.fma
// CHECK-NOT:     linalg.generic
func.func @state_decay_folded(%k: memref<?x64xf32, strided<[64, 1]>>,
                              %v: memref<?x64xf32, strided<[64, 1]>>,
                              %S: memref<64x64xf32>, %f: f32) {
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
      outs(%S : memref<64x64xf32>) {
  ^bb0(%s: f32):
    %d = arith.mulf %s, %f : f32
    linalg.yield %d : f32
  }
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["reduction", "parallel", "parallel"]}
      ins(%k, %v : memref<?x64xf32, strided<[64, 1]>>, memref<?x64xf32, strided<[64, 1]>>)
      outs(%S : memref<64x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// ... a decay per row of the state (gated linear attention), its exp
// computed once per row of the tile from the row's gate ...

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d0, d2)>
#o = affine_map<(d0, d1, d2) -> (d1, d2)>

// CHECK-LABEL: func.func @row_decay_folded(
// CHECK-SAME:    %[[G:[a-z0-9]+]]: memref<64xf32>)
// CHECK-NOT:     linalg.generic
// CHECK:         %[[GATE:.*]] = memref.load %[[G]][%{{.*}}] : memref<64xf32>
// CHECK-NEXT:    %[[E:.*]] = math.exp %[[GATE]] : f32
// CHECK-NEXT:    %[[SPLAT:.*]] = vector.broadcast %[[E]] : f32 to vector<16xf32>
// CHECK:         %[[OLD:.*]] = vector.transfer_read
// CHECK-NEXT:    arith.mulf %[[OLD]], %[[SPLAT]] : vector<16xf32>
// CHECK:         vector.fma
func.func @row_decay_folded(%k: memref<?x64xf32, strided<[64, 1]>>,
                            %v: memref<?x64xf32, strided<[64, 1]>>,
                            %S: memref<64x64xf32>, %g: memref<64xf32>) {
  linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g : memref<64xf32>) outs(%S : memref<64x64xf32>) {
  ^bb0(%x: f32, %s: f32):
    %e = math.exp %x : f32
    %d = arith.mulf %s, %e : f32
    linalg.yield %d : f32
  }
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["reduction", "parallel", "parallel"]}
      ins(%k, %v : memref<?x64xf32, strided<[64, 1]>>, memref<?x64xf32, strided<[64, 1]>>)
      outs(%S : memref<64x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// ... and a zero fill before Q S: the accumulators start at the fill value,
// the output is not read.

#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d2)>

// CHECK-LABEL: func.func @fill_folded(
// CHECK-NOT:     linalg.fill
// CHECK-NOT:     vector.transfer_read %arg2
// CHECK:         vector.fma
// CHECK:         vector.transfer_write %{{.*}}, %arg2
func.func @fill_folded(%q: memref<?x64xf32, strided<[64, 1]>>,
                       %s: memref<64x64xf32>,
                       %out: memref<?x64xf32, strided<[64, 1]>>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%out : memref<?x64xf32, strided<[64, 1]>>)
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%q, %s : memref<?x64xf32, strided<[64, 1]>>, memref<64x64xf32>)
      outs(%out : memref<?x64xf32, strided<[64, 1]>>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  }
  return
}

// -----

// Not folded: an op that reads the output elsewhere (a transpose) or
// scales it by column.

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d0, d2)>
#o = affine_map<(d0, d1, d2) -> (d1, d2)>

// CHECK-LABEL: func.func @column_scale_kept(
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK:         vector.fma
func.func @column_scale_kept(%k: memref<?x64xf32, strided<[64, 1]>>,
                             %v: memref<?x64xf32, strided<[64, 1]>>,
                             %S: memref<64x64xf32>, %g: memref<64xf32>) {
  linalg.generic {indexing_maps = [#col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%g : memref<64xf32>) outs(%S : memref<64x64xf32>) {
  ^bb0(%x: f32, %s: f32):
    %d = arith.mulf %s, %x : f32
    linalg.yield %d : f32
  }
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["reduction", "parallel", "parallel"]}
      ins(%k, %v : memref<?x64xf32, strided<[64, 1]>>, memref<?x64xf32, strided<[64, 1]>>)
      outs(%S : memref<64x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Not folded: the product also reads the output's buffer (through a view),
// which must see the scaled values.

#id = affine_map<(d0, d1) -> (d0, d1)>
#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d2)>

// CHECK-LABEL: func.func @output_read_elsewhere_kept(
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel"]
// CHECK:         vector.fma
func.func @output_read_elsewhere_kept(%x: memref<?x64xf32, strided<[64, 1]>>,
                                      %S: memref<64x64xf32>, %f: f32) {
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
      outs(%S : memref<64x64xf32>) {
  ^bb0(%s: f32):
    %d = arith.mulf %s, %f : f32
    linalg.yield %d : f32
  }
  %view = memref.subview %S[0, 0] [64, 64] [1, 1] : memref<64x64xf32> to memref<64x64xf32, strided<[64, 1]>>
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%view, %view : memref<64x64xf32, strided<[64, 1]>>, memref<64x64xf32, strided<[64, 1]>>)
      outs(%S : memref<64x64xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  }
  return
}
