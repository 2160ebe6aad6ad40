// RUN: linac-opt %s -split-input-file -linac-erase-unobserved-writes | FileCheck %s

// linac-erase-unobserved-writes: writes into local buffers that nothing reads
// go; writes to arguments, and writes some other op reads, stay.

#id = affine_map<(d0) -> (d0)>

// CHECK-LABEL: func.func @unread_buffer
// CHECK-NOT:     linalg.generic
// CHECK-NOT:     linalg.fill
// CHECK:         return
func.func @unread_buffer(%in: memref<8xf32>) {
  %cst = arith.constant 0.0 : f32
  %scratch = memref.alloca() : memref<8xf32>
  linalg.fill ins(%cst : f32) outs(%scratch : memref<8xf32>)
  // It reads its own output: an accumulation nothing else sees.
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%in : memref<8xf32>) outs(%scratch : memref<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#id = affine_map<(d0) -> (d0)>

// An argument is observable; so is a local buffer copied out to one.
// CHECK-LABEL: func.func @observed
// CHECK:         linalg.fill
// CHECK:         linalg.copy
// CHECK:         linalg.fill
// CHECK:         return
func.func @observed(%out: memref<8xf32>, %out2: memref<8xf32>) {
  %cst = arith.constant 1.0 : f32
  %scratch = memref.alloca() : memref<8xf32>
  linalg.fill ins(%cst : f32) outs(%scratch : memref<8xf32>)
  linalg.copy ins(%scratch : memref<8xf32>) outs(%out : memref<8xf32>)
  linalg.fill ins(%cst : f32) outs(%out2 : memref<8xf32>)
  return
}

// -----

// A scratch buffer shared by two phases: the first write is overwritten,
// through the same view, before anything reads it; the second stays.
// CHECK-LABEL: func.func @overwritten_before_read
// CHECK:         %[[VIEW:.*]] = memref.subview
// CHECK-NOT:     linalg.fill ins(%cst :
// CHECK:         linalg.fill ins(%[[TWO:.*]] : f32) outs(%[[VIEW]]
// CHECK-NEXT:    linalg.copy ins(%[[VIEW]]
func.func @overwritten_before_read(%out: memref<4xf32>) {
  %cst = arith.constant 1.0 : f32
  %two = arith.constant 2.0 : f32
  %scratch = memref.alloca() : memref<8xf32>
  %view = memref.subview %scratch[0] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1]>>
  linalg.fill ins(%cst : f32) outs(%view : memref<4xf32, strided<[1]>>)
  linalg.fill ins(%two : f32) outs(%view : memref<4xf32, strided<[1]>>)
  linalg.copy ins(%view : memref<4xf32, strided<[1]>>) outs(%out : memref<4xf32>)
  return
}

// -----

// A read between the two writes keeps the first; a later write through
// another view does not overwrite it (it may cover less).
// CHECK-LABEL: func.func @read_in_between
// CHECK:         linalg.fill ins(%cst :
// CHECK:         linalg.copy
// CHECK:         linalg.fill ins(%cst_0 :
// CHECK-LABEL: func.func @other_view
// CHECK:         linalg.fill ins(%cst :
// CHECK:         linalg.fill ins(%cst_0 :
func.func @read_in_between(%out: memref<4xf32>) {
  %cst = arith.constant 1.0 : f32
  %two = arith.constant 2.0 : f32
  %scratch = memref.alloca() : memref<4xf32>
  linalg.fill ins(%cst : f32) outs(%scratch : memref<4xf32>)
  linalg.copy ins(%scratch : memref<4xf32>) outs(%out : memref<4xf32>)
  linalg.fill ins(%two : f32) outs(%scratch : memref<4xf32>)
  linalg.copy ins(%scratch : memref<4xf32>) outs(%out : memref<4xf32>)
  return
}
func.func @other_view(%out: memref<8xf32>, %n: index) {
  %cst = arith.constant 1.0 : f32
  %two = arith.constant 2.0 : f32
  %scratch = memref.alloca() : memref<8xf32>
  %part = memref.subview %scratch[0] [%n] [1] : memref<8xf32> to memref<?xf32, strided<[1]>>
  linalg.fill ins(%cst : f32) outs(%scratch : memref<8xf32>)
  linalg.fill ins(%two : f32) outs(%part : memref<?xf32, strided<[1]>>)
  linalg.copy ins(%scratch : memref<8xf32>) outs(%out : memref<8xf32>)
  return
}

// -----

// A chunk loop: the scores of a chunk are read in the next iteration by an
// op before their write (loop-carried), so they stay.
// CHECK-LABEL: func.func @loop_carried
// CHECK:         scf.for
// CHECK:           linalg.copy ins(%[[S:.*]] : memref<4xf32>) outs(%arg0
// CHECK:           linalg.fill ins({{.*}}) outs(%[[S]]
func.func @loop_carried(%out: memref<4xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  %scratch = memref.alloca() : memref<4xf32>
  scf.for %i = %c0 to %n step %c1 {
    linalg.copy ins(%scratch : memref<4xf32>) outs(%out : memref<4xf32>)
    linalg.fill ins(%cst : f32) outs(%scratch : memref<4xf32>)
  }
  return
}
