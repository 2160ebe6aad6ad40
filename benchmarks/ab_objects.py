"""A/B of CPU kernels compiled ahead of time: several builds of one op, timed in one process.

    build/bin/linac-compile chunk_simple_gla --head-dim-k=128 --head-dim-v=128 -o /tmp/a --no-cache
    ... change the compiler, rebuild ...
    build/bin/linac-compile chunk_simple_gla --head-dim-k=128 --head-dim-v=128 -o /tmp/b --no-cache
    python3 benchmarks/ab_objects.py /tmp/a /tmp/b --T 4096 --seconds 20

On a shared machine the same kernel's time moves by tens of percent from one minute to the
next, so two benchmark runs made apart cannot tell a 5% change. This tool links the objects
of every folder (each written by `linac-compile` for the same op, shapes and dtype; their
symbols renamed apart with objcopy) into one C program that calls them in turn on the same
inputs for --seconds, and prints each one's minimum time and its ratio to the first: noise
then hits every variant alike. Before timing, every variant's output must match the first's
(max |difference| <= --tolerance * max |output|), else it stops with exit code 1: an A/B of
a wrong kernel means nothing.

Inputs: B sequences of T tokens, H heads, row-major; q, v and the other inputs uniform in
[-0.5, 0.5], k in [-0.05, 0.05], gates g in [-0.2, -0.01], beta in [0.1, 0.9]; no initial
or final state unless --state (both, as a decode step passes them: `--T 1 --B 64 --state` on
`fused_recurrent_simple_gla` times one decode step of 64 sequences), and no cu_seqlens unless
--lengths packs sequences of those lengths into one batch (B=1, as variable-length serving
calls the kernels). f32 kernels only. Threads:
--threads (OMP_NUM_THREADS). Buffers of 4 MiB or more get transparent huge pages (madvise), as
numpy's do, so the TLB behaves as in benchmarks/cpu_ops.py; --pages small gives 4 KiB pages.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Inputs left empty: the kernel then starts from zeros and keeps no state.
EMPTY_BUFFERS = {"initial_state", "final_state", "cu_seqlens"}
STATE_BUFFERS = {"initial_state", "final_state"}
# Value range per input name (others: [-0.5, 0.5]).
RANGES = {"k": (-0.05, 0.05), "g": (-0.2, -0.01), "beta": (0.1, 0.9)}
SCALAR_TYPES = {"f32": "float", "f64": "double", "i64": "int64_t", "i32": "int32_t"}


def fail(message: str) -> None:
    print(f"ab_objects: {message}", file=sys.stderr)
    sys.exit(2)


def load_metadata(folder: Path) -> dict:
    found = sorted(folder.glob("*.json"))
    if len(found) != 1:
        fail(f"{folder}: expected one <op>.json written by linac-compile, found {len(found)}")
    meta = json.loads(found[0].read_text())
    if meta.get("target") != "cpu":
        fail(f"{found[0]}: target {meta.get('target')!r}, not cpu")
    if not (folder / f"{meta['symbol']}.o").exists():
        fail(f"{folder}: no {meta['symbol']}.o next to {found[0].name}")
    return meta


def dims(shape: list, sizes: dict[str, int]) -> list[int]:
    result = []
    for extent in shape:
        if isinstance(extent, int):
            result.append(extent)
        elif extent in sizes:
            result.append(sizes[extent])
        else:
            fail(f"unknown extent {extent!r} in shape {shape}")
    return result


def harness_source(
    meta: dict,
    variants: int,
    sizes: dict[str, int],
    tolerance: float,
    offsets: list[int] | None = None,
    states: bool = False,
) -> str:
    """A C program calling v1_ciface ... vN_ciface in turn (see the module's docstring);
    with `offsets`, cu_seqlens holds them (one packed batch of variable-length sequences);
    with `states`, the initial and final states are given."""
    empty = EMPTY_BUFFERS - STATE_BUFFERS if states else EMPTY_BUFFERS
    params, setup, call_args = [], [], []
    output = None
    for index, arg in enumerate(meta["args"]):
        name = f"a{index}"
        if arg["name"] == "cu_seqlens" and offsets:
            params.append(f"linac_buffer{arg['rank']} *")
            call_args.append(f"&{name}")
            setup.append(
                f"  int64_t {name}_data[] = {{{', '.join(map(str, offsets))}}};\n"
                f"  linac_buffer1 {name} = {{(void *){name}_data, (void *){name}_data, 0, "
                f"{{{len(offsets)}}}, {{1}}}};"
            )
            continue
        if arg["kind"] != "buffer":
            if arg["kind"] not in SCALAR_TYPES:
                fail(f"argument {arg['name']}: scalar kind {arg['kind']} not supported")
            params.append(SCALAR_TYPES[arg["kind"]])
            call_args.append("0.125" if arg["kind"].startswith("f") else "0")
            continue
        rank = arg["rank"]
        params.append(f"linac_buffer{rank} *")
        call_args.append(f"&{name}")
        shape = [0] + [1] * (rank - 1)
        if arg["name"] not in empty:
            if arg["dtype"] != "f32":
                fail(f"argument {arg['name']}: dtype {arg['dtype']}; only f32 kernels")
            shape = dims(arg["shape"], sizes)
        strides = [1] * rank
        for d in range(rank - 2, -1, -1):
            strides[d] = strides[d + 1] * max(shape[d + 1], 1)
        count = 1
        for extent in shape:
            count *= extent
        low, high = RANGES.get(arg["name"], (-0.5, 0.5))
        setup.append(
            f"  float *{name}_data = make({count}, {low}f, {high}f);\n"
            f"  linac_buffer{rank} {name} = {{(void *){name}_data, (void *){name}_data, 0, "
            f"{{{', '.join(map(str, shape))}}}, {{{', '.join(map(str, strides))}}}}};"
        )
        if arg["name"] == "output":
            output = (name, count)
    if output is None:
        fail("the kernel has no argument named output")
    signature = ", ".join(params)
    declarations = "\n".join(f"void v{i}_ciface({signature});" for i in range(1, variants + 1))
    table = ", ".join(f"v{i}_ciface" for i in range(1, variants + 1))
    out_name, out_count = output
    return f"""#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "{meta["symbol"]}.h"

{declarations}
typedef void (*kernel_fn)({signature});

static double now(void) {{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}}
static uint64_t seed = 88172645463325252ull;
/* Like numpy's allocator: buffers of 4 MiB or more are asked for transparent huge pages
   (unless HUGE_PAGES is 0), so the kernels see the TLB they see when called from Python. */
static float *make(size_t count, float low, float high) {{
  size_t bytes = (count * sizeof(float) + 63) / 64 * 64 + 64;
  size_t huge = (size_t)2 << 20;
  float *data;
  if (HUGE_PAGES && bytes >= ((size_t)4 << 20)) {{
    bytes = (bytes + huge - 1) / huge * huge;
    data = aligned_alloc(huge, bytes);
    madvise(data, bytes, MADV_HUGEPAGE);
  }} else {{
    data = aligned_alloc(64, bytes);
  }}
  for (size_t i = 0; i < count; ++i) {{
    seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
    data[i] = low + (high - low) * (float)(seed >> 40) / (float)(1ull << 24);
  }}
  return data;
}}

int main(int argc, char **argv) {{
  double seconds = atof(argv[1]);
  kernel_fn kernels[] = {{{table}}};
  int variants = {variants};
{chr(10).join(setup)}
  size_t n = {out_count};
  float *first = malloc(n * sizeof(float) + 1);
  double best[{variants}];
  for (int v = 0; v < variants; ++v) {{
    kernels[v]({", ".join(call_args)});
    if (v == 0) {{
      memcpy(first, {out_name}_data, n * sizeof(float));
      continue;
    }}
    double scale = 0, diff = 0;
    for (size_t i = 0; i < n; ++i) {{
      scale = fmax(scale, fabs(first[i]));
      diff = fmax(diff, fabs((double){out_name}_data[i] - first[i]));
    }}
    if (!(diff <= {tolerance} * scale)) {{
      printf("{{\\"error\\": \\"variant %d: output differs from variant 1 by %g (max |output| %g)\\"}}\\n",
             v + 1, diff, scale);
      return 1;
    }}
  }}
  for (int v = 0; v < variants; ++v) best[v] = 1e30;
  double start = now();
  int rounds = 0;
  do {{
    for (int v = 0; v < variants; ++v) {{
      double t0 = now();
      kernels[v]({", ".join(call_args)});
      double t = now() - t0;
      if (t < best[v]) best[v] = t;
    }}
    ++rounds;
  }} while (now() - start < seconds);
  for (int v = 0; v < variants; ++v)
    printf("{{\\"variant\\": %d, \\"min_ms\\": %.6f, \\"ratio\\": %.4f, \\"rounds\\": %d}}\\n",
           v + 1, best[v] * 1e3, best[v] / best[0], rounds);
  return 0;
}}
"""


def llvm_libdir() -> str:
    for tool in ("llvm-config-22", "llvm-config"):
        path = shutil.which(tool)
        if path:
            return subprocess.run(
                [path, "--libdir"], capture_output=True, text=True, check=True
            ).stdout.strip()
    return "/usr/lib/llvm-22/lib"


def renamed_object(folder: Path, meta: dict, index: int, work: Path) -> Path:
    """The folder's object with its defined global symbols prefixed v<index>_ (c_interface
    becomes v<index>_ciface), so that several builds of one op link together."""
    source = folder / f"{meta['symbol']}.o"
    listed = subprocess.run(
        ["nm", "--defined-only", "--extern-only", "--format=just-symbols", str(source)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    renames = []
    for symbol in listed:
        new = f"v{index}_ciface" if symbol == meta["entry"]["c_interface"] else f"v{index}_{symbol}"
        renames += ["--redefine-sym", f"{symbol}={new}"]
    target = work / f"v{index}.o"
    subprocess.run(["objcopy", *renames, str(source), str(target)], check=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="linac-compile output folders")
    parser.add_argument("--B", type=int, default=2)
    parser.add_argument("--T", type=int, default=4096)
    parser.add_argument("--H", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0, help="timing budget in all")
    parser.add_argument(
        "--threads", type=int, default=None, help="OMP_NUM_THREADS (default: unset)"
    )
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument(
        "--lengths",
        help="comma-separated sequence lengths: one packed batch (B=1, T their sum) with "
        "cu_seqlens, as in variable-length serving (replaces --B and --T)",
    )
    parser.add_argument(
        "--state",
        action="store_true",
        help="give the initial state and ask for the final one (a decode step: --T 1)",
    )
    parser.add_argument(
        "--pages",
        choices=("huge", "small"),
        default="huge",
        help="page size asked for the buffers of 4 MiB or more (huge: as numpy does, madvise)",
    )
    parser.add_argument("--json", type=Path, help="also write the records here")
    parser.add_argument(
        "--keep", type=Path, help="build the harness in this folder and keep it (e.g. for perf)"
    )
    args = parser.parse_args()
    if len(args.folders) < 2:
        fail("give at least two folders to compare")
    metas = [load_metadata(folder) for folder in args.folders]
    if args.state and not STATE_BUFFERS <= {arg["name"] for arg in metas[0]["args"]}:
        fail(f"--state: {metas[0]['op']} takes no initial and final state")
    for folder, meta in zip(args.folders[1:], metas[1:]):
        for key in ("op", "args", "dtype"):
            if meta[key] != metas[0][key]:
                fail(f"{folder}: {key} differs from {args.folders[0]}'s; compare builds of one op")
    sizes = {"B": args.B, "T": args.T, "H": args.H, "N": args.B}
    offsets = None
    if args.lengths is not None:
        try:
            lengths = [int(n) for n in args.lengths.split(",")]
        except ValueError:
            fail(f"--lengths {args.lengths!r}: expected comma-separated integers")
        if not lengths or min(lengths) < 1:
            fail(f"--lengths {args.lengths!r}: every length must be at least 1")
        if not any(arg["name"] == "cu_seqlens" for arg in metas[0]["args"]):
            fail(f"--lengths: {metas[0]['op']} takes no cu_seqlens")
        offsets = [0]
        for n in lengths:
            offsets.append(offsets[-1] + n)
        args.B, args.T = 1, offsets[-1]
        sizes.update(B=1, T=offsets[-1], N=len(lengths))
    with tempfile.TemporaryDirectory(prefix="linac-ab-") as tmp:
        work = Path(tmp)
        if args.keep:
            work = args.keep
            work.mkdir(parents=True, exist_ok=True)
        objects = [
            renamed_object(f, m, i + 1, work) for i, (f, m) in enumerate(zip(args.folders, metas))
        ]
        (work / "harness.c").write_text(
            harness_source(
                metas[0], len(objects), sizes, args.tolerance, offsets, states=args.state
            )
        )
        libdir = llvm_libdir()
        compiler = os.environ.get("CC", "cc")
        subprocess.run(
            [
                compiler,
                "-O2",
                f"-DHUGE_PAGES={int(args.pages == 'huge')}",
                "-I",
                str(args.folders[0]),
                str(work / "harness.c"),
                *map(str, objects),
                "-lm",
                f"-L{libdir}",
                "-lomp",
                f"-Wl,-rpath,{libdir}",
                "-o",
                str(work / "ab"),
            ],
            check=True,
        )
        env = dict(os.environ)
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        run = subprocess.run(
            [str(work / "ab"), str(args.seconds)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    records = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    if run.returncode != 0 or not records or "error" in records[0]:
        message = records[0]["error"] if records and "error" in records[0] else run.stderr.strip()
        print(f"ab_objects: {message}", file=sys.stderr)
        sys.exit(1)
    print(
        f"{metas[0]['op']} (B={args.B}, T={args.T}, H={args.H}"
        + (f", lengths {args.lengths}" if offsets else "")
        + (", with states" if args.state else "")
        + "), "
        f"threads {args.threads or 'default'}, {args.pages} pages, {records[0]['rounds']} rounds in {args.seconds:g} s:"
    )
    for record, folder in zip(records, args.folders):
        record["folder"] = str(folder)
        print(f"  {folder}: min {record['min_ms']:.3f} ms, {record['ratio']:.3f}x the first")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
