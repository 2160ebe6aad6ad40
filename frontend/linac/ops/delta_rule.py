"""Delta rules: DeltaNet, Gated DeltaNet and DeltaProduct.

S = exp(g_t) S_{t-1} (gated only);  S_t = S + beta_t k_t (v_t - S^T k_t)^T;
o_t = scale * S_t^T q_t. The chunked forms use the UT (WY) transform.
"""

from __future__ import annotations

import numbers

from ._recurrence import run_recurrence


def _beta_sigmoid(use_beta_sigmoid_in_kernel: bool, allow_neg_eigval: bool) -> float:
    """The kernel's step-size factor: beta as given (0), sigmoid (1) or
    2 * sigmoid (negative eigenvalues allowed)."""
    if not use_beta_sigmoid_in_kernel:
        return 0.0
    return 2.0 if allow_neg_eigval else 1.0


def chunk_delta_rule(
    q,
    k,
    v,
    beta,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    cu_seqlens=None,
    use_qk_l2norm_in_kernel: bool = False,
):
    r"""DeltaNet, chunk-parallel.

    Args:
        q (np.ndarray): queries of shape `[B, T, H, K]`, float32 or float16.
        k (np.ndarray): keys of shape `[B, T, H, K]`, the dtype of `q`.
        v (np.ndarray): values of shape `[B, T, H, V]`, the dtype of `q`.
        beta (np.ndarray): step sizes `[B, T, H]`, used as given (values in
            (1, 2] give negative eigenvalues).
        scale (Optional[float]): scale of the readout. Default: `K ** -0.5`.
        initial_state (Optional[np.ndarray]): initial state `[N, H, K, V]` (float32).
        output_final_state (bool): also return the final state. Default: `False`.
        cu_seqlens (Optional[np.ndarray]): cumulative sequence lengths `[N + 1]`.
        use_qk_l2norm_in_kernel (bool): divide q and k by their L2 norm
            (`x / sqrt(x.x + 1e-6)`) inside the kernel. Default: `False`.

    Returns:
        o (np.ndarray): outputs `[B, T, H, V]`, the dtype of `v`.
        final_state (Optional[np.ndarray]): `[N, H, K, V]` float32 or `None`.
    """
    return run_recurrence(
        "chunk_delta_rule",
        q,
        k,
        v,
        beta=beta,
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        needs_beta=True,
        qk_l2norm=use_qk_l2norm_in_kernel,
    )


def fused_recurrent_delta_rule(
    q,
    k,
    v,
    beta=None,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    cu_seqlens=None,
    use_qk_l2norm_in_kernel: bool = False,
):
    r"""DeltaNet, one token at a time (decode). Arguments as
    `chunk_delta_rule`."""
    return run_recurrence(
        "fused_recurrent_delta_rule",
        q,
        k,
        v,
        beta=beta,
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        needs_beta=True,
        qk_l2norm=use_qk_l2norm_in_kernel,
    )


def chunk_gated_delta_rule(
    q,
    k,
    v,
    g,
    beta,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    cu_seqlens=None,
    use_qk_l2norm_in_kernel: bool = False,
    use_beta_sigmoid_in_kernel: bool = False,
    allow_neg_eigval: bool = False,
):
    r"""Gated DeltaNet, chunk-parallel.

    Args:
        q, k, v, beta, scale, initial_state, output_final_state, cu_seqlens,
            use_qk_l2norm_in_kernel: as `chunk_delta_rule`.
        g (np.ndarray): log-space decays `[B, T, H]` (`<= 0`).
        use_beta_sigmoid_in_kernel (bool): beta holds logits; the step size
            is `sigmoid(beta)`, or `2 * sigmoid(beta)` with `allow_neg_eigval`.
            Default: `False` (beta used as given, in [0, 2]).
        allow_neg_eigval (bool): see above. Default: `False`.

    Returns:
        o (np.ndarray): outputs `[B, T, H, V]`, the dtype of `v`.
        final_state (Optional[np.ndarray]): `[N, H, K, V]` float32 or `None`.
    """
    return run_recurrence(
        "chunk_gated_delta_rule",
        q,
        k,
        v,
        g=g,
        beta=beta,
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        gate="scalar",
        needs_beta=True,
        qk_l2norm=use_qk_l2norm_in_kernel,
        beta_sigmoid=_beta_sigmoid(use_beta_sigmoid_in_kernel, allow_neg_eigval),
    )


def fused_recurrent_gated_delta_rule(
    q,
    k,
    v,
    g,
    beta=None,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    cu_seqlens=None,
    use_qk_l2norm_in_kernel: bool = False,
    use_beta_sigmoid_in_kernel: bool = False,
    allow_neg_eigval: bool = False,
):
    r"""Gated DeltaNet, one token at a time (decode). Arguments as
    `chunk_gated_delta_rule`."""
    return run_recurrence(
        "fused_recurrent_gated_delta_rule",
        q,
        k,
        v,
        g=g,
        beta=beta,
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        gate="scalar",
        needs_beta=True,
        qk_l2norm=use_qk_l2norm_in_kernel,
        beta_sigmoid=_beta_sigmoid(use_beta_sigmoid_in_kernel, allow_neg_eigval),
    )


def chunk_gated_delta_product(
    q,
    k,
    v,
    g,
    beta,
    num_householder: int,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    use_qk_l2norm_in_kernel: bool = False,
    cu_seqlens=None,
):
    r"""DeltaProduct: `num_householder` delta-rule steps per token.

    Args:
        q (np.ndarray): queries `[B, T, H, K]`.
        k (np.ndarray): keys `[B, T * n, H, K]`: sub-step j of token t at `t * n + j`.
        v (np.ndarray): values `[B, T * n, H, V]`.
        g (Optional[np.ndarray]): log-space decays `[B, T, H]`, applied on each
            token's first sub-step; `None` for no decay.
        beta (np.ndarray): step sizes `[B, T * n, H]`.
        num_householder (int): n, the Householder steps per token.
        scale, initial_state, output_final_state, use_qk_l2norm_in_kernel,
            cu_seqlens (token offsets): as `chunk_gated_delta_rule`.

    Returns:
        o (np.ndarray): outputs `[B, T, H, V]`, read after each token's last
            sub-step.
        final_state (Optional[np.ndarray]): `[N, H, K, V]` float32 or `None`.
    """
    if isinstance(num_householder, bool) or not isinstance(num_householder, numbers.Integral):
        raise TypeError(f"num_householder must be an int, got {type(num_householder).__name__}")
    num_householder = int(num_householder)
    if not 1 <= num_householder <= 16:
        raise ValueError(f"num_householder must be in [1, 16], got {num_householder}")
    gated = g is not None
    return run_recurrence(
        "chunk_gated_delta_product" if gated else "chunk_delta_product",
        q,
        k,
        v,
        g=g,
        beta=beta,
        scale=scale,
        initial_state=initial_state,
        output_final_state=output_final_state,
        cu_seqlens=cu_seqlens,
        gate="scalar" if gated else None,
        needs_beta=True,
        householder=num_householder,
        qk_l2norm=use_qk_l2norm_in_kernel,
    )
