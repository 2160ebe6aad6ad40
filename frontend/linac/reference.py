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
