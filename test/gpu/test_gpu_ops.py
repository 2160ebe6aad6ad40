"""GPU correctness: every op of the device bundle (test/gpu/make_bundle.py), run on the GPU
through liblinac_runtime.so, against the float32 CPU kernel's results computed on the CPU
machine (the CPU kernels are tested against the float64 step-by-step references in
test/python).

    python3 test/gpu/test_gpu_ops.py --bundle build-device [--lib .../liblinac_runtime.so]
        [--out results.json] [--ops chunk_simple_gla ...]

For each case and dtype: output and final state within the case's relative RMS tolerance of
the reference, and the same kernel on strided views of the inputs (a [B, H, T, D] layout
read through its transpose) gives the same output bit for bit, as it does on inputs that
start one element into their allocations (the element-by-element copies that replace the
16-byte ones there). Prints one line per check;
exit status 0 when all passed, 1 when one failed, 0 with "SKIP" lines when there is no GPU
(no torch, no CUDA device or no driver) and --require-gpu is not given.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import problems
from linac_aot import Runtime, context_lost, gpu_unavailable


def _torch_dtype(name: str):
    import torch

    return {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16, "i64": torch.int64}[
        name
    ]


def make_args(metadata: dict, case: problems.Case, data: dict, layout: str = "contiguous") -> dict:
    """The kernel's arguments as CUDA tensors: inputs from the bundle, fresh outputs.
    layout "strided": every 4-D input is a transposed view of a [B, H, T, D] tensor;
    "misaligned": every input starts one element into its allocation, so that the
    kernels' 16-byte copies give way to their element-by-element ones."""
    import torch

    args = {}
    for arg in metadata["args"]:
        name = arg["name"]
        if arg["kind"] != "buffer":
            args[name] = float(data[f"input_{name}"])
            continue
        dtype = _torch_dtype(arg["dtype"])
        if name in ("output", "final_state"):
            args[name] = torch.empty(problems.shape(arg, case), dtype=dtype, device="cuda")
            continue
        value = data[f"input_{name}"]
        if name in problems.DATA_ARGS:
            host = torch.from_numpy(value.view(np.int16)).view(torch.bfloat16)
        else:
            host = torch.from_numpy(np.ascontiguousarray(value))
        tensor = host.to(device="cuda", dtype=dtype)
        if layout == "strided" and tensor.dim() == 4 and name != "initial_state":
            tensor = tensor.transpose(1, 2).contiguous().transpose(1, 2)
        if layout == "misaligned" and tensor.numel() > 0:
            padded = torch.empty(tensor.numel() + 1, dtype=dtype, device="cuda")
            padded[1:].copy_(tensor.reshape(-1))
            tensor = padded[1:].view(tensor.shape)
        args[name] = tensor
    return args


def run_segmented(runtime: Runtime, bundle: Path, kernel, case, data: dict):
    """(output, final state) of a segmented run of the case (its state pass of
    problems.SEGMENT_TEST_CHUNKS chunks per segment, then `kernel` over the segments, through
    frontend/linac/_segments.py as the Python API runs it), or None where the bundle has no
    state pass for it."""
    import torch

    kernel_folder = problems.kernel_dir("bf16", case.K, case.V)
    folder = problems.segment_folder(bundle, problems.SEGMENT_TEST_CHUNKS, kernel_folder)
    if not (folder / f"{case.op}.json").exists():
        return None
    state_pass = runtime.load(folder, case.op)
    args = make_args(kernel.metadata, case, data)
    problems.load_segments().run_segmented_aot(torch, state_pass, kernel, args)
    torch.cuda.synchronize()
    return args["output"].float().cpu().numpy(), args["final_state"].cpu().numpy()


def run_case(runtime: Runtime, bundle: Path, entry: dict) -> list[dict]:
    """The checks of one case, one record per dtype."""
    import torch

    shape = entry["shape"]
    case = problems.Case(entry["op"], tuple(entry["dtypes"]), **shape)
    data = dict(np.load(bundle / "tests" / f"{entry['name']}.npz"))
    reference_output = data["reference_output"]
    reference_state = data["reference_final_state"]
    records = []
    for dtype in case.dtypes:
        record = {"case": entry["name"], "op": case.op, "dtype": dtype, **shape}
        tolerance = entry["tolerance"][dtype]
        try:
            folder = bundle / "kernels" / problems.kernel_dir(dtype, case.K, case.V)
            kernel = runtime.load(folder, case.op)
            record["loaded"] = "cubin" if kernel.loaded_cubin else "ptx"
            args = make_args(kernel.metadata, case, data)
            kernel.launch(args)
            strided_args = make_args(kernel.metadata, case, data, "strided")
            kernel.launch(strided_args)
            misaligned_args = make_args(kernel.metadata, case, data, "misaligned")
            kernel.launch(misaligned_args)
            torch.cuda.synchronize()
            output = args["output"].float().cpu().numpy()
            state = args["final_state"].cpu().numpy()
            record["output_error"] = problems.relative_rms(output, reference_output)
            record["final_state_error"] = problems.relative_rms(state, reference_state)
            record["strided_identical"] = bool(torch.equal(args["output"], strided_args["output"]))
            record["misaligned_identical"] = bool(
                torch.equal(args["output"], misaligned_args["output"])
                and torch.equal(args["final_state"], misaligned_args["final_state"])
            )
            cpu_key = f"cpu_{dtype}_output"
            if cpu_key in data:
                cpu = problems.from_bf16_bits(data[cpu_key])
                record["vs_cpu_same_dtype"] = problems.relative_rms(output, cpu)
            segmented = (
                run_segmented(runtime, bundle, kernel, case, data) if dtype == "bf16" else None
            )
            if segmented is not None:
                record["segmented_output_error"] = problems.relative_rms(
                    segmented[0], reference_output
                )
                record["segmented_final_state_error"] = problems.relative_rms(
                    segmented[1], reference_state
                )
                record["segmented_vs_whole"] = problems.relative_rms(segmented[0], output)
            record["tolerance"] = tolerance
            checked = ("output", "final_state", "segmented_output", "segmented_final_state")
            failures = [
                f"{what} error {record[what + '_error']:.2e} > {tolerance:.0e}"
                for what in checked
                if what + "_error" in record and not record[what + "_error"] <= tolerance
            ]
            if not record["strided_identical"]:
                failures.append("strided inputs give a different output")
            if not record["misaligned_identical"]:
                failures.append("misaligned inputs give a different output or final state")
            record["passed"] = not failures
            record["reason"] = "; ".join(failures)
        except Exception as error:  # noqa: BLE001 - one broken kernel must not hide others
            record["passed"] = False
            record["reason"] = f"{type(error).__name__}: {error}"
        records.append(record)
    return records


def run_in_fresh_process(options, names: list[str]) -> list[dict]:
    """The records of the cases `names`, run by a new process of this script (a new CUDA
    context)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "records.json"
        command = [sys.executable, __file__, "--bundle", str(options.bundle), "--out", str(out)]
        command += ["--cases", *names, "--require-gpu"]
        if options.lib:
            command += ["--lib", str(options.lib)]
        subprocess.run(command, check=False)
        records = json.loads(out.read_text()) if out.exists() else {"skipped": "it died"}
    if isinstance(records, dict):  # the fresh process found no GPU, or died
        reason = f"the fresh process ran none: {records.get('skipped')}"
        return [{"case": name, "passed": False, "reason": reason, "dtype": "-"} for name in names]
    return records


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=problems_root() / "build-device")
    parser.add_argument("--lib", type=Path, default=None, help="liblinac_runtime.so")
    parser.add_argument("--out", type=Path, default=None, help="write the records here (JSON)")
    parser.add_argument("--ops", nargs="*", help="only these ops")
    parser.add_argument("--cases", nargs="*", help="only these cases (by name)")
    parser.add_argument("--require-gpu", action="store_true", help="no GPU is a failure")
    options = parser.parse_args(argv)

    manifest = json.loads((options.bundle / "manifest.json").read_text())
    entries = [
        e
        for e in manifest["cases"]
        if (not options.ops or e["op"] in options.ops)
        and (not options.cases or e["name"] in options.cases)
    ]
    reason = gpu_unavailable(options.lib)
    if reason:
        print(f"SKIP: GPU correctness tests ({len(entries)} cases): {reason}")
        if options.out:
            options.out.write_text(json.dumps({"skipped": reason}, indent=1) + "\n")
        return 1 if options.require_gpu else 0

    import torch

    runtime = Runtime(options.lib)
    print(f"GPU: {torch.cuda.get_device_name()}, runtime {runtime.path}")
    start = time.time()
    records = []
    for i, entry in enumerate(entries):
        case_records = run_case(runtime, options.bundle, entry)
        for record in case_records:
            records.append(record)
            status = "PASS" if record["passed"] else "FAIL"
            errors = (
                f"output {record['output_error']:.1e}, state {record['final_state_error']:.1e}"
                f" (tol {record['tolerance']:.0e}, {record['loaded']})"
                if "output_error" in record
                else ""
            )
            reason = f": {record['reason']}" if record["reason"] else ""
            print(f"{status} {record['case']} {record['dtype']} {errors}{reason}", flush=True)
        rest = [e["name"] for e in entries[i + 1 :]]
        if rest and not all(r["passed"] for r in case_records) and context_lost():
            print(
                f"the CUDA context is lost after {entry['name']}: "
                f"the {len(rest)} remaining cases run in a fresh process",
                flush=True,
            )
            records += run_in_fresh_process(options, rest)
            break
    failed = [r for r in records if not r["passed"]]
    print(
        f"{len(records) - len(failed)}/{len(records)} GPU checks passed in {time.time() - start:.1f} s"
    )
    if options.out:
        options.out.write_text(json.dumps(records, indent=1) + "\n")
    return 1 if failed else 0


def problems_root() -> Path:
    return Path(__file__).resolve().parents[2]


if __name__ == "__main__":
    sys.exit(main())
