"""linac's op library, with flash-linear-attention's signatures.

Every op takes `[B, T, H, K]` queries and keys and `[B, T, H, V]` values as
numpy arrays (float32 or float16, any strides) and returns `(o, final_state)`.
"""

from .linear_attn import chunk_linear_attn, fused_recurrent_linear_attn
from .retention import chunk_retention, fused_recurrent_retention, retention_decays
from .simple_gla import chunk_simple_gla, fused_recurrent_simple_gla

__all__ = [
    "chunk_linear_attn",
    "fused_recurrent_linear_attn",
    "chunk_retention",
    "fused_recurrent_retention",
    "retention_decays",
    "chunk_simple_gla",
    "fused_recurrent_simple_gla",
]
