//===- LinalgHelpers.cpp - small linalg builders shared by passes --------===//

#include "passes/LinalgHelpers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

Value linac::convertFloat(OpBuilder &b, Location loc, Value value, Type type) {
  Type from = value.getType();
  if (from == type)
    return value;
  if (cast<FloatType>(from).getWidth() < cast<FloatType>(type).getWidth())
    return arith::ExtFOp::create(b, loc, type, value);
  return arith::TruncFOp::create(b, loc, type, value);
}

void linac::buildConvertingCopy(OpBuilder &b, Location loc, Value src,
                                Value dst) {
  auto dstType = cast<MemRefType>(dst.getType());
  unsigned rank = dstType.getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  linalg::GenericOp::create(
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
