"""What the GPU check runs: the kernels to compile ahead of time, the correctness cases and
their random inputs, shared by scripts/make-device-bundle.sh (on the CPU machine, which
compiles the kernels and computes the CPU results) and test/gpu/test_gpu_ops.py (on the GPU
machine). numpy only: the GPU machine may not have the `linac` extension.

Inputs are generated at the kernel's level, one array per metadata argument, from the
argument's name and symbolic shape, so every built-in op gets the same treatment (mamba_ssm
and fla signatures are the frontend's business, tested on the CPU in test/python).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

TARGET = "sm_90"

# Every built-in op (linac-compile --list), with the options a case compiles it with:
# DeltaProduct needs a number of Householder steps.
OP_OPTIONS: dict[str, dict] = {
    "chunk_gated_delta_product": {"householder": 2},
    "chunk_delta_product": {"householder": 2},
}

# Relative RMS error allowed against the float32 CPU kernel (itself within 1e-5 of the
# float64 reference, test/python). bf16 outputs round at 2^-9 ~ 2e-3 and the GPU's
# contractions read bf16 operands and tf32 intermediates (mma.sync m16n8k16 / m16n8k8), so
# a few 1e-3 are expected; delta rules amplify rounding through the UT transform.
TOLERANCE = {"f32": 5e-3, "bf16": 2e-2}
DELTA_TOLERANCE = {"f32": 1e-2, "bf16": 4e-2}

# The benchmark's problems (issue 6): (B, T, H, K = V), bf16.
BENCH_SHAPES = [(8, 2048, 16, 128), (4, 8192, 16, 128), (1, 32768, 16, 128), (8, 1024, 8, 64)]
BENCH_OPS = ["simple_gla", "gla", "delta_rule", "gated_delta_rule", "mamba2"]
DECODE_BATCH = 64
# Segmented runs (frontend/linac/_segments.py): the ops whose chunked kernels the bundle
# ships state passes for, the multiprocessors the bundle plans them for (an H200's), and
# the chunks per segment of the correctness cases' state passes.
SEGMENT_OPS = ("simple_gla", "gla", "delta_rule", "gated_delta_rule", "mamba2")
SEGMENT_UNITS = 132
SEGMENT_TEST_CHUNKS = 2

# The tile options the variant sweep (benchmarks/gpu_variants.py) compiles the benchmark's
# chunked kernels with, at bf16 K = V = 128; combinations over the shared memory a block
# may opt in to (227 KiB on sm_90; beyond 48 KiB a kernel uses dynamic shared memory) fail
# to compile and are left out. Value tiles of 8 and blocks of 64 threads, slowest in the
# H200 sweeps of 2026-11-29/30, are no longer tried (the sweep and the bundle stay small).
# Timed on VARIANT_SHAPE.
VARIANT_CHUNK_SIZES = (8, 16, 32, 64)
VARIANT_BLOCK_VS = (16, 32, 64)
VARIANT_BLOCK_SIZES = (128, 256)
# Kernels also swept with linac-compile --factored-band=on (GLA's scores as one product of
# rescaled rows where a sub-chunk's gate sums allow it; off by default on GPUs until timed
# there), at chunks of at most 32 tokens (name suffix _fb).
VARIANT_FACTORED_BAND_OPS = ("chunk_gla",)
VARIANT_SHAPE = (4, 8192, 16, 128)

# The arguments in the kernel's element type (f32, f16 or bf16); the others are float32.
DATA_ARGS = ("q", "k", "v", "x", "B", "C", "z")


@functools.cache
def load_segments():
    """frontend/linac/_segments.py (segmented runs) as a module of its own: the GPU machine
    has no linac extension to import the package with. Loaded once (every case and problem
    asks for it)."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "frontend" / "linac" / "_segments.py"
    spec = importlib.util.spec_from_file_location("linac_segments", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def segment_folder(bundle: Path, chunks: int, kernel_folder: str) -> Path:
    """Where the bundle keeps the state passes of `chunks` chunks per segment."""
    return bundle / "kernels" / "segments" / f"m{chunks}" / kernel_folder


def bench_kernels(op: str) -> tuple[str, str]:
    """The (chunked, recurrent) linac kernels of a benchmark op."""
    return f"chunk_{op}", f"fused_recurrent_{op}"


def is_delta(op: str) -> bool:
    return "delta" in op


def tolerance(op: str, dtype: str) -> float:
    return (DELTA_TOLERANCE if is_delta(op) else TOLERANCE)[dtype]


def kernel_dir(dtype: str, K: int, V: int) -> str:
    """Where a kernel compiled for (dtype, K, V) lives in the bundle's kernels/ folder."""
    return f"{dtype}_k{K}_v{V}"


@dataclass(frozen=True)
class Case:
    """One correctness case: an op at one problem size, run on the GPU in each of `dtypes`
    (on the same inputs, representable in bf16) and compared with the float32 CPU kernel."""

    op: str
    dtypes: tuple[str, ...] = ("f32", "bf16")
    B: int = 2
    T: int = 100  # not a multiple of any chunk size: a partial last chunk
    H: int = 2
    K: int = 64
    V: int = 64
    G: int = 1  # B/C groups of the Mamba ops
    options: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def name(self) -> str:
        return f"{self.op}-B{self.B}T{self.T}H{self.H}K{self.K}V{self.V}"


def cases(ops: list[str], bench: bool = True) -> list[Case]:
    """Every op in f32 and bf16 at K = V = 64, and (bench) the benchmark's kernels at
    K = V = 128 in bf16, the ones whose timings the benchmark reports."""
    result = [Case(op, options=OP_OPTIONS.get(op, {})) for op in ops]
    if bench:
        for family in BENCH_OPS:
            for op in bench_kernels(family):
                if op in ops:
                    result.append(Case(op, ("bf16",), B=1, T=130, K=128, V=128))
    return result


def _size(symbol, case: Case) -> int:
    """A metadata size: an integer, or B, T, H, G, N, N+1, T*n."""
    if isinstance(symbol, int):
        return symbol
    values = {"B": case.B, "T": case.T, "H": case.H, "G": case.G, "N": case.B, "N+1": 0}
    if symbol in values:
        return values[symbol]
    if symbol.startswith("T*"):
        return case.T * int(symbol[2:])
    raise ValueError(f"unknown size {symbol!r} in the kernel metadata")


def shape(arg: dict, case: Case) -> tuple[int, ...]:
    """The shape of a buffer argument in this case (cu_seqlens: empty, no varlen)."""
    return tuple(_size(s, case) for s in arg["shape"])


def make_inputs(metadata: dict, case: Case, seed: int = 0) -> dict:
    """Random inputs for every argument of a kernel that it reads, as float32 / int64 numpy
    arrays, plus the scalars. q, k, v, x, B, C, z are rounded to bf16 (still float32), so the
    f32 and bf16 kernels of a case read the same numbers; `metadata` is either's.

    Ranges are the ones the CPU tests use: decays g = -uniform(0, 0.5), beta in [0, 1],
    L2-normalized keys for delta rules (the recurrence stays bounded), positive q and k for
    normalized linear attention (its denominator must not cross zero), Mamba's dt in
    [0.01, 0.1] with A < 0."""
    rng = np.random.default_rng(seed)
    op = metadata["op"]
    arrays: dict = {}
    for arg in metadata["args"]:
        name = arg["name"]
        if arg["kind"] != "buffer":
            arrays[name] = float(metadata["head_dim_k"] ** -0.5)  # scale
            continue
        dims = shape(arg, case)
        if name in ("output", "final_state"):
            continue
        if name == "cu_seqlens":
            arrays[name] = np.zeros(dims, dtype=np.int64)
            continue
        if name == "g":
            x = -rng.uniform(0.0, 0.5, dims)
        elif name == "beta":
            x = rng.uniform(0.0, 1.0, dims)
        elif name == "dt":
            x = rng.uniform(0.01, 0.1, dims)
        elif name == "dt_bias":
            x = rng.uniform(0.0, 0.05, dims)
        elif name == "A":
            x = -rng.uniform(0.5, 2.0, dims)
        elif name == "initial_state":
            x = 0.5 * rng.standard_normal(dims)
        elif name in ("q", "k") and metadata.get("normalize"):
            x = np.exp(0.5 * rng.standard_normal(dims))
        else:
            x = rng.standard_normal(dims)
            if name == "k" and is_delta(op):
                x /= np.sqrt(np.sum(x * x, axis=-1, keepdims=True) + 1e-6)
        x = x.astype(np.float32)
        if name in DATA_ARGS:
            x = round_to_bf16(x)
        arrays[name] = x
    return arrays


def round_to_bf16(x: np.ndarray) -> np.ndarray:
    """float32 values rounded to the nearest bfloat16 (ties to even), still float32."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
    return rounded.view(np.float32)


def to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """The bfloat16 bits (uint16) of float32 values already representable in bf16: half the
    bytes in the bundle."""
    return (np.ascontiguousarray(x, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)


def from_bf16_bits(bits: np.ndarray) -> np.ndarray:
    """The float32 values of bfloat16 bits."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def relative_rms(result: np.ndarray, reference: np.ndarray) -> float:
    """rms(result - reference) / rms(reference) in float64 (nan and inf count as inf)."""
    result = np.asarray(result, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if not np.all(np.isfinite(result)):
        return math.inf
    scale = math.sqrt(np.mean(reference**2)) if reference.size else 0.0
    error = math.sqrt(np.mean((result - reference) ** 2)) if reference.size else 0.0
    return error / scale if scale > 0 else error
