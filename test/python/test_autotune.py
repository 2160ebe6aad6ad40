"""Autotuning (LINAC_AUTOTUNE=1): the chosen tiling gives correct results, is stored next
to the kernels and reused without timing again, survives a corrupted record, and nothing is
tuned when it is off. Which tiling wins is not checked: that is a timing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from linac import _autotune, _runtime, ops, reference
from processes import run_python


@pytest.fixture
def tuning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Autotuning on, into a fresh cache folder, with no choices in memory."""
    monkeypatch.setenv("LINAC_AUTOTUNE", "1")
    monkeypatch.setenv("LINAC_CACHE_DIR", str(tmp_path))
    _autotune.clear_memory()
    yield tmp_path / "tuning"
    _autotune.clear_memory()


def _problem(rng, T=200, K=32, V=48):
    B, H = 1, 2
    q, k = (rng.standard_normal((B, T, H, K), dtype=np.float32) for _ in range(2))
    v = rng.standard_normal((B, T, H, V), dtype=np.float32)
    g = (-0.1 * np.abs(rng.standard_normal((B, T, H)))).astype(np.float32)
    return q, k, v, g


def _records(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def test_tuned_kernel_is_correct_and_recorded(tuning, rng, capfd):
    q, k, v, g = _problem(rng)
    o, state = ops.chunk_simple_gla(q, k, v, g, output_final_state=True)
    o_ref, state_ref = reference.recurrence(q, k, v, g)
    assert reference.relative_rms_error(o_ref, o) < 1e-5
    assert reference.relative_rms_error(state_ref, state) < 1e-5
    assert "linac: autotuning chunk_simple_gla" in capfd.readouterr().err

    (record,) = _records(tuning)
    assert record["key"]["op"] == "chunk_simple_gla"
    assert record["key"]["T_bucket"] == 256 and record["key"]["pairs_bucket"] == 2
    timed = [c for c in record["candidates"] if "ms" in c]
    assert len(record["candidates"]) == len(_autotune.candidates("cpu", 48, chunked=True))
    assert min(c["ms"] for c in timed) == pytest.approx(
        next(c["ms"] for c in timed if c["tiling"] == record["best"])
    )
    # The candidates span the chunk sizes.
    assert {c["tiling"]["chunk_size"] for c in record["candidates"]} == {16, 32, 64}


def test_choice_is_reused_from_memory_and_disk(tuning, rng, capfd):
    q, k, v, g = _problem(rng)
    first, _ = ops.chunk_simple_gla(q, k, v, g)
    capfd.readouterr()
    record_before = _records(tuning)

    again, _ = ops.chunk_simple_gla(q, k, v, g)  # from memory
    _autotune.clear_memory()  # as a new process: from the record
    from_disk, _ = ops.chunk_simple_gla(q, k, v, g)
    assert "autotuning" not in capfd.readouterr().err
    assert _records(tuning) == record_before
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, from_disk)


def test_corrupted_record_is_discarded_and_retuned(tuning, rng, capfd):
    q, k, v, g = _problem(rng)
    ops.chunk_simple_gla(q, k, v, g)
    (path,) = tuning.glob("*.json")
    path.write_text(path.read_text()[:40])  # truncated
    _autotune.clear_memory()
    capfd.readouterr()
    with pytest.warns(RuntimeWarning, match="discarding the unreadable tuning record"):
        o, _ = ops.chunk_simple_gla(q, k, v, g)
    assert "linac: autotuning" in capfd.readouterr().err
    assert _records(tuning)[0]["key"]["op"] == "chunk_simple_gla"
    o_ref, _ = reference.recurrence(q, k, v, g)
    assert reference.relative_rms_error(o_ref, o) < 1e-5


def test_record_for_another_problem_is_not_used(tuning, rng):
    q, k, v, g = _problem(rng)
    ops.chunk_simple_gla(q, k, v, g)
    (path,) = tuning.glob("*.json")
    record = json.loads(path.read_text())
    record["key"]["K"] = 999
    path.write_text(json.dumps(record))
    _autotune.clear_memory()
    with pytest.warns(RuntimeWarning, match="another problem"):
        ops.chunk_simple_gla(q, k, v, g)


def test_recurrent_kernels_tune_only_the_value_tile(tuning, rng):
    q, k, v, g = _problem(rng, T=5)
    o, _ = ops.fused_recurrent_simple_gla(q, k, v, g)
    o_ref, _ = reference.recurrence(q, k, v, g)
    assert reference.relative_rms_error(o_ref, o) < 1e-5
    (record,) = _records(tuning)
    assert {c["tiling"]["chunk_size"] for c in record["candidates"]} == {0}


def test_off_by_default(monkeypatch, tmp_path, rng):
    monkeypatch.delenv("LINAC_AUTOTUNE", raising=False)
    monkeypatch.setenv("LINAC_CACHE_DIR", str(tmp_path))
    ops.chunk_simple_gla(*_problem(rng))
    assert not (tmp_path / "tuning").exists()


def test_gpu_candidates_cover_chunks_tiles_and_warps():
    tilings = _autotune.candidates("sm_90", 128, chunked=True)
    assert {t.chunk_size for t in tilings} == {8, 16, 32, 64}
    assert {t.block_v for t in tilings} == {16, 32, 64}
    assert {t.block_size for t in tilings} == {64, 128, 256}


@pytest.mark.parametrize(
    ("threads", "pairs", "V", "block_v"),
    [
        (2, 1, 128, 64),  # one sequence and head: two tiles keep both threads busy
        (2, 1, 64, 32),
        (2, 3, 128, 0),  # 1.5 rounds of tiles instead of 2 of pairs: not worth a tile's work
        (2, 2, 128, 0),  # as many pairs as threads: no split
        (2, 8, 128, 0),
        (2, 5, 128, 0),  # 3 rounds either way (1.2x the work split): no split
        (1, 1, 128, 0),  # one thread: a split only adds work
        (4, 1, 128, 32),  # four threads: four tiles of 32 (on two, 64: see the first case)
        (2, 1, 60, 0),  # tiles below 32 columns or not multiples of 16: none
        (2, 1, 100, 0),
    ],
)
def test_cpu_default_tiling_splits_values_when_threads_would_idle(
    monkeypatch, threads, pairs, V, block_v
):
    monkeypatch.setattr(_autotune._linac, "cpu_max_threads", lambda: threads)
    assert _autotune.default_tiling("cpu", V, pairs) == _autotune.Tiling(block_v=block_v)
    assert _autotune.default_tiling("sm_90", V, pairs) == _autotune.Tiling()


@pytest.mark.parametrize(("setting", "block_v"), [("1", 0), ("2", 64)])
def test_cpu_default_tiling_counts_the_runtimes_threads(setting, block_v):
    # The thread count is the OpenMP runtime's, as LINAC_NUM_THREADS set it for the kernels
    # (read once per process: each setting in its own subprocess).
    code = "from linac import _autotune; print(_autotune.default_tiling('cpu', 128, 1).block_v)"
    env = {**os.environ, "LINAC_NUM_THREADS": setting}
    assert run_python(code, env=env, timeout=120).strip() == str(block_v)


def test_one_sequence_and_head_runs_on_split_value_tiles(monkeypatch, rng):
    # The split tiling is the kernel the call runs, and it gives the recurrence's result.
    monkeypatch.delenv("LINAC_AUTOTUNE", raising=False)
    monkeypatch.setattr(_autotune._linac, "cpu_max_threads", lambda: 2)
    B, T, H, K, V = 1, 300, 1, 32, 64
    q, k = (rng.standard_normal((B, T, H, K), dtype=np.float32) for _ in range(2))
    v = rng.standard_normal((B, T, H, V), dtype=np.float32)
    g = (-0.1 * np.abs(rng.standard_normal((B, T, H)))).astype(np.float32)
    s0 = rng.standard_normal((B, H, K, V), dtype=np.float32)
    o, state = ops.chunk_simple_gla(q, k, v, g, initial_state=s0, output_final_state=True)
    o_ref, state_ref = reference.recurrence(q, k, v, g, initial_state=s0)
    assert reference.relative_rms_error(o_ref, o) < 1e-5
    assert reference.relative_rms_error(state_ref, state) < 1e-5
    loaded = [
        key for key in _runtime._kernels if key[0] == "chunk_simple_gla" and key[1:3] == (K, V)
    ]
    assert any(key[6] == 32 for key in loaded), loaded
