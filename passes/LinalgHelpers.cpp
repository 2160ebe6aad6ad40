//===- LinalgHelpers.cpp - small linalg builders shared by passes --------===//

#include "passes/LinalgHelpers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;

std::optional<int64_t> linac::staticUpperBound(OpFoldResult size) {
  if (std::optional<int64_t> constant = getConstantIntValue(size))
    return constant;
  auto value = dyn_cast<Value>(size);
  if (!value)
    return std::nullopt;
  if (auto dim = value.getDefiningOp<memref::DimOp>()) {
    std::optional<int64_t> index = dim.getConstantIndex();
    if (!index)
      return std::nullopt;
    return staticUpperBound(dim.getSource(), *index);
  }
  Operation *op = value.getDefiningOp();
  if (isa_and_nonnull<arith::MinSIOp, arith::MinUIOp>(op)) {
    std::optional<int64_t> lhs = staticUpperBound(op->getOperand(0));
    std::optional<int64_t> rhs = staticUpperBound(op->getOperand(1));
    if (lhs && rhs)
      return std::min(*lhs, *rhs);
    return lhs ? lhs : rhs;
  }
  return std::nullopt;
}

std::optional<int64_t> linac::staticUpperBound(Value memref, int64_t index) {
  auto type = cast<MemRefType>(memref.getType());
  if (!type.isDynamicDim(index))
    return type.getDimSize(index);
  if (auto view = memref.getDefiningOp<memref::SubViewOp>()) {
    // The view's dimension `index` after dropping unit dimensions.
    llvm::SmallBitVector dropped = view.getDroppedDims();
    int64_t kept = -1;
    for (auto [d, size] : llvm::enumerate(view.getMixedSizes())) {
      if (!dropped.test(d) && ++kept == index)
        return staticUpperBound(size);
    }
  }
  return std::nullopt;
}

Value linac::convertFloat(OpBuilder &b, Location loc, Value value, Type type) {
  Type from = value.getType();
  if (from == type)
    return value;
  if (cast<FloatType>(from).getWidth() < cast<FloatType>(type).getWidth())
    return arith::ExtFOp::create(b, loc, type, value);
  return arith::TruncFOp::create(b, loc, type, value);
}

memref::AllocaOp linac::localRoot(Value buffer) {
  while (auto viewLike = buffer.getDefiningOp<ViewLikeOpInterface>())
    buffer = viewLike.getViewSource();
  return buffer.getDefiningOp<memref::AllocaOp>();
}

linalg::GenericOp linac::buildConvertingCopy(OpBuilder &b, Location loc,
                                             Value src, Value dst) {
  auto dstType = cast<MemRefType>(dst.getType());
  unsigned rank = dstType.getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
      b, loc, ValueRange{src}, ValueRange{dst},
      ArrayRef<AffineMap>{identity, identity}, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value converted =
            convertFloat(nb, nloc, args[0], dstType.getElementType());
        linalg::YieldOp::create(nb, nloc, converted);
      });
}

void linac::buildFill(OpBuilder &b, Location loc, Value value, Value dst) {
  Type elementType = cast<MemRefType>(dst.getType()).getElementType();
  linalg::FillOp::create(b, loc, convertFloat(b, loc, value, elementType),
                         dst);
}

void linac::buildInitialState(OpBuilder &b, Location loc, Value hasInitial,
                              llvm::function_ref<Value()> initialState,
                              Value state) {
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  if (!hasInitial) {
    buildFill(b, loc, zero, state);
    return;
  }
  auto init = scf::IfOp::create(b, loc, hasInitial, /*withElse=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(init.thenBlock());
  buildConvertingCopy(b, loc, initialState(), state);
  b.setInsertionPointToStart(init.elseBlock());
  buildFill(b, loc, zero, state);
}
