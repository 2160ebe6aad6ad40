//===- GpuAsyncCopy.cpp - wide asynchronous copies into shared memory ----===//

#include "passes/GpuAsyncCopy.h"
#include "passes/GpuSharedPadding.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::linac;

namespace {

int64_t elementBytes(Value buffer) {
  return cast<MemRefType>(buffer.getType()).getElementTypeBitWidth() / 8;
}

} // namespace

int64_t mlir::linac::asyncCopyBytes(const GpuRowCopy &copy) {
  auto type = cast<MemRefType>(copy.target.getType());
  int64_t element = elementBytes(copy.target);
  if (type.getRank() != 2 || copy.columns <= 0 || element == 0 ||
      type.getElementTypeBitWidth() % 8 != 0 ||
      cast<MemRefType>(copy.source.getType()).getRank() != 2)
    return 0;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) || strides[1] != 1 ||
      ShapedType::isDynamic(strides[0]))
    return 0;
  // Shared buffers start at multiples of 16 bytes (kSharedBufferAlignment),
  // so the static layout decides the shared side's alignment.
  for (int64_t bytes : {16, 8, 4}) {
    int64_t width = bytes / element;
    if (width < 2 || copy.columns % width != 0 ||
        !offsetIsMultipleOf(copy.target, width) || strides[0] % width != 0)
      continue;
    return bytes;
  }
  return 0;
}

Value mlir::linac::buildAsyncCopyCondition(OpBuilder &b, Location loc,
                                           const GpuRowCopy &copy,
                                           int64_t bytes) {
  Value global = copy.source;
  int64_t element = elementBytes(global);
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto isMultipleOf = [&](Value value, int64_t multiple) -> Value {
    Value rest = arith::RemUIOp::create(b, loc, value, index(multiple));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rest,
                                 index(0));
  };
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, global);
  Value pointer =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, global);
  Value address = arith::AddIOp::create(
      b, loc, pointer,
      arith::MulIOp::create(b, loc, metadata.getOffset(), index(element)));
  Value unitColumns = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            metadata.getStrides()[1], index(1));
  Value rowBytes =
      arith::MulIOp::create(b, loc, metadata.getStrides()[0], index(element));
  Value condition =
      arith::AndIOp::create(b, loc, isMultipleOf(address, bytes), unitColumns);
  return arith::AndIOp::create(b, loc, condition,
                               isMultipleOf(rowBytes, bytes));
}

void mlir::linac::buildAsyncCopy(OpBuilder &b, Location loc,
                                 const GpuRowCopy &copy, int64_t bytes,
                                 Value threadId, int64_t blockSize,
                                 bool commit) {
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  // The source as a view with a static unit column stride, which
  // asynchronous copy needs (the condition checked it).
  Value global = copy.source;
  auto globalType = cast<MemRefType>(global.getType());
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, global);
  auto unitType = MemRefType::get(
      globalType.getShape(), globalType.getElementType(),
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                             {ShapedType::kDynamic, 1}),
      globalType.getMemorySpace());
  SmallVector<OpFoldResult> sizes;
  for (auto [dim, size] : llvm::enumerate(globalType.getShape()))
    sizes.push_back(ShapedType::isDynamic(size)
                        ? OpFoldResult(metadata.getSizes()[dim])
                        : OpFoldResult(b.getIndexAttr(size)));
  Value unitView = memref::ReinterpretCastOp::create(
      b, loc, unitType, metadata.getBaseBuffer(),
      OpFoldResult(metadata.getOffset()), sizes,
      {OpFoldResult(metadata.getStrides()[0]), b.getIndexAttr(1)});

  int64_t width = bytes / elementBytes(global);
  int64_t perRow = copy.columns / width;
  int64_t total = copy.rowBound * perRow;
  int64_t trips = llvm::divideCeil(total, blockSize);
  Value count, lastRow;
  if (copy.dynamicRows) {
    count = memref::DimOp::create(b, loc, copy.source, 0);
    lastRow = arith::SubIOp::create(b, loc, count, index(1));
  }
  // Asynchronous copies (cp.async): the bytes go from global to shared
  // memory without passing through registers, and every copy of a thread is
  // in flight at once, the next buffer's included, until the wait before
  // the next barrier (waitForAsyncCopies). Rows past a chunk's end read no
  // bytes and are zero-filled.
  auto token = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  UnitAttr bypassL1 = bytes == 16 ? b.getUnitAttr() : UnitAttr();
  for (int64_t trip = 0; trip < trips; ++trip) {
    OpBuilder::InsertionGuard insertion(b);
    Value linear =
        arith::AddIOp::create(b, loc, threadId, index(trip * blockSize));
    if ((trip + 1) * blockSize > total) {
      // The last trip: threads past the copy's end copy nothing.
      Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           linear, index(total));
      auto branch = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
      b.setInsertionPointToStart(branch.thenBlock());
    }
    Value row = arith::DivUIOp::create(b, loc, linear, index(perRow));
    Value column = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, linear, index(perRow)),
        index(width));
    Value sourceRow = row, sourceElements;
    if (count) {
      sourceRow = arith::MinUIOp::create(b, loc, row, lastRow);
      Value inside =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, count);
      sourceElements =
          arith::SelectOp::create(b, loc, inside, index(width), index(0));
    }
    nvgpu::DeviceAsyncCopyOp::create(
        b, loc, token, copy.target, ValueRange{row, column}, unitView,
        ValueRange{sourceRow, column}, b.getIndexAttr(width), sourceElements,
        bypassL1);
  }
  if (commit)
    commitAsyncCopies(b, loc);
}

void mlir::linac::commitAsyncCopies(OpBuilder &b, Location loc) {
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
}

void mlir::linac::waitForAsyncCopies(OpBuilder &b, Location loc,
                                     int64_t newestGroupsInFlight) {
  NVVM::CpAsyncWaitGroupOp::create(b, loc, newestGroupsInFlight);
}
