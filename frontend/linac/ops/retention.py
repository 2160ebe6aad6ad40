"""Retention (RetNet, Lightning Attention-2): a fixed decay per head,
g_h = log(1 - 2^(-5 - h)), run as simple GLA with g broadcast over B and T
(a zero-stride view: nothing is copied)."""

from __future__ import annotations

import numpy as np

from .._tensors import to_numpy
from .._validate import check_problem
from ._recurrence import run_recurrence


def retention_decays(num_heads: int) -> np.ndarray:
    """The per-head log decays log(1 - 2^(-5 - h)), float32 `[H]`."""
    heads = np.arange(num_heads, dtype=np.float64)
    return np.log1p(-np.exp2(-5.0 - heads)).astype(np.float32)


def _broadcast_decays(q) -> np.ndarray:
    q, _ = to_numpy(q, "q")
    check_problem(q, q, q)  # names q's problems before we read its shape
    B, T, H, _ = q.shape
    return np.broadcast_to(retention_decays(H), (B, T, H))


def chunk_retention(
    q,
    k,
    v,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    cu_seqlens=None,
):
    r"""Retention, chunk-parallel.

    Args:
        q (np.ndarray): queries of shape `[B, T, H, K]`, float32 or float16.
        k (np.ndarray): keys of shape `[B, T, H, K]`, the dtype of `q`.
        v (np.ndarray): values of shape `[B, T, H, V]`, the dtype of `q`.
        scale (Optional[float]): scale of the readout. Default: `K ** -0.5`.
        initial_state (Optional[np.ndarray]): initial state `[N, H, K, V]` (float32).
        output_final_state (bool): also return the final state. Default: `False`.
        cu_seqlens (Optional[np.ndarray]): cumulative sequence lengths `[N + 1]`.

    Returns:
        o (np.ndarray): outputs `[B, T, H, V]`, the dtype of `v`.
        final_state (Optional[np.ndarray]): `[N, H, K, V]` float32 or `None`.
    """
    return run_recurrence(
        "chunk_retention",
        q,
        k,
        v,
        g=_broadcast_decays(q),
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        gate="scalar",
    )


def fused_recurrent_retention(
    q,
    k,
    v,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    reverse: bool = False,
    cu_seqlens=None,
):
    r"""Retention, one token at a time (decode). Arguments as `chunk_retention`,
    plus `reverse`."""
    return run_recurrence(
        "fused_recurrent_retention",
        q,
        k,
        v,
        g=_broadcast_decays(q),
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        reverse=reverse,
        gate="scalar",
    )
