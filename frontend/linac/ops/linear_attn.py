"""Linear attention: S_t = S_{t-1} + k_t v_t^T, o_t = scale * S_t^T q_t."""

from __future__ import annotations

from ._recurrence import run_recurrence


def chunk_linear_attn(
    q,
    k,
    v,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    normalize: bool = True,
    cu_seqlens=None,
):
    r"""Linear attention, chunk-parallel.

    Args:
        q (np.ndarray): queries of shape `[B, T, H, K]`, float32 or float16.
        k (np.ndarray): keys of shape `[B, T, H, K]`, the dtype of `q`.
        v (np.ndarray): values of shape `[B, T, H, V]`, the dtype of `q`.
        scale (Optional[float]): scale of the readout. Default: `K ** -0.5`.
        initial_state (Optional[np.ndarray]): initial state of shape `[N, H, K, V]`
            (float32; `N` is `B`, or the number of sequences with `cu_seqlens`).
        output_final_state (bool): also return the final state `[N, H, K, V]`
            (float32). Default: `False`.
        normalize (bool): divide each output by `scale * q_t . (k_1 + ... + k_t)`
            (keys of the current call only, as flash-linear-attention).
            Default: `True`.
        cu_seqlens (Optional[np.ndarray]): cumulative sequence lengths `[N + 1]`
            for variable-length batches packed along T (then `B == 1`).

    Returns:
        o (np.ndarray): outputs of shape `[B, T, H, V]`, the dtype of `v`.
        final_state (Optional[np.ndarray]): `[N, H, K, V]` float32 if
            `output_final_state` else `None`.
    """
    name = "chunk_linear_attn_normalized" if normalize else "chunk_linear_attn"
    return run_recurrence(
        name,
        q,
        k,
        v,
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
    )


def fused_recurrent_linear_attn(
    q,
    k,
    v,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    reverse: bool = False,
    normalize: bool = False,
    cu_seqlens=None,
):
    r"""Linear attention, one token at a time (decode).

    Arguments as `chunk_linear_attn`, plus `reverse` (run each sequence from
    its last token to its first). `normalize` defaults to `False`, as in
    flash-linear-attention.
    """
    name = "fused_recurrent_linear_attn_normalized" if normalize else "fused_recurrent_linear_attn"
    return run_recurrence(
        name,
        q,
        k,
        v,
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        reverse=reverse,
    )


def linear_attn_noncausal(q, k, v, scale=None, normalize: bool = True, cu_seqlens=None):
    r"""Non-causal linear attention (LinFusion-style, for vision and diffusion):
    every query reads the state of its whole sequence.

    `o_i = scale * S^T q_i`, divided by `scale * q_i . z` when `normalize`,
    with `S = sum_j k_j v_j^T` and `z = sum_j k_j` over the sequence.

    Args:
        q (np.ndarray): queries of shape `[B, T, H, K]`, float32 or float16.
        k (np.ndarray): keys of shape `[B, T, H, K]`, the dtype of `q`.
        v (np.ndarray): values of shape `[B, T, H, V]`, the dtype of `q`.
        scale (Optional[float]): Default: `K ** -0.5`.
        normalize (bool): divide by the normalizer (use positive feature
            maps for q and k). Default: `True`.
        cu_seqlens (Optional[np.ndarray]): `[N + 1]` offsets of sequences packed
            along T (then `B == 1`); each sequence attends to itself only.

    Returns:
        o (np.ndarray): outputs `[B, T, H, V]`, the dtype of `v`.
    """
    name = "noncausal_linear_attn_normalized" if normalize else "noncausal_linear_attn"
    output, _ = run_recurrence(name, q, k, v, scale=scale, cu_seqlens=cu_seqlens)
    return output
