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


def test_bundle_names_the_kernels_that_spill_registers(tmp_path: Path):
    import make_bundle

    kernels = tmp_path / "kernels"
    logs = {
        "bf16_k128_v128/fused_recurrent_delta_rule": "64 bytes stack frame, "
        "64 bytes spill stores, 64 bytes spill loads",
        "bf16_k128_v128/chunk_gla": "0 bytes stack frame, 0 bytes spill stores, "
        "0 bytes spill loads",
        "variants/chunk_gla/c8_bv16_t64/chunk_gla": "8 bytes stack frame, "
        "0 bytes spill stores, 4 bytes spill loads",
    }
    for kernel, line in logs.items():
        log = kernels / f"{kernel}.ptxas.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(
            "ptxas info    : Compiling entry function 'x' for 'sm_90'\n"
            f"ptxas info    : Function properties for x\n    {line}\n"
            "ptxas info    : Used 255 registers, used 1 barriers\n"
        )
    # A log left by an earlier bundle, not compiled by this one, is not reported.
    stale = kernels / "f32_k64_v64/fused_recurrent_gla.ptxas.log"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text(f"    {logs['bf16_k128_v128/fused_recurrent_delta_rule']}\n")
    compiled = [kernels / f"{kernel}.ptxas.log" for kernel in logs]
    assert make_bundle.register_spills(kernels, compiled) == [
        {
            "kernel": "bf16_k128_v128/fused_recurrent_delta_rule",
            "ptxas": logs["bf16_k128_v128/fused_recurrent_delta_rule"],
        },
        {
            "kernel": "variants/chunk_gla/c8_bv16_t64/chunk_gla",
            "ptxas": logs["variants/chunk_gla/c8_bv16_t64/chunk_gla"],
        },
    ]


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
    assert manifest["register_spills"] == []
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
        assert "SKIP: GPU phase profile" in log
        assert "SKIP: no GPU or no compute-sanitizer" in log
        assert "GPU parts skipped" in log
        assert "skipped" in json.loads((out / "gpu-tests.json").read_text())
    # The runtime-only build has no compiler in it.
    cache = (tmp_path / "build" / "CMakeCache.txt").read_text()
    assert "LINAC_ENABLE_COMPILER:BOOL=OFF" in cache
    assert not (tmp_path / "build" / "bin" / "linac-compile").exists()


def test_a_lost_cuda_context_moves_the_remaining_cases_to_a_fresh_process(
    tmp_path: Path, monkeypatch, capsys
):
    """test_gpu_ops.py on a stand-in GPU whose context breaks at the second case: the rest
    goes to a fresh process (here a real one, which finds no GPU and runs none), and every
    case still gets a record, the lost ones failed with the reason."""
    import types

    import test_gpu_ops

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    names = ["a-case", "b-case", "c-case", "d-case"]
    cases = [{"name": name, "op": "chunk_simple_gla"} for name in names]
    (bundle / "manifest.json").write_text(json.dumps({"cases": cases}))
    fake_torch = types.SimpleNamespace(cuda=types.SimpleNamespace(get_device_name=lambda: "fake"))
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setattr(test_gpu_ops, "gpu_unavailable", lambda lib: None)
    monkeypatch.setattr(test_gpu_ops, "Runtime", lambda lib: types.SimpleNamespace(path="fake"))
    ran = []

    def run_case(runtime, bundle, entry):
        ran.append(entry["name"])
        broken = entry["name"] == "b-case"
        reason = "AcceleratorError: misaligned address" if broken else ""
        return [{"case": entry["name"], "dtype": "bf16", "passed": not broken, "reason": reason}]

    monkeypatch.setattr(test_gpu_ops, "run_case", run_case)
    monkeypatch.setattr(test_gpu_ops, "context_lost", lambda: ran[-1] == "b-case")
    out = tmp_path / "records.json"
    status = test_gpu_ops.main(["--bundle", str(bundle), "--out", str(out)])
    assert status == 1
    assert ran == ["a-case", "b-case"]  # nothing more in the broken process
    records = json.loads(out.read_text())
    assert [r["case"] for r in records] == names
    assert [r["passed"] for r in records] == [True, False, False, False]
    assert all("the fresh process ran none" in r["reason"] for r in records[2:])
    assert "the CUDA context is lost after b-case" in capsys.readouterr().out


def test_summarize_keeps_the_fastest_correct_variant_of_each_kernel():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_variants

    def record(op, name, ms, correct=True, chunk=16):
        return {
            "op": op,
            "name": name,
            "K": 128,
            "V": 128,
            "B": 4,
            "T": 8192,
            "H": 16,
            "gpu": "NVIDIA H200",
            "chunk_size": chunk,
            "block_v": 32,
            "block_size": 128,
            "ms": ms,
            "correct": correct,
            "default": {"ms": 20.0},
        }

    records = [
        record("chunk_gla", "fast-but-wrong", 1.0, correct=False),
        record("chunk_gla", "slow", 9.0, chunk=32),
        record("chunk_gla", "fast", 5.0, chunk=8),
        {**record("chunk_simple_gla", "plain", 3.0)},
        {**record("chunk_simple_gla", "band", 2.0), "factored_band": "on"},
        {**record("chunk_mamba2", "broken", 0.0), "error": "launch failed"},
    ]
    del records[-1]["ms"]
    tuning = gpu_variants.summarize(records)
    assert tuning["format"] == "linac-tuning-1" and tuning["gpu"] == "NVIDIA H200"
    assert [(k["op"], k["chunk_size"], k["ms"]) for k in tuning["kernels"]] == [
        ("chunk_gla", 8, 5.0),
        ("chunk_simple_gla", 16, 2.0),
    ]
    kernel = tuning["kernels"][0]
    assert (kernel["target"], kernel["dtype"], kernel["head_dim_k"]) == ("sm_90", "bf16", 128)
    # A variant swept with --factored-band names it; the others leave it to the compiler.
    assert "factored_band" not in kernel
    assert tuning["kernels"][1]["factored_band"] == "on"


def test_bundle_profiling_builds_name_their_phases(tmp_path: Path):
    import make_bundle

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_profile

    ops = ["chunk_simple_gla", "chunk_delta_rule"]
    assert make_bundle.compile_profiles(COMPILER, tmp_path, ops, {}) == ops
    folder = tmp_path / "kernels" / "profile" / "bf16_k128_v128"
    metadata = json.loads((folder / "chunk_simple_gla.json").read_text())
    profile = metadata["profile"]
    assert profile["symbol"] == "linac_profile_chunk_simple_gla"
    assert profile["phases"][0] == "load state [conditional]"
    assert "chunk loop: chunk_state_update [mma.sync]" in profile["phases"]
    assert profile["phases"][-1].startswith("end: ")
    assert "linac_profile_chunk_simple_gla" in (folder / "chunk_simple_gla.ptx").read_text()
    # The delta rule's UT transform is solved column by column on GPUs: one phase of the
    # chunk loop, no barrier in a loop over the chunk's rows (row by row it had two a row).
    # Counters as a launch of 2 blocks of 3 chunk steps, without an initial or final state,
    # would leave them add up.
    phases = json.loads((folder / "chunk_delta_rule.json").read_text())["profile"]["phases"]
    assert "chunk loop: ut_transform" in phases
    assert not any("inner loop" in label for label in phases), phases
    visits = {"chunk loop: ": 6, "chunk loop, inner loop: ": 96}

    def visited(label: str) -> int:
        if label.endswith("[conditional]"):
            return 0
        return next((v for p, v in visits.items() if label.startswith(p)), 2)

    counters = [(10, visited(label)) for label in phases]
    summary = gpu_profile.summarize(phases, counters, blocks=2, launches=1)
    assert summary["chunk_steps_per_block"] == 3


def test_profile_summary_checks_and_shares_the_counters():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_profile

    labels = [
        "load state [conditional]",
        "chunk loop: chunk_output [mma.sync]",
        "chunk loop, inner loop: ut_transform",
        "chunk loop: store output",
        "end: store state",
    ]
    # 4 blocks x 2 launches, 16 chunk steps per block, 16 inner steps per chunk step.
    # No initial state: the conditional load is never visited.
    counters = [(0, 0), (96_000, 128), (20_000, 2048), (32_000, 128), (1_200, 8)]
    total = 96_000 + 20_000 + 32_000 + 1_200
    summary = gpu_profile.summarize(labels, counters, blocks=4, launches=2)
    assert summary["chunk_steps_per_block"] == 16
    assert summary["cycles_per_block"] == total / 8
    assert summary["cycles_per_chunk_step"] == (96_000 + 20_000 + 32_000) / 128
    shares = [phase["share"] for phase in summary["phases"]]
    assert abs(sum(shares) - 1.0) < 1e-12 and shares[1] == 96_000 / total
    assert summary["phases"][1]["cycles_per_visit"] == 750
    # Counters that do not add up are refused, not reported.
    with pytest.raises(ValueError, match="'end: store state' was visited 7 times"):
        gpu_profile.summarize(labels, counters[:4] + [(1_200, 7)], blocks=4, launches=2)
    with pytest.raises(ValueError, match="visited unequally"):
        gpu_profile.summarize(labels, counters[:3] + [(32_000, 120), counters[4]], 4, 2)
    with pytest.raises(ValueError, match="5 phase labels but 4 counters"):
        gpu_profile.summarize(labels, counters[:4], 4, 2)
    with pytest.raises(ValueError, match="conditional phase 'load state .* 9 times, more than 8"):
        gpu_profile.summarize(labels, [(800, 9)] + counters[1:], 4, 2)


def test_profile_runs_the_profiling_builds_and_writes_the_report(
    tmp_path: Path, monkeypatch, capsys
):
    """gpu_profile.py's run on a stand-in GPU: a real profiling build's metadata, stand-in
    launches and counters as a GPU would leave them (conditional phases unvisited)."""
    import math
    import types

    import make_bundle

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_ops
    import gpu_profile
    from linac_aot import AotKernel

    make_bundle.compile_profiles(COMPILER, tmp_path, ["chunk_simple_gla"], {})
    B, T, H, K = gpu_profile.PROFILE_SHAPE
    launched = []

    class StandInKernel:
        def __init__(self, metadata: dict):
            self.metadata = metadata

        grid = AotKernel.grid

        def read_profile(self, reset: bool = True) -> list[tuple[int, int]]:
            blocks = math.prod(self.grid({"output": types.SimpleNamespace(shape=(B, T, H, K))}))
            runs = blocks * launched.count(self)
            launched.clear()
            steps = runs * math.ceil(T / self.metadata["chunk_size"])
            counts = []
            for label in self.metadata["profile"]["phases"]:
                visits = 0 if "[conditional]" in label else steps if "loop" in label else runs
                counts.append((100 * visits, visits))
            return counts

    def load(folder: Path, op: str) -> StandInKernel:
        return StandInKernel(json.loads((folder / f"{op}.json").read_text()))

    fake_torch = types.SimpleNamespace(
        cuda=types.SimpleNamespace(get_device_name=lambda: "Stand-in GPU"),
        empty=lambda shape, device: types.SimpleNamespace(shape=shape),
    )
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setattr(gpu_profile, "gpu_unavailable", lambda lib: None)
    monkeypatch.setattr(gpu_profile, "Runtime", lambda lib: types.SimpleNamespace(load=load))
    monkeypatch.setattr(gpu_ops, "Timer", lambda torch, repetitions, warmup: lambda f: 2.5)
    monkeypatch.setattr(gpu_ops, "make_problem", lambda *args, **kwargs: {})
    monkeypatch.setattr(
        gpu_ops,
        "linac_call",
        lambda torch, kernel, *args, **kwargs: lambda: launched.append(kernel),
    )
    out = tmp_path / "profile.json"
    argv = ["--bundle", str(tmp_path), "--out", str(out), "--ops", "simple_gla", "gla"]
    assert gpu_profile.main(argv) == 0
    report = json.loads(out.read_text())
    assert report["gpu"] == "Stand-in GPU" and list(report["ops"]) == ["simple_gla"]
    result = report["ops"]["simple_gla"]
    metadata = json.loads(
        (tmp_path / "kernels/profile/bf16_k128_v128/chunk_simple_gla.json").read_text()
    )
    assert result["chunk_steps_per_block"] == math.ceil(T / metadata["chunk_size"])
    assert result["launches"] == 3 and result["profiled_ms"] == 2.5
    assert [p["label"] for p in result["phases"]] == metadata["profile"]["phases"]
    printed = capsys.readouterr().out
    assert "SKIP: chunk_gla: no profiling build" in printed
    assert "K cycles per chunk step" in printed


def simple_gla_bundle_command(bundle: Path) -> list[str]:
    """make_bundle.py for chunk_simple_gla's cases alone, without the sweep and profiles."""
    return [
        sys.executable,
        str(ROOT / "test" / "gpu" / "make_bundle.py"),
        "-o",
        str(bundle),
        "--ops",
        "chunk_simple_gla",
        "--no-variants",
        "--no-profile",
    ]


def test_bundle_with_baseline_kernels(tmp_path: Path):
    """--baseline-compiler builds the benchmark's kernels a second time with that compiler
    (here the same one, standing in for another revision's) into kernels/baseline/. An
    earlier build's kernels (here a sweep this build leaves out) do not stay in the bundle."""
    bundle = tmp_path / "bundle"
    stale = bundle / "kernels" / "variants" / "chunk_simple_gla_c8_v8.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    made = subprocess.run(
        [*simple_gla_bundle_command(bundle), "--baseline-compiler", str(COMPILER)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert not (bundle / "kernels" / "variants").exists()
    manifest = json.loads((bundle / "manifest.json").read_text())
    baseline = manifest["baseline"]
    assert baseline["compiler"] == str(COMPILER)
    # The state passes of segmented runs: the correctness cases' (2 chunks a segment), and
    # those LINAC_SEGMENTS=auto picks on an H200 at the K = 128 benchmark shapes.
    segment_passes = manifest["segment_passes"]
    assert "m2/bf16_k128_v128/chunk_simple_gla" in segment_passes and len(segment_passes) >= 2
    for built in segment_passes:
        chunks, folder, op = built.split("/")
        meta = json.loads(
            (bundle / "kernels" / "segments" / chunks / folder / f"{op}.json").read_text()
        )
        assert meta["state_checkpoints"] == int(chunks[1:])
        ordinary = json.loads((bundle / "kernels" / folder / f"{op}.json").read_text())
        assert meta["chunk_size"] == ordinary["chunk_size"]
        assert meta["block_v"] == ordinary["block_v"]
    assert sorted(baseline["kernels"]) == [
        "bf16_k128_v128/chunk_simple_gla",
        "bf16_k64_v64/chunk_simple_gla",
    ]
    for kernel in baseline["kernels"]:
        folder = bundle / "kernels" / "baseline" / kernel.split("/")[0]
        assert (folder / "chunk_simple_gla.ptx").exists()
        current = bundle / "kernels" / kernel.split("/")[0] / "chunk_simple_gla.json"
        assert (
            json.loads((folder / "chunk_simple_gla.json").read_text())["grid"]
            == (json.loads(current.read_text())["grid"])
        )


def test_bundle_with_baseline_options(tmp_path: Path):
    """--baseline-options without --baseline-compiler: this revision's kernels once more with
    an option changed, here without the double buffers (an A/B of that option)."""
    bundle = tmp_path / "bundle"
    command = [*simple_gla_bundle_command(bundle), "--no-tuning", "--baseline-options"]
    made = subprocess.run(
        [*command, "double-buffer=off"], capture_output=True, text=True, timeout=300, check=False
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert not (bundle / "kernels" / "variants").exists()
    manifest = json.loads((bundle / "manifest.json").read_text())
    baseline = manifest["baseline"]
    assert baseline["compiler"] == str(COMPILER)
    assert baseline["options"] == {"double-buffer": "off"}
    kernel = baseline["kernels"][0]
    single = bundle / "kernels" / "baseline" / kernel.split("/")[0] / "chunk_simple_gla.ptx"
    double = bundle / "kernels" / kernel.split("/")[0] / "chunk_simple_gla.ptx"
    assert "cp.async.wait_group \t1" in double.read_text()
    assert "cp.async.wait_group \t1" not in single.read_text()

    refused = subprocess.run(
        [*command, "double-buffer"], capture_output=True, text=True, timeout=60, check=False
    )
    assert refused.returncode != 0 and "is not NAME=VALUE" in refused.stderr, refused.stderr


def test_baseline_compiler_script_refuses_bad_revisions(tmp_path: Path):
    script = ROOT / "scripts" / "build-baseline-compiler.sh"
    for args, message in (([], "give the git revision"), (["no-such-ref"], "is not a commit")):
        done = subprocess.run(
            ["bash", str(script), *args, "-o", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2 and message in done.stderr, done.stderr


def test_bundle_with_candidates(tmp_path: Path):
    """--candidate (repeatable) builds the benchmark's kernels once more per set of options,
    keeping those whose PTX the options change: here elided barriers change
    chunk_simple_gla, GLA's factored band and sm_90a (without wgmma) do not, and two
    options go together."""
    bundle = tmp_path / "bundle"
    command = [*simple_gla_bundle_command(bundle), "--no-tuning"]
    candidates = [
        "elide-barriers=on",
        "factored-band=on",
        "elide-barriers=on,ldmatrix=off",
        "target=sm_90a",
    ]
    made = subprocess.run(
        [*command, *(f"--candidate={c}" for c in candidates)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    described = json.loads((bundle / "manifest.json").read_text())["candidates"]
    by_label = {candidate["label"]: candidate for candidate in described}
    assert list(by_label) == [
        "elide-barriers-on",
        "factored-band-on",
        "elide-barriers-on+ldmatrix-off",
        "target-sm_90a",
    ]
    kernels = ["bf16_k128_v128/chunk_simple_gla", "bf16_k64_v64/chunk_simple_gla"]
    elided = by_label["elide-barriers-on"]
    assert elided["options"] == {"elide-barriers": "on"}
    assert sorted(elided["kernels"]) == kernels and elided["unchanged"] == []
    for kernel in kernels:
        folder, op = kernel.split("/")
        ptx = (bundle / "kernels/candidates/elide-barriers-on" / folder / f"{op}.ptx").read_text()
        default = (bundle / "kernels" / folder / f"{op}.ptx").read_text()
        assert ptx.count("bar.sync") < default.count("bar.sync")
        both = bundle / "kernels/candidates/elide-barriers-on+ldmatrix-off" / folder / f"{op}.ptx"
        assert "bar.sync" in both.read_text() and "ldmatrix" not in both.read_text()
        assert "ldmatrix" in default
    # GLA's band leaves simple GLA alone; sm_90a alone changes only the PTX's .target.
    for label in ("factored-band-on", "target-sm_90a"):
        unchanged = by_label[label]
        assert unchanged["kernels"] == [] and sorted(unchanged["unchanged"]) == kernels
    assert not list((bundle / "kernels/candidates/factored-band-on").rglob("*.ptx"))

    refused = subprocess.run(
        [*command, "--candidate", "elide-barriers=on,ldmatrix"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0, refused.stderr
    assert "--candidate: 'ldmatrix' is not NAME=VALUE" in refused.stderr


def test_gpu_ops_times_other_builds_beside_linacs(tmp_path: Path, monkeypatch):
    """gpu_ops.time_beside (candidates and the baseline): the other build timed between two
    timings of linac's, linac's time the faster of its two, the output error against
    linac's; a build that fails to load is a note, not an exception."""
    import types

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_ops

    timings = iter([3.0, 1.5])  # the other build, then linac's second timing
    monkeypatch.setattr(gpu_ops, "relative_rms", lambda torch, a, b: abs(a.value - b.value))
    output = types.SimpleNamespace(value=1.0, clone=lambda: types.SimpleNamespace(value=1.25))
    monkeypatch.setattr(gpu_ops, "linac_call", lambda torch, kernel, *problem: lambda: output)
    runtime = types.SimpleNamespace(load=lambda folder, name: name)
    record = {"linac_ms": 2.0}
    linac = lambda: output
    beside = gpu_ops.time_beside(
        None, runtime, lambda call: next(timings), tmp_path, "k", (), linac, record
    )
    assert beside == {"ms": 3.0, "error": 0.25} and record["linac_ms"] == 1.5

    def refuse(folder, name):
        raise FileNotFoundError(f"{name}.cubin")

    record = {"linac_ms": 2.0}
    failed = types.SimpleNamespace(load=refuse)
    gpu_ops.time_baseline(None, failed, lambda call: 1.0, tmp_path, "k", (), linac, record)
    assert record == {"linac_ms": 2.0, "baseline_note": "FileNotFoundError: k.cubin"}


def test_gpu_ops_records_each_candidate_beside_the_default(tmp_path: Path, monkeypatch):
    """gpu_ops.py's run on a stand-in GPU over a bundle with two candidates, one of which
    leaves chunk_simple_gla as it is: the other is timed beside the default kernel (its
    speedup and error recorded), the unchanged one not at all."""
    import types

    bundle = tmp_path / "bundle"
    command = [*simple_gla_bundle_command(bundle), "--no-tuning"]
    candidates = ["--candidate=elide-barriers=on", "--candidate=factored-band=on"]
    made = subprocess.run(
        [*command, *candidates], capture_output=True, text=True, timeout=300, check=False
    )
    assert made.returncode == 0, made.stdout + made.stderr

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpu_ops

    class Launch:
        def __init__(self, folder: Path):
            self.ms = 1.5 if "candidates" in str(folder) else 2.0

        def __call__(self):
            return types.SimpleNamespace(shape=(1,), clone=lambda: None)

    fake_torch = types.SimpleNamespace(
        __version__="stand-in",
        version=types.SimpleNamespace(cuda="stand-in"),
        cuda=types.SimpleNamespace(get_device_name=lambda: "Stand-in GPU", empty_cache=lambda: 0),
    )
    runtime = types.SimpleNamespace(
        cuda_status=lambda: (True, 90, ""), load=lambda folder, name: folder
    )
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setattr(gpu_ops, "gpu_unavailable", lambda lib: None)
    monkeypatch.setattr(gpu_ops, "Runtime", lambda lib: runtime)
    monkeypatch.setattr(gpu_ops, "copy_bandwidth", lambda torch: 4e12)
    monkeypatch.setattr(gpu_ops, "Timer", lambda torch, repetitions, warmup: lambda f: f.ms)
    monkeypatch.setattr(gpu_ops, "make_problem", lambda *args, **kwargs: {})
    monkeypatch.setattr(gpu_ops, "linac_call", lambda torch, folder, *args: Launch(folder))
    monkeypatch.setattr(gpu_ops, "relative_rms", lambda torch, a, b: 0.0)
    monkeypatch.setattr(gpu_ops, "plot", lambda path: None)

    # sdpa, timed before the candidates, must not stand in for linac's kernel beside them.
    sdpa = types.SimpleNamespace(ms=0.5)
    monkeypatch.setattr(gpu_ops, "sdpa_call", lambda *args: (sdpa, "stand-in"))
    out = tmp_path / "results"
    argv = ["--bundle", str(bundle), "--out-dir", str(out), "--ops", "simple_gla", "--quick"]
    assert gpu_ops.main(argv) == 0
    [results] = out.glob("*[0-9].json")
    chunked = json.loads(results.read_text())[0]
    assert chunked["op"] == "simple_gla" and chunked["linac_ms"] == 2.0
    assert chunked["sdpa_ms"] == 0.5
    assert chunked["candidates"] == {
        "elide-barriers-on": {"ms": 1.5, "error": 0.0, "speedup": 2.0 / 1.5}
    }
    meta = json.loads(results.with_suffix(".meta.json").read_text())
    assert meta["candidates"] == {
        "elide-barriers-on": {"elide-barriers": "on"},
        "factored-band-on": {"factored-band": "on"},
    }
