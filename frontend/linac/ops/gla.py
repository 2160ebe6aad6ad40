"""GLA (gated linear attention): a decay per key channel.

S_t = diag(exp(g_t)) S_{t-1} + k_t v_t^T, o_t = scale * S_t^T q_t.

HGRN-2 is this recurrence with k_t = 1 - exp(g_t): call
``chunk_gla(q, 1 - np.exp(g), v, g)``.
"""

from __future__ import annotations

from ._recurrence import run_recurrence


def chunk_gla(
    q,
    k,
    v,
    g,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    cu_seqlens=None,
):
    r"""Gated linear attention, chunk-parallel (sub-chunks of 16 inside each
    chunk keep every exponent a difference of chunk-local decays).

    Args:
        q (np.ndarray): queries of shape `[B, T, H, K]`, float32 or float16.
        k (np.ndarray): keys of shape `[B, T, H, K]`, the dtype of `q`.
        v (np.ndarray): values of shape `[B, T, H, V]`, the dtype of `q`.
        g (np.ndarray): log-space decays per key channel, `[B, T, H, K]` (`<= 0`).
        scale (Optional[float]): scale of the readout. Default: `K ** -0.5`.
        initial_state (Optional[np.ndarray]): initial state `[N, H, K, V]` (float32).
        output_final_state (bool): also return the final state. Default: `False`.
        cu_seqlens (Optional[np.ndarray]): cumulative sequence lengths `[N + 1]`.

    Returns:
        o (np.ndarray): outputs `[B, T, H, V]`, the dtype of `v`.
        final_state (Optional[np.ndarray]): `[N, H, K, V]` float32 or `None`.
    """
    return run_recurrence(
        "chunk_gla",
        q,
        k,
        v,
        g=g,
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        gate="vector",
    )


def fused_recurrent_gla(
    q,
    k,
    v,
    g=None,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    reverse: bool = False,
    cu_seqlens=None,
    gk=None,
):
    r"""Gated linear attention, one token at a time (decode). Arguments as
    `chunk_gla`, plus `reverse`; `gk` is flash-linear-attention's name for
    `g` here."""
    return run_recurrence(
        "fused_recurrent_gla",
        q,
        k,
        v,
        g=g if g is not None else gk,
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        reverse=reverse,
        gate="vector",
    )
