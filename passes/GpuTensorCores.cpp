//===- GpuTensorCores.cpp - contractions as warp-level mma.sync ----------===//
//
// Fragment layouts follow the PTX ISA's "Matrix fragments for mma.m16n8k16"
// (bf16/f16) and "mma.m16n8k8" (tf32): lane l has group g = l / 4 and
// thread-in-group t = l % 4. The products are nvvm.mma.sync on 32-bit
// registers (MLIR 22's nvgpu.mma.sync has no bf16 lowering).
//
//===----------------------------------------------------------------------===//

#include "passes/GpuTensorCores.h"
#include "passes/GpuSharedPadding.h"
#include "passes/LinalgHelpers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::linac;

std::optional<TensorCoreInputs>
mlir::linac::parseTensorCoreInputs(StringRef name) {
  return llvm::StringSwitch<std::optional<TensorCoreInputs>>(name)
      .Case("none", TensorCoreInputs::none)
      .Case("tf32", TensorCoreInputs::tf32)
      .Case("bf16", TensorCoreInputs::bf16)
      .Case("f16", TensorCoreInputs::f16)
      .Default(std::nullopt);
}

namespace {

/// Follows float casts back from `value`.
Value skipCasts(Value value) {
  while (Operation *op = value.getDefiningOp()) {
    if (!isa<arith::ExtFOp, arith::TruncFOp>(op))
      break;
    value = op->getOperand(0);
  }
  return value;
}

/// Whether the payload is `out + a * b` (false) or `out - a * b` (true), `a`
/// and `b` the two inputs through float casts and nothing else (math.exp
/// and the like would change it); nullopt for any other payload.
std::optional<bool> mulAddPayload(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  for (Operation &nested : body->without_terminator())
    if (!isa<arith::ExtFOp, arith::TruncFOp, arith::MulFOp, arith::AddFOp,
             arith::SubFOp>(nested))
      return std::nullopt;
  Value out = body->getArguments().back();
  Value combined = yield.getOperand(0), product;
  bool subtract = false;
  if (auto add = combined.getDefiningOp<arith::AddFOp>()) {
    product = add.getLhs() == out   ? add.getRhs()
              : add.getRhs() == out ? add.getLhs()
                                    : Value();
  } else if (auto sub = combined.getDefiningOp<arith::SubFOp>()) {
    product = sub.getLhs() == out ? sub.getRhs() : Value();
    subtract = true;
  }
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return std::nullopt;
  Value a = skipCasts(mul.getLhs()), b = skipCasts(mul.getRhs());
  if ((a == body->getArgument(0) && b == body->getArgument(1)) ||
      (a == body->getArgument(1) && b == body->getArgument(0)))
    return subtract;
  return std::nullopt;
}

/// An operand's map as the positions of its two loop dimensions.
std::optional<std::pair<unsigned, unsigned>> dimsOf(AffineMap map) {
  if (map.getNumResults() != 2 || !map.isProjectedPermutation())
    return std::nullopt;
  return std::make_pair(map.getDimPosition(0), map.getDimPosition(1));
}

/// The instruction shape and fragment element type of one contraction.
struct MmaKind {
  Type element; // bf16, f16 or f32 (tf32)
  int64_t k;    // 16, or 8 for tf32
  bool tf32() const { return element.isF32(); }
};

/// Builds the warp loop of one contraction.
struct MmaBuilder {
  OpBuilder &b;
  Location loc;
  MmaKind kind;
  // A[m, k] and B[k, n] with their maps' dimension positions.
  Value lhs, rhs, out;
  AffineMap lhsMap, rhsMap, outMap;
  unsigned mDim, nDim, kDim;
  // Dynamic sizes and their padded static bounds.
  Value sizeM, sizeN, sizeK;
  int64_t boundM, boundN, boundK;
  // Whether 16-bit fragments may be loaded with ldmatrix.
  bool ldmatrix;
  // out -= A B: the chain runs on the negated accumulator.
  bool subtract;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, int64_t v) {
    return v == 0 ? x : arith::AddIOp::create(b, loc, x, index(v)).getResult();
  }

  Value below(Value i, Value size, int64_t bound) {
    return belowSize(b, loc, i, size, bound);
  }
  Value both(Value x, Value y) { return bothChecks(b, loc, x, y); }

  /// The indices of `buffer` (map `map`) at loop point (m, n, k).
  SmallVector<Value> indicesAt(AffineMap map, Value m, Value n, Value k) {
    SmallVector<Value> indices;
    for (unsigned r = 0; r < map.getNumResults(); ++r) {
      unsigned d = map.getDimPosition(r);
      indices.push_back(d == mDim ? m : d == nDim ? n : k);
    }
    return indices;
  }

  Value loadOrZero(Value inBounds, Type type,
                   function_ref<Value(OpBuilder &)> load) {
    return linac::loadOrZero(b, loc, inBounds, type, load);
  }

  /// buffer[indices] as `type`, or zero where `inBounds` is false.
  Value loadOrZero(Value buffer, ValueRange indices, Value inBounds,
                   Type type) {
    return loadOrZero(inBounds, type, [&](OpBuilder &ob) {
      return convertFloat(
          ob, loc, memref::LoadOp::create(ob, loc, buffer, indices), type);
    });
  }

  /// Whether the elements at k and k + 1 of `buffer` (map `map`) are
  /// neighbours in shared memory with the pair 4-byte aligned for every even
  /// k: k its innermost index at unit stride, an even row stride and offset
  /// (shared buffers start at multiples of 16 bytes; a double buffer's half
  /// at a run-time position, whose size is even, qualifies).
  bool pairsAlongK(Value buffer, AffineMap map) {
    auto type = cast<MemRefType>(buffer.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    if (!gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type) ||
        map.getNumResults() != 2 || map.getDimPosition(1) != kDim ||
        failed(type.getStridesAndOffset(strides, offset)) ||
        ShapedType::isDynamic(strides[0]))
      return false;
    return strides[1] == 1 && strides[0] % 2 == 0 &&
           offsetIsMultipleOf(buffer, 2);
  }

  /// The 16-bit elements at k and k + 1 of a row (`inBounds` on both) as
  /// one 32-bit fragment register, the first in the low half, in one 4-byte
  /// load; zero where `inBounds` is false.
  Value loadPair(Value buffer, ArrayRef<Value> indices, Value inBounds) {
    auto pairType = VectorType::get({2}, kind.element);
    Type i32 = b.getI32Type();
    return loadOrZero(inBounds, i32, [&](OpBuilder &ob) -> Value {
      Value pair =
          vector::LoadOp::create(ob, loc, pairType, buffer, indices,
                                 /*nontemporal=*/false, llvm::Align(4));
      return LLVM::BitcastOp::create(ob, loc, i32, pair);
    });
  }

  /// How ldmatrix can load the fragments of `buffer` (map `map`), whose
  /// rows (m for A, n for B) are loop dimension `rowDim`: not at all
  /// (nullopt), as stored (false: k contiguous) or transposed (true: the
  /// rows contiguous). Each lane gives the address of one 16-byte row of an
  /// 8x8 matrix of 16-bit elements, so the rows must be 16-byte aligned, and
  /// every element in them must be read: k static; transposed, the rows'
  /// dimension static too (stored, its rows past the size are clamped: see
  /// ldmatrixRow). A tf32 operand's 16-byte rows are 4 fp32, which a lane
  /// receives whole in the fragment's order; transposing would split them.
  std::optional<bool> ldmatrixLayout(Value buffer, AffineMap map,
                                     unsigned rowDim, Value sizeRow,
                                     int64_t boundRow) {
    auto type = cast<MemRefType>(buffer.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    // ldmatrix's matrices have rows of 16 bytes.
    int64_t rowElements = 16 / (kind.tf32() ? 4 : 2);
    if (!ldmatrix || type.getElementType() != kind.element ||
        !gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type) ||
        map.getNumResults() != 2 ||
        failed(type.getStridesAndOffset(strides, offset)) ||
        ShapedType::isDynamic(strides[0]) || strides[1] != 1 ||
        strides[0] % rowElements != 0 ||
        !offsetIsMultipleOf(buffer, rowElements) ||
        getConstantIntValue(sizeK) != boundK)
      return std::nullopt;
    if (map.getDimPosition(1) == kDim)
      return false;
    if (map.getDimPosition(1) == rowDim && !kind.tf32() &&
        getConstantIntValue(sizeRow) == boundRow)
      return true;
    return std::nullopt;
  }

  /// Row `row` of an operand whose rows end at `size` before its padded
  /// bound, or its last row past it: ldmatrix reads whole tiles, and a
  /// row's products land only in the output row (or column) of the same
  /// index, which is not written past the size.
  Value ldmatrixRow(Value row, Value size, int64_t bound) {
    if (getConstantIntValue(size) == bound)
      return row;
    Value last = arith::SubIOp::create(
        b, loc, arith::MaxUIOp::create(b, loc, size, index(1)), index(1));
    return arith::MinUIOp::create(b, loc, row, last);
  }

  /// `tiles` 8x8 matrices of 16-bit elements (8x4 of tf32) in one ldmatrix
  /// (transposed when `transpose`), lane l giving the address `indices` of
  /// row l % 8 of matrix l / 8; each matrix's part of the lane as one 32-bit
  /// register.
  SmallVector<Value> loadMatrices(Value buffer, ValueRange indices,
                                  int64_t tiles, bool transpose) {
    auto type = VectorType::get({tiles, kind.tf32() ? 1 : 2}, kind.element);
    Value loaded = nvgpu::LdMatrixOp::create(b, loc, type, buffer, indices,
                                             transpose, tiles);
    SmallVector<Value> registers;
    for (int64_t i = 0; i < tiles; ++i)
      registers.push_back(LLVM::BitcastOp::create(
          b, loc, b.getI32Type(),
          vector::ExtractOp::create(b, loc, loaded, ArrayRef<int64_t>{i})));
    return registers;
  }

  /// One 32-bit fragment register: an f32 (tf32) as its bits, or two
  /// 16-bit values, the first in the low half.
  Value packRegister(ArrayRef<Value> values) {
    Type i32 = b.getI32Type();
    if (values.size() == 1)
      return arith::BitcastOp::create(b, loc, i32, values[0]);
    Type i16 = b.getI16Type();
    auto widen = [&](Value half) -> Value {
      return arith::ExtUIOp::create(
          b, loc, i32, arith::BitcastOp::create(b, loc, i16, half));
    };
    Value high =
        arith::ShLIOp::create(b, loc, widen(values[1]),
                              arith::ConstantIntOp::create(b, loc, i32, 16));
    return arith::OrIOp::create(b, loc, widen(values[0]), high);
  }

  // Per-lane positions, set by build(): lane l's group g = l / 4 and
  // thread-in-group t = l % 4 (2t in `twiceInGroup`); for ldmatrix, the
  // lane's row of its matrix (l % 8) and where that matrix lies in the
  // tile (see build()).
  Value group, inGroup, twiceInGroup, laneRow, matrixRowOffset, matrixKOffset,
      matrixKHalf;
  // How ldmatrix loads each operand (see ldmatrixLayout), and whether a
  // 16-bit register's two halves are one 4-byte load (see pairsAlongK).
  std::optional<bool> lhsMatrices, rhsMatrices;
  bool lhsPairs = false, rhsPairs = false;

  Value lhsAt(Value m, Value k) {
    Value mask = both(below(m, sizeM, boundM), below(k, sizeK, boundK));
    return loadOrZero(lhs, indicesAt(lhsMap, m, Value(), k), mask,
                      kind.element);
  }
  Value rhsAt(Value k, Value n) {
    Value mask = both(below(k, sizeK, boundK), below(n, sizeN, boundN));
    return loadOrZero(rhs, indicesAt(rhsMap, Value(), n, k), mask,
                      kind.element);
  }

  /// One operand's matrices, from lane l's row of its tile (`row`, at k
  /// `k`): stored, the lane's row moves by l % 8 (clamped to the size);
  /// transposed, its k does.
  SmallVector<Value> operandMatrices(Value buffer, AffineMap map,
                                     bool transposed, Value row, Value k,
                                     Value size, int64_t bound, bool isLhs,
                                     int64_t tiles) {
    if (transposed)
      k = arith::AddIOp::create(b, loc, k, laneRow);
    else
      row =
          ldmatrixRow(arith::AddIOp::create(b, loc, row, laneRow), size, bound);
    SmallVector<Value> indices = isLhs ? indicesAt(map, row, Value(), k)
                                       : indicesAt(map, Value(), row, k);
    return loadMatrices(buffer, indices, tiles, transposed);
  }

  /// f16 fragments are typed as pairs of halves, bf16 and tf32 ones as i32.
  SmallVector<Value> asMultiplicands(SmallVector<Value> registers) {
    if (kind.element.isF16())
      for (Value &reg : registers)
        reg = LLVM::BitcastOp::create(b, loc,
                                      VectorType::get({2}, kind.element), reg);
    return registers;
  }

  /// The lane's A fragment of the 16-row tile at `rowBase`, k step at
  /// `kBase`.
  SmallVector<Value> lhsFragment(Value rowBase, Value kBase) {
    // ldmatrix: A's four matrices are the tile's rows 0-7 and 8-15 at the
    // first half of the instruction's k (0-7, or 0-3 in tf32), then at the
    // second (a0..a3).
    if (lhsMatrices)
      return asMultiplicands(operandMatrices(
          lhs, lhsMap, *lhsMatrices,
          arith::AddIOp::create(b, loc, rowBase, matrixRowOffset),
          arith::AddIOp::create(b, loc, kBase, matrixKOffset), sizeM, boundM,
          /*isLhs=*/true, 4));
    Value row0 = arith::AddIOp::create(b, loc, rowBase, group);
    Value row1 = add(row0, 8);
    SmallVector<Value> registers;
    if (kind.tf32()) {
      // (g, t) (g+8, t) (g, t+4) (g+8, t+4).
      Value k0 = arith::AddIOp::create(b, loc, kBase, inGroup);
      Value k4 = add(k0, 4);
      for (auto [m, k] : {std::pair(row0, k0), std::pair(row1, k0),
                          std::pair(row0, k4), std::pair(row1, k4)})
        registers.push_back(packRegister({lhsAt(m, k)}));
      return registers;
    }
    // (g, 2t..2t+1) (g+8, 2t..) (g, 2t+8..) (g+8, 2t+8..).
    Value k0 = arith::AddIOp::create(b, loc, kBase, twiceInGroup);
    Value k8 = add(k0, 8);
    for (auto [m, k] : {std::pair(row0, k0), std::pair(row1, k0),
                        std::pair(row0, k8), std::pair(row1, k8)})
      registers.push_back(
          lhsPairs ? loadPair(lhs, indicesAt(lhsMap, m, Value(), k),
                              below(m, sizeM, boundM))
                   : packRegister({lhsAt(m, k), lhsAt(m, add(k, 1))}));
    return asMultiplicands(registers);
  }

  /// The lane's B fragment of the 8-column tile at `colBase`, k step at
  /// `kBase`.
  SmallVector<Value> rhsFragment(Value colBase, Value kBase) {
    // ldmatrix: B's two matrices are the two halves of k (b0, b1); lanes
    // 16-31 repeat the addresses of 0-15 (x2 ignores them).
    if (rhsMatrices)
      return asMultiplicands(operandMatrices(
          rhs, rhsMap, *rhsMatrices, colBase,
          arith::AddIOp::create(b, loc, kBase, matrixKHalf), sizeN, boundN,
          /*isLhs=*/false, 2));
    Value column = arith::AddIOp::create(b, loc, colBase, group);
    SmallVector<Value> registers;
    if (kind.tf32()) {
      // (t, g) (t+4, g).
      Value k0 = arith::AddIOp::create(b, loc, kBase, inGroup);
      for (Value k : {k0, add(k0, 4)})
        registers.push_back(packRegister({rhsAt(k, column)}));
      return registers;
    }
    // (2t..2t+1, g) (2t+8..2t+9, g).
    Value k0 = arith::AddIOp::create(b, loc, kBase, twiceInGroup);
    for (Value k : {k0, add(k0, 8)})
      registers.push_back(
          rhsPairs
              ? loadPair(rhs, indicesAt(rhsMap, Value(), column, k),
                         below(column, sizeN, boundN))
              : packRegister({rhsAt(k, column), rhsAt(add(k, 1), column)}));
    return asMultiplicands(registers);
  }

  /// accumulator + a * b, one m16n8 tile: its four fp32 sums.
  SmallVector<Value> mma(ArrayRef<Value> a, ArrayRef<Value> bFragment,
                         ValueRange accumulator) {
    NVVM::MMATypes ptxType = kind.tf32()            ? NVVM::MMATypes::tf32
                             : kind.element.isF16() ? NVVM::MMATypes::f16
                                                    : NVVM::MMATypes::bf16;
    Type f32 = b.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(4, f32));
    Value result =
        NVVM::MmaOp::create(b, loc, resultType, a, bFragment, accumulator,
                            /*shape=*/ArrayRef<int64_t>{16, 8, kind.k},
                            /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
                            /*multiplicandPtxTypes=*/
                            std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
                            /*multiplicandLayouts=*/
                            std::array<NVVM::MMALayout, 2>{
                                NVVM::MMALayout::row, NVVM::MMALayout::col});
    SmallVector<Value> sums;
    for (int64_t i = 0; i < 4; ++i)
      sums.push_back(LLVM::ExtractValueOp::create(b, loc, result, i));
    return sums;
  }

  /// The block's warps take groups of `tiling` tiles in turn; each runs its
  /// group's mma chains over k together.
  void build(Value threadId, int64_t blockSize, WarpTiling tiling) {
    int64_t numWarps = blockSize / 32;
    Value lane = arith::RemUIOp::create(b, loc, threadId, index(32));
    Value warp = arith::DivUIOp::create(b, loc, threadId, index(32));
    group = arith::DivUIOp::create(b, loc, lane, index(4));
    inGroup = arith::RemUIOp::create(b, loc, lane, index(4));
    twiceInGroup = arith::MulIOp::create(b, loc, inGroup, index(2));
    // ldmatrix: lane l addresses row l % 8 of matrix l / 8.
    lhsMatrices = ldmatrixLayout(lhs, lhsMap, mDim, sizeM, boundM);
    rhsMatrices = ldmatrixLayout(rhs, rhsMap, nDim, sizeN, boundN);
    laneRow = arith::RemUIOp::create(b, loc, lane, index(8));
    Value laneMatrix = arith::DivUIOp::create(b, loc, lane, index(8));
    matrixRowOffset = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, laneMatrix, index(2)), index(8));
    matrixKOffset = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, laneMatrix, index(2)),
        index(kind.k / 2));
    matrixKHalf = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, laneMatrix, index(2)),
        index(kind.k / 2));
    // Where k is static (no bound on it) and the operand's rows run along
    // k, a 16-bit register's two halves are one 4-byte load.
    bool staticK = getConstantIntValue(sizeK) == boundK;
    lhsPairs = !kind.tf32() && staticK && pairsAlongK(lhs, lhsMap);
    rhsPairs = !kind.tf32() && staticK && pairsAlongK(rhs, rhsMap);

    int64_t groupsN = boundN / 8 / tiling.groupN;
    int64_t groups = boundM / 16 / tiling.groupM * groupsN;
    auto groupLoop =
        scf::ForOp::create(b, loc, warp, index(groups), index(numWarps));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(groupLoop.getBody());
    Value groupIndex = groupLoop.getInductionVar();
    Value groupRow = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, groupIndex, index(groupsN)),
        index(16 * tiling.groupM));
    Value groupCol = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, groupIndex, index(groupsN)),
        index(8 * tiling.groupN));
    SmallVector<Value> rowBases, colBases;
    for (int64_t i = 0; i < tiling.groupM; ++i)
      rowBases.push_back(add(groupRow, 16 * i));
    for (int64_t j = 0; j < tiling.groupN; ++j)
      colBases.push_back(add(groupCol, 8 * j));

    // Each tile's accumulator: c0..c3 at rows g, g, g + 8, g + 8 and
    // columns 2t, 2t + 1, 2t, 2t + 1 (tile i * groupN + j, element e at
    // 4 * tile + e). A split k's other sets start at zero.
    Type f32 = b.getF32Type();
    SmallVector<std::pair<Value, Value>> accPositions;
    for (Value rowBase : rowBases) {
      for (Value colBase : colBases) {
        Value row0 = arith::AddIOp::create(b, loc, rowBase, group);
        Value col0 = arith::AddIOp::create(b, loc, colBase, twiceInGroup);
        Value row1 = add(row0, 8), col1 = add(col0, 1);
        accPositions.append(
            {{row0, col0}, {row0, col1}, {row1, col0}, {row1, col1}});
      }
    }
    SmallVector<Value> accMasks, initial;
    for (auto [r, c] : accPositions) {
      Value mask = both(below(r, sizeM, boundM), below(c, sizeN, boundN));
      accMasks.push_back(mask);
      Value acc = loadOrZero(out, indicesAt(outMap, r, c, Value()), mask, f32);
      initial.push_back(subtract ? arith::NegFOp::create(b, loc, acc) : acc);
    }
    int64_t perSet = initial.size();
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    for (int64_t set = 1; set < tiling.splitK; ++set)
      initial.append(perSet, zero);

    auto kLoop = scf::ForOp::create(b, loc, index(0), index(boundK),
                                    index(kind.k * tiling.splitK), initial);
    {
      OpBuilder::InsertionGuard kGuard(b);
      b.setInsertionPointToStart(kLoop.getBody());
      ValueRange sums = kLoop.getRegionIterArgs();
      SmallVector<Value> next;
      for (int64_t set = 0; set < tiling.splitK; ++set) {
        Value kBase = add(kLoop.getInductionVar(), set * kind.k);
        // Every fragment first, then the group's independent products.
        SmallVector<SmallVector<Value>> aFragments, bFragments;
        for (Value rowBase : rowBases)
          aFragments.push_back(lhsFragment(rowBase, kBase));
        for (Value colBase : colBases)
          bFragments.push_back(rhsFragment(colBase, kBase));
        for (auto [i, a] : llvm::enumerate(aFragments)) {
          for (auto [j, bFragment] : llvm::enumerate(bFragments)) {
            int64_t first = set * perSet + 4 * (i * tiling.groupN + j);
            llvm::append_range(next, mma(a, bFragment, sums.slice(first, 4)));
          }
        }
      }
      scf::YieldOp::create(b, loc, next);
    }

    // Sum the sets, and write back the tiles' elements inside the output.
    for (auto [e, position] : llvm::enumerate(accPositions)) {
      auto [r, c] = position;
      Value element = kLoop.getResult(e);
      for (int64_t set = 1; set < tiling.splitK; ++set)
        element = arith::AddFOp::create(b, loc, element,
                                        kLoop.getResult(set * perSet + e));
      if (subtract)
        element = arith::NegFOp::create(b, loc, element);
      storeIfInBounds(b, loc, accMasks[e], element, out,
                      indicesAt(outMap, r, c, Value()));
    }
  }
};

int64_t roundUp(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

} // namespace

Value mlir::linac::loadOrZero(OpBuilder &b, Location loc, Value inBounds,
                              Type type,
                              function_ref<Value(OpBuilder &)> load) {
  if (!inBounds)
    return load(b);
  auto guarded = scf::IfOp::create(
      b, loc, inBounds,
      [&](OpBuilder &tb, Location) { scf::YieldOp::create(tb, loc, load(tb)); },
      [&](OpBuilder &eb, Location) {
        Value zero = arith::ConstantOp::create(eb, loc, eb.getZeroAttr(type));
        scf::YieldOp::create(eb, loc, zero);
      });
  return guarded.getResult(0);
}

Value mlir::linac::belowSize(OpBuilder &b, Location loc, Value i, Value size,
                             int64_t bound) {
  if (getConstantIntValue(size) == bound)
    return Value();
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, i, size);
}

Value mlir::linac::bothChecks(OpBuilder &b, Location loc, Value x, Value y) {
  if (!x || !y)
    return x ? x : y;
  return arith::AndIOp::create(b, loc, x, y);
}

void mlir::linac::storeIfInBounds(OpBuilder &b, Location loc, Value inBounds,
                                  Value value, Value buffer,
                                  ValueRange indices) {
  if (!inBounds) {
    memref::StoreOp::create(b, loc, value, buffer, indices);
    return;
  }
  auto store = scf::IfOp::create(b, loc, inBounds, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(store.thenBlock());
  memref::StoreOp::create(b, loc, value, buffer, indices);
}

std::optional<Contraction> mlir::linac::matchContraction(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !op.hasPureBufferSemantics() || op.getNumLoops() != 3 ||
      op.getNumReductionLoops() != 1)
    return std::nullopt;
  std::optional<bool> subtract = mulAddPayload(op);
  if (!subtract)
    return std::nullopt;
  OpOperand *init = op.getDpsInitOperand(0);
  auto outType = cast<MemRefType>(init->get().getType());
  if (!outType.getElementType().isF32())
    return std::nullopt;
  auto outDims = dimsOf(op.getMatchingIndexingMap(init));
  auto dims0 = dimsOf(op.getMatchingIndexingMap(op.getDpsInputOperand(0)));
  auto dims1 = dimsOf(op.getMatchingIndexingMap(op.getDpsInputOperand(1)));
  if (!outDims || !dims0 || !dims1)
    return std::nullopt;
  // m and n: the output's rows and columns; k: the reduction.
  unsigned m = outDims->first, n = outDims->second;
  unsigned k = 3 - m - n;
  auto has = [](std::pair<unsigned, unsigned> dims, unsigned d) {
    return dims.first == d || dims.second == d;
  };
  OpOperand *lhs = op.getDpsInputOperand(0), *rhs = op.getDpsInputOperand(1);
  if (has(*dims0, n))
    std::swap(lhs, rhs);
  auto lhsDims = dimsOf(op.getMatchingIndexingMap(lhs));
  auto rhsDims = dimsOf(op.getMatchingIndexingMap(rhs));
  if (!has(*lhsDims, m) || !has(*lhsDims, k) || !has(*rhsDims, n) ||
      !has(*rhsDims, k))
    return std::nullopt;
  return Contraction{lhs, rhs, init, m, n, k, *subtract};
}

bool mlir::linac::fillsTensorCoreTiles(linalg::LinalgOp op,
                                       const Contraction &contraction) {
  std::optional<int64_t> boundM = loopUpperBound(op, contraction.m),
                         boundN = loopUpperBound(op, contraction.n);
  return boundM && boundN && *boundM >= 8 && *boundN >= 8;
}

Type mlir::linac::tensorCoreElementType(const Contraction &contraction,
                                        TensorCoreInputs inputs) {
  auto elementOf = [](OpOperand *operand) {
    return cast<MemRefType>(operand->get().getType()).getElementType();
  };
  MLIRContext *ctx = contraction.out->get().getContext();
  Type narrow = inputs == TensorCoreInputs::bf16  ? Type(BFloat16Type::get(ctx))
                : inputs == TensorCoreInputs::f16 ? Type(Float16Type::get(ctx))
                                                  : Type();
  if (inputs == TensorCoreInputs::none)
    return Type();
  if (narrow && elementOf(contraction.lhs) == narrow &&
      elementOf(contraction.rhs) == narrow)
    return narrow;
  return Float32Type::get(ctx);
}

std::optional<int64_t> mlir::linac::loopUpperBound(linalg::LinalgOp op,
                                                   unsigned dim) {
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (unsigned r = 0; r < map.getNumResults(); ++r)
      if (auto expr = dyn_cast<AffineDimExpr>(map.getResult(r));
          expr && expr.getPosition() == dim)
        return staticUpperBound(operand.get(), r);
  }
  return std::nullopt;
}

WarpTiling mlir::linac::chooseWarpTiling(int64_t tilesM, int64_t tilesN,
                                         int64_t kSteps, int64_t numWarps) {
  int64_t share = (tilesM * tilesN + numWarps - 1) / numWarps;
  int64_t most = std::min<int64_t>(share, 8);
  WarpTiling best;
  // A k step loads 4 registers an A fragment, 2 a B fragment.
  auto registers = [](int64_t m, int64_t n) { return 4 * m + 2 * n; };
  for (int64_t m = 1; m <= tilesM; ++m) {
    for (int64_t n = 1; n <= tilesN; ++n) {
      if (tilesM % m != 0 || tilesN % n != 0 || m * n > most)
        continue;
      int64_t size = m * n, bestSize = best.groupM * best.groupN;
      if (size > bestSize ||
          (size == bestSize &&
           registers(m, n) < registers(best.groupM, best.groupN))) {
        best.groupM = m;
        best.groupN = n;
      }
    }
  }
  int64_t size = best.groupM * best.groupN;
  if (size == 1 && kSteps >= 16 && kSteps % 4 == 0)
    best.splitK = 4;
  else if (size <= 2 && kSteps >= 8 && kSteps % 2 == 0)
    best.splitK = 2;
  return best;
}

LogicalResult
mlir::linac::distributeOnTensorCores(linalg::LinalgOp op, Value threadId,
                                     int64_t blockSize, TensorCoreInputs inputs,
                                     bool ldmatrix, bool groupTiles) {
  // mma.sync needs whole warps.
  if (inputs == TensorCoreInputs::none || blockSize % 32 != 0)
    return failure();
  std::optional<Contraction> contraction = matchContraction(op);
  if (!contraction)
    return failure();
  auto [lhs, rhs, init, m, n, k, subtract] = *contraction;

  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Range> ranges = op.createLoopRanges(b, loc);
  std::optional<int64_t> boundM = staticUpperBound(ranges[m].size),
                         boundN = staticUpperBound(ranges[n].size),
                         boundK = staticUpperBound(ranges[k].size);
  // Decode steps (one row) waste the 16-row instruction: leave them.
  if (!boundM || !boundN || !boundK ||
      !fillsTensorCoreTiles(op, *contraction)) {
    return failure();
  }

  Type element = tensorCoreElementType(*contraction, inputs);
  MmaKind kind{element, element.isF32() ? 8 : 16};

  MmaBuilder builder{b,
                     loc,
                     kind,
                     lhs->get(),
                     rhs->get(),
                     init->get(),
                     op.getMatchingIndexingMap(lhs),
                     op.getMatchingIndexingMap(rhs),
                     op.getMatchingIndexingMap(init),
                     m,
                     n,
                     k,
                     getValueOrCreateConstantIndexOp(b, loc, ranges[m].size),
                     getValueOrCreateConstantIndexOp(b, loc, ranges[n].size),
                     getValueOrCreateConstantIndexOp(b, loc, ranges[k].size),
                     roundUp(*boundM, 16),
                     roundUp(*boundN, 8),
                     roundUp(*boundK, kind.k),
                     ldmatrix,
                     subtract};
  int64_t tilesM = roundUp(*boundM, 16) / 16, tilesN = roundUp(*boundN, 8) / 8;
  builder.build(threadId, blockSize,
                groupTiles ? chooseWarpTiling(tilesM, tilesN,
                                              roundUp(*boundK, kind.k) / kind.k,
                                              blockSize / 32)
                           : WarpTiling{});
  op->erase();
  return success();
}
