"""Compiling the built-in kernels for every target, and the CUDA status.

Covers the list of built-in kernels (modes chunk, recurrent and noncausal; exactly the kernels
the ops of `linac.ops` run), PTX for sm_80 and sm_90 with a `.entry` for each kernel, ptxas
turning it into a cubin without spills (skipped when ptxas is not installed), compiling without
ptxas (PTX only), host objects for the CPU, compile errors that name the unknown op or target,
and, on a machine with a CUDA driver, loading a kernel on the GPU (skipped elsewhere).
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from linac import CompileError, _linac
from optable import OTHER_OP_KERNELS, SPECS
from processes import run_python


def _find_ptxas() -> str | None:
    if shutil.which("ptxas"):
        return shutil.which("ptxas")
    return "/usr/local/cuda/bin/ptxas" if os.path.exists("/usr/local/cuda/bin/ptxas") else None


PTXAS = _find_ptxas()
KERNELS = [kernel[0] for kernel in _linac.builtin_kernels()]
# The storage dtype each GPU target is compiled for here: fp16 on Ampere, bf16 on Hopper.
GPU_TARGETS = {"sm_80": "f16", "sm_90": "bf16"}
CUDA_STATUS = _linac.cuda_status()


def test_builtin_kernels_cover_every_op() -> None:
    kernels = _linac.builtin_kernels()
    for name, family, mode, normalized, description in kernels:
        assert mode in ("chunk", "recurrent", "noncausal"), name
        assert (mode == "noncausal") == name.startswith("noncausal_"), name
        assert isinstance(normalized, bool)
        assert family and description
    # Every built-in kernel is run by an op, and every op's kernels are built in.
    names = [entry[0] for entry in kernels]
    assert len(set(names)) == len(names)
    by_ops = {spec.kernel for spec in SPECS}
    by_ops |= {kernel for kernels in OTHER_OP_KERNELS.values() for kernel in kernels}
    assert by_ops == set(names)


@pytest.mark.parametrize("target", GPU_TARGETS)
@pytest.mark.parametrize("kernel", KERNELS)
def test_ptx_has_the_kernel_entry(kernel: str, target: str) -> None:
    result = _linac.compile_builtin(kernel, target, 64, 64, GPU_TARGETS[target])
    assert result.target == target
    assert result.symbol == kernel
    assert re.search(rf"^\.target {target}\b", result.ptx, re.MULTILINE)
    assert re.search(rf"\.entry {kernel}\(", result.ptx)


@pytest.mark.skipif(
    PTXAS is None, reason="ptxas is not installed (not on PATH nor in /usr/local/cuda/bin)"
)
@pytest.mark.parametrize("target", GPU_TARGETS)
@pytest.mark.parametrize("kernel", KERNELS)
def test_ptxas_assembles_without_spills(kernel: str, target: str) -> None:
    result = _linac.compile_builtin(kernel, target, 64, 64, GPU_TARGETS[target])
    assert result.cubin[:4] == b"\x7fELF"
    assert f"Compiling entry function '{kernel}' for '{target}'" in result.ptxas_log
    assert "0 bytes spill stores, 0 bytes spill loads" in result.ptxas_log, result.ptxas_log


def test_without_ptxas_the_ptx_is_still_produced(tmp_path) -> None:
    # In a new process: the ptxas version found first is part of every cache key.
    code = (
        "import linac._linac as L; "
        "r = L.compile_builtin('chunk_simple_gla', 'sm_90', 64, 64, 'bf16'); "
        "print(len(r.ptx), len(r.cubin), r.ptxas_log)"
    )
    env = dict(os.environ, LINAC_PTXAS="", LINAC_CACHE_DIR=str(tmp_path))
    ptx_size, cubin_size, log = run_python(code, env=env, timeout=120).split(maxsplit=2)
    assert int(ptx_size) > 0
    assert int(cubin_size) == 0
    assert "ptxas not found" in log


@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_cpu_target_gives_a_host_object(dtype: str) -> None:
    result = _linac.compile_builtin("chunk_simple_gla", "cpu", 64, 64, dtype)
    assert result.target == "cpu"
    assert result.object[:4] == b"\x7fELF"
    assert result.ptx == ""
    assert result.cubin == b""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no_such_op", "cpu", 64, 64, "f32"), "unknown op 'no_such_op'"),
        (("chunk_simple_gla", "sm_75", 64, 64, "f16"), "unknown target 'sm_75'"),
        (("chunk_simple_gla", "cpu", 64, 64, "f64"), "unknown dtype 'f64'"),
    ],
    ids=["op", "target", "dtype"],
)
def test_compile_errors_name_the_culprit(args: tuple, message: str) -> None:
    with pytest.raises(CompileError, match=message):
        _linac.compile_builtin(*args)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ldmatrix": "maybe"}, r"unknown ldmatrix 'maybe' \(expected auto, on or off\)"),
        ({"warpgroup_mma": "always"}, r"unknown warpgroup-mma 'always'"),
        ({"warp_tiles": "grouped"}, r"unknown warp-tiles 'grouped' \(expected auto, on or off\)"),
        (
            {"warpgroup_mma": "on"},
            r"warpgroup-mma=on needs --target=sm_90a \(wgmma is sm_90a's\), not sm_90",
        ),
    ],
    ids=["ldmatrix-value", "warpgroup-mma-value", "warp-tiles-value", "warpgroup-mma-target"],
)
def test_gpu_option_errors_name_the_option(options: dict, message: str) -> None:
    with pytest.raises(CompileError, match=message):
        _linac.compile_builtin("chunk_simple_gla", "sm_90", 64, 64, "bf16", **options)


def test_cuda_status_is_available_name_capability() -> None:
    available, text, capability = CUDA_STATUS
    assert isinstance(available, bool)
    assert isinstance(text, str) and text
    assert isinstance(capability, int)
    if not available:
        assert capability == 0


@pytest.mark.skipif(not CUDA_STATUS[0], reason=f"no CUDA GPU: {CUDA_STATUS[1]}")
def test_gpu_loads_a_kernel() -> None:
    _, device, capability = CUDA_STATUS
    assert capability >= 80, f"{device} has compute capability {capability}; linac needs sm_80+"
    target = "sm_90" if capability >= 90 else "sm_80"
    result = _linac.compile_builtin("chunk_simple_gla", target, 64, 64, GPU_TARGETS[target])
    _linac.GpuKernel(result)
