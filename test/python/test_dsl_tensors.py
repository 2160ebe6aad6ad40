"""Tensors in and out of linac (`linac/_tensors.py`): objects with `__dlpack__` go in without a
copy and results come back as the caller's kind, through the DSL and through `linac.ops`;
bfloat16 crosses DLPack (which numpy cannot import) through linac's own reader and exporter.

`Tensor` below stands for a foreign tensor library (torch's CPU tensors behave the same way):
it offers `__dlpack__` / `__dlpack_device__`, and its module has `from_dlpack`."""

from __future__ import annotations

import gc

import linac
import numpy as np
import pytest
from linac import _tensors, exp, outer
from linac.reference import recurrence as reference
from linac.reference import relative_rms_error

ml_dtypes = pytest.importorskip("ml_dtypes")


class Tensor:
    """A minimal foreign tensor: host memory offered through DLPack."""

    def __init__(self, array: np.ndarray, device: int = 1):
        self.array = array
        self.device = device

    def __dlpack__(self, **kwargs):
        # Like torch: a real DLPack capsule, bfloat16 included (kDLBfloat).
        return _tensors._Export(self.array).__dlpack__()

    def __dlpack_device__(self):
        return (self.device, 0)


def from_dlpack(obj) -> Tensor:
    """This "library's" consumer (as torch.from_dlpack): numpy's import, or for bfloat16 the
    capsule reader (numpy has no bfloat16)."""
    array, _ = _tensors.to_numpy(obj, "tensor")
    return Tensor(array)


@linac.recurrence
def gla(q, k, v, g, S, *, scale):
    S = exp(g)[:, None] * S + outer(k, v)
    return S, scale * (S.T @ q)


def _inputs(rng, dtype=np.float32):
    B, T, H, K, V = 2, 19, 2, 8, 4
    q, k = (rng.standard_normal((B, T, H, K)).astype(dtype) for _ in range(2))
    v = rng.standard_normal((B, T, H, V)).astype(dtype)
    g = np.log(rng.uniform(0.7, 1.0, (B, T, H, K))).astype(np.float32)
    h0 = rng.standard_normal((B, H, K, V)).astype(np.float32)
    return q, k, v, g, h0


def test_dlpack_round_trip_through_the_dsl(rng) -> None:
    q, k, v, g, h0 = _inputs(rng)
    o_np, s_np = gla(q, k, v, g, scale=0.5, initial_state=h0, output_final_state=True)
    o, s = gla(
        Tensor(q),
        Tensor(k),
        Tensor(v),
        Tensor(g),
        scale=0.5,
        initial_state=Tensor(h0),
        output_final_state=True,
    )
    assert isinstance(o, Tensor) and isinstance(s, Tensor)
    np.testing.assert_array_equal(o.array, o_np)
    np.testing.assert_array_equal(s.array, s_np)
    o_ref, s_ref = reference(q, k, v, g=g, scale=0.5, initial_state=h0)
    assert relative_rms_error(o_ref, o.array) < 2e-5
    assert relative_rms_error(s_ref, s.array) < 2e-5


def test_dlpack_round_trip_through_the_ops(rng) -> None:
    q, k, v, g, h0 = _inputs(rng)
    g = g[..., 0]
    o_np, s_np = linac.ops.chunk_simple_gla(q, k, v, g, initial_state=h0, output_final_state=True)
    o, s = linac.ops.chunk_simple_gla(
        Tensor(q),
        Tensor(k),
        Tensor(v),
        Tensor(g),
        initial_state=Tensor(h0),
        output_final_state=True,
    )
    assert isinstance(o, Tensor) and isinstance(s, Tensor)
    np.testing.assert_array_equal(o.array, o_np)
    np.testing.assert_array_equal(s.array, s_np)


def test_dlpack_retention_reads_the_shape_of_a_dlpack_query(rng) -> None:
    q, k, v, _, _ = _inputs(rng)
    o_np, _ = linac.ops.chunk_retention(q, k, v)
    o, _ = linac.ops.chunk_retention(Tensor(q), Tensor(k), Tensor(v))
    assert isinstance(o, Tensor)
    np.testing.assert_array_equal(o.array, o_np)


def test_bfloat16_through_dlpack(rng) -> None:
    q, k, v, g, h0 = _inputs(rng, ml_dtypes.bfloat16)
    o_np, _ = gla(q, k, v, g, scale=0.5, initial_state=h0)
    assert o_np.dtype == ml_dtypes.bfloat16
    o, _ = gla(Tensor(q), Tensor(k), Tensor(v), g, scale=0.5, initial_state=h0)
    assert isinstance(o, Tensor) and o.array.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(o.array.view(np.uint16), o_np.view(np.uint16))
    exact = [x.astype(np.float32) for x in (q, k, v)]
    o_ref, _ = reference(*exact, g=g, scale=0.5, initial_state=h0)
    assert relative_rms_error(o_ref, o.array.astype(np.float32)) < 1e-2
    # bfloat16 through the op library too.
    o_op, _ = linac.ops.chunk_gla(
        Tensor(q), Tensor(k), Tensor(v), Tensor(g), scale=0.5, initial_state=Tensor(h0)
    )
    assert o_op.array.dtype == ml_dtypes.bfloat16
    assert relative_rms_error(o_ref, o_op.array.astype(np.float32)) < 1e-2


def test_imported_bfloat16_is_a_view_and_is_released() -> None:
    source = np.arange(12, dtype=np.float32).reshape(3, 4).astype(ml_dtypes.bfloat16)[:, ::2]
    live = len(_tensors._Export._live)
    array, caller = _tensors.to_numpy(Tensor(source), "x")
    assert caller.module is not None and caller.module.from_dlpack is from_dlpack
    assert array.dtype == ml_dtypes.bfloat16 and array.shape == (3, 2)
    assert array.strides == source.strides
    assert array.ctypes.data == source.ctypes.data  # no copy
    np.testing.assert_array_equal(array.astype(np.float32), source.astype(np.float32))
    assert len(_tensors._Export._live) == live + 1
    del array
    gc.collect()
    assert len(_tensors._Export._live) == live  # the producer's deleter ran


def test_device_tensors_and_other_objects_are_refused(rng) -> None:
    q, k, v, g, _ = _inputs(rng)
    with pytest.raises(
        TypeError,
        match="q is on DLPack device type 2; linac's Python calls run on host",
    ):
        gla(Tensor(q, device=2), k, v, g)
    with pytest.raises(
        TypeError, match="k must be a numpy array or a tensor with __dlpack__, got list"
    ):
        linac.ops.chunk_linear_attn(q, k.tolist(), v)
