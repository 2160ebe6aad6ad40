"""Segmented runs (linac._segments), checked on the CPU.

A segmented call runs a state pass (the kernel compiled with ``state_checkpoints``) that
writes the state after every segment of chunks, then the ordinary kernel over the segments
as sequences of their own. The state pass's checkpoints are checked against the float64
recurrence's states at the segment ends, and every chunked op's segmented outputs and final
states against the float64 reference and against the unsegmented kernel.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from linac import _runtime, _segments, reference
from linac.ops import _recurrence
from linac.reference import relative_rms_error
from optable import SPECS, OpSpec, make_state

CHUNKED_SPECS = [spec for spec in SPECS if not spec.recurrent]
ROOT = Path(__file__).resolve().parents[2]


def record_kernels(monkeypatch, chunk_size: int) -> list[dict]:
    """Makes the op path compile at ``chunk_size``; returns the list each compile's
    keyword options are appended to."""
    real = _recurrence.get_kernel
    compiled = []

    def recording(name, head_dim_k, head_dim_v, dtype, target="cpu", _chunk=0, *rest, **kw):
        compiled.append({"name": name, **kw})
        return real(name, head_dim_k, head_dim_v, dtype, target, chunk_size, *rest, **kw)

    monkeypatch.setattr(_recurrence, "get_kernel", recording)
    return compiled


def test_plan_places_segments_and_their_states() -> None:
    # Sequences of 5 tokens, none, 16 and 37, in segments of 16 tokens: 1, 1, 1, 3 segments.
    plan = _segments.plan_segments([0, 5, 5, 21], [5, 0, 16, 37], 16)
    assert plan.bounds.tolist() == [0, 5, 5, 21, 37, 53, 58]
    # Rows 0-3 hold the initial states, 4-9 the six checkpoints in order.
    assert plan.start_rows.tolist() == [0, 1, 2, 3, 7, 8]
    assert plan.final_rows.tolist() == [4, 5, 6, 9]


@pytest.mark.parametrize("kernel", ["chunk_simple_gla", "chunk_gla", "chunk_gated_delta_rule"])
def test_state_pass_writes_the_states_at_segment_ends(
    kernel: str, rng: np.random.Generator
) -> None:
    # chunk 16, checkpoints every 2 chunks: segments of 32 tokens.
    spec = next(s for s in CHUNKED_SPECS if s.kernel == kernel)
    cu = np.array([0, 5, 5, 70, 102], dtype=np.int64)
    T, H, K, V = 102, 2, 16, 24
    x = spec.inputs(rng, 1, T, H, K, V)
    s0 = make_state(rng, 4, H, K, V)
    state_pass = _runtime.get_kernel(kernel, K, V, "f32", "cpu", 16, 0, state_checkpoints=2)
    assert state_pass.metadata["state_checkpoints"] == 2
    assert state_pass.metadata["segment_tokens"] == 32
    plan = _segments.plan_segments(cu[:-1].tolist(), np.diff(cu).tolist(), 32)
    checkpoints = np.full((len(plan.start_rows), H, K, V), np.nan, dtype=np.float32)
    args = {
        "q": x.q, "k": x.k, "v": x.v, "g": x.g, "beta": x.beta,
        "initial_state": s0,
        "output": np.zeros((1, T, H, V), dtype=np.float32),
        "final_state": checkpoints,
        "cu_seqlens": cu,
        "scale": K**-0.5,
    }  # fmt: skip
    state_pass.run_cpu(args)
    # The output is not written; each row is the state after its segment's last token.

    assert not args["output"].any()
    for n in range(4):
        start, end = cu[n], cu[n + 1]
        count = max(1, -(-(end - start) // 32))
        first = plan.final_rows[n] - 4 - (count - 1)
        for j in range(count):
            prefix = x.tokens(start, min(start + 32 * (j + 1), end))
            _, expected = spec.reference(prefix, initial_state=s0[n : n + 1])
            got = checkpoints[first + j]
            assert relative_rms_error(expected[0], got) <= spec.tolerance(np.float32)


def test_delta_product_segments_count_tokens() -> None:
    # DeltaProduct's chunks count sub-steps: 16 of them are 8 tokens, so a plan in tokens
    # takes the kernel's segment_tokens, not state_checkpoints * chunk_size.
    product = _runtime.get_kernel(
        "chunk_gated_delta_product", 16, 16, "f32", "cpu", 16, 0, householder=2, state_checkpoints=2
    )
    assert product.metadata["segment_tokens"] == 16


@pytest.mark.parametrize("spec", CHUNKED_SPECS, ids=lambda spec: spec.id)
def test_segmented_ops_match_reference_and_unsegmented(
    spec: OpSpec, rng: np.random.Generator, monkeypatch
) -> None:
    compiled = record_kernels(monkeypatch, 16)
    cu = np.array([0, 5, 5, 21, 90])
    T, H, K, V = 90, 2, 16, 32
    x = spec.inputs(rng, 1, T, H, K, V)
    s0 = make_state(rng, 4, H, K, V)
    monkeypatch.setenv("LINAC_SEGMENTS", "off")
    whole_o, whole_final = spec(x, initial_state=s0, output_final_state=True, cu_seqlens=cu)
    monkeypatch.setenv("LINAC_SEGMENTS", "1")
    o, final = spec(x, initial_state=s0, output_final_state=True, cu_seqlens=cu)
    segmented = _segments.can_segment(spec.kernel)
    assert [c.get("state_checkpoints") for c in compiled] == [None, None] + [1] * segmented
    ref_o, ref_final = spec.reference(x, initial_state=s0, cu_seqlens=cu)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, final) <= spec.tolerance(np.float32)
    np.testing.assert_allclose(o, whole_o, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(final, whole_final, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel", ["chunk_simple_gla", "chunk_delta_rule"])
def test_segmented_batch_without_initial_state(
    kernel: str, rng: np.random.Generator, monkeypatch
) -> None:
    # B = 3 rows of 75 tokens (5 chunks, the last partial) in segments of 2 chunks; no
    # initial state (the first segments start from zeros), final state asked for.
    spec = next(s for s in CHUNKED_SPECS if s.kernel == kernel)
    compiled = record_kernels(monkeypatch, 16)
    monkeypatch.setenv("LINAC_SEGMENTS", "2")
    x = spec.inputs(rng, 3, 75, 2, 16, 16)
    o, final = spec(x, output_final_state=True)
    assert compiled[-1].get("state_checkpoints") == 2
    ref_o, ref_final = spec.reference(x)
    assert relative_rms_error(ref_o, o) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, final) <= spec.tolerance(np.float32)


def test_setting_names_a_bad_value(monkeypatch) -> None:
    monkeypatch.setenv("LINAC_SEGMENTS", "sometimes")
    with pytest.raises(ValueError, match="LINAC_SEGMENTS must be off, auto or a positive"):
        _segments.setting()
    monkeypatch.setenv("LINAC_SEGMENTS", "0")
    with pytest.raises(ValueError, match="got '0'"):
        _segments.setting()


def test_auto_segments_only_grids_that_leave_gpus_idle() -> None:
    choose = _segments.chunks_per_segment
    # B=1, H=16, 4 value tiles (64 blocks) on 132 multiprocessors, 2048 chunks of 16:
    # 9 segments a sequence (576 blocks, >= 4 a multiprocessor) of 228 chunks, rounded up
    # to a power of two: 8 segments of 256 chunks.
    assert choose("auto", 32768, 16, 64, 132, gpu=True) == 256
    # A grid of 4 blocks a multiprocessor already runs as is; CPUs are not segmented.
    assert choose("auto", 32768, 16, 528, 132, gpu=True) == 0
    assert choose("auto", 32768, 16, 1, 2, gpu=False) == 0
    # Segments keep 4 chunks at least, and one segment is no segmentation.
    assert choose("auto", 64, 16, 1, 132, gpu=True) == 0
    assert choose("auto", 1024, 16, 1, 132, gpu=True) == 4
    # A number is taken as given where the sequence is longer than one segment.
    assert choose("3", 100, 16, 64, 132, gpu=False) == 3
    assert choose("8", 100, 16, 64, 132, gpu=False) == 0
    assert choose("off", 32768, 16, 1, 132, gpu=True) == 0


@pytest.mark.parametrize(
    "kernel, message",
    [
        ("fused_recurrent_simple_gla", "state checkpoints need a chunked kernel"),
        ("chunk_linear_attn_normalized", "no normalizer, no non-causal readout|normalizer"),
    ],
)
def test_state_pass_of_a_kernel_without_one_is_an_error(kernel: str, message: str) -> None:
    with pytest.raises(_runtime.CompileError, match=message):
        _runtime.get_kernel(kernel, 16, 16, "f32", "cpu", 16, 0, state_checkpoints=2)


def test_negative_state_checkpoints_is_an_error() -> None:
    with pytest.raises(_runtime.CompileError, match="state-checkpoints must be >= 0"):
        _runtime.get_kernel("chunk_simple_gla", 16, 16, "f32", "cpu", 16, 0, state_checkpoints=-1)


def test_reference_prefix_states_are_independent_of_the_rest() -> None:
    # The checkpoint test compares with the reference run on a prefix: a sanity check that
    # the reference's final state of a prefix is the state at that token of the whole run.
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((1, 40, 1, 4)) for _ in range(3))
    g = -rng.uniform(0, 0.3, (1, 40, 1))
    _, whole = reference.recurrence(q[:, :40], k[:, :40], v[:, :40], g=g[:, :40])
    _, prefix = reference.recurrence(q[:, :20], k[:, :20], v[:, :20], g=g[:, :20])
    _, rest = reference.recurrence(
        q[:, 20:], k[:, 20:], v[:, 20:], g=g[:, 20:], initial_state=prefix
    )
    np.testing.assert_allclose(rest, whole, rtol=1e-12)


class NumpyTorch:
    """The few torch functions TorchArrays calls, on numpy arrays: the GPU path's
    orchestration (run_segmented_aot) runs here with CPU kernels in place of CUDA ones."""

    float32, int64 = np.float32, np.int64

    @staticmethod
    def zeros(shape, dtype, device):
        return np.zeros(shape, dtype=dtype)

    @staticmethod
    def empty(shape, dtype, device):
        return (
            np.full(shape, np.nan, dtype=dtype) if dtype == np.float32 else np.empty(shape, dtype)
        )

    @staticmethod
    def cat(parts):
        return np.concatenate(parts)

    @staticmethod
    def index_select(array, dim, index):
        return np.take(array, index, axis=dim)

    @staticmethod
    def as_tensor(values, device):
        return np.asarray(values)


class CpuStandIn:
    """An ahead-of-time kernel's interface (test/gpu/linac_aot.py) over a CPU kernel."""

    def __init__(self, kernel):
        self.kernel, self.metadata = kernel, kernel.metadata
        self.arg_names = [arg["name"] for arg in kernel.metadata["args"]]

    def launch(self, args: dict) -> None:
        self.kernel.run_cpu(args)


@pytest.mark.parametrize("varlen", [False, True])
def test_gpu_orchestration_runs_segments(varlen: bool, rng: np.random.Generator) -> None:
    # run_segmented_aot, as test/gpu/test_gpu_ops.py calls it with CUDA tensors and AOT
    # kernels, on numpy arrays and CPU kernels.
    spec = next(s for s in CHUNKED_SPECS if s.kernel == "chunk_gated_delta_rule")
    B, T, H, K, V = (1, 90, 2, 16, 16) if varlen else (2, 45, 2, 16, 16)
    cu = np.array([0, 5, 5, 21, 90]) if varlen else None
    N = 4 if varlen else B
    x = spec.inputs(rng, B, T, H, K, V)
    s0 = make_state(rng, N, H, K, V)
    kernel = _runtime.get_kernel(spec.kernel, K, V, "f32", "cpu", 16, 0)
    state_pass = _runtime.get_kernel(spec.kernel, K, V, "f32", "cpu", 16, 0, state_checkpoints=1)
    args = {
        "q": x.q, "k": x.k, "v": x.v, "g": x.g, "beta": x.beta, "initial_state": s0,
        "output": np.zeros((B, T, H, V), dtype=np.float32),
        "final_state": np.zeros((N, H, K, V), dtype=np.float32),
        "cu_seqlens": np.empty(0, dtype=np.int64) if cu is None else cu,
        "scale": K**-0.5,
    }  # fmt: skip
    seg = _segments.run_segmented_aot(NumpyTorch, CpuStandIn(state_pass), CpuStandIn(kernel), args)
    assert len(seg.start_rows) == (8 if varlen else 6)
    ref_o, ref_final = spec.reference(x, initial_state=s0, cu_seqlens=cu)
    assert relative_rms_error(ref_o, args["output"]) <= spec.tolerance(np.float32)
    assert relative_rms_error(ref_final, args["final_state"]) <= spec.tolerance(np.float32)


class NumpyCuda(NumpyTorch):
    """NumpyTorch plus what benchmarks/gpu_ops.py's segmented_call asks of torch."""

    bfloat16 = np.float32
    cuda = SimpleNamespace(
        get_device_properties=lambda index: SimpleNamespace(multi_processor_count=132)
    )

    @staticmethod
    def index_select(array, dim, index, out=None):
        if out is None:
            return np.take(array, index, axis=dim)
        out[...] = np.take(array, index, axis=dim)
        return out


def test_benchmark_times_the_segments_auto_plans(tmp_path, rng: np.random.Generator) -> None:
    # gpu_ops.segmented_call on one sequence and head of 1024 tokens (64 chunks of 16, one
    # block on 132 multiprocessors): auto plans segments of 4 chunks, loads that state pass
    # from the bundle's kernels/segments/m4, and the call's output is the recurrence's.
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "test" / "gpu"))
    import gpu_ops

    spec = next(s for s in CHUNKED_SPECS if s.kernel == "chunk_simple_gla")
    B, T, H, K = 1, 1024, 1, 16
    x = spec.inputs(rng, B, T, H, K, K)
    p = {"B": B, "T": T, "H": H, "K": K, "V": K, "q": x.q, "k": x.k, "v": x.v, "g": x.g}
    kernel = _runtime.get_kernel(spec.kernel, K, K, "f32", "cpu", 16, 0)
    loaded = []

    def load(folder, name):
        loaded.append(folder.relative_to(tmp_path).as_posix())
        chunks = int(folder.parent.name[1:])
        return Bindable(
            _runtime.get_kernel(name, K, K, "f32", "cpu", 16, 0, state_checkpoints=chunks)
        )

    runtime = SimpleNamespace(load=load)
    folder = tmp_path / "kernels" / "f32_k16_v16"
    chunks, call = gpu_ops.segmented_call(
        NumpyCuda, runtime, tmp_path, folder, Bindable(kernel), "simple_gla", p
    )
    assert chunks == 4 and loaded == ["kernels/segments/m4/f32_k16_v16"]
    ref_o, _ = spec.reference(x)
    assert relative_rms_error(ref_o, call()) <= spec.tolerance(np.float32)
    # A problem whose grid fills the GPU is not segmented.
    wide = {**p, "B": 600}
    assert gpu_ops.segmented_call(
        NumpyCuda, runtime, tmp_path, folder, Bindable(kernel), "", wide
    ) == (0, None)


class Bindable(CpuStandIn):
    """CpuStandIn with linac_aot's bind: a launcher of the kernel on fixed arguments."""

    def bind(self, args: dict):
        return lambda: self.kernel.run_cpu(args)


def test_gpu_orchestration_runs_mamba2_segments(rng: np.random.Generator) -> None:
    # Mamba-2's tokens are x, dt, B and C (named by the kernel's metadata); A, D and
    # dt_bias are per head and pass through.
    from linac.reference import mamba2
    from optable import make_mamba2_inputs

    B, T, H, P, N = 2, 75, 2, 16, 16
    x = make_mamba2_inputs(rng, B, T, H, P, 1, N)
    kernel = _runtime.get_kernel("chunk_mamba2", N, P, "f32", "cpu", 16, 0, dt_softplus=True)
    state_pass = _runtime.get_kernel(
        "chunk_mamba2", N, P, "f32", "cpu", 16, 0, dt_softplus=True, state_checkpoints=2
    )
    assert _segments.token_inputs(kernel.metadata) == ("x", "dt", "B", "C")
    args = {
        "x": x.x, "dt": x.dt, "A": x.A, "B": x.B, "C": x.C,
        "D": np.zeros((H, P), np.float32), "dt_bias": x.dt_bias,
        "initial_state": np.zeros((0, H, N, P), np.float32),
        "output": np.zeros((B, T, H, P), np.float32),
        "final_state": np.zeros((B, H, N, P), np.float32),
        "cu_seqlens": np.empty(0, dtype=np.int64),
    }  # fmt: skip
    plan = _segments.run_segmented_aot(NumpyTorch, CpuStandIn(state_pass), CpuStandIn(kernel), args)
    assert len(plan.start_rows) == 6  # 3 segments of 32 tokens a sequence
    ref_y, ref_final = mamba2(x.x, x.dt, x.A, x.B, x.C, dt_bias=x.dt_bias, dt_softplus=True)
    assert relative_rms_error(ref_y, args["output"]) <= 1e-5
    # The kernel keeps a state as [d_state, P]; mamba_ssm (and the reference) as [P, d_state].
    assert relative_rms_error(ref_final, args["final_state"].transpose(0, 1, 3, 2)) <= 1e-5
