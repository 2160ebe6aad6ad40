"""The GPU check's dry run on this machine: a device bundle for one small op, then
scripts/device-check.sh on it. It must build the runtime without the compiler, run the unit
tests, and exit 0 with the GPU parts skipped, saying so, where there is no GPU."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPILER = ROOT / "build" / "bin" / "linac-compile"
sys.path.insert(0, str(ROOT / "test" / "gpu"))
import problems

pytestmark = pytest.mark.skipif(
    not COMPILER.exists() or shutil.which("cmake") is None,
    reason="needs build/bin/linac-compile and cmake",
)


def _has_gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def test_bundle_and_device_check_dry_run(tmp_path: Path):
    bundle = tmp_path / "bundle"
    made = subprocess.run(
        [
            "bash",
            str(ROOT / "scripts" / "make-device-bundle.sh"),
            "-o",
            str(bundle),
            "--ops",
            "chunk_simple_gla",
            "--no-bench",
            "--no-wheels",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ},
    )
    assert made.returncode == 0, made.stdout + made.stderr
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert [case["op"] for case in manifest["cases"]] == ["chunk_simple_gla"]
    assert (bundle / "kernels" / "bf16_k64_v64" / "chunk_simple_gla.cubin").exists()
    assert (bundle / "kernels" / "f32_k64_v64" / "chunk_simple_gla.ptx").exists()
    # The stored inputs are the ones the kernel metadata asks for, bf16-exact where they
    # are q, k, v.
    data = np.load(bundle / "tests" / f"{manifest['cases'][0]['name']}.npz")
    assert data["input_q"].dtype == np.uint16
    assert data["reference_output"].shape == (2, 100, 2, 64)
    assert data["reference_final_state"].shape == (2, 2, 64, 64)
    cpu = problems.from_bf16_bits(data["cpu_bf16_output"])
    assert problems.relative_rms(cpu, data["reference_output"]) < 5e-3

    out = tmp_path / "out"
    checked = subprocess.run(
        [
            "bash",
            str(ROOT / "scripts" / "device-check.sh"),
            "--bundle",
            str(bundle),
            "--out",
            str(out),
            "--build-dir",
            str(tmp_path / "build"),
            "--quick",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    log = checked.stdout + checked.stderr
    assert checked.returncode == 0, log
    assert (tmp_path / "build" / "lib" / "liblinac_runtime.so").exists()
    assert "C++ unit tests" in log and "PASSED" in log
    assert (out / "device-check.log").read_text().strip().endswith(f"results in {out}")
    if not _has_gpu():
        assert "SKIP: GPU correctness tests (1 cases)" in log
        assert "SKIP: GPU benchmark" in log
        assert "SKIP: GPU variants" in log
        assert "SKIP: no GPU or no compute-sanitizer" in log
        assert "GPU parts skipped" in log
        assert "skipped" in json.loads((out / "gpu-tests.json").read_text())
    # The runtime-only build has no compiler in it.
    cache = (tmp_path / "build" / "CMakeCache.txt").read_text()
    assert "LINAC_ENABLE_COMPILER:BOOL=OFF" in cache
    assert not (tmp_path / "build" / "bin" / "linac-compile").exists()
