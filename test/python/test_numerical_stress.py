"""Numerical stress: inputs at the edges of what the recurrences allow, against float64.

Covers a 65536-token sequence with strong decays (g about -5: a cumulative sum of g over the
sequence reaches -3e5, whose exponential differences overflow) and step sizes near 2 (the
delta rules' negative eigenvalues); decays near 0 (-1e-6) and near -20; closed gates
(g = -inf, and -1e30) in the middle of a sequence and on either side of a chunk boundary, which
must reset the state exactly (the chunked forms exponentiate sums of gates over windows, never
differences of cumulative sums, so nothing before a closed gate can leak through it, not even
rounding); gates closed on some key channels only (GLA), also on the edges of its sub-chunks;
step sizes of exactly 0 (the state
is unchanged by those tokens or sub-steps) and exactly 2 (reflections), also through the
in-kernel sigmoid; keys of norm 100 with plain updates, or with the delta rules' in-kernel
l2norm; and the in-kernel l2norm of vectors of norm 1e-3 (where its epsilon matters). The Mamba ops
(mamba_chunk_scan_combined and selective_scan_fn) on 65536 tokens with dt_softplus and decays
dt * A from about -5 to about 0 per token.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from linac import ops
from linac.ops import _recurrence
from linac.reference import relative_rms_error
from optable import (
    DELTA_SPECS,
    GATED_SPECS,
    NEG_EIGVAL,
    OPTION_SPECS,
    SPEC_BY_KERNEL,
    SPECS,
    Inputs,
    OpSpec,
    compile_kernels_with,
    l2_normalized,
    make_mamba2_inputs,
    make_selective_scan_inputs,
    make_state,
)

H, K, V = 2, 16, 64


def _scan(q, k, v, g=None, beta=None, s0=None) -> tuple[np.ndarray, np.ndarray]:
    """The recurrence for one sequence and one head in float64: q, k `[T, K]`, v `[T, V]`,
    g None, `[T]` or `[T, K]`, beta None or `[T]`; returns (o `[T, V]`, final state).

    Written for speed on long sequences (one token a step, nothing else in the loop) and
    independent of linac; readout after the update, scale K ** -0.5."""
    T, dim_k = q.shape
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    S = np.zeros((dim_k, v.shape[1])) if s0 is None else np.array(s0, dtype=np.float64)
    decay = None if g is None else np.exp(np.asarray(g, dtype=np.float64))
    if decay is not None and decay.ndim == 2:
        decay = decay[:, :, None]  # one factor per row of S
    beta_k = None if beta is None else np.asarray(beta, dtype=np.float64)[:, None] * k
    o = np.empty((T, v.shape[1]))
    for t in range(T):
        if decay is not None:
            S *= decay[t]
        if beta_k is None:
            S += k[t][:, None] * v[t]
        else:
            S += beta_k[t][:, None] * (v[t] - k[t] @ S)
        o[t] = q[t] @ S
    return dim_k**-0.5 * o, S


@pytest.mark.parametrize(
    "spec",
    [
        SPEC_BY_KERNEL[name]
        for name in ("chunk_simple_gla", "chunk_gla", "chunk_gated_delta_rule", "chunk_delta_rule")
    ],
    ids=lambda spec: spec.id,
)
def test_long_sequence_with_strong_decays(spec: OpSpec, rng: np.random.Generator) -> None:
    T, dim = 65536, 16  # small heads keep the float64 loop at about a second
    x = spec.inputs(rng, 1, T, 1, dim, dim)
    x = replace(
        x,
        g=(-5.0 + rng.uniform(-0.5, 0.5, x.g.shape)).astype(np.float32),
        beta=rng.uniform(1.9, 2.0, x.beta.shape).astype(np.float32),
    )
    s0 = make_state(rng, 1, 1, dim, dim)

    o, final_state = spec(x, initial_state=s0, output_final_state=True)
    ref_o, ref_final = _scan(
        x.q[0, :, 0],
        x.k[0, :, 0],
        x.v[0, :, 0],
        g=x.g[0, :, 0] if spec.gate else None,
        beta=x.beta[0, :, 0] if spec.delta else None,
        s0=s0[0, 0],
    )

    assert np.isfinite(o).all() and np.isfinite(final_state).all()
    assert relative_rms_error(ref_o, o[0, :, 0]) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, final_state[0, 0]) <= spec.tolerance(np.float32)


def _check_finite_against_reference(spec: OpSpec, x: Inputs, s0: np.ndarray) -> None:
    """Runs ``spec`` on ``x`` from state ``s0``: a finite output, and output and final state
    within the op's float32 tolerance of the float64 step-by-step reference."""
    o, final_state = spec(x, initial_state=s0, output_final_state=True)
    ref_o, ref_final = spec.reference(x, initial_state=s0)
    assert np.isfinite(o).all()
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, final_state) <= spec.tolerance(np.float32)


@pytest.mark.parametrize("decay", [-1e-6, -20.0], ids=["g-1e-6", "g-20"])
@pytest.mark.parametrize("spec", GATED_SPECS, ids=lambda spec: spec.id)
def test_extreme_decays(spec: OpSpec, decay: float, rng: np.random.Generator) -> None:
    x = spec.inputs(rng, 1, 1000, H, K, V)
    x = replace(x, g=(decay * rng.uniform(0.5, 1.5, x.g.shape)).astype(np.float32))
    s0 = make_state(rng, 1, H, K, V)
    _check_finite_against_reference(spec, x, s0)


def _close_gate(x: Inputs, position: int, closed: float) -> Inputs:
    g = x.g.copy()
    g[:, position] = closed
    return replace(x, g=g)


@pytest.mark.parametrize("position", [100, 127, 128], ids=lambda p: f"at{p}")
@pytest.mark.parametrize("closed", [-np.inf, -1e30], ids=["-inf", "-1e30"])
@pytest.mark.parametrize("spec", GATED_SPECS, ids=lambda spec: spec.id)
def test_closed_gate_is_an_exact_reset(
    spec: OpSpec, closed: float, position: int, rng: np.random.Generator
) -> None:
    # Two sequences that differ before a closed gate (tokens and initial state) and agree from
    # it on must give the same outputs from it on and the same final state, to the last bit:
    # what came before is multiplied by exp(closed) = 0 exactly. Position 100 is inside the
    # second chunk (of 64 tokens), 127 its last token and 128 the first of the third.
    T = 200
    first = _close_gate(spec.inputs(rng, 1, T, H, K, V), position, closed)
    other = spec.inputs(rng, 1, T, H, K, V)
    n = spec.householder
    second = replace(
        first,
        q=np.concatenate([other.q[:, :position], first.q[:, position:]], axis=1),
        k=np.concatenate([other.k[:, : position * n], first.k[:, position * n :]], axis=1),
        v=np.concatenate([other.v[:, : position * n], first.v[:, position * n :]], axis=1),
        g=np.concatenate([other.g[:, :position], first.g[:, position:]], axis=1),
        beta=np.concatenate([other.beta[:, : position * n], first.beta[:, position * n :]], 1),
    )

    s0 = make_state(rng, 1, H, K, V)
    o, final_state = spec(first, initial_state=s0, output_final_state=True)
    o2, final2 = spec(second, initial_state=make_state(rng, 1, H, K, V), output_final_state=True)
    np.testing.assert_array_equal(o[:, position:], o2[:, position:])
    np.testing.assert_array_equal(final_state, final2)

    assert np.isfinite(o).all() and np.isfinite(final_state).all()
    ref_o, ref_final = spec.reference(first, initial_state=s0)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, final_state) <= spec.tolerance(np.float32)
    alone_o, alone_final = spec(first.tokens(position, T), output_final_state=True)
    assert relative_rms_error(alone_o, o[:, position:]) <= 1e-5
    assert relative_rms_error(alone_final, final_state) <= 1e-5


def _close_some_channels(g: np.ndarray, pattern: str, closed: float, rng) -> None:
    if pattern == "strided":
        g[:, 10::41, :, ::2] = closed
        g[:, 30::53, :, 1::3] = closed
    elif pattern == "sub-chunk-edges":  # GLA splits chunks of 64 into sub-chunks of 16
        for position in (15, 16, 31, 32, 63, 64, 127, 128):
            g[:, position, :, position % g.shape[-1]] = closed
    else:
        g[rng.random(g.shape) < 0.1] = closed


@pytest.mark.parametrize("pattern", ["strided", "sub-chunk-edges", "random-10pct"])
@pytest.mark.parametrize("closed", [-np.inf, -1e30], ids=["-inf", "-1e30"])
@pytest.mark.parametrize(
    "spec",
    [spec for spec in GATED_SPECS if spec.gate == "vector"],
    ids=lambda spec: spec.id,
)
def test_gate_closed_on_some_key_channels(
    spec: OpSpec, closed: float, pattern: str, rng: np.random.Generator
) -> None:
    # A vector gate closed on some key channels resets those rows of the state only.
    x = spec.inputs(rng, 2, 300, H, K, V)
    g = x.g.copy()
    _close_some_channels(g, pattern, closed, rng)
    x = replace(x, g=g)
    s0 = make_state(rng, 2, H, K, V)
    o, final_state = spec(x, initial_state=s0, output_final_state=True)
    ref_o, ref_final = spec.reference(x, initial_state=s0)
    assert np.isfinite(o).all()
    assert relative_rms_error(ref_o, o) <= 1e-5
    assert relative_rms_error(ref_final, final_state) <= 1e-5


@pytest.mark.parametrize(
    "spec",
    [spec for spec in GATED_SPECS if spec.gate == "vector"],
    ids=lambda spec: spec.id,
)
@pytest.mark.parametrize("chunk_size", [0, 64], ids=["default-chunk", "chunk64"])
@pytest.mark.parametrize("gate_sums", ["auto", "per-element"])
def test_vector_gates_on_either_side_of_the_factored_band_range(
    spec: OpSpec, chunk_size: int, gate_sums: str, rng: np.random.Generator, monkeypatch
) -> None:
    # CPU kernels take the scores inside a 16-token sub-chunk as one product of rescaled
    # queries and keys when every |g_{t+1} + ... + g_last| of the sub-chunk is at most 20,
    # and diagonal by diagonal otherwise. Sub-chunks alternate between gates that sum to
    # just under and just over 20 per channel (-1.3 and -1.4 a token over 15 steps), growing
    # gates (+1.2: the factors swap sides) and a mix of channels. At chunk 64 a chunk holds
    # four sub-chunks, whose keys before each sub-chunk take another path. With per-element
    # gate sums (GPUs' form, here on the CPU), the reverse sums of the range check are each
    # their own loop and the exact branch is the per-element band.
    if chunk_size or gate_sums != "auto":
        compile_kernels_with(monkeypatch, _recurrence, chunk_size, gate_sums=gate_sums)
    T = 16 * 12
    x = spec.inputs(rng, 1, T, H, K, V)
    per_token = np.array([-1.3, -1.4, 1.2, -0.05, -1.4, -1.3], dtype=np.float32)
    g = np.repeat(np.tile(per_token, 2), 16)[None, :, None, None] + rng.uniform(
        -0.02, 0.02, x.g.shape
    ).astype(np.float32)
    g[:, 16 * 3 : 16 * 4, :, ::2] = -1.45  # some channels over the range, the rest under
    x = replace(x, g=g.astype(np.float32))
    s0 = make_state(rng, 1, H, K, V)
    _check_finite_against_reference(spec, x, s0)


SIGMOID_SPECS = [spec for spec in OPTION_SPECS if spec.option("use_beta_sigmoid_in_kernel")]


def _with_step_size(spec: OpSpec, x: Inputs, value: float) -> Inputs:
    """x with every beta set to ``value`` (0 or 2): logits of +-30 when the op applies
    (2 *) sigmoid to beta, whose float32 result is 0, 1 or 2."""
    if spec.option("use_beta_sigmoid_in_kernel"):
        value = 30.0 if value > 0 else -30.0
    return replace(x, beta=np.full_like(x.beta, value))


@pytest.mark.parametrize(
    "spec",
    DELTA_SPECS + [spec for spec in SIGMOID_SPECS if spec.option("allow_neg_eigval")],
    ids=lambda spec: spec.id,
)
def test_zero_step_sizes_leave_the_state_unchanged(spec: OpSpec, rng: np.random.Generator) -> None:
    x = _with_step_size(spec, spec.inputs(rng, 2, 130, H, K, V), 0.0)
    s0 = make_state(rng, 2, H, K, V)
    o, final_state = spec(x, initial_state=s0, output_final_state=True)
    ref_o, ref_final = spec.reference(x, initial_state=s0)
    assert relative_rms_error(ref_o, o) <= 1e-5
    assert relative_rms_error(ref_final, final_state) <= 1e-5
    if spec.gate is None:
        # Nothing decays and every update is beta * (...) = 0: the state is the initial one,
        # bit for bit, and every output reads it.
        np.testing.assert_array_equal(final_state, s0)


@pytest.mark.parametrize(
    "spec",
    [spec for spec in DELTA_SPECS if spec.gate is None and spec.householder == 1],
    ids=lambda spec: spec.id,
)
def test_tokens_with_zero_step_size_are_skipped(spec: OpSpec, rng: np.random.Generator) -> None:
    # Without decay, a token with beta = 0 leaves the state as it is: the outputs of the other
    # tokens and the final state are those of the sequence without it.
    T = 300
    x = spec.inputs(rng, 1, T, H, K, V)
    skipped = rng.random(T) < 0.3
    beta = x.beta.copy()
    beta[:, skipped] = 0.0
    x = replace(x, beta=beta)
    s0 = make_state(rng, 1, H, K, V)
    o, final_state = spec(x, initial_state=s0, output_final_state=True)
    kept = x.map(lambda a: a[:, ~skipped])
    kept_o, kept_final = spec(kept, initial_state=s0, output_final_state=True)
    assert relative_rms_error(kept_o, o[:, ~skipped]) <= 1e-5
    assert relative_rms_error(kept_final, final_state) <= 1e-5


@pytest.mark.parametrize("skipped_step", [0, 1], ids=["first-step-0", "second-step-0"])
@pytest.mark.parametrize(
    ("product", "delta_rule"),
    [
        ("chunk_gated_delta_product", "chunk_gated_delta_rule"),
        ("chunk_delta_product", "chunk_delta_rule"),
    ],
    ids=["gated", "ungated"],
)
def test_delta_product_sub_steps_with_zero_step_size_are_skipped(
    product: str, delta_rule: str, skipped_step: int, rng: np.random.Generator
) -> None:
    # DeltaProduct with 2 steps a token, one of them with beta = 0, is the delta rule on the
    # other step's keys and values (the decay comes before both).
    spec = SPEC_BY_KERNEL[product]
    x = spec.inputs(rng, 2, 130, H, K, V)
    beta = x.beta.copy()
    beta[:, skipped_step::2] = 0.0
    x = replace(x, beta=beta)
    s0 = make_state(rng, 2, H, K, V)
    o, final_state = spec(x, initial_state=s0, output_final_state=True)
    kept = 1 - skipped_step
    one_step = replace(
        x, k=x.k[:, kept::2], v=x.v[:, kept::2], beta=x.beta[:, kept::2], householder=1
    )
    expected_o, expected_final = SPEC_BY_KERNEL[delta_rule](
        one_step, initial_state=s0, output_final_state=True
    )
    assert relative_rms_error(expected_o, o) <= 1e-5
    assert relative_rms_error(expected_final, final_state) <= 1e-5


@pytest.mark.parametrize(
    "spec",
    DELTA_SPECS + [spec for spec in SIGMOID_SPECS if spec.option("allow_neg_eigval")],
    ids=lambda spec: spec.id,
)
def test_step_size_two(spec: OpSpec, rng: np.random.Generator) -> None:
    # beta = 2 with unit keys: I - 2 k k^T is a reflection (eigenvalue -1 along k).
    x = _with_step_size(spec, spec.inputs(rng, 1, 1000, H, K, V), 2.0)
    s0 = make_state(rng, 1, H, K, V)
    _check_finite_against_reference(spec, x, s0)


# Plain updates are linear in k: keys of norm 100 scale the state, not the relative error.
# The delta rules need |k| <= about 1 (beta |k|^2 > 2 makes the recurrence itself diverge), so
# large keys go to them only through the in-kernel l2norm, which brings them back to norm 1.
LARGE_KEY_SPECS = [spec for spec in SPECS if not spec.delta and not spec.normalize] + [
    spec for spec in OPTION_SPECS if spec.option("use_qk_l2norm_in_kernel")
]


@pytest.mark.parametrize("spec", LARGE_KEY_SPECS, ids=lambda spec: spec.id)
def test_keys_of_norm_100(spec: OpSpec, rng: np.random.Generator) -> None:
    x = spec.inputs(rng, 1, 1000, H, K, V)
    x = replace(x, k=(100.0 * l2_normalized(x.k)).astype(np.float32))
    s0 = make_state(rng, 1, H, K, V)
    _check_finite_against_reference(spec, x, s0)


@pytest.mark.parametrize(
    "spec",
    [spec for spec in OPTION_SPECS if spec.option("use_qk_l2norm_in_kernel")],
    ids=lambda spec: spec.id,
)
def test_l2norm_of_small_vectors(spec: OpSpec, rng: np.random.Generator) -> None:
    # q and k of norm 1e-3: x . x = 1e-6 is the epsilon, so x / sqrt(x . x + 1e-6) (the
    # reference, as flash-linear-attention) gives norm 0.707 where x / (|x| + 1e-6) gives 0.999.
    x = spec.inputs(rng, 1, 200, H, K, V)
    x = replace(
        x,
        q=(1e-3 * l2_normalized(x.q)).astype(np.float32),
        k=(1e-3 * l2_normalized(x.k)).astype(np.float32),
    )
    s0 = make_state(rng, 1, H, K, V)
    o, final_state = spec(x, initial_state=s0, output_final_state=True)
    ref_o, ref_final = spec.reference(x, initial_state=s0)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, final_state) <= spec.tolerance(np.float32)


def test_negative_eigenvalues_need_allow_neg_eigval(rng: np.random.Generator) -> None:
    # The same logits give beta = sigmoid(30) = 1 without allow_neg_eigval and 2 with it.
    with_neg = next(s for s in SIGMOID_SPECS if s.options == NEG_EIGVAL and not s.recurrent)
    without = replace(with_neg, options=(("use_beta_sigmoid_in_kernel", True),))
    x = _with_step_size(with_neg, with_neg.inputs(rng, 1, 100, H, K, V), 2.0)
    o_neg, _ = with_neg(x)
    o_pos, _ = without(x)
    one = replace(x, beta=np.ones_like(x.beta))
    two = replace(x, beta=np.full_like(x.beta, 2.0))
    assert relative_rms_error(SPEC_BY_KERNEL["chunk_gated_delta_rule"](two)[0], o_neg) <= 1e-5
    assert relative_rms_error(SPEC_BY_KERNEL["chunk_gated_delta_rule"](one)[0], o_pos) <= 1e-5


def _softplus(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0))))


def _mamba2_scan(x, dt, A, B, C, D, s0) -> tuple[np.ndarray, np.ndarray]:
    """Mamba-2 for one sequence in float64, the heads at once: x `[T, h, p]`, dt `[T, h]`
    (after the transform), A `[h]`, B, C `[T, n]` (one group), D `[h]`, s0 `[h, p, n]`.

    Written for speed on long sequences and independent of linac."""
    x, dt, B, C = (np.asarray(a, dtype=np.float64) for a in (x, dt, B, C))
    decay = np.exp(dt * np.asarray(A, dtype=np.float64))[:, :, None, None]
    dt_x = (dt[:, :, None] * x)[:, :, :, None]
    S = np.array(s0, dtype=np.float64)
    y = np.empty(x.shape)
    for t in range(x.shape[0]):
        S *= decay[t]
        S += dt_x[t] * B[t]
        y[t] = S @ C[t]
    return y + np.asarray(D, dtype=np.float64)[:, None] * x, S


def _dt_for_decays(rng: np.random.Generator, shape: tuple, A: np.ndarray) -> np.ndarray:
    """Raw time steps (before dt_softplus, no bias) in [-6, top] with softplus(top) * A = -5:
    decays softplus(dt) * A from -5 to about -0.0025 |A| per token."""
    top = np.log(np.expm1(5.0 / np.abs(A)))
    return rng.uniform(-6.0, top, shape)


def test_mamba2_long_sequence_with_strong_decays(rng: np.random.Generator) -> None:
    T, h, p, n = 65536, 2, 8, 8  # small heads keep the float64 loop at about a second
    x = make_mamba2_inputs(rng, 1, T, h, p, 1, n)
    A = np.array([-2.5, -1.0], np.float32)
    dt = _dt_for_decays(rng, (1, T, h), A).astype(np.float32)
    s0 = rng.standard_normal((1, h, p, n)).astype(np.float32)
    decays = _softplus(dt) * A
    assert decays.min() < -4.5 and decays.max() > -0.01

    y, final = ops.mamba_chunk_scan_combined(
        x.x,
        dt,
        A,
        x.B,
        x.C,
        64,
        D=x.D[:, 0],
        initial_states=s0,
        dt_softplus=True,
        return_final_states=True,
    )
    ref_y, ref_final = _mamba2_scan(
        x.x[0], _softplus(dt[0]), A, x.B[0, :, 0], x.C[0, :, 0], x.D[:, 0], s0[0]
    )

    assert np.isfinite(y).all() and np.isfinite(final).all()
    assert relative_rms_error(ref_y, y[0]) <= 1e-5
    assert relative_rms_error(ref_final, final[0]) <= 1e-5


def test_selective_scan_long_sequence_with_strong_decays(rng: np.random.Generator) -> None:
    T, d, n = 65536, 4, 8
    x = make_selective_scan_inputs(rng, 1, d, T, n)
    A = -rng.uniform(0.5, 2.5, (d, n)).astype(np.float32)
    A[:, 0] = -2.5  # the strongest decays: down to -5 per token
    A[:, 1] = -0.5
    delta = _dt_for_decays(rng, (1, d, T), np.array([[2.5]])).astype(np.float32)
    s0 = rng.standard_normal((1, d, n)).astype(np.float32)

    y, last = ops.selective_scan_fn(
        x.u,
        delta,
        A,
        x.B,
        x.C,
        D=x.D,
        delta_softplus=True,
        return_last_state=True,
        initial_state=s0,
    )

    # The scan in float64, one token a step over all (channel, state) pairs.
    step = _softplus(delta[0]).T  # [T, d]
    assert (step[:, :, None] * A).min() < -4.5
    decay = np.exp(step[:, :, None] * A.astype(np.float64))  # [T, d, n]
    u = x.u[0].T.astype(np.float64)  # [T, d]
    B, C = x.B[0].T.astype(np.float64), x.C[0].T.astype(np.float64)  # [T, n]
    update = (step * u)[:, :, None] * B[:, None, :]
    state = s0[0].astype(np.float64)
    ref_y = np.empty((T, d))
    for t in range(T):
        state = decay[t] * state + update[t]
        ref_y[t] = state @ C[t]
    ref_y += x.D * u

    assert np.isfinite(y).all() and np.isfinite(last).all()
    assert relative_rms_error(ref_y, y[0].T) <= 1e-5
    assert relative_rms_error(state, last[0]) <= 1e-5


def test_cpu_kernels_flush_subnormals_on_every_thread_and_restore_the_mode() -> None:
    """CPU kernels run with subnormals flushed to zero (x86 takes ~100x longer on each
    subnormal operand, and fast decays make them): subnormal inputs read as zero on
    every OpenMP worker (8 heads, 2 sequences spread over the pool), and the caller's
    floating-point mode is back afterwards."""
    B, T, H, K = 2, 100, 8, 32
    q = np.ones((B, T, H, K), np.float32)
    v = np.full((B, T, H, K), 1e-39, np.float32)  # subnormal in float32
    assert v[0, 0, 0, 0] != 0
    o, state = ops.chunk_linear_attn(q, q, v, output_final_state=True)
    # Read as given, v would make outputs around 1e-36 and states around 1e-37.
    assert not np.any(o) and not np.any(state)
    # numpy in this thread still computes subnormals: the mode was restored.
    assert np.float32(1e-39) * np.float32(1.0) != 0
