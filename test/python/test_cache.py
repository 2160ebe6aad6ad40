"""The kernel caches: in memory (one compile per kernel and sizes in a process) and on disk
(LINAC_CACHE_DIR, shared between processes).

Covers a second call not compiling again, `get_kernel` returning the loaded kernel,
`clear_memory_cache` falling back to the disk cache, a new process finding the kernel on disk,
`use_cache=False`, a key that changes with every compile option, truncated and corrupted
entries being discarded and rebuilt, and two processes compiling the same kernel at once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import linac
import numpy as np
import pytest
from linac import _linac, _runtime
from optable import SPEC_BY_KERNEL, make_inputs

# Sizes no other test module uses, so the first compile in a test really compiles.
K, V = 24, 40

COMPILE_IN_NEW_PROCESS = (
    "import linac._linac as L; "
    f"r = L.compile_builtin('chunk_simple_gla', 'cpu', {K}, {V}, 'f32'); "
    "print(r.from_cache)"
)


def _new_process(cache_dir: Path) -> subprocess.Popen:
    """Compiles chunk_simple_gla in a new Python process; it prints `from_cache`."""
    env = dict(os.environ, LINAC_CACHE_DIR=str(cache_dir))
    return subprocess.Popen(
        [sys.executable, "-c", COMPILE_IN_NEW_PROCESS],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _entries(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.rglob("*") if p.is_file())


def test_cache_dir_follows_the_environment(linac_cache_dir: Path) -> None:
    assert Path(_linac.cache_dir()) == linac_cache_dir


def test_second_call_does_not_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    compiles = []
    compile_builtin = _linac.compile_builtin

    def counting_compile(*args, **kwargs) -> _linac.CompileResult:
        compiles.append(args)
        return compile_builtin(*args, **kwargs)

    monkeypatch.setattr(_linac, "compile_builtin", counting_compile)
    linac.clear_memory_cache()
    spec = SPEC_BY_KERNEL["fused_recurrent_simple_gla"]
    x = make_inputs(np.random.default_rng(0), 2, 10, 2, K, V)

    first, _ = spec(x)
    assert len(compiles) == 1
    second, _ = spec(x)
    assert len(compiles) == 1
    np.testing.assert_array_equal(first, second)

    kernel = linac.get_kernel("fused_recurrent_simple_gla", K, V, "f32")
    assert kernel is linac.get_kernel("fused_recurrent_simple_gla", K, V, "f32")
    assert kernel in _runtime._kernels.values()
    assert len(compiles) == 1


def test_clear_memory_cache_reloads_from_disk() -> None:
    kernel = linac.get_kernel("chunk_simple_gla", K, V, "f32")
    linac.clear_memory_cache()
    assert not _runtime._kernels
    reloaded = linac.get_kernel("chunk_simple_gla", K, V, "f32")
    assert reloaded is not kernel
    assert reloaded.result.from_cache
    assert reloaded.result.object == kernel.result.object
    assert reloaded.metadata == kernel.metadata


def test_new_process_finds_the_kernel_on_disk(linac_cache_dir: Path) -> None:
    _linac.compile_builtin("chunk_simple_gla", "cpu", K, V, "f32")
    process = _new_process(linac_cache_dir)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert stdout.strip() == "True"


def test_use_cache_false_compiles() -> None:
    _linac.compile_builtin("chunk_simple_gla", "cpu", K, V, "f32")
    result = _linac.compile_builtin("chunk_simple_gla", "cpu", K, V, "f32", use_cache=False)
    assert not result.from_cache
    assert result.object


@pytest.mark.parametrize(
    "options",
    [
        {"dtype": "f16"},
        {"head_dim_k": K + 1},
        {"head_dim_v": V + 1},
        {"chunk_size": 64},  # the CPU default here is 16
        {"name": "fused_recurrent_simple_gla"},
        {"target": "sm_90"},
    ],
    ids=lambda options: "-".join(f"{k}={v}" for k, v in options.items()),
)
def test_every_option_is_in_the_key(
    options: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINAC_CACHE_DIR", str(tmp_path))
    base = {
        "name": "chunk_simple_gla",
        "target": "cpu",
        "head_dim_k": K,
        "head_dim_v": V,
        "dtype": "f32",
    }
    _linac.compile_builtin(**base)
    changed = _linac.compile_builtin(**{**base, **options})
    assert not changed.from_cache
    assert _linac.compile_builtin(**{**base, **options}).from_cache
    assert len(_entries(tmp_path)) == 2


@pytest.mark.skipif(not shutil.which("ptxas"), reason="ptxas not installed")
@pytest.mark.parametrize(
    "options",
    [{"ldmatrix": "off"}, {"warpgroup_mma": "on"}, {"warp_tiles": "on"}],
    ids=lambda options: "-".join(f"{k}={v}" for k, v in options.items()),
)
def test_every_gpu_option_is_in_the_key(
    options: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fragment loads, wgmma and the warps' tile groups change sm_90a bf16 kernels:
    each is its own entry."""
    monkeypatch.setenv("LINAC_CACHE_DIR", str(tmp_path))
    base = {"name": "chunk_simple_gla", "target": "sm_90a", "head_dim_k": 128}
    base |= {"head_dim_v": 128, "dtype": "bf16"}
    default = _linac.compile_builtin(**base)
    changed = _linac.compile_builtin(**{**base, **options})
    assert not changed.from_cache and changed.ptx != default.ptx
    assert _linac.compile_builtin(**{**base, **options}).from_cache


@pytest.mark.parametrize("damage", ["truncated", "flipped-byte", "empty"])
def test_damaged_entry_is_rebuilt(
    damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINAC_CACHE_DIR", str(tmp_path))
    compiled = _linac.compile_builtin("chunk_simple_gla", "cpu", K, V, "f32")
    (entry,) = _entries(tmp_path)
    data = bytearray(entry.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped-byte":
        data[-len(data) // 3] ^= 0xFF
    else:
        data = bytearray()
    entry.write_bytes(bytes(data))

    rebuilt = _linac.compile_builtin("chunk_simple_gla", "cpu", K, V, "f32")
    assert not rebuilt.from_cache
    assert any("corrupted cache entry" in warning for warning in rebuilt.warnings)
    assert rebuilt.object == compiled.object
    again = _linac.compile_builtin("chunk_simple_gla", "cpu", K, V, "f32")
    assert again.from_cache
    assert not again.warnings


def test_two_processes_compile_the_same_kernel_at_once(tmp_path: Path) -> None:
    processes = [_new_process(tmp_path) for _ in range(2)]
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        assert stdout.strip() in ("True", "False")
    entries = _entries(tmp_path)
    assert len(entries) == 1, f"leftover files: {entries}"
    third = _new_process(tmp_path)
    stdout, stderr = third.communicate(timeout=120)
    assert third.returncode == 0, stderr
    assert stdout.strip() == "True"
