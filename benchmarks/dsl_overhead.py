"""The cost of the DSL's JIT path: cold compile time per kernel and warm-call overhead.

    python benchmarks/dsl_overhead.py

For each DSL definition of `linac.ops.definitions` (and a sequential step), in a fresh kernel
cache: the first call (trace + compile + load, reported with the compiler's own `compile_ms`),
then, on a tiny input (one token, one head, K = V = 16), the best mean time of a warm call
against `LoadedKernel.run_cpu` alone (the kernel's own run time with the same arguments) and
against the same warm call with the kernel replaced by one that does nothing: the Python call
path alone (cache lookup, validation, DLPack/numpy conversion, output allocation). With
OMP_NUM_THREADS unset a tiny kernel's time is mostly waking OpenMP threads; set it to 1 to see
the kernel itself. Timings on shared machines are noisy: compare within one run.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings

import numpy as np

os.environ.setdefault("LINAC_CACHE_DIR", tempfile.mkdtemp(prefix="linac-dsl-bench-"))

import linac
from linac import outer, tanh
from linac.ops import definitions


@linac.recurrence
def tanh_state(q, k, v, S, *, scale):
    S = tanh(S) + outer(k, v)
    return S, scale * (S.T @ q)


def best_mean(fn, calls: int = 2000, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    B, T, H, K, V = 1, 1, 1, 16, 16
    q, k, v = (rng.standard_normal((B, T, H, K)).astype(np.float32) for _ in range(3))
    scalar_g = np.zeros((B, T, H), np.float32)
    vector_g = np.zeros((B, T, H, K), np.float32)
    beta = np.full((B, T, H), 0.5, np.float32)
    steps = [
        ("linear_attn", definitions.linear_attn, (q, k, v)),
        ("simple_gla", definitions.simple_gla, (q, k, v, scalar_g)),
        ("gla", definitions.gla, (q, k, v, vector_g)),
        ("delta_rule", definitions.delta_rule, (q, k, v, beta)),
        ("gated_delta_rule", definitions.gated_delta_rule, (q, k, v, scalar_g, beta)),
        ("tanh_state (sequential)", tanh_state, (q, k, v)),
    ]
    print(
        f"{'kernel':26s} {'cold call':>10s} {'compile':>10s} {'warm call':>10s} "
        f"{'run_cpu':>10s} {'python':>10s}"
    )
    warnings.simplefilter("ignore", linac.SequentialWarning)
    for name, step, inputs in steps:
        start = time.perf_counter()
        step(*inputs, scale=0.5)
        cold = time.perf_counter() - start
        (kernel,) = step._kernels.values()
        call = {"scale": 0.5, "initial_state": None, "cu_seqlens": None}
        _, _, args, _ = step._problem(inputs, {}, call)
        args["output"] = np.empty((B, T, H, V), np.float32)
        args["final_state"] = np.empty((0, H, K, V), np.float32)
        warm = best_mean(lambda step=step, inputs=inputs: step(*inputs, scale=0.5))
        run = best_mean(lambda kernel=kernel, args=args: kernel.run_cpu(args))
        # The Python call path alone: the same warm call with a kernel that does nothing.
        cpu, kernel.cpu = kernel.cpu, _NoKernel()
        python = best_mean(lambda step=step, inputs=inputs: step(*inputs, scale=0.5))
        kernel.cpu = cpu
        print(
            f"{name:26s} {cold * 1e3:8.0f}ms {kernel.result.compile_ms:8.0f}ms "
            f"{warm * 1e6:8.1f}us {run * 1e6:8.1f}us {python * 1e6:8.1f}us"
        )


class _NoKernel:
    """Stands in for the CPU kernel to time the Python call path alone."""

    def run(self, args) -> None:
        pass


if __name__ == "__main__":
    main()
