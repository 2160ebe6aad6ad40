"""The call path shared by every op: validate, pick the kernel, allocate the
outputs, run."""

from __future__ import annotations

import numpy as np

from .._runtime import get_kernel
from .._tensors import dtype_name, inputs_to_numpy
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
    modifiers = {}
    if householder > 1:
        modifiers["householder"] = householder
    if qk_l2norm:
        modifiers["qk_l2norm"] = True
    if beta_sigmoid:
        modifiers["beta_sigmoid"] = beta_sigmoid
    kernel = get_kernel(kernel_name, p.K, p.V, dtype_name(p.dtype), **modifiers)
    output = np.empty((p.B, p.T, p.H, p.V), dtype=p.dtype)
    final_state = np.empty((p.N if output_final_state else 0, p.H, p.K, p.V), dtype=np.float32)
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
    kernel.run_cpu(args)
    if reverse:
        output = np.ascontiguousarray(_reversed_time(output, cu))
    return caller.wrap(output), (caller.wrap(final_state) if output_final_state else None)
