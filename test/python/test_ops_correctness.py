"""Numerical correctness of every op in `linac.ops` against the float64 step-by-step reference.

Covers sequence lengths 1, 63, 64, 65 and 1000 (around and across the chunk size 64), head
sizes K and V in {16, 60, 64, 100, 128} (each value of each, not every combination), float32 and
float16 inputs, with and without an initial state, output_final_state on and off, normalized
and plain linear attention, retention's fixed decays, scalar (simple GLA, Gated DeltaNet) and
per-key-channel (GLA) decays, delta rules with and without decay, DeltaProduct with 1, 2 and 3
Householder steps per token, with and without decay, the delta rules' in-kernel options (q/k
l2norm, sigmoid of beta, negative eigenvalues), the default and an explicit scale, decoding
token by token against the chunked op (DeltaProduct: its chunked op one token a call),
DeltaProduct with one step against the delta rule, GLA's `gk` alias, reverse=True, closed
gates (g = -inf), and the smallest and largest head sizes (1 and 256).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from linac import ops
from linac.reference import relative_rms_error
from optable import (
    GATED_SPECS,
    L2NORM,
    NEG_EIGVAL,
    OPTION_SPECS,
    OTHER_OP_KERNELS,
    REVERSIBLE_SPECS,
    SIGMOID,
    SPEC_BY_KERNEL,
    SPECS,
    OpSpec,
    make_state,
)

B, H = 2, 2

# (T, K, V, dtype, with initial_state, output_final_state). float32 takes each head size once
# as K and once as V; float16 reuses two of those pairs, so each op compiles seven kernels.
CASES = [
    (1, 16, 64, np.float32, True, True),
    (63, 64, 100, np.float32, False, True),
    (64, 100, 128, np.float32, True, False),
    (65, 128, 60, np.float32, False, False),
    (1000, 60, 16, np.float32, True, True),
    (1, 16, 64, np.float16, False, True),
    (63, 100, 128, np.float16, True, False),
    (64, 16, 64, np.float16, False, False),
    (65, 100, 128, np.float16, True, True),
    (1000, 16, 64, np.float16, True, True),
]


def _case_id(case: tuple) -> str:
    T, K, V, dtype, with_state, final = case
    state = "s0" if with_state else "nos0"
    return f"T{T}-K{K}-V{V}-{np.dtype(dtype).name}-{state}-{'final' if final else 'nofinal'}"


# The in-kernel options and other Householder counts (each a kernel of its own) on fewer
# cases: float32 over four chunks for each, and float16 with head sizes that are not multiples
# of 16 for three of them.
OPTION_CASES = [
    (200, 16, 64, np.float32, True, True),
    (300, 100, 60, np.float16, False, True),
]
FLOAT16_OPTION_SPECS = {
    "chunk_gated_delta_rule-l2norm-sigmoid",
    "fused_recurrent_gated_delta_rule-sigmoid-negeig",
    "chunk_gated_delta_product-n3",
}
OPTION_CHECKS = [
    pytest.param(spec, case, id=f"{spec.id}-{_case_id(case)}")
    for spec in OPTION_SPECS
    for case in OPTION_CASES
    if case[3] == np.float32 or spec.id in FLOAT16_OPTION_SPECS
]


def _check_matches_reference(spec: OpSpec, case: tuple, rng: np.random.Generator) -> None:
    T, K, V, dtype, with_state, output_final_state = case
    x = spec.inputs(rng, B, T, H, K, V, dtype)
    s0 = make_state(rng, B, H, K, V) if with_state else None

    o, final_state = spec(x, initial_state=s0, output_final_state=output_final_state)
    ref_o, ref_final = spec.reference(x, initial_state=s0)

    assert o.shape == (B, T, H, V)
    assert o.dtype == np.dtype(dtype)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(dtype)
    if not output_final_state:
        assert final_state is None
        return
    assert final_state.shape == (B, H, K, V)
    assert final_state.dtype == np.float32
    assert relative_rms_error(ref_final, final_state) <= spec.tolerance(dtype)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_matches_reference(spec: OpSpec, case: tuple, rng: np.random.Generator) -> None:
    _check_matches_reference(spec, case, rng)


@pytest.mark.parametrize(("spec", "case"), OPTION_CHECKS)
def test_options_match_reference(spec: OpSpec, case: tuple, rng: np.random.Generator) -> None:
    _check_matches_reference(spec, case, rng)


def test_every_op_is_covered() -> None:
    public_ops = {name for name in ops.__all__ if name != "retention_decays"}
    covered = {spec.op.__name__ for spec in SPECS} | set(OTHER_OP_KERNELS)
    assert public_ops == covered, "add the new op to optable.SPECS or optable.OTHER_OP_KERNELS"
    for name in public_ops:
        assert getattr(ops, name).__name__ == name


def test_retention_decays_are_log_one_minus_two_to_the_minus_five_minus_h() -> None:
    decays = ops.retention_decays(8)
    expected = [math.log(1.0 - 2.0 ** (-5 - h)) for h in range(8)]
    assert decays.shape == (8,)
    assert decays.dtype == np.float32
    np.testing.assert_allclose(decays, expected, rtol=1e-6)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_default_scale_is_inverse_sqrt_k(spec: OpSpec, rng: np.random.Generator) -> None:
    K, V = 16, 64
    x = spec.inputs(rng, B, 65, H, K, V)
    o, _ = spec(x)
    ref_o, _ = spec.reference(x, scale=K**-0.5)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_explicit_scale_is_honored(spec: OpSpec, rng: np.random.Generator) -> None:
    K, V, scale = 16, 64, 0.37
    x = spec.inputs(rng, B, 65, H, K, V)
    s0 = make_state(rng, B, H, K, V)
    o, _ = spec(x, scale=scale, initial_state=s0)
    ref_o, _ = spec.reference(x, scale=scale, initial_state=s0)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
    if not spec.normalize:  # normalization divides the scale out
        default_o, _ = spec(x, initial_state=s0)
        np.testing.assert_allclose(o, default_o * (scale / K**-0.5), rtol=1e-4, atol=1e-5)


def _option_spec(kernel: str, options: tuple) -> OpSpec:
    (spec,) = [s for s in OPTION_SPECS if s.kernel == kernel and s.options == options]
    return spec


def _decode_pair(name: str, options: tuple = ()) -> tuple[OpSpec, OpSpec]:
    if not options:
        return SPEC_BY_KERNEL[f"chunk_{name}"], SPEC_BY_KERNEL[f"fused_recurrent_{name}"]
    return _option_spec(f"chunk_{name}", options), _option_spec(f"fused_recurrent_{name}", options)


# Normalized linear attention is left out: its normalizer sums the keys of the current call
# only (as in flash-linear-attention), so decoding token by token normalizes differently.
# DeltaProduct has no recurrent form: its chunked op decodes one token per call instead.
DECODE_PAIRS = [
    _decode_pair("linear_attn"),
    _decode_pair("retention"),
    _decode_pair("simple_gla"),
    _decode_pair("gla"),
    _decode_pair("delta_rule"),
    _decode_pair("delta_rule", L2NORM),
    _decode_pair("gated_delta_rule"),
    _decode_pair("gated_delta_rule", L2NORM + SIGMOID),
    _decode_pair("gated_delta_rule", NEG_EIGVAL),
    (SPEC_BY_KERNEL["chunk_gated_delta_product"], SPEC_BY_KERNEL["chunk_gated_delta_product"]),
    (SPEC_BY_KERNEL["chunk_delta_product"], SPEC_BY_KERNEL["chunk_delta_product"]),
]


@pytest.mark.parametrize(
    ("chunk", "recurrent"), DECODE_PAIRS, ids=lambda spec: spec.id.replace("chunk_", "")
)
def test_decoding_token_by_token_matches_chunk(
    chunk: OpSpec, recurrent: OpSpec, rng: np.random.Generator
) -> None:
    T, K, V = 65, 16, 64
    x = chunk.inputs(rng, B, T, H, K, V)
    s0 = make_state(rng, B, H, K, V)

    expected_o, expected_final = chunk(x, initial_state=s0, output_final_state=True)
    state, outputs = s0, []
    for t in range(T):
        o_t, state = recurrent(x.tokens(t, t + 1), initial_state=state, output_final_state=True)
        outputs.append(o_t)

    assert relative_rms_error(expected_o, np.concatenate(outputs, axis=1)) <= 1e-5
    assert relative_rms_error(expected_final, state) <= 1e-5


@pytest.mark.parametrize("varlen", [False, True], ids=["batch", "varlen"])
@pytest.mark.parametrize("spec", REVERSIBLE_SPECS, ids=lambda spec: spec.id)
def test_reverse_matches_reference(spec: OpSpec, varlen: bool, rng: np.random.Generator) -> None:
    K, V = 16, 64
    if varlen:
        cu_seqlens = np.array([0, 1, 64, 264])
        x = spec.inputs(rng, 1, 264, H, K, V)
    else:
        cu_seqlens = None
        x = spec.inputs(rng, B, 100, H, K, V)
    N = 3 if varlen else B
    s0 = make_state(rng, N, H, K, V)

    o, final_state = spec(
        x, initial_state=s0, output_final_state=True, reverse=True, cu_seqlens=cu_seqlens
    )
    ref_o, ref_final = spec.reference(x, initial_state=s0, reverse=True, cu_seqlens=cu_seqlens)

    assert relative_rms_error(ref_o, o) <= 1e-5
    assert relative_rms_error(ref_final, final_state) <= 1e-5


def test_gla_takes_its_decays_as_gk(rng: np.random.Generator) -> None:
    spec = SPEC_BY_KERNEL["fused_recurrent_gla"]
    x = spec.inputs(rng, B, 65, H, 16, 64)
    expected_o, expected_final = ops.fused_recurrent_gla(
        x.q, x.k, x.v, g=x.g, output_final_state=True
    )
    o, final_state = ops.fused_recurrent_gla(x.q, x.k, x.v, gk=x.g, output_final_state=True)
    np.testing.assert_array_equal(o, expected_o)
    np.testing.assert_array_equal(final_state, expected_final)


@pytest.mark.parametrize(
    ("chunk_name", "product"),
    [
        ("chunk_gated_delta_rule", "chunk_gated_delta_product"),
        ("chunk_delta_rule", "chunk_delta_product"),
    ],
    ids=["gated", "ungated"],
)
def test_delta_product_with_one_step_is_the_delta_rule(
    chunk_name: str, product: str, rng: np.random.Generator
) -> None:
    delta_rule = SPEC_BY_KERNEL[chunk_name]
    x = delta_rule.inputs(rng, B, 130, H, 16, 64)
    s0 = make_state(rng, B, H, 16, 64)
    expected_o, expected_final = delta_rule(x, initial_state=s0, output_final_state=True)
    o, final_state = replace(SPEC_BY_KERNEL[product], householder=1)(
        x, initial_state=s0, output_final_state=True
    )
    assert relative_rms_error(expected_o, o) <= 1e-5
    assert relative_rms_error(expected_final, final_state) <= 1e-5


@pytest.mark.parametrize("closed", [-np.inf, -1e4], ids=["-inf", "-1e4"])
@pytest.mark.parametrize("spec", GATED_SPECS, ids=lambda spec: spec.id)
def test_closed_gate_resets_the_state(
    spec: OpSpec, closed: float, rng: np.random.Generator
) -> None:
    # A closed gate forgets the state: g = -inf (log(sigmoid(x)) underflowing to log(0)) or a
    # large finite g (a reset at a document boundary) gives exp(g) = 0, and the small decays of
    # the tokens after it still count (a float32 cumulative sum of g inside a chunk would
    # absorb them: -1e4 - 0.3 rounds to -1e4 - 0.2998).
    K, V = 16, 64
    x = spec.inputs(rng, B, 100, H, K, V)
    x.g[:, 10::37] = closed
    o, final_state = spec(x, output_final_state=True)
    ref_o, ref_final = spec.reference(x)
    assert np.isfinite(o).all(), f"{np.isnan(o).sum()} of {o.size} outputs are NaN"
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, final_state) <= spec.tolerance(np.float32)


@pytest.mark.parametrize(("K", "V"), [(1, 256), (256, 1)], ids=["K1-V256", "K256-V1"])
@pytest.mark.parametrize(
    "spec",
    [
        SPEC_BY_KERNEL["chunk_simple_gla"],
        SPEC_BY_KERNEL["fused_recurrent_simple_gla"],
        SPEC_BY_KERNEL["chunk_gla"],
        SPEC_BY_KERNEL["chunk_gated_delta_rule"],
    ],
    ids=lambda spec: spec.id,
)
def test_smallest_and_largest_head_sizes(
    spec: OpSpec, K: int, V: int, rng: np.random.Generator
) -> None:
    x = spec.inputs(rng, B, 130, H, K, V)
    s0 = make_state(rng, B, H, K, V)
    o, final_state = spec(x, initial_state=s0, output_final_state=True)
    ref_o, ref_final = spec.reference(x, initial_state=s0)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, final_state) <= spec.tolerance(np.float32)
