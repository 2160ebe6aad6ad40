//===- GpuWarpgroupMma.cpp - contractions as Hopper wgmma -----------------===//
//
// Layouts follow the PTX ISA's "Asynchronous Warpgroup Level Matrix
// Instructions": the shared-memory matrix descriptor (start address, leading
// and stride byte offsets, each without its low 4 bits; swizzle 0), the
// canonical K-major layout without swizzling (core matrices of 8 rows x 16
// bytes stored contiguously; the leading byte offset steps along k, the
// stride byte offset along the rows), and the accumulator fragment of
// m64nNk*: warp w of the warpgroup holds rows 16w..16w+15, lane l with group
// g = l / 4 and t = l % 4 holding, for each 8 columns j, registers 4j..4j+3
// at (g, 8j + 2t), (g, 8j + 2t + 1), (g + 8, 8j + 2t), (g + 8, 8j + 2t + 1).
//
//===----------------------------------------------------------------------===//

#include "passes/GpuWarpgroupMma.h"
#include "passes/LinalgHelpers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::linac;

namespace {

constexpr int64_t kWarpgroupSize = 128;
constexpr int64_t kRowsPerTile = 64;
/// Columns of one instruction: 32 fp32 accumulators a thread, within the
/// kernels' register budget.
constexpr int64_t kMaxColumnsPerTile = 64;
constexpr int64_t kMaxScratchBytes = 32 * 1024;
/// A core matrix: 8 rows of 16 bytes.
constexpr int64_t kCoreRowBytes = 16;
constexpr int64_t kCoreMatrixBytes = 8 * kCoreRowBytes;

int64_t roundUp(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

/// How one contraction runs on warpgroups.
struct WarpgroupPlan {
  /// The contraction with m the side of 64-row multiples (the operands
  /// swapped where that is n: C^T = B^T A^T).
  Contraction contraction;
  Type element;                 // bf16, f16 or f32 (tf32)
  int64_t elementBytes;         // 2 or 4
  int64_t kStep;                // k of one instruction: 16, or 8 for tf32
  int64_t rows, columns, depth; // m, n and k, padded
  int64_t columnsPerTile;

  /// Elements along k in one 16-byte core-matrix row.
  int64_t coreRowElements() const { return kCoreRowBytes / elementBytes; }
  int64_t operandBytes(int64_t operandRows) const {
    return operandRows * depth * elementBytes;
  }
  int64_t scratchBytes() const {
    return operandBytes(rows) + operandBytes(columns);
  }
  /// Bytes between two groups of 8 rows of an operand (the descriptor's
  /// stride byte offset): the groups' core matrices for every k in between.
  int64_t rowGroupBytes() const { return 8 * depth * elementBytes; }
};

std::optional<WarpgroupPlan> planWarpgroupMma(linalg::LinalgOp op,
                                              int64_t blockSize,
                                              TensorCoreInputs inputs) {
  if (inputs == TensorCoreInputs::none || blockSize % kWarpgroupSize != 0)
    return std::nullopt;
  std::optional<Contraction> contraction = matchContraction(op);
  if (!contraction)
    return std::nullopt;
  std::optional<int64_t> m = loopUpperBound(op, contraction->m),
                         n = loopUpperBound(op, contraction->n),
                         k = loopUpperBound(op, contraction->k);
  if (!m || !n || !k || *m <= 0 || *n <= 0 || *k <= 0)
    return std::nullopt;
  if (*m % kRowsPerTile != 0 && *n % kRowsPerTile == 0) {
    std::swap(contraction->m, contraction->n);
    std::swap(contraction->lhs, contraction->rhs);
    std::swap(m, n);
  }
  if (*m % kRowsPerTile != 0)
    return std::nullopt;
  // A decode step's single row or token would fill 1 of 8 columns or
  // reduction steps: mma.sync, or the CUDA cores, waste less.
  Type element = tensorCoreElementType(*contraction, inputs);
  int64_t kStep = element.isF32() ? 8 : 16;
  if (*n < 8 || *k < kStep)
    return std::nullopt;
  WarpgroupPlan plan;
  plan.contraction = *contraction;
  plan.element = element;
  plan.elementBytes = element.getIntOrFloatBitWidth() / 8;
  plan.kStep = kStep;
  plan.rows = *m;
  plan.columns = roundUp(*n, 8);
  plan.depth = roundUp(*k, plan.kStep);
  plan.columnsPerTile = std::min(plan.columns, kMaxColumnsPerTile);
  if (plan.columns % plan.columnsPerTile != 0 ||
      plan.scratchBytes() > kMaxScratchBytes)
    return std::nullopt;
  return plan;
}

/// Builds the copies and tiles of one contraction.
struct WarpgroupBuilder {
  OpBuilder &b;
  Location loc;
  const WarpgroupPlan &plan;
  linalg::LinalgOp op;
  Value threadId;
  int64_t blockSize;
  // Sizes of the loop dimensions (by position).
  SmallVector<Value> sizes;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i64(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
  }

  /// `i < size of dim`, or null where the padded bound is that size.
  Value below(Value i, unsigned dim, int64_t bound) {
    return belowSize(b, loc, i, sizes[dim], bound);
  }
  Value both(Value x, Value y) { return bothChecks(b, loc, x, y); }

  /// The indices of an operand (map `map`) at loop point {dim: value}.
  static SmallVector<Value>
  indicesAt(AffineMap map, ArrayRef<std::pair<unsigned, Value>> point) {
    SmallVector<Value> indices;
    for (unsigned r = 0; r < map.getNumResults(); ++r)
      for (auto [dim, value] : point)
        if (map.getDimPosition(r) == dim)
          indices.push_back(value);
    return indices;
  }

  Value loadOrZero(Value inBounds, Type type,
                   function_ref<Value(OpBuilder &)> load) {
    return linac::loadOrZero(b, loc, inBounds, type, load);
  }

  /// A typed view of `elements` elements of the scratch buffer from byte
  /// `offset`.
  Value scratchView(Value scratch, int64_t offset, int64_t elements) {
    auto type = cast<MemRefType>(scratch.getType());
    auto viewType =
        MemRefType::get({elements}, plan.element, MemRefLayoutAttrInterface(),
                        type.getMemorySpace());
    return memref::ViewOp::create(b, loc, viewType, scratch, index(offset),
                                  ValueRange{});
  }

  /// Copies operand `operand` (its rows along loop dimension `rowDim`,
  /// `operandRows` of them padded) into `target` in the core-matrix layout:
  /// element (r, k) at ((r / 8) * (depth / e) + k / e) * 8e + (r % 8) * e +
  /// k % e, e the elements of a 16-byte row. The threads walk the target in
  /// order (conflict-free stores); what lies past the sizes is zero.
  void copyToCoreMatrices(OpOperand *operand, unsigned rowDim,
                          int64_t operandRows, Value target) {
    const Contraction &c = plan.contraction;
    AffineMap map = op.getMatchingIndexingMap(operand);
    int64_t e = plan.coreRowElements();
    int64_t total = operandRows * plan.depth;
    auto loop =
        scf::ForOp::create(b, loc, threadId, index(total), index(blockSize));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value at = loop.getInductionVar();
    auto div = [&](Value x, int64_t d) -> Value {
      return arith::DivUIOp::create(b, loc, x, index(d));
    };
    auto rem = [&](Value x, int64_t d) -> Value {
      return arith::RemUIOp::create(b, loc, x, index(d));
    };
    auto mulAdd = [&](Value x, int64_t f, Value y) -> Value {
      return arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, x, index(f)), y);
    };
    Value kInRow = rem(at, e);
    Value rowInGroup = rem(div(at, e), 8);
    Value kGroup = rem(div(at, 8 * e), plan.depth / e);
    Value rowGroup = div(at, 8 * plan.depth);
    Value row = mulAdd(rowGroup, 8, rowInGroup);
    Value k = mulAdd(kGroup, e, kInRow);
    Value inBounds =
        both(below(row, rowDim, operandRows), below(k, c.k, plan.depth));
    Value value = loadOrZero(inBounds, plan.element, [&](OpBuilder &ob) {
      Value loaded = memref::LoadOp::create(
          ob, loc, operand->get(), indicesAt(map, {{rowDim, row}, {c.k, k}}));
      return convertFloat(ob, loc, loaded, plan.element);
    });
    memref::StoreOp::create(b, loc, value, target, at);
  }

  /// The matrix descriptor of the core matrices at shared address `base` +
  /// `offset`, whose 8-row groups lie rowGroupBytes apart and whose core
  /// matrices along k are neighbours (128 bytes apart).
  Value descriptor(Value base, int64_t offset) {
    Value address = arith::AddIOp::create(b, loc, base, i64(offset));
    Value start = arith::ShRUIOp::create(
        b, loc, arith::AndIOp::create(b, loc, address, i64(0x3FFFF)), i64(4));
    int64_t fields =
        ((kCoreMatrixBytes >> 4) << 16) | ((plan.rowGroupBytes() >> 4) << 32);
    return arith::OrIOp::create(b, loc, start, i64(fields));
  }

  /// The shared-memory address of `view` as an i64.
  Value addressOf(Value view) {
    Value pointer =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, view);
    return arith::IndexCastUIOp::create(b, loc, b.getI64Type(), pointer);
  }

  NVVM::WGMMATypes wgmmaType() const {
    if (plan.element.isBF16())
      return NVVM::WGMMATypes::bf16;
    if (plan.element.isF16())
      return NVVM::WGMMATypes::f16;
    return NVVM::WGMMATypes::tf32;
  }

  /// The warpgroups' loop over 64-row tiles.
  void buildTiles(Value lhsBase, Value rhsBase) {
    const Contraction &c = plan.contraction;
    AffineMap outMap = op.getMatchingIndexingMap(c.out);
    Value out = c.out->get();
    Value inGroup =
        arith::RemUIOp::create(b, loc, threadId, index(kWarpgroupSize));
    Value warpgroup =
        arith::DivUIOp::create(b, loc, threadId, index(kWarpgroupSize));
    Value warp = arith::DivUIOp::create(b, loc, inGroup, index(32));
    Value lane = arith::RemUIOp::create(b, loc, inGroup, index(32));
    Value group = arith::DivUIOp::create(b, loc, lane, index(4));
    Value twiceInGroup = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, lane, index(4)), index(2));
    auto tiles =
        scf::ForOp::create(b, loc, warpgroup, index(plan.rows / kRowsPerTile),
                           index(blockSize / kWarpgroupSize));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(tiles.getBody());
    Value tile = tiles.getInductionVar();
    Value row0 = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, tile, index(kRowsPerTile)),
        arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, warp, index(16)), group));
    Value row8 = arith::AddIOp::create(b, loc, row0, index(8));
    // The tile's A descriptor moves by its 8 row groups.
    Value tileOffset = arith::IndexCastUIOp::create(
        b, loc, b.getI64Type(),
        arith::MulIOp::create(b, loc, tile,
                              index(kRowsPerTile / 8 * plan.rowGroupBytes())));
    Value tileBase = arith::AddIOp::create(b, loc, lhsBase, tileOffset);

    Type f32 = b.getF32Type();
    int64_t registers = plan.columnsPerTile / 2;
    auto accumulatorType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(registers, f32));
    MLIRContext *ctx = b.getContext();
    for (int64_t first = 0; first < plan.columns;
         first += plan.columnsPerTile) {
      // The accumulators' positions and masks.
      SmallVector<std::pair<Value, Value>> positions;
      for (int64_t j = 0; j < plan.columnsPerTile / 8; ++j) {
        Value col0 =
            arith::AddIOp::create(b, loc, twiceInGroup, index(first + 8 * j));
        Value col1 = arith::AddIOp::create(b, loc, col0, index(1));
        for (auto position : {std::pair(row0, col0), std::pair(row0, col1),
                              std::pair(row8, col0), std::pair(row8, col1)})
          positions.push_back(position);
      }
      SmallVector<Value> masks;
      Value accumulators = LLVM::UndefOp::create(b, loc, accumulatorType);
      for (auto [i, position] : llvm::enumerate(positions)) {
        auto [r, col] = position;
        masks.push_back(
            both(below(r, c.m, plan.rows), below(col, c.n, plan.columns)));
        SmallVector<Value> indices = indicesAt(outMap, {{c.m, r}, {c.n, col}});
        Value value = loadOrZero(masks.back(), f32, [&](OpBuilder &ob) {
          return memref::LoadOp::create(ob, loc, out, indices).getResult();
        });
        // out -= A B: the products accumulate into the negated output.
        if (c.subtract)
          value = arith::NegFOp::create(b, loc, value);
        accumulators = LLVM::InsertValueOp::create(
            b, loc, accumulators, value, ArrayRef<int64_t>{(int64_t)i});
      }
      // The registers are written: fence them before the asynchronous
      // products read them.
      NVVM::WgmmaFenceAlignedOp::create(b, loc);
      auto shape = NVVM::MMAShapeAttr::get(ctx, kRowsPerTile,
                                           plan.columnsPerTile, plan.kStep);
      auto type = NVVM::WGMMATypesAttr::get(ctx, wgmmaType());
      auto one = NVVM::WGMMAScaleInAttr::get(ctx, NVVM::WGMMAScaleIn::one);
      int64_t columnsOffset = first / 8 * plan.rowGroupBytes();
      // Each instruction's k covers two core matrices (16 bytes each row).
      int64_t stepBytes = 2 * kCoreMatrixBytes;
      for (int64_t step = 0; step < plan.depth / plan.kStep; ++step)
        accumulators = NVVM::WgmmaMmaAsyncOp::create(
            b, loc, accumulatorType, accumulators,
            descriptor(tileBase, step * stepBytes),
            descriptor(rhsBase, columnsOffset + step * stepBytes), shape, type,
            type, NVVM::WGMMATypesAttr::get(ctx, NVVM::WGMMATypes::f32),
            NVVM::WGMMAScaleOutAttr::get(ctx, NVVM::WGMMAScaleOut::one), one,
            one, NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::row),
            NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::col),
            /*satfinite=*/nullptr);
      NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
      NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
      for (auto [i, position] : llvm::enumerate(positions)) {
        auto [r, col] = position;
        Value value = LLVM::ExtractValueOp::create(
            b, loc, accumulators, ArrayRef<int64_t>{(int64_t)i});
        if (c.subtract)
          value = arith::NegFOp::create(b, loc, value);
        storeIfInBounds(b, loc, masks[i], value, out,
                        indicesAt(outMap, {{c.m, r}, {c.n, col}}));
      }
    }
  }
};

} // namespace

std::optional<int64_t>
mlir::linac::warpgroupMmaScratchBytes(linalg::LinalgOp op, int64_t blockSize,
                                      TensorCoreInputs inputs) {
  std::optional<WarpgroupPlan> plan = planWarpgroupMma(op, blockSize, inputs);
  if (!plan)
    return std::nullopt;
  return plan->scratchBytes();
}

LogicalResult mlir::linac::distributeOnWarpgroups(linalg::LinalgOp op,
                                                  Value threadId,
                                                  int64_t blockSize,
                                                  TensorCoreInputs inputs,
                                                  Value scratch) {
  std::optional<WarpgroupPlan> plan = planWarpgroupMma(op, blockSize, inputs);
  if (!plan || !scratch)
    return failure();
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Value> sizes;
  for (Range range : op.createLoopRanges(b, loc))
    sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
  WarpgroupBuilder builder{b, loc, *plan, op, threadId, blockSize, sizes};
  const Contraction &c = plan->contraction;
  Value lhs = builder.scratchView(scratch, 0, plan->rows * plan->depth);
  Value rhs = builder.scratchView(scratch, plan->operandBytes(plan->rows),
                                  plan->columns * plan->depth);
  builder.copyToCoreMatrices(c.lhs, c.m, plan->rows, lhs);
  builder.copyToCoreMatrices(c.rhs, c.n, plan->columns, rhs);
  // The copies are generic-proxy stores; wgmma reads through the async
  // proxy.
  NVVM::FenceProxyOp::create(
      b, loc,
      NVVM::ProxyKindAttr::get(b.getContext(), NVVM::ProxyKind::async_shared),
      NVVM::SharedSpaceAttr::get(b.getContext(),
                                 NVVM::SharedSpace::shared_cta));
  gpu::BarrierOp::create(b, loc);
  builder.buildTiles(builder.addressOf(lhs), builder.addressOf(rhs));
  op->erase();
  return success();
}
