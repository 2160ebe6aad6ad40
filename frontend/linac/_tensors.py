"""Tensors in and out: numpy arrays and any object with ``__dlpack__``.

Inputs become numpy views of the caller's memory (no copy): numpy arrays as they are, DLPack
objects (torch CPU tensors, ...) through ``numpy.from_dlpack`` or, for bfloat16 which numpy
cannot import, through a small ctypes DLPack reader that views the memory as an ``ml_dtypes``
bfloat16 array. Results go back as the caller's kind: numpy arrays stay numpy arrays; for a
DLPack object, the ``from_dlpack`` of its top-level module (``torch.from_dlpack``) receives a
zero-copy DLPack export of the result. torch and ml_dtypes stay optional: without ml_dtypes,
bfloat16 inputs are refused with a message that says so.
"""

from __future__ import annotations

import collections
import ctypes
import math
import os
import sys
import threading
import weakref
from dataclasses import dataclass
from types import ModuleType
from typing import ClassVar

import numpy as np

try:
    import ml_dtypes

    BFLOAT16: np.dtype | None = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - depends on the environment
    BFLOAT16 = None

_DTYPE_NAMES = {np.dtype(np.float32): "f32", np.dtype(np.float16): "f16"}
if BFLOAT16 is not None:
    _DTYPE_NAMES[BFLOAT16] = "bf16"


class OutputPool:
    """Output buffers of ``min_bytes`` or more, kept when the last view of their array dies
    and handed to the next output of the same size. A fresh buffer's pages are zeroed by the
    operating system on first touch, inside the kernel's time: allocating and touching a
    64 MiB output costs 8.7 ms, touching a reused one 2.5 ms (chunk_simple_gla at T=16384,
    K=V=128 took 54 ms from Python against 45 ms in a C harness that reuses its output).
    At most ``capacity`` bytes are kept, the oldest dropped first; 0 keeps none."""

    def __init__(self, capacity: int, min_bytes: int = 1 << 20):
        self.capacity, self.min_bytes = capacity, min_bytes
        self._free: collections.OrderedDict[int, list[np.ndarray]] = collections.OrderedDict()
        self._kept = 0
        # Reentrant, with a busy flag: a garbage collection inside an update can run the
        # finalizer of another array, whose give() must neither wait for this thread nor
        # change the pool under it (it lets its buffer go instead).
        self._lock = threading.RLock()
        self._busy = False

    def take(self, nbytes: int) -> np.ndarray:
        """A uint8 buffer of ``nbytes``: a kept one of that size, else a new one."""
        with self._lock:
            if not self._busy:
                self._busy = True
                try:
                    blocks = self._free.get(nbytes)
                    if blocks:
                        self._kept -= nbytes
                        block = blocks.pop()
                        if not blocks:
                            del self._free[nbytes]
                        return block
                finally:
                    self._busy = False
        return np.empty(nbytes, dtype=np.uint8)

    def give(self, block: np.ndarray) -> None:
        """Keeps ``block`` (no view of it may remain) within the capacity."""
        with self._lock:
            if self._busy or block.nbytes > self.capacity:
                return
            self._busy = True
            try:
                self._free.setdefault(block.nbytes, []).append(block)
                self._free.move_to_end(block.nbytes)
                self._kept += block.nbytes
                while self._kept > self.capacity:
                    size, blocks = next(iter(self._free.items()))
                    blocks.pop(0)
                    self._kept -= size
                    if not blocks:
                        del self._free[size]
            finally:
                self._busy = False

    def kept_bytes(self) -> int:
        with self._lock:
            return self._kept

    def release(self) -> int:
        """Drops every kept buffer (live outputs are not touched; they return to the pool
        when they die); returns the bytes let go."""
        with self._lock:
            if self._busy:
                return 0
            released, self._kept = self._kept, 0
            self._free.clear()
            return released

    def array(self, nbytes: int, alignment: int) -> np.ndarray:
        """``nbytes`` uninitialized, ``alignment``-aligned bytes (uint8) of a pooled buffer.
        The array and its views reach the buffer through a ctypes window, whose death (the
        last view's) returns the buffer to the pool: never while a view can still see it."""
        block = self.take(nbytes + alignment)
        offset = -block.ctypes.data % alignment
        window = (ctypes.c_uint8 * nbytes).from_buffer(block, offset)
        weakref.finalize(window, self.give, block).atexit = False
        return np.frombuffer(window, dtype=np.uint8)


def _pool_capacity() -> int:
    mib = os.environ.get("LINAC_OUTPUT_POOL_MIB", "512")
    try:
        return max(0, int(mib)) << 20
    except ValueError:
        raise ValueError(
            f"LINAC_OUTPUT_POOL_MIB={mib!r}: expected a whole number of MiB (0: no pool)"
        ) from None


OUTPUT_POOL = OutputPool(_pool_capacity())


def release_output_pool() -> int:
    """Gives the memory of the dead outputs that linac keeps for reuse
    (``LINAC_OUTPUT_POOL_MIB``, default up to 512 MiB) back to the allocator, e.g. before a
    phase that needs it elsewhere; returns the bytes released."""
    return OUTPUT_POOL.release()


def aligned_empty(shape: tuple[int, ...], dtype, alignment: int = 64) -> np.ndarray:
    """``np.empty(shape, dtype)`` whose data starts on an ``alignment``-byte boundary. numpy
    only promises 16 bytes; the CPU kernels write output rows a cache line at a time, and a
    row that starts mid-line costs them 5% (chunk_simple_gla, K=V=128). Buffers of 1 MiB or
    more come from ``OUTPUT_POOL`` (see OutputPool)."""
    dtype = np.dtype(dtype)
    # math.prod, the array interface and one ndarray constructor: np.prod, .ctypes and a
    # slice, view and reshape made this 12 us of a 90 us decode call (B=1, H=4, K=V=64).
    nbytes = math.prod(shape) * dtype.itemsize
    if OUTPUT_POOL.capacity and nbytes >= OUTPUT_POOL.min_bytes:
        return OUTPUT_POOL.array(nbytes, alignment).view(dtype).reshape(shape)
    raw = np.empty(nbytes + alignment, dtype=np.uint8)
    offset = -raw.__array_interface__["data"][0] % alignment
    return np.ndarray(shape, dtype, buffer=raw, offset=offset)


def dtype_name(dtype) -> str:
    """The linac name of a numpy dtype: f32, f16 or bf16."""
    return _DTYPE_NAMES[np.dtype(dtype)]


# --- DLPack structures (dlpack.h, the unversioned ABI every producer offers) -------------------

_DL_CPU = 1
_DL_FLOAT, _DL_BFLOAT = 2, 4


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", _DLDevice),
        ("ndim", ctypes.c_int32),
        ("dtype", _DLDataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


_Deleter = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class _DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", _Deleter)]


_capsule_get = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_get.restype = ctypes.c_void_p
_capsule_get.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_is_valid = ctypes.pythonapi.PyCapsule_IsValid
_capsule_is_valid.restype = ctypes.c_int
_capsule_is_valid.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_set_name = ctypes.pythonapi.PyCapsule_SetName
_capsule_set_name.restype = ctypes.c_int
_capsule_set_name.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]


class _ImportedMemory:
    """Owns a consumed DLManagedTensor; numpy arrays over its memory keep it alive
    (``__array_interface__``), and it calls the producer's deleter when collected."""

    def __init__(self, managed_address: int, interface: dict):
        self._managed = managed_address
        self.__array_interface__ = interface

    def __del__(self):
        managed = _DLManagedTensor.from_address(self._managed)
        if managed.deleter:
            managed.deleter(self._managed)


class _Capsule:
    """A DLPack capsule offered again through ``__dlpack__`` (for ``numpy.from_dlpack``)."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (_DL_CPU, 0)


def _import(obj, name: str) -> np.ndarray:
    """A host DLPack tensor as a numpy array over the same memory: through numpy, or for
    bfloat16 (which numpy cannot import) as an ml_dtypes bfloat16 array."""
    capsule = obj.__dlpack__()
    if not _capsule_is_valid(capsule, b"dltensor"):
        raise TypeError(f"{name}: __dlpack__ did not return a DLPack capsule")
    address = _capsule_get(capsule, b"dltensor")
    tensor = _DLManagedTensor.from_address(address).dl_tensor
    dtype = tensor.dtype
    if (dtype.code, dtype.bits, dtype.lanes) != (_DL_BFLOAT, 16, 1):
        return np.from_dlpack(_Capsule(capsule))
    if BFLOAT16 is None:
        raise TypeError(f"{name} is bfloat16: install ml_dtypes (pip install ml_dtypes) to pass it")
    shape = tuple(tensor.shape[d] for d in range(tensor.ndim))
    strides = None
    if tensor.strides:
        strides = tuple(tensor.strides[d] * 2 for d in range(tensor.ndim))
    # Consumed: the capsule no longer owns the tensor, _ImportedMemory does.
    _capsule_set_name(capsule, b"used_dltensor")
    interface = {
        "version": 3,
        "shape": shape,
        "strides": strides,
        "typestr": "<u2",
        "data": ((tensor.data or 0) + tensor.byte_offset, False),
    }
    return np.asarray(_ImportedMemory(address, interface)).view(BFLOAT16)


@_Deleter
def _release_export(address):
    _Export._live.pop(address, None)


class _Export:
    """A numpy array offered through DLPack (``__dlpack__``), bfloat16 included, so that any
    consumer (``torch.from_dlpack``) gets the result without a copy."""

    #: What a consumer may still touch, by DLManagedTensor address, until it calls the deleter.
    #: The capsule has no destructor: one written in Python may run while the consumer has an
    #: exception pending, so an export no consumer takes stays here (a leak, not a crash).
    _live: ClassVar[dict[int, tuple]] = {}

    def __init__(self, array: np.ndarray):
        self.array = array

    def __dlpack_device__(self):
        return (_DL_CPU, 0)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        array = self.array
        if BFLOAT16 is not None and array.dtype == BFLOAT16:
            code, bits = _DL_BFLOAT, 16
        elif array.dtype.kind == "f":
            code, bits = _DL_FLOAT, array.dtype.itemsize * 8
        else:
            return array.__dlpack__()
        shape = (ctypes.c_int64 * array.ndim)(*array.shape)
        strides = (ctypes.c_int64 * array.ndim)(*(s // array.itemsize for s in array.strides))
        managed = _DLManagedTensor()
        managed.dl_tensor = _DLTensor(
            array.ctypes.data,
            _DLDevice(_DL_CPU, 0),
            array.ndim,
            _DLDataType(code, bits, 1),
            ctypes.cast(shape, ctypes.POINTER(ctypes.c_int64)),
            ctypes.cast(strides, ctypes.POINTER(ctypes.c_int64)),
            0,
        )
        managed.deleter = _release_export
        address = ctypes.addressof(managed)
        _Export._live[address] = (managed, shape, strides, array)
        return _capsule_new(address, b"dltensor", None)


# --- the caller's kind ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """How results go back: as numpy arrays, or through ``module.from_dlpack``."""

    module: ModuleType | None = None

    def wrap(self, array: np.ndarray):
        if array is None or self.module is None:
            return array
        return self.module.from_dlpack(_Export(array))


NUMPY = Caller()


def _from_dlpack_module(obj) -> ModuleType | None:
    module = sys.modules.get(type(obj).__module__.split(".")[0])
    if module is not None and callable(getattr(module, "from_dlpack", None)):
        return module
    return None


def to_numpy(obj, name: str) -> tuple[np.ndarray, Caller]:
    """``obj`` as a numpy array (a view where possible) and how to give results back.

    Raises TypeError for objects that are neither numpy arrays nor DLPack tensors in host
    memory."""
    if isinstance(obj, np.ndarray):
        return obj, NUMPY
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(
            f"{name} must be a numpy array or a tensor with __dlpack__, got {type(obj).__name__}"
        )
    device = obj.__dlpack_device__() if hasattr(obj, "__dlpack_device__") else (_DL_CPU, 0)
    if int(device[0]) != _DL_CPU:
        raise TypeError(
            f"{name} is on DLPack device type {int(device[0])}; linac's Python calls run on "
            "host (CPU) memory"
        )
    return _import(obj, name), Caller(_from_dlpack_module(obj))


def inputs_to_numpy(named: dict) -> tuple[dict, Caller]:
    """Converts each non-None value of ``named``; the caller's kind is that of the first
    non-numpy tensor (numpy when all are numpy arrays)."""
    caller = NUMPY
    converted = {}
    for name, value in named.items():
        if value is None:
            converted[name] = None
            continue
        converted[name], kind = to_numpy(value, name)
        if caller is NUMPY and kind is not NUMPY:
            caller = kind
    return converted, caller
