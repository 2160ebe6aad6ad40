"""Compiling, caching and running kernels from Python.

Kernels are compiled once per (kernel, head sizes, dtype, target) and kept in
memory; across processes the on-disk kernel cache (``LINAC_CACHE_DIR``) skips
the compile.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from . import _linac

CompileError = _linac.CompileError


@dataclass
class LoadedKernel:
    """A compiled kernel, its metadata and a callable for its target."""

    result: _linac.CompileResult
    metadata: dict
    cpu: _linac.CpuKernel | None = None
    gpu: object | None = None
    arg_names: list[str] = field(default_factory=list)

    def run_cpu(self, args: dict, max_threads: int = 0) -> None:
        """Runs on the host; ``args`` maps each metadata argument name to an
        array (buffers) or a float (scalars); ``max_threads`` > 0 caps the
        threads of this call."""
        self.cpu.run([args[name] for name in self.arg_names], max_threads)

    def run_gpu(self, args: dict, grid: tuple, stream: int = 0) -> None:
        """Launches on the current CUDA device; ``args`` maps each argument
        name to a (device pointer, sizes, strides in elements) tuple or a
        float, ``grid`` is (value tiles, heads, sequences)."""
        block = self.metadata["grid"]["block"][0]
        self.gpu.launch([args[name] for name in self.arg_names], grid, block, stream)


_lock = threading.Lock()
_kernels: dict[tuple, LoadedKernel] = {}


def get_kernel(
    name: str,
    head_dim_k: int,
    head_dim_v: int,
    dtype: str,
    target: str = "cpu",
    chunk_size: int = 0,
    block_v: int = 0,
    **modifiers,
) -> LoadedKernel:
    """The built-in kernel ``name`` compiled for these sizes and
    ``modifiers`` (householder, qk_l2norm, beta_sigmoid, block_size), from
    memory, the disk cache, or the compiler (in that order). A chunk size or
    value tile of 0 is the compiler's default."""
    key = (
        name,
        head_dim_k,
        head_dim_v,
        dtype,
        target,
        chunk_size,
        block_v,
        tuple(sorted(modifiers.items())),
    )
    kernel = _kernels.get(key)
    if kernel is not None:
        return kernel
    with _lock:
        kernel = _kernels.get(key)
        if kernel is None:
            result = _linac.compile_builtin(
                name, target, head_dim_k, head_dim_v, dtype, chunk_size, block_v, **modifiers
            )
            kernel = load(result)
            _kernels[key] = kernel
    return kernel


def load(result: _linac.CompileResult) -> LoadedKernel:
    """Loads a compile result for its target."""
    for warning in result.warnings:
        import warnings

        warnings.warn(warning, RuntimeWarning, stacklevel=3)
    metadata = json.loads(result.metadata)
    kernel = LoadedKernel(result, metadata, arg_names=[a["name"] for a in metadata["args"]])
    if result.target == "cpu":
        kernel.cpu = _linac.CpuKernel(result)
    else:
        kernel.gpu = _linac.GpuKernel(result)
        # Buffers beyond 48 KiB live in dynamic shared memory, sized at launch.
        shared = metadata["grid"].get("dynamic_shared_bytes", 0)
        if shared:
            kernel.gpu.set_dynamic_shared_bytes(shared)
    return kernel


def clear_memory_cache() -> None:
    """Forgets the kernels loaded in this process (the disk cache stays)."""
    with _lock:
        _kernels.clear()
