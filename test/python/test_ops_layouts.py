"""Memory layouts and variable-length batches for every op in `linac.ops`.

Covers non-contiguous inputs (steps along T and along the last axis, time-major memory viewed
as [B, T, H, K] with an offset, negative strides, zero-stride broadcasts of q, g and beta,
transposed and reversed initial states), which must give the results of contiguous copies;
inputs left unmodified; and varlen batches (B == 1 with cu_seqlens, including a zero-length
sequence) with per-sequence initial and final states, which must equal running each sequence
alone, and 150 short sequences in one batch. DeltaProduct's keys, values and step sizes carry
its sub-steps (n per token); cu_seqlens counts tokens. Strided inputs and varlen batches also
run the delta rules with their in-kernel options (q/k l2norm, sigmoid of beta).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from linac.reference import relative_rms_error
from optable import DELTA_SPECS, GATED_SPECS, OPTION_SPECS, SPECS, OpSpec, make_state

B, T, H, K, V = 2, 70, 2, 16, 64


def _every_other_token(x: np.ndarray) -> np.ndarray:
    return np.repeat(x, 2, axis=1)[:, ::2]


def _every_other_element(x: np.ndarray) -> np.ndarray:
    return np.repeat(x, 2, axis=-1)[..., ::2]


def _time_major_with_offset(x: np.ndarray) -> np.ndarray:
    """Stored as [T + 2, B, ...], viewed as [B, T, ...] from the second token on."""
    padded = np.concatenate([x[:, :1], x, x[:, -1:]], axis=1)
    return np.ascontiguousarray(np.swapaxes(padded, 0, 1)).swapaxes(0, 1)[:, 1:-1]


def _reversed_tokens(x: np.ndarray) -> np.ndarray:
    return x[:, ::-1]


def _reversed_last_axis(x: np.ndarray) -> np.ndarray:
    return x[..., ::-1]


LAYOUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "T-step-2": _every_other_token,
    "last-step-2": _every_other_element,
    "time-major-offset": _time_major_with_offset,
    "T-reversed": _reversed_tokens,
    "last-reversed": _reversed_last_axis,
}

# The same algorithm on the same values: only rounding may differ.
SAME_RESULT = {np.dtype(np.float32): 1e-6, np.dtype(np.float16): 1e-3}


def _assert_same(expected: np.ndarray, actual: np.ndarray) -> None:
    assert actual.dtype == expected.dtype
    assert relative_rms_error(expected, actual) <= SAME_RESULT[expected.dtype]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("spec", SPECS + OPTION_SPECS, ids=lambda spec: spec.id)
def test_strided_inputs_match_contiguous_copies(
    spec: OpSpec, layout: str, rng: np.random.Generator
) -> None:
    x = spec.inputs(rng, B, T, H, K, V).map(LAYOUTS[layout])
    assert not x.q.flags.c_contiguous
    s0 = make_state(rng, B, H, K, V)
    o, final_state = spec(x, initial_state=s0, output_final_state=True)
    expected_o, expected_final = spec(
        x.map(np.ascontiguousarray), initial_state=s0, output_final_state=True
    )
    _assert_same(expected_o, o)
    _assert_same(expected_final, final_state)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_negative_strides_in_float16(spec: OpSpec, rng: np.random.Generator) -> None:
    x = spec.inputs(rng, B, T, H, K, V, np.float16)
    o, _ = spec(x.map(_reversed_tokens))
    expected_o, _ = spec(x.map(lambda a: np.ascontiguousarray(a[:, ::-1])))
    _assert_same(expected_o, o)


@pytest.mark.parametrize("state_layout", ["transposed", "reversed"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_strided_initial_state(spec: OpSpec, state_layout: str, rng: np.random.Generator) -> None:
    x = spec.inputs(rng, B, T, H, K, V)
    s0 = make_state(rng, B, H, K, V)
    if state_layout == "transposed":
        strided = np.ascontiguousarray(s0.swapaxes(2, 3)).swapaxes(2, 3)
    else:
        strided = np.ascontiguousarray(s0[::-1, :, ::-1])[::-1, :, ::-1]
    np.testing.assert_array_equal(strided, s0)
    o, final_state = spec(x, initial_state=strided, output_final_state=True)
    expected_o, expected_final = spec(x, initial_state=s0, output_final_state=True)
    _assert_same(expected_o, o)
    _assert_same(expected_final, final_state)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_zero_stride_queries(spec: OpSpec, rng: np.random.Generator) -> None:
    x = spec.inputs(rng, B, T, H, K, V)
    broadcast = replace(x, q=np.broadcast_to(x.q[:, :1], x.q.shape))
    o, _ = spec(broadcast)
    expected_o, _ = spec(broadcast.map(np.ascontiguousarray))
    _assert_same(expected_o, o)


@pytest.mark.parametrize("axes", ["over-B-and-H", "over-T"])
@pytest.mark.parametrize("spec", GATED_SPECS, ids=lambda spec: spec.id)
def test_zero_stride_decays(spec: OpSpec, axes: str, rng: np.random.Generator) -> None:
    x = spec.inputs(rng, B, T, H, K, V)
    g = x.g[:1, :, :1] if axes == "over-B-and-H" else x.g[:, :1]
    broadcast = replace(x, g=np.broadcast_to(g, x.g.shape))
    assert 0 in broadcast.g.strides
    o, final_state = spec(broadcast, output_final_state=True)
    expected_o, expected_final = spec(
        replace(x, g=np.ascontiguousarray(broadcast.g)), output_final_state=True
    )
    ref_o, _ = spec.reference(broadcast)
    _assert_same(expected_o, o)
    _assert_same(expected_final, final_state)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)


@pytest.mark.parametrize("axes", ["over-B-and-H", "over-T"])
@pytest.mark.parametrize("spec", DELTA_SPECS, ids=lambda spec: spec.id)
def test_zero_stride_step_sizes(spec: OpSpec, axes: str, rng: np.random.Generator) -> None:
    x = spec.inputs(rng, B, T, H, K, V)
    beta = x.beta[:1, :, :1] if axes == "over-B-and-H" else x.beta[:, :1]
    broadcast = replace(x, beta=np.broadcast_to(beta, x.beta.shape))
    assert 0 in broadcast.beta.strides
    o, final_state = spec(broadcast, output_final_state=True)
    expected_o, expected_final = spec(
        replace(x, beta=np.ascontiguousarray(broadcast.beta)), output_final_state=True
    )
    ref_o, _ = spec.reference(broadcast)
    _assert_same(expected_o, o)
    _assert_same(expected_final, final_state)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_inputs_are_not_modified(spec: OpSpec, rng: np.random.Generator) -> None:
    x = spec.inputs(rng, 1, T, H, K, V)
    s0 = make_state(rng, 2, H, K, V)
    cu_seqlens = np.array([0, 30, T])
    arrays = (x.q, x.k, x.v, x.g, x.beta, s0, cu_seqlens)
    before = [a.copy() for a in arrays]
    spec(x, initial_state=s0, output_final_state=True, cu_seqlens=cu_seqlens)
    for original, after in zip(before, arrays):
        np.testing.assert_array_equal(after, original)


@pytest.mark.parametrize("with_state", [True, False], ids=["s0", "nos0"])
@pytest.mark.parametrize("lengths", [[1, 63, 200], [5, 0, 7]], ids=lambda n: "-".join(map(str, n)))
@pytest.mark.parametrize("spec", SPECS + OPTION_SPECS, ids=lambda spec: spec.id)
def test_varlen_equals_each_sequence_alone(
    spec: OpSpec, lengths: list[int], with_state: bool, rng: np.random.Generator
) -> None:
    cu_seqlens = np.concatenate([[0], np.cumsum(lengths)])
    N = len(lengths)
    x = spec.inputs(rng, 1, int(cu_seqlens[-1]), H, K, V)
    s0 = make_state(rng, N, H, K, V) if with_state else None

    o, final_state = spec(x, initial_state=s0, output_final_state=True, cu_seqlens=cu_seqlens)
    assert final_state.shape == (N, H, K, V)
    for n, (start, end) in enumerate(itertools.pairwise(cu_seqlens)):
        alone_o, alone_final = spec(
            x.tokens(start, end),
            initial_state=None if s0 is None else s0[n : n + 1],
            output_final_state=True,
        )
        assert relative_rms_error(alone_o, o[:, start:end]) <= 1e-5
        assert relative_rms_error(alone_final, final_state[n : n + 1]) <= 1e-5
    ref_o, ref_final = spec.reference(x, initial_state=s0, cu_seqlens=cu_seqlens)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, final_state) <= spec.tolerance(np.float32)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_varlen_with_many_short_sequences(spec: OpSpec, rng: np.random.Generator) -> None:
    lengths = rng.integers(0, 20, size=150)  # about one in twenty is empty
    cu_seqlens = np.concatenate([[0], np.cumsum(lengths)])
    x = spec.inputs(rng, 1, int(cu_seqlens[-1]), H, K, V)
    s0 = make_state(rng, len(lengths), H, K, V)
    o, final_state = spec(x, initial_state=s0, output_final_state=True, cu_seqlens=cu_seqlens)
    ref_o, ref_final = spec.reference(x, initial_state=s0, cu_seqlens=cu_seqlens)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, final_state) <= spec.tolerance(np.float32)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_outputs_start_on_cache_lines(spec: OpSpec, rng: np.random.Generator) -> None:
    """Outputs are allocated 64-byte aligned (numpy promises 16), so that the kernels' output
    rows start on cache lines; they are ordinary C-contiguous, writeable arrays."""
    x = spec.inputs(rng, B, T, H, K, V)
    o, final_state = spec(x, initial_state=None, output_final_state=True)
    for result in (o, final_state):
        assert result.ctypes.data % 64 == 0
        assert result.flags.c_contiguous and result.flags.writeable
    ref_o, _ = spec.reference(x, initial_state=None)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
