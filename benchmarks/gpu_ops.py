"""GPU benchmark: forward time of linac's kernels (compiled ahead of time, in the device bundle)
against flash-linear-attention's Triton kernels and FlashAttention through
torch.nn.functional.scaled_dot_product_attention, side by side in one run.

    python3 benchmarks/gpu_ops.py --bundle build-device          # on the GPU machine
    python3 benchmarks/gpu_ops.py --plot-only benchmarks/results/gpu/<date>.json

Problems (issue 6): simple_gla, gla, delta_rule, gated_delta_rule and mamba2 at
(B, T, H, K = V) in {(8, 2048, 16, 128), (4, 8192, 16, 128), (1, 32768, 16, 128),
(8, 1024, 8, 64)}, bf16, output_final_state off; and the decode step (the fused_recurrent
kernel on one token with a state in and out) at batch 64 for each (H, K) of those problems.

Writes <out-dir>/<date>.json, a list of records {op, B, T, H, K, V, dtype, linac_ms, fla_ms,
sdpa_ms, tflops, gpu} (decode records: op "<op>_decode", T = 1; with baseline kernels in the
bundle (make_bundle.py --baseline-compiler), also baseline_ms, linac_vs_baseline and
baseline_error: another compiler revision's kernel timed between two timings of this one;
with candidate kernels (make_bundle.py --candidate), candidates: {label: {ms, speedup (linac
ms / candidate ms), error}} for each option A/B that changes the kernel),
<date>.meta.json (versions, the GPU's copy bandwidth, why a column is null, decode GB/s,
linac vs fla output errors) and <date>.png (time against T, when matplotlib is importable;
else --plot-only makes it later on any machine).

Peers. fla: fla.ops.<op>.chunk_<op> (decode: fused_recurrent_<op>), when `fla` imports; for
mamba2, mamba_ssm's mamba_chunk_scan_combined when it imports, else fla's chunk_simple_gla on
the same SSD problem (q = C, k = B, v = x dt, g = dt A; without D), noted in the meta file.
sdpa: causal attention on the same q, k, v ([B, H, T, D] layout), FlashAttention's backend
forced (the default backend, noted, if that fails); decode: one query against a KV cache of
--decode-context tokens.

Timing: CUDA events around each call, after warm-up calls (Triton compiles and autotunes
there); the median of --repetitions (fewer, at least 3, for calls over 100 ms). linac's
kernels are bound to their arguments once (AotKernel.bind), so a timed call is one ctypes
launch; the peers' calls include their Python wrappers, as their users' do. Peers stop
being measured, with the reason recorded, once --budget-s seconds have passed.

FLOP counts (the chunked algorithm's with C = 64 whatever the implementation's chunk size, as
in benchmarks/cpu_ops.py; per (sequence, head) and chunk; score matrices dense C x C):
    simple_gla, gla, mamba2 (K = d_state, V = head dim):
        2 C^2 K (Q K^T) + 2 C K V (Q S) + 2 C^2 V (P V) + 2 C K V (K^T V)
    delta_rule, gated_delta_rule: the above + 2 C^2 K (beta K K^T) + 2 sum_{i<C} i^2
        (triangular inverse) + 2 C^2 K (W) + 2 C^2 V (U) + 2 C K V (W S)
    decode (per sequence and head): 5 K V plain, 9 K V delta; GB/s counts the fp32 state read
        and written plus q, k, v and o.
tflops = count / linac time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "test" / "gpu"))
import problems
from linac_aot import Runtime, context_lost, gpu_unavailable

C = 64  # the chunk size of the FLOP count

# Nominal memory bandwidths (bytes/s) by device name, for reference next to the measured copy.
NOMINAL_BANDWIDTH = {"H200": 4.8e12, "H100 SXM": 3.35e12, "H100 PCIe": 2.0e12, "A100": 2.0e12}


def flops(op: str, B: int, T: int, H: int, K: int, V: int) -> float:
    """The chunked forward's FLOP count (module docstring)."""
    chunks = math.ceil(T / C)
    per_chunk = 2 * C * C * K + 2 * C * K * V + 2 * C * C * V + 2 * C * K * V
    if problems.is_delta(op):
        inverse = 2 * sum(i * i for i in range(C))
        per_chunk += 2 * C * C * K + inverse + 2 * C * C * K + 2 * C * C * V + 2 * C * K * V
    return float(B * H * chunks * per_chunk)


def decode_flops(op: str, B: int, H: int, K: int, V: int) -> float:
    return float(B * H * K * V * (9 if problems.is_delta(op) else 5))


def decode_bytes(B: int, H: int, K: int, V: int) -> float:
    """fp32 state in and out, bf16 q, k, v and o of one token."""
    return float(B * H * (2 * 4 * K * V + 2 * (2 * K + 2 * V)))


class Timer:
    """Median time of a callable with CUDA events."""

    def __init__(self, torch, repetitions: int, warmup: int):
        self.torch = torch
        self.repetitions = repetitions
        self.warmup = warmup

    def __call__(self, function) -> float:
        torch = self.torch
        for _ in range(self.warmup):
            function()
        torch.cuda.synchronize()
        times = []
        for i in range(self.repetitions):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            function()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
            if i >= 2 and sum(times) > 1000.0:  # slow calls: three are enough
                break
        return statistics.median(times)


def copy_bandwidth(torch) -> float:
    """Bytes/s of a device-to-device copy of 1 GiB (read + write), the best of 5."""
    n = 1 << 28
    a = torch.empty(n, dtype=torch.float32, device="cuda")
    b = torch.empty_like(a)
    best = math.inf
    for _ in range(6):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        b.copy_(a)
        end.record()
        end.synchronize()
        best = min(best, start.elapsed_time(end))
    del a, b
    return 2 * 4 * n / (best * 1e-3)


# --- inputs and the three implementations -------------------------------------------------


def make_problem(torch, op: str, B: int, T: int, H: int, K: int, V: int, decode: bool) -> dict:
    """Random bf16 inputs of `op` (float32 gates), fla's layout; decode: T = 1 with a state."""
    g = torch.Generator(device="cuda").manual_seed(0)
    bf16 = torch.bfloat16

    def randn(*shape, dtype=bf16):
        return torch.randn(*shape, generator=g, device="cuda", dtype=torch.float32).to(dtype)

    def uniform(low, high, *shape):
        return low + (high - low) * torch.rand(*shape, generator=g, device="cuda")

    p = {"B": B, "T": T, "H": H, "K": K, "V": V}
    if op == "mamba2":
        p["x"] = randn(B, T, H, V)
        p["dt"] = uniform(0.01, 0.1, B, T, H)
        p["A"] = -uniform(0.5, 2.0, H)
        p["Bm"] = randn(B, T, 1, K)
        p["Cm"] = randn(B, T, 1, K)
        p["D"] = randn(H, V, dtype=torch.float32)
        p["dt_bias"] = uniform(0.0, 0.05, H)
    else:
        p["q"] = randn(B, T, H, K)
        k = randn(B, T, H, K)
        if problems.is_delta(op):
            k = torch.nn.functional.normalize(k.float(), dim=-1).to(bf16)
        p["k"] = k
        p["v"] = randn(B, T, H, V)
        if op in ("simple_gla", "gated_delta_rule"):
            p["g"] = -uniform(0.0, 0.5, B, T, H)
        if op == "gla":
            p["g"] = -uniform(0.0, 0.5, B, T, H, K)
        if problems.is_delta(op):
            p["beta"] = uniform(0.0, 1.0, B, T, H)
    if decode:
        p["state"] = randn(B, H, K, V, dtype=torch.float32)
    return p


def linac_args(torch, op: str, p: dict, decode: bool) -> dict:
    """The linac kernel's arguments for problem `p`: its tensors, a fresh output, and
    empty optional buffers (or the decode step's state in and out)."""
    B, T, H, K, V = (p[s] for s in "BTHKV")
    empty_state = torch.empty((0, H, K, V), dtype=torch.float32, device="cuda")
    args = {
        "initial_state": p["state"] if decode else empty_state,
        "final_state": torch.empty_like(p["state"]) if decode else empty_state,
        "cu_seqlens": torch.empty((0,), dtype=torch.int64, device="cuda"),
        "scale": K**-0.5,
    }
    if op == "mamba2":
        args.update(
            x=p["x"], dt=p["dt"], A=p["A"], B=p["Bm"], C=p["Cm"], D=p["D"], dt_bias=p["dt_bias"]
        )
        args["output"] = torch.empty_like(p["x"])
    else:
        args.update({name: p[name] for name in ("q", "k", "v", "g", "beta") if name in p})
        args["output"] = torch.empty((B, T, H, V), dtype=torch.bfloat16, device="cuda")
    return args


def linac_call(torch, kernel, op: str, p: dict, decode: bool):
    """A closure launching the linac kernel on `p`."""
    args = linac_args(torch, op, p, decode)
    launch = kernel.bind(args)  # the C arguments once: the timing measures the kernel

    def call():
        launch()
        return args["output"]

    return call


def segmented_call(torch, runtime, bundle: Path, folder: Path, kernel, op: str, p: dict):
    """(chunks per segment, a closure running the problem in segments) as LINAC_SEGMENTS=auto
    plans it on this GPU (frontend/linac/_segments.py): the state pass from the bundle, the
    gather of each segment's initial state, `kernel` over the segments. Buffers are
    allocated once, as linac_call binds its arguments once, so the timing measures the two
    kernels and the gather. (0, None) where auto leaves the problem unsegmented."""
    segments = problems.load_segments()
    B, T, H, K, V = (p[s] for s in "BTHKV")
    meta = kernel.metadata
    units = torch.cuda.get_device_properties(0).multi_processor_count
    grid = math.ceil(V / meta["block_v"]) * H * B
    chunks = segments.chunks_per_segment("auto", T, meta["chunk_size"], grid, units, gpu=True)
    if not chunks:
        return 0, None
    state_folder = problems.segment_folder(bundle, chunks, folder.name)
    state_pass = runtime.load(state_folder, meta["op"])
    plan = segments.plan_batch(B, T, None, state_pass.metadata["segment_tokens"])
    args = linac_args(torch, op, p, decode=False)
    output, empty_state = args["output"], args["initial_state"]
    f32 = torch.float32
    table = torch.zeros((B + len(plan.start_rows), H, K, V), dtype=f32, device="cuda")
    starts = torch.empty((len(plan.start_rows), H, K, V), dtype=f32, device="cuda")
    rows = torch.as_tensor(plan.start_rows, device="cuda")
    flat = {
        name: args[name].reshape(1, -1, *args[name].shape[2:])
        for name in segments.token_inputs(meta)
    }
    bounds = torch.as_tensor(plan.bounds, device="cuda")
    state_launch = state_pass.bind({**args, "final_state": table[B:]})
    output_launch = kernel.bind(
        {**args, **flat, "initial_state": starts, "cu_seqlens": bounds,
         "output": output.reshape(1, B * T, *output.shape[2:])}
    )  # fmt: skip

    def call():
        state_launch()
        torch.index_select(table, 0, rows, out=starts)
        output_launch()
        return output

    call.keep = (args, table, starts, rows, flat, bounds, empty_state)  # alive while timed
    return chunks, call


def time_segmented(torch, runtime, timer, bundle: Path, folder: Path, kernel, problem, record):
    """record["segments"]: the segmented run (segmented_call) timed beside linac's, as
    {chunks_per_segment, ms, speedup, error} (error: relative RMS against linac's output;
    the same arithmetic from the same states, so rounding apart 0), or {note}."""
    op, p, current_call = problem
    try:
        chunks, call = segmented_call(torch, runtime, bundle, folder, kernel, op, p)
        if not chunks:
            return
        beside = time_other(torch, timer, call, current_call, record)
        beside["speedup"] = record["linac_ms"] / beside["ms"]
        record["segments"] = {"chunks_per_segment": chunks, **beside}
    except Exception as error:  # noqa: BLE001 - recorded; the other problems go on
        record["segments"] = {"note": f"{type(error).__name__}: {error}"}


def fla_call(torch, op: str, p: dict, decode: bool):
    """(closure, note) for the fla/mamba_ssm peer; raises ImportError when it is missing."""
    scale = p["K"] ** -0.5
    state = {"initial_state": p["state"], "output_final_state": True} if decode else {}
    if op == "mamba2":
        if not decode:
            try:
                from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined

                def call():
                    return mamba_chunk_scan_combined(
                        p["x"],
                        p["dt"],
                        p["A"],
                        p["Bm"],
                        p["Cm"],
                        64,
                        D=p["D"],
                        dt_bias=p["dt_bias"],
                    )

                return call, "mamba_ssm mamba_chunk_scan_combined"
            except ImportError:
                pass
        # The SSD problem as simple GLA (the same chunked algorithm, without D).
        from fla.ops.simple_gla import chunk_simple_gla, fused_recurrent_simple_gla

        H = p["H"]
        dt = p["dt"] + p["dt_bias"]
        q = p["Cm"].expand(-1, -1, H, -1)
        k = p["Bm"].expand(-1, -1, H, -1)
        v = (p["x"].float() * dt[..., None]).to(torch.bfloat16)
        g = dt * p["A"]
        function = fused_recurrent_simple_gla if decode else chunk_simple_gla

        # linac's Mamba-2 state is [d_state, head dim] per head: fla's [K, V] here.
        def call():
            return function(q, k, v, g=g, scale=1.0, **state)

        return call, "fla simple_gla on the SSD problem (q=C, k=B, v=x dt, g=dt A; no D)"
    module = __import__(f"fla.ops.{op}", fromlist=["_"])
    function = getattr(module, f"{'fused_recurrent' if decode else 'chunk'}_{op}")
    kwargs = {name: p[name] for name in ("g", "beta") if name in p}
    if op == "gla":
        kwargs = {"gk": p["g"]} if decode else {"g": p["g"]}

    def call():
        return function(p["q"], p["k"], p["v"], scale=scale, **kwargs, **state)

    return call, f"fla {function.__module__}.{function.__name__}"


def sdpa_call(torch, p: dict, decode: bool, context: int):
    """(closure, backend) of causal FlashAttention on the problem's q, k, v."""
    from torch.nn.functional import scaled_dot_product_attention as sdpa

    B, T, H, K, V = (p[s] for s in "BTHKV")
    g = torch.Generator(device="cuda").manual_seed(1)
    kv_len = context if decode else T
    q = torch.randn(B, H, 1 if decode else T, K, generator=g, device="cuda").to(torch.bfloat16)
    k = torch.randn(B, H, kv_len, K, generator=g, device="cuda").to(torch.bfloat16)
    v = torch.randn(B, H, kv_len, V, generator=g, device="cuda").to(torch.bfloat16)

    def plain():
        return sdpa(q, k, v, is_causal=not decode)

    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        def flash():
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                return sdpa(q, k, v, is_causal=not decode)

        flash()
        return flash, "flash"
    except Exception as error:  # noqa: BLE001 - an old torch, or no flash kernel here
        return plain, f"default (flash refused: {type(error).__name__}: {error})"


# --- the run ---------------------------------------------------------------------------------


def relative_rms(torch, result, reference) -> float:
    """rms(result - reference) / rms(reference) in float64; inf when `result` is not finite."""
    a, b = result.double(), reference.double()
    if not torch.isfinite(a).all():
        return float("inf")
    return ((a - b).pow(2).mean().sqrt() / b.pow(2).mean().sqrt()).item()


def run(options) -> int:
    import torch

    runtime = Runtime(options.lib)
    _, capability, _ = runtime.cuda_status()
    gpu = torch.cuda.get_device_name()
    meta = {
        "gpu": gpu,
        "compute_capability": capability,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "bundle": str(options.bundle),
        "notes": {},
        "decode": {},
        "linac_vs_fla": {},
        "flops_chunk": C,
        "decode_context": options.decode_context,
        # What the baseline kernels are (make_bundle.py: their compiler and extra options).
        "baseline": bundle_baseline(options.bundle),
        # Option A/Bs (make_bundle.py --candidate): label -> options.
        "candidates": bundle_candidates(options.bundle),
    }
    try:
        import triton

        meta["triton"] = triton.__version__
    except ImportError as error:
        meta["triton"] = f"not importable: {error}"
    try:
        import fla

        meta["fla"] = getattr(fla, "__version__", "unknown")
        fla_missing = None
    except Exception as error:  # noqa: BLE001 - fla fails to import in many ways (triton)
        fla_missing = f"fla not importable: {type(error).__name__}: {error}"
        meta["fla"] = fla_missing
    if options.resume:  # a fresh process after a lost CUDA context: go on with the same files
        meta = json.loads(options.resume.with_suffix(".meta.json").read_text())
        fla_missing = meta["fla"] if str(meta["fla"]).startswith("fla not importable") else None
    bandwidth = meta.get("copy_bandwidth_gbs", 0) * 1e9 or copy_bandwidth(torch)
    meta["copy_bandwidth_gbs"] = bandwidth / 1e9
    nominal = next((v for name, v in NOMINAL_BANDWIDTH.items() if name in gpu), None)
    meta["nominal_bandwidth_gbs"] = nominal / 1e9 if nominal else None
    print(f"GPU {gpu} (sm_{capability}), torch {torch.__version__}, fla {meta['fla']}")
    print(
        f"device copy bandwidth {bandwidth / 1e9:.0f} GB/s (nominal {meta['nominal_bandwidth_gbs']})"
    )

    timer = Timer(torch, options.repetitions, options.warmup)
    start = time.time()
    shapes = problems.BENCH_SHAPES[:1] if options.quick else problems.BENCH_SHAPES
    # Problems that share (H, K), and so fla's autotuning keys, run together, the decode
    # steps after the chunked problems of their (H, K): fla autotunes each key for about a
    # minute per op, and the peers' budget then covers whole groups.
    jobs = []
    for H, K in sorted({(H, K) for _, _, H, K in shapes}, reverse=True):
        group = [shape for shape in shapes if shape[2:] == (H, K)]
        jobs += [(op, shape, False) for shape in group for op in options.ops]
        jobs += [(op, (problems.DECODE_BATCH, 1, H, K), True) for op in options.ops]
    records = []
    path = results_path(options.out_dir)
    if options.resume:
        path = options.resume
        records = json.loads(path.read_text())
    print(f"writing {path} after every problem")
    for index, (op, (B, T, H, K), decode) in enumerate(jobs):
        if index < options.from_job:
            continue
        V = K
        name = f"{op}_decode" if decode else op
        key = f"{name} B={B} T={T} H={H} K={K}"
        record = {
            "op": name,
            "B": B,
            "T": T,
            "H": H,
            "K": K,
            "V": V,
            "dtype": "bf16",
            "linac_ms": None,
            "fla_ms": None,
            "sdpa_ms": None,
            "tflops": None,
            "gpu": gpu,
        }
        notes = meta["notes"].setdefault(key, {})
        kernel_name = problems.bench_kernels(op)[1 if decode else 0]
        folder = options.bundle / "kernels" / problems.kernel_dir("bf16", K, V)
        torch.cuda.empty_cache()
        p = make_problem(torch, op, B, T, H, K, V, decode)
        outputs = {}
        # linac
        if not (folder / f"{kernel_name}.json").exists():
            notes["linac"] = f"{kernel_name} not in the bundle ({folder})"
        else:
            try:
                kernel = runtime.load(folder, kernel_name)
                call = linac_run = linac_call(torch, kernel, op, p, decode)
                record["linac_ms"] = timer(call)
                outputs["linac"] = call()
                count = decode_flops(op, B, H, K, V) if decode else flops(op, B, T, H, K, V)
                record["tflops"] = count / (record["linac_ms"] * 1e-3) / 1e12
                if decode:
                    rate = decode_bytes(B, H, K, V) / (record["linac_ms"] * 1e-3)
                    meta["decode"][key] = {
                        "linac_gbs": rate / 1e9,
                        "fraction_of_copy_bandwidth": rate / bandwidth,
                    }
            except Exception as error:  # noqa: BLE001 - recorded; the other problems go on
                notes["linac"] = f"{type(error).__name__}: {error}"
                traceback.print_exc()
        baseline = options.bundle / "kernels" / "baseline" / folder.name
        if "linac" in outputs and (baseline / f"{kernel_name}.json").exists():
            time_baseline(
                torch, runtime, timer, baseline, kernel_name, (op, p, decode), call, record
            )
            notes["baseline"] = record.pop("baseline_note", None) or "timed"
        # fla
        over_budget = time.time() - start > options.budget_s
        if fla_missing and op != "mamba2":
            notes["fla"] = fla_missing
        elif over_budget:
            notes["fla"] = f"not measured: past the {options.budget_s:.0f} s budget"
        else:
            try:
                call, described = fla_call(torch, op, p, decode)
                notes["fla_impl"] = described
                record["fla_ms"] = timer(call)
                result = call()
                outputs["fla"] = result[0] if isinstance(result, tuple) else result
            except Exception as error:  # noqa: BLE001 - recorded as the reason fla_ms is null
                notes["fla"] = f"{type(error).__name__}: {error}"
        both = "linac" in outputs and "fla" in outputs and op != "mamba2"
        if both and outputs["linac"].shape == outputs["fla"].shape:
            meta["linac_vs_fla"][key] = relative_rms(torch, outputs["linac"], outputs["fla"])
        # sdpa
        if time.time() - start > options.budget_s:
            notes["sdpa"] = f"not measured: past the {options.budget_s:.0f} s budget"
        else:
            try:
                call, backend = sdpa_call(torch, p, decode, options.decode_context)
                notes["sdpa_backend"] = backend
                record["sdpa_ms"] = timer(call)
            except Exception as error:  # noqa: BLE001 - recorded as the reason sdpa_ms is null
                notes["sdpa"] = f"{type(error).__name__}: {error}"
        # option A/Bs, after fla and sdpa: within the budget, those come first
        for label in meta.get("candidates", {}) if "linac" in outputs else []:
            candidate = options.bundle / "kernels" / "candidates" / label / folder.name
            if not (candidate / f"{kernel_name}.json").exists():
                continue  # the candidate's options leave this kernel as it is
            if time.time() - start > options.budget_s:
                beside = {"note": f"not measured: past the {options.budget_s:.0f} s budget"}
            else:
                problem = (op, p, decode)
                beside = time_beside(
                    torch, runtime, timer, candidate, kernel_name, problem, linac_run, record
                )
                if "ms" in beside:
                    beside["speedup"] = record["linac_ms"] / beside["ms"]
            record.setdefault("candidates", {})[label] = beside
        # the segmented run LINAC_SEGMENTS=auto would choose, within the budget too
        segmentable = "linac" in outputs and not decode and op in problems.SEGMENT_OPS
        if segmentable and time.time() - start <= options.budget_s:
            time_segmented(
                torch, runtime, timer, options.bundle, folder, kernel, (op, p, linac_run), record
            )
        del p, outputs
        records.append(record)
        meta["seconds"] = time.time() - start
        write(records, meta, path)
        print(
            f"{key:<44} linac {fmt(record['linac_ms'])} fla {fmt(record['fla_ms'])} "
            f"sdpa {fmt(record['sdpa_ms'])} ms, linac {fmt(record['tflops'], 3)} TFLOP/s"
            + (f", {meta['decode'][key]['linac_gbs']:.0f} GB/s" if key in meta["decode"] else "")
            + (
                f", {record['linac_vs_baseline']:.2f}x the baseline's {record['baseline_ms']:.3f} ms"
                if "linac_vs_baseline" in record
                else ""
            )
            + (
                f", segments of {record['segments']['chunks_per_segment']} chunks "
                f"{record['segments']['speedup']:.2f}x (error {record['segments']['error']:.1e})"
                if "speedup" in record.get("segments", {})
                else (f", segments: {record['segments']['note']}" if "segments" in record else "")
            )
            + "".join(
                f", {label} {beside['speedup']:.2f}x (error {beside['error']:.1e})"
                if "ms" in beside
                else f", {label}: {beside['note']}"
                for label, beside in record.get("candidates", {}).items()
            ),
            flush=True,
        )
        if index + 1 < len(jobs) and context_lost():
            print(f"the CUDA context is lost after {key}: the rest runs in a fresh process")
            return resume_in_fresh_process(options, path, index + 1, time.time() - start)
    print(f"wrote {path} and {path.with_suffix('.meta.json').name}")
    plot(path)
    return 0


def bundle_baseline(bundle: Path) -> dict | None:
    """The bundle manifest's description of its baseline kernels (compiler, extra options),
    or None without baseline kernels or a manifest."""
    manifest = bundle / "manifest.json"
    if not manifest.exists():
        return None
    baseline = json.loads(manifest.read_text()).get("baseline")
    return {k: v for k, v in baseline.items() if k != "kernels"} if baseline else None


def bundle_candidates(bundle: Path) -> dict:
    """The bundle's option A/Bs (make_bundle.py --candidate) as {label: options}."""
    manifest = bundle / "manifest.json"
    if not manifest.exists():
        return {}
    candidates = json.loads(manifest.read_text()).get("candidates") or []
    return {candidate["label"]: candidate["options"] for candidate in candidates}


def time_beside(torch, runtime, timer, folder: Path, name: str, problem, current_call, record):
    """The same problem on another build of the kernel (in `folder`), timed between two
    timings of linac's, so that the machine's drift falls on both; record["linac_ms"] becomes
    the faster of linac's two. Returns {"ms", "error"} (error: relative RMS of the other
    build's output against linac's; 0 where both do the same arithmetic in the same order),
    or {"note"} when it fails."""
    try:
        kernel = runtime.load(folder, name)
        return time_other(torch, timer, linac_call(torch, kernel, *problem), current_call, record)
    except Exception as error:  # noqa: BLE001 - recorded; the other problems go on
        return {"note": f"{type(error).__name__}: {error}"}


def time_other(torch, timer, call, current_call, record) -> dict:
    """`call` timed, then linac's `current_call` again (record["linac_ms"] becomes the
    faster of its two): {"ms", "error"}, error the relative RMS of call's output against
    linac's."""
    other_ms = timer(call)
    other_output = call().clone()
    record["linac_ms"] = min(record["linac_ms"], timer(current_call))
    return {"ms": other_ms, "error": relative_rms(torch, other_output, current_call())}


def time_baseline(torch, runtime, timer, folder: Path, name: str, problem, current_call, record):
    """The same problem on the bundle's baseline kernel (another compiler revision's, from
    make_bundle.py --baseline-compiler), timed beside linac's (time_beside):
    record["baseline_ms"], linac_vs_baseline (baseline / linac: above 1, this revision is
    faster) and baseline_error (relative RMS of the baseline's output against linac's)."""
    beside = time_beside(torch, runtime, timer, folder, name, problem, current_call, record)
    if "note" in beside:
        record["baseline_note"] = beside["note"]
        return
    record["baseline_ms"] = beside["ms"]
    record["linac_vs_baseline"] = beside["ms"] / record["linac_ms"]
    record["baseline_error"] = beside["error"]


def resume_in_fresh_process(options, path: Path, from_job: int, spent_s: float) -> int:
    """Runs the jobs from `from_job` on in a new process (a new CUDA context), appending to
    `path`; the peers' budget is what this process left of it."""
    command = [sys.executable, __file__, "--bundle", str(options.bundle)]
    command += ["--ops", *options.ops, "--repetitions", str(options.repetitions)]
    command += ["--warmup", str(options.warmup), "--decode-context", str(options.decode_context)]
    command += ["--budget-s", str(max(0.0, options.budget_s - spent_s))]
    command += ["--resume", str(path), "--from-job", str(from_job)]
    if options.lib:
        command += ["--lib", str(options.lib)]
    if options.quick:
        command.append("--quick")
    return subprocess.run(command, check=False).returncode


def fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def results_path(out_dir: Path) -> Path:
    """<out-dir>/<date>.json, or <date>-<time>.json when an earlier run of the day is there."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = datetime.date.today().isoformat()
    if (out_dir / f"{stem}.json").exists():
        stem += datetime.datetime.now().strftime("-%H%M%S")
    return out_dir / f"{stem}.json"


def write(records: list, meta: dict, path: Path) -> None:
    """The records and the meta file so far: rewritten after every problem, so a run stopped
    by a time limit still leaves what it measured."""
    path.write_text(json.dumps(records, indent=1) + "\n")
    path.with_suffix(".meta.json").write_text(json.dumps(meta, indent=1) + "\n")


def plot(path: Path) -> None:
    """<path>.png: time against T, one panel per op, the (H, K) = (16, 128) problems."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        print(f"no plot ({error}); later: python3 benchmarks/gpu_ops.py --plot-only {path}")
        return
    records = json.loads(Path(path).read_text())
    ops = [op for op in problems.BENCH_OPS if any(r["op"] == op for r in records)]
    if not ops:
        print("no plot: no chunked records")
        return
    figure, axes = plt.subplots(1, len(ops), figsize=(4 * len(ops), 3.6), squeeze=False)
    for axis, op in zip(axes[0], ops):
        rows = sorted(
            (r for r in records if r["op"] == op and r["H"] == 16 and r["K"] == 128),
            key=lambda r: r["T"],
        )
        for column, label, color in (
            ("linac_ms", "linac", "C0"),
            ("fla_ms", "fla", "C1"),
            ("sdpa_ms", "sdpa (FlashAttention)", "C2"),
        ):
            points = [(r["T"], r[column]) for r in rows if r[column] is not None]
            if points:
                axis.plot(*zip(*points), marker="o", label=label, color=color)
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_title(op)
        axis.set_xlabel("T (B = 8, 4, 1; H = 16, K = V = 128)")
        axis.set_ylabel("forward ms")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    gpu = records[0]["gpu"] if records else ""
    figure.suptitle(f"bf16 forward time, {gpu}")
    figure.tight_layout()
    png = Path(path).with_suffix(".png")
    figure.savefig(png, dpi=110)
    print(f"wrote {png}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "build-device")
    parser.add_argument("--lib", type=Path, default=None, help="liblinac_runtime.so")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results" / "gpu")
    parser.add_argument("--ops", nargs="*", default=problems.BENCH_OPS, choices=problems.BENCH_OPS)
    parser.add_argument("--repetitions", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=300.0, help="stop measuring peers after")
    parser.add_argument("--decode-context", type=int, default=4096, help="sdpa's KV cache (decode)")
    parser.add_argument("--quick", action="store_true", help="the first problem size only")
    parser.add_argument("--plot-only", type=Path, help="only draw the PNG of a results file")
    parser.add_argument("--resume", type=Path, help=argparse.SUPPRESS)  # results file to go on with
    parser.add_argument("--from-job", type=int, default=0, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.plot_only:
        plot(options.plot_only)
        return 0
    reason = gpu_unavailable(options.lib)
    if reason:
        print(f"SKIP: GPU benchmark: {reason}")
        return 0
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
