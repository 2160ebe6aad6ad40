"""CPU benchmark: linac's `chunk_simple_gla` against the same chunked algorithm written in
numpy (BLAS matmuls per chunk) and a naive numpy recurrence, token by token, side by side in
one run.

    python3 benchmarks/cpu_ops.py [--B 2] [--T 4096] [--H 4] [--K 64] [--V 64] [--json PATH]

GFLOP/s counts the flops of the chunked algorithm for every row (so the column compares the
rows on one scale): per (sequence, head) and chunk of C tokens (the last one may be shorter),

    2*C*C*K (Q K^T)  +  2*C*K*V (Q S)  +  2*C*C*V (P V)  +  2*C*K*V (state: (K e^..)^T V)

with elementwise work (decays, mask, scaling) not counted. The naive recurrence itself does
about 5*T*K*V flops per (sequence, head) (decay, outer product, readout), fewer than that;
its GFLOP/s is the effective rate on the chunked count, not the rate it computes at. All three
run at the full T.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
from linac import ops
from linac.reference import relative_rms_error

CHUNK = 64


def chunked_simple_gla(q, k, v, g, scale: float) -> np.ndarray:
    """Simple GLA, chunked, in numpy float32: per (b, h) and chunk of CHUNK tokens,
    G = cumsum(g), P = (Q K^T) * exp(G_i - G_j) (causal), O = scale (e^G Q S + P V),
    S <- e^(G_last) S + (K e^(G_last - G))^T V."""
    B, T, H, K = q.shape
    V = v.shape[-1]
    o = np.empty((B, T, H, V), dtype=np.float32)
    for b in range(B):
        for h in range(H):
            S = np.zeros((K, V), dtype=np.float32)
            for start in range(0, T, CHUNK):
                end = min(start + CHUNK, T)
                Q, Kc, Vc = q[b, start:end, h], k[b, start:end, h], v[b, start:end, h]
                G = np.cumsum(g[b, start:end, h])
                exponent = G[:, None] - G[None, :]
                # Mask before exp: above the diagonal G_i - G_j > 0 and may overflow.
                decay = np.exp(np.where(np.tri(end - start, dtype=bool), exponent, -np.inf))
                P = (Q @ Kc.T) * decay
                o[b, start:end, h] = scale * (np.exp(G)[:, None] * (Q @ S) + P @ Vc)
                S = np.exp(G[-1]) * S + (Kc * np.exp(G[-1] - G)[:, None]).T @ Vc
    return o


def naive_simple_gla(q, k, v, g, scale: float) -> np.ndarray:
    """Simple GLA, one token at a time (vectorized over batch and heads), numpy float32."""
    B, T, H, K = q.shape
    V = v.shape[-1]
    S = np.zeros((B, H, K, V), dtype=np.float32)
    o = np.empty((B, T, H, V), dtype=np.float32)
    for t in range(T):
        S = np.exp(g[:, t])[:, :, None, None] * S + k[:, t, :, :, None] * v[:, t, :, None, :]
        o[:, t] = scale * np.einsum("bhk,bhkv->bhv", q[:, t], S)
    return o


def chunked_flops(B: int, T: int, H: int, K: int, V: int) -> int:
    """The chunked algorithm's flop count (see the module docstring)."""
    total = 0
    for start in range(0, T, CHUNK):
        C = min(CHUNK, T - start)
        total += 2 * C * C * K + 2 * C * K * V + 2 * C * C * V + 2 * C * K * V
    return B * H * total


def time_runs(function: Callable[[], object], repetitions: int) -> list[float]:
    """Seconds of each of ``repetitions`` calls, after one warm-up call."""
    function()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def machine() -> dict:
    """The CPU model, core counts and numpy's BLAS."""
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line)
    except (OSError, StopIteration):
        pass
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        blas_line = f"{blas['name']} {blas['version']}: {blas.get('openblas configuration', '')}"
    except (AttributeError, KeyError):
        blas_line = "unknown"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "numpy": np.__version__,
        "blas": blas_line.strip(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }


def main() -> None:
    """Checks linac against the numpy chunked algorithm, then times the three side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--B", type=int, default=2)
    parser.add_argument("--T", type=int, default=4096)
    parser.add_argument("--H", type=int, default=4)
    parser.add_argument("--K", type=int, default=64)
    parser.add_argument("--V", type=int, default=64)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--json", metavar="PATH", help="write the records to PATH")
    args = parser.parse_args()
    B, T, H, K, V = args.B, args.T, args.H, args.K, args.V

    rng = np.random.default_rng(0)
    q = rng.standard_normal((B, T, H, K), dtype=np.float32)
    k = rng.standard_normal((B, T, H, K), dtype=np.float32)
    v = rng.standard_normal((B, T, H, V), dtype=np.float32)
    g = -np.logaddexp(0.0, -rng.standard_normal((B, T, H), dtype=np.float32) - 2.0)  # log sigmoid
    scale = K**-0.5

    expected = chunked_simple_gla(q, k, v, g, scale)
    error = relative_rms_error(expected, ops.chunk_simple_gla(q, k, v, g)[0])
    if not error < 1e-4:
        raise SystemExit(f"linac differs from the numpy chunked algorithm: rel RMS {error:.2e}")
    naive_error = relative_rms_error(expected, naive_simple_gla(q, k, v, g, scale))
    if not naive_error < 1e-4:
        raise SystemExit(f"the naive recurrence differs from the chunked one: {naive_error:.2e}")

    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable)")
    print(f"numpy {info['numpy']}, BLAS {info['blas']}")
    print(
        f"chunk_simple_gla fp32, B={B} T={T} H={H} K={K} V={V}, chunk {CHUNK}; "
        f"linac vs numpy chunked rel RMS {error:.1e}; "
        f"min and median of {args.repetitions} runs after a warm-up"
    )
    flops = chunked_flops(B, T, H, K, V)
    candidates = [
        ("linac chunk_simple_gla", lambda: ops.chunk_simple_gla(q, k, v, g)),
        ("numpy chunked (BLAS)", lambda: chunked_simple_gla(q, k, v, g, scale)),
        ("numpy naive recurrence", lambda: naive_simple_gla(q, k, v, g, scale)),
    ]
    records = []
    for name, function in candidates:
        times = time_runs(function, args.repetitions)
        records.append(
            {
                "name": name,
                "min_ms": 1e3 * min(times),
                "median_ms": 1e3 * statistics.median(times),
                "gflops": flops / min(times) / 1e9,
            }
        )
    linac_ms = records[0]["min_ms"]
    print()
    print(f"{'implementation':<24}{'min ms':>10}{'median ms':>12}{'GFLOP/s':>10}{'linac/this':>12}")
    for record in records:
        record["linac_over_this"] = linac_ms / record["min_ms"]
        print(
            f"{record['name']:<24}{record['min_ms']:>10.2f}{record['median_ms']:>12.2f}"
            f"{record['gflops']:>10.2f}{record['linac_over_this']:>12.3f}"
        )
    print(f"\nGFLOP/s = {flops / 1e9:.3f} GFLOP (chunked count) / min time; linac/this: time ratio")

    if args.json:
        problem = {"B": B, "T": T, "H": H, "K": K, "V": V, "dtype": "float32", "chunk": CHUNK}
        document = {
            "benchmark": "cpu_ops",
            "op": "chunk_simple_gla",
            "problem": problem,
            "flops": flops,
            "linac_vs_numpy_rel_rms": error,
            "machine": info,
            "records": records,
        }
        with open(args.json, "w") as out:
            json.dump(document, out, indent=2)


if __name__ == "__main__":
    main()
