// linac-chunk-ssm asks for linac-specialize when the state size N or the
// head size P is dynamic: it sizes the chunk's scratch buffers with them.
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-chunk-ssm

!t = memref<?x?x?x?xf32>
func.func @dynamic_state_size(%x: !t, %dt: memref<?x?x?xf32>, %a: memref<?xf32>, %b: !t, %c: !t, %o: !t) {
  // expected-error-re @+1 {{'linac.ssm' op {{.*}}static{{.*}}}}
  linac.ssm x(%x : !t) dt(%dt : memref<?x?x?xf32>) a(%a : memref<?xf32>) b(%b : !t) c(%c : !t) output(%o : !t)
  return
}

// -----

!t = memref<?x?x?x?xf32>
func.func @dynamic_head_size(%x: !t, %dt: memref<?x?x?xf32>, %a: memref<?xf32>, %b: memref<?x?x?x16xf32>, %c: memref<?x?x?x16xf32>, %o: !t) {
  // expected-error-re @+1 {{'linac.ssm' op {{.*}}static{{.*}}}}
  linac.ssm x(%x : !t) dt(%dt : memref<?x?x?xf32>) a(%a : memref<?xf32>) b(%b : memref<?x?x?x16xf32>) c(%c : memref<?x?x?x16xf32>) output(%o : !t)
  return
}
