// linac-chunk-recurrence asks for linac-specialize when the head dimensions
// K and V are dynamic: it sizes the chunk's scratch buffers with them.
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-chunk-recurrence

!t = memref<?x?x?x?xf32>
func.func @dynamic_head_dims(%q: !t, %k: !t, %v: !t, %g: memref<?x?x?xf32>, %o: !t, %scale: f32) {
  // expected-error-re @+1 {{'linac.recurrence' op {{.*}}static{{.*}}}}
  linac.recurrence q(%q : !t) k(%k : !t) v(%v : !t) g(%g : memref<?x?x?xf32>) output(%o : !t) scale(%scale)
      attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}
