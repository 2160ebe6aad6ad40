// Mamba-2 (SSD, state space duality): a scalar decay dt * A per head.
//
//   dt_t = softplus(dt_t + dt_bias)   (softplus with the dt-softplus option)
//   S_t = exp(dt_t * A) S_{t-1} + dt_t * B_t x_t^T       (S: [N, P])
//   y_t = S_t^T C_t + D * x_t,   then y_t *= silu(z_t)   (@mamba2_gated)
//
// x, output, z: [B, T, H, P]; dt: [B, T, H]; A, dt_bias: [H]; B, C:
// [B, T, G, N] with G groups dividing H; D: [H, P] (pass a zero-stride view
// for one coefficient per head); states: [N_seq, H, N, P] f32, the
// transpose of mamba_ssm's [b, h, p, n]. Instantiated as chunk_mamba2 and
// fused_recurrent_mamba2 (and *_gated).

!tokens = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!steps = memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
!heads = memref<?xf32, strided<[?], offset: ?>>
!skip = memref<?x?xf32, strided<[?, ?], offset: ?>>
!states = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!offsets = memref<?xi64, strided<[?], offset: ?>>

func.func @mamba2(%x: !tokens, %dt: !steps, %A: !heads, %B: !tokens,
                  %C: !tokens, %D: !skip, %dt_bias: !heads,
                  %initial_state: !states, %output: !tokens,
                  %final_state: !states, %cu_seqlens: !offsets) {
  linac.ssm x(%x : !tokens) dt(%dt : !steps) a(%A : !heads) b(%B : !tokens)
      c(%C : !tokens) d(%D : !skip) dt_bias(%dt_bias : !heads)
      initial_state(%initial_state : !states) output(%output : !tokens)
      final_state(%final_state : !states) cu_seqlens(%cu_seqlens : !offsets)
  return
}

func.func @mamba2_gated(%x: !tokens, %dt: !steps, %A: !heads, %B: !tokens,
                        %C: !tokens, %D: !skip, %z: !tokens, %dt_bias: !heads,
                        %initial_state: !states, %output: !tokens,
                        %final_state: !states, %cu_seqlens: !offsets) {
  linac.ssm x(%x : !tokens) dt(%dt : !steps) a(%A : !heads) b(%B : !tokens)
      c(%C : !tokens) d(%D : !skip) z(%z : !tokens) dt_bias(%dt_bias : !heads)
      initial_state(%initial_state : !states) output(%output : !tokens)
      final_state(%final_state : !states) cu_seqlens(%cu_seqlens : !offsets)
  return
}
