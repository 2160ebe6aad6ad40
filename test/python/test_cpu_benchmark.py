"""A smoke run of benchmarks/cpu_ops.py on tiny problems, so that the benchmark cannot rot
silently: it must run end to end (its correctness checks of linac against the numpy chunked
forms and of those against the naive recurrences included: it exits non-zero on a mismatch)
and write the JSON records and the PNG plot with the fields the README's figures come from.
Timings are not checked (the machines are shared)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "cpu_ops.py"
CHUNK_OPS = ("chunk_simple_gla", "chunk_gla", "chunk_gated_delta_rule")
B, H, K, TS = 1, 2, 64, (100, 200)  # T not a multiple of the chunk: the padded path


def _chunked_flops(op: str, T: int, chunk: int = 64) -> int:
    """The docstring's count, written out again."""
    total = 0
    for start in range(0, T, chunk):
        C = min(chunk, T - start)
        if op == "chunk_gated_delta_rule":
            total += 6 * C * C * K + 4 * C * C * K + 6 * C * K * K
            total += sum(2 * i * i for i in range(C))
        else:
            total += 4 * C * C * K + 4 * C * K * K
    return B * H * total


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    if shutil.which("cc") is None:
        pytest.skip("no C compiler for benchmarks/fma_peak.c")
    folder = tmp_path_factory.mktemp("cpu_ops")
    command = [
        sys.executable,
        str(SCRIPT),
        "--quick",
        "--B",
        str(B),
        "--H",
        str(H),
        "--K",
        str(K),
        "--T",
        *map(str, TS),
        "--decode-batch",
        "2",
        "--decode-steps",
        "4",
        "16",
        "--repetitions",
        "3",
        "--decode-repetitions",
        "3",
        "--budget",
        "0.01",
        "--json",
        str(folder / "cpu.json"),
        "--plot",
        str(folder / "cpu.png"),
    ]
    completed = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "linear scaling" in completed.stdout
    return json.loads((folder / "cpu.json").read_text()), folder / "cpu.png"


def test_configuration_and_peak(document: tuple[dict, Path]) -> None:
    doc, _ = document
    assert doc["config"]["B"] == B and doc["config"]["H"] == H
    assert doc["config"]["T"] == list(TS) and doc["config"]["K"] == [K]
    assert doc["config"]["dtype"] == "float32"
    assert "--quick" in doc["command"]
    peak = doc["fma_peak"]
    assert len(peak["runs"]) == 2  # measured at the start and at the end
    assert peak["gflops_used"] == max(r["gflops_all_threads"] for r in peak["runs"]) > 0
    assert doc["machine"]["usable_cores"] >= 1
    first, last = (r["gflops_all_threads"] for r in peak["runs"])
    assert peak["peak_drift"] == pytest.approx((last - first) / max(first, last))
    assert (peak["warning"] is not None) == (abs(peak["peak_drift"]) > 0.10)


def test_a_falling_peak_is_flagged() -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    import cpu_ops

    steady = cpu_ops.machine_steadiness(
        [{"gflops_all_threads": 305.6}, {"gflops_all_threads": 301.2}]
    )
    assert steady["warning"] is None and steady["peak_drift"] == pytest.approx(-4.4 / 305.6)
    shared = cpu_ops.machine_steadiness(
        [{"gflops_all_threads": 306.1}, {"gflops_all_threads": 223.2}]
    )
    assert "moved -27%" in shared["warning"] and "run again" in shared["warning"]
    assert cpu_ops.machine_steadiness([{"gflops_all_threads": 300.0}])["warning"] is None


def test_chunk_records(document: tuple[dict, Path]) -> None:
    doc, _ = document
    peak = doc["fma_peak"]["gflops_used"]
    records = [r for r in doc["records"] if r["op"] != "decode"]
    assert sorted((r["op"], r["T"]) for r in records) == sorted(
        (op, T) for op in CHUNK_OPS for T in TS
    )
    for r in records:
        name = f"{r['op']} T={r['T']}"
        assert (r["B"], r["H"], r["K"], r["V"]) == (B, H, K, K), name
        assert r["flops"] == _chunked_flops(r["op"], r["T"]), name
        # linac's rate counts its own chunk size (on CPUs 16 by default at K = V = 64).
        assert r["linac_chunk_size"] == 16, name
        assert r["linac_flops"] == _chunked_flops(r["op"], r["T"], 16), name
        assert r["rel_rms_linac_vs_numpy_chunked"] < 1e-4, name
        assert r["rel_rms_naive_vs_numpy_chunked"] < 1e-4, name
        for impl in ("linac", "numpy_chunked", "numpy_naive"):
            s = r[impl]
            assert s["runs"] >= 3, (name, impl)
            assert 0 < s["min_ms"] <= s["median_ms"], (name, impl)
            count = r["linac_flops"] if impl == "linac" else r["flops"]
            gflops = count / (s["min_ms"] * 1e-3) / 1e9
            assert s["gflops"] == pytest.approx(gflops), (name, impl)
            assert s["fraction_of_peak"] == pytest.approx(gflops / peak), (name, impl)
        ratio = r["linac"]["min_ms"] / r["numpy_chunked"]["min_ms"]
        assert r["linac_over_numpy_chunked"] == pytest.approx(ratio), name
        assert r["speedup_vs_numpy_chunked"] == pytest.approx(1 / ratio), name
        assert r["speedup_vs_naive"] == pytest.approx(
            r["numpy_naive"]["min_ms"] / r["linac"]["min_ms"]
        ), name
    scaling = {(e["op"], e["K"]): e for e in doc["scaling"]}
    assert set(scaling) == {(op, K) for op in CHUNK_OPS}
    for (op, _), e in scaling.items():
        small, large = (next(r for r in records if r["op"] == op and r["T"] == T) for T in TS)
        expected = large["linac"]["min_ms"] / (TS[1] / TS[0] * small["linac"]["min_ms"])
        assert e["linac"] == pytest.approx(expected), op


def test_decode_record(document: tuple[dict, Path]) -> None:
    doc, _ = document
    (r,) = [r for r in doc["records"] if r["op"] == "decode"]
    assert (r["B"], r["T"], r["H"], r["K"]) == (2, 1, H, K)
    assert r["state_bytes"] == 2 * H * K * K * 4
    assert r["state_bytes_moved"] == 2 * r["state_bytes"]
    assert r["rel_rms_linac_vs_numpy"] < 1e-4 and r["rel_rms_after_64_steps"] < 1e-4
    for impl in ("linac", "numpy"):
        s = r[impl]
        assert s["us_per_step"] == pytest.approx(1e3 * s["min_ms"])
        assert s["us_per_token"] == pytest.approx(s["us_per_step"] / 2)
        assert s["state_gb_per_s"] > 0 and s["gflops"] > 0
    assert r["state_copy"]["gb_per_s"] > 0
    assert [e["steps"] for e in r["decode_loop"]] == [4, 16]
    # Python-side memory does not grow with the number of steps (64 KiB of slack for
    # first-call allocations of the numpy peer's thread pool and the like), and linac's
    # is a few states.
    slack = 64 * 1024
    for impl in ("linac", "numpy"):
        peaks = [e[impl]["traced_peak_bytes"] for e in r["decode_loop"]]
        assert 0 < min(peaks) and max(peaks) - min(peaks) <= slack, (impl, peaks)
        for e in r["decode_loop"]:
            assert e[impl]["us_per_step"] > 0
            assert "rss_growth_bytes" in e[impl]
    for e in r["decode_loop"]:
        assert e["linac"]["traced_peak_bytes"] < 4 * r["state_bytes"] + slack, e["steps"]


def test_plot_written(document: tuple[dict, Path]) -> None:
    _, png = document
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
