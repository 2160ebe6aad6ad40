// DeltaNet: the delta rule, no decay.
//
//   S_t = S_{t-1} + beta_t k_t (v_t - S_{t-1}^T k_t)^T   o_t = scale * S_t^T q_t
//
// q, k: [B, T, H, K]; v, output: [B, T, H, V]; beta: [B, T, H];
// states: [N, H, K, V] f32; cu_seqlens: [N + 1]. Instantiated as
// chunk_delta_rule and fused_recurrent_delta_rule; the compile options add
// the in-kernel L2 norm of q and k, and sigmoid step sizes.

!tokens = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!scalars = memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
!states = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!offsets = memref<?xi64, strided<[?], offset: ?>>

func.func @delta_rule(%q: !tokens, %k: !tokens, %v: !tokens, %beta: !scalars,
                      %initial_state: !states, %output: !tokens,
                      %final_state: !states, %cu_seqlens: !offsets,
                      %scale: f32) {
  linac.recurrence q(%q : !tokens) k(%k : !tokens) v(%v : !tokens)
      beta(%beta : !scalars) initial_state(%initial_state : !states)
      output(%output : !tokens) final_state(%final_state : !states)
      cu_seqlens(%cu_seqlens : !offsets) scale(%scale)
      attributes {chunk_size = 64 : i64} {
  ^bb0(%qt: tensor<?xf32>, %kt: tensor<?xf32>, %vt: tensor<?xf32>, %bt: f32,
       %S: tensor<?x?xf32>):
    %ST = linac.transpose %S : tensor<?x?xf32> -> tensor<?x?xf32>
    %predicted = linac.matvec %ST, %kt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %error = arith.subf %vt, %predicted : tensor<?xf32>
    %step = linac.scale %error, %bt : tensor<?xf32>
    %update = linac.outer %kt, %step : tensor<?xf32>, tensor<?xf32> -> tensor<?x?xf32>
    %next = arith.addf %S, %update : tensor<?x?xf32>
    %nextT = linac.transpose %next : tensor<?x?xf32> -> tensor<?x?xf32>
    %read = linac.matvec %nextT, %qt : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
    %out = linac.scale %read, %scale : tensor<?xf32>
    linac.yield %next, %out : tensor<?x?xf32>, tensor<?xf32>
  }
  return
}
