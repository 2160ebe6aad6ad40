"""Float64 step-by-step references: the recurrence applied one token at a
time, independent of the chunked algorithm and of the compiler.

    S <- D_t S                    D_t = exp(g_t) (scalar g) or diag(exp(g_t)) (vector g)
    plain: S <- S + k_t v_t^T
    delta: S <- S + beta_t k_t (v_t - S^T k_t)^T
    o_t = scale * S^T q_t         (readout after the update)
"""

from __future__ import annotations

import numpy as np


def _sequences(B: int, T: int, cu_seqlens):
    """(batch row, first token, end token) of every sequence."""
    if cu_seqlens is None:
        return [(b, 0, T) for b in range(B)]
    cu = np.asarray(cu_seqlens)
    return [(0, int(cu[n]), int(cu[n + 1])) for n in range(len(cu) - 1)]


def recurrence(
    q,
    k,
    v,
    g=None,
    beta=None,
    scale=None,
    initial_state=None,
    cu_seqlens=None,
    normalize: bool = False,
    reverse: bool = False,
    householder: int = 1,
):
    """Runs the canonical recurrence in float64.

    Args:
        q, k: `[B, T, H, K]`; v: `[B, T, H, V]`.
        g: None, `[B, T, H]` (scalar decay) or `[B, T, H, K]` (vector decay).
        beta: None (plain update) or `[B, T, H]` (delta rule).
        scale: default `K ** -0.5`.
        initial_state: None or `[N, H, K, V]`.
        cu_seqlens: None or `[N + 1]` (then B == 1).
        normalize: divide o_t by `scale * q_t . sum_{j<=t} k_j` (+1e-10).
        reverse: run each sequence from its last token to its first.
        householder: n delta-rule sub-steps per token (DeltaProduct): k, v
            and beta are `[B, T*n, H, ...]`, sub-step j of token t at t*n + j;
            the decay applies before the first, the readout after the last.

    Returns:
        (o `[B, T, H, V]` float64, final_state `[N, H, K, V]` float64)
    """
    q, k, v = (np.asarray(x, dtype=np.float64) for x in (q, k, v))
    B, T, H, K = q.shape
    V = v.shape[-1]
    scale = K**-0.5 if scale is None else float(scale)
    g = None if g is None else np.asarray(g, dtype=np.float64)
    beta = None if beta is None else np.asarray(beta, dtype=np.float64)
    sequences = _sequences(B, T, cu_seqlens)
    o = np.zeros((B, T, H, V))
    final = np.zeros((len(sequences), H, K, V))
    for n, (b, start, end) in enumerate(sequences):
        tokens = range(end - 1, start - 1, -1) if reverse else range(start, end)
        for h in range(H):
            S = (
                np.zeros((K, V))
                if initial_state is None
                else np.array(initial_state[n, h], dtype=np.float64)
            )
            key_sum = np.zeros(K)
            for t in tokens:
                if g is not None:
                    decay = np.exp(g[b, t, h])
                    S = decay[:, None] * S if g.ndim == 4 else decay * S
                for s in range(t * householder, (t + 1) * householder):
                    kt, vt = k[b, s, h], v[b, s, h]
                    if beta is None:
                        S = S + np.outer(kt, vt)
                    else:
                        S = S + beta[b, s, h] * np.outer(kt, vt - S.T @ kt)
                out = scale * (S.T @ q[b, t, h])
                if normalize:
                    key_sum += kt
                    out = out / (scale * (q[b, t, h] @ key_sum) + 1e-10)
                o[b, t, h] = out
            final[n, h] = S
    return o, final


def relative_rms_error(reference, actual) -> float:
    """rms(reference - actual) / rms(reference); 0 when both are zero."""
    reference = np.asarray(reference, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    denominator = np.sqrt(np.mean(reference**2)) if reference.size else 0.0
    numerator = np.sqrt(np.mean((reference - actual) ** 2)) if reference.size else 0.0
    if denominator == 0.0:
        return float(numerator)
    return float(numerator / denominator)


def _softplus(x):
    """log(1 + exp(x)), and x itself above 20 (as torch and Mamba)."""
    return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0))))


def _silu(x):
    return x / (1.0 + np.exp(-x))


def mamba2(
    x,
    dt,
    A,
    B,
    C,
    D=None,
    z=None,
    dt_bias=None,
    initial_states=None,
    dt_softplus: bool = False,
    cu_seqlens=None,
):
    """Mamba-2 (SSD) in float64, token by token, in mamba_ssm's layouts.

    Args: x, z `[b, l, h, p]`; dt `[b, l, h]`; A, dt_bias `[h]`; B, C
    `[b, l, g, n]`; D `[h]` or `[h, p]`; initial_states `[N, h, p, n]`.

    Returns: (y `[b, l, h, p]`, final states `[N, h, p, n]`).
    """
    x, dt, B, C = (np.asarray(t, dtype=np.float64) for t in (x, dt, B, C))
    A = np.asarray(A, dtype=np.float64)
    b, L, H, P = x.shape
    G, N = B.shape[2], B.shape[3]
    if dt_bias is not None:
        dt = dt + np.asarray(dt_bias, dtype=np.float64)
    if dt_softplus:
        dt = _softplus(dt)
    sequences = _sequences(b, L, cu_seqlens)
    y = np.zeros_like(x)
    final = np.zeros((len(sequences), H, P, N))
    for n, (row, start, end) in enumerate(sequences):
        for h in range(H):
            group = h // (H // G)
            S = (
                np.zeros((P, N))
                if initial_states is None
                else np.array(initial_states[n, h], dtype=np.float64)
            )
            for t in range(start, end):
                S = np.exp(dt[row, t, h] * A[h]) * S + dt[row, t, h] * np.outer(
                    x[row, t, h], B[row, t, group]
                )
                out = S @ C[row, t, group]
                if D is not None:
                    out = out + np.asarray(D, dtype=np.float64)[h] * x[row, t, h]
                if z is not None:
                    out = out * _silu(np.asarray(z[row, t, h], dtype=np.float64))
                y[row, t, h] = out
            final[n, h] = S
    return y, final


def selective_scan(
    u,
    delta,
    A,
    B,
    C,
    D=None,
    z=None,
    delta_bias=None,
    delta_softplus: bool = False,
    initial_state=None,
):
    """Mamba-1's selective scan in float64, token by token, channels first.

    Args: u, delta, z `[b, d, l]`; A `[d, n]`; B, C `[b, n, l]` or
    `[b, g, n, l]`; D, delta_bias `[d]`; initial_state `[b, d, n]`.

    Returns: (y `[b, d, l]`, last state `[b, d, n]`).
    """
    u, delta = np.asarray(u, dtype=np.float64), np.asarray(delta, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    b, d, L = u.shape
    N = A.shape[1]
    if delta_bias is not None:
        delta = delta + np.asarray(delta_bias, dtype=np.float64)[None, :, None]
    if delta_softplus:
        delta = _softplus(delta)
    B4 = B if B.ndim == 4 else B[:, None]
    C4 = C if C.ndim == 4 else C[:, None]
    group = np.arange(d) // (d // B4.shape[1])
    y = np.zeros_like(u)
    last = np.zeros((b, d, N))
    for row in range(b):
        h = (
            np.zeros((d, N))
            if initial_state is None
            else np.array(initial_state[row], dtype=np.float64)
        )
        for t in range(L):
            h = (
                np.exp(delta[row, :, t, None] * A) * h
                + delta[row, :, t, None] * B4[row, group, :, t] * u[row, :, t, None]
            )
            out = (h * C4[row, group, :, t]).sum(-1)
            if D is not None:
                out = out + np.asarray(D, dtype=np.float64) * u[row, :, t]
            if z is not None:
                out = out * _silu(np.asarray(z[row, :, t], dtype=np.float64))
            y[row, :, t] = out
        last[row] = h
    return y, last


def noncausal_linear_attn(q, k, v, scale=None, normalize: bool = True, cu_seqlens=None):
    """Non-causal linear attention in float64: every query of a sequence
    reads the state of the whole sequence (divided by scale q . sum k with
    `normalize`, + 1e-10)."""
    q, k, v = (np.asarray(t, dtype=np.float64) for t in (q, k, v))
    B, T, _, K = q.shape
    scale = K**-0.5 if scale is None else float(scale)
    o = np.zeros(v.shape)
    for row, start, end in _sequences(B, T, cu_seqlens):
        qs, ks, vs = q[row, start:end], k[row, start:end], v[row, start:end]
        S = np.einsum("thk,thv->hkv", ks, vs)
        out = scale * np.einsum("thk,hkv->thv", qs, S)
        if normalize:
            out = out / (scale * np.einsum("thk,hk->th", qs, ks.sum(0))[..., None] + 1e-10)
        o[row, start:end] = out
    return o
