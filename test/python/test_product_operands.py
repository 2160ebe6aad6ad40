"""16-bit operands for every matrix product (``product_operands="input"``,
linac-narrow-product-operands), checked on the CPU.

flash-linear-attention rounds the state, the scores and the delta rule's pseudo-values to
the inputs' type before each ``tl.dot``, so that its tensor cores multiply two 16-bit
operands; linac's GPU kernels may do the same, and CPU kernels take the same option. Every
chunked op and Mamba-2 is checked with it against the float64 step-by-step reference at
the float16 tolerance: the rounding is of the operands only, the products accumulate in
f32 and the state stays f32. So is each op with 16-bit decayed rows alone
(``decayed_rows="input"``, which ``product_operands="input"`` implies; its IR checks are
in test_decayed_rows.py).
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
# The options that round f32 operands to the inputs' 16-bit type.
SIXTEEN_BIT_OPTIONS = ["product_operands", "decayed_rows"]


@pytest.mark.parametrize("option", SIXTEEN_BIT_OPTIONS)
@pytest.mark.parametrize("spec", CHUNKED_SPECS, ids=lambda spec: spec.id)
def test_16_bit_operands_match_reference(
    spec: OpSpec, option: str, rng: np.random.Generator, monkeypatch
) -> None:
    compiled = compile_kernels_with(monkeypatch, _recurrence, 16, **{option: "input"})
    check_chunked_against_reference(spec, rng, T=75, K=32, V=32, dtype=np.float16)
    assert compiled == [spec.kernel]


def lowered(op: str, dtype: str, **options) -> str:
    """The IR after the lower stage of a CPU kernel of K = V = 32."""
    result = _linac.compile_builtin(
        op, "cpu", 32, 32, dtype, use_cache=False, keep_stages=True, **options
    )
    return next(text for name, text in result.stages if name == "lower")


def product_operand_types(text: str) -> list[str]:
    """The element types of the two inputs of each product (a generic of two inputs with a
    reduction) in `text` that is not a one-row product (the UT transform's row by row solve, which
    stays f32)."""
    types = []
    for line in text.splitlines():
        if "linalg.generic" in line and "reduction" in line and " ins(" in line:
            operands = line.split(" ins(")[1].split(")")[0].split(" : ")[1].split("memref<")[1:]
            if len(operands) != 2 or any(operand.startswith("1x") for operand in operands):
                continue
            types.append(
                "/".join(operand.split(",")[0].rstrip(">").split("x")[-1] for operand in operands)
            )
    return types


@pytest.mark.parametrize("op", ["chunk_simple_gla", "chunk_gated_delta_rule", "chunk_gla"])
def test_every_product_reads_16_bit_operands_only_where_asked(op: str) -> None:
    # With the option no product reads an f32 operand (simple GLA's state and scores, the
    # delta rule's T, W, U and state, GLA's band); without it some do, and f32 kernels
    # are left alone.
    narrow = product_operand_types(lowered(op, "bf16", product_operands="input"))
    assert narrow and all(pair == "bf16/bf16" for pair in narrow), narrow
    wide = product_operand_types(lowered(op, "bf16"))
    assert any("f32" in pair for pair in wide), wide
    f32 = product_operand_types(lowered(op, "f32", product_operands="input"))
    assert f32 and all(pair == "f32/f32" for pair in f32), f32


def test_unknown_product_operands_is_an_error() -> None:
    with pytest.raises(_runtime.CompileError, match="unknown product-operands 'bf16'"):
        _runtime.get_kernel(
            "chunk_simple_gla", 16, 16, "bf16", "cpu", 16, 0, product_operands="bf16"
        )


@pytest.mark.parametrize("option", SIXTEEN_BIT_OPTIONS)
def test_16_bit_operands_of_mamba2_match_reference(
    option: str, rng: np.random.Generator, monkeypatch
) -> None:
    # Mamba-2's C and B are its queries and keys: float16 here, so its rows narrow too.
    from linac.ops import mamba

    compiled = compile_kernels_with(monkeypatch, mamba, 16, **{option: "input"})
    check_chunked_mamba2_against_reference(rng, 16, T=75, dtype=np.float16)
    assert compiled == ["chunk_mamba2"]
