"""Whole GPU kernels, run on the CPU by gpu_emulator.py against the float64 reference.

Each chunked op is compiled for sm_90 as the GPU would run it (tensor cores, ldmatrix,
cp.async copies, double-buffered inputs, the GPU's gate sums, GLA's thread band, the
column-by-column UT solve), and the kernel of the `gpu` stage (linac-map-to-gpu's output)
runs block by block on the emulator, through the Python API's own call path: the op
checks and lays out its inputs, and the kernel's launch is replaced by the emulation.
Outputs and final states must match the step-by-step reference at the dtype's tolerance.

The GPU options not yet run on a GPU (grouped warp tiles, 16-bit product operands,
elided barriers, the row-by-row UT solve as a candidate) are checked the same way, so the
next device check times kernels already known to compute the right thing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from gpu_emulator import (
    LINAC_OPT,
    EmulationError,
    compile_for_emulation,
    kernels,
    parse,
    run_kernel,
)
from linac.ops import _recurrence, mamba
from linac.reference import relative_rms_error
from optable import (
    RECURRENT_SPECS,
    SPEC_BY_KERNEL,
    SPECS,
    check_chunked_against_reference,
    check_chunked_mamba2_against_reference,
    make_state,
)

pytestmark = pytest.mark.skipif(not LINAC_OPT.exists(), reason="linac-opt not built")


class EmulatedGpuKernel:
    """A kernel compiled for sm_90 whose run_cpu() runs its GPU code on the emulator."""

    def __init__(
        self, name: str, K: int, V: int, dtype: str, modifiers: dict, options: dict,
        target: str = "sm_90",
    ):  # fmt: skip
        self.metadata, self.module = compile_for_emulation(
            name, target, K, V, dtype, **modifiers, **options
        )
        (self.symbol,) = kernels(parse(self.module))

    def run_cpu(self, args: dict, max_threads: int = 0) -> None:
        names = [a["name"] for a in self.metadata["args"]]
        # Every kernel's output is [B, T, H, V]: value tiles, heads and sequences.
        batch, _, H, V = args["output"].shape
        cu = args["cu_seqlens"]
        sequences = len(cu) - 1 if len(cu) else batch
        grid = (math.ceil(V / self.metadata["block_v"]), H, sequences)
        threads = self.metadata["grid"]["block"][0]
        run_kernel(self.module, self.symbol, threads, [args[n] for n in names], grid)


def emulate_gpu_kernels(monkeypatch, **options) -> list[EmulatedGpuKernel]:
    """Makes the ops run their kernels as emulated sm_90 kernels compiled with
    `options`; returns the list the kernels are appended to."""
    compiled = []

    def kernel_for(kernel_name, p, dtype, target, modifiers, run, synchronize):
        compiled.append(EmulatedGpuKernel(kernel_name, p.K, p.V, dtype, modifiers, options))
        return compiled[-1]

    monkeypatch.setattr(_recurrence, "_kernel_for", kernel_for)
    return compiled


CHUNKED_SPECS = [spec for spec in SPECS if not spec.recurrent]
MAIN = ["chunk_simple_gla", "chunk_gla", "chunk_delta_rule", "chunk_gated_delta_rule"]
DELTA = ["chunk_delta_rule", "chunk_gated_delta_rule", "chunk_gated_delta_product"]


# Every chunked op in f16 (tensor cores), the four main ones in f32 too (CUDA cores).
DTYPE_CASES = [(spec, np.float16) for spec in CHUNKED_SPECS] + [
    (SPEC_BY_KERNEL[kernel], np.float32) for kernel in MAIN
]


@pytest.mark.parametrize(
    ("spec", "dtype"),
    DTYPE_CASES,
    ids=[f"{spec.id}-{np.dtype(dtype).name}" for spec, dtype in DTYPE_CASES],
)
def test_gpu_kernel_matches_reference(spec, dtype, rng: np.random.Generator, monkeypatch):
    """The default sm_90 kernel (its own chunk size) on 75 tokens: two whole chunks and a
    partial one at chunk 32."""
    compiled = emulate_gpu_kernels(monkeypatch)
    check_chunked_against_reference(spec, rng, B=1, H=2, T=75, K=32, V=32, dtype=dtype)
    assert [kernel.symbol for kernel in compiled] == [spec.kernel]
    if dtype == np.float16:
        assert "nvvm.mma.sync" in compiled[0].module


@pytest.mark.parametrize("spec", CHUNKED_SPECS, ids=lambda spec: spec.id)
def test_gpu_kernel_chunk_16_varlen(spec, rng: np.random.Generator, monkeypatch):
    """Chunks of 16 (the GPU's default at K = V = 128), on sequences of 5 tokens (less than a
    chunk), none, 16 (one chunk) and 37 (three, the last partial)."""
    emulate_gpu_kernels(monkeypatch, chunk_size=16)
    cu_seqlens = np.array([0, 5, 5, 21, 58])
    x = spec.inputs(rng, 1, 58, 1, 32, 32, np.float16)
    s0 = make_state(rng, len(cu_seqlens) - 1, 1, 32, 32)
    o, final = spec(x, initial_state=s0, output_final_state=True, cu_seqlens=cu_seqlens)
    ref_o, ref_final = spec.reference(x, initial_state=s0, cu_seqlens=cu_seqlens)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float16)
    assert relative_rms_error(ref_final, final) <= spec.tolerance(np.float16)


@pytest.mark.parametrize("T", [1, 20])
@pytest.mark.parametrize("spec", RECURRENT_SPECS, ids=lambda spec: spec.id)
def test_gpu_recurrent_kernel_matches_reference(spec, T, rng: np.random.Generator, monkeypatch):
    """The decode step (T = 1) and a short recurrence, token by token."""
    compiled = emulate_gpu_kernels(monkeypatch)
    check_chunked_against_reference(spec, rng, B=2, H=1, T=T, K=32, V=32, dtype=np.float16)
    assert [kernel.symbol for kernel in compiled] == [spec.kernel]


@pytest.mark.parametrize("chunk_size", [16, 32])
def test_gpu_mamba2_matches_reference(chunk_size: int, rng: np.random.Generator, monkeypatch):
    compiled = []

    def get_kernel(name, N, P, dtype, target, chunk, **modifiers):
        compiled.append(EmulatedGpuKernel(name, N, P, dtype, modifiers, {"chunk_size": chunk}))
        return compiled[-1]

    monkeypatch.setattr(mamba, "get_kernel", get_kernel)
    check_chunked_mamba2_against_reference(rng, chunk_size, T=40, dtype=np.float16)
    assert [kernel.symbol for kernel in compiled] == ["chunk_mamba2"]
    assert "nvvm.mma.sync" in compiled[0].module


@pytest.mark.parametrize("kernel", MAIN)
def test_gpu_segmented_run_matches_reference(kernel, rng, monkeypatch):
    """A segmented run (two chunks a segment): the state pass writes each segment's
    starting state, then the ordinary kernel runs every segment as a sequence."""
    monkeypatch.setenv("LINAC_SEGMENTS", "2")
    compiled = emulate_gpu_kernels(monkeypatch, chunk_size=16)

    def get_kernel(name, K, V, dtype, target, chunk=0, block_v=0, **modifiers):
        compiled.append(EmulatedGpuKernel(name, K, V, dtype, modifiers, {"chunk_size": chunk}))
        return compiled[-1]

    monkeypatch.setattr(_recurrence, "get_kernel", get_kernel)
    check_chunked_against_reference(SPEC_BY_KERNEL[kernel], rng, B=2, H=1, T=75, K=32, V=32,
                                    dtype=np.float16)  # fmt: skip
    assert [k.metadata.get("state_checkpoints", 0) for k in compiled] == [0, 2]


# The GPU options not yet run on a GPU (and the candidates the device check times), each on
# the kernels it changes.
OPTIONS = [
    *[("warp_tiles", "on", kernel) for kernel in MAIN],
    *[("product_operands", "input", kernel) for kernel in MAIN],
    *[("elide_barriers", "on", kernel) for kernel in MAIN],
    *[("ut_solve", "rows", kernel) for kernel in DELTA],
    ("ldmatrix", "off", "chunk_simple_gla"),
    ("factored_band", "on", "chunk_gla"),
    ("double_buffer", "off", "chunk_simple_gla"),
]


@pytest.mark.parametrize(
    ("option", "value", "kernel"), OPTIONS, ids=lambda x: x if isinstance(x, str) else None
)
def test_gpu_option_matches_reference(option, value, kernel, rng, monkeypatch):
    compiled = emulate_gpu_kernels(monkeypatch, chunk_size=16, **{option: value})
    check_chunked_against_reference(
        SPEC_BY_KERNEL[kernel], rng, B=1, H=1, T=75, K=32, V=32, dtype=np.float16
    )
    assert [k.symbol for k in compiled] == [kernel]


@pytest.mark.parametrize("kernel", MAIN)
def test_grouped_warp_tiles_at_k_128(kernel, rng, monkeypatch):
    """K = V = 128, the benchmark's head size: the state update's 2 x 4 tile groups and the
    split chains of Q S and Q K^T, on one head of one short sequence."""
    compiled = emulate_gpu_kernels(monkeypatch, warp_tiles="on")
    check_chunked_against_reference(
        SPEC_BY_KERNEL[kernel], rng, B=1, H=1, T=24, K=128, V=128, dtype=np.float16
    )
    assert compiled[0].module.count("nvvm.mma.sync") > 8


def test_emulator_finds_a_missing_barrier(rng: np.random.Generator, monkeypatch) -> None:
    """The race detector is not lenient: without its barriers, a kernel's phases race."""
    compiled = emulate_gpu_kernels(monkeypatch)
    real_run = EmulatedGpuKernel.run_cpu

    def without_barriers(self, args, max_threads=0):
        self.module = "\n".join(
            line for line in self.module.splitlines() if '"gpu.barrier"' not in line
        )
        real_run(self, args, max_threads)

    monkeypatch.setattr(EmulatedGpuKernel, "run_cpu", without_barriers)
    with pytest.raises(EmulationError, match="race in"):
        check_chunked_against_reference(
            SPEC_BY_KERNEL["chunk_simple_gla"], rng, B=1, H=1, T=20, K=16, V=16
        )
    assert len(compiled) == 1


@pytest.mark.parametrize("kernel", ["chunk_simple_gla", "chunk_delta_rule"])
def test_warpgroup_mma_matches_reference(kernel, rng, monkeypatch):
    """sm_90a with wgmma (--warpgroup-mma=on): the state update (and the delta rules'
    W = T K) as warpgroup products from the operands' core-matrix copies in shared memory,
    at K = V = 64, where the state's 64 rows make one warpgroup tile."""
    compiled = []

    def kernel_for(kernel_name, p, dtype, target, modifiers, run, synchronize):
        compiled.append(
            EmulatedGpuKernel(kernel_name, p.K, p.V, dtype, modifiers,
                              {"chunk_size": 16, "warpgroup_mma": "on"}, target="sm_90a")
        )  # fmt: skip
        return compiled[-1]

    monkeypatch.setattr(_recurrence, "_kernel_for", kernel_for)
    check_chunked_against_reference(SPEC_BY_KERNEL[kernel], rng, B=1, H=1, T=40, K=64, V=64,
                                    dtype=np.float16)  # fmt: skip
    assert "nvvm.wgmma.mma_async" in compiled[0].module
