"""CPU benchmark: linac against the same math in numpy/BLAS (chunked) and a naive numpy
recurrence, side by side in one run, for chunk_simple_gla, chunk_gla, chunk_gated_delta_rule
and the decode step (fused_recurrent_simple_gla on one token with a state).

    python3 benchmarks/cpu_ops.py                 # the full grid (a few minutes)
    python3 benchmarks/cpu_ops.py --quick         # a smoke run (seconds)
    python3 benchmarks/cpu_ops.py --save          # + benchmarks/results/cpu/<date>.json/.png
    python3 benchmarks/cpu_ops.py --json PATH --plot PATH --ops chunk_gla --T 4096 --K 128

Problems: B=2, T in {1024, 4096, 16384}, H=4, K=V in {64, 128}, fp32, chunks of 64; the
decode step at batch 64, H=4, K=V in {64, 128}. Inputs: standard normal q, k, v; gates
g = log sigmoid(N(0,1) + 2) (decays ~0.85 a token; --gate-bias -2 gives ~0.15, whose
in-chunk products underflow); for the delta rule L2-normalized keys, beta = sigmoid(N(0,1)).
Every linac result is checked against the numpy chunked one (and that one against the naive
recurrence) before anything is timed. Times are the min and the median of repeated calls
after a warm-up call (--repetitions, fewer -- at least 3 -- past --budget seconds); linac and
numpy chunked are called in turn (linac, numpy, linac, numpy, ...), so that the machine's slow
moments fall on both alike and the ratio of their minima compares like with like.

The peers
---------
numpy chunked: the chunked algorithm written for numpy, vectorized over (batch, head) and
over a slab of chunks at a time, so that each BLAS call (np.matmul on [B, H, chunks, C, K]
stacks, strided views of the [B, T, H, K] inputs without copies) gets real work: the
intra-chunk products of a whole slab at once, then the sequential scan over the slab's chunk
states, then the inter-chunk readouts at once (the delta rule's scan does its four products
per chunk, batched over (batch, head)). OpenBLAS runs one thread per call (tiny GEMMs gain
nothing from its threads; OPENBLAS_NUM_THREADS=1 unless set) and the (batch, head) pairs are
split over a pool of --numpy-threads Python threads (default: the usable cores, the size of
linac's OpenMP pool; numpy releases the GIL in its kernels). Decays below e^-30 are set to 0,
and so are entries of the delta rule's triangular inverse below e^-30 (no fp32 result
changes), so that no product reaches subnormal floats, which cost x86 ~100x a normal
operation, BLAS included: the numpy forms run at the same speed with and without --ftz. numpy naive: one token at a time, vectorized over batch
and heads, one thread. The decode step's numpy peer is that step, split over the pool.

FLOP counts (the chunked algorithm's, per (sequence, head) and chunk of C tokens, the last
one possibly shorter; elementwise work -- decays, masks, exp, scaling -- not counted; the
score matrices are counted dense, C x C, as the chunked kernels compute them):

    chunk_simple_gla, chunk_gla:
        2 C^2 K (Q K^T) + 2 C K V (Q S) + 2 C^2 V (P V) + 2 C K V (state: K^T V)
    chunk_gated_delta_rule (UT/WY form):
        2 C^2 K (beta K K^T) + 2 sum_{i<C} i^2 (triangular inverse T = (I + L)^-1)
        + 2 C^2 K (W = T beta K e^G) + 2 C^2 V (U = T beta V) + 2 C K V (W S)
        + 2 C^2 K (Q K^T) + 2 C K V (Q S) + 2 C^2 V (P V_new) + 2 C K V (state: K^T V_new)
    decode step (per sequence and head): 5 K V (decay, outer product, readout); its state
        traffic is 2 B H K V 4 bytes (read and write the fp32 state), reported as GB/s.

GFLOP/s = count / min time, the count at C = 64 for numpy (and, as an effective rate, for
the naive rows) and at linac's own chunk size for linac (its CPU default is 32: fewer flops
for the same result, so its time, not its rate, is what compares), and as a fraction of the FMA peak of this machine measured by
benchmarks/fma_peak.c with all usable cores (compiled and run here at the start and the end,
the best of the two used; or --peak-json). Linear scaling: time(T=16384) / (16 time(T=1024))
(1 is linear). Decode: us per step (one token for each of the B sequences) and per token
(/ B), and the state bandwidth against a numpy copy of the same bytes. Decode memory: the
decode loop feeds each step's final state to the next for n steps; the Python-side peak
allocation (tracemalloc, which sees numpy's buffers) and the process RSS must not grow
with n.

--ftz sets flush-to-zero and denormals-are-zero in MXCSR for the process (the threads it
starts inherit it): a diagnostic of what subnormal floats cost linac (with --gate-bias -2).
The machine is shared: the load average is printed and recorded at the start and the end.
"""

from __future__ import annotations

import os

# Before numpy loads OpenBLAS: one BLAS thread per call, threads come from our pool.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import datetime
import functools
import gc
import itertools
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import linac
import numpy as np
from linac import ops
from linac.reference import relative_rms_error

CHUNK = 64
SUB_CHUNK = 16  # chunk_gla's sub-chunks (as linac's and flash-linear-attention's)
SLAB = 16  # chunks per numpy slab
HERE = Path(__file__).resolve().parent
CHUNK_OPS = ("chunk_simple_gla", "chunk_gla", "chunk_gated_delta_rule")
ALL_OPS = (*CHUNK_OPS, "decode")


# ----------------------------------------------------------------------------------------------
# numpy chunked forms. Each takes [B, T, H, *] inputs (any strides) and writes into `out`
# [B, T, H, V] (a view of the result), so that the thread pool can hand each worker a slice of
# (batch, head) pairs.


def _chunks(x: np.ndarray, C: int) -> np.ndarray:
    """[B, T, H, ...] -> [B, H, N, C, ...] as a view (T a multiple of C)."""
    B, T, H = x.shape[:3]
    y = x.reshape(B, T // C, C, H, *x.shape[3:])
    return np.moveaxis(y, 3, 1)


def _padded(arrays: list, C: int) -> tuple[list, int]:
    """Pads [B, T, ...] arrays with zeros to a multiple of C tokens (zero keys, values, gates
    and betas contribute nothing); returns them and the original T."""
    T = arrays[0].shape[1]
    pad = (-T) % C
    if pad == 0:
        return arrays, T
    return [np.pad(a, [(0, 0), (0, pad)] + [(0, 0)] * (a.ndim - 2)) for a in arrays], T


def _with_padding(function):
    """Runs `function(inputs..., scale, out)` on inputs padded to whole chunks."""

    @functools.wraps(function)
    def run(*args):
        *inputs, scale, out = args
        padded, T = _padded(list(inputs), CHUNK)
        if padded[0].shape[1] == T:
            function(*padded, scale, out)
            return
        full = np.empty((out.shape[0], padded[0].shape[1], *out.shape[2:]), np.float32)
        function(*padded, scale, full)
        out[...] = full[:, :T]

    return run


def _causal(C: int, strict: bool = False) -> np.ndarray:
    return np.tri(C, k=-1 if strict else 0, dtype=bool)


# Decays below e^FLUSH are set to 0. They change no result in fp32 (e^-30 ~ 1e-13 of the
# terms they scale), and products of tiny decays would otherwise reach subnormal floats,
# which x86 handles in microcode at ~100x the cost of a normal FMA (BLAS included).
FLUSH = -30.0
TINY = np.float32(np.exp(FLUSH))


def _decay(exponent: np.ndarray, temporary: bool = False) -> np.ndarray:
    """exp(exponent), 0 where the exponent is below FLUSH (computed in place when
    `exponent` is a temporary)."""
    if not temporary:
        exponent = exponent.copy()
    exponent[exponent < FLUSH] = -np.inf
    return np.exp(exponent, out=exponent)


def _pair_decays(G: np.ndarray, strict: bool = False) -> np.ndarray:
    """exp(G_i - G_j) for j <= i (j < i when strict), else 0: [..., C] -> [..., C, C]."""
    C = G.shape[-1]
    exponent = G[..., :, None] - G[..., None, :]
    # Masked before exp: above the diagonal G_i - G_j > 0 may overflow.
    exponent += np.where(_causal(C, strict), 0.0, -np.inf).astype(np.float32)
    return _decay(exponent, temporary=True)


@_with_padding
def numpy_chunk_simple_gla(q, k, v, g, scale, out):
    """Simple GLA: per chunk G = cumsum(g), P = (Q K^T) * exp(G_i - G_j) (causal),
    O = scale (e^G Q S + P V), S <- e^(G_last) S + (K e^(G_last - G))^T V."""
    B, T, H, K = q.shape
    V = v.shape[-1]
    C, N = CHUNK, T // CHUNK
    Q, Kc, Vc, O = _chunks(q, C), _chunks(k, C), _chunks(v, C), _chunks(out, C)
    Gc = _chunks(g, C)  # [B, H, N, C]
    S = np.zeros((B, H, K, V), np.float32)
    for n0 in range(0, N, SLAB):
        sl = slice(n0, min(n0 + SLAB, N))
        Qs, Ks, Vs = Q[:, :, sl], Kc[:, :, sl], Vc[:, :, sl]
        G = np.cumsum(Gc[:, :, sl], axis=-1, dtype=np.float32)
        P = Qs @ Ks.swapaxes(-1, -2)
        P *= _pair_decays(G)
        result = P @ Vs
        G_last = G[..., -1]
        KV = (Ks * _decay(G_last[..., None] - G, True)[..., None]).swapaxes(-1, -2) @ Vs
        states = np.empty_like(KV)  # the state before each chunk of the slab
        a = _decay(G_last)
        for j in range(KV.shape[2]):
            states[:, :, j] = S
            S *= a[:, :, j, None, None]
            S += KV[:, :, j]
        inter = Qs @ states
        inter *= _decay(G)[..., None]
        result += inter
        result *= scale
        O[:, :, sl] = result


@_with_padding
def numpy_chunk_gla(q, k, v, g, scale, out):
    """GLA (a decay per key channel), with sub-chunks of 16 so that every exponent is <= 0:
    for a query sub-chunk starting at i0 and a key t < i0, the score is
    (q_i e^(G_i - G_{i0-1})) . (k_t e^(G_{i0-1} - G_t)), one matmul per sub-chunk; inside a
    sub-chunk, diagonal by diagonal, with window sums of g per channel. Inter-chunk terms as
    simple GLA with per-channel decays."""
    B, T, H, K = q.shape
    V = v.shape[-1]
    C, N, U = CHUNK, T // CHUNK, SUB_CHUNK
    nb = C // U
    Q, Kc, Vc, O = _chunks(q, C), _chunks(k, C), _chunks(v, C), _chunks(out, C)
    Gc = _chunks(g, C)  # [B, H, N, C, K]
    S = np.zeros((B, H, K, V), np.float32)
    for n0 in range(0, N, SLAB):
        sl = slice(n0, min(n0 + SLAB, N))
        Qs, Ks, Vs, gs = Q[:, :, sl], Kc[:, :, sl], Vc[:, :, sl], Gc[:, :, sl]
        s = Qs.shape[2]
        G = np.cumsum(gs, axis=-2, dtype=np.float32)  # [B, H, s, C, K]
        # Keys in earlier sub-chunks.
        result = np.zeros((B, H, s, C, V), np.float32)
        for b in range(1, nb):
            rows, r = slice(b * U, (b + 1) * U), b * U - 1
            reference = G[..., r : r + 1, :]
            qs = Qs[..., rows, :] * _decay(G[..., rows, :] - reference, True)
            ks = Ks[..., : b * U, :] * _decay(reference - G[..., : b * U, :], True)
            result[..., rows, :] = (qs @ ks.swapaxes(-1, -2)) @ Vs[..., : b * U, :]
        # Keys in the same sub-chunk, diagonal d: query m, key m - d, decay
        # D_d[m] = e^(g_{m-d+1} + ... + g_m) = D_{d-1}[m] e^(g_{m-d+1}), flushed as it goes.
        shape = (B, H, s, nb, U)
        Qb, Kb = Qs.reshape(*shape, K), Ks.reshape(*shape, K)
        growth = _decay(gs.reshape(*shape, K))
        A = np.zeros((*shape, U), np.float32)
        A[..., np.arange(U), np.arange(U)] = np.einsum("...k,...k->...", Qb, Kb)
        D = None
        for d in range(1, U):
            D = growth[..., 1:, :] if d == 1 else D[..., 1:, :] * growth[..., 1 : U - d + 1, :]
            if d > 1:
                D[D < TINY] = 0.0
            m = np.arange(d, U)
            A[..., m, m - d] = np.einsum(
                "...mk,...mk,...mk->...m", Qb[..., d:, :], Kb[..., : U - d, :], D
            )
        result += (A @ Vs.reshape(*shape, V)).reshape(B, H, s, C, V)
        # Inter-chunk.
        G_last = G[..., -1:, :]
        KV = (Ks * _decay(G_last - G, True)).swapaxes(-1, -2) @ Vs
        states = np.empty_like(KV)
        a = _decay(G_last[..., 0, :])  # [B, H, s, K]
        for j in range(s):
            states[:, :, j] = S
            S *= a[:, :, j, :, None]
            S += KV[:, :, j]
        result += (Qs * _decay(G)) @ states
        result *= scale
        O[:, :, sl] = result


@_with_padding
def numpy_chunk_gated_delta_rule(q, k, v, g, beta, scale, out):
    """Gated DeltaNet, the UT (WY) form of flash-linear-attention's reference: per chunk
    L = (beta K K^T) * e^(G_i - G_j) (strictly lower), T = (I + L)^-1 (forward
    substitution, row by row over a slab of chunks at once), W = T (beta K e^G),
    U = T (beta V); then per chunk, in order: V_new = U - W S,
    O = scale (e^G Q S + P V_new) with P = (Q K^T) * e^(G_i - G_j) (causal),
    S <- e^(G_last) S + (K e^(G_last - G))^T V_new."""
    B, T, H, K = q.shape
    V = v.shape[-1]
    C, N = CHUNK, T // CHUNK
    Q, Kc, Vc, O = _chunks(q, C), _chunks(k, C), _chunks(v, C), _chunks(out, C)
    Gc, betas = _chunks(g, C), _chunks(beta, C)
    strict = _causal(C, strict=True)
    eye = np.eye(C, dtype=np.float32)
    S = np.zeros((B, H, K, V), np.float32)
    for n0 in range(0, N, SLAB):
        sl = slice(n0, min(n0 + SLAB, N))
        Qs, Ks, Vs, bs = Q[:, :, sl], Kc[:, :, sl], Vc[:, :, sl], betas[:, :, sl]
        G = np.cumsum(Gc[:, :, sl], axis=-1, dtype=np.float32)
        decay = _pair_decays(G)
        Kt = Ks.swapaxes(-1, -2)
        kb = Ks * bs[..., None]
        A = kb @ Kt
        A *= decay
        A *= strict
        np.negative(A, out=A)
        for i in range(1, C):  # A <- (I + L)^-1 - I, row by row
            row = A[..., i, :i]
            row += (A[..., i : i + 1, :i] @ A[..., :i, :i])[..., 0, :]
            # Long products of small entries reach subnormals (with fast decays): flushed
            # like the decays, they are below fp32's resolution of the diagonal's 1.
            row[np.abs(row) < TINY] = 0.0
        A += eye
        eG = _decay(G)[..., None]
        U = A @ (Vs * bs[..., None])
        W = A @ (kb * eG)
        P = Qs @ Kt
        P *= decay
        qg = Qs * eG
        G_last = G[..., -1]
        kg = (Ks * _decay(G_last[..., None] - G, True)[..., None]).swapaxes(-1, -2)
        a = _decay(G_last)
        for j in range(Qs.shape[2]):
            v_new = U[:, :, j] - W[:, :, j] @ S
            o = qg[:, :, j] @ S
            o += P[:, :, j] @ v_new
            o *= scale
            O[:, :, n0 + j] = o
            S *= a[:, :, j, None, None]
            S += kg[:, :, j] @ v_new


def numpy_decode(q, k, v, g, state, scale, out, out_state):
    """One decode step of simple GLA: S' = e^g S + k v^T, o = scale S'^T q."""
    np.multiply(state, np.exp(g[:, 0])[..., None, None], out=out_state)
    out_state += k[:, 0, :, :, None] * v[:, 0, :, None, :]
    o = q[:, 0, :, None, :] @ out_state
    o *= scale
    out[:, 0] = o[..., 0, :]


# ----------------------------------------------------------------------------------------------
# Naive recurrences: one token at a time, vectorized over batch and heads.


def naive_simple_gla(q, k, v, g, scale):
    B, T, H, K = q.shape
    S = np.zeros((B, H, K, v.shape[-1]), np.float32)
    o = np.empty((B, T, H, v.shape[-1]), np.float32)
    for t in range(T):
        S *= np.exp(g[:, t])[:, :, None, None]
        S += k[:, t, :, :, None] * v[:, t, :, None, :]
        o[:, t] = scale * (q[:, t, :, None, :] @ S)[..., 0, :]
    return o


def naive_gla(q, k, v, g, scale):
    B, T, H, K = q.shape
    S = np.zeros((B, H, K, v.shape[-1]), np.float32)
    o = np.empty((B, T, H, v.shape[-1]), np.float32)
    for t in range(T):
        S *= np.exp(g[:, t])[..., None]
        S += k[:, t, :, :, None] * v[:, t, :, None, :]
        o[:, t] = scale * (q[:, t, :, None, :] @ S)[..., 0, :]
    return o


def naive_gated_delta_rule(q, k, v, g, beta, scale):
    B, T, H, K = q.shape
    S = np.zeros((B, H, K, v.shape[-1]), np.float32)
    o = np.empty((B, T, H, v.shape[-1]), np.float32)
    for t in range(T):
        S *= np.exp(g[:, t])[:, :, None, None]
        kt = k[:, t, :, None, :]  # [B, H, 1, K]
        error = v[:, t] - (kt @ S)[..., 0, :]
        S += (beta[:, t, :, None] * k[:, t])[..., None] * error[..., None, :]
        o[:, t] = scale * (q[:, t, :, None, :] @ S)[..., 0, :]
    return o


# ----------------------------------------------------------------------------------------------
# The thread pool over (batch, head) pairs.


class HeadPool:
    """Splits [B, T, H, ...] problems over (batch, head) slices and runs the slices on a pool of
    threads (numpy releases the GIL in matmul and the elementwise kernels)."""

    def __init__(self, threads: int):
        self.threads = max(1, threads)
        self.executor = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def pieces(self, B: int, H: int) -> list[tuple[slice, slice]]:
        n = self.threads
        if n == 1:
            return [(slice(None), slice(None))]
        if B % n == 0 or B >= H:
            parts = min(n, B)
            edges = np.linspace(0, B, parts + 1).astype(int)
            return [(slice(a, b), slice(None)) for a, b in itertools.pairwise(edges)]
        parts = min(n, H)
        edges = np.linspace(0, H, parts + 1).astype(int)
        return [(slice(None), slice(a, b)) for a, b in itertools.pairwise(edges)]

    def run(self, function, B: int, H: int, arguments) -> None:
        """function(*arguments(batches, heads)) for each (batch, head) piece, on the pool;
        `arguments` slices the inputs and outputs (views) for a piece."""
        jobs = [arguments(bs, hs) for bs, hs in self.pieces(B, H)]
        if self.executor is None:
            for args in jobs:
                function(*args)
            return
        for future in [self.executor.submit(function, *args) for args in jobs]:
            future.result()


# ----------------------------------------------------------------------------------------------
# Problems, flop counts, timing.


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    return (-np.logaddexp(0.0, -x)).astype(np.float32)


def make_inputs(
    op: str,
    B: int,
    T: int,
    H: int,
    K: int,
    V: int,
    gate_bias: float = 2.0,
    seed: int = 0,
) -> dict:
    """Inputs as a model would give them: gates g = log sigmoid(N(0,1) + gate_bias) (the
    default 2 gives decays e^g ~ 0.85), for the delta rule L2-normalized keys and
    beta = sigmoid(N(0,1))."""
    rng = np.random.default_rng(seed)
    x = {
        "q": rng.standard_normal((B, T, H, K), dtype=np.float32),
        "k": rng.standard_normal((B, T, H, K), dtype=np.float32),
        "v": rng.standard_normal((B, T, H, V), dtype=np.float32),
    }
    gate_shape = (B, T, H, K) if op == "chunk_gla" else (B, T, H)
    x["g"] = log_sigmoid(rng.standard_normal(gate_shape, dtype=np.float32) + gate_bias)
    if op == "chunk_gated_delta_rule":
        x["k"] /= np.linalg.norm(x["k"], axis=-1, keepdims=True)
        x["beta"] = (1.0 / (1.0 + np.exp(-rng.standard_normal((B, T, H))))).astype(np.float32)
    return x


def chunk_sizes(T: int, chunk: int = CHUNK) -> list[int]:
    return [min(chunk, T - start) for start in range(0, T, chunk)]


def flops(op: str, B: int, T: int, H: int, K: int, V: int, chunk: int = CHUNK) -> int:
    """The chunked algorithm's flop count with chunks of `chunk` tokens (see the module
    docstring)."""
    total = 0
    for C in chunk_sizes(T, chunk):
        if op in ("chunk_simple_gla", "chunk_gla"):
            total += 2 * C * C * K + 2 * C * K * V + 2 * C * C * V + 2 * C * K * V
        elif op == "chunk_gated_delta_rule":
            inverse = sum(2 * i * i for i in range(C))
            total += 6 * C * C * K + 4 * C * C * V + 6 * C * K * V + inverse
        else:
            raise ValueError(op)
    return B * H * total


def time_calls(function: Callable[[], object], repetitions: int, budget_s: float) -> list[float]:
    """Seconds of repeated calls after one warm-up call: `repetitions` calls, fewer (at least
    3) when the warm-up says they would take more than `budget_s`."""
    return time_alternating({"only": function}, repetitions, budget_s)["only"]


def time_alternating(
    functions: dict[str, Callable[[], object]], repetitions: int, budget_s: float
) -> dict[str, list[float]]:
    """Seconds of calls to several functions in turn (a, b, a, b, ...) after a warm-up call
    of each: the machine's slow moments then fall on all of them alike, so that the ratio of
    their minima is not the luck of when each one ran. `repetitions` rounds, fewer (at least
    3) when the warm-up says they would take more than `budget_s` for each function."""
    warm = 0.0
    for function in functions.values():
        start = time.perf_counter()
        function()
        warm += time.perf_counter() - start
    budget = budget_s * len(functions)
    count = max(3, min(repetitions, int(budget / max(warm, 1e-9))))
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(count):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> dict:
    return {
        "min_ms": 1e3 * min(times),
        "median_ms": 1e3 * statistics.median(times),
        "runs": len(times),
    }


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


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
        blas_line = f"{blas['name']} {blas['version']}"
    except (AttributeError, KeyError):
        blas_line = "unknown"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "numpy": np.__version__,
        "blas": blas_line,
        "python": platform.python_version(),
        "linac_num_threads": os.environ.get("LINAC_NUM_THREADS"),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    }


# A drop of the FMA peak between the start and the end of a run larger than this means the
# machine was shared while it ran: its ratios can be off by as much (seen on this project's
# VMs: 306 to 223 GFLOP/s, and K=V=128 ratios 20% apart between runs of one hour).
PEAK_DRIFT_WARNING = 0.10


def machine_steadiness(peak_runs: list[dict]) -> dict:
    """The change of the FMA peak from the start to the end of the run, and a warning when it
    exceeds PEAK_DRIFT_WARNING."""
    rates = [float(p["gflops_all_threads"]) for p in peak_runs]
    if len(rates) < 2:
        return {"peak_drift": None, "warning": None}
    drift = (rates[-1] - rates[0]) / max(rates[0], rates[-1])
    warning = None
    if abs(drift) > PEAK_DRIFT_WARNING:
        warning = (
            f"the FMA peak moved {100 * drift:+.0f}% during the run ({rates[0]:.0f} -> "
            f"{rates[-1]:.0f} GFLOP/s): the machine was shared, and the ratios may be off "
            "by as much; run again"
        )
    return {"peak_drift": drift, "warning": warning}


def fma_peak(peak_json: str | None, threads: int) -> dict:
    """The FMA peak: read from `peak_json`, or benchmarks/fma_peak.c compiled and run here."""
    if peak_json:
        with open(peak_json) as f:
            return json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "fma_peak")
        cc = os.environ.get("CC", "cc")
        subprocess.run(
            [
                cc,
                "-O2",
                "-march=native",
                "-fopenmp",
                str(HERE / "fma_peak.c"),
                "-o",
                binary,
            ],
            check=True,
        )
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        text = subprocess.run([binary], check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(text)


_FTZ_SOURCE = r"""
#include <xmmintrin.h>
unsigned linac_bench_set_ftz_daz(void) {
  _mm_setcsr(_mm_getcsr() | 0x8040); /* flush-to-zero, denormals-are-zero */
  return _mm_getcsr();
}
"""


def flush_denormals() -> str:
    """Sets FTZ and DAZ in this thread's MXCSR (threads started later inherit it: linac's
    OpenMP pool, the numpy pool) through a tiny C helper compiled here; returns MXCSR."""
    import ctypes

    tmp = tempfile.mkdtemp(prefix="linac-bench-ftz-")
    source, library = os.path.join(tmp, "ftz.c"), os.path.join(tmp, "ftz.so")
    with open(source, "w") as f:
        f.write(_FTZ_SOURCE)
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-O2", "-shared", "-fPIC", source, "-o", library], check=True)
    helper = ctypes.CDLL(library)
    helper.linac_bench_set_ftz_daz.restype = ctypes.c_uint
    return hex(helper.linac_bench_set_ftz_daz())


# ----------------------------------------------------------------------------------------------
# The runs.

LINAC = {
    "chunk_simple_gla": lambda x: ops.chunk_simple_gla(x["q"], x["k"], x["v"], x["g"])[0],
    "chunk_gla": lambda x: ops.chunk_gla(x["q"], x["k"], x["v"], x["g"])[0],
    "chunk_gated_delta_rule": lambda x: ops.chunk_gated_delta_rule(
        x["q"], x["k"], x["v"], x["g"], x["beta"]
    )[0],
}
NUMPY_CHUNKED = {
    "chunk_simple_gla": (numpy_chunk_simple_gla, ("q", "k", "v", "g")),
    "chunk_gla": (numpy_chunk_gla, ("q", "k", "v", "g")),
    "chunk_gated_delta_rule": (
        numpy_chunk_gated_delta_rule,
        ("q", "k", "v", "g", "beta"),
    ),
}
NAIVE = {
    "chunk_simple_gla": (naive_simple_gla, ("q", "k", "v", "g")),
    "chunk_gla": (naive_gla, ("q", "k", "v", "g")),
    "chunk_gated_delta_rule": (naive_gated_delta_rule, ("q", "k", "v", "g", "beta")),
}


def numpy_chunked_call(op: str, x: dict, pool: HeadPool) -> Callable[[], np.ndarray]:
    function, names = NUMPY_CHUNKED[op]
    B, T, H, K = x["q"].shape
    scale = K**-0.5

    def call():
        out = np.empty((B, T, H, x["v"].shape[-1]), np.float32)
        pool.run(
            function,
            B,
            H,
            lambda bs, hs: [*(x[n][bs, :, hs] for n in names), scale, out[bs, :, hs]],
        )
        return out

    return call


def run_chunk_op(op: str, B: int, T: int, H: int, K: int, args, pool: HeadPool, peak: float):
    """Checks, then times linac, numpy chunked and the naive recurrence on one problem."""
    V = K
    x = make_inputs(op, B, T, H, K, V, gate_bias=args.gate_bias)
    scale = K**-0.5
    numpy_call = numpy_chunked_call(op, x, pool)
    expected = numpy_call()
    error = relative_rms_error(expected, LINAC[op](x))
    if not error < args.tolerance:
        raise SystemExit(f"{op} T={T} K={K}: linac differs from numpy chunked: rel RMS {error:.2e}")
    naive_function, names = NAIVE[op]
    run_naive = not args.no_naive and T <= args.naive_max_T
    naive_error = None
    if run_naive:
        naive_out = naive_function(*[x[n] for n in names], scale)
        naive_error = relative_rms_error(naive_out, expected)
        if not naive_error < args.tolerance:
            raise SystemExit(
                f"{op} T={T} K={K}: numpy chunked differs from the naive recurrence: "
                f"rel RMS {naive_error:.2e}"
            )
    count = flops(op, B, T, H, K, V)
    # linac's rate counts the flops of its own chunk size (smaller chunks do less work).
    linac_chunk = linac.get_kernel(op, K, V, "f32").metadata["chunk_size"]
    counts = {"linac": flops(op, B, T, H, K, V, linac_chunk)}
    # linac and numpy chunked (the ratio the goal is about) alternate call by call.
    paired = {"linac": lambda: LINAC[op](x), "numpy_chunked": numpy_call}
    record = {
        "op": op,
        "B": B,
        "T": T,
        "H": H,
        "K": K,
        "V": V,
        "flops": count,
        "linac_chunk_size": linac_chunk,
        "linac_flops": counts["linac"],
        "rel_rms_linac_vs_numpy_chunked": error,
        "rel_rms_naive_vs_numpy_chunked": naive_error,
        "load_before": load_average(),
    }
    gc.collect()
    timings = time_alternating(paired, args.repetitions, args.budget)
    if run_naive:
        gc.collect()
        timings["numpy_naive"] = time_calls(
            lambda: naive_function(*[x[n] for n in names], scale), args.repetitions, args.budget
        )
    for name, times in timings.items():
        s = summary(times)
        s["gflops"] = counts.get(name, count) / (s["min_ms"] * 1e-3) / 1e9
        s["fraction_of_peak"] = s["gflops"] / peak if peak else None
        record[name] = s
    record["linac_over_numpy_chunked"] = (
        record["linac"]["min_ms"] / record["numpy_chunked"]["min_ms"]
    )
    record["speedup_vs_numpy_chunked"] = 1.0 / record["linac_over_numpy_chunked"]
    if "numpy_naive" in record:
        record["speedup_vs_naive"] = record["numpy_naive"]["min_ms"] / record["linac"]["min_ms"]
    return record


def decode_inputs(B: int, H: int, K: int, V: int, tokens: int, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {
            "q": rng.standard_normal((B, 1, H, K), dtype=np.float32),
            "k": rng.standard_normal((B, 1, H, K), dtype=np.float32) * np.float32(K**-0.5),
            "v": rng.standard_normal((B, 1, H, V), dtype=np.float32),
            "g": log_sigmoid(rng.standard_normal((B, 1, H), dtype=np.float32) + 2.0),
        }
        for _ in range(tokens)
    ]


def linac_step(x: dict, state: np.ndarray):
    return ops.fused_recurrent_simple_gla(
        x["q"], x["k"], x["v"], x["g"], initial_state=state, output_final_state=True
    )


def numpy_step(x: dict, state: np.ndarray, pool: HeadPool):
    B, _, H, K = x["q"].shape
    out = np.empty((B, 1, H, state.shape[-1]), np.float32)
    out_state = np.empty_like(state)
    pool.run(
        numpy_decode,
        B,
        H,
        lambda bs, hs: [
            *(x[n][bs, :, hs] for n in "qkvg"),
            state[bs, hs],
            K**-0.5,
            out[bs, :, hs],
            out_state[bs, hs],
        ],
    )
    return out, out_state


def rss_bytes() -> int:
    """The process's resident set, from /proc/self/statm (0 where it is not available)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def decode_loop(step, tokens: list[dict], state: np.ndarray, n: int) -> np.ndarray:
    """n decode steps, each fed the previous final state (inputs cycled from `tokens`)."""
    for i in range(n):
        _, state = step(tokens[i % len(tokens)], state)
    return state


def run_decode(B: int, H: int, K: int, args, pool: HeadPool, peak: float) -> dict:
    """Checks and times one decode step (linac and numpy) on a random state, then runs the
    decode loop for several lengths to show that memory does not grow with them."""
    V = K
    tokens = decode_inputs(B, H, K, V, 8)
    rng = np.random.default_rng(2)
    state = rng.standard_normal((B, H, K, V), dtype=np.float32)
    o_linac, s_linac = linac_step(tokens[0], state)
    o_numpy, s_numpy = numpy_step(tokens[0], state, pool)
    error = max(relative_rms_error(o_numpy, o_linac), relative_rms_error(s_numpy, s_linac))
    if not error < args.tolerance:
        raise SystemExit(f"decode K={K}: linac differs from numpy: rel RMS {error:.2e}")
    # Over many steps too (the state fed back).
    s1 = decode_loop(lambda t, s: linac_step(t, s), tokens, state, 64)
    s2 = decode_loop(lambda t, s: numpy_step(t, s, pool), tokens, state, 64)
    loop_error = relative_rms_error(s2, s1)
    if not loop_error < args.tolerance:
        raise SystemExit(f"decode K={K}: 64 steps differ: rel RMS {loop_error:.2e}")
    state_bytes = 2 * B * H * K * V * 4
    count = 5 * B * H * K * V
    record = {
        "op": "decode",
        "B": B,
        "T": 1,
        "H": H,
        "K": K,
        "V": V,
        "flops": count,
        "state_bytes_moved": state_bytes,
        "rel_rms_linac_vs_numpy": error,
        "rel_rms_after_64_steps": loop_error,
        "load_before": load_average(),
    }
    for name, function in [
        ("linac", lambda: linac_step(tokens[0], state)),
        ("numpy", lambda: numpy_step(tokens[0], state, pool)),
    ]:
        gc.collect()
        times = time_calls(function, args.decode_repetitions, args.budget)
        s = summary(times)
        s["us_per_step"] = 1e3 * s["min_ms"]
        s["us_per_token"] = s["us_per_step"] / B
        s["state_gb_per_s"] = state_bytes / (s["min_ms"] * 1e-3) / 1e9
        s["gflops"] = count / (s["min_ms"] * 1e-3) / 1e9
        s["fraction_of_peak"] = s["gflops"] / peak if peak else None
        record[name] = s
    record["linac_over_numpy"] = record["linac"]["min_ms"] / record["numpy"]["min_ms"]
    record["speedup_vs_numpy"] = 1.0 / record["linac_over_numpy"]
    # The bandwidth reference: copying the state into another buffer (the same bytes read
    # and written as a decode step), split over the numpy pool's threads.
    destination = np.empty_like(state)

    def copy_state():
        pool.run(np.copyto, B, H, lambda bs, hs: [destination[bs, hs], state[bs, hs]])

    copy_times = time_calls(copy_state, args.decode_repetitions, args.budget)
    copy_gbs = state_bytes / min(copy_times) / 1e9
    record["state_copy"] = {"us": 1e6 * min(copy_times), "gb_per_s": copy_gbs}
    record["linac"]["fraction_of_copy_bandwidth"] = record["linac"]["state_gb_per_s"] / copy_gbs

    # Memory and time of the loop against its length.
    loops = []
    for n in args.decode_steps:
        entry = {"steps": n}
        for name, step in [
            ("linac", lambda t, s: linac_step(t, s)),
            ("numpy", lambda t, s: numpy_step(t, s, pool)),
        ]:
            gc.collect()
            start = time.perf_counter()
            decode_loop(step, tokens, state, n)
            elapsed = time.perf_counter() - start
            # Python-side allocations (numpy buffers included) while the loop runs.
            gc.collect()
            rss_before = rss_bytes()
            tracemalloc.start()
            base, _ = tracemalloc.get_traced_memory()
            decode_loop(step, tokens, state, n)
            current, peak_traced = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            entry[name] = {
                "seconds": elapsed,
                "us_per_step": 1e6 * elapsed / n,
                "traced_peak_bytes": peak_traced - base,
                "traced_left_bytes": current - base,
                "rss_growth_bytes": rss_bytes() - rss_before,
            }
        loops.append(entry)
    record["decode_loop"] = loops
    record["state_bytes"] = B * H * K * V * 4
    return record


# ----------------------------------------------------------------------------------------------
# Reports.


def fmt_ms(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}" if x < 1000 else f"{x:.0f}"


def print_chunk_table(records: list[dict], peak: float) -> None:
    print(
        f"\n{'op':<23}{'T':>6}{'K':>5} | {'linac ms min/med':>17}{'GF/s':>7}{'%pk':>5} | "
        f"{'numpy ms min/med':>17}{'GF/s':>7} | {'naive ms':>9} | {'linac/np':>8}{'np/linac':>9}"
        f"{'naive/linac':>12}"
    )
    for r in records:
        lin, npc, nai = r["linac"], r["numpy_chunked"], r.get("numpy_naive")
        naive_text = fmt_ms(nai["min_ms"]) if nai else "-"
        print(
            f"{r['op']:<23}{r['T']:>6}{r['K']:>5} | "
            f"{fmt_ms(lin['min_ms']) + '/' + fmt_ms(lin['median_ms']):>17}{lin['gflops']:>7.1f}"
            f"{100 * lin['gflops'] / peak:>5.0f} | "
            f"{fmt_ms(npc['min_ms']) + '/' + fmt_ms(npc['median_ms']):>17}{npc['gflops']:>7.1f} | "
            f"{naive_text:>9} | {r['linac_over_numpy_chunked']:>8.3f}"
            f"{r['speedup_vs_numpy_chunked']:>9.2f}"
            f"{r.get('speedup_vs_naive', float('nan')):>12.1f}"
        )


def scaling(records: list[dict]) -> list[dict]:
    """time(T max) / ((T max / T min) time(T min)) per op, K and implementation."""
    out = []
    keys = sorted({(r["op"], r["K"]) for r in records if r["op"] != "decode"})
    for op, K in keys:
        rows = sorted((r for r in records if r["op"] == op and r["K"] == K), key=lambda r: r["T"])
        if len(rows) < 2:
            continue
        lo, hi = rows[0], rows[-1]
        factor = hi["T"] / lo["T"]
        entry = {"op": op, "K": K, "T_small": lo["T"], "T_large": hi["T"]}
        for name in ("linac", "numpy_chunked"):
            entry[name] = hi[name]["min_ms"] / (factor * lo[name]["min_ms"])
        out.append(entry)
    return out


def print_decode(records: list[dict]) -> None:
    for r in records:
        lin, npd = r["linac"], r["numpy"]
        print(
            f"\ndecode (fused_recurrent_simple_gla, T=1 with a state) B={r['B']} H={r['H']} "
            f"K=V={r['K']}: state {r['state_bytes'] / 2**20:.1f} MiB, moved "
            f"{r['state_bytes_moved'] / 2**20:.1f} MiB a step"
        )
        for name, s in (("linac", lin), ("numpy", npd)):
            print(
                f"  {name:<6} {s['us_per_step']:>9.1f} us/step (median {1e3 * s['median_ms']:.1f})"
                f" = {s['us_per_token']:>7.2f} us/token   state {s['state_gb_per_s']:>6.1f} GB/s"
                f"   {s['gflops']:>5.1f} GFLOP/s"
            )
        c = r["state_copy"]
        print(
            f"  state copy (numpy, the same bytes): {c['us']:.1f} us = {c['gb_per_s']:.1f} GB/s;"
            f" linac at {100 * lin['fraction_of_copy_bandwidth']:.0f}% of it"
        )
        print(f"  linac/numpy time {r['linac_over_numpy']:.3f}")
        print(
            f"  {'steps':>7} | {'linac us/step':>13}{'traced peak':>12}{'traced left':>12}"
            f"{'RSS growth':>11} | {'numpy us/step':>13}{'traced peak':>12}{'RSS growth':>11}"
        )
        for e in r["decode_loop"]:
            a, b = e["linac"], e["numpy"]
            print(
                f"  {e['steps']:>7} | {a['us_per_step']:>13.1f}"
                f"{a['traced_peak_bytes'] / 2**20:>10.2f}Mi{a['traced_left_bytes'] / 2**20:>10.2f}Mi"
                f"{a['rss_growth_bytes'] / 2**20:>9.2f}Mi | {b['us_per_step']:>13.1f}"
                f"{b['traced_peak_bytes'] / 2**20:>10.2f}Mi{b['rss_growth_bytes'] / 2**20:>9.2f}Mi"
            )


def plot(document: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    records = document["records"]
    chunk_ops = [op for op in CHUNK_OPS if any(r["op"] == op for r in records)]
    decode = [r for r in records if r["op"] == "decode"]
    panels = len(chunk_ops) + (1 if decode else 0)
    columns = 2 if panels == 4 else panels
    rows = -(-panels // columns)
    fig, grid = plt.subplots(rows, columns, figsize=(5.6 * columns, 4.4 * rows), squeeze=False)
    axes = list(grid.flat)
    plain = matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:g}")

    def log_axes(ax, ticks: list[int]) -> None:
        """Log-log axes with plain numbers, ticks at `ticks` on x."""
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xticks(ticks, [str(t) for t in ticks])

    styles = {
        "linac": ("tab:blue", "o"),
        "numpy_chunked": ("tab:orange", "s"),
        "numpy_naive": ("tab:gray", "^"),
    }
    labels = {
        "linac": "linac",
        "numpy_chunked": "numpy chunked",
        "numpy_naive": "numpy naive",
    }
    for ax, op in zip(axes, chunk_ops):
        for K, line in ((64, "-"), (128, "--")):
            rows = sorted(
                (r for r in records if r["op"] == op and r["K"] == K),
                key=lambda r: r["T"],
            )
            if not rows:
                continue
            for name, (color, marker) in styles.items():
                pts = [(r["T"], r[name]["min_ms"]) for r in rows if name in r]
                if pts:
                    ax.plot(
                        *zip(*pts),
                        line,
                        color=color,
                        marker=marker,
                        label=f"{labels[name]} K={K}",
                    )
        log_axes(ax, sorted({r["T"] for r in records if r["op"] == op}))
        ax.set_title(op)
        ax.set_xlabel("T (tokens per sequence)")
        ax.set_ylabel("ms (min)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    if decode:
        ax = axes[len(chunk_ops)]
        for r, line in zip(decode, ("-", "--")):
            for name, style in (("linac", "linac"), ("numpy", "numpy_chunked")):
                color, marker = styles[style]
                pts = [(e["steps"], 1e3 * e[name]["seconds"]) for e in r["decode_loop"]]
                ax.plot(
                    *zip(*pts),
                    line,
                    color=color,
                    marker=marker,
                    label=f"{name} step K={r['K']}",
                )
        log_axes(ax, [e["steps"] for e in decode[0]["decode_loop"]])
        memory = ", ".join(
            f"K={r['K']}: "
            + "/".join(f"{e['linac']['traced_peak_bytes'] / 2**20:.2f}" for e in r["decode_loop"])
            for r in decode
        )
        ax.text(
            0.98,
            0.02,
            f"linac Python-side peak MiB at each T: {memory}",
            transform=ax.transAxes,
            horizontalalignment="right",
            fontsize=7,
        )
        ax.set_title(f"decode, batch {decode[0]['B']} (T steps)")
        ax.set_xlabel("T (decode steps)")
        ax.set_ylabel("ms for T steps")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    info = document["machine"]
    fig.suptitle(
        f"linac CPU vs numpy, fp32, B={document['config']['B']} H={document['config']['H']}, "
        f"{info['cpu']} ({info['usable_cores']} cores), load {document['load_start']} -> "
        f"{document['load_end']}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# The defaults of the full grid and of --quick (options given on the command line win).
FULL = {
    "T": [1024, 4096, 16384],
    "K": [64, 128],
    "decode_batch": 64,
    "decode_steps": [64, 256, 1024],
    "repetitions": 20,
    "decode_repetitions": 50,
    "budget": 4.0,
}
QUICK = {
    "T": [256, 1024],
    "K": [64],
    "decode_batch": 8,
    "decode_steps": [32, 128],
    "repetitions": 3,
    "decode_repetitions": 10,
    "budget": 1.0,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: T 256 1024, K 64, decode batch 8, short loops (options given win)",
    )
    parser.add_argument("--ops", nargs="+", choices=ALL_OPS, default=list(ALL_OPS))
    parser.add_argument("--B", type=int, default=2)
    parser.add_argument("--T", type=int, nargs="+", help="default 1024 4096 16384")
    parser.add_argument("--H", type=int, default=4)
    parser.add_argument("--K", type=int, nargs="+", help="K = V; default 64 128")
    parser.add_argument("--decode-batch", type=int, help="default 64")
    parser.add_argument("--decode-steps", type=int, nargs="+", help="default 64 256 1024")
    parser.add_argument("--repetitions", type=int, help="default 20")
    parser.add_argument("--decode-repetitions", type=int, help="default 50")
    parser.add_argument(
        "--budget", type=float, help="seconds per measurement (min 3 runs); default 4"
    )
    parser.add_argument("--no-naive", action="store_true", help="skip the naive recurrence")
    parser.add_argument("--naive-max-T", type=int, default=1 << 30, help="naive only up to this T")
    parser.add_argument("--numpy-threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument(
        "--tolerance", type=float, default=1e-4, help="rel RMS allowed in the checks"
    )
    parser.add_argument(
        "--gate-bias",
        type=float,
        default=2.0,
        help="g = log sigmoid(N(0,1) + bias): 2 gives decays ~0.85 a token; -2 (~0.15) "
        "makes the in-chunk decays underflow to subnormals",
    )
    parser.add_argument(
        "--ftz",
        action="store_true",
        help="set flush-to-zero/denormals-are-zero (a diagnostic of subnormal costs)",
    )
    parser.add_argument("--peak-json", help="the output of fma_peak (else compiled and run here)")
    parser.add_argument("--json", metavar="PATH", help="write the records to PATH")
    parser.add_argument("--plot", metavar="PATH", help="write the PNG plot to PATH")
    parser.add_argument(
        "--save",
        action="store_true",
        help="write benchmarks/results/cpu/<date>.json and .png",
    )
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.save:
        stem = HERE / "results" / "cpu" / datetime.date.today().isoformat()
        stem.parent.mkdir(parents=True, exist_ok=True)
        args.json = args.json or f"{stem}.json"
        args.plot = args.plot or f"{stem}.png"

    mxcsr = flush_denormals() if args.ftz else None
    load_start = load_average()
    info = machine()
    info["ftz_daz_mxcsr"] = mxcsr
    peak_info = fma_peak(args.peak_json, info["usable_cores"])
    peak = float(peak_info["gflops_all_threads"])
    peak_runs = [peak_info]
    pool = HeadPool(args.numpy_threads)
    print(f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable)")
    print(
        f"numpy {info['numpy']}, BLAS {info['blas']} (OPENBLAS_NUM_THREADS={info['openblas_num_threads']})"
    )
    print(
        f"threads: linac LINAC_NUM_THREADS={info['linac_num_threads']} "
        f"(OMP_NUM_THREADS={info['omp_num_threads']}), numpy chunked pool {pool.threads}, naive 1"
    )
    print(
        f"FMA peak (fma_peak.c): {peak:.1f} GFLOP/s with {peak_info.get('threads')} threads, "
        f"{peak_info.get('gflops_1_thread')} with one"
    )
    print(f"load average at start: {load_start} ({info['usable_cores']} cores)")
    print(
        f"gates g = log sigmoid(N(0,1) + {args.gate_bias:g}); "
        + (f"FTZ/DAZ set (MXCSR {mxcsr})" if mxcsr else "FTZ/DAZ not set (the default)")
    )
    print(
        f"fp32, chunk {CHUNK}; min/median of up to {args.repetitions} runs after a warm-up "
        f"(at least 3, about {args.budget:.0f} s a measurement)"
    )
    sys.stdout.flush()

    records = []
    for op in args.ops:
        if op == "decode":
            continue
        for K in args.K:
            for T in args.T:
                record = run_chunk_op(op, args.B, T, args.H, K, args, pool, peak)
                records.append(record)
                r = record
                print(
                    f"  {op} T={T} K={K}: linac {r['linac']['min_ms']:.2f} ms, numpy chunked "
                    f"{r['numpy_chunked']['min_ms']:.2f} ms"
                    + (f", naive {r['numpy_naive']['min_ms']:.1f} ms" if "numpy_naive" in r else "")
                    + f" (rel RMS {r['rel_rms_linac_vs_numpy_chunked']:.1e}; load {load_average()[0]})",
                    flush=True,
                )
    if "decode" in args.ops:
        for K in args.K:
            records.append(run_decode(args.decode_batch, args.H, K, args, pool, peak))

    load_end = load_average()
    if not args.peak_json:
        # Measured again after the runs: the best of both (a loaded machine lowers it).
        peak_runs.append(fma_peak(None, info["usable_cores"]))
        peak = max(float(p["gflops_all_threads"]) for p in peak_runs)
        for r in records:
            for name in ("linac", "numpy_chunked", "numpy_naive", "numpy"):
                if name in r:
                    r[name]["fraction_of_peak"] = r[name]["gflops"] / peak
        print(
            "FMA peak, at the start and the end: "
            + ", ".join(f"{p['gflops_all_threads']}" for p in peak_runs)
            + f" GFLOP/s; fractions use the best, {peak:.1f}"
        )
    chunk_records = [r for r in records if r["op"] != "decode"]
    if chunk_records:
        print_chunk_table(chunk_records, peak)
        print(
            "\nms: min/median; GF/s: chunked flop count / min time; %pk: of the FMA peak "
            f"({peak:.1f} GFLOP/s); linac/np: time ratio; np/linac, naive/linac: speed-ups"
        )
    scale_rows = scaling(chunk_records)
    if scale_rows:
        print("\nlinear scaling: time(T large) / ((T large / T small) x time(T small)), 1 = linear")
        for e in scale_rows:
            print(
                f"  {e['op']:<23} K={e['K']:<4} T {e['T_small']}->{e['T_large']}: "
                f"linac {e['linac']:.3f}   numpy chunked {e['numpy_chunked']:.3f}"
            )
    print_decode([r for r in records if r["op"] == "decode"])
    print(f"\nload average at start {load_start}, at end {load_end} ({info['usable_cores']} cores)")
    steadiness = machine_steadiness(peak_runs)
    if steadiness["warning"]:
        print(f"WARNING: {steadiness['warning']}")

    document = {
        "benchmark": "cpu_ops",
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "config": {
            "B": args.B,
            "H": args.H,
            "T": args.T,
            "K": args.K,
            "chunk": CHUNK,
            "dtype": "float32",
            "decode_batch": args.decode_batch,
            "numpy_threads": pool.threads,
            "gate_bias": args.gate_bias,
            "ftz": bool(args.ftz),
        },
        "machine": info,
        "fma_peak": {"runs": peak_runs, "gflops_used": peak, **steadiness},
        "load_start": load_start,
        "load_end": load_end,
        "records": records,
        "scaling": scale_rows,
    }
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as out:
            json.dump(document, out, indent=2)
        print(f"wrote {args.json}")
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        plot(document, args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
