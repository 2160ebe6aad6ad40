"""Running kernels on CUDA tensors (torch) through linac's CUDA driver loader.

A call whose inputs live on a CUDA device (DLPack device type 2) is checked with
shape-only stand-ins, compiled for the device's architecture (the cubin for sm_80 /
sm_90, else the PTX JITted by the driver), and launched on the caller's current
stream with the tensors' own pointers and strides: nothing is copied to the host.
"""

from __future__ import annotations

import math

import numpy as np

from . import _linac
from ._tensors import BFLOAT16

_DL_CUDA = 2


def is_cuda(obj) -> bool:
    """Whether `obj` is a DLPack tensor in CUDA device memory."""
    device = getattr(obj, "__dlpack_device__", None)
    return device is not None and int(device()[0]) == _DL_CUDA


def target() -> str:
    """The linac target of the current device: sm_90 on Hopper, sm_80 on Ampere and
    newer (the driver JITs the PTX where the cubin does not fit)."""
    available, message, capability = _linac.cuda_status()
    if not available:
        raise RuntimeError(message)
    if capability >= 90:
        return "sm_90"
    if capability >= 80:
        return "sm_80"
    raise RuntimeError(f"linac's GPU kernels need sm_80 or newer, this device is sm_{capability}")


def _numpy_dtype(tensor) -> np.dtype:
    name = str(tensor.dtype).rsplit(".", 1)[-1]
    if name == "bfloat16":
        if BFLOAT16 is None:
            raise TypeError("bfloat16 tensors need ml_dtypes (pip install ml_dtypes)")
        return BFLOAT16
    return np.dtype(name)


def stand_in(tensor):
    """A zero-stride numpy array with `tensor`'s shape and dtype, for the checks that
    run on numpy arrays (None stays None)."""
    if tensor is None:
        return None
    zero = np.zeros((), dtype=_numpy_dtype(tensor))
    return np.lib.stride_tricks.as_strided(
        zero, shape=tuple(tensor.shape), strides=(0,) * tensor.dim()
    )


def buffer(tensor):
    """(device pointer, sizes, strides in elements) of a tensor."""
    return (tensor.data_ptr(), tuple(tensor.shape), tuple(tensor.stride()))


def empty_buffer(shape: tuple):
    """An absent optional buffer: first dimension 0."""
    return (0, shape, (1,) * len(shape))


def launch(kernel, args: dict, value_dim: int, heads: int, sequences: int, torch) -> None:
    """Launches `kernel` with its grid (value tiles, heads, sequences) on the current
    stream of the current device."""
    block_v = kernel.metadata["block_v"]
    grid = (math.ceil(value_dim / block_v), heads, sequences)
    if 0 in grid:
        return
    kernel.run_gpu(args, grid, torch.cuda.current_stream().cuda_stream)
