// A kernel after a helper function and a commented-out function: the kernel
// is the only function with a linac.recurrence.
// func.func @old_kernel(%q: memref<?x?x?x?xf32>) {
!tokens = memref<?x?x?x?xf32>
func.func @helper(%x: f32) -> f32 {
  return %x : f32
}
func.func @kernel(%q: !tokens, %k: !tokens, %v: !tokens, %output: !tokens, %scale: f32) {
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
