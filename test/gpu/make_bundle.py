"""Builds the device bundle on the CPU machine (scripts/make-device-bundle.sh runs this):
kernels compiled ahead of time for the GPU with linac-compile, and for each correctness case
its inputs and the CPU kernels' results, so the GPU machine needs neither LLVM nor linac's
Python extension.

    python3 test/gpu/make_bundle.py -o build-device [--ops chunk_simple_gla ...] [--no-bench]
        [--no-variants] [--no-profile] [--tuning FILE | --no-tuning]
        [--baseline-compiler PATH] [--baseline-options NAME=VALUE...]
        [--candidate NAME=VALUE[,NAME=VALUE...]]...

Layout of the bundle:
    manifest.json                   target, cases, kernels, what made it, the kernels whose
                                    ptxas log reports spilled registers
    kernels/<dtype>_k<K>_v<V>/<op>.{json,cubin,ptx,ptxas.log}
    kernels/variants/<op>/c<C>_bv<BV>_t<threads>/<op>.*
                                    the benchmark's chunked kernels with other tile options
                                    (benchmarks/gpu_variants.py times them)
    kernels/profile/bf16_k128_v128/<op>.*
                                    the benchmark's chunked kernels built with
                                    --profile-phases (benchmarks/gpu_profile.py)
    kernels/baseline/<dtype>_k<K>_v<V>/<op>.*
                                    with --baseline-compiler: the benchmark's kernels built
                                    by another linac-compile (scripts/build-baseline-compiler.sh),
                                    which benchmarks/gpu_ops.py times beside these
    kernels/segments/m<M>/<dtype>_k<K>_v<V>/<op>.*
                                    state passes (--state-checkpoints=M) of the benchmark's
                                    chunked kernels, for the M that LINAC_SEGMENTS=auto picks
                                    on an H200 at each benchmark shape and for the
                                    correctness cases (benchmarks/gpu_ops.py, test_gpu_ops.py)
    kernels/candidates/<label>/<dtype>_k<K>_v<V>/<op>.*
                                    with --candidate: the benchmark's kernels built with
                                    options changed (label: the options, "=" as "-", "," as
                                    "+"), those whose PTX differs from the default's;
                                    benchmarks/gpu_ops.py times each beside the default
    tests/<case>.npz                input_<arg> (q, k, v, x, B, C, z as bf16 bits, uint16;
                                    the others float32/int64), reference_output and
                                    reference_final_state (the float32 CPU kernel),
                                    cpu_bf16_output (the bf16 CPU kernel, bf16 bits)
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TUNING = ROOT / "benchmarks" / "results" / "gpu" / "tuning-sm_90-h200.json"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems


def compile_kernel(
    compiler: Path,
    op: str,
    dtype: str,
    K: int,
    V: int,
    options: dict,
    out: Path,
    may_not_fit: bool = False,
) -> Path | None:
    """linac-compile <op> for the bundle's target into `out`, every time: a kernel left from
    an earlier bundle may come from another compiler or tuning file, and linac's kernel cache
    makes an unchanged one quick. Returns the kernel's ptxas log (written when ptxas is
    installed); `may_not_fit`: a kernel over the shared-memory limit returns None instead
    of failing."""
    command = [
        str(compiler),
        op,
        f"--target={problems.TARGET}",
        f"--dtype={dtype}",
        f"--head-dim-k={K}",
        f"--head-dim-v={V}",
        "-o",
        str(out),
    ]
    command += [f"--{name}={value}" for name, value in options.items()]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        if may_not_fit and "bytes of shared memory per block" in done.stderr:
            return None
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    (out / f"{op}.h").unlink(missing_ok=True)  # C launcher: not used by the device check
    return out / f"{op}.ptxas.log"


def register_spills(kernels: Path, logs: list[Path]) -> list[dict]:
    """The kernels whose ptxas log (of `logs`, this bundle's, under `kernels`) reports
    spilled registers, as {"kernel": path relative to `kernels`, "ptxas": the log's line}.
    Kernels at ptxas's 255-register limit tip into spilling on small changes of the compiler
    (see test/lit/Target/ptxas-register-edge.test); the bundle names them before a GPU run.
    Logs left in the folder by an earlier, bigger bundle are not this bundle's."""
    spilled = []
    for log in sorted(log for log in logs if log.exists()):
        for line in log.read_text().splitlines():
            found = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", line)
            if found and (int(found.group(1)) or int(found.group(2))):
                kernel = str(log.relative_to(kernels)).removesuffix(".ptxas.log")
                spilled.append({"kernel": kernel, "ptxas": line.strip()})
                break
    return spilled


def compile_variants(compiler: Path, out: Path, ops: list[str], logs: list[Path]) -> list[dict]:
    """The benchmark's chunked kernels at bf16 K = V = 128 with every tile option of the
    sweep that fits in shared memory (problems.VARIANT_*), for benchmarks/gpu_variants.py;
    their ptxas logs are appended to `logs`."""
    K = V = problems.VARIANT_SHAPE[3]
    variants = []
    for family in problems.BENCH_OPS:
        op = problems.bench_kernels(family)[0]
        if op not in ops:
            continue
        fitted = 0
        for chunk in problems.VARIANT_CHUNK_SIZES:
            for block_v in problems.VARIANT_BLOCK_VS:
                for threads in problems.VARIANT_BLOCK_SIZES:
                    bands = [None]
                    if op in problems.VARIANT_FACTORED_BAND_OPS and chunk <= 32:
                        bands.append("on")
                    for band in bands:
                        name = f"c{chunk}_bv{block_v}_t{threads}" + ("_fb" if band else "")
                        folder = out / "kernels" / "variants" / op / name
                        options = {"chunk-size": chunk, "block-v": block_v, "block-size": threads}
                        if band:
                            options["factored-band"] = band
                        log = compile_kernel(compiler, op, "bf16", K, V, options, folder, True)
                        if log is None:
                            continue
                        logs.append(log)
                        fitted += 1
                        variant = {
                            "family": family,
                            "op": op,
                            "name": name,
                            "folder": str(folder.relative_to(out)),
                            "chunk_size": chunk,
                            "block_v": block_v,
                            "block_size": threads,
                        }
                        if band:
                            variant["factored_band"] = band
                        variants.append(variant)
        print(f"variants of {op}: {fitted} fit in shared memory", flush=True)
    return variants


def compile_profiles(compiler: Path, out: Path, ops: list[str], tuning: dict) -> list[str]:
    """The benchmark's chunked kernels at bf16 K = V = 128, tiled as the benchmark's, built
    with --profile-phases (cycle counters per phase) for benchmarks/gpu_profile.py."""
    K = V = problems.BENCH_SHAPES[0][3]
    folder = out / "kernels" / "profile" / problems.kernel_dir("bf16", K, V)
    profiled = []
    for family in problems.BENCH_OPS:
        op = problems.bench_kernels(family)[0]
        if op in ops:
            options = {**tuning, "profile-phases": "true"}
            compile_kernel(compiler, op, "bf16", K, V, options, folder)
            profiled.append(op)
    if profiled:
        print(f"profiling builds of {', '.join(profiled)} in {folder}", flush=True)
    return profiled


def compile_bench_kernel(compiler: Path, case, options: dict, folder: Path) -> None:
    """One benchmark case's bf16 kernel, with `options` beside the case's own."""
    compile_kernel(compiler, case.op, "bf16", case.K, case.V, {**case.options, **options}, folder)


def bench_cases(cases: list) -> list:
    """The cases whose bf16 kernels benchmarks/gpu_ops.py times."""
    bench = {op for family in problems.BENCH_OPS for op in problems.bench_kernels(family)}
    return [case for case in cases if case.op in bench and "bf16" in case.dtypes]


def candidate_label(options: dict) -> str:
    """A folder name for a candidate's options: elide-barriers=on,ldmatrix=off as
    elide-barriers-on+ldmatrix-off."""
    return "+".join(f"{name}-{value}" for name, value in options.items())


def ptx_code(path: Path) -> list[str]:
    """A PTX file's lines without its .target directive: kernels that differ in it alone
    (sm_90 and sm_90a builds of the same code) run the same instructions."""
    return [line for line in path.read_text().splitlines() if not line.startswith(".target")]


def compile_candidates(
    compiler: Path, out: Path, cases: list, tuning: dict, candidates: list[dict]
) -> list[dict]:
    """For each candidate (linac-compile options without their dashes), the benchmark's bf16
    kernels built with those options too, into kernels/candidates/<label>/: an A/B of the
    options in one bundle, beside the default kernels. A kernel whose PTX comes out the same
    as the default's (the options do not touch it; a different .target alone counts as the
    same) is listed as unchanged and not kept, so that the GPU spends no time on it."""
    described = []
    for options in candidates:
        label = candidate_label(options)
        kernels, unchanged = [], []
        for case in bench_cases(cases):
            kernel_dir = problems.kernel_dir("bf16", case.K, case.V)
            if f"{kernel_dir}/{case.op}" in kernels + unchanged:
                continue  # another problem size of the same kernel
            folder = out / "kernels" / "candidates" / label / kernel_dir
            compile_bench_kernel(compiler, case, {**tuning, **options}, folder)
            default_ptx = out / "kernels" / kernel_dir / f"{case.op}.ptx"
            if ptx_code(folder / f"{case.op}.ptx") == ptx_code(default_ptx):
                for built in folder.glob(f"{case.op}.*"):
                    built.unlink()
                unchanged.append(f"{kernel_dir}/{case.op}")
            else:
                kernels.append(f"{kernel_dir}/{case.op}")
        print(
            f"candidate {label}: {len(kernels)} kernels changed, {len(unchanged)} unchanged",
            flush=True,
        )
        described.append(
            {"label": label, "options": options, "kernels": kernels, "unchanged": unchanged}
        )
    return described


def segment_chunks(metadata: dict, B: int, T: int, H: int) -> int:
    """Chunks per segment LINAC_SEGMENTS=auto picks for kernel `metadata` at (B, T, H) on
    problems.SEGMENT_UNITS multiprocessors (0: unsegmented)."""
    grid = math.ceil(metadata["head_dim_v"] / metadata["block_v"]) * H * B
    return problems.load_segments().chunks_per_segment(
        "auto", T, metadata["chunk_size"], grid, problems.SEGMENT_UNITS, gpu=True
    )


def compile_segment_passes(compiler: Path, out: Path, cases: list, tuning: dict) -> list[str]:
    """The state passes segmented runs of the benchmark's chunked kernels need: for each
    benchmark shape auto segments, and for the correctness cases, into
    kernels/segments/m<M>/."""
    built = []
    for case in bench_cases(cases):
        if case.op not in {problems.bench_kernels(op)[0] for op in problems.SEGMENT_OPS}:
            continue
        kernel_dir = problems.kernel_dir("bf16", case.K, case.V)
        metadata = json.loads((out / "kernels" / kernel_dir / f"{case.op}.json").read_text())
        chunks = {problems.SEGMENT_TEST_CHUNKS}
        for B, T, H, K in problems.BENCH_SHAPES:
            if K == case.K:
                chunks.add(segment_chunks(metadata, B, T, H))
        # The ordinary kernel's tiling, given: the default search could pick another for
        # the smaller state pass (auto's M counts the ordinary kernel's chunks).
        tiling = {
            "chunk-size": metadata["chunk_size"],
            "block-v": metadata["block_v"],
            "block-size": metadata["grid"]["block"][0],
        }
        for M in sorted(chunks - {0}):
            folder = problems.segment_folder(out, M, kernel_dir)
            compile_bench_kernel(compiler, case, {**tiling, "state-checkpoints": M}, folder)
            built.append(f"m{M}/{kernel_dir}/{case.op}")
    print(f"state passes for segmented runs: {len(built)}", flush=True)
    return built


def compile_baseline(
    compiler: Path, out: Path, cases: list, tuning: dict, extra_options: dict
) -> dict:
    """The benchmark's bf16 kernels (those gpu_ops.py times) built by another linac-compile
    (or this one), with the same options and tuning file plus `extra_options` (linac-compile
    options without their dashes, e.g. {"double-buffer": "off"}), into kernels/baseline/."""
    kernels = []
    for case in bench_cases(cases):
        folder = out / "kernels" / "baseline" / problems.kernel_dir("bf16", case.K, case.V)
        compile_bench_kernel(compiler, case, {**tuning, **extra_options}, folder)
        kernels.append(f"{folder.name}/{case.op}")
    described = " ".join(f"--{name}={value}" for name, value in extra_options.items())
    print(f"baseline kernels ({compiler} {described}): {len(kernels)}", flush=True)
    # scripts/build-baseline-compiler.sh builds into build-baseline/<commit>/build/bin.
    return {"compiler": str(compiler), "options": extra_options, "kernels": kernels}


def parse_option_pairs(pairs: list[str], flag: str = "--baseline-options") -> dict:
    """NAME=VALUE pairs (linac-compile options without their dashes) as a dict."""
    options = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name or not value or name.startswith("-"):
            raise SystemExit(
                f"{flag}: '{pair}' is not NAME=VALUE (a linac-compile option "
                "without its dashes, e.g. double-buffer=off)"
            )
        options[name] = value
    return options


def run_on_cpu(op: str, case: problems.Case, dtype: str, inputs: dict) -> tuple:
    """(output, final_state) of the CPU kernel `op` in `dtype` on `inputs`, as float32."""
    from linac._runtime import get_kernel
    from linac._tensors import BFLOAT16

    kernel = get_kernel(op, case.K, case.V, dtype, "cpu", 0, **case.options)
    numpy_dtype = {"f32": np.float32, "bf16": BFLOAT16, "f16": np.float16, "i64": np.int64}
    args = {}
    for arg in kernel.metadata["args"]:
        name = arg["name"]
        if arg["kind"] != "buffer":
            args[name] = inputs[name]
            continue
        element = numpy_dtype[arg["dtype"]]
        if name in ("output", "final_state"):
            args[name] = np.empty(problems.shape(arg, case), dtype=element)
        else:
            args[name] = np.ascontiguousarray(inputs[name]).astype(element)
    kernel.run_cpu(args)
    return (
        args["output"].astype(np.float32),
        args["final_state"].astype(np.float32),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "build-device")
    parser.add_argument("--compiler", type=Path, default=ROOT / "build" / "bin" / "linac-compile")
    parser.add_argument("--ops", nargs="*", help="ops to include (default: every built-in op)")
    parser.add_argument(
        "--no-bench", action="store_true", help="skip the K = V = 128 benchmark kernels"
    )
    parser.add_argument(
        "--no-variants", action="store_true", help="skip the tile-option sweep's kernels"
    )
    parser.add_argument(
        "--tuning",
        type=Path,
        default=DEFAULT_TUNING if DEFAULT_TUNING.exists() else None,
        help="compile with the tilings of this tuning file (linac-compile --tuning; default: "
        "the committed H200 sweep's)",
    )
    parser.add_argument("--no-tuning", action="store_true", help="the compiler's default tilings")
    parser.add_argument(
        "--no-profile", action="store_true", help="skip the profiling builds (--profile-phases)"
    )
    parser.add_argument(
        "--baseline-compiler",
        type=Path,
        help="also build the benchmark's kernels with this linac-compile (another revision's, "
        "scripts/build-baseline-compiler.sh), for gpu_ops.py to time beside these",
    )
    parser.add_argument(
        "--baseline-options",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="build the baseline kernels with these linac-compile options too (e.g. "
        "double-buffer=off); without --baseline-compiler, with this revision's compiler: an "
        "A/B of one option",
    )
    parser.add_argument(
        "--candidate",
        action="append",
        default=[],
        metavar="NAME=VALUE[,NAME=VALUE...]",
        help="also build the benchmark's kernels with these linac-compile options, for "
        "gpu_ops.py to time beside the defaults (repeatable: one A/B each, e.g. "
        "--candidate elide-barriers=on --candidate ldmatrix=off)",
    )
    options = parser.parse_args(argv)
    tuning = {} if options.no_tuning or not options.tuning else {"tuning": options.tuning}
    baseline_options = parse_option_pairs(options.baseline_options)
    candidates = [
        parse_option_pairs(candidate.split(","), "--candidate") for candidate in options.candidate
    ]
    if not options.compiler.exists():
        raise SystemExit(f"{options.compiler} not found: build linac first (ninja -C build)")
    listed = subprocess.run(
        [str(options.compiler), "--list"], capture_output=True, text=True, check=True
    ).stdout
    every_op = [line.split("\t")[0] for line in listed.splitlines() if line.strip()]
    ops = options.ops or every_op
    unknown = sorted(set(ops) - set(every_op))
    if unknown:
        raise SystemExit(f"unknown ops {unknown}; linac-compile --list has {every_op}")

    out = options.out
    # A bundle is built whole: kernels and cases of an earlier build (a sweep this one
    # leaves out, ops since dropped) would ride along to the device and count against its
    # 64 MiB.
    for stale in ("kernels", "tests"):
        shutil.rmtree(out / stale, ignore_errors=True)
    (out / "kernels").mkdir(parents=True)
    (out / "tests").mkdir()
    cases = problems.cases(ops, bench=not options.no_bench)
    manifest_cases = []
    logs = []
    start = time.time()
    for i, case in enumerate(cases):
        for dtype in case.dtypes:
            folder = out / "kernels" / problems.kernel_dir(dtype, case.K, case.V)
            compile_options = {**case.options, **tuning}
            logs.append(
                compile_kernel(
                    options.compiler, case.op, dtype, case.K, case.V, compile_options, folder
                )
            )
        folder = out / "kernels" / problems.kernel_dir(case.dtypes[0], case.K, case.V)
        metadata = json.loads((folder / f"{case.op}.json").read_text())
        inputs = problems.make_inputs(metadata, case, seed=i)
        reference = run_on_cpu(case.op, case, "f32", inputs)
        arrays = {
            f"input_{name}": problems.to_bf16_bits(value)
            if name in problems.DATA_ARGS
            else np.asarray(value)
            for name, value in inputs.items()
        }
        arrays["reference_output"], arrays["reference_final_state"] = reference
        errors = {}
        for dtype in case.dtypes:
            if dtype == "f32":
                continue  # the reference itself
            cpu_output = run_on_cpu(case.op, case, dtype, inputs)[0]
            arrays[f"cpu_{dtype}_output"] = problems.to_bf16_bits(cpu_output)
            errors[dtype] = problems.relative_rms(cpu_output, reference[0])
        np.savez_compressed(out / "tests" / f"{case.name}.npz", **arrays)
        manifest_cases.append(
            {
                "name": case.name,
                "op": case.op,
                "dtypes": list(case.dtypes),
                "shape": {"B": case.B, "T": case.T, "H": case.H, "K": case.K, "V": case.V},
                "tolerance": {dtype: problems.tolerance(case.op, dtype) for dtype in case.dtypes},
                "cpu_vs_reference": errors,
            }
        )
        described = ", ".join(f"CPU {d} vs f32 {e:.1e}" for d, e in errors.items())
        print(
            f"[{i + 1}/{len(cases)}] {case.name}: compiled, CPU results ({described})", flush=True
        )
    variants = []
    if not options.no_bench and not options.no_variants:
        variants = compile_variants(options.compiler, out, ops, logs)
    profiles = []
    if not options.no_bench and not options.no_profile:
        profiles = compile_profiles(options.compiler, out, ops, tuning)
    baseline = None
    baseline_compiler = options.baseline_compiler or (
        options.compiler if baseline_options else None
    )
    if baseline_compiler:
        if not baseline_compiler.exists():
            raise SystemExit(f"{baseline_compiler} not found")
        baseline = compile_baseline(baseline_compiler, out, cases, tuning, baseline_options)
    described_candidates = compile_candidates(options.compiler, out, cases, tuning, candidates)
    segment_passes = (
        [] if options.no_bench else compile_segment_passes(options.compiler, out, cases, tuning)
    )
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        check=False,
        capture_output=True,
        text=True,
    ).stdout.strip()
    spills = register_spills(out / "kernels", logs)
    for spill in spills:
        print(f"WARNING: {spill['kernel']} spills registers: {spill['ptxas']}", flush=True)
    manifest = {
        "target": problems.TARGET,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "linac_commit": commit,
        "ops": ops,
        "cases": manifest_cases,
        "variants": variants,
        "profiles": profiles,
        "baseline": baseline,
        "candidates": described_candidates,
        "segment_passes": segment_passes,
        "tuning": str(tuning["tuning"]) if tuning else None,
        "register_spills": spills,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(cases)} cases in {out} ({time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
