// RUN: linac-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(linac-vectorize-contractions, canonicalize, cse))' | FileCheck %s

// A prefetch loop nest marked linac.deferred_prefetch (the next chunk's rows,
// from linac-tile-chunk-loop) is spread over the rank-1 contractions after it
// in its block: each takes a share of its lines in proportion to its
// multiply-adds (here 64 x 64 x 32 and 64 x 64 x 128: the lines [0, n/5) and
// [n/5, n) of n = rows x 2 lines; a dynamic extent counts as 64), a few lines
// per output tile, issued between parts of the tile's reduction: one burst
// at the middle of a reduction shorter than 48 steps, two at its thirds below
// 64, three at its quarters from 64 on. The loop nest itself is gone.

#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d2)>

// CHECK-LABEL: func.func @spread_over_products(
// CHECK-SAME:    %[[X:[a-z0-9]+]]: memref<?x?x32xf32>, %[[ROWS:[a-z0-9]+]]: index
// Lines of the nest: rows x 2 (32 floats, 16 a line); the first product
// takes [0, total * 131072 / 655360), ceil(that / tiles) a tile (4-row tiles).
// CHECK:         %[[COUNT:.*]] = arith.maxsi %[[ROWS]], %c0 : index
// CHECK:         %[[SCALED:.*]] = arith.muli %[[COUNT]], %c262144 : index
// CHECK:         %[[THIRD:.*]] = arith.divui %[[SCALED]], %c655360 : index
// CHECK:         %[[PER:.*]] = arith.ceildivui %[[THIRD]], %{{.*}} : index
// CHECK:         scf.for %[[I0:.*]] = %c0 to %{{.*}} step %c4 {
// CHECK:           %[[TILE:.*]] = arith.divui %[[I0]], %c4 : index
// CHECK:           scf.for %{{.*}} = %c0 to %c16 step %c1 iter_args(
// CHECK:             vector.fma
// CHECK:           }
// CHECK:           %[[FIRST0:.*]] = arith.muli %[[TILE]], %[[PER]] : index
// CHECK:           %[[FIRST:.*]] = arith.minsi %[[FIRST0]], %[[THIRD]] : index
// CHECK:           %[[LAST:.*]] = arith.minsi %{{.*}}, %[[THIRD]] : index
// CHECK:           scf.for %[[LINE:.*]] = %[[FIRST]] to %[[LAST]] step %c1 {
// CHECK:             %[[ROW:.*]] = arith.divui %[[LINE]], %c2 : index
// CHECK:             %[[N:.*]] = arith.remui %[[LINE]], %c2 : index
// CHECK:             %[[COL:.*]] = arith.muli %[[N]], %c16 : index
// CHECK:             memref.prefetch %[[X]][%c0, %[[ROW]], %[[COL]]], read, locality<2>, data
// CHECK:           }
// CHECK:           scf.for %{{.*}} = %c16 to %c32 step %c1 iter_args(
// CHECK:             vector.fma
// CHECK:           vector.transfer_write
// The second product: lines [total / 5, total), in three bursts a tile,
// after reduction steps 32, 64 and 96 of 128.
// CHECK:         %[[END:.*]] = arith.divui %{{.*}}, %c655360 : index
// CHECK:         scf.for %{{.*}} = %c0 to %c64 step %c4 {
// CHECK:           scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args(
// CHECK:           arith.minsi %{{.*}}, %[[END]] : index
// CHECK:           scf.for
// CHECK:             memref.prefetch %[[X]]
// CHECK:           scf.for %{{.*}} = %c32 to %c64 step %c1 iter_args(
// CHECK:           scf.for
// CHECK:             memref.prefetch %[[X]]
// CHECK:           scf.for %{{.*}} = %c64 to %c96 step %c1 iter_args(
// CHECK:           scf.for
// CHECK:             memref.prefetch %[[X]]
// CHECK:           scf.for %{{.*}} = %c96 to %c128 step %c1 iter_args(
// No prefetch loop nest is left outside the products.
// CHECK-NOT:     memref.prefetch
// CHECK:         return
func.func @spread_over_products(%x: memref<?x?x32xf32>, %rows: index,
                                %a: memref<?x32xf32, strided<[32, 1]>>,
                                %s: memref<32x64xf32>,
                                %o: memref<?x64xf32, strided<[64, 1]>>,
                                %u: memref<64x128xf32>,
                                %w: memref<128x64xf32>,
                                %t: memref<64x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  scf.for %r = %c0 to %rows step %c1 {
    scf.for %col = %c0 to %c32 step %c16 {
      memref.prefetch %x[%c0, %r, %col], read, locality<2>, data : memref<?x?x32xf32>
    }
  } {linac.deferred_prefetch}
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %s : memref<?x32xf32, strided<[32, 1]>>, memref<32x64xf32>)
      outs(%o : memref<?x64xf32, strided<[64, 1]>>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %sum = arith.addf %acc, %m : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%u, %w : memref<64x128xf32>, memref<128x64xf32>)
      outs(%t : memref<64x64xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %sum = arith.addf %acc, %m : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// Unmarked, or with no rank-1 contraction after it, a prefetch loop nest
// stays where it is.

#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d2)>

// CHECK-LABEL: func.func @kept_in_place(
// CHECK:         scf.for
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.prefetch
// CHECK:         vector.fma
// CHECK:         scf.for
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.prefetch
// CHECK:         } {linac.deferred_prefetch}
// CHECK-NEXT:    return
func.func @kept_in_place(%x: memref<?x?x32xf32>, %rows: index,
                         %a: memref<?x64xf32, strided<[64, 1]>>,
                         %s: memref<64x64xf32>,
                         %o: memref<?x64xf32, strided<[64, 1]>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  scf.for %r = %c0 to %rows step %c1 {
    scf.for %col = %c0 to %c32 step %c16 {
      memref.prefetch %x[%c0, %r, %col], read, locality<2>, data : memref<?x?x32xf32>
    }
  }
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %s : memref<?x64xf32, strided<[64, 1]>>, memref<64x64xf32>)
      outs(%o : memref<?x64xf32, strided<[64, 1]>>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %sum = arith.addf %acc, %m : f32
    linalg.yield %sum : f32
  }
  scf.for %r = %c0 to %rows step %c1 {
    scf.for %col = %c0 to %c32 step %c16 {
      memref.prefetch %x[%c0, %r, %col], read, locality<2>, data : memref<?x?x32xf32>
    }
  } {linac.deferred_prefetch}
  return
}

// -----

// Rows of one line each (the line loop folded away): whole rows are the
// unit, issued at iteration r of the row loop.

#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#o = affine_map<(d0, d1, d2) -> (d0, d2)>

// CHECK-LABEL: func.func @one_line_rows(
// CHECK-SAME:    %[[X:[a-z0-9]+]]: memref<?x?x16xf32>, %[[ROWS:[a-z0-9]+]]: index
// CHECK:         scf.for %{{.*}} = %c0 to %{{.*}} step %c4 {
// CHECK:           scf.for %{{.*}} = %c0 to %c16 step %c1 iter_args(
// CHECK:           scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK-NEXT:        memref.prefetch %[[X]][%c0, %[[R]], %c0], read, locality<2>, data
// CHECK-NEXT:      }
// CHECK:           scf.for %{{.*}} = %c16 to %c32 step %c1 iter_args(
// CHECK:           memref.prefetch %[[X]]
// CHECK:           scf.for %{{.*}} = %c32 to %c48 step %c1 iter_args(
// CHECK:           memref.prefetch %[[X]]
// CHECK:           scf.for %{{.*}} = %c48 to %c64 step %c1 iter_args(
// CHECK-NOT:     memref.prefetch
// CHECK:         return
func.func @one_line_rows(%x: memref<?x?x16xf32>, %rows: index,
                         %a: memref<?x64xf32, strided<[64, 1]>>,
                         %s: memref<64x64xf32>,
                         %o: memref<?x64xf32, strided<[64, 1]>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %r = %c0 to %rows step %c1 {
    memref.prefetch %x[%c0, %r, %c0], read, locality<2>, data : memref<?x?x16xf32>
  } {linac.deferred_prefetch}
  linalg.generic {indexing_maps = [#a, #b, #o],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %s : memref<?x64xf32, strided<[64, 1]>>, memref<64x64xf32>)
      outs(%o : memref<?x64xf32, strided<[64, 1]>>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %sum = arith.addf %acc, %m : f32
    linalg.yield %sum : f32
  }
  return
}
