"""The ops under test: how to call each one and its float64 reference, random inputs, and
the error tolerances; shared by the test modules.

`SPECS` are the ops with flash-linear-attention's signatures (q, k, v, ... -> o, final_state);
the ops with signatures of their own (mamba_ssm's Mamba-2 and Mamba-1, non-causal linear
attention) are in `OTHER_OP_KERNELS`, with random inputs for the Mamba ops here
(`make_mamba2_inputs`, `make_selective_scan_inputs`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from linac import ops, reference

# Relative RMS error against the float64 reference, by input dtype. Plain updates (a sum of
# decayed outer products) round like a matmul; delta rules get a looser float32 bound: the
# UT transform's forward substitution and the products of (I - beta k k^T) round more.
TOLERANCE = {np.dtype(np.float32): 1e-5, np.dtype(np.float16): 5e-3}
DELTA_TOLERANCE = {np.dtype(np.float32): 1e-4, np.dtype(np.float16): 5e-3}

# Each family's decay (None, "scalar" g `[B, T, H]` or "vector" g `[B, T, H, K]`) as the op
# takes it; retention's fixed decays are not an argument of its op.
GATES = {
    "linear_attn": None,
    "retention": None,
    "simple_gla": "scalar",
    "gla": "vector",
    "delta_rule": None,
    "gated_delta_rule": "scalar",
    "delta_product": None,
    "gated_delta_product": "scalar",
}
DELTA_FAMILIES = {"delta_rule", "gated_delta_rule", "delta_product", "gated_delta_product"}
PRODUCT_FAMILIES = {"delta_product", "gated_delta_product"}


def tolerance(dtype: np.dtype, delta: bool = False) -> float:
    """The relative RMS error allowed for inputs of ``dtype`` (``delta``: a delta rule)."""
    return (DELTA_TOLERANCE if delta else TOLERANCE)[np.dtype(dtype)]


def retention_log_decays(num_heads: int) -> np.ndarray:
    """log(1 - 2^(-5 - h)) per head, float64, computed with plain math (not with linac)."""
    return np.array([math.log(1.0 - 2.0 ** (-5 - h)) for h in range(num_heads)])


def l2_normalized(x: np.ndarray) -> np.ndarray:
    """``x / sqrt(x . x + 1e-6)`` over the last axis in float64: the in-kernel q/k l2norm."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.sqrt(np.sum(x * x, axis=-1, keepdims=True) + 1e-6)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function in float64."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


@dataclass(frozen=True)
class Inputs:
    """The arrays of one call: q `[B, T, H, K]`, k `[B, T*n, H, K]`, v `[B, T*n, H, V]`, the
    decays g (`[B, T, H]`, or `[B, T, H, K]` for vector decays) and the step sizes beta
    `[B, T*n, H]`, where n is the number of Householder sub-steps per token (DeltaProduct;
    otherwise 1). Ops that take no g or no beta ignore them."""

    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    g: np.ndarray
    beta: np.ndarray
    householder: int = 1

    def tokens(self, start: int, end: int) -> Inputs:
        """The tokens ``start:end`` of every array (with all their sub-steps)."""
        n = self.householder
        return replace(
            self,
            q=self.q[:, start:end],
            g=self.g[:, start:end],
            k=self.k[:, start * n : end * n],
            v=self.v[:, start * n : end * n],
            beta=self.beta[:, start * n : end * n],
        )

    def map(self, function: Callable[[np.ndarray], np.ndarray]) -> Inputs:
        """``function`` applied to every array."""
        return replace(
            self,
            q=function(self.q),
            k=function(self.k),
            v=function(self.v),
            g=function(self.g),
            beta=function(self.beta),
        )


def make_inputs(
    rng: np.random.Generator,
    B: int,
    T: int,
    H: int,
    K: int,
    V: int,
    dtype: type = np.float32,
    spec: OpSpec | None = None,
) -> Inputs:
    """Random inputs in ``dtype`` for ``spec`` (default: simple GLA); g and beta are float32.

    g is -uniform(0, 0.5), per head or (vector decays) per key channel; beta is uniform(0, 1),
    or Gaussian logits (times 2) when the op applies a sigmoid to it.

    Normalized linear attention divides by q . sum(k), which for Gaussian q and k crosses zero,
    so its output is ill-conditioned and no tolerance would hold: its q and k are drawn as
    exp(0.5 * randn), positive feature maps as used with it in practice.

    Delta rules get L2-normalized keys (unless the op normalizes them itself): with beta in
    [0, 2] and |k| = 1, I - beta k k^T has eigenvalues in [-1, 1], so the state stays bounded
    however long the sequence. With Gaussian keys (|k|^2 ~ K) beta |k|^2 is far above 2 and the
    recurrence itself blows up exponentially: no float32 kernel could follow it.
    """
    n = 1 if spec is None else spec.householder
    if spec is not None and spec.positive:
        q = np.exp(0.5 * rng.standard_normal((B, T, H, K)))
        k = np.exp(0.5 * rng.standard_normal((B, T * n, H, K)))
    else:
        q = rng.standard_normal((B, T, H, K))
        k = rng.standard_normal((B, T * n, H, K))
    if spec is not None and spec.delta and not spec.option("use_qk_l2norm_in_kernel"):
        k = l2_normalized(k)
    v = rng.standard_normal((B, T * n, H, V))
    vector = spec is not None and spec.gate == "vector"
    g = -rng.uniform(0.0, 0.5, (B, T, H, K) if vector else (B, T, H))
    if spec is not None and spec.option("use_beta_sigmoid_in_kernel"):
        beta = 2.0 * rng.standard_normal((B, T * n, H))
    else:
        beta = rng.uniform(0.0, 1.0, (B, T * n, H))
    return Inputs(
        q.astype(dtype),
        k.astype(dtype),
        v.astype(dtype),
        g.astype(np.float32),
        beta.astype(np.float32),
        householder=n,
    )


def make_state(rng: np.random.Generator, N: int, H: int, K: int, V: int) -> np.ndarray:
    """A random float32 state `[N, H, K, V]`."""
    return rng.standard_normal((N, H, K, V)).astype(np.float32)


@dataclass(frozen=True)
class OpSpec:
    """One entry point of `linac.ops` with fixed options (`normalize`, `num_householder`,
    the delta rules' in-kernel options), and its reference."""

    kernel: str
    op: Callable
    family: str
    recurrent: bool
    normalize: bool | None = None  # None: the op has no `normalize` argument
    householder: int = 1  # num_householder of DeltaProduct
    options: tuple[tuple[str, bool], ...] = ()  # keyword options of the op

    @property
    def id(self) -> str:
        """The kernel name, plus the options that set this spec apart (a test id)."""
        parts = [self.kernel]
        if self.family in PRODUCT_FAMILIES:
            parts.append(f"n{self.householder}")
        short = {
            "use_qk_l2norm_in_kernel": "l2norm",
            "use_beta_sigmoid_in_kernel": "sigmoid",
            "allow_neg_eigval": "negeig",
        }
        parts += [short[name] for name, on in self.options if on]
        return "-".join(parts)

    @property
    def gate(self) -> str | None:
        """None, "scalar" or "vector": the g the op takes."""
        return GATES[self.family]

    @property
    def delta(self) -> bool:
        """Whether the op is a delta rule (takes beta)."""
        return self.family in DELTA_FAMILIES

    @property
    def positive(self) -> bool:
        """Whether the op needs positive q and k (normalized linear attention)."""
        return bool(self.normalize)

    @property
    def reversible(self) -> bool:
        """Whether the op takes `reverse`."""
        return "reverse" in inspect.signature(self.op).parameters

    def option(self, name: str) -> bool:
        """The value of the op option ``name`` (False when not set)."""
        return dict(self.options).get(name, False)

    def tolerance(self, dtype: np.dtype) -> float:
        """The relative RMS error allowed against the reference."""
        return tolerance(dtype, self.delta)

    def inputs(
        self, rng: np.random.Generator, B: int, T: int, H: int, K: int, V: int, dtype=np.float32
    ) -> Inputs:
        """Random inputs for this op (see `make_inputs`)."""
        return make_inputs(rng, B, T, H, K, V, dtype, spec=self)

    def __call__(self, x: Inputs, **kwargs) -> tuple[np.ndarray, np.ndarray | None]:
        """Runs the op on ``x``; ``kwargs`` go to the op (scale, initial_state, ...) and
        override the spec's options."""
        args = [x.q, x.k, x.v]
        if self.gate is not None:
            args.append(x.g)
        elif self.family == "delta_product":
            args.append(None)  # g=None: DeltaProduct without decay
        if self.delta:
            args.append(x.beta)
        if self.family in PRODUCT_FAMILIES:
            kwargs.setdefault("num_householder", self.householder)
        if self.normalize is not None:
            kwargs["normalize"] = self.normalize
        return self.op(*args, **{**dict(self.options), **kwargs})

    def reference(self, x: Inputs, **kwargs) -> tuple[np.ndarray, np.ndarray]:
        """The float64 step-by-step reference on ``x``; retention's decays, the in-kernel
        l2norm of q and k and the sigmoid of beta are computed here."""
        B, T, H, _ = x.q.shape
        g = None
        if self.gate is not None:
            g = x.g
        elif self.family == "retention":
            g = np.broadcast_to(retention_log_decays(H), (B, T, H))
        q, k, beta = x.q, x.k, x.beta if self.delta else None
        if self.option("use_qk_l2norm_in_kernel"):
            q, k = l2_normalized(q), l2_normalized(k)
        if self.option("use_beta_sigmoid_in_kernel"):
            beta = (2.0 if self.option("allow_neg_eigval") else 1.0) * sigmoid(beta)
        return reference.recurrence(
            q,
            k,
            x.v,
            g=g,
            beta=beta,
            normalize=bool(self.normalize),
            householder=self.householder,
            **kwargs,
        )


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
    OpSpec("chunk_gla", ops.chunk_gla, "gla", False),
    OpSpec("fused_recurrent_gla", ops.fused_recurrent_gla, "gla", True),
    OpSpec("chunk_delta_rule", ops.chunk_delta_rule, "delta_rule", False),
    OpSpec("fused_recurrent_delta_rule", ops.fused_recurrent_delta_rule, "delta_rule", True),
    OpSpec("chunk_gated_delta_rule", ops.chunk_gated_delta_rule, "gated_delta_rule", False),
    OpSpec(
        "fused_recurrent_gated_delta_rule",
        ops.fused_recurrent_gated_delta_rule,
        "gated_delta_rule",
        True,
    ),
    OpSpec(
        "chunk_gated_delta_product",
        ops.chunk_gated_delta_product,
        "gated_delta_product",
        False,
        householder=2,
    ),
    # chunk_gated_delta_product with g=None runs the DeltaProduct kernel without decay.
    OpSpec(
        "chunk_delta_product",
        ops.chunk_gated_delta_product,
        "delta_product",
        False,
        householder=2,
    ),
]


def check_chunked_against_reference(
    spec: OpSpec,
    rng: np.random.Generator,
    B: int = 2,
    H: int = 2,
    T: int = 200,
    K: int = 32,
    V: int = 48,
    dtype=np.float32,
) -> None:
    """Runs ``spec`` with an initial state on T tokens (by default 200: three chunks of 64
    and a partial one of 8 rows) of ``dtype`` inputs, and checks its output and final state
    against the float64 step-by-step reference at that type's tolerance."""
    from linac.reference import relative_rms_error

    x = spec.inputs(rng, B, T, H, K, V, dtype)
    s0 = make_state(rng, B, H, K, V)
    o, final_state = spec(x, initial_state=s0, output_final_state=True)
    ref_o, ref_final = spec.reference(x, initial_state=s0)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(dtype)
    assert relative_rms_error(ref_final, final_state) <= spec.tolerance(dtype)


def compile_kernels_with(monkeypatch, module, chunk_size: int, **options) -> list[str]:
    """Makes `module` compile its kernels at ``chunk_size`` with the compile ``options``
    (e.g. ``gate_sums="per-element"``); returns the list the names of the kernels it
    compiles are appended to."""
    real = module.get_kernel
    compiled = []

    def with_options(name, head_dim_k, head_dim_v, dtype, target="cpu", _chunk=0, *rest, **kw):
        compiled.append(name)
        return real(name, head_dim_k, head_dim_v, dtype, target, chunk_size, *rest, **options, **kw)

    monkeypatch.setattr(module, "get_kernel", with_options)
    return compiled


RECURRENT_SPECS = [spec for spec in SPECS if spec.recurrent]
REVERSIBLE_SPECS = [spec for spec in SPECS if spec.reversible]
GATED_SPECS = [spec for spec in SPECS if spec.gate is not None]
DELTA_SPECS = [spec for spec in SPECS if spec.delta]
SPEC_BY_KERNEL = {spec.kernel: spec for spec in SPECS}

L2NORM = (("use_qk_l2norm_in_kernel", True),)
SIGMOID = (("use_beta_sigmoid_in_kernel", True),)
NEG_EIGVAL = (("use_beta_sigmoid_in_kernel", True), ("allow_neg_eigval", True))

# The delta rules with their in-kernel options (each a kernel of its own), and DeltaProduct
# with 1 and 3 Householder steps.
OPTION_SPECS = [
    replace(SPEC_BY_KERNEL["chunk_delta_rule"], options=L2NORM),
    replace(SPEC_BY_KERNEL["fused_recurrent_delta_rule"], options=L2NORM),
    replace(SPEC_BY_KERNEL["chunk_gated_delta_rule"], options=L2NORM + SIGMOID),
    replace(SPEC_BY_KERNEL["fused_recurrent_gated_delta_rule"], options=L2NORM + SIGMOID),
    replace(SPEC_BY_KERNEL["chunk_gated_delta_rule"], options=NEG_EIGVAL),
    replace(SPEC_BY_KERNEL["fused_recurrent_gated_delta_rule"], options=NEG_EIGVAL),
    replace(SPEC_BY_KERNEL["chunk_gated_delta_product"], options=L2NORM),
    replace(SPEC_BY_KERNEL["chunk_gated_delta_product"], householder=3),
    replace(SPEC_BY_KERNEL["chunk_delta_product"], householder=1),
    replace(SPEC_BY_KERNEL["chunk_delta_product"], householder=3, options=L2NORM),
]


# The ops with signatures of their own and their built-in kernels (tested in test_ssm.py and
# test_noncausal.py; their argument checks in test_validation.py).
OTHER_OP_KERNELS = {
    "linear_attn_noncausal": ("noncausal_linear_attn", "noncausal_linear_attn_normalized"),
    "mamba_chunk_scan_combined": ("chunk_mamba2", "chunk_mamba2_gated"),
    "fused_recurrent_mamba2": ("fused_recurrent_mamba2", "fused_recurrent_mamba2_gated"),
    "selective_scan_fn": ("selective_scan", "selective_scan_gated"),
}


def _time_steps(rng: np.random.Generator, shape: tuple, softplus: bool) -> np.ndarray:
    """Time steps before the dt transform: raw values in [-5, 1] (softplus maps them to
    [0.007, 1.3]), or, used as given, positive ones in [0.01, 0.5]."""
    if softplus:
        return rng.uniform(-5.0, 1.0, shape)
    return rng.uniform(0.01, 0.5, shape)


@dataclass(frozen=True)
class Mamba2Inputs:
    """The arrays of one Mamba-2 call in mamba_ssm's layouts: x and the gate z `[b, l, h, p]`,
    the time steps dt `[b, l, h]`, A `[h]` (negative), B and C `[b, l, g, n]`, D `[h, p]` (a
    per-head D is `D[:, 0]`) and dt_bias `[h]`. dt, A, D and dt_bias are float32."""

    x: np.ndarray
    dt: np.ndarray
    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    z: np.ndarray
    D: np.ndarray
    dt_bias: np.ndarray

    def tokens(self, start: int, end: int) -> Mamba2Inputs:
        """The tokens ``start:end`` of the per-token arrays."""
        return self.map(lambda a: a[:, start:end])

    def map(self, function: Callable[[np.ndarray], np.ndarray]) -> Mamba2Inputs:
        """``function`` applied to the per-token arrays (x, dt, B, C, z)."""
        return replace(
            self,
            x=function(self.x),
            dt=function(self.dt),
            B=function(self.B),
            C=function(self.C),
            z=function(self.z),
        )


def make_mamba2_inputs(
    rng: np.random.Generator,
    b: int,
    L: int,
    h: int,
    p: int,
    g: int,
    n: int,
    dtype: type = np.float32,
    softplus: bool = True,
) -> Mamba2Inputs:
    """Random Mamba-2 inputs: Gaussian x, z, B, C and D; A in [-4, -0.5]; time steps for
    ``softplus`` (see `_time_steps`) and a bias in [-1, 1] (with softplus) or [0, 0.2]."""
    bias = rng.uniform(-1.0, 1.0, h) if softplus else rng.uniform(0.0, 0.2, h)
    return Mamba2Inputs(
        x=rng.standard_normal((b, L, h, p)).astype(dtype),
        dt=_time_steps(rng, (b, L, h), softplus).astype(np.float32),
        A=-rng.uniform(0.5, 4.0, h).astype(np.float32),
        B=rng.standard_normal((b, L, g, n)).astype(dtype),
        C=rng.standard_normal((b, L, g, n)).astype(dtype),
        z=rng.standard_normal((b, L, h, p)).astype(dtype),
        D=rng.standard_normal((h, p)).astype(np.float32),
        dt_bias=bias.astype(np.float32),
    )


def call_mamba2(op: Callable, x: Mamba2Inputs, chunk_size: int = 64, **kwargs):
    """``op`` (mamba_chunk_scan_combined, with ``chunk_size``, or fused_recurrent_mamba2) on
    x, dt, A, B, C of ``x``; ``kwargs`` go to the op."""
    if op is ops.mamba_chunk_scan_combined:
        return op(x.x, x.dt, x.A, x.B, x.C, chunk_size, **kwargs)
    return op(x.x, x.dt, x.A, x.B, x.C, **kwargs)


def check_chunked_mamba2_against_reference(
    rng: np.random.Generator, chunk_size: int, T: int = 150, dtype=np.float32
) -> None:
    """Runs mamba_chunk_scan_combined at ``chunk_size`` on T tokens of ``dtype`` inputs (dt
    softplus'd, two sequences, two heads) and checks its output and final states against the
    float64 step-by-step reference at that type's tolerance."""
    from linac.reference import relative_rms_error

    x = make_mamba2_inputs(rng, 2, T, 2, 32, 1, 16, dtype)
    y, final = call_mamba2(
        ops.mamba_chunk_scan_combined, x, chunk_size, return_final_states=True, dt_softplus=True
    )
    ref_y, ref_final = reference.mamba2(x.x, x.dt, x.A, x.B, x.C, dt_softplus=True)
    assert relative_rms_error(ref_y, y) <= tolerance(dtype)
    assert relative_rms_error(ref_final, final) <= tolerance(dtype)


@dataclass(frozen=True)
class SelectiveScanInputs:
    """The arrays of one Mamba-1 call, channels first: u, the time steps delta and the gate z
    `[b, d, l]`, A `[d, n]` (negative), B and C `[b, n, l]` or grouped `[b, g, n, l]`, D and
    delta_bias `[d]`. delta, A, D and delta_bias are float32."""

    u: np.ndarray
    delta: np.ndarray
    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    z: np.ndarray
    D: np.ndarray
    delta_bias: np.ndarray

    def tokens(self, start: int, end: int) -> SelectiveScanInputs:
        """The tokens ``start:end`` (the last axis) of the per-token arrays."""
        return self.map(lambda a: a[..., start:end])

    def map(self, function: Callable[[np.ndarray], np.ndarray]) -> SelectiveScanInputs:
        """``function`` applied to the per-token arrays (u, delta, B, C, z)."""
        return replace(
            self,
            u=function(self.u),
            delta=function(self.delta),
            B=function(self.B),
            C=function(self.C),
            z=function(self.z),
        )


def make_selective_scan_inputs(
    rng: np.random.Generator,
    b: int,
    d: int,
    L: int,
    n: int,
    dtype: type = np.float32,
    softplus: bool = True,
    b_groups: int | None = None,
    c_groups: int | None = None,
) -> SelectiveScanInputs:
    """Random Mamba-1 inputs as `make_mamba2_inputs`, A in [-4, -0.5] per (channel, state);
    B (C) is `[b, n, l]` when ``b_groups`` (``c_groups``) is None, else grouped."""

    def projection(groups: int | None) -> np.ndarray:
        shape = (b, n, L) if groups is None else (b, groups, n, L)
        return rng.standard_normal(shape).astype(dtype)

    bias = rng.uniform(-1.0, 1.0, d) if softplus else rng.uniform(0.0, 0.2, d)
    return SelectiveScanInputs(
        u=rng.standard_normal((b, d, L)).astype(dtype),
        delta=_time_steps(rng, (b, d, L), softplus).astype(np.float32),
        A=-rng.uniform(0.5, 4.0, (d, n)).astype(np.float32),
        B=projection(b_groups),
        C=projection(c_groups),
        z=rng.standard_normal((b, d, L)).astype(dtype),
        D=rng.standard_normal(d).astype(np.float32),
        delta_bias=bias.astype(np.float32),
    )
