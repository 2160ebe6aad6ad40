"""The GPU's way of summing the log decays, checked on the CPU.

GPU kernels sum each chunk's log decays element by element (`gate_sums="per-element"`: each
cumulative or window sum in a loop of its own) where CPU kernels keep running sums row by row
(one barrier per row on a GPU). Every chunked op with decays is compiled here with the GPU's
form and compared with the float64 step-by-step reference, at the CPU's chunk size (16) and at
64, where GLA's decayed scores split each chunk into sub-chunks of 16 (the keys before a
sub-chunk and the band inside it take different paths).
"""

from __future__ import annotations

import numpy as np
import pytest
from linac import _linac
from linac.ops import _recurrence, mamba
from optable import (
    SPECS,
    OpSpec,
    check_chunked_against_reference,
    check_chunked_mamba2_against_reference,
    compile_kernels_with,
)

B, H = 2, 2
GATED_CHUNK_SPECS = [spec for spec in SPECS if spec.gate and not spec.recurrent]


def test_the_gated_chunk_ops_are_all_here() -> None:
    kernels = {spec.kernel for spec in GATED_CHUNK_SPECS}
    assert kernels == {
        "chunk_simple_gla",
        "chunk_gla",
        "chunk_gated_delta_rule",
        "chunk_gated_delta_product",
    }


@pytest.mark.parametrize("chunk_size", [16, 64])
@pytest.mark.parametrize("spec", GATED_CHUNK_SPECS, ids=lambda spec: spec.id)
def test_per_element_sums_match_reference(
    spec: OpSpec, chunk_size: int, rng: np.random.Generator, monkeypatch
) -> None:
    compiled = compile_kernels_with(monkeypatch, _recurrence, chunk_size, gate_sums="per-element")
    check_chunked_against_reference(spec, rng, B, H)
    assert compiled == [spec.kernel]


@pytest.mark.parametrize("chunk_size", [16, 64])
def test_mamba2_per_element_sums_match_reference(
    chunk_size: int, rng: np.random.Generator, monkeypatch
) -> None:
    compiled = compile_kernels_with(monkeypatch, mamba, chunk_size, gate_sums="per-element")
    check_chunked_mamba2_against_reference(rng, chunk_size)
    assert compiled == ["chunk_mamba2"]


def test_unknown_gate_sums_is_an_error() -> None:
    with pytest.raises(Exception, match="unknown gate-sums 'rowwise'"):
        _linac.compile_builtin("chunk_simple_gla", "cpu", 32, 32, gate_sums="rowwise")
