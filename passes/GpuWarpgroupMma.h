//===- GpuWarpgroupMma.h - contractions as Hopper wgmma ---------*- C++ -*-===//
//
// On sm_90a, linac-map-to-gpu{warpgroup-mma} runs a contraction whose rows
// (m, or n with the operands swapped) come in multiples of 64 as warpgroup
// `wgmma.mma_async`. The block's threads first copy both operands into a
// shared scratch buffer in the layout the instruction reads through its
// matrix descriptors (core matrices of 8 rows x 16 bytes, contiguous, no
// swizzle, k innermost); then each warpgroup (128 threads) runs 64-row
// tiles, the accumulators in registers.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_GPUWARPGROUPMMA_H
#define LINAC_PASSES_GPUWARPGROUPMMA_H

#include "passes/GpuTensorCores.h"

namespace mlir::linac {

/// Bytes of shared scratch `op` needs on the warpgroup path (both operands in
/// the core-matrix layout), or nullopt where it does not take that path: not
/// a contraction on tensor cores, no side of 64-row multiples, more than 64
/// columns a tile that are not a multiple of 64, or more than 32 KiB of
/// scratch.
std::optional<int64_t> warpgroupMmaScratchBytes(linalg::LinalgOp op,
                                                int64_t blockSize,
                                                TensorCoreInputs inputs);

/// Replaces `op`, for which warpgroupMmaScratchBytes holds, with the copy of
/// its operands into `scratch` (a workgroup memref<N x i8>, at least that
/// many bytes), a proxy fence and a barrier, and the wgmma tiles; rows and
/// columns past the (dynamic) sizes are copied as zero and not written. The
/// caller puts the barrier after it.
LogicalResult distributeOnWarpgroups(linalg::LinalgOp op, Value threadId,
                                     int64_t blockSize, TensorCoreInputs inputs,
                                     Value scratch);

} // namespace mlir::linac

#endif // LINAC_PASSES_GPUWARPGROUPMMA_H
