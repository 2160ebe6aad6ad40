"""Kernels compiled ahead of time by `linac-compile`, launched on torch CUDA tensors through
liblinac_runtime.so (runtime/CApi.h) with ctypes.

This is the GPU machine's way in: there, the compiler (and so the `linac` Python extension)
is not built, only the runtime (`cmake -DLINAC_ENABLE_COMPILER=OFF`). A kernel folder holds
`<op>.json` (the metadata: arguments in order, grid rule), `<op>.cubin` and `<op>.ptx`.

    runtime = Runtime("build-device-runtime/lib/liblinac_runtime.so")
    kernel = runtime.load("build-device/kernels/bf16_k64_v64", "chunk_simple_gla")
    kernel.launch({"q": q, "k": k, ..., "scale": 0.125})   # torch tensors on the GPU
"""

from __future__ import annotations

import ctypes
import json
import math
import os
from pathlib import Path

_MESSAGE_SIZE = 1024


class _Buffer(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("rank", ctypes.c_int64),
        ("sizes", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
    ]


class _Arg(ctypes.Structure):
    _fields_ = [("is_buffer", ctypes.c_int32), ("f32", ctypes.c_float), ("buffer", _Buffer)]


def default_library() -> Path:
    """liblinac_runtime.so: `$LINAC_RUNTIME_LIB`, else the runtime-only build of
    scripts/device-check.sh, else the main build."""
    if os.environ.get("LINAC_RUNTIME_LIB"):
        return Path(os.environ["LINAC_RUNTIME_LIB"])
    root = Path(__file__).resolve().parents[2]
    for build in ("build-device-runtime", "build"):
        path = root / build / "lib" / "liblinac_runtime.so"
        if path.exists():
            return path
    return root / "build-device-runtime" / "lib" / "liblinac_runtime.so"


def gpu_unavailable(library: str | os.PathLike | None = None) -> str | None:
    """Why no kernel can run on a GPU here (torch missing, no CUDA device, or a runtime that
    finds no driver), or None."""
    try:
        import torch
    except ImportError as error:
        return f"torch is not importable ({error})"
    if not torch.cuda.is_available():
        return "torch.cuda.is_available() is False (no CUDA device or driver)"
    available, _, message = Runtime(library).cuda_status()
    if not available:
        return f"liblinac_runtime: {message}"
    return None


def context_lost() -> bool:
    """Whether this process's CUDA context is broken: after a faulting kernel (a misaligned
    or illegal address) every later call in the process fails with the same error."""
    import torch

    try:
        torch.cuda.synchronize()
        return False
    except Exception:  # noqa: BLE001 - torch.AcceleratorError, RuntimeError by version
        return True


class Runtime:
    """liblinac_runtime.so, loaded with ctypes."""

    def __init__(self, library: str | os.PathLike | None = None):
        path = Path(library) if library else default_library()
        if not path.exists():
            raise FileNotFoundError(
                f"{path} not found: build it with cmake -DLINAC_ENABLE_COMPILER=OFF "
                "(scripts/device-check.sh does) or set LINAC_RUNTIME_LIB"
            )
        lib = ctypes.CDLL(str(path))
        lib.linac_runtime_version.restype = ctypes.c_char_p
        lib.linac_cuda_status.argtypes = [
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_char_p,
            ctypes.c_size_t,
        ]
        lib.linac_gpu_kernel_load.restype = ctypes.c_void_p
        lib.linac_gpu_kernel_load.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_char_p,
            ctypes.c_size_t,
        ]
        lib.linac_gpu_kernel_loaded_cubin.argtypes = [ctypes.c_void_p]
        lib.linac_gpu_kernel_set_dynamic_shared_bytes.argtypes = [
            ctypes.c_void_p,
            ctypes.c_uint,
            ctypes.c_char_p,
            ctypes.c_size_t,
        ]
        lib.linac_gpu_kernel_launch.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(_Arg),
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_size_t,
        ]
        lib.linac_gpu_kernel_read_global.restype = ctypes.c_longlong
        lib.linac_gpu_kernel_read_global.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_size_t,
        ]
        lib.linac_gpu_kernel_free.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.path = path

    @property
    def version(self) -> str:
        return self.lib.linac_runtime_version().decode()

    def cuda_status(self) -> tuple[bool, int, str]:
        """(available, compute capability, device name or the reason it is not)."""
        capability = ctypes.c_int(0)
        message = ctypes.create_string_buffer(_MESSAGE_SIZE)
        ok = self.lib.linac_cuda_status(ctypes.byref(capability), message, _MESSAGE_SIZE)
        return bool(ok), capability.value, message.value.decode(errors="replace")

    def load(self, folder: str | os.PathLike, op: str) -> AotKernel:
        """The kernel `op` of a linac-compile output folder."""
        folder = Path(folder)
        metadata = json.loads((folder / f"{op}.json").read_text())
        cubin_path, ptx_path = folder / f"{op}.cubin", folder / f"{op}.ptx"
        cubin = cubin_path.read_bytes() if cubin_path.exists() else b""
        ptx = ptx_path.read_bytes() if ptx_path.exists() else b""
        if not cubin and not ptx:
            raise FileNotFoundError(f"{folder} has neither {op}.cubin nor {op}.ptx")
        error = ctypes.create_string_buffer(_MESSAGE_SIZE)
        handle = self.lib.linac_gpu_kernel_load(
            metadata["symbol"].encode(),
            metadata["target"].encode(),
            cubin or None,
            len(cubin),
            ptx or None,
            len(ptx),
            error,
            _MESSAGE_SIZE,
        )
        if not handle:
            raise RuntimeError(f"loading {folder / op}: {error.value.decode(errors='replace')}")
        # Buffers beyond 48 KiB live in dynamic shared memory, sized at launch.
        shared = metadata.get("grid", {}).get("dynamic_shared_bytes", 0)
        if shared and self.lib.linac_gpu_kernel_set_dynamic_shared_bytes(
            handle, shared, error, _MESSAGE_SIZE
        ):
            self.lib.linac_gpu_kernel_free(handle)
            raise RuntimeError(f"loading {folder / op}: {error.value.decode(errors='replace')}")
        return AotKernel(self, handle, metadata)


class AotKernel:
    """One loaded kernel and its metadata."""

    def __init__(self, runtime: Runtime, handle: int, metadata: dict):
        self._runtime = runtime
        self._handle = handle
        self.metadata = metadata
        self.arg_names = [arg["name"] for arg in metadata["args"]]

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._runtime.lib.linac_gpu_kernel_free(handle)

    @property
    def loaded_cubin(self) -> bool:
        return bool(self._runtime.lib.linac_gpu_kernel_loaded_cubin(self._handle))

    def read_profile(self, reset: bool = True) -> list[tuple[int, int]]:
        """A profiling build's counters (linac-compile --profile-phases): (cycles, visits)
        per phase, in the order of metadata["profile"]["phases"], summed over the blocks of
        every launch since the last reset; `reset` zeroes them. Waits for the device."""
        profile = self.metadata.get("profile")
        if not profile:
            raise ValueError(
                f"{self.metadata['op']} is not a profiling build (linac-compile --profile-phases)"
            )
        phases = len(profile["phases"])
        counters = (ctypes.c_uint64 * (2 * phases))()
        error = ctypes.create_string_buffer(_MESSAGE_SIZE)
        size = self._runtime.lib.linac_gpu_kernel_read_global(
            self._handle,
            profile["symbol"].encode(),
            counters,
            ctypes.sizeof(counters),
            int(reset),
            error,
            _MESSAGE_SIZE,
        )
        if size < 0:
            raise RuntimeError(
                f"{self.metadata['op']}: reading the profile failed: "
                f"{error.value.decode(errors='replace')}"
            )
        if size != ctypes.sizeof(counters):
            raise RuntimeError(
                f"{self.metadata['op']}: {profile['symbol']} holds {size} bytes, the metadata "
                f"names {phases} phases ({ctypes.sizeof(counters)} bytes)"
            )
        return [(counters[2 * i], counters[2 * i + 1]) for i in range(phases)]

    def grid(self, args: dict) -> tuple[int, int, int]:
        """(value tiles, heads, sequences): the metadata's grid rule, with H and N read from
        the output and cu_seqlens (N = len(cu_seqlens) - 1 when it is not empty, else B)."""
        output = args["output"]
        heads = output.shape[2]
        cu = args.get("cu_seqlens")
        sequences = cu.shape[0] - 1 if cu is not None and cu.shape[0] > 0 else output.shape[0]
        x = self.metadata["grid"]["x"]
        if not isinstance(x, int):  # a rule over V: ceil(V / block_v)
            x = math.ceil(output.shape[3] / self.metadata["block_v"])
        return int(x), int(heads), int(sequences)

    def launch(self, args: dict, stream: int | None = None) -> None:
        """Launches on `stream` (default: torch's current stream). `args` maps each metadata
        argument name to a CUDA tensor (absent optional buffers: a tensor whose first size
        is 0) or, for scalars, a number."""
        self.bind(args, stream)()

    def bind(self, args: dict, stream: int | None = None):
        """A launcher of the kernel on `args` (as for `launch`): the C arguments, the grid
        and the stream are worked out once, and each call of the launcher only launches, so
        timing it measures the kernel rather than Python. The tensors must stay alive and
        in place while the launcher is used."""
        if stream is None:
            import torch

            stream = torch.cuda.current_stream().cuda_stream
        missing = [name for name in self.arg_names if name not in args]
        if missing:
            raise KeyError(f"{self.metadata['op']}: missing arguments {missing}")
        c_args = (_Arg * len(self.arg_names))()
        keep = []  # the size/stride arrays must outlive every launch
        for i, spec in enumerate(self.metadata["args"]):
            value = args[spec["name"]]
            if spec["kind"] != "buffer":
                c_args[i].is_buffer = 0
                c_args[i].f32 = float(value)
                continue
            if not hasattr(value, "data_ptr") or (value.numel() and not value.is_cuda):
                raise TypeError(f"{spec['name']} must be a CUDA tensor")
            if value.dim() != spec["rank"]:
                raise ValueError(
                    f"{spec['name']}: rank {value.dim()}, the kernel takes {spec['rank']}"
                )
            sizes = (ctypes.c_int64 * value.dim())(*value.shape)
            strides = (ctypes.c_int64 * value.dim())(*value.stride())
            keep += [sizes, strides]
            c_args[i].is_buffer = 1
            c_args[i].buffer = _Buffer(value.data_ptr() or None, value.dim(), sizes, strides)
        grid = self.grid(args)
        block = self.metadata["grid"]["block"][0]
        error = ctypes.create_string_buffer(_MESSAGE_SIZE)
        launch = self._runtime.lib.linac_gpu_kernel_launch

        def launcher() -> None:
            if 0 in grid:
                return
            status = launch(
                self._handle, c_args, len(c_args), *grid, block, stream, error, _MESSAGE_SIZE
            )
            if status != 0:
                raise RuntimeError(
                    f"{self.metadata['op']}: launch failed: {error.value.decode(errors='replace')}"
                )

        launcher.keep = keep  # the arrays live as long as the launcher
        return launcher
