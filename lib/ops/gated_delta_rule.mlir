// Gated DeltaNet: the delta rule after a scalar, data-dependent decay.
//
//   S = exp(g_t) S_{t-1};  S_t = S + beta_t k_t (v_t - S^T k_t)^T
//   o_t = scale * S_t^T q_t
//
// q, k: [B, T, H, K]; v, output: [B, T, H, V]; g, beta: [B, T, H];
// states: [N, H, K, V] f32; cu_seqlens: [N + 1]. Instantiated as
// chunk_gated_delta_rule, fused_recurrent_gated_delta_rule and, with
// `householder = n` (k, v, beta: [B, T*n, H, ...]), chunk_gated_delta_product.

!tokens = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!scalars = memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
!states = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!offsets = memref<?xi64, strided<[?], offset: ?>>

func.func @gated_delta_rule(%q: !tokens, %k: !tokens, %v: !tokens,
                            %g: !scalars, %beta: !scalars,
                            %initial_state: !states, %output: !tokens,
                            %final_state: !states, %cu_seqlens: !offsets,
                            %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      g(%g : !scalars) beta(%beta : !scalars)
      initial_state(%initial_state : !states) output(%output : !tokens)
      final_state(%final_state : !states) cu_seqlens(%cu_seqlens : !offsets)
      scale(%scale) attributes {chunk_size = 64 : i64} {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>, %gt: f32,
       %bt: f32, %S: tensor<?x?xf32>):
    %decay = math.exp %gt : f32
    %decayed = linac.scale %S, %decay : tensor<?x?xf32>
    %decayedT = linac.transpose %decayed : tensor<?x?xf32> -> tensor<?x?xf32>
    %predicted = linac.matvec %decayedT, %kt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %error = arith.subf %vt, %predicted : tensor<?xf32>
    %step = linac.scale %error, %bt : tensor<?xf32>
    %update = linac.outer %kt, %step : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    %next = arith.addf %decayed, %update : tensor<?x?xf32>
    %nextT = linac.transpose %next : tensor<?x?xf32> -> tensor<?x?xf32>
    %read = linac.matvec %nextT, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %out = linac.scale %read, %scale : tensor<?xf32>
    linac.yield %next, %out : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}
