"""The call path shared by every op: validate, pick the kernel, allocate the
outputs, run."""

from __future__ import annotations

import math

import numpy as np

from .. import _autotune, _gpu, _linac, _segments
from .._runtime import get_kernel
from .._tensors import aligned_empty, dtype_name, inputs_to_numpy
from .._validate import check_problem


def _reversed_time(array, cu):
    """``array`` [B, T, ...] with each sequence's tokens in reverse order."""
    if array is None:
        return None
    if cu is None:
        return array[:, ::-1]
    index = np.concatenate(
        [np.arange(end - 1, start - 1, -1) for start, end in zip(cu[:-1], cu[1:])]
    )
    return array[:, index]


def _modifiers(householder: int, qk_l2norm: bool, beta_sigmoid: float) -> dict:
    """The compile options a call's modifiers give its kernel."""
    modifiers = {}
    if householder > 1:
        modifiers["householder"] = householder
    if qk_l2norm:
        modifiers["qk_l2norm"] = True
    if beta_sigmoid:
        modifiers["beta_sigmoid"] = beta_sigmoid
    return modifiers


# Calls with at most this many multiply-adds of state per step (B T H K V) run on one
# thread. Waking the OpenMP pool's threads after they fell asleep (1 ms after a kernel)
# cost ~100-400 us on a 2-core VM: a one-sequence decode step of 4 heads took 225 us on
# two threads after 2 ms idle and 76 us on one (K=V=128); back to back, 36 and 48 us.
_SERIAL_WORK = 1 << 17


def _is_small(p) -> bool:
    return p.B * p.T * p.H * p.K * p.V <= _SERIAL_WORK


def _kernel_for(kernel_name, p, dtype, target, modifiers, run, synchronize):
    """The kernel for problem `p`: the compiler's default tiling, or with
    LINAC_AUTOTUNE=1 the fastest of the candidates, timed by `run(kernel)`
    on this call's inputs (see linac._autotune)."""

    def compiled(tiling):
        extra = {"block_size": tiling.block_size} if tiling.block_size else {}
        return get_kernel(
            kernel_name, p.K, p.V, dtype, target, tiling.chunk_size, tiling.block_v,
            **modifiers, **extra,
        )  # fmt: skip

    if not _autotune.enabled():
        return compiled(_autotune.default_tiling(target, p.V, p.N * p.H))
    key = _autotune.problem_key(kernel_name, p.K, p.V, dtype, target, modifiers, p.T, p.N * p.H)
    tilings = _autotune.candidates(target, p.V, chunked=not kernel_name.startswith("fused_"))

    def time_tiling(tiling):
        kernel = compiled(tiling)
        return _autotune.best_time_ms(lambda: run(kernel), synchronize, repeats=3)

    return compiled(_autotune.tune(key, tilings, time_tiling))


def _segmented_runner(kernel_name, kernel, p, cu, modifiers, units_of, gpu: bool):
    """The state pass of a segmented run of ``kernel`` on problem ``p`` and its plan, or
    None where the call runs unsegmented (see linac._segments); ``units_of()`` counts the
    processors (multiprocessors, threads)."""
    choice = _segments.setting()
    if choice == "off" or not _segments.can_segment(kernel_name):
        return None
    meta = kernel.metadata
    chunk = meta["chunk_size"]
    longest = int(np.diff(cu).max(initial=0)) if cu is not None else p.T
    grid = math.ceil(p.V / meta["block_v"]) * p.H * p.N
    per_segment = _segments.chunks_per_segment(choice, longest, chunk, grid, units_of(), gpu)
    if not per_segment:
        return None
    extra = {"block_size": meta["grid"]["block"][0]} if gpu else {}
    state_pass = get_kernel(
        kernel_name, p.K, p.V, meta["dtype"], meta["target"], chunk, meta["block_v"],
        **modifiers, **extra, state_checkpoints=per_segment,
    )  # fmt: skip
    plan = _segments.plan_batch(p.B, p.T, cu, state_pass.metadata["segment_tokens"])
    return state_pass, plan


def _run_on_gpu(
    kernel_name,
    q,
    k,
    v,
    *,
    g,
    beta,
    scale,
    initial_state,
    output_final_state,
    cu_seqlens,
    reverse,
    gate,
    needs_beta,
    householder,
    modifiers,
):
    """The recurrence on CUDA tensors (torch): checked on shape-only stand-ins,
    launched on the current stream with the tensors' own memory."""
    import torch

    if reverse:
        raise NotImplementedError("reverse=True runs on host memory only; flip the inputs")
    named = {"k": k, "v": v, "g": g, "beta": beta, "initial_state": initial_state}
    for name, tensor in named.items():
        if tensor is not None and not (
            isinstance(tensor, torch.Tensor) and tensor.device == q.device
        ):
            raise TypeError(f"{name} must be a torch tensor on {q.device}, like q")
    # Decays, step sizes and states are float32 in the kernels.
    g, beta, initial_state = (None if t is None else t.float() for t in (g, beta, initial_state))
    cu = None if cu_seqlens is None else torch.as_tensor(cu_seqlens, device="cpu")
    p, _, _, _, cu_host = check_problem(
        *(_gpu.stand_in(t) for t in (q, k, v)),
        g=_gpu.stand_in(g),
        beta=_gpu.stand_in(beta),
        scale=scale,
        initial_state=_gpu.stand_in(initial_state),
        cu_seqlens=None if cu is None else cu.numpy(),
        gate=gate,
        needs_beta=needs_beta,
        householder=householder,
    )
    device = q.device
    output = torch.empty((p.B, p.T, p.H, p.V), dtype=q.dtype, device=device)
    final_state = torch.empty(
        (p.N if output_final_state else 0, p.H, p.K, p.V), dtype=torch.float32, device=device
    )
    states = (p.H, p.K, p.V)
    offsets = None if cu_host is None else torch.as_tensor(cu_host, device=device)
    args = {
        "q": _gpu.buffer(q),
        "k": _gpu.buffer(k),
        "v": _gpu.buffer(v),
        "g": None if g is None else _gpu.buffer(g),
        "beta": None if beta is None else _gpu.buffer(beta),
        "initial_state": _gpu.buffer(initial_state)
        if initial_state is not None
        else _gpu.empty_buffer((0, *states)),
        "output": _gpu.buffer(output),
        "final_state": _gpu.buffer(final_state),
        "cu_seqlens": _gpu.empty_buffer((0,)) if offsets is None else _gpu.buffer(offsets),
        "scale": p.scale,
    }
    kernel = _kernel_for(
        kernel_name,
        p,
        dtype_name(p.dtype),
        _gpu.target(),
        modifiers,
        run=lambda kernel: _gpu.launch(kernel, args, p.V, p.H, p.N, torch),
        synchronize=torch.cuda.synchronize,
    )
    segmented = _segmented_runner(
        kernel_name, kernel, p, cu_host, modifiers,
        lambda: torch.cuda.get_device_properties(device).multi_processor_count, gpu=True,
    )  # fmt: skip
    if segmented is None:
        _gpu.launch(kernel, args, p.V, p.H, p.N, torch)
        return output, (final_state if output_final_state else None)
    state_pass, plan = segmented

    def launch(chosen):
        def run(named, sequences):
            buffers = {
                name: value if name == "scale" or value is None else _gpu.buffer(value)
                for name, value in named.items()
            }
            _gpu.launch(chosen, buffers, p.V, p.H, sequences, torch)

        return run

    inputs = {"q": q, "k": k, "v": v, "g": g, "beta": beta, "initial_state": initial_state,
              "cu_seqlens": offsets, "scale": p.scale}  # fmt: skip
    _segments.run_segmented(
        inputs, output, final_state if output_final_state else None, plan, states,
        _segments.TorchArrays(torch, device), launch(state_pass), launch(kernel),
    )  # fmt: skip
    return output, (final_state if output_final_state else None)


def run_recurrence(
    kernel_name: str,
    q,
    k,
    v,
    *,
    g=None,
    beta=None,
    scale=None,
    initial_state=None,
    output_final_state: bool = False,
    cu_seqlens=None,
    reverse: bool = False,
    gate: str | None = None,
    needs_beta: bool = False,
    householder: int = 1,
    qk_l2norm: bool = False,
    beta_sigmoid: float = 0.0,
):
    """Runs the built-in kernel ``kernel_name`` on the host; returns
    ``(o, final_state)`` with ``final_state`` None unless asked for.

    ``gate``, ``needs_beta`` and ``householder`` describe the op's inputs
    (see ``check_problem``); ``qk_l2norm`` and ``beta_sigmoid`` are compile
    options of the kernel. Inputs may be numpy arrays or tensors with `__dlpack__`;
    results come back as the caller's kind."""
    if _gpu.is_cuda(q):
        return _run_on_gpu(
            kernel_name,
            q,
            k,
            v,
            g=g,
            beta=beta,
            scale=scale,
            initial_state=initial_state,
            output_final_state=output_final_state,
            cu_seqlens=cu_seqlens,
            reverse=reverse,
            gate=gate,
            needs_beta=needs_beta,
            householder=householder,
            modifiers=_modifiers(householder, qk_l2norm, beta_sigmoid),
        )
    arrays, caller = inputs_to_numpy(
        {
            "q": q,
            "k": k,
            "v": v,
            "g": g,
            "beta": beta,
            "initial_state": initial_state,
            "cu_seqlens": cu_seqlens,
        }
    )
    q, k, v, g, beta = (arrays[name] for name in ("q", "k", "v", "g", "beta"))
    initial_state, cu_seqlens = arrays["initial_state"], arrays["cu_seqlens"]
    p, g, beta, initial_state, cu = check_problem(
        q,
        k,
        v,
        g=g,
        beta=beta,
        scale=scale,
        initial_state=initial_state,
        cu_seqlens=cu_seqlens,
        gate=gate,
        needs_beta=needs_beta,
        householder=householder,
    )
    if reverse:
        q, k, v, g, beta = (_reversed_time(x, cu) for x in (q, k, v, g, beta))
    modifiers = _modifiers(householder, qk_l2norm, beta_sigmoid)
    output = aligned_empty((p.B, p.T, p.H, p.V), p.dtype)
    final_state = aligned_empty((p.N if output_final_state else 0, p.H, p.K, p.V), np.float32)
    args = {
        "q": q,
        "k": k,
        "v": v,
        "g": g,
        "beta": beta,
        # Absent optional buffers are passed empty (first dimension 0).
        "initial_state": initial_state
        if initial_state is not None
        else np.empty((0, p.H, p.K, p.V), dtype=np.float32),
        "output": output,
        "final_state": final_state,
        "cu_seqlens": cu if cu is not None else np.empty((0,), dtype=np.int64),
        "scale": p.scale,
    }
    kernel = _kernel_for(
        kernel_name,
        p,
        dtype_name(p.dtype),
        "cpu",
        modifiers,
        run=lambda kernel: kernel.run_cpu(args),
        synchronize=lambda: None,
    )
    segmented = _segmented_runner(
        kernel_name, kernel, p, cu, modifiers, _linac.cpu_max_threads, gpu=False
    )
    if segmented is None:
        kernel.run_cpu(args, max_threads=1 if _is_small(p) else 0)
    else:
        state_pass, plan = segmented

        def run(chosen):
            return lambda named, _sequences: chosen.run_cpu(named)

        inputs = {"q": q, "k": k, "v": v, "g": g, "beta": beta, "initial_state": initial_state,
                  "cu_seqlens": cu, "scale": p.scale}  # fmt: skip
        _segments.run_segmented(
            inputs, output, final_state if output_final_state else None, plan,
            (p.H, p.K, p.V), _segments.NumpyArrays(), run(state_pass), run(kernel),
        )  # fmt: skip
    if reverse:
        output = np.ascontiguousarray(_reversed_time(output, cu))
    return caller.wrap(output), (caller.wrap(final_state) if output_final_state else None)
