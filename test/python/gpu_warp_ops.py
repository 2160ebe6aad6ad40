"""The warp-wide instructions of the emulated GPU, from the PTX ISA's tables (not from
linac's builders): ldmatrix, mma.sync and wgmma.mma_async. A mixin of gpu_emulator's
Block1D, which supplies the threads, the shared buffers and the race records."""

from __future__ import annotations

import re

import numpy as np
from gpu_values import ELEMENT_BYTES, WARP, MemRef, float_of
from mlir_generic import EmulationError, Op


class WarpInstructions:
    """ldmatrix, mma.sync and wgmma for a block of `self.threads` threads in lockstep."""

    def warps(self, mask: np.ndarray, op: Op) -> list[int]:
        """The warps that run `op`: all of their threads, or none."""
        per_warp = mask.reshape(-1, WARP)
        partial = per_warp.any(axis=1) & ~per_warp.all(axis=1)
        if partial.any():
            raise EmulationError(f"{op.name} with part of warp {int(np.argmax(partial))}")
        return [int(w) for w in np.flatnonzero(per_warp.all(axis=1))]

    def op_nvgpu_ldmatrix(self, op: Op, args: list, mask: np.ndarray) -> list:
        view, *indices = args
        tiles = int(op.prop("numTiles").split(" : ")[0])
        transpose = op.prop("transpose") == "true"
        match = re.match(r"vector<(\d+)x(\d+)x(\w+)>", op.result_types[0])
        per_register = int(match.group(2))  # 2 16-bit values or 1 32-bit
        row_length = 8 if per_register == 2 else 4  # 16 bytes
        result = np.zeros((self.threads, tiles, per_register), dtype=np.float32)
        for warp in self.warps(mask, op):
            lanes = slice(warp * WARP, (warp + 1) * WARP)
            address = view.address(indices)[lanes]
            lane_mask = np.zeros(self.threads, dtype=bool)
            lane_mask[warp * WARP : warp * WARP + 8 * tiles] = True
            self.check_bounds(view, indices, lane_mask, op, row_length)
            if not (view.strides[-1][lanes] == 1).all():
                raise EmulationError("ldmatrix rows must be contiguous")
            for tile in range(tiles):
                rows = np.zeros(self.threads, dtype=bool)
                rows[warp * WARP + 8 * tile : warp * WARP + 8 * tile + 8] = True
                for i in range(row_length):
                    self.record(view, view.address(indices) + i, rows, False, op)
                # Lanes 8 tile .. 8 tile + 7 address the matrix's rows.
                matrix = np.stack(
                    [
                        view.buffer[address[8 * tile + r] : address[8 * tile + r] + row_length]
                        for r in range(8)
                    ]
                )
                if transpose:
                    if per_register != 2:
                        raise EmulationError("ldmatrix .trans of 32-bit elements")
                    matrix = matrix.T
                for lane in range(WARP):
                    row, pair = lane // 4, lane % 4
                    result[warp * WARP + lane, tile] = matrix[
                        row, pair * per_register : (pair + 1) * per_register
                    ]
        return [result]

    def shared_element(self, address: int, element_bytes: int) -> tuple[MemRef, int]:
        """The shared buffer and element index at byte `address`."""
        for base, nbytes, view in self.shared:
            if base <= address < base + nbytes and ELEMENT_BYTES[view.element] == element_bytes:
                return view, (address - base) // element_bytes
        raise EmulationError(
            f"wgmma reads {element_bytes}-byte elements at shared address {address}, "
            "outside every buffer of that width"
        )

    def wgmma_operand(self, descriptor: int, rows: int, k: int, element_bytes: int, op, group):
        """The rows x k operand a matrix descriptor gives: K-major core matrices of 8 rows
        x 16 bytes without swizzling, rows 16 bytes apart, 8-row groups the stride byte
        offset apart, core matrices along k the leading byte offset apart."""
        start = (descriptor & 0x3FFF) << 4
        leading = ((descriptor >> 16) & 0x3FFF) << 4
        stride = ((descriptor >> 32) & 0x3FFF) << 4
        core_row = 16 // element_bytes
        matrix = np.zeros((rows, k))
        leader = np.zeros(self.threads, dtype=bool)
        leader[group * 128] = True
        for r in range(rows):
            for c in range(k):
                address = start + (r % 8) * 16 + (r // 8) * stride
                address += (c % core_row) * element_bytes + (c // core_row) * leading
                view, index = self.shared_element(address, element_bytes)
                matrix[r, c] = view.buffer[index]
                # Recorded as the warpgroup's first thread's read.
                self.record(view, np.full(self.threads, index), leader, False, op)
        return matrix

    def op_nvvm_wgmma_mma_async(self, op: Op, args: list, mask: np.ndarray) -> list:
        """D (64 x N) += A (64 x K) B^T (B stored N x K) of a warpgroup of 128 threads:
        warp w holds rows 16 w .. 16 w + 15, lane (g, t) registers 4 j .. 4 j + 3 at (g,
        8 j + 2 t), (g, 8 j + 2 t + 1), (g + 8, 8 j + 2 t), (g + 8, 8 j + 2 t + 1)."""
        accumulator, descriptor_a, descriptor_b = args
        attributes = op.properties + op.attributes
        n, k = (int(x) for x in re.search(r"m = 64, n = (\d+), k = (\d+)", attributes).groups())
        kind = re.search(r"typeA = #nvvm.wgmma_type<(\w+)>", attributes).group(1)
        if "layoutA = #nvvm.mma_layout<row>" not in attributes or (
            "layoutB = #nvvm.mma_layout<col>" not in attributes
        ):
            raise EmulationError("wgmma: only K-major operands")
        element_bytes = 4 if kind == "tf32" else 2
        out = [np.array(register, copy=True) for register in accumulator]
        per_group = mask.reshape(-1, 128)
        if (per_group.any(axis=1) & ~per_group.all(axis=1)).any():
            raise EmulationError("wgmma with part of a warpgroup")
        positions = []
        for thread in range(128):
            warp, g, t = thread // 32, thread % 32 // 4, thread % 4
            for j in range(n // 8):
                cells = [(g, 2 * t), (g, 2 * t + 1), (g + 8, 2 * t), (g + 8, 2 * t + 1)]
                for e, (row, col) in enumerate(cells):
                    positions.append((thread, 4 * j + e, 16 * warp + row, 8 * j + col))
        for group in np.flatnonzero(per_group.all(axis=1)):
            threads = slice(group * 128, group * 128 + 128)
            operands = []
            for descriptor, rows in ((descriptor_a, 64), (descriptor_b, n)):
                if len(set(descriptor[threads].tolist())) != 1:
                    raise EmulationError("wgmma descriptor differs between threads")
                operands.append(
                    self.wgmma_operand(
                        int(descriptor[group * 128]), rows, k, element_bytes, op, group
                    )
                )
            d = np.zeros((64, n))
            for thread, register, row, col in positions:
                d[row, col] = accumulator[register][group * 128 + thread]
            d = (operands[0] @ operands[1].T + d).astype(np.float32)
            for thread, register, row, col in positions:
                out[register][group * 128 + thread] = d[row, col]
        return [out]

    op_nvvm_wgmma_fence_aligned = op_nvvm_wgmma_commit_group_sync_aligned = (
        op_nvvm_wgmma_wait_group_sync_aligned
    ) = op_nvvm_fence_proxy = lambda *_: None

    def op_nvvm_mma_sync(self, op: Op, args: list, mask: np.ndarray) -> list:
        segments = op.segments()
        a, b, c = (
            args[: segments[0]],
            args[segments[0] : segments[0] + segments[1]],
            args[segments[0] + segments[1] :],
        )
        kind = re.search(
            r"multiplicandAPtxType = #nvvm.mma_type<(\w+)>", op.properties + op.attributes
        ).group(1)
        k = int(
            re.search(
                r"shape = #nvvm.shape<m = 16, n = 8, k = (\d+)>", op.properties + op.attributes
            ).group(1)
        )
        if "layoutA = #nvvm.mma_layout<row>" not in op.properties + op.attributes:
            raise EmulationError("mma.sync: only row.col")

        def halves(register) -> tuple[np.ndarray, np.ndarray]:
            if isinstance(register, np.ndarray) and register.ndim == 2:  # vector<2xf16>
                return register[:, 0], register[:, 1]
            return float_of(kind, register & 0xFFFF), float_of(kind, register >> 16)

        out = [np.zeros(self.threads, dtype=np.float32) for _ in range(4)]
        for warp in self.warps(mask, op):
            A = np.zeros((16, k))
            B = np.zeros((k, 8))
            C = np.zeros((16, 8))
            for lane in range(WARP):
                t = warp * WARP + lane
                g, i = lane // 4, lane % 4
                if kind == "tf32":
                    # a0 (g, i) a1 (g+8, i) a2 (g, i+4) a3 (g+8, i+4); b0 (i, g) b1 (i+4, g).
                    for reg, (row, col) in zip(
                        a, [(g, i), (g + 8, i), (g, i + 4), (g + 8, i + 4)], strict=True
                    ):
                        A[row, col] = float_of("f32", reg[t : t + 1])[0]
                    for reg, row in zip(b, [i, i + 4], strict=True):
                        B[row, g] = float_of("f32", reg[t : t + 1])[0]
                else:
                    # Registers of two: a0 (g, 2i..) a1 (g+8, 2i..) a2 (g, 2i+8..) a3 (g+8, 2i+8..);
                    # b0 (2i.., g) b1 (2i+8.., g).
                    for reg, (row, col) in zip(
                        a,
                        [(g, 2 * i), (g + 8, 2 * i), (g, 2 * i + 8), (g + 8, 2 * i + 8)],
                        strict=True,
                    ):
                        low, high = halves(reg[t : t + 1])
                        A[row, col], A[row, col + 1] = low[0], high[0]
                    for reg, row in zip(b, [2 * i, 2 * i + 8], strict=True):
                        low, high = halves(reg[t : t + 1])
                        B[row, g], B[row + 1, g] = low[0], high[0]
                for e, (row, col) in enumerate(
                    [(g, 2 * i), (g, 2 * i + 1), (g + 8, 2 * i), (g + 8, 2 * i + 1)]
                ):
                    C[row, col] = c[e][t]
            D = (A @ B + C).astype(np.float32)
            for lane in range(WARP):
                g, i = lane // 4, lane % 4
                for e, (row, col) in enumerate(
                    [(g, 2 * i), (g, 2 * i + 1), (g + 8, 2 * i), (g + 8, 2 * i + 1)]
                ):
                    out[e][warp * WARP + lane] = D[row, col]
        return [out]
