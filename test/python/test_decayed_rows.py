"""Decayed rows in the inputs' 16-bit type (``decayed_rows="input"``,
linac-narrow-decayed-rows), checked on the CPU.

GPU kernels may keep the decayed q and k rows in bf16/f16, as flash-linear-attention
rounds its decayed q and k, so that the state update multiplies two 16-bit operands on the
tensor cores. CPU kernels take the same option; every chunked op and Mamba-2 is checked
with it against the float64 step-by-step reference at the float16 tolerance in
test_product_operands.py (beside ``product_operands="input"``, which implies it); here,
where the rows are 16-bit and where not.
"""

from __future__ import annotations

import pytest
from linac import _linac, _runtime


def test_rows_are_16_bit_only_where_asked() -> None:
    # The IR after the chunk stage: bf16 rows with decayed_rows="input", f32 without, and
    # f32 for f32 inputs either way.
    def row_types(dtype: str, **options) -> set[str]:
        result = _linac.compile_builtin(
            "chunk_simple_gla", "cpu", 32, 32, dtype, use_cache=False, keep_stages=True, **options
        )
        chunk = next(text for name, text in result.stages if name == "chunk")
        return {
            line.split("outs(")[1].split("x")[-1].split(",")[0]
            for line in chunk.splitlines()
            if "linac.decayed_rows" in line
        }

    assert row_types("bf16", decayed_rows="input") == {"bf16"}
    assert row_types("bf16") == {"f32"}
    assert row_types("f32", decayed_rows="input") == {"f32"}


def test_unknown_decayed_rows_is_an_error() -> None:
    with pytest.raises(_runtime.CompileError, match="unknown decayed-rows 'bf16'"):
        _runtime.get_kernel("chunk_simple_gla", 16, 16, "bf16", "cpu", 16, 0, decayed_rows="bf16")
