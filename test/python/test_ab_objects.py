"""benchmarks/ab_objects.py, the A/B of ahead-of-time CPU builds of one op: two builds of the
same kernel link into one program and are both timed; a build whose output differs is refused
(exit code 1) before anything is timed; folders of different ops are refused (exit code 2)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPILER = ROOT / "build" / "bin" / "linac-compile"
TOOL = ROOT / "benchmarks" / "ab_objects.py"

pytestmark = pytest.mark.skipif(
    not COMPILER.exists() or shutil.which("objcopy") is None or shutil.which("nm") is None,
    reason="needs build/bin/linac-compile, objcopy and nm",
)


def _compile(folder: Path, op: str, *flags: str) -> Path:
    subprocess.run(
        [
            str(COMPILER),
            op,
            "--head-dim-k=16",
            "--head-dim-v=16",
            "--no-cache",
            "-o",
            str(folder),
            *flags,
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder


def _ab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(TOOL),
            *args,
            "--B",
            "1",
            "--T",
            "40",
            "--H",
            "2",
            "--seconds",
            "0.2",
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_two_builds_are_timed_side_by_side(tmp_path: Path):
    first = _compile(tmp_path / "a", "chunk_simple_gla")
    # Another chunk size: a different build with the same result up to rounding.
    second = _compile(tmp_path / "b", "chunk_simple_gla", "--chunk-size=8")
    records_path = tmp_path / "ab.json"
    run = _ab(str(first), str(second), "--json", str(records_path))
    assert run.returncode == 0, run.stdout + run.stderr
    records = json.loads(records_path.read_text())
    assert [r["variant"] for r in records] == [1, 2]
    assert records[0]["ratio"] == 1.0
    assert all(r["min_ms"] > 0 and r["rounds"] >= 1 for r in records)
    assert records[1]["ratio"] == pytest.approx(
        records[1]["min_ms"] / records[0]["min_ms"], rel=1e-2
    )
    assert str(second) in run.stdout


def test_keep_leaves_the_harness_to_profile(tmp_path: Path):
    build = _compile(tmp_path / "a", "chunk_simple_gla")
    keep = tmp_path / "harness"
    run = _ab(str(build), str(build), "--keep", str(keep))
    assert run.returncode == 0, run.stdout + run.stderr
    assert {"harness.c", "v1.o", "v2.o"} <= {p.name for p in keep.iterdir()}
    # The kept program runs again on its own (its argument: seconds to time).
    again = subprocess.run(
        [str(keep / "ab"), "0.1"], capture_output=True, text=True, timeout=120, check=False
    )
    assert again.returncode == 0, again.stderr
    assert [json.loads(line)["variant"] for line in again.stdout.splitlines()] == [1, 2]


def test_a_build_with_another_result_is_refused(tmp_path: Path):
    first = _compile(tmp_path / "a", "chunk_simple_gla")
    # L2-normalized q and k: same arguments, another output.
    other = _compile(tmp_path / "b", "chunk_simple_gla", "--qk-l2norm")
    run = _ab(str(first), str(other))
    assert run.returncode == 1
    assert "variant 2: output differs from variant 1" in run.stderr


def test_folders_of_different_ops_are_refused(tmp_path: Path):
    first = _compile(tmp_path / "a", "chunk_simple_gla")
    other = _compile(tmp_path / "b", "chunk_gla")
    run = _ab(str(first), str(other))
    assert run.returncode == 2
    assert "differs from" in run.stderr and "compare builds of one op" in run.stderr


def test_lengths_pack_one_batch_with_cu_seqlens(tmp_path: Path):
    first = _compile(tmp_path / "a", "chunk_simple_gla")
    second = _compile(tmp_path / "b", "chunk_simple_gla", "--chunk-size=8")
    keep = tmp_path / "harness"
    run = _ab(str(first), str(second), "--lengths", "5,30,7", "--keep", str(keep))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "B=1, T=42, H=2, lengths 5,30,7" in run.stdout
    source = (keep / "harness.c").read_text()
    assert "= {0, 5, 35, 42};" in source


@pytest.mark.parametrize("lengths", ["5,x", "5,0", ""])
def test_bad_lengths_are_refused(tmp_path: Path, lengths: str):
    build = _compile(tmp_path / "a", "chunk_simple_gla")
    run = _ab(str(build), str(build), "--lengths", lengths)
    assert run.returncode == 2
    assert "--lengths" in run.stderr


def test_state_gives_the_initial_and_final_states(tmp_path: Path):
    # As a decode step calls the kernel: from a given state. Without --state the states
    # are empty buffers (first dimension 0); with it both have N = B sequences.
    build = _compile(tmp_path / "a", "fused_recurrent_simple_gla")
    keep = tmp_path / "harness"
    run = _ab(str(build), str(build), "--state", "--keep", str(keep))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "H=2, with states" in run.stdout
    source = (keep / "harness.c").read_text()
    # initial_state (argument 4) and final_state (argument 6): 1 x 2 x 16 x 16 floats.
    assert "linac_buffer4 a4 = {(void *)a4_data, (void *)a4_data, 0, {1, 2, 16, 16}" in source
    assert "linac_buffer4 a6 = {(void *)a6_data, (void *)a6_data, 0, {1, 2, 16, 16}" in source
    plain = _ab(str(build), str(build), "--keep", str(keep))
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "{0, 1, 1, 1}" in (keep / "harness.c").read_text()
