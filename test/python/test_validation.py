"""Argument validation of every op in `linac.ops`: each bad argument raises a TypeError or a
ValueError whose message names the argument, before anything is compiled or run.

Covers non-numpy inputs, wrong ranks, shapes that disagree between q, k, v, g and
initial_state, unsupported or mismatched dtypes, non-native byte order, head sizes over the
limit, bad cu_seqlens (not from 0 to T, decreasing, B != 1, not integers, not 1-D, not an
array), non-finite or non-numeric scales; for gated ops a missing g, or one of the wrong
shape (per head `[B, T, H]` or, for GLA, per key channel `[B, T, H, K]`), dtype or type; for
delta rules a missing beta, or one of the wrong shape (`[B, T, H]`, DeltaProduct
`[B, T*n, H]`), dtype or type; for DeltaProduct a num_householder that is not an int, out of
[1, 16], or does not match the rows of k. Also that float64 g, beta and initial states,
int32 cu_seqlens, a numpy scale and a numpy integer num_householder are accepted.

The ops with signatures of their own: for linear_attn_noncausal the common cases above (but
initial states); for the Mamba-2 ops (mamba_chunk_scan_combined, fused_recurrent_mamba2)
x, dt, A, B, C, D, z, dt_bias and initial_states of the wrong type, rank, shape or dtype,
ngroups not dividing nheads, dstate or headdim over 256, bad cu_seqlens, and for the chunked op
a chunk_size that is not a power of two in [1, 256]; for selective_scan_fn the same for u,
delta, A, B, C (also grouped, and B and C with different ngroups, which mamba_ssm refuses), D,
z, delta_bias and initial_state; and bfloat16 inputs, refused by name by the Mamba ops. Also
that the Mamba ops accept float64 dt, A, D, biases and states, int32 cu_seqlens and a numpy
integer chunk_size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from linac import ops
from optable import (
    DELTA_SPECS,
    GATED_SPECS,
    SPECS,
    Inputs,
    Mamba2Inputs,
    OpSpec,
    SelectiveScanInputs,
    call_mamba2,
    make_inputs,
    make_mamba2_inputs,
    make_selective_scan_inputs,
    make_state,
)

T, H, K, V = 8, 2, 16, 64

# A case turns valid inputs (B == 1, T == 8) into (inputs, op keyword arguments).
Case = Callable[[Inputs], tuple[Inputs, dict]]


def _as(dtype: type, *names: str) -> Case:
    return lambda x: (replace(x, **{n: getattr(x, n).astype(dtype) for n in names}), {})


def _with(**kwargs) -> Case:
    return lambda x: (x, kwargs)


def _two_batches(x: Inputs) -> tuple[Inputs, dict]:
    return x.map(lambda a: np.concatenate([a, a])), {"cu_seqlens": np.array([0, 4, T])}


def _head_dim(size: int) -> Case:
    def case(x: Inputs) -> tuple[Inputs, dict]:
        q = np.zeros((1, T, H, size), dtype=np.float32)
        k = np.zeros((1, x.k.shape[1], H, size), dtype=np.float32)  # T * num_householder rows
        return replace(x, q=q, k=k), {}

    return case


def _cu_seqlens_cases(passing: Callable, two_batches: Callable) -> dict:
    """The cu_seqlens checks of every op that takes packed sequences: `passing(array)` is the
    case that passes `array` as cu_seqlens, `two_batches` one with B = 2."""
    return {
        "cu_seqlens-start": (
            passing(np.array([1, 4, T])),
            ValueError,
            "cu_seqlens must start at 0",
        ),
        "cu_seqlens-end-short": (
            passing(np.array([0, 4, T - 1])),
            ValueError,
            "cu_seqlens must start at 0 and end at T = 8",
        ),
        "cu_seqlens-end-long": (
            passing(np.array([0, 4, T + 1])),
            ValueError,
            "cu_seqlens must start at 0 and end at T = 8",
        ),
        "cu_seqlens-decreasing": (
            passing(np.array([0, 6, 4, T])),
            ValueError,
            "cu_seqlens must be non-decreasing",
        ),
        "cu_seqlens-batch-2": (two_batches, ValueError, "cu_seqlens needs B == 1"),
        "cu_seqlens-float": (
            passing(np.array([0.0, 4.0, T])),
            TypeError,
            "cu_seqlens must be an integer array",
        ),
        "cu_seqlens-list": (passing([0, 4, T]), TypeError, "cu_seqlens must be a numpy array"),
        "cu_seqlens-2d": (
            passing(np.array([[0, 4, T]])),
            ValueError,
            r"cu_seqlens must have shape \[N \+ 1\]",
        ),
        "cu_seqlens-one-entry": (
            passing(np.array([0])),
            ValueError,
            r"cu_seqlens must have shape \[N \+ 1\] with N >= 1",
        ),
    }


COMMON_CASES: dict[str, tuple[Case, type | tuple[type, ...], str]] = {
    "q-list": (lambda x: (replace(x, q=x.q.tolist()), {}), TypeError, "q must be a numpy array"),
    "k-list": (lambda x: (replace(x, k=x.k.tolist()), {}), TypeError, "k must be a numpy array"),
    "v-list": (lambda x: (replace(x, v=x.v.tolist()), {}), TypeError, "v must be a numpy array"),
    "q-rank-3": (
        lambda x: (replace(x, q=x.q[0], k=x.k[0]), {}),
        ValueError,
        r"q must have shape \[B, T, H, K\], got \[8, 2, 16\]",
    ),
    "k-shape": (
        lambda x: (replace(x, k=x.k[:, :4]), {}),
        ValueError,
        # DeltaProduct's keys have T * num_householder rows.
        (
            r"k must have (the shape of q \[1, 8, 2, 16\]|shape \[B, T\*2, H, K\] = "
            r"\[1, 16, 2, 16\]), got \[1, 4, 2, 16\]"
        ),
    ),
    "v-tokens": (
        lambda x: (replace(x, v=x.v[:, :4]), {}),
        ValueError,
        r"v must have shape \[B, T(\*2)?, H, V\]",
    ),
    "v-rank-3": (
        lambda x: (replace(x, v=x.v[0]), {}),
        ValueError,
        r"v must have shape \[B, T(\*2)?, H, V\]",
    ),
    "int-inputs": (_as(np.int32, "q", "k", "v"), TypeError, "q must be float32 or float16"),
    "float64-inputs": (
        _as(np.float64, "q", "k", "v"),
        TypeError,
        "q must be float32 or float16, got float64",
    ),
    "float64-q": (_as(np.float64, "q"), TypeError, "q must be float32 or float16, got float64"),
    "float16-k": (_as(np.float16, "k"), TypeError, r"k must have the dtype of q \(float32\)"),
    "float16-v": (_as(np.float16, "v"), TypeError, r"v must have the dtype of q \(float32\)"),
    "big-endian-q": (_as(">f4", "q"), TypeError, "q must be in native byte order"),
    "head-dim-300": (_head_dim(300), ValueError, r"head dimension K must be in \[1, 256\]"),
    "initial_state-batch": (
        _with(initial_state=np.zeros((2, H, K, V), np.float32)),
        ValueError,
        r"initial_state must have shape \[N, H, K, V\] = \[1, 2, 16, 64\]",
    ),
    "initial_state-swapped": (
        _with(initial_state=np.zeros((1, H, V, K), np.float32)),
        ValueError,
        "initial_state must have shape",
    ),
    "initial_state-varlen": (
        _with(initial_state=np.zeros((1, H, K, V), np.float32), cu_seqlens=np.array([0, 3, T])),
        ValueError,
        r"initial_state must have shape \[N, H, K, V\] = \[2, 2, 16, 64\]",
    ),
    "initial_state-int": (
        _with(initial_state=np.zeros((1, H, K, V), np.int32)),
        TypeError,
        "initial_state must be a floating-point array",
    ),
    "initial_state-list": (
        _with(initial_state=np.zeros((1, H, K, V)).tolist()),
        TypeError,
        "initial_state must be a numpy array",
    ),
    **_cu_seqlens_cases(lambda c: _with(cu_seqlens=c), _two_batches),
    "scale-nan": (_with(scale=float("nan")), ValueError, "scale must be finite"),
    "scale-inf": (_with(scale=float("inf")), ValueError, "scale must be finite"),
    "scale-str": (_with(scale="0.5"), TypeError, "scale must be a number, got str"),
    "scale-bool": (_with(scale=True), TypeError, "scale must be a number, got bool"),
}

GATE_CASES: dict[str, tuple[Case, type | tuple[type, ...], str]] = {
    "g-tokens": (
        lambda x: (replace(x, g=x.g[:, :4]), {}),
        ValueError,
        r"g must have shape \[B, T, H\] = \[1, 8, 2\], got \[1, 4, 2\]",
    ),
    "g-per-key": (
        lambda x: (replace(x, g=np.zeros((1, T, H, K), np.float32)), {}),
        ValueError,
        r"g must have shape \[B, T, H\]",
    ),
    "g-int": (_as(np.int32, "g"), TypeError, "g must be a floating-point array"),
    "g-list": (lambda x: (replace(x, g=x.g.tolist()), {}), TypeError, "g must be a numpy array"),
    "g-none": (lambda x: (replace(x, g=None), {}), TypeError, r"\bg\b"),
}

VECTOR_GATE_CASES: dict[str, tuple[Case, type | tuple[type, ...], str]] = {
    "g-tokens": (
        lambda x: (replace(x, g=x.g[:, :4]), {}),
        ValueError,
        r"g must have shape \[B, T, H, K\] = \[1, 8, 2, 16\], got \[1, 4, 2, 16\]",
    ),
    "g-per-head": (
        lambda x: (replace(x, g=np.zeros((1, T, H), np.float32)), {}),
        ValueError,
        r"g must have shape \[B, T, H, K\] = \[1, 8, 2, 16\], got \[1, 8, 2\]",
    ),
    "g-per-value": (
        lambda x: (replace(x, g=np.zeros((1, T, H, V), np.float32)), {}),
        ValueError,
        r"g must have shape \[B, T, H, K\]",
    ),
    "g-int": (_as(np.int32, "g"), TypeError, "g must be a floating-point array"),
    "g-list": (lambda x: (replace(x, g=x.g.tolist()), {}), TypeError, "g must be a numpy array"),
    "g-none": (lambda x: (replace(x, g=None), {}), TypeError, r"\bg\b"),
}

# DeltaProduct's step sizes have T * num_householder (here 2) rows.
BETA_CASES: dict[str, tuple[Case, type | tuple[type, ...], str]] = {
    "beta-tokens": (
        lambda x: (replace(x, beta=x.beta[:, :4]), {}),
        ValueError,
        r"beta must have shape \[B, T(\*2)?, H\] = \[1, (8|16), 2\], got \[1, 4, 2\]",
    ),
    "beta-per-key": (
        lambda x: (replace(x, beta=np.zeros((*x.beta.shape, K), np.float32)), {}),
        ValueError,
        r"beta must have shape \[B, T(\*2)?, H\]",
    ),
    "beta-heads": (
        lambda x: (replace(x, beta=x.beta[:, :, :1]), {}),
        ValueError,
        r"beta must have shape \[B, T(\*2)?, H\] = \[1, (8|16), 2\], got \[1, (8|16), 1\]",
    ),
    "beta-int": (_as(np.int32, "beta"), TypeError, "beta must be a floating-point array"),
    "beta-list": (
        lambda x: (replace(x, beta=x.beta.tolist()), {}),
        TypeError,
        "beta must be a numpy array",
    ),
    "beta-none": (lambda x: (replace(x, beta=None), {}), TypeError, r"\bbeta\b"),
}

HOUSEHOLDER_CASES: dict[str, tuple[Case, type | tuple[type, ...], str]] = {
    "zero": (
        _with(num_householder=0),
        ValueError,
        r"num_householder must be in \[1, 16\], got 0",
    ),
    "negative": (
        _with(num_householder=-2),
        ValueError,
        r"num_householder must be in \[1, 16\], got -2",
    ),
    "seventeen": (
        _with(num_householder=17),
        ValueError,
        r"num_householder must be in \[1, 16\], got 17",
    ),
    "float": (_with(num_householder=2.0), TypeError, "num_householder must be an int, got float"),
    "bool": (_with(num_householder=True), TypeError, "num_householder must be an int, got bool"),
    "str": (_with(num_householder="2"), TypeError, "num_householder must be an int, got str"),
    "none": (_with(num_householder=None), TypeError, "num_householder must be an int"),
    # k, v and beta carry 2 sub-steps per token; 3 does not match them.
    "mismatch": (
        _with(num_householder=3),
        ValueError,
        r"k must have shape \[B, T\*3, H, K\] = \[1, 24, 2, 16\], got \[1, 16, 2, 16\]",
    ),
}

SCALAR_GATED_SPECS = [spec for spec in GATED_SPECS if spec.gate == "scalar"]
VECTOR_GATED_SPECS = [spec for spec in GATED_SPECS if spec.gate == "vector"]
PRODUCT_SPECS = [spec for spec in SPECS if spec.householder > 1]


def _check(spec: OpSpec, case: Case, error: type | tuple[type, ...], message: str) -> None:
    x, kwargs = case(make_inputs(np.random.default_rng(0), 1, T, H, K, V, spec=spec))
    with pytest.raises(error, match=message):
        spec(x, **kwargs)


@pytest.mark.parametrize("case", COMMON_CASES)
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_bad_argument_is_named(spec: OpSpec, case: str) -> None:
    _check(spec, *COMMON_CASES[case])


@pytest.mark.parametrize(
    ("spec", "case"),
    # chunk_gated_delta_product takes g=None (DeltaProduct without decay): no "g-none" for it.
    [
        pytest.param(spec, case, id=f"{spec.id}-{case}")
        for spec in SCALAR_GATED_SPECS
        for case in GATE_CASES
        if not (case == "g-none" and spec.family == "gated_delta_product")
    ],
)
def test_bad_gate_is_named(spec: OpSpec, case: str) -> None:
    _check(spec, *GATE_CASES[case])


@pytest.mark.parametrize("case", VECTOR_GATE_CASES)
@pytest.mark.parametrize("spec", VECTOR_GATED_SPECS, ids=lambda spec: spec.id)
def test_bad_vector_gate_is_named(spec: OpSpec, case: str) -> None:
    _check(spec, *VECTOR_GATE_CASES[case])


@pytest.mark.parametrize("case", BETA_CASES)
@pytest.mark.parametrize("spec", DELTA_SPECS, ids=lambda spec: spec.id)
def test_bad_step_size_is_named(spec: OpSpec, case: str) -> None:
    _check(spec, *BETA_CASES[case])


@pytest.mark.parametrize("case", HOUSEHOLDER_CASES)
@pytest.mark.parametrize("spec", PRODUCT_SPECS, ids=lambda spec: spec.id)
def test_bad_num_householder_is_named(spec: OpSpec, case: str) -> None:
    _check(spec, *HOUSEHOLDER_CASES[case])


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_valid_arguments_of_other_types_are_accepted(spec: OpSpec) -> None:
    rng = np.random.default_rng(1)
    x = make_inputs(rng, 1, T, H, K, V, spec=spec)
    s0 = make_state(rng, 2, H, K, V)
    o, final_state = spec(
        replace(x, g=x.g.astype(np.float64), beta=x.beta.astype(np.float64)),
        scale=np.float32(0.5),
        initial_state=s0.astype(np.float64),
        cu_seqlens=np.array([0, 3, T], dtype=np.int32),
        output_final_state=True,
    )
    expected_o, expected_final = spec(
        x, scale=0.5, initial_state=s0, cu_seqlens=np.array([0, 3, T]), output_final_state=True
    )
    np.testing.assert_array_equal(o, expected_o)
    np.testing.assert_array_equal(final_state, expected_final)


@pytest.mark.parametrize("value", [np.int64(2), np.int32(2), np.uint8(2)], ids=repr)
@pytest.mark.parametrize("spec", PRODUCT_SPECS, ids=lambda spec: spec.id)
def test_numpy_integer_num_householder_is_accepted(spec: OpSpec, value) -> None:
    x = make_inputs(np.random.default_rng(2), 1, T, H, K, V, spec=spec)
    o, final_state = spec(x, num_householder=value, output_final_state=True)
    expected_o, expected_final = spec(x, num_householder=2, output_final_state=True)
    np.testing.assert_array_equal(o, expected_o)
    np.testing.assert_array_equal(final_state, expected_final)


# --- linear_attn_noncausal: the common cases but initial states (it takes none) -------------

NONCAUSAL_CASES = [case for case in COMMON_CASES if not case.startswith("initial_state")]


@pytest.mark.parametrize("case", NONCAUSAL_CASES)
@pytest.mark.parametrize("normalize", [False, True], ids=["plain", "normalized"])
def test_bad_argument_of_linear_attn_noncausal_is_named(normalize: bool, case: str) -> None:
    make_case, error, message = COMMON_CASES[case]
    x, kwargs = make_case(make_inputs(np.random.default_rng(0), 1, T, H, K, V))
    with pytest.raises(error, match=message):
        ops.linear_attn_noncausal(x.q, x.k, x.v, normalize=normalize, **kwargs)


# --- Mamba-2: mamba_chunk_scan_combined and fused_recurrent_mamba2 ---------------------------

# Valid arguments: batch 1, seqlen 8, nheads 4, headdim 6, ngroups 2, dstate 5.
MAMBA_H, MAMBA_P, MAMBA_G, MAMBA_N = 4, 6, 2, 5
MAMBA2_OPS = [ops.mamba_chunk_scan_combined, ops.fused_recurrent_mamba2]


def _mamba2_arguments() -> dict:
    x = make_mamba2_inputs(np.random.default_rng(0), 1, T, MAMBA_H, MAMBA_P, MAMBA_G, MAMBA_N)
    return {
        "x": x.x,
        "dt": x.dt,
        "A": x.A,
        "B": x.B,
        "C": x.C,
        "chunk_size": 64,
        "D": x.D[:, 0],
        "z": x.z,
        "dt_bias": x.dt_bias,
        "dt_softplus": True,
    }


def _call_mamba2(op, arguments: dict):
    if op is not ops.mamba_chunk_scan_combined:
        arguments = {name: a for name, a in arguments.items() if name != "chunk_size"}
    return op(**arguments)


# A Mamba case turns valid arguments (a dict by name) into bad ones.
MambaCase = Callable[[dict], dict]


def _set(**changes) -> MambaCase:
    return lambda arguments: {**arguments, **changes}


def _change(name: str, function: Callable[[np.ndarray], object]) -> MambaCase:
    return lambda arguments: {**arguments, name: function(arguments[name])}


def _zeros(*shape: int, dtype=np.float32) -> np.ndarray:
    return np.zeros(shape, dtype)


def _groups(groups: int) -> MambaCase:
    shape = (1, T, groups, MAMBA_N)
    return _set(B=_zeros(*shape), C=_zeros(*shape))


def _dstate(n: int) -> MambaCase:
    return _set(B=_zeros(1, T, MAMBA_G, n), C=_zeros(1, T, MAMBA_G, n))


def _headdim(p: int) -> MambaCase:
    return _set(x=_zeros(1, T, MAMBA_H, p), z=_zeros(1, T, MAMBA_H, p), D=None)


def _mamba2_two_batches(arguments: dict) -> dict:
    doubled = {n: np.concatenate([arguments[n]] * 2) for n in ("x", "dt", "B", "C", "z")}
    return {**arguments, **doubled, "cu_seqlens": np.array([0, 4, T])}


X_LAYOUT = r"\[batch, seqlen, nheads, headdim\]"
BC_LAYOUT = r"\[batch, seqlen, ngroups, dstate\]"
MAMBA2_CASES: dict[str, tuple[MambaCase, type | tuple[type, ...], str]] = {
    "x-list": (_change("x", np.ndarray.tolist), TypeError, "x must be a numpy array"),
    "x-rank-3": (
        _change("x", lambda x: x[0]),
        ValueError,
        rf"x must have shape {X_LAYOUT}, got \[8, 4, 6\]",
    ),
    "x-int": (_change("x", lambda x: x.astype(np.int32)), TypeError, r"x must be .*got int32"),
    "x-float64": (
        _change("x", lambda x: x.astype(np.float64)),
        TypeError,
        r"x must be .*float16.*got float64",
    ),
    "x-big-endian": (
        _change("x", lambda x: x.astype(">f4")),
        TypeError,
        "x must be in native byte order",
    ),
    "headdim-300": (_headdim(300), ValueError, r"headdim must be in \[1, 256\]"),
    "dt-tokens": (
        _change("dt", lambda dt: dt[:, :4]),
        ValueError,
        r"dt must have shape \[batch, seqlen, nheads\] = \[1, 8, 4\], got \[1, 4, 4\]",
    ),
    "dt-per-channel": (
        _set(dt=_zeros(1, T, MAMBA_H, MAMBA_P)),
        ValueError,
        r"dt must have shape \[batch, seqlen, nheads\] = \[1, 8, 4\], got \[1, 8, 4, 6\]",
    ),
    "dt-int": (
        _change("dt", lambda dt: dt.astype(np.int32)),
        TypeError,
        "dt must be a floating-point array",
    ),
    "dt-list": (_change("dt", np.ndarray.tolist), TypeError, "dt must be a numpy array"),
    "A-per-state": (
        _set(A=_zeros(MAMBA_H, MAMBA_N)),
        ValueError,
        r"A must have shape \[nheads\] = \[4\], got \[4, 5\]",
    ),
    "A-heads": (
        _change("A", lambda A: A[:2]),
        ValueError,
        r"A must have shape \[nheads\] = \[4\], got \[2\]",
    ),
    "A-none": (_set(A=None), TypeError, r"\bA\b"),
    "B-rank-3": (
        _change("B", lambda B: B[:, :, 0]),
        ValueError,
        rf"B must have shape {BC_LAYOUT}",
    ),
    "B-tokens": (_change("B", lambda B: B[:, :4]), ValueError, rf"B must have shape {BC_LAYOUT}"),
    "B-groups-3": (
        _groups(3),
        ValueError,
        r"B must have shape .* ngroups dividing nheads = 4, got \[1, 8, 3, 5\]",
    ),
    "B-groups-0": (_groups(0), ValueError, "B must have shape"),
    "B-float16": (
        _change("B", lambda B: B.astype(np.float16)),
        TypeError,
        r"B must have the dtype of .*float32.*got float16",
    ),
    "B-none": (_set(B=None), TypeError, r"\bB\b"),
    "C-dstate": (
        _set(C=_zeros(1, T, MAMBA_G, MAMBA_N + 1)),
        ValueError,
        r"C must have the shape of B \[1, 8, 2, 5\], got \[1, 8, 2, 6\]",
    ),
    "C-groups": (_set(C=_zeros(1, T, 1, MAMBA_N)), ValueError, "C must have the shape of B"),
    "C-float16": (
        _change("C", lambda C: C.astype(np.float16)),
        TypeError,
        r"C must have the dtype of .*float32.*got float16",
    ),
    "dstate-300": (_dstate(300), ValueError, r"dstate .*must be in \[1, 256\]"),
    "D-per-channel-only": (
        _set(D=_zeros(MAMBA_P)),
        ValueError,
        r"D must have shape \[nheads\] or \[nheads, headdim\], got \[6\]",
    ),
    "D-headdim": (
        _set(D=_zeros(MAMBA_H, MAMBA_P + 1)),
        ValueError,
        r"D must have shape \[nheads\] or \[nheads, headdim\], got \[4, 7\]",
    ),
    "D-list": (_set(D=[0.0] * MAMBA_H), TypeError, "D must be a numpy array"),
    "z-shape": (
        _change("z", lambda z: z[..., :3]),
        ValueError,
        r"z must have the shape of x \[1, 8, 4, 6\], got \[1, 8, 4, 3\]",
    ),
    "z-rank-3": (_change("z", lambda z: z[0]), ValueError, rf"z must have shape {X_LAYOUT}"),
    "z-float16": (
        _change("z", lambda z: z.astype(np.float16)),
        TypeError,
        r"z must have the dtype of .*float32.*got float16",
    ),
    "dt_bias-shape": (
        _set(dt_bias=_zeros(MAMBA_H + 1)),
        ValueError,
        r"dt_bias must have shape \[nheads\] = \[4\], got \[5\]",
    ),
    "dt_bias-int": (
        _set(dt_bias=_zeros(MAMBA_H, dtype=np.int32)),
        TypeError,
        "dt_bias must be a floating-point array",
    ),
    "initial_states-swapped": (
        _set(initial_states=_zeros(1, MAMBA_H, MAMBA_N, MAMBA_P)),
        ValueError,
        (
            r"initial_states must have shape \[batch, nheads, headdim, dstate\] = "
            r"\[1, 4, 6, 5\], got \[1, 4, 5, 6\]"
        ),
    ),
    "initial_states-batch": (
        _set(initial_states=_zeros(2, MAMBA_H, MAMBA_P, MAMBA_N)),
        ValueError,
        r"initial_states must have shape .* = \[1, 4, 6, 5\]",
    ),
    "initial_states-varlen": (
        _set(initial_states=_zeros(1, MAMBA_H, MAMBA_P, MAMBA_N), cu_seqlens=np.array([0, 3, T])),
        ValueError,
        r"initial_states must have shape .* = \[2, 4, 6, 5\]",
    ),
    "initial_states-int": (
        _set(initial_states=_zeros(1, MAMBA_H, MAMBA_P, MAMBA_N, dtype=np.int32)),
        TypeError,
        "initial_states must be a floating-point array",
    ),
    **_cu_seqlens_cases(lambda c: _set(cu_seqlens=c), _mamba2_two_batches),
}

CHUNK_SIZE_CASES: dict[str, tuple[MambaCase, type | tuple[type, ...], str]] = {
    f"chunk_size={size!r}": (
        _set(chunk_size=size),
        error,
        rf"chunk_size must be a power of two in \[1, 256\], got {size}",
    )
    for size, error in [
        (48, ValueError),
        (0, ValueError),
        (-64, ValueError),
        (512, ValueError),
        (100, ValueError),
        (64.0, (TypeError, ValueError)),
        (True, (TypeError, ValueError)),
        ("64", (TypeError, ValueError)),
    ]
}


def _mamba2_op_id(op) -> str:
    return "chunk" if op is ops.mamba_chunk_scan_combined else "recurrent"


@pytest.mark.parametrize("case", MAMBA2_CASES)
@pytest.mark.parametrize("op", MAMBA2_OPS, ids=_mamba2_op_id)
def test_bad_mamba2_argument_is_named(op, case: str) -> None:
    make_case, error, message = MAMBA2_CASES[case]
    with pytest.raises(error, match=message):
        _call_mamba2(op, make_case(_mamba2_arguments()))


@pytest.mark.parametrize("case", CHUNK_SIZE_CASES)
def test_bad_chunk_size_is_named(case: str) -> None:
    make_case, error, message = CHUNK_SIZE_CASES[case]
    with pytest.raises(error, match=message):
        ops.mamba_chunk_scan_combined(**make_case(_mamba2_arguments()))


def _mamba2_state(rng: np.random.Generator, x: Mamba2Inputs, N: int) -> np.ndarray:
    _, _, h, p = x.x.shape
    return rng.standard_normal((N, h, p, x.B.shape[-1])).astype(np.float32)


@pytest.mark.parametrize("op", MAMBA2_OPS, ids=_mamba2_op_id)
def test_mamba2_arguments_of_other_types_are_accepted(op) -> None:
    rng = np.random.default_rng(1)
    x = make_mamba2_inputs(rng, 1, T, MAMBA_H, MAMBA_P, MAMBA_G, MAMBA_N)
    s0 = _mamba2_state(rng, x, 2)
    float64 = replace(x, dt=x.dt.astype(np.float64), A=x.A.astype(np.float64))
    y, final = call_mamba2(
        op,
        float64,
        D=x.D.astype(np.float64),
        dt_bias=x.dt_bias.astype(np.float64),
        dt_softplus=True,
        initial_states=s0.astype(np.float64),
        return_final_states=True,
        cu_seqlens=np.array([0, 3, T], dtype=np.int32),
    )
    expected_y, expected_final = call_mamba2(
        op,
        x,
        D=x.D,
        dt_bias=x.dt_bias,
        dt_softplus=True,
        initial_states=s0,
        return_final_states=True,
        cu_seqlens=np.array([0, 3, T]),
    )
    np.testing.assert_array_equal(y, expected_y)
    np.testing.assert_array_equal(final, expected_final)


@pytest.mark.parametrize("chunk_size", [np.int64(32), np.int32(32)], ids=repr)
def test_numpy_integer_chunk_size_is_accepted(chunk_size) -> None:
    x = make_mamba2_inputs(np.random.default_rng(3), 1, T, MAMBA_H, MAMBA_P, MAMBA_G, MAMBA_N)
    y = call_mamba2(ops.mamba_chunk_scan_combined, x, chunk_size, dt_softplus=True)
    expected = call_mamba2(ops.mamba_chunk_scan_combined, x, 32, dt_softplus=True)
    np.testing.assert_array_equal(y, expected)


def _mamba2_in(op, dtype) -> np.ndarray:
    x = make_mamba2_inputs(np.random.default_rng(4), 1, T, MAMBA_H, MAMBA_P, 1, MAMBA_N)
    x = replace(x, x=x.x.astype(dtype), B=x.B.astype(dtype), C=x.C.astype(dtype))
    return call_mamba2(op, x, dt_softplus=True)


def _selective_scan_in(dtype) -> np.ndarray:
    x = make_selective_scan_inputs(np.random.default_rng(4), 1, 6, T, 5)
    return ops.selective_scan_fn(
        x.u.astype(dtype),
        x.delta,
        x.A,
        x.B.astype(dtype),
        x.C.astype(dtype),
        delta_softplus=True,
    )


@pytest.mark.parametrize(
    "run",
    [
        lambda dtype: _mamba2_in(ops.mamba_chunk_scan_combined, dtype),
        lambda dtype: _mamba2_in(ops.fused_recurrent_mamba2, dtype),
        _selective_scan_in,
    ],
    ids=["chunk", "recurrent", "selective_scan"],
)
def test_mamba_bfloat16_inputs_run_in_bfloat16(run) -> None:
    # The Mamba kernels take bf16 like the recurrences: the output keeps the dtype and agrees
    # with the float32 run of the same (bf16-rounded) inputs to bf16's precision.
    bfloat16 = pytest.importorskip("ml_dtypes").bfloat16
    y = run(bfloat16)
    assert y.dtype == bfloat16
    expected = run(np.float32)
    err = np.sqrt(np.mean((y.astype(np.float32) - expected) ** 2) / np.mean(expected**2))
    assert err < 2e-2, err


# --- Mamba-1: selective_scan_fn ---------------------------------------------------------------

# Valid arguments: batch 1, dim 6, seqlen 8, dstate 5; B and C grouped (2 groups).
SCAN_D, SCAN_N = 6, 5


def _scan_arguments() -> dict:
    x = make_selective_scan_inputs(
        np.random.default_rng(0), 1, SCAN_D, T, SCAN_N, b_groups=2, c_groups=2
    )
    return {
        "u": x.u,
        "delta": x.delta,
        "A": x.A,
        "B": x.B,
        "C": x.C,
        "D": x.D,
        "z": x.z,
        "delta_bias": x.delta_bias,
        "delta_softplus": True,
    }


def _scan_two_batches(arguments: dict) -> dict:
    doubled = {n: np.concatenate([arguments[n]] * 2) for n in ("u", "delta", "B", "C", "z")}
    return {**arguments, **doubled, "cu_seqlens": np.array([0, 4, T])}


U_LAYOUT = r"\[batch, dim, seqlen\]"
SCAN_CASES: dict[str, tuple[MambaCase, type | tuple[type, ...], str]] = {
    "u-list": (_change("u", np.ndarray.tolist), TypeError, "u must be a numpy array"),
    "u-rank-4": (
        _change("u", lambda u: u[..., None]),
        ValueError,
        rf"u must have shape {U_LAYOUT}, got \[1, 6, 8, 1\]",
    ),
    "u-int": (_change("u", lambda u: u.astype(np.int32)), TypeError, r"u must be .*got int32"),
    "u-float64": (
        _change("u", lambda u: u.astype(np.float64)),
        TypeError,
        r"u must be .*float16.*got float64",
    ),
    "delta-time-major": (
        _change("delta", lambda delta: np.ascontiguousarray(delta.transpose(0, 2, 1))),
        ValueError,
        rf"delta must have shape {U_LAYOUT} = \[1, 6, 8\], got \[1, 8, 6\]",
    ),
    "delta-int": (
        _change("delta", lambda delta: delta.astype(np.int32)),
        TypeError,
        "delta must be a floating-point array",
    ),
    "A-per-channel": (
        _set(A=_zeros(SCAN_D)),
        ValueError,
        r"A must have shape \[dim, dstate\] with dim = 6, got \[6\]",
    ),
    "A-dim": (
        _set(A=_zeros(SCAN_D + 1, SCAN_N)),
        ValueError,
        r"A must have shape \[dim, dstate\] with dim = 6, got \[7, 5\]",
    ),
    "A-int": (
        _set(A=_zeros(SCAN_D, SCAN_N, dtype=np.int32)),
        TypeError,
        "A must be a floating-point array",
    ),
    "A-list": (_change("A", np.ndarray.tolist), TypeError, "A must be a numpy array"),
    "dstate-300": (
        _set(A=_zeros(SCAN_D, 300), B=_zeros(1, 300, T), C=_zeros(1, 300, T)),
        ValueError,
        r"dstate must be in \[1, 256\], got 300",
    ),
    "B-time-major": (
        _set(B=_zeros(1, T, SCAN_N)),
        ValueError,
        (
            r"B must have shape \[batch, dstate, seqlen\] = \[1, 5, 8\] or \[batch, ngroups,"
            r" dstate, seqlen\] with ngroups dividing dim = 6, got \[1, 8, 5\]"
        ),
    ),
    "B-dstate": (_set(B=_zeros(1, 2, SCAN_N + 1, T)), ValueError, "B must have shape"),
    "B-groups-4": (
        _set(B=_zeros(1, 4, SCAN_N, T)),
        ValueError,
        r"B must have shape .* with ngroups dividing dim = 6, got \[1, 4, 5, 8\]",
    ),
    "B-float16": (
        _change("B", lambda B: B.astype(np.float16)),
        TypeError,
        r"B must have the dtype of .*float32.*got float16",
    ),
    "C-tokens": (_change("C", lambda C: C[..., :4]), ValueError, "C must have shape"),
    # mamba_ssm requires one ngroups for B and C (the kernel takes one group count for both).
    "C-ungrouped": (_set(C=_zeros(1, SCAN_N, T)), ValueError, r"^C\b.*(ngroups|B)"),
    "C-groups-3": (_set(C=_zeros(1, 3, SCAN_N, T)), ValueError, r"^C\b.*(ngroups|B)"),
    "C-float16": (
        _change("C", lambda C: C.astype(np.float16)),
        TypeError,
        r"C must have the dtype of .*float32.*got float16",
    ),
    "D-shape": (
        _set(D=_zeros(SCAN_D + 1)),
        ValueError,
        r"D must have shape \[dim\] = \[6\], got \[7\]",
    ),
    "D-per-state": (_set(D=_zeros(SCAN_D, SCAN_N)), ValueError, "D must have shape"),
    "z-shape": (
        _change("z", lambda z: z[..., :4]),
        ValueError,
        r"z must have the shape of u \[1, 6, 8\], got \[1, 6, 4\]",
    ),
    "z-float16": (
        _change("z", lambda z: z.astype(np.float16)),
        TypeError,
        r"z must have the dtype of .*float32.*got float16",
    ),
    "delta_bias-shape": (
        _set(delta_bias=_zeros(SCAN_D - 1)),
        ValueError,
        r"delta_bias must have shape \[dim\] = \[6\], got \[5\]",
    ),
    "initial_state-swapped": (
        _set(initial_state=_zeros(1, SCAN_N, SCAN_D)),
        ValueError,
        r"initial_state must have shape \[batch, dim, dstate\] = \[1, 6, 5\], got \[1, 5, 6\]",
    ),
    "initial_state-varlen": (
        _set(initial_state=_zeros(1, SCAN_D, SCAN_N), cu_seqlens=np.array([0, 3, T])),
        ValueError,
        r"initial_state must have shape .* = \[2, 6, 5\]",
    ),
    "cu_seqlens-end": (
        _set(cu_seqlens=np.array([0, 4, T - 1])),
        ValueError,
        "cu_seqlens must start at 0 and end at T = 8",
    ),
    "cu_seqlens-decreasing": (
        _set(cu_seqlens=np.array([0, 6, 4, T])),
        ValueError,
        "cu_seqlens must be non-decreasing",
    ),
    "cu_seqlens-batch-2": (_scan_two_batches, ValueError, "cu_seqlens needs B == 1"),
    "cu_seqlens-float": (
        _set(cu_seqlens=np.array([0.0, 4.0, T])),
        TypeError,
        "cu_seqlens must be an integer array",
    ),
}


@pytest.mark.parametrize("case", SCAN_CASES)
def test_bad_selective_scan_argument_is_named(case: str) -> None:
    make_case, error, message = SCAN_CASES[case]
    with pytest.raises(error, match=message):
        ops.selective_scan_fn(**make_case(_scan_arguments()))


def test_selective_scan_arguments_of_other_types_are_accepted() -> None:
    rng = np.random.default_rng(1)
    x: SelectiveScanInputs = make_selective_scan_inputs(
        rng, 1, SCAN_D, T, SCAN_N, b_groups=2, c_groups=2
    )
    s0 = rng.standard_normal((2, SCAN_D, SCAN_N)).astype(np.float32)
    y, last = ops.selective_scan_fn(
        x.u,
        x.delta.astype(np.float64),
        x.A.astype(np.float64),
        x.B,
        x.C,
        D=x.D.astype(np.float64),
        delta_bias=x.delta_bias.astype(np.float64),
        delta_softplus=True,
        return_last_state=True,
        initial_state=s0.astype(np.float64),
        cu_seqlens=np.array([0, 3, T], dtype=np.int32),
    )
    expected_y, expected_last = ops.selective_scan_fn(
        x.u,
        x.delta,
        x.A,
        x.B,
        x.C,
        D=x.D,
        delta_bias=x.delta_bias,
        delta_softplus=True,
        return_last_state=True,
        initial_state=s0,
        cu_seqlens=np.array([0, 3, T]),
    )
    np.testing.assert_array_equal(y, expected_y)
    np.testing.assert_array_equal(last, expected_last)
