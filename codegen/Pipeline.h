//===- Pipeline.h - the linac compilation pipeline --------------*- C++ -*-===//
//
// The whole pipeline in one place, as a list of named stages:
//
//   specialize -> recognize -> chunk -> tile -> lower
//     -> cpu:   llvm   (LLVM dialect; then LLVM IR, -O3, object file)
//     -> nvptx: gpu -> nvvm -> ptx (gpu.binary; then ptxas -> cubin)
//
// LINAC_DUMP_IR=1 prints the IR after every stage to stderr;
// LINAC_DUMP_IR=<folder> writes one file per stage there.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_CODEGEN_PIPELINE_H
#define LINAC_CODEGEN_PIPELINE_H

#include "runtime/KernelArtifact.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/Error.h"

#include <string>
#include <utility>
#include <vector>

namespace linac {

enum class TargetKind { Cpu, Nvptx };

struct CompileOptions {
  /// "cpu", "sm_80", "sm_90" or "sm_90a" (Hopper-only PTX: same code as
  /// sm_90 today; wgmma and TMA are not generated yet).
  std::string target = "cpu";
  /// 0 keeps what the IR says.
  int64_t headDimK = 0;
  int64_t headDimV = 0;
  int64_t chunkSize = 0;
  /// Value tile width; 0 picks the target's default.
  int64_t blockV = 0;
  /// "f32", "f16", "bf16"; empty keeps the IR's element type.
  std::string dtype;
  /// Householder steps per token (DeltaProduct); 0 keeps the IR's.
  int64_t householder = 0;
  /// L2-normalize q and k in the kernel (delta rules).
  bool qkL2Norm = false;
  /// Step sizes factor * sigmoid(beta) (1: sigmoid, 2: negative eigenvalues
  /// allowed); 0 uses beta as given.
  float betaSigmoid = 0.0f;
  /// Compile a step linac cannot chunk as a sequential recurrent kernel
  /// (the recognizer warns) instead of failing.
  bool allowSequential = false;
  /// State-space models: softplus(dt + dt_bias).
  bool dtSoftplus = false;
  /// CPU objects: an LLVM CPU name (x86-64, x86-64-v3, ...); empty or
  /// "native" builds for the host.
  std::string cpu;
  /// Matrix products on GPU tensor cores: "none", "tf32", "bf16", "f16";
  /// empty or "auto" follows the dtype (bf16/f16 kernels use them, f32
  /// kernels keep fp32 products).
  std::string tensorCores;
  /// How the chunk lowering sums the log decays: "by-row" (a running sum,
  /// row after row), "per-element" (each sum its own loop: no chain of
  /// barriers on a GPU); empty or "auto": by-row on CPUs, per-element on GPUs.
  std::string gateSums;
  /// GLA's intra-chunk scores where a sub-chunk's gate sums lie within +-20:
  /// "on" (one product of rescaled rows, the exact band elsewhere), "off"
  /// (the exact band always); empty or "auto": on for CPUs, off for GPUs
  /// (not yet timed on one).
  std::string factoredBand;
  /// Two buffers for each staged input, the next chunk's copied while this
  /// one computes (linac-double-buffer-inputs): "on", "off"; empty or
  /// "auto": on for GPUs (asynchronous copies), off for CPUs (whose copies
  /// are synchronous: "on" there only tests the transformation).
  std::string doubleBuffer;
  /// GPUs: "on" erases the barriers between phases that access no common
  /// buffer with a write among them (linac-map-to-gpu{elide-barriers});
  /// empty, "auto" or "off": a barrier after every phase (until the GPU
  /// tests and times the elision).
  std::string elideBarriers;
  /// GPUs: "on" loads the 16-bit fragments of tensor-core products with
  /// ldmatrix where their rows are 16-byte aligned in shared memory
  /// (linac-map-to-gpu{ldmatrix}); "off": one 4-byte (or 2-byte) load a
  /// register; empty or "auto": on.
  std::string ldmatrix;
  /// GPUs: "on" has each warp run a group of a product's mma.sync tiles
  /// together and split long k chains (linac-map-to-gpu{warp-tiles});
  /// empty, "auto" or "off": one tile at a time (until a GPU has run it).
  std::string warpTiles;
  /// sm_90a: "on" runs the contractions with a side of 64-row multiples as
  /// warpgroup wgmma (linac-map-to-gpu{warpgroup-mma}); empty, "auto" or
  /// "off": mma.sync (until a GPU has run the wgmma path).
  std::string warpgroupMma;
  /// The element type of decayed q and k rows: "input" keeps 16-bit inputs'
  /// type (linac-narrow-decayed-rows: the state update runs on bf16 tensor
  /// cores), "f32" rounds nothing; empty or "auto": f32 (until a GPU has
  /// timed it).
  std::string decayedRows;
  /// The element type of the f32 operands of a 16-bit kernel's matrix
  /// products (the state, the scores, the delta rule's U, W and T): "input"
  /// rounds each to the inputs' type in a copy before its product
  /// (linac-narrow-product-operands: every product on bf16 tensor cores, as
  /// flash-linear-attention rounds them) and implies decayedRows "input"
  /// unless that says "f32"; "f32" rounds none; empty or "auto": f32 (until
  /// a GPU has timed it).
  std::string productOperands;
  /// The UT transform's forward substitution (delta rules): "rows" (row by
  /// row, vectorized along the rows), "columns" (column by column, each
  /// column on its own GPU thread, no barrier between rows); empty or
  /// "auto": columns on GPUs, rows on CPUs.
  std::string utSolve;
  /// A state pass (linac-tile-chunk-loop{state-checkpoints}): M > 0 drops
  /// the outputs and writes the state after every M chunks of each sequence
  /// to final_state's rows (one per segment); 0 builds the ordinary kernel.
  int64_t stateCheckpoints = 0;
  /// GPUs: the blocks ptxas must fit on a multiprocessor (a register
  /// budget, nvvm.minctasm). Not a user option: compileKernel sets it.
  int64_t minBlocksPerMultiprocessor = 1;
  /// Threads per block on GPUs.
  int64_t gpuBlockSize = 128;
  /// Assemble PTX into a cubin with ptxas when it is installed.
  bool runPtxas = true;
  /// GPUs: count the cycles of each phase between barriers
  /// (linac-profile-phases), for profiling builds only.
  bool profilePhases = false;

  /// A canonical one-line description of every option (part of cache keys).
  std::string fingerprint() const;
};

/// The chunk size of the op library's and the DSL's recurrences on CPUs when
/// the caller gives none (the IR's default, 64, suits GPU tensor cores).
/// Smaller chunks do less intra-chunk work (2 C (K + V) flops a token) but
/// read and write the K x V state once a chunk. 16 tokens, whatever the head
/// sizes: measured on AVX-512 (benchmarks/ab_objects.py, T = 4096) against
/// 32, K = V = 64 runs 1.06-1.17x faster; K = V = 128 (once 32's size, before
/// the prefetch bursts and 64-byte buffers) 1.04-1.08x faster for simple GLA,
/// GLA and both delta rules, and as fast for linear attention (1.01x slower,
/// within the noise); K = V = 256 simple GLA 1.02x faster. Both beat the IR's
/// 64 by 1.1-1.5x. The head sizes stay in the signature for the next machine
/// whose answer depends on them.
int64_t cpuDefaultChunkSize(int64_t headDimK, int64_t headDimV);

/// Whether `options` resolve to per-element gate sums (see `gateSums`).
bool perElementGateSums(const CompileOptions &options);

/// An error naming a `gateSums` other than auto, by-row or per-element.
llvm::Error checkGateSums(llvm::StringRef gateSums);

/// Whether `options` resolve to GLA's factored band (see `factoredBand`).
bool usesFactoredBand(const CompileOptions &options);

/// An error naming a `factoredBand` other than auto, on or off.
llvm::Error checkFactoredBand(llvm::StringRef factoredBand);

/// Whether `options` resolve to double-buffered inputs (see `doubleBuffer`).
bool usesDoubleBuffer(const CompileOptions &options);

/// An error naming a `doubleBuffer` other than auto, on or off.
llvm::Error checkDoubleBuffer(llvm::StringRef doubleBuffer);

/// Whether `options` resolve to elided barriers (see `elideBarriers`).
bool usesElidedBarriers(const CompileOptions &options);

/// An error naming an `elideBarriers` other than auto, on or off.
llvm::Error checkElideBarriers(llvm::StringRef elideBarriers);

/// Whether `options` resolve to ldmatrix fragment loads (see `ldmatrix`).
bool usesLdmatrix(const CompileOptions &options);

/// An error naming an `ldmatrix` other than auto, on or off.
llvm::Error checkLdmatrix(llvm::StringRef ldmatrix);

/// Whether `options` resolve to grouped warp tiles (see `warpTiles`).
bool usesWarpTiles(const CompileOptions &options);

/// An error naming a `warpTiles` other than auto, on or off.
llvm::Error checkWarpTiles(llvm::StringRef warpTiles);

/// Whether `options` resolve to wgmma (see `warpgroupMma`).
bool usesWarpgroupMma(const CompileOptions &options);

/// An error naming a `warpgroupMma` other than auto, on or off, or "on" for
/// a target other than sm_90a.
llvm::Error checkWarpgroupMma(llvm::StringRef warpgroupMma,
                              llvm::StringRef target);

/// Whether `options` resolve to decayed rows in the inputs' type.
bool narrowsDecayedRows(const CompileOptions &options);

/// An error naming a `decayedRows` other than auto, f32 or input.
llvm::Error checkDecayedRows(llvm::StringRef decayedRows);

/// Whether `options` resolve to the UT transform solved column by column.
bool solvesUTByColumns(const CompileOptions &options);

/// An error naming a `utSolve` other than auto, rows or columns.
llvm::Error checkUTSolve(llvm::StringRef utSolve);

/// Whether `options` resolve to product operands in the inputs' type.
bool narrowsProductOperands(const CompileOptions &options);

/// An error naming a `productOperands` other than auto, f32 or input.
llvm::Error checkProductOperands(llvm::StringRef productOperands);

/// An error for a negative `stateCheckpoints`.
llvm::Error checkStateCheckpoints(int64_t stateCheckpoints);

/// The tensor-core inputs `options` resolves to (see `tensorCores`).
std::string tensorCoreInputs(const CompileOptions &options);

/// Parses a target name; an error names the accepted targets.
llvm::Expected<TargetKind> parseTarget(llvm::StringRef target);

/// One named stage: a textual pass pipeline on builtin.module.
struct Stage {
  std::string name;
  std::string pipeline;
};

/// The MLIR stages for `options` (before translation to LLVM IR / PTX
/// extraction). `blockV` must already be resolved for GPU targets.
std::vector<Stage> getStages(const CompileOptions &options);

/// IR text after each stage, when requested.
using StageDumps = std::vector<std::pair<std::string, std::string>>;

/// Prints a diagnostic and its notes as `file:line:col: error: message`.
void formatDiagnostic(llvm::raw_ostream &os, mlir::Diagnostic &diag);

/// Compiles function `funcName` of `module` (which it consumes) into an
/// artifact. Errors carry the diagnostics with their source locations.
llvm::Expected<KernelArtifact> compileKernel(mlir::ModuleOp module,
                                             llvm::StringRef funcName,
                                             CompileOptions options,
                                             StageDumps *dumps = nullptr);

} // namespace linac

#endif // LINAC_CODEGEN_PIPELINE_H
