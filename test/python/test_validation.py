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
int32 cu_seqlens and a numpy scale are accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from optable import DELTA_SPECS, GATED_SPECS, SPECS, Inputs, OpSpec, make_inputs, make_state

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
    "cu_seqlens-start": (
        _with(cu_seqlens=np.array([1, 4, T])),
        ValueError,
        "cu_seqlens must start at 0",
    ),
    "cu_seqlens-end-short": (
        _with(cu_seqlens=np.array([0, 4, T - 1])),
        ValueError,
        "cu_seqlens must start at 0 and end at T = 8",
    ),
    "cu_seqlens-end-long": (
        _with(cu_seqlens=np.array([0, 4, T + 1])),
        ValueError,
        "cu_seqlens must start at 0 and end at T = 8",
    ),
    "cu_seqlens-decreasing": (
        _with(cu_seqlens=np.array([0, 6, 4, T])),
        ValueError,
        "cu_seqlens must be non-decreasing",
    ),
    "cu_seqlens-batch-2": (_two_batches, ValueError, "cu_seqlens needs B == 1"),
    "cu_seqlens-float": (
        _with(cu_seqlens=np.array([0.0, 4.0, T])),
        TypeError,
        "cu_seqlens must be an integer array",
    ),
    "cu_seqlens-list": (_with(cu_seqlens=[0, 4, T]), TypeError, "cu_seqlens must be a numpy array"),
    "cu_seqlens-2d": (
        _with(cu_seqlens=np.array([[0, 4, T]])),
        ValueError,
        r"cu_seqlens must have shape \[N \+ 1\]",
    ),
    "cu_seqlens-one-entry": (
        _with(cu_seqlens=np.array([0])),
        ValueError,
        r"cu_seqlens must have shape \[N \+ 1\] with N >= 1",
    ),
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
