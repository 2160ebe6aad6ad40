//===- GpuTensorCores.h - contractions on GPU tensor cores ------*- C++ -*-===//
//
// linac-map-to-gpu runs the chunk's matrix products (linalg contractions on
// buffers) as warp-level mma.sync tiles; everything else stays strided over
// the block's threads.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_GPUTENSORCORES_H
#define LINAC_PASSES_GPUTENSORCORES_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace mlir::linac {

/// Which tensor-core instructions contractions may use.
enum class TensorCoreInputs {
  /// None: every product on the CUDA cores in fp32.
  none,
  /// tf32 inputs (m16n8k8), fp32 accumulation, for every contraction.
  tf32,
  /// bf16 (or f16) inputs (m16n8k16) where both operands are stored in that
  /// type; tf32 where one is fp32 (a chunk's intermediate), so that fp32
  /// intermediates keep 10 mantissa bits.
  bf16,
  f16,
};

/// Parses a pass option's value; nullopt when it is none of the names.
std::optional<TensorCoreInputs> parseTensorCoreInputs(StringRef name);

/// A contraction `C[m, n] += A[m, k] * B[k, n]` (or `-=`, `subtract`) on
/// buffers: its operands and the positions of its loop dimensions.
struct Contraction {
  OpOperand *lhs, *rhs, *out;
  unsigned m, n, k;
  bool subtract = false;
};

/// `op` as a contraction tensor cores can run (operands in any order of their
/// dimensions, a multiply-add or multiply-subtract payload through float
/// casts, fp32 output), or nullopt.
std::optional<Contraction> matchContraction(linalg::LinalgOp op);

/// Whether `contraction`'s output has static bounds of at least 8 rows and
/// 8 columns: a tile worth an mma.sync (decode steps' one-row products and
/// the UT transform's row by row solve are not).
bool fillsTensorCoreTiles(linalg::LinalgOp op, const Contraction &contraction);

/// The element type a contraction's operands take on tensor cores: `inputs`'
/// 16-bit type where both operands are stored in it, f32 (tf32) otherwise;
/// null for none.
Type tensorCoreElementType(const Contraction &contraction,
                           TensorCoreInputs inputs);

/// `load()` where `inBounds` holds (or always, where it is null), zero of
/// `type` elsewhere: the load is skipped, since past a chunk's rows the view
/// may end.
Value loadOrZero(OpBuilder &b, Location loc, Value inBounds, Type type,
                 function_ref<Value(OpBuilder &)> load);

/// `i < size`, or null (no check) where `size` is the constant `bound`: an
/// index into a dimension padded to `bound` that may end before it.
Value belowSize(OpBuilder &b, Location loc, Value i, Value size, int64_t bound);

/// `x && y` where both are checks, the one that is where the other is null
/// (no check).
Value bothChecks(OpBuilder &b, Location loc, Value x, Value y);

/// buffer[indices] = value where `inBounds` holds (or always, where it is
/// null).
void storeIfInBounds(OpBuilder &b, Location loc, Value inBounds, Value value,
                     Value buffer, ValueRange indices);

/// The static upper bound of loop dimension `dim` of `op`, from the first
/// operand that it indexes.
std::optional<int64_t> loopUpperBound(linalg::LinalgOp op, unsigned dim);

/// How a warp runs its share of a contraction's 16x8 output tiles.
struct WarpTiling {
  /// Tiles a warp runs together: groupM rows of groupN. Each k step loads
  /// groupM A and groupN B fragments for groupM * groupN independent mma.
  int64_t groupM = 1, groupN = 1;
  /// Accumulator sets over k: set s takes the k steps equal to s modulo
  /// splitK, so a long chain of dependent mma becomes splitK shorter ones,
  /// added at the end.
  int64_t splitK = 1;
};

/// The tiling for a `tilesM` x `tilesN` grid of tiles, `kSteps` mma deep, on
/// `numWarps` warps: the largest group (at most 8 tiles, dividing the grid)
/// that leaves each warp a group, of the fewest fragment registers a k step
/// among those of its size; a group of one or two tiles splits a chain of at
/// least 8 steps in two, a single tile one of 16 in four.
WarpTiling chooseWarpTiling(int64_t tilesM, int64_t tilesN, int64_t kSteps,
                            int64_t numWarps);

/// Replaces `op`, a contraction `C[m, n] (+|-)= A[m, k] * B[k, n]` (operands in
/// any order of their dimensions, fp32 output) whose sizes have static upper
/// bounds, with a loop of the block's warps over 16x8 output tiles, each a
/// chain of `nvvm.mma.sync` over k; with `groupTiles`, over groups of tiles
/// (chooseWarpTiling), one tile each otherwise. Rows and columns past the
/// (dynamic) sizes read as zero and are not written; the caller puts the
/// barrier after it. With `ldmatrix`, 16-bit fragments whose rows are 16-byte
/// aligned in shared memory load with ldmatrix (transposed where the operand's
/// m or n runs along its rows). Returns failure, leaving `op` as it is, when
/// `op` is not such a contraction or `inputs` is none.
LogicalResult distributeOnTensorCores(linalg::LinalgOp op, Value threadId,
                                      int64_t blockSize,
                                      TensorCoreInputs inputs, bool ldmatrix,
                                      bool groupTiles);

} // namespace mlir::linac

#endif // LINAC_PASSES_GPUTENSORCORES_H
