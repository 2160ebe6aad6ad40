//===- Passes.h - linac passes ----------------------------------*- C++ -*-===//

#ifndef LINAC_PASSES_PASSES_H
#define LINAC_PASSES_PASSES_H

#include "dialect/Linac.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::linac {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Marks the scf.parallel a tiled linac kernel uses as its grid; its value
/// names the role of each loop dimension, outermost first.
inline constexpr llvm::StringLiteral kGridAttrName = "linac.grid";
/// On a state pass's function (linac-tile-chunk-loop{state-checkpoints}):
/// the tokens of a segment, M chunks of the loop's C tokens (C is the chunk
/// size over the Householder sub-steps of DeltaProduct).
inline constexpr llvm::StringLiteral kSegmentTokensAttrName =
    "linac.segment_tokens";
inline constexpr llvm::StringLiteral kGridValueTile = "value_tile";
inline constexpr llvm::StringLiteral kGridHead = "head";
inline constexpr llvm::StringLiteral kGridSequence = "sequence";

/// Marks a linac.recurrence whose step linac-recognize-recurrence could not
/// match (its value says why): linac-sequential-recurrence lowers it.
inline constexpr llvm::StringLiteral kSequentialAttrName = "linac.sequential";

/// Causal structure of a contraction (a linalg.generic of the chunk
/// lowering), as the query stride s of the causal diagonal: entry (i, j)
/// lies above it when j > i * s + s - 1.
///   kCausalOutputAttrName: the output's entries above it are discarded by
///   the mask that follows; they need not be computed.
///   kCausalLhsAttrName: the left operand's entries above it are zero; row i
///   of the product takes only the terms r < (i + 1) * s (so a NaN in a later
///   row of the right operand stays out of it, as in the recurrence).
/// linac-vectorize-contractions uses both; other passes may ignore them.
inline constexpr llvm::StringLiteral kCausalOutputAttrName =
    "linac.causal_output";
inline constexpr llvm::StringLiteral kCausalLhsAttrName = "linac.causal_lhs";

/// On an scf.for whose iterations touch disjoint memory (the UT transform's
/// columns): linac-map-to-gpu strides its iterations over the block's
/// threads, each running its iterations' bodies whole, with one barrier
/// after the loop; CPUs run it as it stands.
inline constexpr llvm::StringLiteral kThreadParallelAttrName =
    "linac.thread_parallel";

/// Marks a prefetch loop nest (rows x cache lines of the next chunk) that
/// linac-tile-chunk-loop emitted at the top of a chunk and that
/// linac-vectorize-contractions may spread over the chunk's rank-1 products,
/// a few lines per output tile; unmarked, or with no product after it, the
/// loop runs as it stands.
inline constexpr llvm::StringLiteral kDeferredPrefetchAttrName =
    "linac.deferred_prefetch";

/// On the copies that stage a chunk's inputs in local buffers
/// (linac-tile-chunk-loop{stage-inputs}), which linac-double-buffer-inputs
/// may move a chunk ahead.
inline constexpr llvm::StringLiteral kStagedInputAttrName =
    "linac.staged_input";

/// On an scf.if that linac-double-buffer-inputs made of a chunk loop's
/// staging copies: kPrefetchFirst before the loop (the first chunk's),
/// kPrefetchNext at the top of each chunk (the next chunk's, into the buffer
/// halves this chunk does not read). linac-map-to-gpu issues them as
/// cp.async without waiting, and waits for a chunk's copies at the top of
/// that chunk, after its successor's have gone out.
inline constexpr llvm::StringLiteral kPrefetchAttrName = "linac.prefetch";
inline constexpr llvm::StringLiteral kPrefetchFirst = "first";
inline constexpr llvm::StringLiteral kPrefetchNext = "next";

/// linac-profile-phases: the kernel's phase labels (an array of strings), and
/// the prefix of the global that holds its (cycles, visits) counters (the
/// kernel's name follows it).
inline constexpr llvm::StringLiteral kProfilePhasesAttrName =
    "linac.profile_phases";
inline constexpr llvm::StringLiteral kProfileGlobalPrefix = "linac_profile_";

/// Static shared memory a GPU block may use without opting in to more.
inline constexpr int64_t kMaxStaticSharedBytes = 48 * 1024;

/// Shared memory a block of `chip` ("sm_90", "sm_90a", ...) may use when its
/// kernel opts in: buffers beyond kMaxStaticSharedBytes become views of the
/// kernel's dynamic shared memory, whose size the runtime sets at launch.
int64_t maxSharedBytes(llvm::StringRef chip);

/// Shared memory a block of `chip` may grow to when linac-map-to-gpu pads its
/// rows against bank conflicts or linac-double-buffer-inputs doubles its
/// staged inputs (the tiling itself is searched within
/// kMaxStaticSharedBytes): a quarter of maxSharedBytes, so that four blocks
/// still fit a multiprocessor (what the registers of the default tilings
/// allow: 128 threads at up to 128 registers), or 48 KiB where that is more.
int64_t maxGrownSharedBytes(llvm::StringRef chip);

/// On a gpu.func whose buffers live in dynamic shared memory: its size in
/// bytes (the metadata's grid.dynamic_shared_bytes, for the launch).
inline constexpr llvm::StringLiteral kDynamicSharedBytesAttrName =
    "linac.dynamic_shared_bytes";

/// Alignment of every shared-memory buffer of a GPU kernel: the widest access
/// (16 bytes) LLVM may vectorize shared loads and stores into.
inline constexpr int64_t kSharedBufferAlignment = 16;

/// Bytes a static buffer of `type` takes in shared memory, rounded up to
/// kSharedBufferAlignment (the next buffer's alignment).
int64_t sharedBufferBytes(mlir::MemRefType type);

/// Bytes of the static local buffers (memref.alloca) under `root`, each
/// rounded up to kSharedBufferAlignment: what a GPU block keeps in shared
/// memory before linac-map-to-gpu pads rows against bank conflicts (which
/// it does only where the block stays within kMaxStaticSharedBytes or was
/// already beyond it, so this measure decides the tiling alone).
int64_t localBufferBytes(Operation *root);

} // namespace mlir::linac

#endif // LINAC_PASSES_PASSES_H
