"""The recurrence DSL (`@linac.recurrence`): the issue's KDA example against the float64
reference, the chunked forms it is recognized as, the sequential fallback against a hand-written
float64 loop with its warning, `plan` and `ir`, errors that name the user's line, expression and
shapes, the kernel cache, bfloat16, and the DSL definitions of the built-in ops giving the same
bits as the op library."""

from __future__ import annotations

import functools
import json
import re
import warnings

import linac
import numpy as np
import pytest
from linac import _linac, exp, outer, sigmoid, tanh
from linac.ops import definitions
from linac.reference import recurrence as reference
from linac.reference import relative_rms_error

F32_TOL = 2e-5


@linac.recurrence
def kda(q, k, v, g, beta, S, *, scale):
    S = exp(g)[:, None] * S  # per-key-channel decay (g is a K-vector per step)
    S = S + beta * outer(k, v - S.T @ k)  # delta rule
    return S, scale * (S.T @ q)  # new state, output of this step


@linac.recurrence
def tanh_state(q, k, v, S, *, scale):
    S = tanh(S) + outer(k, v)
    return S, scale * (S.T @ q)


def kda_inputs(rng, B=2, T=37, H=3, K=16, V=8, N=None):
    q = rng.standard_normal((B, T, H, K)).astype(np.float32)
    k = rng.standard_normal((B, T, H, K)).astype(np.float32)
    k /= np.linalg.norm(k, axis=-1, keepdims=True)
    v = rng.standard_normal((B, T, H, V)).astype(np.float32)
    g = np.log(rng.uniform(0.8, 1.0, (B, T, H, K))).astype(np.float32)
    beta = rng.uniform(0.1, 0.9, (B, T, H)).astype(np.float32)
    h0 = rng.standard_normal((N or B, H, K, V)).astype(np.float32)
    return q, k, v, g, beta, h0


def test_kda_example_matches_the_float64_reference(rng) -> None:
    q, k, v, g, beta, h0 = kda_inputs(rng)
    o, final_state = kda(q, k, v, g, beta, scale=0.25, initial_state=h0, output_final_state=True)
    o_ref, final_ref = reference(q, k, v, g=g, beta=beta, scale=0.25, initial_state=h0)
    assert o.dtype == np.float32 and o.shape == q.shape[:3] + (v.shape[3],)
    assert final_state.shape == h0.shape
    assert relative_rms_error(o_ref, o) < F32_TOL
    assert relative_rms_error(final_ref, final_state) < F32_TOL


def test_kda_is_recognized_and_chunked(rng) -> None:
    q, k, v, g, beta, _ = kda_inputs(rng)
    plan = kda.plan(q, k, v, g, beta, scale=0.25)
    assert "canonical form: decay = vector, update = delta" in plan
    assert "chunked: chunk size 16" in plan  # the CPU default for a small state
    assert "target cpu" in plan
    stages = kda.ir(q, k, v, g, beta)
    assert list(stages)[:6] == [
        "traced",
        "specialize",
        "recognize",
        "chunk",
        "tile",
        "lower",
    ]
    assert "linac.scale_rows" in stages["traced"]
    assert "form = #linac.form<decay = vector, update = delta>" in stages["recognize"]
    assert "linac.ut_transform" in stages["chunk"]


def test_kda_varlen_and_chunk_boundaries(rng) -> None:
    q, k, v, g, beta, _ = kda_inputs(rng, B=1, T=150, H=2, N=3)
    h0 = rng.standard_normal((3, 2, 16, 8)).astype(np.float32)
    cu = np.array([0, 70, 71, 150], dtype=np.int64)
    o, final_state = kda(
        q,
        k,
        v,
        g,
        beta,
        scale=0.3,
        initial_state=h0,
        output_final_state=True,
        cu_seqlens=cu,
    )
    o_ref, final_ref = reference(
        q, k, v, g=g, beta=beta, scale=0.3, initial_state=h0, cu_seqlens=cu
    )
    assert relative_rms_error(o_ref, o) < F32_TOL
    assert relative_rms_error(final_ref, final_state) < F32_TOL


def _tanh_loop(q, k, v, scale, h0):
    """The sequential-fallback step by hand, in float64."""
    B, T, H, K = q.shape
    V = v.shape[3]
    o = np.zeros((B, T, H, V))
    final = np.zeros((B, H, K, V))
    for b in range(B):
        for h in range(H):
            S = h0[b, h].astype(np.float64)
            for t in range(T):
                S = np.tanh(S) + np.outer(k[b, t, h], v[b, t, h])
                o[b, t, h] = scale * (S.T @ q[b, t, h])
            final[b, h] = S
    return o, final


def test_sequential_fallback_warns_and_matches_a_float64_loop(rng) -> None:
    B, T, H, K, V = 2, 23, 2, 12, 5
    q, k = (rng.standard_normal((B, T, H, K)).astype(np.float32) for _ in range(2))
    v = rng.standard_normal((B, T, H, V)).astype(np.float32)
    h0 = rng.standard_normal((B, H, K, V)).astype(np.float32)
    with pytest.warns(linac.SequentialWarning) as caught:
        o, final_state = tanh_state(q, k, v, scale=0.5, initial_state=h0, output_final_state=True)
    (warning,) = [w for w in caught if issubclass(w.category, linac.SequentialWarning)]
    assert warning.filename == __file__  # points at the call
    message = str(warning.message)
    assert "tanh_state is not chunk-parallel" in message
    assert "the old state must enter unchanged (S), decayed by a scalar" in message
    assert "S = tanh(S) + outer(k, v)" in message  # the user's line
    assert "sequential recurrent kernel" in message
    o_ref, final_ref = _tanh_loop(q, k, v, 0.5, h0)
    assert relative_rms_error(o_ref, o) < F32_TOL
    assert relative_rms_error(final_ref, final_state) < F32_TOL

    # Warned once per kernel: the second call is quiet.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tanh_state(q, k, v, scale=0.5)
    plan = tanh_state.plan(q, k, v)
    assert "no canonical form: the old state must enter unchanged" in plan
    assert "sequential: one token at a time" in plan


@linac.recurrence
def gated_tricks(q, k, v, g, beta, S, *, scale, alpha):
    """Most of the step language at once: not a canonical form."""
    decay = sigmoid(g) * alpha
    kn = k / linac.sqrt(linac.sum(k * k) + 1e-6)
    S = decay * S - (kn[:, None] * S) * 0.1 + outer(kn, v) * beta + (S * v[None, :]) * 0.01
    row = linac.sum(S, axis=0) / S.shape[0]
    out = (S.T @ q) + linac.log(1.0 + exp(-(q @ q))) * row - v
    return S, scale * out


def test_step_language_sequential_against_numpy(rng) -> None:
    B, T, H, K, V = 1, 9, 2, 6, 4
    q, k = (rng.standard_normal((B, T, H, K)).astype(np.float32) for _ in range(2))
    v = rng.standard_normal((B, T, H, V)).astype(np.float32)
    g = rng.standard_normal((B, T, H)).astype(np.float32)
    beta = rng.uniform(0, 1, (B, T, H)).astype(np.float32)
    with pytest.warns(linac.SequentialWarning):
        o, final_state = gated_tricks(
            q, k, v, g, beta, scale=0.7, alpha=0.9, output_final_state=True
        )
    o_ref = np.zeros((B, T, H, V))
    for h in range(H):
        S = np.zeros((K, V))
        for t in range(T):
            qt, kt, vt = (x[0, t, h].astype(np.float64) for x in (q, k, v))
            decay = 1 / (1 + np.exp(-g[0, t, h])) * 0.9
            kn = kt / np.sqrt(np.sum(kt * kt) + 1e-6)
            S = (
                decay * S
                - (kn[:, None] * S) * 0.1
                + np.outer(kn, vt) * beta[0, t, h]
                + (S * vt[None, :]) * 0.01
            )
            row = np.sum(S, axis=0) / K
            o_ref[0, t, h] = 0.7 * ((S.T @ qt) + np.log(1 + np.exp(-(qt @ qt))) * row - vt)
        np.testing.assert_allclose(final_state[0, h], S, rtol=1e-4, atol=1e-5)
    assert relative_rms_error(o_ref, o) < 1e-5


# --- errors -----------------------------------------------------------------------------------


def test_error_shape_mismatch_names_line_expression_and_shapes(rng) -> None:
    @linac.recurrence
    def swapped(q, k, v, S, *, scale):
        S = S + outer(v, k)
        return S, scale * (S.T @ q)

    q = rng.standard_normal((1, 4, 1, 8)).astype(np.float32)
    v = rng.standard_normal((1, 4, 1, 4)).astype(np.float32)
    line = swapped.fn.__code__.co_firstlineno + 2
    with pytest.raises(linac.StepError) as error:
        swapped(q, q, v)
    message = str(error.value)
    assert f"test_dsl.py:{line}: in `S + outer(v, k)`" in message
    assert "cannot add shapes [8, 4] (S) and [4, 8] (outer(v, k))" in message


def test_error_vector_does_not_broadcast_against_a_matrix(rng) -> None:
    @linac.recurrence
    def implicit(q, k, v, g, S):
        S = exp(g) * S + outer(k, v)
        return S, S.T @ q

    q = rng.standard_normal((1, 4, 1, 8)).astype(np.float32)
    g = np.zeros((1, 4, 1, 8), np.float32)
    with pytest.raises(
        linac.StepError,
        match=r"in `exp\(g\) \* S`: cannot multiply shapes \[8\] "
        r"\(exp\(g\)\) and \[8, 8\] \(S\): vectors do not broadcast against "
        r"matrices implicitly; write x\[:, None\]",
    ):
        implicit(q, q, q, g)


def test_error_bad_op_names_the_alternative(rng) -> None:
    @linac.recurrence
    def numpy_exp(q, k, v, S):
        S = np.exp(S) + outer(k, v)
        return S, S.T @ q

    @linac.recurrence
    def power(q, k, v, S):
        S = S**2 + outer(k, v)
        return S, S.T @ q

    x = rng.standard_normal((1, 3, 1, 4)).astype(np.float32)
    with pytest.raises(
        linac.StepError,
        match=r"test_dsl.py:\d+: in `np.exp\(S\)`: numpy's exp "
        r"is not part of the step language: use linac's exp",
    ):
        numpy_exp(x, x, x)
    with pytest.raises(
        linac.StepError,
        match=r"in `S\*\*2`: \*\* is not part of the step "
        r"language: write x \* x",
    ):
        power(x, x, x)


def test_error_parameter_that_is_not_a_role() -> None:
    with pytest.raises(
        linac.StepError,
        match=r"test_dsl.py:\d+: parameter 'x' of bad is not a "
        r"role of a recurrence step: positional parameters bind by name to q, k, v",
    ):

        @linac.recurrence
        def bad(q, k, x, S):
            return S, S.T @ q

    with pytest.raises(linac.StepError, match=r"no_state needs the parameters S"):

        @linac.recurrence
        def no_state(q, k, v):
            return q, v


def test_error_return_value_and_branching(rng) -> None:
    @linac.recurrence
    def wrong_output(q, k, v, S):
        S = S + outer(k, v)
        return S, S @ v

    @linac.recurrence
    def branches(q, k, v, S):
        if linac.sum(q) > 0:
            S = S + outer(k, v)
        return S, S.T @ q

    q = rng.standard_normal((1, 3, 1, 4)).astype(np.float32)
    v = rng.standard_normal((1, 3, 1, 2)).astype(np.float32)
    with pytest.raises(
        linac.StepError,
        match=r"test_dsl.py:\d+: the output returned by "
        r"wrong_output must be \[2\] \(S is \[K, V\] = \[4, 2\]\), got \[4\]",
    ):
        wrong_output(q, q, v)
    with pytest.raises(linac.StepError, match="comparisons are not part of the step language"):
        branches(q, q, v)


def test_error_call_arguments(rng) -> None:
    q = rng.standard_normal((1, 3, 1, 4)).astype(np.float32)
    with pytest.raises(TypeError, match=r"kda\(\) is missing the inputs beta"):
        kda(q, q, q, q)
    with pytest.raises(TypeError, match=r"kda\(\) got an unexpected argument 'alpha'"):
        kda(q, q, q, q, q[..., 0], alpha=1)
    with pytest.raises(TypeError, match="is missing the compile-time constant 'alpha'"):
        gated_tricks(q, q, q, q[..., 0], q[..., 0])
    with pytest.raises(TypeError, match="g must be a numpy array or a tensor with __dlpack__"):
        kda(q, q, q, [1.0], q[..., 0])


def test_compile_error_points_at_the_users_definition() -> None:
    # A sequential kernel keeps the whole state in one GPU block's shared memory: 256 x 256
    # floats (256 KiB) exceed the 227 KiB a block of sm_90 may have, and the error names the
    # step's definition.
    with pytest.raises(linac.StepError) as error:
        tanh_state.compile(target="sm_90", K=256, V=256, out_dir="unused")
    message = str(error.value)
    line = tanh_state.fn.__code__.co_firstlineno
    assert f"test_dsl.py:{line}: linac cannot compile tanh_state" in message
    assert "bytes of shared memory per block" in message
    assert f"test_dsl.py:{line}: @linac.recurrence" in message


# --- the cache ---------------------------------------------------------------------------------


def test_second_call_does_not_compile(monkeypatch, rng) -> None:
    @linac.recurrence
    def cached(q, k, v, g, S, *, scale, c):
        S = exp(g) * S + c * outer(k, v)
        return S, scale * (S.T @ q)

    compiles = []
    compile_ = _linac.compile

    def counting(*args, **kwargs):
        compiles.append(args)
        return compile_(*args, **kwargs)

    monkeypatch.setattr(_linac, "compile", counting)
    q = rng.standard_normal((1, 5, 2, 8)).astype(np.float32)
    g = np.log(rng.uniform(0.5, 1, (1, 5, 2))).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linac.SequentialWarning)
        first, _ = cached(q, q, q, g, c=2.0, scale=0.1)
        assert len(compiles) == 1
        second, _ = cached(q, q, q, g, c=2.0, scale=0.1)
        assert len(compiles) == 1
        np.testing.assert_array_equal(first, second)
        # The scale is a run-time argument: no recompile.
        third, _ = cached(q, q, q, g, c=2.0, scale=0.2)
        assert len(compiles) == 1
        np.testing.assert_allclose(third, 2 * first, rtol=1e-6)
        # A constant is part of the key.
        fourth, _ = cached(q, q, q, g, c=3.0, scale=0.1)
        assert len(compiles) == 2
    o_ref, _ = reference(q, q, q * 3.0, g=g, scale=0.1)
    assert relative_rms_error(o_ref, fourth) < F32_TOL
    # c * k v^T is not the canonical plain update k v^T: a sequential kernel.
    assert "no canonical form" in cached.plan(q, q, q, g, c=3.0)
    assert len(compiles) == 2


# --- dtypes and tensors ------------------------------------------------------------------------


def test_bfloat16_inputs_run_a_bf16_kernel(rng) -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    q, k, v, g, beta, h0 = kda_inputs(rng, T=20)
    bf16 = [x.astype(ml_dtypes.bfloat16) for x in (q, k, v)]
    o, _ = kda(*bf16, g, beta, scale=0.25, initial_state=h0)
    assert o.dtype == ml_dtypes.bfloat16
    exact = [x.astype(np.float32) for x in bf16]
    o_ref, _ = reference(*exact, g=g, beta=beta, scale=0.25, initial_state=h0)
    assert relative_rms_error(o_ref, o.astype(np.float32)) < 1e-2
    kernels = [kernel for (_, dtype, _), kernel in kda._kernels.items() if dtype == "bf16"]
    assert [json.loads(kernel.result.metadata)["dtype"] for kernel in kernels] == ["bf16"]


# --- dogfooding: the op library's steps as DSL definitions ---------------------------------------


@pytest.mark.parametrize(
    ("name", "builtin", "gate", "beta"),
    [
        ("simple_gla", linac.ops.chunk_simple_gla, "scalar", False),
        (
            "linear_attn",
            functools.partial(linac.ops.chunk_linear_attn, normalize=False),
            None,
            False,
        ),
        ("gla", linac.ops.chunk_gla, "vector", False),
        ("delta_rule", linac.ops.chunk_delta_rule, None, True),
        ("gated_delta_rule", linac.ops.chunk_gated_delta_rule, "scalar", True),
    ],
)
def test_definitions_give_the_bits_of_the_op_library(rng, name, builtin, gate, beta) -> None:
    B, T, H, K, V = 2, 70, 2, 16, 16
    q, k = (rng.standard_normal((B, T, H, K)).astype(np.float32) for _ in range(2))
    k /= np.linalg.norm(k, axis=-1, keepdims=True)
    v = rng.standard_normal((B, T, H, V)).astype(np.float32)
    inputs = [q, k, v]
    if gate is not None:
        shape = (B, T, H) if gate == "scalar" else (B, T, H, K)
        inputs.append(np.log(rng.uniform(0.7, 1.0, shape)).astype(np.float32))
    if beta:
        inputs.append(rng.uniform(0.1, 1.0, (B, T, H)).astype(np.float32))
    h0 = rng.standard_normal((B, H, K, V)).astype(np.float32)
    step = getattr(definitions, name)
    o, s = step(*inputs, scale=0.3, initial_state=h0, output_final_state=True)
    o_builtin, s_builtin = builtin(*inputs, scale=0.3, initial_state=h0, output_final_state=True)
    np.testing.assert_array_equal(o, o_builtin)
    np.testing.assert_array_equal(s, s_builtin)
    assert re.search(r"canonical form: decay = \w+, update = \w+", step.plan(*inputs))
