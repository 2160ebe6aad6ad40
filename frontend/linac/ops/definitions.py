"""The op library's recurrences as DSL definitions.

Each step here traces to the same step region as its family in `lib/ops/*.mlir` (which the
compiler embeds, so `linac-compile` needs no Python), is recognized as the same canonical form
and compiles to the same kernel: calling one gives the bits of the matching `linac.ops` op
(`test/python/test_dsl.py` checks it). They are also the shortest description of each family:

    S_t = D_t S_{t-1} (+ rank-1 update);   o_t = scale * S_t^T q_t
"""

from __future__ import annotations

from ..dsl import exp, outer, recurrence


@recurrence
def linear_attn(q, k, v, S, *, scale):
    """Linear attention: S_t = S_{t-1} + k_t v_t^T (chunk_linear_attn)."""
    S = S + outer(k, v)
    return S, scale * (S.T @ q)


@recurrence
def simple_gla(q, k, v, g, S, *, scale):
    """Simple GLA: a scalar decay per head and token (chunk_simple_gla, retention)."""
    S = exp(g) * S + outer(k, v)
    return S, scale * (S.T @ q)


@recurrence
def gla(q, k, v, g, S, *, scale):
    """GLA: a decay per key channel, g a K-vector per token (chunk_gla)."""
    S = exp(g)[:, None] * S + outer(k, v)
    return S, scale * (S.T @ q)


@recurrence
def delta_rule(q, k, v, beta, S, *, scale):
    """DeltaNet: S_t = S_{t-1} + beta_t k_t (v_t - S_{t-1}^T k_t)^T (chunk_delta_rule)."""
    S = S + outer(k, beta * (v - S.T @ k))
    return S, scale * (S.T @ q)


@recurrence
def gated_delta_rule(q, k, v, g, beta, S, *, scale):
    """Gated DeltaNet: the delta rule after a scalar decay (chunk_gated_delta_rule)."""
    S = exp(g) * S
    S = S + outer(k, beta * (v - S.T @ k))
    return S, scale * (S.T @ q)


__all__ = ["delta_rule", "gated_delta_rule", "gla", "linear_attn", "simple_gla"]
