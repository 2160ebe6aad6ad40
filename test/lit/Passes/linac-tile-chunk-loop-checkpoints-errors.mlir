// RUN: linac-opt %s -split-input-file -verify-diagnostics -pass-pipeline='builtin.module(func.func(linac-tile-chunk-loop{state-checkpoints=2}))'

// A state pass needs a recurrence whose only state is S, and a final_state
// to write its checkpoints to.

!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!vview = memref<?x16xf32, strided<[?, ?], offset: ?>>
!state = memref<8x16xf32, strided<[?, ?], offset: ?>>
!z = memref<8xf32, strided<[?], offset: ?>>
func.func @normalized(%q: memref<?x?x4x8xf32>, %v: memref<?x?x4x16xf32>, %sT: memref<?x4x8x16xf32>, %scale: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op state checkpoints need a causal recurrence whose only state is S (this one has a normalizer or a non-causal readout)}}
  linac.chunk_loop q(%q : memref<?x?x4x8xf32>) k(%q : memref<?x?x4x8xf32>) v(%v : memref<?x?x4x16xf32>)
      output(%v : memref<?x?x4x16xf32>) final_state(%sT : memref<?x4x8x16xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>, normalize} {
  ^bb0(%qc: !view, %kc: !view, %vc: !vview, %S: !state, %oc: !vview, %z: !z):
    linac.chunk_state_update ins(%kc, %vc : !view, !vview) outs(%S : !state)
    linac.chunk_key_sum ins(%kc : !view) outs(%z : !z)
  }
  return
}

// -----

!view = memref<?x8xf32, strided<[?, ?], offset: ?>>
!vview = memref<?x16xf32, strided<[?, ?], offset: ?>>
!state = memref<8x16xf32, strided<[?, ?], offset: ?>>
func.func @no_final_state(%q: memref<?x?x4x8xf32>, %v: memref<?x?x4x16xf32>, %scale: f32) {
  // expected-error @+1 {{'linac.chunk_loop' op state checkpoints are written to final_state, which this recurrence lacks}}
  linac.chunk_loop q(%q : memref<?x?x4x8xf32>) k(%q : memref<?x?x4x8xf32>) v(%v : memref<?x?x4x16xf32>)
      output(%v : memref<?x?x4x16xf32>) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = none, update = plain>} {
  ^bb0(%qc: !view, %kc: !view, %vc: !vview, %S: !state, %oc: !vview):
    linac.chunk_state_update ins(%kc, %vc : !view, !vview) outs(%S : !state)
  }
  return
}
