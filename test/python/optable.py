"""The ops under test: how to call each one and its float64 reference, random inputs, and
the error tolerances; shared by the test modules."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from linac import ops, reference

# Relative RMS error against the float64 reference, by input dtype.
TOLERANCE = {np.dtype(np.float32): 1e-5, np.dtype(np.float16): 5e-3}


def tolerance(dtype: np.dtype) -> float:
    """The relative RMS error allowed for inputs of ``dtype``."""
    return TOLERANCE[np.dtype(dtype)]


def retention_log_decays(num_heads: int) -> np.ndarray:
    """log(1 - 2^(-5 - h)) per head, float64, computed with plain math (not with linac)."""
    return np.array([math.log(1.0 - 2.0 ** (-5 - h)) for h in range(num_heads)])


@dataclass(frozen=True)
class Inputs:
    """q, k `[B, T, H, K]`, v `[B, T, H, V]` and the decays g `[B, T, H]` of one call."""

    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    g: np.ndarray

    def tokens(self, start: int, end: int) -> Inputs:
        """The tokens ``start:end`` of every array."""
        return self.map(lambda x: x[:, start:end])

    def map(self, function: Callable[[np.ndarray], np.ndarray]) -> Inputs:
        """``function`` applied to every array."""
        return replace(
            self, q=function(self.q), k=function(self.k), v=function(self.v), g=function(self.g)
        )


def make_inputs(
    rng: np.random.Generator,
    B: int,
    T: int,
    H: int,
    K: int,
    V: int,
    dtype: type = np.float32,
    positive: bool = False,
) -> Inputs:
    """Random inputs in ``dtype`` (g always float32, -uniform(0, 0.5)).

    ``positive`` draws q and k as exp(0.5 * randn): normalized linear attention divides by
    q . sum(k), which for Gaussian q and k crosses zero, so its output is ill-conditioned and
    no tolerance would hold; positive feature maps (as used with it in practice) avoid that.
    """
    if positive:
        q = np.exp(0.5 * rng.standard_normal((B, T, H, K)))
        k = np.exp(0.5 * rng.standard_normal((B, T, H, K)))
    else:
        q = rng.standard_normal((B, T, H, K))
        k = rng.standard_normal((B, T, H, K))
    v = rng.standard_normal((B, T, H, V))
    g = -rng.uniform(0.0, 0.5, (B, T, H))
    return Inputs(q.astype(dtype), k.astype(dtype), v.astype(dtype), g.astype(np.float32))


def make_state(rng: np.random.Generator, N: int, H: int, K: int, V: int) -> np.ndarray:
    """A random float32 state `[N, H, K, V]`."""
    return rng.standard_normal((N, H, K, V)).astype(np.float32)


@dataclass(frozen=True)
class OpSpec:
    """One entry point of `linac.ops` with a fixed `normalize`, and its reference."""

    kernel: str
    op: Callable
    family: str
    recurrent: bool
    normalize: bool | None = None  # None: the op has no `normalize` argument

    @property
    def positive(self) -> bool:
        """Whether the op needs positive q and k (normalized linear attention)."""
        return bool(self.normalize)

    def __call__(self, x: Inputs, **kwargs) -> tuple[np.ndarray, np.ndarray | None]:
        """Runs the op on ``x``; ``kwargs`` go to the op (scale, initial_state, ...)."""
        args = [x.q, x.k, x.v] + ([x.g] if self.family == "simple_gla" else [])
        if self.normalize is not None:
            kwargs["normalize"] = self.normalize
        return self.op(*args, **kwargs)

    def reference(self, x: Inputs, **kwargs) -> tuple[np.ndarray, np.ndarray]:
        """The float64 step-by-step reference on ``x``; retention's decays are computed here."""
        B, T, H, _ = x.q.shape
        g = None
        if self.family == "simple_gla":
            g = x.g
        elif self.family == "retention":
            g = np.broadcast_to(retention_log_decays(H), (B, T, H))
        return reference.recurrence(x.q, x.k, x.v, g=g, normalize=bool(self.normalize), **kwargs)


SPECS = [
    OpSpec("chunk_linear_attn", ops.chunk_linear_attn, "linear_attn", False, normalize=False),
    OpSpec("chunk_linear_attn_normalized", ops.chunk_linear_attn, "linear_attn", False, True),
    OpSpec(
        "fused_recurrent_linear_attn", ops.fused_recurrent_linear_attn, "linear_attn", True, False
    ),
    OpSpec(
        "fused_recurrent_linear_attn_normalized",
        ops.fused_recurrent_linear_attn,
        "linear_attn",
        True,
        normalize=True,
    ),
    OpSpec("chunk_retention", ops.chunk_retention, "retention", False),
    OpSpec("fused_recurrent_retention", ops.fused_recurrent_retention, "retention", True),
    OpSpec("chunk_simple_gla", ops.chunk_simple_gla, "simple_gla", False),
    OpSpec("fused_recurrent_simple_gla", ops.fused_recurrent_simple_gla, "simple_gla", True),
]
RECURRENT_SPECS = [spec for spec in SPECS if spec.recurrent]
SPEC_BY_KERNEL = {spec.kernel: spec for spec in SPECS}
