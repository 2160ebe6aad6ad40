"""Non-causal linear attention (`linear_attn_noncausal`) against its float64 reference.

Covers normalize=False (Gaussian q and k) and normalize=True (positive feature maps
exp(0.5 * randn), as it is used), sequence lengths 1, 63, 64, 65 and 300 with head sizes that
are not powers of two, float32 and float16; the default scale K ** -0.5 and an explicit one
(normalization divides it out); varlen batches (lengths 1, 63, 200 and 0) where each sequence
attends only to itself; that every query reads the whole sequence (reversing the tokens
reverses the outputs); and strided inputs equal to contiguous copies.
(Argument checks: test_validation.py.)
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from linac import ops, reference
from linac.reference import relative_rms_error
from optable import Inputs, make_inputs, tolerance

B, H = 2, 2
K, V = 48, 60  # head sizes of the float32 tests (float16 takes 16 and 64)

# (T, K, V, dtype)
CASES = [
    (1, K, V, np.float32),
    (63, K, V, np.float32),
    (64, K, V, np.float32),
    (65, K, V, np.float32),
    (300, K, V, np.float32),
    (1, 16, 64, np.float16),
    (130, 16, 64, np.float16),
]


def _case_id(case: tuple) -> str:
    T, K, V, dtype = case
    return f"T{T}-K{K}-V{V}-{np.dtype(dtype).name}"


def _normalize_id(normalize: bool) -> str:
    return "normalized" if normalize else "plain"


def _inputs(rng: np.random.Generator, b: int, T: int, K: int, V: int, dtype, normalize: bool):
    """Gaussian q, k, v; q and k positive (exp(0.5 * randn)) for normalized attention, whose
    normalizer q . sum(k) would otherwise cross zero."""
    x = make_inputs(rng, b, T, H, K, V, dtype)
    if normalize:
        x = replace(
            x,
            q=np.exp(0.5 * x.q.astype(np.float32)).astype(dtype),
            k=np.exp(0.5 * x.k.astype(np.float32)).astype(dtype),
        )
    return x


def _run(x: Inputs, normalize: bool, **kwargs) -> np.ndarray:
    return ops.linear_attn_noncausal(x.q, x.k, x.v, normalize=normalize, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.parametrize("normalize", [False, True], ids=_normalize_id)
def test_matches_reference(normalize: bool, case: tuple, rng: np.random.Generator) -> None:
    T, K, V, dtype = case
    x = _inputs(rng, B, T, K, V, dtype, normalize)
    o = _run(x, normalize)
    expected = reference.noncausal_linear_attn(x.q, x.k, x.v, normalize=normalize)
    assert isinstance(o, np.ndarray)
    assert o.shape == (B, T, H, V)
    assert o.dtype == np.dtype(dtype)
    assert relative_rms_error(expected, o) <= tolerance(dtype)


@pytest.mark.parametrize("normalize", [False, True], ids=_normalize_id)
def test_default_scale_is_inverse_sqrt_k(normalize: bool, rng: np.random.Generator) -> None:
    scale = 0.37
    x = _inputs(rng, B, 65, K, V, np.float32, normalize)
    default = _run(x, normalize)
    expected = reference.noncausal_linear_attn(x.q, x.k, x.v, scale=K**-0.5, normalize=normalize)
    assert relative_rms_error(expected, default) <= tolerance(np.float32)

    scaled = _run(x, normalize, scale=scale)
    expected = reference.noncausal_linear_attn(x.q, x.k, x.v, scale=scale, normalize=normalize)
    assert relative_rms_error(expected, scaled) <= tolerance(np.float32)
    factor = 1.0 if normalize else scale / K**-0.5  # normalization divides the scale out
    np.testing.assert_allclose(scaled, default * factor, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("lengths", [[1, 63, 200, 0], [0, 5, 0, 64]], ids=str)
@pytest.mark.parametrize("normalize", [False, True], ids=_normalize_id)
def test_varlen_each_sequence_attends_to_itself(
    normalize: bool, lengths: list[int], rng: np.random.Generator
) -> None:
    cu_seqlens = np.concatenate([[0], np.cumsum(lengths)])
    x = _inputs(rng, 1, int(cu_seqlens[-1]), K, V, np.float32, normalize)
    o = _run(x, normalize, cu_seqlens=cu_seqlens)
    assert o.shape == x.v.shape
    for start, end in itertools.pairwise(cu_seqlens):
        alone = _run(x.tokens(start, end), normalize)
        assert relative_rms_error(alone, o[:, start:end]) <= 1e-6
    expected = reference.noncausal_linear_attn(
        x.q, x.k, x.v, normalize=normalize, cu_seqlens=cu_seqlens
    )
    assert relative_rms_error(expected, o) <= tolerance(np.float32)
    # Without cu_seqlens the tokens attend to the whole batch row: different outputs.
    assert relative_rms_error(_run(x, normalize), o) > 1e-2


@pytest.mark.parametrize("normalize", [False, True], ids=_normalize_id)
def test_every_query_reads_the_whole_sequence(normalize: bool, rng: np.random.Generator) -> None:
    x = _inputs(rng, B, 100, K, V, np.float32, normalize)
    o = _run(x, normalize)
    reversed_o = _run(x.map(lambda a: np.ascontiguousarray(a[:, ::-1])), normalize)
    assert relative_rms_error(o[:, ::-1], reversed_o) <= 1e-6


def _time_major_with_offset(a: np.ndarray) -> np.ndarray:
    """Stored as [T + 2, B, ...], viewed as [B, T, ...] from the second token on."""
    padded = np.concatenate([a[:, :1], a, a[:, -1:]], axis=1)
    return np.ascontiguousarray(np.swapaxes(padded, 0, 1)).swapaxes(0, 1)[:, 1:-1]


LAYOUTS = {
    "T-step-2": lambda a: np.repeat(a, 2, axis=1)[:, ::2],
    "last-step-2": lambda a: np.repeat(a, 2, axis=-1)[..., ::2],
    "time-major-offset": _time_major_with_offset,
    "T-reversed": lambda a: a[:, ::-1],
    "last-reversed": lambda a: a[..., ::-1],
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("normalize", [False, True], ids=_normalize_id)
def test_strided_inputs_match_contiguous_copies(
    normalize: bool, layout: str, rng: np.random.Generator
) -> None:
    x = _inputs(rng, B, 70, K, V, np.float32, normalize).map(LAYOUTS[layout])
    assert not x.q.flags.c_contiguous
    o = _run(x, normalize)
    expected = _run(x.map(np.ascontiguousarray), normalize)
    assert o.dtype == expected.dtype
    assert relative_rms_error(expected, o) <= 1e-6
