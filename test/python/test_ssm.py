"""The Mamba ops (mamba_ssm's signatures) against their float64 step-by-step references.

Mamba-2 (`mamba_chunk_scan_combined` and `fused_recurrent_mamba2`): with and without D (per
head `[h]` and per channel `[h, p]`), the silu(z) gate, dt_bias and dt_softplus, initial and
final states; ngroups 1, 2 and 4 for 4 heads; chunk sizes 16, 32, 64, 128 and 256 with
sequence lengths that are not multiples of them; headdim and dstate that are not powers of two
(48 and 12) and mamba2's own (64 and 128); float32 and float16. Also: varlen batches (lengths
1, 63, 200 and 0) equal to running each sequence alone; decoding token by token with
fused_recurrent_mamba2 (final states passed back as initial states) equal to the chunked op on
the whole sequence, and the chunked op continuing from its own final states; time steps of
1000 (decays of -500 to -4000: the state is reset, nothing turns NaN); strided inputs
(time-major and head-major memory, steps, negative strides, zero strides, views into one
in_proj output as in mamba_ssm) equal to contiguous copies; and final states in mamba_ssm's
layout `[b, h, p, n]`.

Mamba-1 (`selective_scan_fn`): channels-first u, delta and z `[b, d, l]`; B and C `[b, n, l]`
and grouped `[b, g, n, l]` (1, 2 and 3 groups, also one of each layout); with and without D,
z, delta_bias and delta_softplus; return_last_state; running in pieces, passing the last state
as the next initial state, equal to one run; varlen; time steps of 1000; float16 u, B, C and
z; and the strided views of mamba_ssm's Mamba-1 block (channels first over token-major memory)
equal to contiguous copies.
(Argument checks: test_validation.py; 65536-token sequences: test_numerical_stress.py.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pytest
from linac import ops, reference
from linac.reference import relative_rms_error
from optable import (
    Mamba2Inputs,
    SelectiveScanInputs,
    call_mamba2,
    make_mamba2_inputs,
    make_selective_scan_inputs,
    tolerance,
)

MAMBA2_OPS = [ops.mamba_chunk_scan_combined, ops.fused_recurrent_mamba2]
# The same algorithm on the same values: only rounding may differ.
SAME_RESULT = {np.dtype(np.float32): 1e-6, np.dtype(np.float16): 1e-3}


def _op_id(op: Callable) -> str:
    return {"mamba_chunk_scan_combined": "chunk", "fused_recurrent_mamba2": "recurrent"}[
        op.__name__
    ]


def _assert_same(expected: np.ndarray, actual: np.ndarray) -> None:
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    assert relative_rms_error(expected, actual) <= SAME_RESULT[expected.dtype]


# --- Mamba-2 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mamba2Case:
    """One configuration of a Mamba-2 call."""

    T: int
    chunk_size: int
    groups: int
    D: str | None  # None, "head" (`[h]`) or "channel" (`[h, p]`)
    z: bool
    dt_bias: bool
    softplus: bool
    with_state: bool
    final: bool
    dtype: type = np.float32
    H: int = 4
    P: int = 48
    N: int = 12

    @property
    def id(self) -> str:
        parts = [
            f"T{self.T}",
            f"cs{self.chunk_size}",
            f"h{self.H}g{self.groups}p{self.P}n{self.N}",
            np.dtype(self.dtype).name,
            f"D-{self.D}" if self.D else "noD",
        ]
        parts += [name for name, on in (("z", self.z), ("bias", self.dt_bias)) if on]
        parts += ["softplus" if self.softplus else "nosoftplus"]
        parts += ["s0" if self.with_state else "nos0", "final" if self.final else "nofinal"]
        return "-".join(parts)

    def inputs(self, rng: np.random.Generator, b: int = 2) -> Mamba2Inputs:
        return make_mamba2_inputs(
            rng, b, self.T, self.H, self.P, self.groups, self.N, self.dtype, self.softplus
        )

    def options(self, x: Mamba2Inputs) -> dict:
        """D, z, dt_bias and dt_softplus of the call (as the reference takes them)."""
        D = {None: None, "head": x.D[:, 0], "channel": x.D}[self.D]
        return {
            "D": D,
            "z": x.z if self.z else None,
            "dt_bias": x.dt_bias if self.dt_bias else None,
            "dt_softplus": self.softplus,
        }


MAMBA2_CASES = [
    Mamba2Case(1, 64, 1, None, False, False, False, True, True),
    Mamba2Case(63, 16, 2, "head", True, True, False, False, True),
    Mamba2Case(200, 128, 4, "channel", False, True, True, True, False),
    Mamba2Case(300, 64, 1, "head", True, False, True, True, True),
    Mamba2Case(100, 32, 2, "channel", False, False, False, False, False),
    # mamba2's own head sizes (headdim 64, dstate 128) and the largest chunks.
    Mamba2Case(300, 256, 1, "head", True, True, True, True, True, H=2, P=64, N=128),
    Mamba2Case(130, 64, 2, "head", True, True, True, True, True, np.float16),
    Mamba2Case(65, 64, 1, None, False, False, True, False, True, np.float16),
]
# The configuration of the varlen, decode and layout tests (its kernels are compiled once).
BASE = Mamba2Case(70, 64, 1, "head", True, True, True, True, True)


def _state(rng: np.random.Generator, case: Mamba2Case, N: int) -> np.ndarray:
    """A random float32 state `[N, h, p, n]`."""
    return rng.standard_normal((N, case.H, case.P, case.N)).astype(np.float32)


@pytest.mark.parametrize("case", MAMBA2_CASES, ids=lambda case: case.id)
@pytest.mark.parametrize("op", MAMBA2_OPS, ids=_op_id)
def test_mamba2_matches_reference(op: Callable, case: Mamba2Case, rng: np.random.Generator):
    b = 2
    x = case.inputs(rng, b)
    options = case.options(x)
    s0 = _state(rng, case, b) if case.with_state else None

    result = call_mamba2(
        op,
        x,
        case.chunk_size,
        initial_states=s0,
        return_final_states=case.final,
        **options,
    )
    ref_y, ref_final = reference.mamba2(x.x, x.dt, x.A, x.B, x.C, initial_states=s0, **options)

    y = result[0] if case.final else result
    assert isinstance(y, np.ndarray)
    assert y.shape == (b, case.T, case.H, case.P)
    assert y.dtype == np.dtype(case.dtype)
    assert relative_rms_error(ref_y, y) <= tolerance(case.dtype)
    if case.final:
        final = result[1]
        assert final.shape == (b, case.H, case.P, case.N)
        assert final.dtype == np.float32
        assert relative_rms_error(ref_final, final) <= tolerance(case.dtype)


@pytest.mark.parametrize("op", MAMBA2_OPS, ids=_op_id)
def test_mamba2_final_states_are_batch_heads_headdim_dstate(
    op: Callable, rng: np.random.Generator
) -> None:
    # After one token from a zero state, the state of head h is dt * outer(x_h, B_group):
    # headdim rows, dstate columns (mamba_ssm's [b, h, p, n]), exactly where they belong.
    case = replace(BASE, T=1, groups=2)
    x = case.inputs(rng)
    _, final = call_mamba2(op, x, dt_softplus=False, return_final_states=True)
    dt = x.dt[:, 0].astype(np.float64)  # [b, h]
    group = np.arange(case.H) // (case.H // case.groups)
    expected = dt[..., None, None] * np.einsum("bhp,bhn->bhpn", x.x[:, 0], x.B[:, 0, group])
    assert final.shape == (2, case.H, case.P, case.N)
    assert final.flags.c_contiguous
    np.testing.assert_allclose(final, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("lengths", [[1, 63, 200, 0], [0, 5, 0, 64]], ids=str)
@pytest.mark.parametrize("op", MAMBA2_OPS, ids=_op_id)
def test_mamba2_varlen_equals_each_sequence_alone(
    op: Callable, lengths: list[int], rng: np.random.Generator
) -> None:
    cu_seqlens = np.concatenate([[0], np.cumsum(lengths)])
    case = replace(BASE, T=int(cu_seqlens[-1]))
    x = case.inputs(rng, 1)
    options = case.options(x)
    s0 = _state(rng, case, len(lengths))

    y, final = call_mamba2(
        op, x, initial_states=s0, return_final_states=True, cu_seqlens=cu_seqlens, **options
    )
    assert y.shape == x.x.shape
    assert final.shape == (len(lengths), case.H, case.P, case.N)
    for n, (start, end) in enumerate(itertools.pairwise(cu_seqlens)):
        alone_y, alone_final = call_mamba2(
            op,
            x.tokens(start, end),
            initial_states=s0[n : n + 1],
            return_final_states=True,
            **{**options, "z": options["z"][:, start:end]},
        )
        assert relative_rms_error(alone_y, y[:, start:end]) <= 1e-5
        assert relative_rms_error(alone_final, final[n : n + 1]) <= 1e-5
        if start == end:
            np.testing.assert_array_equal(final[n], s0[n])
    ref_y, ref_final = reference.mamba2(
        x.x, x.dt, x.A, x.B, x.C, initial_states=s0, cu_seqlens=cu_seqlens, **options
    )
    assert relative_rms_error(ref_y, y) <= tolerance(np.float32)
    assert relative_rms_error(ref_final, final) <= tolerance(np.float32)


def test_mamba2_decoding_token_by_token_matches_chunk(rng: np.random.Generator) -> None:
    case = replace(BASE, T=65)
    x = case.inputs(rng)
    options = case.options(x)
    s0 = _state(rng, case, 2)

    expected_y, expected_final = call_mamba2(
        ops.mamba_chunk_scan_combined, x, initial_states=s0, return_final_states=True, **options
    )
    states, outputs = s0, []
    for t in range(case.T):
        token = x.tokens(t, t + 1)
        y_t, states = ops.fused_recurrent_mamba2(
            token.x,
            token.dt,
            token.A,
            token.B,
            token.C,
            initial_states=states,
            return_final_states=True,
            **{**options, "z": token.z},
        )
        outputs.append(y_t)

    assert relative_rms_error(expected_y, np.concatenate(outputs, axis=1)) <= 1e-5
    assert relative_rms_error(expected_final, states) <= 1e-5


def test_mamba2_chunk_continues_from_its_final_states(rng: np.random.Generator) -> None:
    # Pieces of 37, 63 and 100 tokens (chunks of 64): each starts inside a chunk.
    case = replace(BASE, T=200)
    x = case.inputs(rng)
    options = case.options(x)
    s0 = _state(rng, case, 2)
    expected_y, expected_final = call_mamba2(
        ops.mamba_chunk_scan_combined, x, initial_states=s0, return_final_states=True, **options
    )
    states, outputs = s0, []
    for start, end in itertools.pairwise([0, 37, 100, 200]):
        piece = x.tokens(start, end)
        y, states = call_mamba2(
            ops.mamba_chunk_scan_combined,
            piece,
            initial_states=states,
            return_final_states=True,
            **{**options, "z": piece.z},
        )
        outputs.append(y)
    assert relative_rms_error(expected_y, np.concatenate(outputs, axis=1)) <= 1e-5
    assert relative_rms_error(expected_final, states) <= 1e-5


@pytest.mark.parametrize("op", MAMBA2_OPS, ids=_op_id)
def test_mamba2_large_time_steps_reset_the_state(op: Callable, rng: np.random.Generator) -> None:
    # dt = 1000 (softplus leaves it as it is): exp(dt * A) = 0, the state before is forgotten,
    # inside a chunk (token 100) and on a chunk boundary (token 128).
    x = replace(BASE, T=200).inputs(rng)
    dt = x.dt.copy()
    dt[:, [100, 128]] = 1000.0
    x = replace(x, dt=dt)
    options = BASE.options(x)
    s0 = _state(rng, BASE, 2)
    y, final = call_mamba2(op, x, initial_states=s0, return_final_states=True, **options)
    ref_y, ref_final = reference.mamba2(x.x, x.dt, x.A, x.B, x.C, initial_states=s0, **options)
    assert np.isfinite(y).all() and np.isfinite(final).all()
    assert relative_rms_error(ref_y, y) <= tolerance(np.float32)
    assert relative_rms_error(ref_final, final) <= tolerance(np.float32)
    alone_y, alone_final = call_mamba2(
        op, x.tokens(128, 200), return_final_states=True, **{**options, "z": x.z[:, 128:]}
    )
    assert relative_rms_error(alone_y, y[:, 128:]) <= 1e-6
    assert relative_rms_error(alone_final, final) <= 1e-6


def _every_other_token(a: np.ndarray) -> np.ndarray:
    return np.repeat(a, 2, axis=1)[:, ::2]


def _time_major_with_offset(a: np.ndarray) -> np.ndarray:
    """Stored as [T + 2, b, ...], viewed as [b, T, ...] from the second token on."""
    padded = np.concatenate([a[:, :1], a, a[:, -1:]], axis=1)
    return np.ascontiguousarray(np.swapaxes(padded, 0, 1)).swapaxes(0, 1)[:, 1:-1]


def _head_major(a: np.ndarray) -> np.ndarray:
    """Stored with the time axis innermost ([b, ..., T]), viewed as [b, T, ...]."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)


MAMBA2_LAYOUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "T-step-2": _every_other_token,
    "time-major-offset": _time_major_with_offset,
    "head-major": _head_major,
    "T-reversed": lambda a: a[:, ::-1],
    "last-reversed": lambda a: a[..., ::-1],
}


@pytest.mark.parametrize("layout", MAMBA2_LAYOUTS)
@pytest.mark.parametrize("op", MAMBA2_OPS, ids=_op_id)
def test_mamba2_strided_inputs_match_contiguous_copies(
    op: Callable, layout: str, rng: np.random.Generator
) -> None:
    x = BASE.inputs(rng).map(MAMBA2_LAYOUTS[layout])
    assert not x.x.flags.c_contiguous and not x.B.flags.c_contiguous
    s0 = _state(rng, BASE, 2)
    # The initial states stored as [b, h, n, p] and viewed as [b, h, p, n].
    s0_view = np.ascontiguousarray(s0.swapaxes(2, 3)).swapaxes(2, 3)
    D = np.ascontiguousarray(x.D.T).T  # [h, p] stored as [p, h]
    y, final = call_mamba2(
        op,
        x,
        D=D,
        z=x.z,
        dt_bias=x.dt_bias,
        dt_softplus=True,
        initial_states=s0_view,
        return_final_states=True,
    )
    contiguous = x.map(np.ascontiguousarray)
    expected_y, expected_final = call_mamba2(
        op,
        contiguous,
        D=np.ascontiguousarray(D),
        z=contiguous.z,
        dt_bias=x.dt_bias,
        dt_softplus=True,
        initial_states=s0,
        return_final_states=True,
    )
    _assert_same(expected_y, y)
    _assert_same(expected_final, final)


@pytest.mark.parametrize("op", MAMBA2_OPS, ids=_op_id)
def test_mamba2_views_into_one_projection(op: Callable, rng: np.random.Generator) -> None:
    # mamba_ssm's Mamba2 block splits one in_proj output [b, l, d_in_proj] into z, x, B, C and
    # dt along its last axis and reshapes them: views with a token stride of d_in_proj.
    b, L, h, p, g, n = 2, BASE.T, BASE.H, BASE.P, 2, BASE.N
    widths = [h * p, h * p, g * n, g * n, h]
    zxbcdt = rng.standard_normal((b, L, sum(widths))).astype(np.float32)
    z, x, B, C, dt = np.split(zxbcdt, np.cumsum(widths)[:-1], axis=-1)
    z, x = z.reshape(b, L, h, p), x.reshape(b, L, h, p)
    B, C = B.reshape(b, L, g, n), C.reshape(b, L, g, n)
    assert all(np.shares_memory(a, zxbcdt) for a in (z, x, B, C, dt))
    inputs = make_mamba2_inputs(rng, b, L, h, p, g, n)
    views = replace(inputs, x=x, dt=dt, B=B, C=C, z=z)
    options = {"D": inputs.D[:, 0], "dt_bias": inputs.dt_bias, "dt_softplus": True}

    y, final = call_mamba2(op, views, z=z, return_final_states=True, **options)
    contiguous = views.map(np.ascontiguousarray)
    expected_y, expected_final = call_mamba2(
        op, contiguous, z=contiguous.z, return_final_states=True, **options
    )
    _assert_same(expected_y, y)
    _assert_same(expected_final, final)
    ref_y, ref_final = reference.mamba2(x, dt, views.A, B, C, z=z, **options)
    assert relative_rms_error(ref_y, y) <= tolerance(np.float32)
    assert relative_rms_error(ref_final, final) <= tolerance(np.float32)


@pytest.mark.parametrize("op", MAMBA2_OPS, ids=_op_id)
def test_mamba2_zero_stride_inputs(op: Callable, rng: np.random.Generator) -> None:
    # dt shared by the heads and D broadcast over headdim: zero strides.
    x = BASE.inputs(rng)
    x = replace(x, dt=np.broadcast_to(x.dt[..., :1], x.dt.shape))
    D = np.broadcast_to(x.D[:, :1], x.D.shape)
    assert 0 in x.dt.strides and 0 in D.strides
    y, final = call_mamba2(op, x, D=D, z=x.z, dt_softplus=True, return_final_states=True)
    expected_y, expected_final = call_mamba2(
        op,
        replace(x, dt=np.ascontiguousarray(x.dt)),
        D=np.ascontiguousarray(D),
        z=x.z,
        dt_softplus=True,
        return_final_states=True,
    )
    _assert_same(expected_y, y)
    _assert_same(expected_final, final)


@pytest.mark.parametrize("op", MAMBA2_OPS, ids=_op_id)
def test_mamba2_inputs_are_not_modified(op: Callable, rng: np.random.Generator) -> None:
    x = BASE.inputs(rng, 1)
    cu_seqlens = np.array([0, 30, BASE.T])
    s0 = _state(rng, BASE, 2)
    arrays = (x.x, x.dt, x.A, x.B, x.C, x.z, x.D, x.dt_bias, s0, cu_seqlens)
    before = [a.copy() for a in arrays]
    call_mamba2(
        op,
        x,
        D=x.D,
        z=x.z,
        dt_bias=x.dt_bias,
        dt_softplus=True,
        initial_states=s0,
        return_final_states=True,
        cu_seqlens=cu_seqlens,
    )
    for original, after in zip(before, arrays):
        np.testing.assert_array_equal(after, original)


# --- Mamba-1 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanCase:
    """One configuration of a selective_scan_fn call."""

    T: int
    b_groups: int | None  # None: B is [b, n, l]
    c_groups: int | None
    D: bool
    z: bool
    delta_bias: bool
    softplus: bool
    with_state: bool
    last: bool
    dtype: type = np.float32
    d: int = 24
    N: int = 12

    @property
    def id(self) -> str:
        def layout(groups):
            return "bnl" if groups is None else f"g{groups}"

        parts = [
            f"T{self.T}",
            f"d{self.d}n{self.N}",
            f"B-{layout(self.b_groups)}",
            f"C-{layout(self.c_groups)}",
            np.dtype(self.dtype).name,
        ]
        flags = (("D", self.D), ("z", self.z), ("bias", self.delta_bias))
        parts += [name for name, on in flags if on]
        parts += ["softplus" if self.softplus else "nosoftplus"]
        parts += ["s0" if self.with_state else "nos0", "last" if self.last else "nolast"]
        return "-".join(parts)

    def inputs(self, rng: np.random.Generator, b: int = 2) -> SelectiveScanInputs:
        return make_selective_scan_inputs(
            rng, b, self.d, self.T, self.N, self.dtype, self.softplus, self.b_groups, self.c_groups
        )

    def options(self, x: SelectiveScanInputs) -> dict:
        """D, z, delta_bias and delta_softplus of the call (as the reference takes them)."""
        return {
            "D": x.D if self.D else None,
            "z": x.z if self.z else None,
            "delta_bias": x.delta_bias if self.delta_bias else None,
            "delta_softplus": self.softplus,
        }


SCAN_CASES = [
    ScanCase(1, None, None, False, False, False, False, True, True),
    ScanCase(63, 2, 2, True, True, True, True, False, True),
    # B and C in different layouts, with one group each.
    ScanCase(200, None, 1, True, False, True, True, True, False),
    ScanCase(300, 1, None, True, True, False, False, True, True, d=16, N=16),
    ScanCase(130, 3, 3, True, True, True, True, True, True, np.float16),
    ScanCase(65, None, None, False, False, False, True, False, True, np.float16),
]
SCAN_BASE = ScanCase(150, 2, 2, True, True, True, True, True, True)


def _scan(x: SelectiveScanInputs, options: dict, **kwargs):
    return ops.selective_scan_fn(x.u, x.delta, x.A, x.B, x.C, **options, **kwargs)


def _scan_state(rng: np.random.Generator, case: ScanCase, N: int) -> np.ndarray:
    return rng.standard_normal((N, case.d, case.N)).astype(np.float32)


@pytest.mark.parametrize("case", SCAN_CASES, ids=lambda case: case.id)
def test_selective_scan_matches_reference(case: ScanCase, rng: np.random.Generator) -> None:
    b = 2
    x = case.inputs(rng, b)
    options = case.options(x)
    s0 = _scan_state(rng, case, b) if case.with_state else None

    result = _scan(x, options, return_last_state=case.last, initial_state=s0)
    ref_y, ref_last = reference.selective_scan(
        x.u, x.delta, x.A, x.B, x.C, initial_state=s0, **options
    )

    y = result[0] if case.last else result
    assert isinstance(y, np.ndarray)
    assert y.shape == (b, case.d, case.T)
    assert y.dtype == np.dtype(case.dtype)
    assert relative_rms_error(ref_y, y) <= tolerance(case.dtype)
    if case.last:
        last = result[1]
        assert last.shape == (b, case.d, case.N)
        assert last.dtype == np.float32
        assert relative_rms_error(ref_last, last) <= tolerance(case.dtype)


@pytest.mark.parametrize("splits", [[0, 75, 150], [0, 1, 64, 150]], ids=str)
def test_selective_scan_continues_from_its_last_state(
    splits: list[int], rng: np.random.Generator
) -> None:
    x = SCAN_BASE.inputs(rng)
    options = SCAN_BASE.options(x)
    s0 = _scan_state(rng, SCAN_BASE, 2)
    expected_y, expected_last = _scan(x, options, return_last_state=True, initial_state=s0)
    state, outputs = s0, []
    for start, end in itertools.pairwise(splits):
        piece = x.tokens(start, end)
        y, state = _scan(
            piece, {**options, "z": piece.z}, return_last_state=True, initial_state=state
        )
        outputs.append(y)
    assert relative_rms_error(expected_y, np.concatenate(outputs, axis=-1)) <= 1e-5
    assert relative_rms_error(expected_last, state) <= 1e-5


@pytest.mark.parametrize("lengths", [[1, 63, 200, 0], [0, 5, 0, 64]], ids=str)
def test_selective_scan_varlen_equals_each_sequence_alone(
    lengths: list[int], rng: np.random.Generator
) -> None:
    cu_seqlens = np.concatenate([[0], np.cumsum(lengths)])
    case = replace(SCAN_BASE, T=int(cu_seqlens[-1]))
    x = case.inputs(rng, 1)
    options = case.options(x)
    s0 = _scan_state(rng, case, len(lengths))

    y, last = _scan(x, options, return_last_state=True, initial_state=s0, cu_seqlens=cu_seqlens)
    assert y.shape == x.u.shape
    assert last.shape == (len(lengths), case.d, case.N)
    for n, (start, end) in enumerate(itertools.pairwise(cu_seqlens)):
        piece = x.tokens(start, end)
        alone_y, alone_last = _scan(
            piece, {**options, "z": piece.z}, return_last_state=True, initial_state=s0[n : n + 1]
        )
        assert relative_rms_error(alone_y, y[..., start:end]) <= 1e-5
        assert relative_rms_error(alone_last, last[n : n + 1]) <= 1e-5
        ref_y, ref_last = reference.selective_scan(
            piece.u,
            piece.delta,
            x.A,
            piece.B,
            piece.C,
            initial_state=s0[n : n + 1],
            **{**options, "z": piece.z},
        )
        assert relative_rms_error(ref_y, y[..., start:end]) <= tolerance(np.float32)
        assert relative_rms_error(ref_last, last[n : n + 1]) <= tolerance(np.float32)


def test_selective_scan_large_time_steps_reset_the_state(rng: np.random.Generator) -> None:
    x = SCAN_BASE.inputs(rng)
    delta = x.delta.copy()
    delta[..., [70, 128]] = 1000.0
    x = replace(x, delta=delta)
    options = SCAN_BASE.options(x)
    s0 = _scan_state(rng, SCAN_BASE, 2)
    y, last = _scan(x, options, return_last_state=True, initial_state=s0)
    ref_y, ref_last = reference.selective_scan(
        x.u, x.delta, x.A, x.B, x.C, initial_state=s0, **options
    )
    assert np.isfinite(y).all() and np.isfinite(last).all()
    assert relative_rms_error(ref_y, y) <= tolerance(np.float32)
    assert relative_rms_error(ref_last, last) <= tolerance(np.float32)


def _channels_last(a: np.ndarray) -> np.ndarray:
    """Stored token-major ([b, T, ...]), viewed channels first ([b, ..., T])."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, -1, 1)), 1, -1)


SCAN_LAYOUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "channels-last": _channels_last,
    "T-step-2": lambda a: np.repeat(a, 2, axis=-1)[..., ::2],
    "T-reversed": lambda a: a[..., ::-1],
    "batch-reversed": lambda a: a[::-1],
}


@pytest.mark.parametrize("layout", SCAN_LAYOUTS)
def test_selective_scan_strided_inputs_match_contiguous_copies(
    layout: str, rng: np.random.Generator
) -> None:
    x = SCAN_BASE.inputs(rng).map(SCAN_LAYOUTS[layout])
    assert not x.u.flags.c_contiguous and not x.B.flags.c_contiguous
    options = SCAN_BASE.options(x)
    s0 = _scan_state(rng, SCAN_BASE, 2)
    s0_view = np.ascontiguousarray(s0.swapaxes(1, 2)).swapaxes(1, 2)  # stored [b, n, d]
    A = np.ascontiguousarray(x.A.T).T  # stored [n, d]
    y, last = _scan(replace(x, A=A), options, return_last_state=True, initial_state=s0_view)
    contiguous = x.map(np.ascontiguousarray)
    expected_y, expected_last = _scan(
        contiguous, {**options, "z": contiguous.z}, return_last_state=True, initial_state=s0
    )
    _assert_same(expected_y, y)
    _assert_same(expected_last, last)


def test_selective_scan_views_of_the_mamba1_block(rng: np.random.Generator) -> None:
    # mamba_ssm's Mamba block: xz = in_proj(hidden) is token-major [b, l, 2d] viewed channels
    # first and split into u and z; B and C are slices of x_proj's output [(b l), r + 2n]
    # rearranged to [b, n, l]; delta is dt_proj's output [b, l, d] viewed as [b, d, l].
    b, L, d, n, r = 2, 150, 24, 12, 3
    xz = rng.standard_normal((b, L, 2 * d)).astype(np.float32).transpose(0, 2, 1)
    u, z = xz[:, :d], xz[:, d:]
    x_dbl = rng.standard_normal((b * L, r + 2 * n)).astype(np.float32)
    B = x_dbl[:, r : r + n].reshape(b, L, n).transpose(0, 2, 1)
    C = x_dbl[:, r + n :].reshape(b, L, n).transpose(0, 2, 1)
    delta = rng.uniform(-5.0, 1.0, (b, L, d)).astype(np.float32).transpose(0, 2, 1)
    assert np.shares_memory(B, x_dbl) and np.shares_memory(u, xz)
    inputs = make_selective_scan_inputs(rng, b, d, L, n)
    views = replace(inputs, u=u, delta=delta, B=B, C=C, z=z)
    options = {"D": inputs.D, "z": z, "delta_bias": inputs.delta_bias, "delta_softplus": True}

    y, last = _scan(views, options, return_last_state=True)
    contiguous = views.map(np.ascontiguousarray)
    expected_y, expected_last = _scan(
        contiguous, {**options, "z": contiguous.z}, return_last_state=True
    )
    _assert_same(expected_y, y)
    _assert_same(expected_last, last)
    ref_y, ref_last = reference.selective_scan(u, delta, views.A, B, C, **options)
    assert relative_rms_error(ref_y, y) <= tolerance(np.float32)
    assert relative_rms_error(ref_last, last) <= tolerance(np.float32)


def test_selective_scan_inputs_are_not_modified(rng: np.random.Generator) -> None:
    x = SCAN_BASE.inputs(rng, 1)
    cu_seqlens = np.array([0, 30, SCAN_BASE.T])
    s0 = _scan_state(rng, SCAN_BASE, 2)
    arrays = (x.u, x.delta, x.A, x.B, x.C, x.z, x.D, x.delta_bias, s0, cu_seqlens)
    before = [a.copy() for a in arrays]
    _scan(
        x,
        SCAN_BASE.options(x),
        return_last_state=True,
        initial_state=s0,
        cu_seqlens=cu_seqlens,
    )
    for original, after in zip(before, arrays):
        np.testing.assert_array_equal(after, original)
