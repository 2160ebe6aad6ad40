"""linac's op library, with flash-linear-attention's signatures.

The recurrence ops take `[B, T, H, K]` queries and keys and `[B, T, H, V]`
values (numpy arrays or DLPack tensors; float32, float16 or bfloat16; any
strides) and return `(o, final_state)`; the Mamba ops follow mamba_ssm.
"""

from .delta_rule import (
    chunk_delta_rule,
    chunk_gated_delta_product,
    chunk_gated_delta_rule,
    fused_recurrent_delta_rule,
    fused_recurrent_gated_delta_rule,
)
from .gla import chunk_gla, fused_recurrent_gla
from .linear_attn import chunk_linear_attn, fused_recurrent_linear_attn, linear_attn_noncausal
from .mamba import fused_recurrent_mamba2, mamba_chunk_scan_combined, selective_scan_fn
from .retention import chunk_retention, fused_recurrent_retention, retention_decays
from .simple_gla import chunk_simple_gla, fused_recurrent_simple_gla

__all__ = [
    "chunk_delta_rule",
    "chunk_gated_delta_product",
    "chunk_gated_delta_rule",
    "chunk_gla",
    "chunk_linear_attn",
    "chunk_retention",
    "chunk_simple_gla",
    "fused_recurrent_delta_rule",
    "fused_recurrent_gated_delta_rule",
    "fused_recurrent_gla",
    "fused_recurrent_linear_attn",
    "fused_recurrent_mamba2",
    "fused_recurrent_retention",
    "fused_recurrent_simple_gla",
    "linear_attn_noncausal",
    "mamba_chunk_scan_combined",
    "retention_decays",
    "selective_scan_fn",
]
