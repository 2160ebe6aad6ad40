//===- GpuSharedPadding.cpp - rows padded against bank conflicts ---------===//

#include "passes/GpuSharedPadding.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::linac;

MemRefType mlir::linac::paddedSharedType(MemRefType type) {
  int64_t rank = type.getRank();
  if (rank < 2 || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
      type.getDimSize(rank - 2) < 2 || type.getElementTypeBitWidth() % 8 != 0)
    return type;
  int64_t element = type.getElementTypeBitWidth() / 8;
  int64_t rowBytes = type.getDimSize(rank - 1) * element;
  constexpr int64_t kBankRowBytes = 32, kPadBytes = 16;
  if (rowBytes % kBankRowBytes != 0 || kPadBytes % element != 0)
    return type;
  SmallVector<int64_t> shape(type.getShape());
  shape.back() += kPadBytes / element;
  return MemRefType::get(shape, type.getElementType(),
                         MemRefLayoutAttrInterface(), type.getMemorySpace());
}

MemRefType mlir::linac::paddedAllocaType(memref::AllocaOp alloca) {
  return accessedThroughStrides(alloca) ? paddedSharedType(alloca.getType())
                                        : alloca.getType();
}

Value mlir::linac::viewedBuffer(Value view) {
  while (auto subview = view.getDefiningOp<memref::SubViewOp>())
    view = subview.getSource();
  return view;
}

bool mlir::linac::offsetIsMultipleOf(Value view, int64_t multiple) {
  auto type = cast<MemRefType>(view.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  if (!ShapedType::isDynamic(offset))
    return offset % multiple == 0;
  // A dynamic offset: a multiple where each of the subview's offsets, static
  // or not, moves by a multiple, and so does its source's.
  auto subview = view.getDefiningOp<memref::SubViewOp>();
  if (!subview)
    return false;
  SmallVector<int64_t> sourceStrides;
  int64_t sourceOffset;
  if (failed(subview.getSourceType().getStridesAndOffset(sourceStrides,
                                                         sourceOffset)))
    return false;
  for (auto [position, stride] :
       llvm::zip(subview.getMixedOffsets(), sourceStrides)) {
    if (ShapedType::isDynamic(stride))
      return false;
    std::optional<int64_t> constant = getConstantIntValue(position);
    if ((constant ? *constant * stride : stride) % multiple != 0)
      return false;
  }
  return offsetIsMultipleOf(subview.getSource(), multiple);
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
