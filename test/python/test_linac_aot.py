"""The GPU check's ctypes launcher (test/gpu/linac_aot.py) without a GPU: stand-in tensors and
a stand-in runtime library record what a launch would pass to liblinac_runtime.so: each
buffer's address, sizes and strides, the scalars, the grid, the block and the stream.
`bind` works them out once for every later launch, and refuses what is not a CUDA tensor."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "test" / "gpu"))
from linac_aot import AotKernel, Runtime

METADATA = {
    "op": "chunk_simple_gla",
    "args": [
        {"name": "q", "kind": "buffer", "rank": 4},
        {"name": "output", "kind": "buffer", "rank": 4},
        {"name": "scale", "kind": "f32"},
    ],
    "grid": {"x": "ceil(V / block_v)", "block": [256, 1, 1]},
    "block_v": 32,
}


class StandInTensor:
    """What the launcher reads of a torch CUDA tensor."""

    def __init__(self, shape, strides, address):
        self.shape, self._strides, self._address = tuple(shape), tuple(strides), address
        self.is_cuda = True

    def data_ptr(self):
        return self._address

    def dim(self):
        return len(self.shape)

    def stride(self):
        return self._strides

    def numel(self):
        return int(np.prod(self.shape))


class StandInLibrary:
    """liblinac_runtime.so's launch and free, recording each launch's C arguments."""

    def __init__(self):
        self.launches = []

    def linac_gpu_kernel_launch(self, handle, c_args, count, gx, gy, gz, block, stream, *_):
        decoded = []
        for i in range(count):
            arg = c_args[i]
            if arg.is_buffer:
                rank = arg.buffer.rank
                decoded.append(
                    (
                        arg.buffer.data,
                        [arg.buffer.sizes[d] for d in range(rank)],
                        [arg.buffer.strides[d] for d in range(rank)],
                    )
                )
            else:
                decoded.append(round(arg.f32, 6))
        self.launches.append((handle, id(c_args), decoded, (gx, gy, gz), block, stream))
        return 0

    def linac_gpu_kernel_free(self, handle):
        pass


def _kernel():
    library = StandInLibrary()
    runtime = type("StandInRuntime", (), {"lib": library})()
    return AotKernel(runtime, 7, METADATA), library


def _args():
    # q read through a transposed [B, H, T, K] layout; output contiguous [B, T, H, V].
    q = StandInTensor((2, 100, 4, 64), (25600, 64, 6400, 1), 0x1000)
    output = StandInTensor((2, 100, 4, 96), (38400, 384, 96, 1), 0x9000)
    return {"q": q, "output": output, "scale": 0.125}


def test_launch_and_bound_launches_pass_the_arguments_grid_and_stream():
    kernel, library = _kernel()
    args = _args()
    kernel.launch(args, stream=5)
    launcher = kernel.bind(args, stream=5)
    launcher()
    launcher()
    (plain, first, second) = library.launches
    expected = [
        (0x1000, [2, 100, 4, 64], [25600, 64, 6400, 1]),
        (0x9000, [2, 100, 4, 96], [38400, 384, 96, 1]),
        0.125,
    ]
    # grid: ceil(V / block_v) value tiles, H heads, B sequences; 256 threads; the stream.
    assert plain[0] == 7 and plain[2:] == (expected, (3, 4, 2), 256, 5)
    assert first[2:] == plain[2:] and second[2:] == plain[2:]
    assert first[1] == second[1]  # the same C argument array, worked out once


def test_bind_refuses_what_is_not_a_cuda_tensor():
    kernel, library = _kernel()
    args = _args()
    with pytest.raises(TypeError, match="q must be a CUDA tensor"):
        kernel.bind({**args, "q": np.zeros((2, 100, 4, 64), np.float32)}, stream=0)
    with pytest.raises(ValueError, match="output: rank 3, the kernel takes 4"):
        kernel.bind({**args, "output": StandInTensor((2, 100, 4), (400, 4, 1), 1)}, stream=0)
    with pytest.raises(KeyError, match="missing arguments"):
        kernel.bind({"q": args["q"]}, stream=0)
    assert library.launches == []


class StandInProfileLibrary(StandInLibrary):
    """read_global of a profiling build: 3 phases of (cycles, visits) counters."""

    def __init__(self, counters, size=None):
        super().__init__()
        self.counters, self.size, self.reads = counters, size, []

    def linac_gpu_kernel_read_global(self, handle, name, dst, capacity, reset, *_):
        import ctypes

        self.reads.append((handle, name, capacity, reset))
        values = (ctypes.c_uint64 * (capacity // 8)).from_address(ctypes.addressof(dst))
        for i, value in enumerate(self.counters[: capacity // 8]):
            values[i] = value
        return len(self.counters) * 8 if self.size is None else self.size


def _profiling_kernel(library):
    metadata = {
        **METADATA,
        "profile": {"symbol": "linac_profile_chunk_simple_gla", "phases": ["a", "b", "c"]},
    }
    runtime = type("StandInRuntime", (), {"lib": library})()
    return AotKernel(runtime, 7, metadata)


def test_read_profile_pairs_the_counters_by_phase():
    library = StandInProfileLibrary([10, 1, 2000, 16, 30, 1])
    kernel = _profiling_kernel(library)
    assert kernel.read_profile() == [(10, 1), (2000, 16), (30, 1)]
    assert kernel.read_profile(reset=False) == [(10, 1), (2000, 16), (30, 1)]
    assert library.reads == [
        (7, b"linac_profile_chunk_simple_gla", 48, 1),
        (7, b"linac_profile_chunk_simple_gla", 48, 0),
    ]


def test_read_profile_refuses_a_plain_build_and_a_mismatched_global():
    kernel, _ = _kernel()
    with pytest.raises(ValueError, match="not a profiling build"):
        kernel.read_profile()
    kernel = _profiling_kernel(StandInProfileLibrary([0] * 8, size=64))
    with pytest.raises(RuntimeError, match="holds 64 bytes, the metadata names 3 phases"):
        kernel.read_profile()
    kernel = _profiling_kernel(StandInProfileLibrary([0] * 6, size=-1))
    with pytest.raises(RuntimeError, match="reading the profile failed"):
        kernel.read_profile()


class StandInLoadLibrary:
    """liblinac_runtime.so's load, set_dynamic_shared_bytes and free, recorded."""

    def __init__(self, refuse_shared: bool = False):
        self.refuse_shared, self.calls = refuse_shared, []

    def linac_gpu_kernel_load(self, symbol, target, cubin, cubin_size, ptx, ptx_size, *_):
        self.calls.append(("load", symbol, target))
        return 11

    def linac_gpu_kernel_set_dynamic_shared_bytes(self, handle, size, error, error_size):
        self.calls.append(("shared", handle, size))
        if self.refuse_shared:
            error.value = b"cuFuncSetAttribute failed: CUDA_ERROR_INVALID_VALUE"
            return -1
        return 0

    def linac_gpu_kernel_free(self, handle):
        self.calls.append(("free", handle))


def _load(tmp_path, library, shared_bytes: int):
    metadata = {
        **METADATA,
        "symbol": "chunk_simple_gla",
        "target": "sm_90",
        "grid": {**METADATA["grid"], "dynamic_shared_bytes": shared_bytes},
    }
    (tmp_path / "op.json").write_text(json.dumps(metadata))
    (tmp_path / "op.ptx").write_text("// stand-in PTX")
    runtime = Runtime.__new__(Runtime)
    runtime.lib = library
    return runtime.load(tmp_path, "op")


def test_load_gives_a_kernel_its_dynamic_shared_memory(tmp_path):
    library = StandInLoadLibrary()
    kernel = _load(tmp_path, library, 57536)
    assert library.calls == [
        ("load", b"chunk_simple_gla", b"sm_90"),
        ("shared", 11, 57536),
    ]
    assert kernel.metadata["grid"]["dynamic_shared_bytes"] == 57536
    library = StandInLoadLibrary()
    _load(tmp_path, library, 0)
    assert "shared" not in [call[0] for call in library.calls]


def test_load_frees_a_kernel_refused_its_dynamic_shared_memory(tmp_path):
    library = StandInLoadLibrary(refuse_shared=True)
    with pytest.raises(RuntimeError, match="cuFuncSetAttribute failed"):
        _load(tmp_path, library, 300000)
    assert library.calls[-1] == ("free", 11)
