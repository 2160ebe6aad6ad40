// GLA (gated linear attention): a data-dependent decay per key channel.
//
//   S_t = diag(exp(g_t)) S_{t-1} + k_t v_t^T        o_t = scale * S_t^T q_t
//
// q, k, g: [B, T, H, K] (g in log space, <= 0); v, output: [B, T, H, V];
// states: [N, H, K, V] f32; cu_seqlens: [N + 1]. HGRN-2 is this recurrence
// with k = 1 - exp(g). Instantiated as chunk_gla and fused_recurrent_gla.

!tokens = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!gates = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!states = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!offsets = memref<?xi64, strided<[?], offset: ?>>

func.func @gla(%q: !tokens, %k: !tokens, %v: !tokens, %g: !gates,
               %initial_state: !states, %output: !tokens,
               %final_state: !states, %cu_seqlens: !offsets, %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens) g(%g : !gates)
      initial_state(%initial_state : !states) output(%output : !tokens)
      final_state(%final_state : !states) cu_seqlens(%cu_seqlens : !offsets)
      scale(%scale) attributes {chunk_size = 64 : i64} {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>,
       %gt: tensor<?xf32>, %S: tensor<?x?xf32>):
    %decay = math.exp %gt : tensor<?xf32>
    %decayed = linac.scale_rows %S, %decay : tensor<?x?xf32>, tensor<?xf32>
    %kv = linac.outer %kt, %vt : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    %next = arith.addf %decayed, %kv : tensor<?x?xf32>
    %nextT = linac.transpose %next : tensor<?x?xf32> -> tensor<?x?xf32>
    %read = linac.matvec %nextT, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %out = linac.scale %read, %scale : tensor<?xf32>
    linac.yield %next, %out : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}
