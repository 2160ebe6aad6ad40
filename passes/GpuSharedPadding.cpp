//===- GpuSharedPadding.cpp - rows padded against bank conflicts ---------===//

#include "passes/GpuSharedPadding.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::linac;

MemRefType mlir::linac::paddedSharedType(MemRefType type) {
  if (type.getRank() != 2 || !type.hasStaticShape() ||
      !type.getLayout().isIdentity() || type.getDimSize(0) < 2 ||
      type.getElementTypeBitWidth() % 8 != 0)
    return type;
  int64_t element = type.getElementTypeBitWidth() / 8;
  int64_t rowBytes = type.getDimSize(1) * element;
  constexpr int64_t kBankRowBytes = 32, kPadBytes = 16;
  if (rowBytes % kBankRowBytes != 0 || kPadBytes % element != 0)
    return type;
  return MemRefType::get(
      {type.getDimSize(0), type.getDimSize(1) + kPadBytes / element},
      type.getElementType(), MemRefLayoutAttrInterface(),
      type.getMemorySpace());
}

bool mlir::linac::accessedThroughStrides(Value buffer) {
  SmallVector<Value> views = {buffer};
  while (!views.empty()) {
    Value view = views.pop_back_val();
    for (Operation *user : view.getUsers()) {
      if (auto subview = dyn_cast<memref::SubViewOp>(user)) {
        views.push_back(subview.getResult());
        continue;
      }
      if (!isa<memref::LoadOp, memref::StoreOp, memref::DimOp,
               memref::ExtractStridedMetadataOp, linalg::LinalgOp>(user))
        return false;
    }
  }
  return true;
}

void mlir::linac::retypeSubviews(Value root) {
  SmallVector<Value> views = {root};
  while (!views.empty()) {
    Value view = views.pop_back_val();
    for (Operation *user : view.getUsers()) {
      auto subview = dyn_cast<memref::SubViewOp>(user);
      if (!subview)
        continue;
      MemRefType type = memref::SubViewOp::inferRankReducedResultType(
          subview.getType().getShape(), cast<MemRefType>(view.getType()),
          subview.getMixedOffsets(), subview.getMixedSizes(),
          subview.getMixedStrides());
      subview.getResult().setType(type);
      views.push_back(subview.getResult());
    }
  }
}
