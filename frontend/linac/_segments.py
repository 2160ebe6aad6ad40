"""Segmented runs: a sequence's chunk loop split into segments that run in parallel.

A chunk kernel runs each (sequence, head, value tile) as one sequential loop over the
sequence's chunks: one sequence of 32768 tokens and 16 heads is 64 loops of 512 chunks
on a GPU of 132 multiprocessors. A segmented run takes two kernels:

1. the *state pass* (the kernel compiled with ``state_checkpoints=M``), still one loop
   a sequence, but doing only the state's work (no output products), writes the state
   after every segment of ``M`` chunks;
2. the ordinary kernel then runs every segment as a sequence of its own (``cu_seqlens``
   at the segment bounds), each from the state the previous segment ended with: the
   loops are one segment long and the grid holds every segment.

The outputs and final states are those of the ordinary kernel (the same chunk
arithmetic, from the same states). ``LINAC_SEGMENTS`` chooses: ``off`` (the default,
until a GPU has timed it), ``auto`` (GPUs whose grid would leave multiprocessors idle),
or a number of chunks per segment (every chunked call that can be segmented).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

# auto: segments until the grid holds this many blocks a multiprocessor, ...
_BLOCKS_PER_UNIT = 4
# ... of at least this many chunks (each segment loads and stores a state).
_MIN_CHUNKS_PER_SEGMENT = 4
_TOKEN_INPUTS = ("q", "k", "v", "g", "beta")
_STATE_ARGS = ("initial_state", "output", "final_state")


def token_inputs(metadata: dict) -> tuple[str, ...]:
    """The inputs of a kernel that hold tokens (shape [B, T, ...], or [B, T*n, ...] for
    DeltaProduct's sub-steps), from its metadata: q, k, v, g, beta, or Mamba-2's x, dt,
    B, C and z."""
    return tuple(
        arg["name"]
        for arg in metadata["args"]
        if arg["kind"] == "buffer"
        and arg["name"] not in _STATE_ARGS
        and arg["shape"][:1] == ["B"]
        and str(arg["shape"][1]).startswith("T")
    )


def can_segment(kernel_name: str) -> bool:
    """Whether the kernel's only state is S, so that segments can start from it: the
    causal chunked kernels without a normalizer."""
    return kernel_name.startswith("chunk_") and not kernel_name.endswith("_normalized")


def setting() -> str:
    """``LINAC_SEGMENTS``: off, auto or chunks per segment (checked)."""
    value = os.environ.get("LINAC_SEGMENTS", "off").strip().lower() or "off"
    if value in ("off", "auto") or (value.isdigit() and int(value) > 0):
        return value
    raise ValueError(
        f"LINAC_SEGMENTS must be off, auto or a positive number of chunks per segment, "
        f"got {value!r}"
    )


def chunks_per_segment(
    choice: str, longest: int, chunk_size: int, grid: int, units: int, gpu: bool
) -> int:
    """Chunks per segment for a call whose longest sequence has ``longest`` tokens and
    whose ordinary grid has ``grid`` blocks on ``units`` multiprocessors; 0 runs it
    unsegmented. ``auto`` segments GPU calls only (CPUs split value tiles instead, see
    linac._autotune.default_tiling)."""
    chunks = math.ceil(longest / chunk_size)
    if choice == "off" or chunks < 2:
        return 0
    if choice != "auto":
        return int(choice) if int(choice) < chunks else 0
    if not gpu or grid <= 0 or grid >= _BLOCKS_PER_UNIT * units:
        return 0
    segments = math.ceil(_BLOCKS_PER_UNIT * units / grid)
    per_segment = max(_MIN_CHUNKS_PER_SEGMENT, math.ceil(chunks / segments))
    # A power of two: few state passes to compile (and to ship ahead of time).
    per_segment = 1 << (per_segment - 1).bit_length()
    return per_segment if per_segment < chunks else 0


@dataclass(frozen=True)
class SegmentPlan:
    """Where each segment lies and starts. States are rows of a table holding the N
    initial states and then the state pass's S checkpoints."""

    # [S + 1] int64: segment bounds, in tokens of the batch flattened to one row.
    bounds: np.ndarray
    # [S]: the table row of each segment's initial state.
    start_rows: np.ndarray
    # [N]: the table row of each sequence's final state.
    final_rows: np.ndarray


def plan_segments(starts, lengths, segment_tokens: int) -> SegmentPlan:
    """Sequence n (tokens [starts[n], starts[n] + lengths[n]) of the flattened batch) has
    max(1, ceil(lengths[n] / segment_tokens)) segments, in the order the state pass
    writes their checkpoints."""
    N = len(lengths)
    bounds, start_rows, final_rows = [], [], []
    written = 0
    for n, (start, length) in enumerate(zip(starts, lengths)):
        count = max(1, math.ceil(length / segment_tokens))
        for j in range(count):
            bounds.append(start + j * segment_tokens)
            start_rows.append(n if j == 0 else N + written + j - 1)
        written += count
        final_rows.append(N + written - 1)
    bounds.append(starts[-1] + lengths[-1] if N else 0)
    bounds, start_rows, final_rows = (
        np.asarray(values, dtype=np.int64) for values in (bounds, start_rows, final_rows)
    )
    return SegmentPlan(bounds, start_rows, final_rows)


def plan_batch(B: int, T: int, cu, segment_tokens: int) -> SegmentPlan:
    """The plan of a batch of B rows of T tokens, or of the sequences of ``cu`` (its
    cumulative lengths) when it is given and not empty."""
    cu = [] if cu is None else [int(bound) for bound in cu]
    if cu:
        return plan_segments(cu[:-1], np.diff(cu).tolist(), segment_tokens)
    return plan_segments([b * T for b in range(B)], [T] * B, segment_tokens)


def run_segmented_aot(torch, state_pass, kernel, args: dict) -> SegmentPlan:
    """run_segmented for kernels loaded ahead of time (test/gpu/linac_aot.py) on CUDA
    tensors: ``args`` as for the ordinary kernel, absent optional buffers empty (first
    size 0). Returns the plan it ran."""
    B, T = args["output"].shape[:2]
    tokens = state_pass.metadata["segment_tokens"]
    plan = plan_batch(B, T, args["cu_seqlens"].tolist(), tokens)
    inputs = {name: value for name, value in args.items() if name not in _STATE_ARGS}
    present = args["initial_state"].shape[0] > 0
    inputs["initial_state"] = args["initial_state"] if present else None
    final_state = args["final_state"] if args["final_state"].shape[0] > 0 else None
    states = tuple(args["final_state"].shape[1:])

    def launch(chosen):
        return lambda named, _sequences: chosen.launch(
            {name: value for name, value in named.items() if name in chosen.arg_names}
        )

    run_segmented(
        inputs, args["output"], final_state, plan, states,
        TorchArrays(torch, args["output"].device), launch(state_pass), launch(kernel),
        token_inputs(kernel.metadata),
    )  # fmt: skip
    return plan


class NumpyArrays:
    """The array operations of a segmented run, on host arrays."""

    def flatten(self, array):
        return np.ascontiguousarray(array).reshape(1, -1, *array.shape[2:])

    def zero_states(self, count: int, shape: tuple):
        return np.zeros((count, *shape), dtype=np.float32)

    def empty_states(self, count: int, shape: tuple):
        return np.empty((count, *shape), dtype=np.float32)

    def rows(self, parts, rows: np.ndarray):
        """Rows ``rows`` of the concatenation of ``parts``."""
        return np.concatenate(parts)[rows]

    def offsets(self, bounds: np.ndarray):
        return bounds


class TorchArrays(NumpyArrays):
    """The same on CUDA tensors."""

    def __init__(self, torch, device):
        self.torch, self.device = torch, device

    def flatten(self, tensor):
        return tensor.reshape(1, -1, *tensor.shape[2:])

    def zero_states(self, count: int, shape: tuple):
        return self.torch.zeros((count, *shape), dtype=self.torch.float32, device=self.device)

    def empty_states(self, count: int, shape: tuple):
        return self.torch.empty((count, *shape), dtype=self.torch.float32, device=self.device)

    def rows(self, parts, rows: np.ndarray):
        index = self.torch.as_tensor(rows, device=self.device)
        return self.torch.index_select(self.torch.cat(parts), 0, index)

    def offsets(self, bounds: np.ndarray):
        return self.torch.as_tensor(bounds, device=self.device)


def run_segmented(
    inputs: dict,
    output,
    final_state,
    plan: SegmentPlan,
    states: tuple,
    arrays,
    run_states,
    run_outputs,
    tokens: tuple[str, ...] = _TOKEN_INPUTS,
) -> None:
    """Runs a call in segments. ``inputs`` maps q, k, v, g, beta, initial_state and
    cu_seqlens to the call's arrays (None where absent) and scale to its value;
    ``output`` and ``final_state`` (None when not asked for) are filled. ``states`` is
    a state's shape (H, K, V). ``run_states(args, sequences)`` and
    ``run_outputs(args, sequences)`` run the state pass and the ordinary kernel on
    every argument (absent optional buffers empty: first size 0); ``tokens`` names the
    inputs that hold tokens, flattened to one row for the second."""
    N, S = len(plan.final_rows), len(plan.start_rows)
    checkpoints = arrays.empty_states(S, states)
    absent = {
        "initial_state": arrays.empty_states(0, states),
        "cu_seqlens": arrays.offsets(np.empty(0, dtype=np.int64)),
    }
    given = {name: absent[name] if inputs[name] is None else inputs[name] for name in absent}
    run_states({**inputs, **given, "output": output, "final_state": checkpoints}, N)

    initial = inputs["initial_state"]
    initial = arrays.zero_states(N, states) if initial is None else initial
    table = [initial, checkpoints]
    flat = {name: arrays.flatten(inputs[name]) for name in tokens if inputs.get(name) is not None}
    run_outputs(
        {
            **inputs,
            **flat,
            "initial_state": arrays.rows(table, plan.start_rows),
            "output": arrays.flatten(output),
            "final_state": absent["initial_state"],
            "cu_seqlens": arrays.offsets(plan.bounds),
        },
        S,
    )
    if final_state is not None:
        final_state[...] = arrays.rows(table, plan.final_rows)
