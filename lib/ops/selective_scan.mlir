// Mamba-1 (selective scan): a decay exp(dt * A[d, n]) per channel and state.
//
//   dt_t = softplus(dt_t + dt_bias)   (softplus with the dt-softplus option)
//   h_t[d, n] = exp(dt_t[d] A[d, n]) h_{t-1}[d, n] + dt_t[d] B_t[n] u_t[d]
//   y_t[d] = sum_n C_t[n] h_t[d, n] + D[d] u_t[d],  then *= silu(z_t[d])
//
// As a linac.ssm: the channels d are the heads (H = d), each with a state
// [N, P = 1]; x = u: [B, T, H, 1]; dt: [B, T, H]; A: [H, N]; B, C:
// [B, T, G, N]; D: [H, 1]; z: [B, T, H, 1]; dt_bias: [H]; states:
// [N_seq, H, N, 1]. mamba_ssm's channels-first [b, d, l] tensors are
// zero-copy strided views of these. The decays differ per state channel, so
// no chunked matrix form pays off: a chunked scan runs it. Instantiated as
// selective_scan (and selective_scan_gated).

!tokens = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!steps = memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
!rates = memref<?x?xf32, strided<[?, ?], offset: ?>>
!heads = memref<?xf32, strided<[?], offset: ?>>
!states = memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
!offsets = memref<?xi64, strided<[?], offset: ?>>

func.func @selective_scan(%x: !tokens, %dt: !steps, %A: !rates, %B: !tokens,
                          %C: !tokens, %D: !rates, %dt_bias: !heads,
                          %initial_state: !states, %output: !tokens,
                          %final_state: !states, %cu_seqlens: !offsets) {
  linac.ssm x(%x : !tokens) dt(%dt : !steps) a(%A : !rates) b(%B : !tokens)
      c(%C : !tokens) d(%D : !rates) dt_bias(%dt_bias : !heads)
      initial_state(%initial_state : !states) output(%output : !tokens)
      final_state(%final_state : !states) cu_seqlens(%cu_seqlens : !offsets)
  return
}

func.func @selective_scan_gated(%x: !tokens, %dt: !steps, %A: !rates,
                                %B: !tokens, %C: !tokens, %D: !rates,
                                %z: !tokens, %dt_bias: !heads,
                                %initial_state: !states, %output: !tokens,
                                %final_state: !states, %cu_seqlens: !offsets) {
  linac.ssm x(%x : !tokens) dt(%dt : !steps) a(%A : !rates) b(%B : !tokens)
      c(%C : !tokens) d(%D : !rates) z(%z : !tokens) dt_bias(%dt_bias : !heads)
      initial_state(%initial_state : !states) output(%output : !tokens)
      final_state(%final_state : !states) cu_seqlens(%cu_seqlens : !offsets)
  return
}
