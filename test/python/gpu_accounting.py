"""What the emulator records while it runs a block: each element's last accesses, for
the race detector (Accesses), and what each warp issued, for the cost model (Costs). See
gpu_emulator.py."""

from __future__ import annotations

import numpy as np
from gpu_values import WARP
from mlir_generic import EmulationError, Op

# Ops that issue no instruction of their own: constants, register moves and views (their
# address arithmetic is in the arith ops around them).
FREE_OPS = {
    "arith.constant", "arith.bitcast", "arith.index_cast", "arith.index_castui",
    "llvm.bitcast", "llvm.extractvalue", "llvm.insertvalue", "llvm.mlir.undef",
    "vector.extract", "memref.subview", "memref.cast", "memref.reinterpret_cast",
    "memref.view", "memref.extract_strided_metadata", "memref.dim",
    "memref.extract_aligned_pointer_as_index", "gpu.thread_id", "gpu.block_id",
    "gpu.dynamic_shared_memory", "gpu.barrier", "nvvm.wgmma.fence.aligned",
    "nvvm.fence.proxy",
}  # fmt: skip


class Costs:
    """What a block issued, for comparing kernels without a GPU (a model, not a timing):
    per warp and phase (between barriers), the ops it issued (an op with any active
    thread in the warp counts once, FREE_OPS not at all; loops count per iteration, their
    control not at all) and the shared-memory
    wavefronts of its accesses (a warp's access takes as many as the most distinct 4-byte
    words any of the 32 banks holds, and at least one per 128 bytes). A phase costs what
    its busiest warp issued, since the barrier after it waits for that warp."""

    def __init__(self, threads: int):
        self.warps = threads // WARP
        self.phase_ops = np.zeros(self.warps, dtype=np.int64)
        self.phase_wavefronts = np.zeros(self.warps, dtype=np.int64)
        self.totals = {"barriers": 0, "critical_ops": 0, "critical_wavefronts": 0,
                       "warp_ops": 0, "wavefronts": 0, "mma": 0}  # fmt: skip
        self.words: list[tuple[np.ndarray, np.ndarray]] = []

    def start_op(self) -> None:
        self.words = []

    def shared_access(self, byte_address: np.ndarray, mask: np.ndarray) -> None:
        self.words.append((byte_address // 4, mask.copy()))

    def end_op(self, mask: np.ndarray, op: Op) -> None:
        active = mask.reshape(self.warps, WARP).any(axis=1)
        if op.name not in FREE_OPS:
            self.phase_ops += active
        if "mma" in op.name:
            self.totals["mma"] += int(active.sum())
        if not self.words:
            return
        for warp in np.flatnonzero(active):
            lanes = slice(warp * WARP, (warp + 1) * WARP)
            words = np.unique(
                np.concatenate([w[lanes][m[lanes]] for w, m in self.words]).astype(np.int64)
            )
            if not len(words):
                continue
            conflicts = int(np.bincount(words % 32, minlength=32).max())
            self.phase_wavefronts[warp] += max(conflicts, -(-len(words) * 4 // 128))

    def end_phase(self, barrier: bool = True) -> None:
        self.totals["barriers"] += barrier
        self.totals["critical_ops"] += int(self.phase_ops.max())
        self.totals["critical_wavefronts"] += int(self.phase_wavefronts.max())
        self.totals["warp_ops"] += int(self.phase_ops.sum())
        self.totals["wavefronts"] += int(self.phase_wavefronts.sum())
        self.phase_ops[:] = 0
        self.phase_wavefronts[:] = 0


class Accesses:
    """The last phase and thread that wrote, and that read, each element of a buffer (-2:
    several threads read it in that phase)."""

    SEVERAL = -2

    def __init__(self, size: int):
        self.write_phase = np.full(size, -1, dtype=np.int64)
        self.writer = np.full(size, -1, dtype=np.int64)
        self.read_phase = np.full(size, -1, dtype=np.int64)
        self.reader = np.full(size, -1, dtype=np.int64)

    @staticmethod
    def refuse(op: Op, conflict: np.ndarray, message) -> None:
        """A race error where `conflict` holds for some access; `message(at)` says which."""
        if conflict.any():
            raise EmulationError(f"race in {op.name}: " + message(int(np.argmax(conflict))))

    def access(self, address, thread, phase: int, write: bool, op: Op) -> None:
        if not len(address):
            return
        verb = "writes" if write else "reads"
        self.refuse(
            op,
            (self.write_phase[address] == phase) & (self.writer[address] != thread),
            lambda at: (
                f"thread {thread[at]} {verb} element {address[at]}, written by thread "
                f"{self.writer[address[at]]} since the last barrier"
            ),
        )
        if write:
            self.refuse(
                op,
                (self.read_phase[address] == phase) & (self.reader[address] != thread),
                lambda at: (
                    f"thread {thread[at]} writes element {address[at]}, read by another "
                    "thread since the last barrier"
                ),
            )
            # Where two threads of this op write one element, one assignment wins.
            self.writer[address] = thread
            self.refuse(
                op,
                self.writer[address] != thread,
                lambda at: (
                    f"threads {thread[at]} and {self.writer[address[at]]} write element "
                    f"{address[at]} at once"
                ),
            )
            self.write_phase[address] = phase
            return
        earlier = (self.read_phase[address] == phase) & (self.reader[address] != thread)
        self.reader[address] = thread
        several = earlier | (self.reader[address] != thread)
        self.reader[address[several]] = self.SEVERAL
        self.read_phase[address] = phase
