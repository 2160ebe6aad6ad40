// A kernel with an argument its recurrence does not use: the metadata could not
// say what to pass for it.
!tokens = memref<?x?x?x?xf32>
func.func @extra(%q: !tokens, %k: !tokens, %v: !tokens, %output: !tokens,
                 %scale: f32, %unused: !tokens) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      output(%output : !tokens) scale(%scale)
      attributes {form = #linac.form<decay = none, update = plain>}
  return
}
