"""linac's command line.

- `python -m linac demo`: compile every built-in kernel for the CPU and for sm_90, run each op
  on the CPU and check it against the float64 reference; exit code 1 if a check fails.
- `python -m linac ops`: list the built-in kernels.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import _linac, ops, reference

# The embedded example: small enough to check against the step-by-step reference in a second.
B, T, H, K, V = 2, 200, 4, 64, 64
HOUSEHOLDER = 2  # DeltaProduct's steps per token, in the example and in the compile step
# Mamba-2 runs with dstate K and headdim V, one group, chunks of MAMBA_CHUNK tokens (the CPU's
# default); Mamba-1 with SCAN_DIM channels and dstate SCAN_STATE (its kernels are compiled for a
# headdim of 1). Both with the dt transform softplus(dt + dt_bias), in the example and in the
# compile step.
MAMBA_CHUNK = 64
SCAN_DIM, SCAN_STATE = 128, 16
SEED = 2024
# Relative RMS error, float32: plain updates round like a matmul; the delta rules' UT transform
# (a triangular solve per chunk) and products of (I - beta k k^T) round a little more.
TOLERANCE = 1e-5
DELTA_TOLERANCE = 1e-4
GPU_TARGET, GPU_DTYPE = "sm_90", "bf16"


@dataclass(frozen=True)
class DemoOp:
    """How the demo calls the op behind a built-in kernel."""

    op: Callable
    # "none", "data" (the op takes g per head), "vector" (g per key channel), "retention"
    # (fixed per head, not an argument) or "absent" (the op takes g=None: no decay)
    gate: str = "none"
    normalize: bool | None = None  # None: the op has no `normalize` argument
    delta: bool = False  # a delta rule: takes beta, uses unit keys
    householder: int = 1  # DeltaProduct: keys, values and betas per token
    # "recurrence" (q, k, v, ... -> o, final_state), "noncausal" (-> o), "mamba2" (mamba_ssm's
    # Mamba-2 signature) or "selective_scan" (Mamba-1's)
    form: str = "recurrence"
    gated: bool = False  # Mamba: with the silu(z) gate

    @property
    def tolerance(self) -> float:
        """The relative RMS error allowed against the reference."""
        return DELTA_TOLERANCE if self.delta else TOLERANCE


DEMO_OPS = {
    "chunk_linear_attn": DemoOp(ops.chunk_linear_attn, normalize=False),
    "chunk_linear_attn_normalized": DemoOp(ops.chunk_linear_attn, normalize=True),
    "fused_recurrent_linear_attn": DemoOp(ops.fused_recurrent_linear_attn, normalize=False),
    "fused_recurrent_linear_attn_normalized": DemoOp(
        ops.fused_recurrent_linear_attn, normalize=True
    ),
    "chunk_retention": DemoOp(ops.chunk_retention, gate="retention"),
    "fused_recurrent_retention": DemoOp(ops.fused_recurrent_retention, gate="retention"),
    "chunk_simple_gla": DemoOp(ops.chunk_simple_gla, gate="data"),
    "fused_recurrent_simple_gla": DemoOp(ops.fused_recurrent_simple_gla, gate="data"),
    "chunk_gla": DemoOp(ops.chunk_gla, gate="vector"),
    "fused_recurrent_gla": DemoOp(ops.fused_recurrent_gla, gate="vector"),
    "chunk_delta_rule": DemoOp(ops.chunk_delta_rule, delta=True),
    "fused_recurrent_delta_rule": DemoOp(ops.fused_recurrent_delta_rule, delta=True),
    "chunk_gated_delta_rule": DemoOp(ops.chunk_gated_delta_rule, gate="data", delta=True),
    "fused_recurrent_gated_delta_rule": DemoOp(
        ops.fused_recurrent_gated_delta_rule, gate="data", delta=True
    ),
    "chunk_gated_delta_product": DemoOp(
        ops.chunk_gated_delta_product, gate="data", delta=True, householder=HOUSEHOLDER
    ),
    "chunk_delta_product": DemoOp(
        ops.chunk_gated_delta_product, gate="absent", delta=True, householder=HOUSEHOLDER
    ),
    "noncausal_linear_attn": DemoOp(ops.linear_attn_noncausal, normalize=False, form="noncausal"),
    "noncausal_linear_attn_normalized": DemoOp(
        ops.linear_attn_noncausal, normalize=True, form="noncausal"
    ),
    "chunk_mamba2": DemoOp(ops.mamba_chunk_scan_combined, form="mamba2"),
    "chunk_mamba2_gated": DemoOp(ops.mamba_chunk_scan_combined, form="mamba2", gated=True),
    "fused_recurrent_mamba2": DemoOp(ops.fused_recurrent_mamba2, form="mamba2"),
    "fused_recurrent_mamba2_gated": DemoOp(ops.fused_recurrent_mamba2, form="mamba2", gated=True),
    "selective_scan": DemoOp(ops.selective_scan_fn, form="selective_scan"),
    "selective_scan_gated": DemoOp(ops.selective_scan_fn, form="selective_scan", gated=True),
}


def compile_options(name: str) -> dict:
    """The compile options of a built-in kernel in the demo: DeltaProduct's Householder steps
    and the Mamba kernels' dt transform (dt_softplus). Chunk sizes are each target's default."""
    demo = DEMO_OPS.get(name)
    if demo is None:
        return {}
    if demo.form in ("mamba2", "selective_scan"):
        return {"dt_softplus": True}
    return {"householder": demo.householder} if demo.householder > 1 else {}


def compile_sizes(name: str) -> tuple[int, int]:
    """The head sizes a built-in kernel is compiled for in the demo: those the example runs
    (Mamba-2: dstate and headdim; Mamba-1: dstate and 1)."""
    demo = DEMO_OPS.get(name)
    if demo is not None and demo.form == "selective_scan":
        return SCAN_STATE, 1
    return K, V


def find_ptxas() -> str | None:
    """The ptxas linac uses: $LINAC_PTXAS (empty: none), PATH, $CUDA_HOME/bin, /usr/local/cuda/bin."""
    if "LINAC_PTXAS" in os.environ:
        return os.environ["LINAC_PTXAS"] or None
    folders = [os.path.join(os.environ["CUDA_HOME"], "bin")] if "CUDA_HOME" in os.environ else []
    for path in [None, *folders, "/usr/local/cuda/bin"]:
        found = shutil.which("ptxas", path=path)
        if found:
            return found
    return None


@dataclass
class Example:
    """Fixed inputs: Gaussian and positive q, k (the latter for normalized attention), unit
    keys and step sizes for the delta rules, DeltaProduct's keys, values and step sizes
    (HOUSEHOLDER per token), and the Mamba-2 and Mamba-1 arguments in mamba_ssm's layouts,
    drawn as mamba_ssm initializes its layers (A, dt_bias)."""

    q: np.ndarray
    k: np.ndarray
    q_positive: np.ndarray
    k_positive: np.ndarray
    v: np.ndarray
    g: np.ndarray
    g_vector: np.ndarray
    k_unit: np.ndarray
    beta: np.ndarray
    k_product: np.ndarray
    v_product: np.ndarray
    beta_product: np.ndarray
    initial_state: np.ndarray
    mamba2: dict
    selective_scan: dict

    @staticmethod
    def make() -> Example:
        """The example of the demo, from a fixed seed."""
        rng = np.random.default_rng(SEED)

        def normal(*shape: int) -> np.ndarray:
            return rng.standard_normal(shape).astype(np.float32)

        def unit(*shape: int) -> np.ndarray:
            x = normal(*shape)
            return x / np.linalg.norm(x, axis=-1, keepdims=True)

        def log_sigmoid(*shape: int, shift: float = 2.0) -> np.ndarray:
            return -np.logaddexp(0.0, -normal(*shape) - shift).astype(np.float32)

        def sigmoid(*shape: int) -> np.ndarray:
            return (1.0 / (1.0 + np.exp(-normal(*shape)))).astype(np.float32)

        def dt_bias(size: int) -> np.ndarray:
            # mamba_ssm: softplus(dt_bias) log-uniform in [1e-3, 1e-1].
            dt = np.exp(rng.uniform(np.log(1e-3), np.log(1e-1), size))
            return (dt + np.log(-np.expm1(-dt))).astype(np.float32)

        n = HOUSEHOLDER
        return Example(
            q=normal(B, T, H, K),
            k=normal(B, T, H, K),
            # q . sum(k) of Gaussian features crosses zero; normalized attention needs positive ones.
            q_positive=np.exp(0.5 * normal(B, T, H, K)),
            k_positive=np.exp(0.5 * normal(B, T, H, K)),
            v=normal(B, T, H, V),
            g=log_sigmoid(B, T, H),
            g_vector=log_sigmoid(B, T, H, K, shift=4.0),
            # The delta rules: with |k| = 1 and beta in (0, 2), I - beta k k^T has eigenvalues
            # in (-1, 1], so the state stays bounded (Gaussian keys would make it diverge).
            k_unit=unit(B, T, H, K),
            beta=sigmoid(B, T, H),
            k_product=unit(B, T * n, H, K),
            v_product=normal(B, T * n, H, V),
            beta_product=sigmoid(B, T * n, H),
            initial_state=normal(B, H, K, V),
            # Mamba-2: x, z [B, T, H, headdim V]; B, C [B, T, 1 group, dstate K]; A in [-16, -1].
            mamba2={
                "x": normal(B, T, H, V),
                "dt": normal(B, T, H),
                "A": -np.exp(rng.uniform(0.0, np.log(16.0), H)).astype(np.float32),
                "B": normal(B, T, 1, K),
                "C": normal(B, T, 1, K),
                "D": normal(H),
                "z": normal(B, T, H, V),
                "dt_bias": dt_bias(H),
                "initial_states": normal(B, H, V, K),
            },
            # Mamba-1, channels first: u, delta, z [B, SCAN_DIM, T]; B, C [B, SCAN_STATE, T];
            # A = -(1, 2, ..., SCAN_STATE) for every channel (S4D-real).
            selective_scan={
                "u": normal(B, SCAN_DIM, T),
                "delta": normal(B, SCAN_DIM, T),
                "A": -np.tile(np.arange(1, SCAN_STATE + 1, dtype=np.float32), (SCAN_DIM, 1)),
                "B": normal(B, SCAN_STATE, T),
                "C": normal(B, SCAN_STATE, T),
                "D": normal(SCAN_DIM),
                "z": normal(B, SCAN_DIM, T),
                "delta_bias": dt_bias(SCAN_DIM),
                "initial_state": normal(B, SCAN_DIM, SCAN_STATE),
            },
        )


@dataclass
class Row:
    """The results of one kernel."""

    name: str
    cpu_ms: float | None = None
    cpu_cached: bool = False
    gpu_ms: float | None = None
    gpu_cached: bool = False
    ptx: str = "-"  # "yes", "no", "no ptxas"
    max_abs: float | None = None
    rel_o: float | None = None
    rel_state: float | None = None
    run_ms: float | None = None
    error: str | None = None
    note: str | None = None  # not a failure

    tolerance: float = TOLERANCE

    @property
    def failed(self) -> bool:
        """Whether a compile, the PTX check or the comparison failed."""
        errors = (self.rel_o, self.rel_state)
        too_large = any(e is not None and not e <= self.tolerance for e in errors)
        return self.error is not None or self.ptx == "no" or too_large


def _compile(name: str, target: str, dtype: str) -> tuple[_linac.CompileResult, float]:
    start = time.perf_counter()
    head_dim_k, head_dim_v = compile_sizes(name)
    result = _linac.compile_builtin(
        name, target, head_dim_k, head_dim_v, dtype, **compile_options(name)
    )
    return result, 1e3 * (time.perf_counter() - start)


def _inputs(demo: DemoOp, example: Example) -> tuple[list, dict, dict]:
    """The op's positional arguments, its keyword arguments and the reference's arguments."""
    if demo.normalize:
        q, k, v = example.q_positive, example.k_positive, example.v
    elif demo.householder > 1:
        q, k, v = example.q, example.k_product, example.v_product
    elif demo.delta:
        q, k, v = example.q, example.k_unit, example.v
    else:
        q, k, v = example.q, example.k, example.v
    g = {
        "none": None,
        "absent": None,
        "data": example.g,
        "vector": example.g_vector,
        "retention": np.broadcast_to(ops.retention_decays(H), (B, T, H)),
    }[demo.gate]
    beta = None
    if demo.delta:
        beta = example.beta_product if demo.householder > 1 else example.beta
    args = [q, k, v]
    if demo.gate in ("data", "vector", "absent"):
        args.append(g)
    if demo.delta:
        args.append(beta)
    kwargs = {"initial_state": example.initial_state, "output_final_state": True}
    if demo.normalize is not None:
        kwargs["normalize"] = demo.normalize
    if demo.householder > 1:
        kwargs["num_householder"] = demo.householder
    reference_args = {
        "q": q,
        "k": k,
        "v": v,
        "g": g,
        "beta": beta,
        "initial_state": example.initial_state,
        "normalize": bool(demo.normalize),
        "householder": demo.householder,
    }
    return args, kwargs, reference_args


Call = Callable[[], tuple[np.ndarray, np.ndarray | None]]


def _calls(demo: DemoOp, example: Example) -> tuple[Call, Call]:
    """The op and its float64 reference on the example, each returning (outputs, final state
    or None)."""
    if demo.form == "noncausal":
        q, k = example.q, example.k
        if demo.normalize:
            q, k = example.q_positive, example.k_positive

        def noncausal() -> tuple[np.ndarray, None]:
            return demo.op(q, k, example.v, normalize=demo.normalize), None

        def noncausal_reference() -> tuple[np.ndarray, None]:
            o = reference.noncausal_linear_attn(q, k, example.v, normalize=demo.normalize)
            return o, None

        return noncausal, noncausal_reference
    if demo.form in ("mamba2", "selective_scan"):
        arguments = dict(example.mamba2 if demo.form == "mamba2" else example.selective_scan)
        if not demo.gated:
            arguments["z"] = None
        if demo.form == "mamba2":
            chunk = {"chunk_size": MAMBA_CHUNK} if demo.op is ops.mamba_chunk_scan_combined else {}
            options = {"dt_softplus": True, "return_final_states": True, **chunk}
            ssm_reference = reference.mamba2
        else:
            options = {"delta_softplus": True, "return_last_state": True}
            ssm_reference = reference.selective_scan

        def ssm() -> tuple[np.ndarray, np.ndarray]:
            return demo.op(**arguments, **options)

        def ssm_reference_call() -> tuple[np.ndarray, np.ndarray]:
            softplus = {"dt_softplus" if demo.form == "mamba2" else "delta_softplus": True}
            return ssm_reference(**arguments, **softplus)

        return ssm, ssm_reference_call

    args, kwargs, reference_args = _inputs(demo, example)
    return (lambda: demo.op(*args, **kwargs)), (lambda: reference.recurrence(**reference_args))


def _run(demo: DemoOp, example: Example, row: Row) -> None:
    """Runs the op (three timed calls after a first one) and compares it with the reference."""
    run, run_reference = _calls(demo, example)
    o, final_state = run()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    row.run_ms = 1e3 * min(times)

    ref_o, ref_state = run_reference()
    row.max_abs = float(np.max(np.abs(ref_o - o)))
    row.rel_o = reference.relative_rms_error(ref_o, o)
    if ref_state is not None:
        row.rel_state = reference.relative_rms_error(ref_state, final_state)


def _check_kernel(name: str, example: Example, has_ptxas: bool) -> Row:
    demo = DEMO_OPS.get(name)
    row = Row(name, tolerance=demo.tolerance if demo else TOLERANCE)
    try:
        cpu, row.cpu_ms = _compile(name, "cpu", "f32")
        row.cpu_cached = cpu.from_cache
        gpu, row.gpu_ms = _compile(name, GPU_TARGET, GPU_DTYPE)
        row.gpu_cached = gpu.from_cache
    except _linac.CompileError as error:
        row.error = f"compile error: {str(error).splitlines()[0]}"
        return row
    if f".entry {name}(" not in gpu.ptx:
        row.ptx = "no"
    elif gpu.cubin:
        row.ptx = "yes"
    else:
        row.ptx = "no" if has_ptxas else "no ptxas"
    if demo is None:
        row.note = "not run: no example for this kernel in linac/__main__.py"
        return row
    try:
        _run(demo, example, row)
    except Exception as error:  # noqa: BLE001 - any failure of the op is reported, not raised
        row.error = f"run error: {type(error).__name__}: {error}"
    return row


def _ms(value: float | None, cached: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.1f} ms" + (" (cached)" if cached else "")


def _sci(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


COLUMNS = [
    ("kernel", 38, "<"),
    ("cpu compile", 20, "<"),
    (f"{GPU_TARGET} compile", 20, "<"),
    ("PTX", 8, "<"),
    ("max|err| o", 10, ">"),
    ("rel rms o", 10, ">"),
    ("rel rms S", 10, ">"),
    ("run", 10, ">"),
]


def _line(cells: Sequence[str]) -> str:
    return "  ".join(f"{cell:{align}{width}}" for cell, (_, width, align) in zip(cells, COLUMNS))


def _format(row: Row) -> str:
    cells = [
        row.name,
        _ms(row.cpu_ms, row.cpu_cached),
        _ms(row.gpu_ms, row.gpu_cached),
        row.ptx,
        _sci(row.max_abs),
        _sci(row.rel_o),
        _sci(row.rel_state),
        _ms(row.run_ms),
    ]
    line = _line(cells).rstrip()
    if row.error or row.note:
        line += f"  {row.error or row.note}"
    elif row.failed:
        line += f"  FAILED (tolerance {row.tolerance:.0e})"
    return line


def demo() -> int:
    """Compiles, runs and checks every built-in kernel; prints a report; 1 if a check fails."""
    ptxas = find_ptxas()
    kernels = [entry[0] for entry in _linac.builtin_kernels()]
    print(f"linac {_linac.version} demo: {len(kernels)} built-in kernels, K = V = {K}")
    print(f"  compile: cpu (f32) and {GPU_TARGET} ({GPU_DTYPE}); cache {_linac.cache_dir()}")
    print(f"  ptxas:   {ptxas or 'not found (PTX is not assembled)'}")
    print(
        f"  run:     on the CPU, B={B} T={T} H={H}, float32, with an initial state; "
        f"DeltaProduct with {HOUSEHOLDER} Householder steps per token"
    )
    print(
        f"           Mamba-2 with dstate {K}, headdim {V}, chunks of {MAMBA_CHUNK}; Mamba-1 with "
        f"{SCAN_DIM} channels, dstate {SCAN_STATE}; both with dt_softplus"
    )
    print(
        f"  check:   against the float64 step-by-step reference, relative RMS <= {TOLERANCE:.0e} "
        f"(delta rules {DELTA_TOLERANCE:.0e})"
    )
    print()
    print(_line([title for title, _, _ in COLUMNS]).rstrip(), flush=True)
    example = Example.make()
    rows = []
    for name in kernels:
        rows.append(_check_kernel(name, example, ptxas is not None))
        print(_format(rows[-1]), flush=True)

    compiled = sum(row.cpu_ms is not None and row.gpu_ms is not None for row in rows)
    verified = sum(row.ptx == "yes" for row in rows)
    ptx = f"PTX verified {verified}/{len(rows)}" if ptxas else "PTX verified: ptxas not found"
    errors = [e for row in rows for e in (row.rel_o, row.rel_state) if e is not None]
    max_error = f"{max(errors):.1e}" if errors else "-"
    failed = [row.name for row in rows if row.failed]
    print()
    not_run = [row.name for row in rows if row.rel_o is None and row.error is None]
    checked = f"checked {len(rows) - len(not_run)}/{len(rows)}"
    print(
        f"kernels compiled {compiled}/{len(rows)}, {ptx}, {checked}, max rel rms error "
        f"{max_error} (tolerance {TOLERANCE:.0e}, delta rules {DELTA_TOLERANCE:.0e}): "
        + (f"FAILED ({', '.join(failed)})" if failed else "ok"),
        flush=True,
    )
    return 1 if failed else 0


def list_ops() -> int:
    """Prints the built-in kernels: name, family, form and description."""
    kernels = _linac.builtin_kernels()
    width = max(len(entry[0]) for entry in kernels)
    for name, family, mode, _, description in kernels:
        print(f"{name:<{width}}  {family:<12}  {mode:<9}  {description}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parses ``argv`` and runs the command; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m linac",
        description="linac: a compiler for linear recurrences on tiles.",
    )
    commands = parser.add_subparsers(dest="command", metavar="command")
    commands.add_parser(
        "demo",
        help=f"compile every built-in kernel for the CPU and {GPU_TARGET}, run each op on the "
        "CPU and check it against the float64 reference",
    )
    commands.add_parser("ops", help="list the built-in kernels")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    if args.command == "ops":
        return list_ops()
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
