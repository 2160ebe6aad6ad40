"""Autotuning: pick a kernel's chunk size, value tile and (on GPUs) threads per
block by timing them on the call's own inputs, once per problem class.

Off by default: every kernel then uses the compiler's fixed default tiling.
``LINAC_AUTOTUNE=1`` turns it on. The first call of a problem class (op, head
sizes, dtype, target and modifiers, the machine, and T and the number of
(sequence, head) pairs rounded up to powers of two) compiles each candidate
tiling, runs it on the call's inputs (a warm-up, then the best of a few runs)
and keeps the fastest. The choice is stored next to the compiled kernels, in
``<LINAC_CACHE_DIR>/tuning/<hash>.json`` with every candidate's time, written
atomically; later calls and later processes reuse it without timing anything.
An unreadable or foreign record is discarded with a warning and tuned again;
where the cache folder cannot be written the choice is kept in memory.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from . import _linac

RECORD_VERSION = 1


@dataclass(frozen=True)
class Tiling:
    """One candidate: 0 is the compiler's default for that setting."""

    chunk_size: int = 0
    block_v: int = 0
    block_size: int = 0

    def describe(self) -> str:
        parts = [
            f"chunk {self.chunk_size or 'default'}",
            f"value tile {self.block_v or 'default'}",
        ]
        if self.block_size:
            parts.append(f"{self.block_size} threads")
        return ", ".join(parts)


def enabled() -> bool:
    return os.environ.get("LINAC_AUTOTUNE", "0") not in ("", "0", "false", "no", "off")


# What a value tile more costs on the CPU: each recomputes the chunk's Q K^T (and GLA's
# decays and intra-chunk scores) and reads q and k again. Measured with ab_objects.py
# (K=V=128, T=4096, B=2, H=4, two threads: every thread busy either way), two tiles of 64
# columns took 1.165x one of 128 for chunk_simple_gla and 1.38x for chunk_gla; the larger.
_CPU_TILE_OVERHEAD = 0.4


def default_tiling(target: str, head_dim_v: int, pairs: int) -> Tiling:
    """The tiling without autotuning: the compiler's defaults, except that on CPUs a grid
    of (sequence, head) pairs that would leave the kernels' threads idle is split into 2 or 4 value
    tiles (of 32 columns or more, a multiple of 16) where that evens the threads' shares
    by more than a tile's extra work costs. One sequence and head on two threads at T=16384
    (ab_objects.py): two tiles took 0.66x the time of one for chunk_simple_gla at K=V=128,
    0.70x for chunk_gla, 0.60x for chunk_gated_delta_rule, 0.75x / 0.80x for
    chunk_simple_gla / chunk_gla at K=V=64."""
    if target != "cpu" or pairs <= 0:
        return _DEFAULT
    # The runtime's own count (LINAC_NUM_THREADS, OMP_NUM_THREADS or the cores), as the
    # kernel's grid will get it.
    return _cpu_tiling(head_dim_v, pairs, max(_linac.cpu_max_threads(), 1))


_DEFAULT = Tiling()


@functools.lru_cache(maxsize=1024)
def _cpu_tiling(head_dim_v: int, pairs: int, threads: int) -> Tiling:
    """default_tiling's CPU choice (cached: it runs on every call, decode steps included)."""

    def cost(tiles: int) -> float:
        rounds = -(-pairs * tiles // threads)
        return rounds / tiles * (1 + _CPU_TILE_OVERHEAD * (tiles - 1))

    best = 1
    for tiles in (2, 4):
        width = head_dim_v // tiles
        if head_dim_v % tiles or width % 16 or width < 32:
            break
        if cost(tiles) < 0.95 * cost(best):
            best = tiles
    return Tiling(block_v=head_dim_v // best) if best > 1 else _DEFAULT


def candidates(target: str, head_dim_v: int, chunked: bool) -> list[Tiling]:
    """The tilings worth timing: chunk sizes around the default (chunked
    kernels only), whole and partial value tiles (more tiles: more parallel
    blocks or threads, each with a smaller state), and 2, 4 or 8 warps on GPUs.
    The GPU set spans what the H200 sweep found fastest for some op
    (benchmarks/results/gpu/variants-*.json): chunk_gla at K = 128 ran best
    with 8-token chunks, 16-column tiles and 2 warps."""
    if target == "cpu":
        chunks = (16, 32, 64) if chunked else (0,)
        tiles = sorted({head_dim_v, min(head_dim_v, 32)})
        return [Tiling(c, bv) for c in chunks for bv in tiles]
    chunks = (8, 16, 32, 64) if chunked else (0,)
    tiles = sorted({min(head_dim_v, t) for t in (16, 32, 64)})
    return [Tiling(c, bv, threads) for c in chunks for bv in tiles for threads in (64, 128, 256)]


def _power_of_two_at_least(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def _machine(target: str) -> str:
    """What the timings depend on besides the problem."""
    if target != "cpu":
        available, name, capability = _linac.cuda_status()
        return f"{name} sm_{capability}" if available else target
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    threads = os.environ.get("LINAC_NUM_THREADS") or str(len(os.sched_getaffinity(0)))
    return f"{model} x{threads}"


def problem_key(
    name: str, K: int, V: int, dtype: str, target: str, modifiers: dict, T: int, pairs: int
) -> dict:
    return {
        "record_version": RECORD_VERSION,
        "linac_version": _linac.version,
        "op": name,
        "K": K,
        "V": V,
        "dtype": dtype,
        "target": target,
        "modifiers": {k: modifiers[k] for k in sorted(modifiers)},
        "T_bucket": _power_of_two_at_least(T),
        "pairs_bucket": _power_of_two_at_least(pairs),
        "machine": _machine(target),
    }


def _record_path(key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    return Path(_linac.cache_dir()) / "tuning" / f"{digest}.json"


_lock = threading.Lock()
_memory: dict[str, Tiling] = {}
_unwritable_warned = False


def _read_record(path: Path, key: dict) -> Tiling | None:
    """The stored choice for `key`; None (after a warning) when the record is
    unreadable, truncated or for another problem."""
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        if record["key"] != key:
            raise ValueError("its key is for another problem")
        return Tiling(**record["best"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        warnings.warn(
            f"linac: discarding the unreadable tuning record {path} ({error}); tuning again",
            RuntimeWarning,
            stacklevel=4,
        )
        return None


def _write_record(path: Path, record: dict) -> None:
    """Writes through a temporary file and a rename: readers never see half."""
    global _unwritable_warned
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tuning-", suffix=".tmp")
        with os.fdopen(fd, "w") as stream:
            json.dump(record, stream, indent=1)
        os.replace(temporary, path)
    except OSError as error:
        if not _unwritable_warned:
            _unwritable_warned = True
            warnings.warn(
                f"linac: cannot write tuning records under {path.parent} ({error}); "
                "keeping them in memory",
                RuntimeWarning,
                stacklevel=4,
            )


def best_time_ms(run: Callable[[], None], synchronize: Callable[[], None], repeats: int) -> float:
    """A warm-up run, then the best of `repeats` timed runs, in milliseconds."""
    run()
    synchronize()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        synchronize()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def tune(
    key: dict,
    tilings: list[Tiling],
    time_tiling: Callable[[Tiling], float],
) -> Tiling:
    """The tiling to use for `key`: from memory, the record on disk, or by
    timing every candidate with `time_tiling` (ms; it raises CompileError for
    a tiling that does not compile, e.g. over the shared-memory limit)."""
    text = json.dumps(key, sort_keys=True)
    with _lock:
        if text in _memory:
            return _memory[text]
        path = _record_path(key)
        stored = _read_record(path, key)
        if stored is not None:
            _memory[text] = stored
            return stored
        print(
            f"linac: autotuning {key['op']} (K={key['K']} V={key['V']} {key['dtype']} "
            f"{key['target']}, T<={key['T_bucket']}): {len(tilings)} tilings",
            file=sys.stderr,
            flush=True,
        )
        results = []
        for tiling in tilings:
            try:
                results.append({"tiling": asdict(tiling), "ms": time_tiling(tiling)})
            except _linac.CompileError as error:
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
                results.append({"tiling": asdict(tiling), "error": first_line})
        timed = [r for r in results if "ms" in r]
        if not timed:
            raise _linac.CompileError(
                f"linac: autotuning {key['op']}: no tiling compiled "
                f"({results[0].get('error', '') if results else 'no candidates'})"
            )
        best = min(timed, key=lambda r: r["ms"])
        choice = Tiling(**best["tiling"])
        print(
            f"linac: autotuned {key['op']}: {choice.describe()} ({best['ms']:.3f} ms)",
            file=sys.stderr,
            flush=True,
        )
        _write_record(
            path,
            {"key": key, "best": asdict(choice), "candidates": results, "tuned_at": time.time()},
        )
        _memory[text] = choice
        return choice


def clear_memory() -> None:
    """Forgets the choices made in this process (the records on disk stay)."""
    with _lock:
        _memory.clear()
