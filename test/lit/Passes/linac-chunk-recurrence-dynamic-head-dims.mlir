// XFAIL: *
// Known bug: linac-chunk-recurrence does not check that the head dimensions
// K and V are static: on a recurrence that was not specialized it builds
// scratch buffers such as memref<64x?xf32> without their dynamic sizes
// ("'memref.alloca' op incorrect number of dynamic sizes, has 0, expected
// 1") instead of asking for linac-specialize, as linac-tile-chunk-loop and
// linac-sequential-recurrence do.
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-chunk-recurrence

!t = memref<?x?x?x?xf32>
func.func @dynamic_head_dims(%q: !t, %k: !t, %v: !t, %g: memref<?x?x?xf32>, %o: !t, %scale: f32) {
  // expected-error-re @+1 {{'linac.recurrence' op {{.*}}static{{.*}}}}
  linac.recurrence q(%q : !t) k(%k : !t) v(%v : !t) g(%g : memref<?x?x?xf32>) output(%o : !t) scale(%scale)
      attributes {form = #linac.form<decay = scalar, update = plain>}
  return
}
