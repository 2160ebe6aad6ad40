// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-map-to-gpu

// What linac-map-to-gpu cannot put on a GPU.

// 512 x 128 f32 = 256 KiB, over the 227 KiB a block of sm_90 may opt in to.
#id = affine_map<(d0, d1) -> (d0, d1)>
// expected-error @+1 {{'func.func' op needs 262144 bytes of shared memory per block (limit 232448 on sm_90): use a smaller value tile or chunk size}}
func.func @too_much_shared_memory(%out: memref<?x?x512x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x?x512x128xf32>
  %h = memref.dim %out, %c1 : memref<?x?x512x128xf32>
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    %buf = memref.alloca() : memref<512x128xf32>
    %dst = memref.subview %out[%sq, %hd, 0, 0] [1, 1, 512, 128] [1, 1, 1, 1] : memref<?x?x512x128xf32> to memref<512x128xf32, strided<[128, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%buf : memref<512x128xf32>) outs(%dst : memref<512x128xf32, strided<[128, 1], offset: ?>>) {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    }
    scf.reduce
  } {linac.grid = ["head", "sequence"]}
  return
}

// -----

func.func @dynamic_local_buffer(%out: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x?x8xf32>
  %h = memref.dim %out, %c1 : memref<?x?x8xf32>
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    // expected-error @+1 {{'memref.alloca' op a GPU kernel needs static local buffers}}
    %buf = memref.alloca(%n) : memref<?xf32>
    scf.reduce
  } {linac.grid = ["head", "sequence"]}
  return
}

// -----

func.func @roles_mismatch(%out: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x?x8xf32>
  %h = memref.dim %out, %c1 : memref<?x?x8xf32>
  // expected-error @+1 {{'scf.parallel' op a linac grid names the role of each dimension}}
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

// The host part of a kernel may only compute sizes and conditions.
func.func @side_effect_before_grid(%out: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %x = arith.constant 1.0 : f32
  // expected-error @+1 {{'memref.store' op only side-effect-free ops may precede a linac grid on the GPU}}
  memref.store %x, %out[%c0, %c0, %c0] : memref<?x?x8xf32>
  %n = memref.dim %out, %c0 : memref<?x?x8xf32>
  %h = memref.dim %out, %c1 : memref<?x?x8xf32>
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    scf.reduce
  } {linac.grid = ["head", "sequence"]}
  return
}

// -----

// A sequential loop that writes memory runs on thread 0, so nothing after it
// may use its results.
func.func @thread_zero_result_used(%out: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %out, %c0 : memref<?x?x8xf32>
  %h = memref.dim %out, %c1 : memref<?x?x8xf32>
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    %buf = memref.alloca() : memref<8xf32>
    // expected-error @+1 {{'scf.for' op writes memory and defines values used later; it cannot run on a single GPU thread}}
    %sum = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %zero) -> (f32) {
      %next = arith.addf %acc, %acc : f32
      memref.store %next, %buf[%i] : memref<8xf32>
      scf.yield %next : f32
    }
    memref.store %sum, %out[%sq, %hd, %c0] : memref<?x?x8xf32>
    scf.reduce
  } {linac.grid = ["head", "sequence"]}
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @two_outputs(%out: memref<?x?x8x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x?x8x8xf32>
  %h = memref.dim %out, %c1 : memref<?x?x8x8xf32>
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    %a = memref.alloca() : memref<8x8xf32>
    %b = memref.alloca() : memref<8x8xf32>
    // expected-error @+1 {{'linalg.generic' op only single-output linalg ops on buffers can be mapped to GPU threads}}
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        outs(%a, %b : memref<8x8xf32>, memref<8x8xf32>) {
    ^bb0(%x: f32, %y: f32):
      linalg.yield %x, %y : f32, f32
    }
    scf.reduce
  } {linac.grid = ["head", "sequence"]}
  return
}

// -----

// A convolution-like access (d0 + d1) is not a projected permutation.
#shifted = affine_map<(d0, d1) -> (d0 + d1)>
#tap = affine_map<(d0, d1) -> (d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @not_a_permutation(%out: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %out, %c0 : memref<?x?x8xf32>
  %h = memref.dim %out, %c1 : memref<?x?x8xf32>
  scf.parallel (%hd, %sq) = (%c0, %c0) to (%h, %n) step (%c1, %c1) {
    %in = memref.alloca() : memref<11xf32>
    %f = memref.alloca() : memref<4xf32>
    %o = memref.alloca() : memref<8xf32>
    // expected-error @+1 {{'linalg.generic' op indexing maps must be projected permutations to map to GPU threads}}
    linalg.generic {indexing_maps = [#shifted, #tap, #row], iterator_types = ["parallel", "reduction"]}
        ins(%in, %f : memref<11xf32>, memref<4xf32>) outs(%o : memref<8xf32>) {
    ^bb0(%x: f32, %w: f32, %y: f32):
      %p = arith.mulf %x, %w : f32
      %s = arith.addf %p, %y : f32
      linalg.yield %s : f32
    }
    scf.reduce
  } {linac.grid = ["head", "sequence"]}
  return
}

// -----

// A prefetch mark (linac-double-buffer-inputs) of an unknown kind.
#id = affine_map<(d0) -> (d0)>
func.func @unknown_prefetch(%g: memref<?x16xf32>, %n: index, %more: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %buf = memref.alloca() : memref<16xf32>
    // expected-error @+1 {{'scf.if' op is marked linac.prefetch = "later"; expected an scf.if with no results or else branch, marked "first" or "next"}}
    scf.if %more {
      %src = memref.subview %g[%sq, 0] [1, 16] [1, 1] : memref<?x16xf32> to memref<16xf32, strided<[1], offset: ?>>
      linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
          ins(%src : memref<16xf32, strided<[1], offset: ?>>) outs(%buf : memref<16xf32>) {
      ^bb0(%in: f32, %o: f32):
        linalg.yield %in : f32
      }
    } {linac.prefetch = "later"}
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}

// -----

// A thread-parallel loop must be an scf.for whose body has no linalg ops to
// distribute (its iterations run whole on one thread each).
#id1 = affine_map<(d0) -> (d0)>
func.func @thread_parallel_with_linalg(%out: memref<?x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %out, %c0 : memref<?x16xf32>
  scf.parallel (%sq) = (%c0) to (%n) step (%c1) {
    %buf = memref.alloca() : memref<16xf32>
    // expected-error @+1 {{'scf.for' op is marked linac.thread_parallel; expected an scf.for without results or linalg ops inside}}
    scf.for %c = %c0 to %c4 step %c1 {
      linalg.generic {indexing_maps = [#id1], iterator_types = ["parallel"]} outs(%buf : memref<16xf32>) {
      ^bb0(%o: f32):
        linalg.yield %o : f32
      }
    } {linac.thread_parallel}
    scf.reduce
  } {linac.grid = ["sequence"]}
  return
}
