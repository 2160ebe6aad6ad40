"""Decayed rows in the inputs' 16-bit type (``decayed_rows="input"``,
linac-narrow-decayed-rows), checked on the CPU.

GPU kernels may keep the decayed q and k rows in bf16/f16, as flash-linear-attention
rounds its decayed q and k, so that the state update multiplies two 16-bit operands on the
tensor cores. CPU kernels take the same option; every chunked op of the attention and
delta-rule families is checked with it against the float64 step-by-step reference at the
float16 tolerance, beside the kernel with f32 rows.
"""

from __future__ import annotations

import numpy as np
import pytest
from linac import _linac, _runtime
from linac.ops import _recurrence
from optable import (
    SPECS,
    OpSpec,
    check_chunked_against_reference,
    check_chunked_mamba2_against_reference,
    compile_kernels_with,
)

CHUNKED_SPECS = [spec for spec in SPECS if not spec.recurrent]


@pytest.mark.parametrize("spec", CHUNKED_SPECS, ids=lambda spec: spec.id)
def test_16_bit_decayed_rows_match_reference(
    spec: OpSpec, rng: np.random.Generator, monkeypatch
) -> None:
    compiled = compile_kernels_with(monkeypatch, _recurrence, 16, decayed_rows="input")
    check_chunked_against_reference(spec, rng, T=75, K=32, V=32, dtype=np.float16)
    assert compiled == [spec.kernel]


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


def test_16_bit_decayed_rows_of_mamba2_match_reference(
    rng: np.random.Generator, monkeypatch
) -> None:
    # Mamba-2's C and B are its queries and keys: float16 here, so its rows narrow too.
    from linac.ops import mamba

    compiled = compile_kernels_with(monkeypatch, mamba, 16, decayed_rows="input")
    check_chunked_mamba2_against_reference(rng, 16, T=75, dtype=np.float16)
    assert compiled == ["chunk_mamba2"]
