"""Simple GLA: a scalar, data-dependent decay per head and token.

S_t = exp(g_t) S_{t-1} + k_t v_t^T, o_t = scale * S_t^T q_t.
"""

from __future__ import annotations

from ._recurrence import run_recurrence


def chunk_simple_gla(
    q,
    k,
    v,
    g,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    cu_seqlens=None,
):
    r"""Simple gated linear attention, chunk-parallel.

    Args:
        q (np.ndarray): queries of shape `[B, T, H, K]`, float32 or float16.
        k (np.ndarray): keys of shape `[B, T, H, K]`, the dtype of `q`.
        v (np.ndarray): values of shape `[B, T, H, V]`, the dtype of `q`.
        g (np.ndarray): log-space decays of shape `[B, T, H]` (`g <= 0`);
            computed in float32.
        scale (Optional[float]): scale of the readout. Default: `K ** -0.5`.
        initial_state (Optional[np.ndarray]): initial state `[N, H, K, V]` (float32).
        output_final_state (bool): also return the final state. Default: `False`.
        cu_seqlens (Optional[np.ndarray]): cumulative sequence lengths `[N + 1]`
            (then `B == 1`).

    Returns:
        o (np.ndarray): outputs `[B, T, H, V]`, the dtype of `v`.
        final_state (Optional[np.ndarray]): `[N, H, K, V]` float32 or `None`.
    """
    return run_recurrence(
        "chunk_simple_gla",
        q,
        k,
        v,
        g=g,
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        gate="scalar",
    )


def fused_recurrent_simple_gla(
    q,
    k,
    v,
    g,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    reverse: bool = False,
    cu_seqlens=None,
):
    r"""Simple gated linear attention, one token at a time (decode).

    Arguments as `chunk_simple_gla`, plus `reverse`.
    """
    return run_recurrence(
        "fused_recurrent_simple_gla",
        q,
        k,
        v,
        g=g,
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        reverse=reverse,
        gate="scalar",
    )
