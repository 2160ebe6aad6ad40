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
from linac.reference import relative_rms_error
from optable import SPECS, OpSpec, compile_kernels_with, make_state

CHUNKED_SPECS = [spec for spec in SPECS if not spec.recurrent]


@pytest.mark.parametrize("spec", CHUNKED_SPECS, ids=lambda spec: spec.id)
def test_16_bit_decayed_rows_match_reference(
    spec: OpSpec, rng: np.random.Generator, monkeypatch
) -> None:
    compiled = compile_kernels_with(monkeypatch, _recurrence, 16, decayed_rows="input")
    T, H, K, V = 75, 2, 32, 32
    x = spec.inputs(rng, 2, T, H, K, V, np.float16)
    s0 = make_state(rng, 2, H, K, V)
    o, final = spec(x, initial_state=s0, output_final_state=True)
    ref_o, ref_final = spec.reference(x, initial_state=s0)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float16)
    assert relative_rms_error(ref_final, final) <= spec.tolerance(np.float16)
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
    from linac import ops
    from linac.ops import mamba
    from linac.reference import mamba2
    from optable import call_mamba2, make_mamba2_inputs, tolerance

    compiled = compile_kernels_with(monkeypatch, mamba, 16, decayed_rows="input")
    x = make_mamba2_inputs(rng, 2, 75, 2, 32, 1, 16, np.float16)
    y, final = call_mamba2(
        ops.mamba_chunk_scan_combined, x, 16, return_final_states=True, dt_softplus=True
    )
    ref_y, ref_final = mamba2(x.x, x.dt, x.A, x.B, x.C, dt_softplus=True)
    assert relative_rms_error(ref_y, y) <= tolerance(np.float16)
    assert relative_rms_error(ref_final, final) <= tolerance(np.float16)
    assert compiled == ["chunk_mamba2"]
