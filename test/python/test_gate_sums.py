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
    # factored_band="off" as on GPUs: GLA's band takes the exact path (the CPU's default
    # factored band would leave it to sub-chunks of gate sums beyond +-20).
    compiled = compile_kernels_with(
        monkeypatch, _recurrence, chunk_size, gate_sums="per-element", factored_band="off"
    )
    check_chunked_against_reference(spec, rng, B, H)
    assert compiled == [spec.kernel]


@pytest.mark.parametrize("chunk_size", [8, 16, 64])
@pytest.mark.parametrize("K", [60, 100, 8])
def test_gla_band_of_thread_loops_matches_reference(
    K: int, chunk_size: int, rng: np.random.Generator, monkeypatch
) -> None:
    # GLA's exact band inside a sub-chunk, as GPUs run it: one iteration per key and group
    # of channels (8 groups of 8 at K = 60, the last four channels of the row absent from
    # the later groups; one group at K = 8), then one per score adding the groups. Each
    # kernel's lowering holds those two thread-parallel loops and two more, the forward
    # and reverse gate sums (one channel an iteration).
    spec = next(spec for spec in GATED_CHUNK_SPECS if spec.kernel == "chunk_gla")
    options = {"gate_sums": "per-element", "factored_band": "off"}
    compile_kernels_with(monkeypatch, _recurrence, chunk_size, **options)
    check_chunked_against_reference(spec, rng, B, H, T=150, K=K, V=24)
    lowered = _linac.compile_builtin(
        "chunk_gla", "cpu", K, 24, "f32", chunk_size, use_cache=False, keep_stages=True,
        **options,
    )  # fmt: skip
    text = next(text for name, text in lowered.stages if name == "lower")
    assert text.count("linac.thread_parallel") == 4


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
