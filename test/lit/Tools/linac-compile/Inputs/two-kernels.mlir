// Two kernels in one file: linac-compile needs --function to pick one.
!tokens = memref<?x?x?x?xf32>
func.func @first(%q: !tokens, %k: !tokens, %v: !tokens, %output: !tokens, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      output(%output : !tokens) scale(%scale)
      attributes {form = #linac.form<decay = none, update = plain>}
  return
}

func.func @second(%q: !tokens, %k: !tokens, %v: !tokens, %g: memref<?x?x?xf32>,
                  %output: !tokens, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      g(%g : memref<?x?x?xf32>) output(%output : !tokens) scale(%scale)
      attributes {chunk_size = 16 : i64, form = #linac.form<decay = scalar, update = plain>}
  return
}
