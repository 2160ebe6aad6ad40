"""Validation of op arguments, in one place, with messages that name the
argument, what was expected and what was given."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._tensors import BFLOAT16

SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float16))
if BFLOAT16 is not None:
    SUPPORTED_DTYPES += (BFLOAT16,)
MAX_HEAD_DIM = 256


@dataclass
class Problem:
    """The sizes of one call: B, T, H, K, V, N sequences."""

    B: int
    T: int
    H: int
    K: int
    V: int
    N: int
    dtype: np.dtype
    scale: float


def input_array(value, name: str) -> np.ndarray:
    """`value` as a numpy array in native byte order, or a TypeError naming it."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
    if not value.dtype.isnative:
        raise TypeError(f"{name} must be in native byte order, got dtype {value.dtype}")
    return value


def float32_input(value, name: str, shape: tuple, layout: str) -> np.ndarray:
    """A float array of the given shape, as float32 (converted if needed)."""
    array = input_array(value, name)
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array, got dtype {array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(
            f"{name} must have shape {layout} = {list(shape)}, got {list(array.shape)}"
        )
    return array if array.dtype == np.float32 else array.astype(np.float32)


def float_input(value, name: str, ndim: int, layout: str, like: np.ndarray | None = None):
    """An input array of rank `ndim` in a supported dtype (that of `like`)."""
    array = input_array(value, name)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have shape {layout}, got {list(array.shape)}")
    if array.dtype not in SUPPORTED_DTYPES:
        names = ", ".join(str(d) for d in SUPPORTED_DTYPES)
        raise TypeError(f"{name} must be one of {names}, got {array.dtype}")
    if like is not None and array.dtype != like.dtype:
        raise TypeError(
            f"{name} must have the dtype of the inputs ({like.dtype}), got {array.dtype}"
        )
    return array


def check_sequence_offsets(cu_seqlens, B: int, T: int):
    """cu_seqlens as int64 `[N + 1]` offsets into T (None stays None)."""
    if cu_seqlens is None:
        return None
    cu = input_array(cu_seqlens, "cu_seqlens")
    if cu.dtype.kind not in "iu":
        raise TypeError(f"cu_seqlens must be an integer array, got dtype {cu.dtype}")
    if cu.ndim != 1 or cu.shape[0] < 2:
        raise ValueError(f"cu_seqlens must have shape [N + 1] with N >= 1, got {list(cu.shape)}")
    if B != 1:
        raise ValueError(f"cu_seqlens needs B == 1 (sequences packed along T), got B = {B}")
    if cu[0] != 0 or cu[-1] != T:
        raise ValueError(f"cu_seqlens must start at 0 and end at T = {T}, got {cu[0]} ... {cu[-1]}")
    if np.any(np.diff(cu) < 0):
        raise ValueError("cu_seqlens must be non-decreasing")
    return cu.astype(np.int64)


def check_problem(
    q,
    k,
    v,
    *,
    g=None,
    beta=None,
    scale=None,
    initial_state=None,
    cu_seqlens=None,
    gate: str | None = None,
    needs_beta: bool = False,
    householder: int = 1,
):
    """Checks the arguments of a recurrence op and returns its Problem plus
    the float32 g, beta, initial state and the int64 cu_seqlens (or None).

    ``gate`` is None (no g), "scalar" (g: [B, T, H]) or "vector"
    (g: [B, T, H, K]); ``needs_beta`` requires beta: [B, T * householder, H];
    with ``householder`` n, k and v carry n sub-steps per token."""
    q, k, v = input_array(q, "q"), input_array(k, "k"), input_array(v, "v")
    if q.ndim != 4:
        raise ValueError(f"q must have shape [B, T, H, K], got {list(q.shape)}")
    n = householder
    B, T, H, K = q.shape
    substeps = "T" if n == 1 else f"T*{n}"
    if k.shape != (B, T * n, H, K):
        expected = (
            f"the shape of q {list(q.shape)}"
            if n == 1
            else f"shape [B, T*{n}, H, K] = {[B, T * n, H, K]}"
        )
        raise ValueError(f"k must have {expected}, got {list(k.shape)}")
    if v.ndim != 4 or v.shape[:3] != (B, T * n, H):
        raise ValueError(
            f"v must have shape [B, {substeps}, H, V] with B, {substeps}, H = {B}, {T * n}, {H},"
            f" got {list(v.shape)}"
        )
    if gate is not None and g is None:
        layout = "[B, T, H]" if gate == "scalar" else "[B, T, H, K]"
        raise TypeError(f"g (log-space decays, {layout}) is required")
    if needs_beta and beta is None:
        raise TypeError(f"beta (step sizes, [B, {substeps}, H]) is required")
    if q.dtype not in SUPPORTED_DTYPES:
        also = " (bfloat16 is accepted too)" if BFLOAT16 is not None else ""
        raise TypeError(f"q must be float32 or float16, got {q.dtype}{also}")
    for name, array in (("k", k), ("v", v)):
        if array.dtype != q.dtype:
            raise TypeError(f"{name} must have the dtype of q ({q.dtype}), got {array.dtype}")
    V = v.shape[3]
    for name, size in (("K", K), ("V", V)):
        if not 1 <= size <= MAX_HEAD_DIM:
            raise ValueError(f"head dimension {name} must be in [1, {MAX_HEAD_DIM}], got {size}")

    cu = check_sequence_offsets(cu_seqlens, B, T)
    N = B if cu is None else cu.shape[0] - 1

    if g is not None:
        if gate == "vector":
            g = float32_input(g, "g", (B, T, H, K), "[B, T, H, K]")
        else:
            g = float32_input(g, "g", (B, T, H), "[B, T, H]")
    if beta is not None:
        beta = float32_input(beta, "beta", (B, T * n, H), f"[B, {substeps}, H]")
    if initial_state is not None:
        initial_state = float32_input(initial_state, "initial_state", (N, H, K, V), "[N, H, K, V]")

    if scale is None:
        scale = K**-0.5
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.floating, np.integer)):
        raise TypeError(f"scale must be a number, got {type(scale).__name__}")
    if not math.isfinite(float(scale)):
        raise ValueError(f"scale must be finite, got {scale}")
    problem = Problem(B, T, H, K, V, N, q.dtype, float(scale))
    return problem, g, beta, initial_state, cu
