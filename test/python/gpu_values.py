"""The emulator's values and memory: element types, their bit patterns, and views of
buffers (MemRef). See gpu_emulator.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from mlir_generic import split_top_level

WARP = 32
# The byte address and size of the dynamic shared memory (after the static buffers).
DYNAMIC_SHARED_BASE = 1 << 17
DYNAMIC_SHARED_BYTES = 227 * 1024
# The byte address of the first global buffer.
GLOBAL_BASE = 1 << 30
# MLIR's marker of a dynamic value among static offsets, sizes and strides.
DYNAMIC = -9223372036854775808


def parse_memref(type_text: str) -> tuple[list[int | None], str, list[int | None] | None]:
    """(shape with None for ?, element type, strides or None for the identity layout)."""
    inner = type_text[len("memref<") : -1]
    parts = split_top_level(inner)
    dims = parts[0].split("x")
    shape = [None if d == "?" else int(d) for d in dims[:-1]]
    strides = None
    for part in parts[1:]:
        if part.startswith("strided<"):
            values = re.match(r"strided<\[(.*?)\]", part).group(1)
            strides = [None if s.strip() == "?" else int(s) for s in values.split(",") if s]
    return shape, dims[-1], strides


FLOATS = {"f32", "bf16", "f16"}
ELEMENT_BYTES = {"f32": 4, "bf16": 2, "f16": 2, "i64": 8, "index": 8, "i32": 4, "i8": 1}


def numpy_type(element: str) -> type:
    return np.float32 if element in FLOATS else np.int64


@dataclass
class MemRef:
    """A view of `buffer` (flat): per-thread offset, sizes and strides (int arrays), in
    elements of `buffer`. Its aligned pointer (MLIR's) is element `origin` of `buffer`, at
    byte address `base`: MLIR's offset is `offset - origin`."""

    buffer: np.ndarray
    element: str
    offset: np.ndarray
    sizes: list[np.ndarray]
    strides: list[np.ndarray]
    base: int  # a 16-byte aligned byte address, for alignment checks and descriptors
    origin: int = 0

    def address(self, indices: list[np.ndarray]) -> np.ndarray:
        address = self.offset.copy()
        for index, stride in zip(indices, self.strides, strict=True):
            address = address + index * stride
        return address


def round_to(element: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float32)
    if element == "bf16":
        bits = values.view(np.uint32).astype(np.uint64)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
        return bits.astype(np.uint32).view(np.float32)
    if element == "f16":
        return values.astype(np.float16).astype(np.float32)
    return values


def bits_of(element: str, values: np.ndarray) -> np.ndarray:
    """The bit patterns of float values of `element` as int64."""
    values = np.asarray(values, dtype=np.float32)
    if element == "bf16":
        return (values.view(np.uint32) >> 16).astype(np.int64)
    if element == "f16":
        return values.astype(np.float16).view(np.uint16).astype(np.int64)
    return values.view(np.uint32).astype(np.int64)


def float_of(element: str, bits: np.ndarray) -> np.ndarray:
    bits = np.asarray(bits, dtype=np.int64)
    if element == "bf16":
        return ((bits & 0xFFFF).astype(np.uint32) << 16).view(np.float32)
    if element == "f16":
        return (bits & 0xFFFF).astype(np.uint16).view(np.float16).astype(np.float32)
    return (bits & 0xFFFFFFFF).astype(np.uint32).view(np.float32)


def element_of(type_text: str) -> str:
    """The element type of a scalar or vector type."""
    match = re.match(r"vector<(?:\d+x)*(\w+)>", type_text)
    return match.group(1) if match else type_text


# ---------------------------------------------------------------------------------------
# Execution
