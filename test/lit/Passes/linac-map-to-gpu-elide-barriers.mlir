// RUN: linac-opt %s -split-input-file -linac-map-to-gpu="block-size=64 elide-barriers=true" -canonicalize | FileCheck %s
// RUN: linac-opt %s -split-input-file -linac-map-to-gpu="block-size=64" -canonicalize | FileCheck %s --check-prefix=EVERY

// linac-map-to-gpu{elide-barriers}: a barrier after every distributed op,
// then those between phases with no conflicting accesses erased. Here: fill
// X; fill A; fill B; copy A to C; copy B to D; copy X to global memory. The
// barriers after the first and the last phase stay (the block's ends); the
// one between the fills of A and B goes (different buffers); the one before
// the copy of A stays (it reads what the fill of A wrote, on other threads);
// the ones between the copies go (A, C against B, D against X and global
// memory; X was written before a barrier that stays).
#id = affine_map<(d0) -> (d0)>
// CHECK-LABEL: gpu.func @independent_phases(
// CHECK-SAME:    workgroup(%[[X:[^ ]+]] : memref<64xf32, {{.*}}, %[[A:[^ ]+]] : memref<64xf32, {{.*}}, %[[B:[^ ]+]] : memref<64xf32, {{.*}}, %[[C:[^ ]+]] : memref<64xf32, {{.*}}, %[[D:[^ ]+]] : memref<64xf32,
// CHECK:         memref.store %{{.*}}, %[[X]][
// CHECK-NEXT:    gpu.barrier
// CHECK-NEXT:    memref.store %{{.*}}, %[[A]][
// CHECK-NEXT:    memref.store %{{.*}}, %[[B]][
// CHECK-NEXT:    gpu.barrier
// CHECK-NEXT:    memref.load %[[A]][
// CHECK-NEXT:    memref.store %{{.*}}, %[[C]][
// CHECK-NEXT:    memref.load %[[B]][
// CHECK-NEXT:    memref.store %{{.*}}, %[[D]][
// CHECK-NOT:     gpu.barrier
// CHECK:         memref.load %[[X]][
// CHECK-NEXT:    memref.store
// CHECK-NEXT:    gpu.barrier
// CHECK-NEXT:    gpu.return
// EVERY-LABEL: gpu.func @independent_phases(
// EVERY-COUNT-6: gpu.barrier
// EVERY-NOT:     gpu.barrier
func.func @independent_phases(%out: memref<?x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  %n = memref.dim %out, %c0 : memref<?x64xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %x = memref.alloca() : memref<64xf32>
    %a = memref.alloca() : memref<64xf32>
    %b = memref.alloca() : memref<64xf32>
    %c = memref.alloca() : memref<64xf32>
    %d = memref.alloca() : memref<64xf32>
    linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%x : memref<64xf32>) {
    ^bb0(%o: f32):
      linalg.yield %one : f32
    }
    linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%a : memref<64xf32>) {
    ^bb0(%o: f32):
      linalg.yield %one : f32
    }
    linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%b : memref<64xf32>) {
    ^bb0(%o: f32):
      linalg.yield %one : f32
    }
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%a : memref<64xf32>) outs(%c : memref<64xf32>) {
    ^bb0(%i: f32, %o: f32):
      linalg.yield %i : f32
    }
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%b : memref<64xf32>) outs(%d : memref<64xf32>) {
    ^bb0(%i: f32, %o: f32):
      linalg.yield %i : f32
    }
    %e = memref.subview %out[%sq, 0] [1, 64] [1, 1] : memref<?x64xf32> to memref<64xf32, strided<[1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : memref<64xf32>) outs(%e : memref<64xf32, strided<[1], offset: ?>>) {
    ^bb0(%i: f32, %o: f32):
      linalg.yield %i : f32
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

// In a loop's body the same, its first and last barriers kept (the next
// iteration's first phases meet the last ones): fill A; fill B; copy A to C;
// copy B to D. The fill of B and the copy of A share a phase; the copy of B
// reads what the fill of B wrote and keeps its barrier.
#id = affine_map<(d0) -> (d0)>
// EVERY-LABEL: gpu.func @loop_phases(
// EVERY-COUNT-4: gpu.barrier
// EVERY-NOT:     gpu.barrier
// CHECK-LABEL: gpu.func @loop_phases(
// CHECK-SAME:    workgroup(%[[A:[^ ]+]] : memref<64xf32, {{.*}}, %[[B:[^ ]+]] : memref<64xf32, {{.*}}, %[[C:[^ ]+]] : memref<64xf32, {{.*}}, %[[D:[^ ]+]] : memref<64xf32,
// CHECK:         scf.for
// CHECK-NEXT:      memref.store %{{.*}}, %[[A]][
// CHECK-NEXT:      gpu.barrier
// CHECK-NEXT:      memref.store %{{.*}}, %[[B]][
// CHECK-NEXT:      memref.load %[[A]][
// CHECK-NEXT:      memref.store %{{.*}}, %[[C]][
// CHECK-NEXT:      gpu.barrier
// CHECK-NEXT:      memref.load %[[B]][
// CHECK-NEXT:      memref.store %{{.*}}, %[[D]][
// CHECK-NEXT:      gpu.barrier
// CHECK-NEXT:    }
func.func @loop_phases(%out: memref<?x64xf32>, %steps: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  %n = memref.dim %out, %c0 : memref<?x64xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %a = memref.alloca() : memref<64xf32>
    %b = memref.alloca() : memref<64xf32>
    %c = memref.alloca() : memref<64xf32>
    %d = memref.alloca() : memref<64xf32>
    scf.for %i = %c0 to %steps step %c1 {
      linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%a : memref<64xf32>) {
      ^bb0(%o: f32):
        linalg.yield %one : f32
      }
      linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%b : memref<64xf32>) {
      ^bb0(%o: f32):
        linalg.yield %one : f32
      }
      linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%a : memref<64xf32>) outs(%c : memref<64xf32>) {
      ^bb0(%x: f32, %o: f32):
        linalg.yield %x : f32
      }
      linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%b : memref<64xf32>) outs(%d : memref<64xf32>) {
      ^bb0(%x: f32, %o: f32):
        linalg.yield %x : f32
      }
    }
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}
