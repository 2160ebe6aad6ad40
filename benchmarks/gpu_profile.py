"""GPU phase profile: where a chunked kernel's cycles go, phase by phase.

    python3 benchmarks/gpu_profile.py --bundle build-device --out profile.json   # on the GPU
    python3 benchmarks/gpu_profile.py --show profile.json                          # anywhere

The bundle's kernels/profile/ holds the benchmark's chunked kernels built with
`linac-compile --profile-phases` (test/gpu/make_bundle.py), at the tilings of the benchmark
kernels. In such a build, thread 0 of every block reads the SM's cycle counter after each
barrier and adds the cycles since its previous reading to the phase the barrier ends: the
metadata names each phase by the chunk ops its code came from ("chunk loop: chunk_output
[mma.sync]"). This runs each kernel on the benchmark's first problem (B, T, H, K = V) =
(8, 2048, 16, 128), bf16, and reports per phase its share of the cycles, its cycles per
visit (per chunk step, for the chunk loop's phases), and the chunk step's cycles in all.
The profiling build's time is given beside the benchmark kernel's, to show what the
counters cost. It checks the counters first: every phase outside the chunk loop is visited
once per block and launch and the chunk loop's own phases equally often; those of a loop
inside it ("chunk loop, inner loop") more often, conditional ones ("[conditional]", the
initial state's load) at most as often, maybe never.

Writes --out (JSON): {gpu, shape, ops: {op: {kernel, profiled_ms, plain_ms, blocks,
launches, chunk_steps_per_block, cycles_per_block, cycles_per_chunk_step, phases: [{phase,
label, cycles, visits, share, cycles_per_visit}]}}}.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test" / "gpu"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_ops
import problems
from linac_aot import Runtime, gpu_unavailable

PROFILE_DIR = Path("kernels") / "profile"
PROFILE_SHAPE = problems.BENCH_SHAPES[0]
LOOP_PREFIX = "chunk loop: "
INNER_PREFIX = "chunk loop, inner loop: "  # visited several times a chunk step
CONDITIONAL = " [conditional]"  # under a condition (the initial state's load): maybe never


def summarize(
    labels: list[str], counters: list[tuple[int, int]], blocks: int, launches: int
) -> dict:
    """The phase table of one kernel from its counters, summed over `launches` launches of
    `blocks` blocks. Raises ValueError when the counters do not add up (a phase outside the
    chunk loop not visited once per block and launch, or the chunk loop's own phases visited
    unequally; those of a loop inside it are visited more often, conditional ones at most
    as often as the others, maybe never)."""
    if len(labels) != len(counters):
        raise ValueError(f"{len(labels)} phase labels but {len(counters)} counters")
    runs = blocks * launches
    loop_visits = {
        visits
        for label, (_, visits) in zip(labels, counters)
        if label.startswith(LOOP_PREFIX) and CONDITIONAL not in label
    }
    if len(loop_visits) > 1:
        raise ValueError(
            f"the chunk loop's phases were visited unequally often: {sorted(loop_visits)}"
        )
    steps = loop_visits.pop() if loop_visits else 0
    for label, (_, visits) in zip(labels, counters):
        if label.startswith(INNER_PREFIX):
            continue
        expected = steps if label.startswith(LOOP_PREFIX) else runs
        if CONDITIONAL in label:
            if visits > expected:
                raise ValueError(
                    f"conditional phase '{label}' was visited {visits} times, more than {expected}"
                )
        elif visits != expected:
            raise ValueError(
                f"phase '{label}' was visited {visits} times, not once per block and launch "
                f"({blocks} blocks x {launches} launches)"
            )
    total = sum(cycles for cycles, _ in counters)
    loop_cycles = sum(
        c
        for label, (c, _) in zip(labels, counters)
        if label.startswith((LOOP_PREFIX, INNER_PREFIX))
    )
    phases = [
        {
            "phase": i,
            "label": label,
            "cycles": cycles,
            "visits": visits,
            "share": cycles / total if total else 0.0,
            "cycles_per_visit": cycles / visits if visits else 0.0,
        }
        for i, (label, (cycles, visits)) in enumerate(zip(labels, counters))
    ]
    return {
        "blocks": blocks,
        "launches": launches,
        "chunk_steps_per_block": steps / runs if runs else 0.0,
        "cycles_per_block": total / runs if runs else 0.0,
        "cycles_per_chunk_step": loop_cycles / steps if steps else 0.0,
        "phases": phases,
    }


def show(op: str, result: dict) -> None:
    print(
        f"\n{op} ({result.get('kernel', '')}): {result.get('profiled_ms', float('nan')):.3f} ms profiled, "
        f"{result.get('plain_ms', float('nan')):.3f} ms without counters; {result['blocks']} blocks, "
        f"{result['chunk_steps_per_block']:.0f} chunk steps per block, "
        f"{result['cycles_per_block'] / 1e6:.2f} M cycles per block, "
        f"{result['cycles_per_chunk_step'] / 1e3:.1f} K cycles per chunk step"
    )
    print(f"  {'#':>3} {'share':>6} {'cycles/visit':>13}  phase")
    for phase in result["phases"]:
        print(
            f"  {phase['phase']:>3} {100 * phase['share']:>5.1f}% "
            f"{phase['cycles_per_visit']:>13.0f}  {phase['label']}"
        )


def profile(options) -> int:
    import torch

    runtime = Runtime(options.lib)
    B, T, H, K = PROFILE_SHAPE
    folder = options.bundle / PROFILE_DIR / problems.kernel_dir("bf16", K, K)
    plain_folder = options.bundle / "kernels" / problems.kernel_dir("bf16", K, K)
    if not folder.is_dir():
        print(f"SKIP: GPU phase profile: {folder} not found (bundle made with --no-profile)")
        return 0
    timer = gpu_ops.Timer(torch, options.repetitions, warmup=2)
    gpu = torch.cuda.get_device_name()
    report = {"gpu": gpu, "shape": {"B": B, "T": T, "H": H, "K": K, "V": K}, "ops": {}}
    print(f"GPU phase profile on {gpu}, B={B} T={T} H={H} K=V={K} bf16")
    failures = 0
    for family in options.ops:
        op = problems.bench_kernels(family)[0]
        if not (folder / f"{op}.json").exists():
            print(f"SKIP: {op}: no profiling build in {folder}")
            continue
        start = time.time()
        try:
            kernel = runtime.load(folder, op)
            problem = gpu_ops.make_problem(torch, family, B, T, H, K, K, decode=False)
            call = gpu_ops.linac_call(torch, kernel, family, problem, decode=False)
            profiled_ms = timer(call)
            kernel.read_profile(reset=True)
            for _ in range(options.launches):
                call()
            counters = kernel.read_profile(reset=True)
            # The grid follows the output's shape (a meta tensor: no memory).
            blocks = math.prod(kernel.grid({"output": torch.empty((B, T, H, K), device="meta")}))
            result = summarize(
                kernel.metadata["profile"]["phases"], counters, blocks, options.launches
            )
            meta = kernel.metadata
            result["kernel"] = (
                f"chunk {meta['chunk_size']}, value tile {meta['block_v']}, "
                f"{meta['grid']['block'][0]} threads"
            )
            result["profiled_ms"] = profiled_ms
            if (plain_folder / f"{op}.json").exists():
                plain = runtime.load(plain_folder, op)
                result["plain_ms"] = timer(
                    gpu_ops.linac_call(torch, plain, family, problem, decode=False)
                )
        except Exception as error:  # noqa: BLE001 - one op's failure must not hide the others
            failures += 1
            print(f"FAILED: {op}: {type(error).__name__}: {error}")
            report["ops"][family] = {"error": f"{type(error).__name__}: {error}"}
            continue
        report["ops"][family] = result
        show(op, result)
        print(f"  ({time.time() - start:.1f} s)")
        if options.out:
            options.out.write_text(json.dumps(report, indent=1) + "\n")
    if options.out:
        options.out.write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {options.out}")
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "build-device")
    parser.add_argument("--lib", type=Path, default=None, help="liblinac_runtime.so")
    parser.add_argument("--out", type=Path, help="the JSON report")
    parser.add_argument("--ops", nargs="*", default=problems.BENCH_OPS, choices=problems.BENCH_OPS)
    parser.add_argument("--launches", type=int, default=3, help="launches the counters sum")
    parser.add_argument("--repetitions", type=int, default=10, help="timed calls")
    parser.add_argument("--show", type=Path, help="print the tables of a report and exit")
    options = parser.parse_args(argv)
    if options.show:
        report = json.loads(options.show.read_text())
        print(f"{report['gpu']}, {report['shape']}")
        for family, result in report["ops"].items():
            if "error" in result:
                print(f"\n{family}: {result['error']}")
            else:
                show(problems.bench_kernels(family)[0], result)
        return 0
    reason = gpu_unavailable(options.lib)
    if reason:
        print(f"SKIP: GPU phase profile: {reason}")
        return 0
    return profile(options)


if __name__ == "__main__":
    sys.exit(main())
