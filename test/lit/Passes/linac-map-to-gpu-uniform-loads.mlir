// RUN: linac-opt %s -split-input-file -linac-map-to-gpu=block-size=64 -canonicalize -cse | FileCheck %s

// linac-map-to-gpu: a load that every thread runs (a scalar the block's
// control flow depends on) is followed by a barrier before the next phase
// that writes its buffer, so that no warp overwrites the value before
// another has loaded it (GLA's factored band reads the largest gate sum from
// the workspace and then writes rescaled rows over it). A phase that writes
// other buffers, or another kernel argument, needs no extra barrier.

#id = affine_map<(d0) -> (d0)>

// CHECK-LABEL: gpu.func @overwrites_the_loaded_buffer(
// CHECK:         gpu.barrier
// CHECK:         %[[LARGEST:.*]] = memref.load %{{.*}}[%c0] : memref<16xf32, #gpu.address_space<workgroup>>
// CHECK:         %[[SMALL:.*]] = arith.cmpf ole, %[[LARGEST]]
// CHECK-NEXT:    gpu.barrier
// CHECK-NEXT:    scf.if %[[SMALL]] {
// CHECK:           memref.store %{{.*}}, %{{.*}} : memref<16xf32, #gpu.address_space<workgroup>>
func.func @overwrites_the_loaded_buffer(%x: memref<?x16xf32>, %out: memref<?x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %limit = arith.constant 20.0 : f32
  %n = memref.dim %x, %c0 : memref<?x16xf32>
  scf.parallel (%s) = (%c0) to (%n) step (%c1) {
    %work = memref.alloca() : memref<16xf32>
    %xs = memref.subview %x[%s, 0] [1, 16] [1, 1] : memref<?x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    %os = memref.subview %out[%s, 0] [1, 16] [1, 1] : memref<?x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%xs : memref<16xf32, strided<[1], offset: ?>>) outs(%work : memref<16xf32>) {
    ^bb0(%a: f32, %b: f32):
      linalg.yield %a : f32
    }
    %largest = memref.load %work[%c0] : memref<16xf32>
    %small = arith.cmpf ole, %largest, %limit : f32
    scf.if %small {
      linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%xs : memref<16xf32, strided<[1], offset: ?>>) outs(%work : memref<16xf32>) {
      ^bb0(%a: f32, %b: f32):
        %e = math.exp %a : f32
        linalg.yield %e : f32
      }
    }
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%work : memref<16xf32>) outs(%os : memref<16xf32, strided<[1], offset: ?>>) {
    ^bb0(%a: f32, %b: f32):
      linalg.yield %a : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

#id = affine_map<(d0) -> (d0)>

// A load of one argument and a phase that writes another (the runtime never
// passes an output that aliases an input), or another shared buffer: no
// barrier between the load and the phase.
// CHECK-LABEL: gpu.func @writes_other_buffers(
// CHECK:         %[[SCALE:.*]] = memref.load %{{.*}}[%c0] : memref<?xf32>
// CHECK-NEXT:    scf.for
// CHECK:           arith.mulf %{{.*}}, %[[SCALE]]
// CHECK:         gpu.barrier
// CHECK-NEXT:    scf.for
// CHECK:         gpu.barrier
// CHECK-NEXT:    gpu.return
func.func @writes_other_buffers(%x: memref<?x16xf32>, %scale: memref<?xf32>, %out: memref<?x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?x16xf32>
  scf.parallel (%s) = (%c0) to (%n) step (%c1) {
    %work = memref.alloca() : memref<16xf32>
    %xs = memref.subview %x[%s, 0] [1, 16] [1, 1] : memref<?x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    %os = memref.subview %out[%s, 0] [1, 16] [1, 1] : memref<?x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    %factor = memref.load %scale[%c0] : memref<?xf32>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%xs : memref<16xf32, strided<[1], offset: ?>>) outs(%work : memref<16xf32>) {
    ^bb0(%a: f32, %b: f32):
      %m = arith.mulf %a, %factor : f32
      linalg.yield %m : f32
    }
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%work : memref<16xf32>) outs(%os : memref<16xf32, strided<[1], offset: ?>>) {
    ^bb0(%a: f32, %b: f32):
      linalg.yield %a : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}
