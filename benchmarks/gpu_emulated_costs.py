"""What a GPU kernel's chunk step issues, counted on the CPU by the emulator.

Not a timing: a model for comparing GPU code generation choices where no GPU is at hand.
For each kernel (and each candidate's options), one block runs on the emulator
(test/python/gpu_emulator.py) over 4 and then 8 chunks of one sequence and head; the
difference over 4 is one chunk step in the steady state, without the kernel's prologue
and epilogue. Per chunk step it reports:

- barriers;
- critical ops: the sum over the phases between barriers of what the busiest warp issued
  (an MLIR op of the GPU stage with any active thread counts once; constants, register
  moves and views count nothing, nor does a loop's control; one op can be several
  instructions, or fold into another's addressing);
- critical wavefronts: the same for shared-memory wavefronts (bank conflicts included);
- mma: warp-level mma.sync / wgmma issued, all warps.

    python3 benchmarks/gpu_emulated_costs.py [--op chunk_simple_gla ...] [--dtype bf16]
        [--head-dim 128] [--candidate warp-tiles=on ...] [--out costs.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test" / "python"))
sys.path.insert(0, str(ROOT / "test" / "gpu"))

from gpu_emulator import compile_for_emulation, kernels, parse, round_to, run_kernel
from make_bundle import parse_option_pairs

OPS = ["chunk_simple_gla", "chunk_gla", "chunk_delta_rule", "chunk_gated_delta_rule",
       "chunk_mamba2"]  # fmt: skip


def options_of(text: str) -> dict:
    """NAME=VALUE[,NAME=VALUE...] (as make-device-bundle.sh's --candidate takes them) as
    compile_builtin's keyword options."""
    options = parse_option_pairs(text.split(","), "--candidate")
    return {name.replace("-", "_"): value for name, value in options.items()}


def compile_kernel(op: str, dtype: str, head_dim: int, options: dict) -> tuple[dict, str]:
    target = options.pop("target", "sm_90")
    modifiers = {"dt_softplus": True} if "mamba" in op else {}
    return compile_for_emulation(op, target, head_dim, head_dim, dtype, **modifiers, **options)


def arguments(metadata: dict, tokens: int, rng: np.random.Generator) -> list:
    """Random arguments for one sequence and head of `tokens` tokens."""
    sizes = {"B": 1, "T": tokens, "H": 1, "N": 1, "G": 1, "N+1": 0, "segments": 1}
    values = []
    for arg in metadata["args"]:
        if arg["kind"] != "buffer":
            values.append(1.0 / math.sqrt(metadata["head_dim_k"]))
            continue
        shape = [sizes[d] if isinstance(d, str) else d for d in arg["shape"]]
        dtype = np.int64 if arg["dtype"] == "i64" else np.float32
        data = rng.standard_normal(shape).astype(dtype) if dtype != np.int64 else np.zeros(shape)
        if arg["name"] in ("g", "A"):
            data = -0.05 * np.abs(data)
        elif arg["name"] == "k" and "delta" in metadata["op"]:
            data = data / np.linalg.norm(data, axis=-1, keepdims=True)  # stable updates
        elif arg["name"] in ("beta", "dt"):
            data = 1 / (1 + np.exp(-data))
        values.append(round_to(arg["dtype"], data) if dtype != np.int64 else data)
    return values


def chunk_step_costs(metadata: dict, module: str) -> dict:
    (symbol,) = kernels(parse(module))
    threads = metadata["grid"]["block"][0]
    chunk = metadata["chunk_size"]
    runs = []
    for chunks in (4, 8):
        args = arguments(metadata, chunk * chunks, np.random.default_rng(0))
        runs.append(run_kernel(module, symbol, threads, args))
    return {key: (runs[1][key] - runs[0][key]) / 4 for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--op", action="append", help=f"kernels (default: {', '.join(OPS)})")
    parser.add_argument("--dtype", default="bf16")
    parser.add_argument("--head-dim", type=int, default=128, help="K = V (default 128)")
    parser.add_argument("--candidate", action="append", default=[], help="NAME=VALUE,...")
    parser.add_argument("--out", type=Path, help="write the records as JSON")
    options = parser.parse_args()
    variants = [("default", {})] + [(c, options_of(c)) for c in options.candidate]
    records = []
    header = (
        f"{'kernel':24} {'variant':32} {'barriers':>8} {'crit ops':>9} {'crit wf':>8} {'mma':>6}"
    )
    print(header)
    for op in options.op or OPS:
        for label, variant in variants:
            start = time.perf_counter()
            metadata, module = compile_kernel(op, options.dtype, options.head_dim, dict(variant))
            costs = chunk_step_costs(metadata, module)
            print(
                f"{op:24} {label:32} {costs['barriers']:8.1f} {costs['critical_ops']:9.1f} "
                f"{costs['critical_wavefronts']:8.1f} {costs['mma']:6.1f}",
                flush=True,
            )
            records.append({"op": op, "variant": label, "dtype": options.dtype,
                            "K": options.head_dim, "V": options.head_dim,
                            "chunk_size": metadata["chunk_size"],
                            "block_v": metadata["block_v"],
                            "threads": metadata["grid"]["block"][0],
                            "per_chunk_step": costs,
                            "seconds": round(time.perf_counter() - start, 1)})  # fmt: skip
    if options.out:
        options.out.write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
