"""GPU tile-option sweep: the benchmark's chunked kernels compiled with every chunk size,
value-tile width and block size that fits in shared memory (the bundle's kernels/variants/,
test/gpu/make_bundle.py), each timed on one problem and checked against the default kernel.

    python3 benchmarks/gpu_variants.py --bundle build-device --out variants.json
    python3 benchmarks/gpu_variants.py --summarize variants.json --out tuning.json

One record per variant {family, op, name, chunk_size, block_v, block_size, ms, vs_default,
error_vs_default, default}, written after every variant. `vs_default` is the default
kernel's time over the variant's (above 1: the variant is faster); `error_vs_default` is the
relative RMS difference of the outputs, which must stay within the bf16 tolerance of
test/gpu/problems.py (a variant outside it is reported as wrong, not as fast). The table at
the end names the fastest correct variant of each op: the data for the GPU defaults.

--summarize turns such records into a tuning file (format "linac-tuning-1"): the fastest
correct variant of each kernel, which `linac-compile --tuning=FILE` compiles with.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test" / "gpu"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_ops
import problems
from linac_aot import Runtime, gpu_unavailable


def sweep(options) -> int:
    import torch

    runtime = Runtime(options.lib)
    manifest = json.loads((options.bundle / "manifest.json").read_text())
    variants = manifest.get("variants", [])
    if not variants:
        print("SKIP: GPU variants: the bundle has none (made with --no-variants)")
        return 0
    B, T, H, K = problems.VARIANT_SHAPE
    timer = gpu_ops.Timer(torch, options.repetitions, options.warmup)
    gpu = torch.cuda.get_device_name()
    print(f"{len(variants)} variants on {gpu}, B={B} T={T} H={H} K=V={K} bf16")
    records = []
    start = time.time()
    for family in problems.BENCH_OPS:
        mine = [v for v in variants if v["family"] == family]
        if not mine:
            continue
        op = mine[0]["op"]
        default_folder = options.bundle / "kernels" / problems.kernel_dir("bf16", K, K)
        default = runtime.load(default_folder, op)
        problem = gpu_ops.make_problem(torch, family, B, T, H, K, K, decode=False)
        default_call = gpu_ops.linac_call(torch, default, family, problem, decode=False)
        default_ms = timer(default_call)
        reference = default_call().clone()
        tolerance = problems.tolerance(op, "bf16")
        meta = default.metadata
        print(
            f"{op}: default c{meta['chunk_size']}_bv{meta['block_v']}"
            f"_t{meta['grid']['block'][0]} {default_ms:.3f} ms",
            flush=True,
        )
        for variant in mine:
            record = {
                **variant,
                "gpu": gpu,
                "dtype": "bf16",
                "B": B,
                "T": T,
                "H": H,
                "K": K,
                "V": K,
            }
            record["default"] = {
                "chunk_size": meta["chunk_size"],
                "block_v": meta["block_v"],
                "block_size": meta["grid"]["block"][0],
                "ms": default_ms,
            }
            try:
                kernel = runtime.load(options.bundle / variant["folder"], op)
                call = gpu_ops.linac_call(torch, kernel, family, problem, decode=False)
                record["ms"] = timer(call)
                record["vs_default"] = default_ms / record["ms"]
                record["error_vs_default"] = gpu_ops.relative_rms(torch, call(), reference)
                record["correct"] = record["error_vs_default"] <= tolerance
            except Exception as error:  # noqa: BLE001 - one broken variant must not stop the sweep
                record["error"] = f"{type(error).__name__}: {error}"
                record["correct"] = False
            records.append(record)
            options.out.write_text(json.dumps(records, indent=1) + "\n")
            described = (
                f"{record['ms']:.3f} ms, {record['vs_default']:.2f}x default, "
                f"error {record['error_vs_default']:.1e}"
                if "ms" in record
                else record["error"]
            )
            print(f"  {variant['name']:<14} {described}", flush=True)
        del problem, reference
        torch.cuda.empty_cache()
    print(f"\nfastest correct variant per op ({time.time() - start:.0f} s):")
    for family in problems.BENCH_OPS:
        good = [r for r in records if r["family"] == family and r.get("correct")]
        if good:
            best = min(good, key=lambda r: r["ms"])
            print(
                f"  {best['op']:<24} {best['name']:<14} {best['ms']:.3f} ms "
                f"({best['vs_default']:.2f}x the default's {best['default']['ms']:.3f} ms)"
            )
    wrong = [r for r in records if not r.get("correct")]
    for record in wrong:
        reason = record.get("error") or f"error vs default {record['error_vs_default']:.1e}"
        print(f"WRONG {record['op']} {record['name']}: {reason}")
    return 1 if wrong else 0


def summarize(records: list[dict], target: str = problems.TARGET) -> dict:
    """The tuning file of a sweep's records: per kernel, its fastest correct variant."""
    best: dict[tuple, dict] = {}
    for record in records:
        if not record.get("correct") or "ms" not in record:
            continue
        key = (record["op"], record.get("dtype", "bf16"), record["K"], record["V"])
        if key not in best or record["ms"] < best[key]["ms"]:
            best[key] = record
    gpus = sorted({r["gpu"] for r in best.values()})
    kernels = [
        {
            "op": op,
            "target": target,
            "dtype": dtype,
            "head_dim_k": K,
            "head_dim_v": V,
            "chunk_size": r["chunk_size"],
            "block_v": r["block_v"],
            "block_size": r["block_size"],
            "ms": r["ms"],
            "default_ms": r["default"]["ms"],
            "problem": {name: r[name] for name in ("B", "T", "H")},
            # Only swept variants name it: the kernel was timed with linac-compile
            # --factored-band (the default tuned kernels leave it to the compiler).
            **({"factored_band": r["factored_band"]} if r.get("factored_band") else {}),
        }
        for (op, dtype, K, V), r in sorted(best.items())
    ]
    return {"format": "linac-tuning-1", "gpu": ", ".join(gpus), "kernels": kernels}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "build-device")
    parser.add_argument("--lib", type=Path, default=None, help="liblinac_runtime.so")
    parser.add_argument("--out", type=Path, required=True, help="the records (JSON)")
    parser.add_argument("--summarize", type=Path, help="a sweep's records: write the tuning file")
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    options = parser.parse_args(argv)
    if options.summarize:
        tuning = summarize(json.loads(options.summarize.read_text()))
        options.out.write_text(json.dumps(tuning, indent=1) + "\n")
        for kernel in tuning["kernels"]:
            print(
                f"{kernel['op']:<24} chunk {kernel['chunk_size']:>2}, value tile "
                f"{kernel['block_v']:>2}, {kernel['block_size']:>3} threads"
                + (
                    f", factored band {kernel['factored_band']}"
                    if "factored_band" in kernel
                    else ""
                )
                + f": {kernel['ms']:.3f} ms "
                f"({kernel['default_ms'] / kernel['ms']:.2f}x the default then)"
            )
        return 0
    reason = gpu_unavailable(options.lib)
    if reason:
        print(f"SKIP: GPU variants: {reason}")
        return 0
    return sweep(options)


if __name__ == "__main__":
    sys.exit(main())
