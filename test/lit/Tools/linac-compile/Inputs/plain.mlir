// A kernel with only the required buffers: no decay, no states, no
// cu_seqlens.
!tokens = memref<?x?x?x?xf32>
func.func @plain(%q: !tokens, %k: !tokens, %v: !tokens, %output: !tokens, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      output(%output : !tokens) scale(%scale) {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>, %S: tensor<?x?xf32>):
    %kv = linac.outer %kt, %vt : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    %next = arith.addf %S, %kv : tensor<?x?xf32>
    %nextT = linac.transpose %next : tensor<?x?xf32> -> tensor<?x?xf32>
    %read = linac.matvec %nextT, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %out = linac.scale %read, %scale : tensor<?xf32>
    linac.yield %next, %out : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}
