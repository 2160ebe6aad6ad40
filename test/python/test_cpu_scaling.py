"""Properties of the CPU back end's threading and of the decode path (not timings: the
machines are shared and timings are noisy; benchmarks/cpu_ops.py measures those).

- The OpenMP grid (sequence, head, value tile) gives bitwise the same outputs and final states
  with LINAC_NUM_THREADS=1 and 2: each grid point is computed by the same code whichever
  thread runs it, and no reduction crosses threads. LINAC_NUM_THREADS is read once per
  process, so each count runs in its own subprocess.
- The decode step (fused_recurrent_* on one token with a state) allocates nothing that grows
  with the number of steps: a loop of n steps that feeds each final state to the next holds at
  most a couple of states at a time (tracemalloc sees numpy's buffers), and the process's
  resident memory does not grow with n (the JIT'd kernel and the OpenMP pool allocate
  outside Python's view).
- Idle OpenMP threads stop spinning about 1 ms after a kernel (linac sets KMP_BLOCKTIME=1
  unless the user set it), instead of burning a core for libomp's default 200 ms while the
  program does something else; a KMP_BLOCKTIME the user set is kept.
- A call with little work runs its grid on one thread (bitwise the pool's result) and leaves
  the calling thread's OpenMP thread count as it found it.
"""

from __future__ import annotations

import gc
import json
import os
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from linac import ops
from processes import run_python

# Runs every op on fixed inputs and saves the results (outputs and final states) to the folder
# given as argv[1], with the thread counts of the process before and after the first kernel
# run.
_RUN_OPS = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    import linac
    from linac import ops

    out = sys.argv[1]
    rng = np.random.default_rng(7)
    B, T, H, K, V = 2, 200, 4, 64, 64  # T not a multiple of the chunk
    def x(*shape):
        return rng.standard_normal(shape, dtype=np.float32)
    q, k, v = x(B, T, H, K), x(B, T, H, K), x(B, T, H, V)
    k_unit = k / np.linalg.norm(k, axis=-1, keepdims=True)
    g = -np.logaddexp(0.0, -x(B, T, H) - 2.0).astype(np.float32)
    g_vector = -np.logaddexp(0.0, -x(B, T, H, K) - 2.0).astype(np.float32)
    beta = (1.0 / (1.0 + np.exp(-x(B, T, H)))).astype(np.float32)
    state = x(B, H, K, V)
    cu = np.array([0, 37, 129, 200], dtype=np.int64)

    def task_count():
        try:
            return len(os.listdir("/proc/self/task"))
        except OSError:
            return -1

    # Compile and load first (compiling may start threads of its own), then count the
    # threads that the first parallel region adds.
    linac.get_kernel("chunk_simple_gla", K, V, "f32")
    threads_before = task_count()
    results = {
        "chunk_simple_gla": ops.chunk_simple_gla(
            q, k, v, g, initial_state=state, output_final_state=True),
    }
    threads_after = task_count()
    results["chunk_gla"] = ops.chunk_gla(q, k, v, g_vector, output_final_state=True)
    results["chunk_gated_delta_rule"] = ops.chunk_gated_delta_rule(
        q, k_unit, v, g, beta, initial_state=state, output_final_state=True)
    results["chunk_simple_gla_varlen"] = ops.chunk_simple_gla(
        q[:1], k[:1], v[:1], g[:1], cu_seqlens=cu, output_final_state=True)
    # Decode: batch 8, one token, a state.
    d = 8
    results["fused_recurrent_simple_gla"] = ops.fused_recurrent_simple_gla(
        x(d, 1, H, K), x(d, 1, H, K), x(d, 1, H, V), g[0, :d, None, :].reshape(d, 1, H),
        initial_state=x(d, H, K, V), output_final_state=True)
    for name, (o, s) in results.items():
        np.save(os.path.join(out, name + ".o.npy"), o)
        np.save(os.path.join(out, name + ".s.npy"), s)
    with open(os.path.join(out, "threads.json"), "w") as f:
        json.dump({"before": threads_before, "after": threads_after}, f)
    """
)


def _run_with_threads(threads: int, folder: Path) -> None:
    folder.mkdir()
    env = dict(os.environ, LINAC_NUM_THREADS=str(threads))
    env.pop("OMP_NUM_THREADS", None)
    run_python(_RUN_OPS, str(folder), env=env)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The ops' results with 1 and 2 threads, each from its own process."""
    base = tmp_path_factory.mktemp("threads")
    folders = {}
    for threads in (1, 2):
        folders[threads] = base / f"threads{threads}"
        _run_with_threads(threads, folders[threads])
    return folders


def test_results_bitwise_identical_with_1_and_2_threads(runs: dict[int, Path]) -> None:
    names = sorted(p.name for p in runs[1].glob("*.npy"))
    assert len(names) == 10
    for name in names:
        one, two = np.load(runs[1] / name), np.load(runs[2] / name)
        assert one.dtype == two.dtype == np.float32 and one.shape == two.shape, name
        assert np.isfinite(one).all(), name
        # Bitwise: compare the bits, not the values.
        assert np.array_equal(one.view(np.uint32), two.view(np.uint32)), (
            f"{name}: results differ between 1 and 2 threads "
            f"(max abs difference {np.abs(one - two).max():.3e})"
        )


def test_linac_num_threads_sizes_the_pool(runs: dict[int, Path]) -> None:
    """LINAC_NUM_THREADS=n gives the OpenMP pool n - 1 worker threads besides the caller's
    (so the comparison above did run the grid on two threads)."""
    counts = {t: json.loads((runs[t] / "threads.json").read_text()) for t in runs}
    if any(c["before"] < 0 for c in counts.values()):
        pytest.skip("no /proc/self/task to count threads")
    for threads, c in counts.items():
        assert c["after"] - c["before"] == threads - 1, counts


def _decode_inputs(B: int, H: int, K: int, V: int, count: int) -> list[tuple]:
    rng = np.random.default_rng(3)
    return [
        (
            rng.standard_normal((B, 1, H, K), dtype=np.float32),
            rng.standard_normal((B, 1, H, K), dtype=np.float32) * np.float32(K**-0.5),
            rng.standard_normal((B, 1, H, V), dtype=np.float32),
            np.full((B, 1, H), -0.05, dtype=np.float32),
        )
        for _ in range(count)
    ]


def _decode(tokens: list[tuple], state: np.ndarray, steps: int) -> np.ndarray:
    for i in range(steps):
        q, k, v, g = tokens[i % len(tokens)]
        _, state = ops.fused_recurrent_simple_gla(
            q, k, v, g, initial_state=state, output_final_state=True
        )
    return state


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_decode_allocations_do_not_grow_with_steps() -> None:
    """The Python-side allocations of an n-step decode loop (numpy buffers included): the
    peak is the same for 8 and 800 steps (about two states: the one read and the one
    written), and nothing is left behind but the final state."""
    B, H, K, V = 8, 4, 64, 64
    tokens = _decode_inputs(B, H, K, V, 4)
    state = np.zeros((B, H, K, V), dtype=np.float32)
    _decode(tokens, state, 4)  # compile and load outside the measurement
    peaks, left = {}, {}
    for steps in (8, 800):
        gc.collect()
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        final = _decode(tokens, state, steps)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks[steps], left[steps] = peak - base, current - base
        del final
    assert peaks[800] <= peaks[8] + 16 * 1024, peaks
    assert peaks[800] < 3 * state.nbytes, (peaks, state.nbytes)
    assert left[800] <= left[8] + 16 * 1024, left
    assert left[800] < 2 * state.nbytes, (left, state.nbytes)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc/self/statm")
def test_decode_resident_memory_does_not_grow_with_steps() -> None:
    """The whole process (kernel and OpenMP included): 3000 more decode steps do not grow the
    resident set by more than a few MiB (a leak of one state a step would be ~1.5 GiB, of
    1.4 KiB a step ~4 MiB)."""
    B, H, K, V = 8, 4, 64, 64
    tokens = _decode_inputs(B, H, K, V, 4)
    state = np.zeros((B, H, K, V), dtype=np.float32)
    state = _decode(tokens, state, 300)  # warm up: compile, load, OpenMP pool, allocator
    gc.collect()
    before = _resident_bytes()
    state = _decode(tokens, state, 3000)
    gc.collect()
    growth = _resident_bytes() - before
    assert growth < 4 * 2**20, f"resident memory grew by {growth / 2**20:.1f} MiB in 3000 steps"
    assert np.isfinite(state).all()


# Runs one kernel, then sleeps 0.3 s and prints the process's CPU seconds during the sleep:
# what the idle OpenMP threads burn by spinning.
_SPIN_AFTER_CALL = textwrap.dedent(
    """
    import time
    import numpy as np
    from linac import ops

    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 256, 4, 32), dtype=np.float32) for _ in range(3))
    g = -np.abs(rng.standard_normal((2, 256, 4)).astype(np.float32))
    ops.chunk_simple_gla(q, k, v, g)
    start = time.process_time()
    time.sleep(0.3)
    print(time.process_time() - start)
    """
)


def _cpu_seconds_idle_after_a_call(blocktime: str | None) -> float:
    env = dict(os.environ, LINAC_NUM_THREADS="2")
    env.pop("KMP_BLOCKTIME", None)
    if blocktime is not None:
        env["KMP_BLOCKTIME"] = blocktime
    return float(run_python(_SPIN_AFTER_CALL, env=env).strip().splitlines()[-1])


def test_idle_openmp_threads_stop_spinning_soon() -> None:
    # With libomp's default (200 ms) the worker burns ~0.2 s of the 0.3 s sleep.
    assert _cpu_seconds_idle_after_a_call(None) < 0.05


def test_a_blocktime_the_user_set_is_kept() -> None:
    # 300 ms: the worker spins through most of the sleep (at least a third of it, even
    # on a busy machine).
    assert _cpu_seconds_idle_after_a_call("300") > 0.1


def _decode_call(B: int, H: int, K: int):
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((B, 1, H, K), dtype=np.float32) for _ in range(3))
    g = -np.abs(rng.standard_normal((B, 1, H), dtype=np.float32))
    s0 = rng.standard_normal((B, H, K, K), dtype=np.float32)
    return lambda: ops.fused_recurrent_simple_gla(
        q, k, v, g, initial_state=s0, output_final_state=True
    )


def test_small_calls_run_on_one_thread_and_leave_the_setting(monkeypatch) -> None:
    # A call with little work caps its own grid at one thread (no fork, no waking of
    # sleeping pool threads) and leaves the calling thread's OpenMP setting as it was;
    # its result is bitwise that of the same kernel on the whole pool.
    from linac import _linac, _runtime
    from linac.ops import _recurrence

    small = _decode_call(1, 2, 32)
    before = _linac.cpu_max_threads()
    o, state = small()
    assert _linac.cpu_max_threads() == before
    caps = []
    real_run = _runtime.LoadedKernel.run_cpu

    def spy(self, args, max_threads=0):
        caps.append(max_threads)
        return real_run(self, args, max_threads)

    monkeypatch.setattr(_runtime.LoadedKernel, "run_cpu", spy)
    small()
    monkeypatch.setattr(_recurrence, "_SERIAL_WORK", 0)  # the same call on the whole pool
    o_pool, state_pool = small()
    _decode_call(64, 4, 64)()  # 1M multiply-adds: the whole pool
    assert caps == [1, 0, 0]
    np.testing.assert_array_equal(o, o_pool)
    np.testing.assert_array_equal(state, state_pool)
    assert _linac.cpu_max_threads() == before
