"""The GPU's double-buffered inputs, checked on the CPU.

GPU kernels copy the next chunk's inputs into a second set of buffers while a chunk computes
(`double_buffer`, on for GPUs by default): the first chunk's copies run before the chunk
loop, each chunk starts with its successor's, and a chunk reads the half its index selects.
CPU kernels copy synchronously and keep one buffer, but compile the same transformation with
``double_buffer="on"``; every chunked op is checked that way here against the float64
step-by-step reference: with partial last chunks, a single partial chunk, and variable-length
batches whose sequences are shorter than a chunk, one chunk long, or empty.
"""

from __future__ import annotations

import numpy as np
import pytest
from linac import _linac
from linac.ops import _recurrence, mamba
from linac.reference import relative_rms_error
from optable import (
    SPECS,
    OpSpec,
    check_chunked_against_reference,
    check_chunked_mamba2_against_reference,
    compile_kernels_with,
    make_state,
)

CHUNKED_SPECS = [spec for spec in SPECS if not spec.recurrent]


@pytest.mark.parametrize("chunk_size", [16, 64])
@pytest.mark.parametrize("spec", CHUNKED_SPECS, ids=lambda spec: spec.id)
def test_double_buffered_chunks_match_reference(
    spec: OpSpec, chunk_size: int, rng: np.random.Generator, monkeypatch
) -> None:
    compiled = compile_kernels_with(monkeypatch, _recurrence, chunk_size, double_buffer="on")
    check_chunked_against_reference(spec, rng)
    assert compiled == [spec.kernel]


@pytest.mark.parametrize("spec", CHUNKED_SPECS, ids=lambda spec: spec.id)
def test_double_buffered_varlen_matches_reference(
    spec: OpSpec, rng: np.random.Generator, monkeypatch
) -> None:
    # Sequences of 5 tokens (less than a chunk), none, 16 (one chunk), 37 (three, the last
    # partial): each starts its own chunk loop with its own first copy.
    compile_kernels_with(monkeypatch, _recurrence, 16, double_buffer="on")
    cu_seqlens = np.array([0, 5, 5, 21, 58])
    T, H, K, V = 58, 2, 16, 32
    x = spec.inputs(rng, 1, T, H, K, V)
    s0 = make_state(rng, len(cu_seqlens) - 1, H, K, V)
    o, final = spec(x, initial_state=s0, output_final_state=True, cu_seqlens=cu_seqlens)
    ref_o, ref_final = spec.reference(x, initial_state=s0, cu_seqlens=cu_seqlens)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, final) <= spec.tolerance(np.float32)


def test_double_buffered_mamba2_matches_reference(rng: np.random.Generator, monkeypatch) -> None:
    compiled = compile_kernels_with(monkeypatch, mamba, 16, double_buffer="on")
    check_chunked_mamba2_against_reference(rng, 16)
    assert compiled == ["chunk_mamba2"]


def test_double_buffering_is_on_for_gpus_and_off_for_cpus() -> None:
    def stage_names(target: str, **options) -> list[str]:
        result = _linac.compile_builtin(
            "chunk_simple_gla", target, 32, 32, use_cache=False, keep_stages=True, **options
        )
        return [name for name, _ in result.stages]

    assert "buffer" not in stage_names("cpu")
    assert "buffer" in stage_names("cpu", double_buffer="on")
    assert "buffer" in stage_names("sm_90")
    assert "buffer" not in stage_names("sm_90", double_buffer="off")


def test_unknown_double_buffer_is_an_error() -> None:
    with pytest.raises(Exception, match="unknown double-buffer 'sometimes'"):
        _linac.compile_builtin("chunk_simple_gla", "cpu", 32, 32, double_buffer="sometimes")
