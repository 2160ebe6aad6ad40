"""The output pool: outputs of 1 MiB or more reuse the buffers of outputs no longer seen
(no fresh pages to zero), and a buffer is never handed out while any view of it lives."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import linac
import numpy as np
import pytest
from linac import ops, reference
from linac._tensors import OUTPUT_POOL, OutputPool, aligned_empty

B, T, H, K = 1, 2048, 2, 64  # a 1 MiB output


def _inputs(seed: int):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((B, T, H, K), dtype=np.float32) for _ in range(3))
    g = np.log(1 / (1 + np.exp(-(rng.standard_normal((B, T, H)) + 2)))).astype(np.float32)
    return q, k, v, g


def _expected(q, k, v, g):
    o, _ = reference.recurrence(q, k, v, g=g)
    return o


def test_a_dead_output_buffer_is_reused_and_overwritten() -> None:
    first = ops.chunk_simple_gla(*_inputs(0))[0]
    assert first.nbytes >= OUTPUT_POOL.min_bytes
    address = first.ctypes.data
    kept = OUTPUT_POOL.kept_bytes()
    del first
    gc.collect()
    assert OUTPUT_POOL.kept_bytes() > kept  # given back
    inputs = _inputs(1)
    second = ops.chunk_simple_gla(*inputs)[0]
    assert OUTPUT_POOL.kept_bytes() == kept  # taken again
    assert second.ctypes.data == address
    assert second.ctypes.data % 64 == 0 and second.flags.writeable
    np.testing.assert_allclose(second, _expected(*inputs), rtol=2e-4, atol=2e-4)


def test_a_buffer_seen_through_a_view_is_not_reused() -> None:
    inputs = _inputs(2)
    first = ops.chunk_simple_gla(*inputs)[0]
    kept = first[0, 5:9].T  # a view outlives the array
    before = kept.copy()
    address = first.ctypes.data
    kept_bytes = OUTPUT_POOL.kept_bytes()
    del first
    gc.collect()
    assert OUTPUT_POOL.kept_bytes() == kept_bytes  # the view still sees it
    second = ops.chunk_simple_gla(*_inputs(3))[0]
    second_address = second.ctypes.data
    assert second_address != address
    np.testing.assert_array_equal(kept, before)
    del kept, second
    gc.collect()
    # Once the view is gone too, the buffer is free again: the next output takes one of the
    # two now kept (the last one given back first).
    third = ops.chunk_simple_gla(*_inputs(4))[0]
    assert third.ctypes.data in (address, second_address)


def test_capacity_drops_the_oldest_buffers() -> None:
    block = (1 << 20) + 64  # a 1 MiB array and its alignment slack
    pool = OutputPool(capacity=3 * block, min_bytes=1 << 20)
    arrays = [pool.array(1 << 20, 64) for _ in range(4)]
    del arrays
    gc.collect()
    assert pool.kept_bytes() == 3 * block
    assert OutputPool(capacity=0).kept_bytes() == 0


def test_release_drops_the_kept_buffers_but_not_live_ones() -> None:
    first = ops.chunk_simple_gla(*_inputs(5))[0]
    live = ops.chunk_simple_gla(*_inputs(6))[0]
    del first
    gc.collect()
    kept = OUTPUT_POOL.kept_bytes()
    assert kept >= live.nbytes
    assert linac.release_output_pool() == kept
    assert OUTPUT_POOL.kept_bytes() == 0
    # A live output is not the pool's to drop: it comes back when it dies, and its values
    # stay what the kernel wrote.
    inputs = _inputs(6)
    np.testing.assert_allclose(live, _expected(*inputs), rtol=2e-4, atol=2e-4)
    del live
    gc.collect()
    assert OUTPUT_POOL.kept_bytes() > 0
    assert linac.release_output_pool() > 0 and linac.release_output_pool() == 0


def test_small_outputs_bypass_the_pool() -> None:
    small = aligned_empty((16, 16), np.float32)
    assert small.base is not None and small.ctypes.data % 64 == 0
    assert small.nbytes < OUTPUT_POOL.min_bytes


@pytest.mark.parametrize("value", ["0", "abc"])
def test_pool_setting_from_the_environment(value: str) -> None:
    code = (
        "from linac._tensors import OUTPUT_POOL, aligned_empty\n"
        "import numpy as np\n"
        "a = aligned_empty((1 << 20,), np.float32)\n"
        "print(OUTPUT_POOL.capacity, a.base.__class__.__name__)\n"
    )
    env = dict(os.environ, LINAC_OUTPUT_POOL_MIB=value)
    run = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if value == "0":
        assert run.returncode == 0, run.stderr
        assert run.stdout.split() == ["0", "ndarray"]
    else:
        assert run.returncode != 0
        assert "LINAC_OUTPUT_POOL_MIB='abc'" in run.stderr


def test_a_give_during_an_update_lets_the_buffer_go() -> None:
    # A garbage collection inside the pool's own update can run another array's finalizer
    # on this thread: its give() must return (not wait for the lock) and keep nothing.
    pool = OutputPool(capacity=8 << 20)
    block = np.empty((1 << 20) + 64, np.uint8)
    with pool._lock:
        pool._busy = True
        pool.give(block)
        pool._busy = False
    assert pool.kept_bytes() == 0
    pool.give(block)
    assert pool.kept_bytes() == block.nbytes
