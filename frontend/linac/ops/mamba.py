"""Mamba-style selective state-space models, with mamba_ssm's signatures.

- `mamba_chunk_scan_combined` (Mamba-2, SSD): one decay dt * A per head, run
  by the scalar-decay chunked algorithm with the dt transform, D and the
  silu(z) gate fused into each chunk.
- `selective_scan_fn` (Mamba-1): a decay per (channel, state), run by a
  chunked scan; channels-first tensors are read in place through strides.

State layouts are mamba_ssm's ([b, h, p, n] and [b, d, n]); linac's kernels
keep the transpose ([.., n, p]) and are handed transposed views, so nothing
is copied.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._runtime import get_kernel
from .._tensors import aligned_empty, dtype_name
from .._validate import check_sequence_offsets, float32_input, float_input, input_array

MAX_STATE = 256


def _is_power_of_two(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


def _run(name: str, args: dict, N: int, P: int, dtype, dt_softplus: bool, chunk_size: int = 0):
    kernel = get_kernel(name, N, P, dtype_name(dtype), "cpu", chunk_size, dt_softplus=dt_softplus)
    kernel.run_cpu(args)


def _ssm(
    name: str,
    x,
    dt,
    A,
    B,
    C,
    chunk_size,
    D,
    z,
    dt_bias,
    initial_states,
    dt_softplus,
    return_final_states,
    cu_seqlens,
):
    """Mamba-2 through the `name` kernel (chunk or recurrent)."""
    x = float_input(x, "x", 4, "[batch, seqlen, nheads, headdim]")
    b, L, H, P = x.shape
    dt = float32_input(dt, "dt", (b, L, H), "[batch, seqlen, nheads]")
    A = float32_input(A, "A", (H,), "[nheads]")
    B = float_input(B, "B", 4, "[batch, seqlen, ngroups, dstate]", like=x)
    if B.shape[:2] != (b, L) or H % max(B.shape[2], 1) or B.shape[2] == 0:
        raise ValueError(
            f"B must have shape [batch, seqlen, ngroups, dstate] with ngroups dividing nheads = {H},"
            f" got {list(B.shape)}"
        )
    N = B.shape[3]
    C = float_input(C, "C", 4, "[batch, seqlen, ngroups, dstate]", like=x)
    if C.shape != B.shape:
        raise ValueError(f"C must have the shape of B {list(B.shape)}, got {list(C.shape)}")
    if not 1 <= N <= MAX_STATE or not 1 <= P <= MAX_STATE:
        raise ValueError(f"dstate and headdim must be in [1, {MAX_STATE}], got {N} and {P}")
    if D is None:
        D = np.zeros((H, 1), np.float32)
    D = input_array(D, "D").astype(np.float32, copy=False)
    if D.shape == (H,):
        D = D[:, None]
    if D.shape not in ((H, 1), (H, P)):
        raise ValueError(f"D must have shape [nheads] or [nheads, headdim], got {list(D.shape)}")
    D = np.broadcast_to(D, (H, P))
    if z is not None:
        z = float_input(z, "z", 4, "[batch, seqlen, nheads, headdim]", like=x)
        if z.shape != x.shape:
            raise ValueError(f"z must have the shape of x {list(x.shape)}, got {list(z.shape)}")
    if dt_bias is None:
        dt_bias = np.zeros(H, np.float32)
    dt_bias = float32_input(dt_bias, "dt_bias", (H,), "[nheads]")
    cu = check_sequence_offsets(cu_seqlens, b, L)
    N_seq = b if cu is None else len(cu) - 1
    states = np.empty((0, H, N, P), np.float32)
    if initial_states is not None:
        initial_states = float32_input(
            initial_states, "initial_states", (N_seq, H, P, N), "[batch, nheads, headdim, dstate]"
        )
        states = initial_states.transpose(0, 1, 3, 2)
    out = aligned_empty(x.shape, x.dtype)
    final = aligned_empty((N_seq if return_final_states else 0, H, P, N), np.float32)
    args = {
        "x": x,
        "dt": dt,
        "A": A,
        "B": B,
        "C": C,
        "D": D,
        "z": z,
        "dt_bias": dt_bias,
        "initial_state": states,
        "output": out,
        "final_state": final.transpose(0, 1, 3, 2),
        "cu_seqlens": cu if cu is not None else np.empty(0, np.int64),
    }
    gated = "_gated" if z is not None else ""
    _run(name + gated, args, N, P, x.dtype, bool(dt_softplus), chunk_size)
    return (out, final) if return_final_states else out


def mamba_chunk_scan_combined(
    x,
    dt,
    A,
    B,
    C,
    chunk_size: int,
    D=None,
    z=None,
    dt_bias=None,
    initial_states=None,
    dt_softplus: bool = False,
    return_final_states: bool = False,
    cu_seqlens=None,
):
    r"""Mamba-2's SSD layer, chunk-parallel.

    Args:
        x (np.ndarray): inputs `[batch, seqlen, nheads, headdim]`, float32, float16 or bfloat16.
        dt (np.ndarray): time steps `[batch, seqlen, nheads]` (float32).
        A (np.ndarray): decay rates `[nheads]` (negative).
        B, C (np.ndarray): `[batch, seqlen, ngroups, dstate]`, the dtype of `x`;
            head h uses group `h // (nheads // ngroups)`.
        chunk_size (int): tokens per chunk, a power of two in [1, 256].
        D (Optional[np.ndarray]): skip connection `[nheads]` or `[nheads, headdim]`.
        z (Optional[np.ndarray]): gate `[batch, seqlen, nheads, headdim]`: y *= silu(z).
        dt_bias (Optional[np.ndarray]): `[nheads]`, added to dt.
        initial_states (Optional[np.ndarray]): `[batch, nheads, headdim, dstate]`.
        dt_softplus (bool): dt = softplus(dt + dt_bias). Default: `False`.
        return_final_states (bool): also return the final states. Default: `False`.
        cu_seqlens (Optional[np.ndarray]): `[N + 1]` offsets of sequences packed
            along seqlen (then batch == 1; states are per sequence).

    Returns:
        out (np.ndarray): `[batch, seqlen, nheads, headdim]`, the dtype of `x`;
        with `return_final_states`, `(out, final_states)` with final_states
        `[batch, nheads, headdim, dstate]` float32.
    """
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, numbers.Integral)
        or not _is_power_of_two(chunk_size)
        or chunk_size > 256
    ):
        raise ValueError(f"chunk_size must be a power of two in [1, 256], got {chunk_size}")
    return _ssm(
        "chunk_mamba2",
        x,
        dt,
        A,
        B,
        C,
        int(chunk_size),
        D,
        z,
        dt_bias,
        initial_states,
        dt_softplus,
        return_final_states,
        cu_seqlens,
    )


def fused_recurrent_mamba2(
    x,
    dt,
    A,
    B,
    C,
    D=None,
    z=None,
    dt_bias=None,
    initial_states=None,
    dt_softplus: bool = False,
    return_final_states: bool = False,
    cu_seqlens=None,
):
    r"""Mamba-2, one token at a time (decode): arguments as
    `mamba_chunk_scan_combined` without `chunk_size`."""
    return _ssm(
        "fused_recurrent_mamba2",
        x,
        dt,
        A,
        B,
        C,
        0,
        D,
        z,
        dt_bias,
        initial_states,
        dt_softplus,
        return_final_states,
        cu_seqlens,
    )


def selective_scan_fn(
    u,
    delta,
    A,
    B,
    C,
    D=None,
    z=None,
    delta_bias=None,
    delta_softplus: bool = False,
    return_last_state: bool = False,
    initial_state=None,
    cu_seqlens=None,
):
    r"""Mamba-1's selective scan, channels first.

    Args:
        u (np.ndarray): inputs `[batch, dim, seqlen]`, float32, float16 or bfloat16.
        delta (np.ndarray): time steps `[batch, dim, seqlen]` (float32).
        A (np.ndarray): decay rates `[dim, dstate]` (real, negative).
        B, C (np.ndarray): `[batch, dstate, seqlen]` or grouped
            `[batch, ngroups, dstate, seqlen]`, the dtype of `u`.
        D (Optional[np.ndarray]): skip connection `[dim]`.
        z (Optional[np.ndarray]): gate `[batch, dim, seqlen]`: y *= silu(z).
        delta_bias (Optional[np.ndarray]): `[dim]`, added to delta.
        delta_softplus (bool): delta = softplus(delta + delta_bias).
        return_last_state (bool): also return the last state `[batch, dim, dstate]`.
        initial_state (Optional[np.ndarray]): `[batch, dim, dstate]` (a linac
            extension, for decoding chunk by chunk).
        cu_seqlens (Optional[np.ndarray]): `[N + 1]` offsets of sequences packed
            along seqlen (then batch == 1).

    Returns:
        out (np.ndarray): `[batch, dim, seqlen]`, the dtype of `u`; with
        `return_last_state`, `(out, last_state)`, last_state float32.
    """
    u = float_input(u, "u", 3, "[batch, dim, seqlen]")
    b, d, L = u.shape
    delta = float32_input(delta, "delta", (b, d, L), "[batch, dim, seqlen]")
    A = input_array(A, "A")
    if A.ndim != 2 or A.shape[0] != d:
        raise ValueError(f"A must have shape [dim, dstate] with dim = {d}, got {list(A.shape)}")
    A = float32_input(A, "A", A.shape, "[dim, dstate]")
    N = A.shape[1]
    if not 1 <= N <= MAX_STATE:
        raise ValueError(f"dstate must be in [1, {MAX_STATE}], got {N}")

    def projection(value, name):
        value = input_array(value, name)
        if value.ndim == 3 and value.shape == (b, N, L):
            return float_input(value, name, 3, "", like=u).transpose(0, 2, 1)[:, :, None, :]
        grouped = value.ndim == 4 and value.shape[0] == b and value.shape[2:] == (N, L)
        if grouped and value.shape[1] and d % value.shape[1] == 0:
            return float_input(value, name, 4, "", like=u).transpose(0, 3, 1, 2)
        raise ValueError(
            f"{name} must have shape [batch, dstate, seqlen] = {[b, N, L]} or"
            f" [batch, ngroups, dstate, seqlen] with ngroups dividing dim = {d}, got {list(value.shape)}"
        )

    Bv, Cv = projection(B, "B"), projection(C, "C")
    if Cv.shape[2] != Bv.shape[2]:
        raise ValueError(
            f"C must have the groups of B ({Bv.shape[2]}), got {Cv.shape[2]}"
            f" (shape {list(np.shape(C))})"
        )
    skip = np.zeros(d, np.float32) if D is None else float32_input(D, "D", (d,), "[dim]")
    skip = skip[:, None]
    if z is not None:
        z = float_input(z, "z", 3, "[batch, dim, seqlen]", like=u)
        if z.shape != u.shape:
            raise ValueError(f"z must have the shape of u {list(u.shape)}, got {list(z.shape)}")
        z = z.transpose(0, 2, 1)[..., None]
    if delta_bias is None:
        delta_bias = np.zeros(d, np.float32)
    bias = float32_input(delta_bias, "delta_bias", (d,), "[dim]")
    cu = check_sequence_offsets(cu_seqlens, b, L)
    N_seq = b if cu is None else len(cu) - 1
    states = np.empty((0, d, N, 1), np.float32)
    if initial_state is not None:
        states = float32_input(
            initial_state, "initial_state", (N_seq, d, N), "[batch, dim, dstate]"
        )
        states = states[..., None]
    out = aligned_empty((b, d, L), u.dtype)
    last = aligned_empty((N_seq if return_last_state else 0, d, N), np.float32)
    args = {
        "x": u.transpose(0, 2, 1)[..., None],
        "dt": delta.transpose(0, 2, 1),
        "A": A,
        "B": Bv,
        "C": Cv,
        "D": skip,
        "z": z,
        "dt_bias": bias,
        "initial_state": states,
        "output": out.transpose(0, 2, 1)[..., None],
        "final_state": last[..., None],
        "cu_seqlens": cu if cu is not None else np.empty(0, np.int64),
    }
    name = "selective_scan_gated" if z is not None else "selective_scan"
    _run(name, args, N, 1, u.dtype, bool(delta_softplus))
    return (out, last) if return_last_state else out
