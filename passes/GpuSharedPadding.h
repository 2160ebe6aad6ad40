//===- GpuSharedPadding.h - rows padded against bank conflicts -*- C++ -*-===//
//
// A warp's mma fragment loads read 8 rows x 4 words (an operand whose
// reduction runs along its rows) or 4 rows x 8 words (along its columns) at
// once. In a buffer whose rows are a multiple of 32 bytes, those rows start in
// the same bank, and the loads take 4 or 8 passes; 16 bytes more a row spread
// them over the banks (at most 2 passes), and keep every row 16-byte aligned.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_GPUSHAREDPADDING_H
#define LINAC_PASSES_GPUSHAREDPADDING_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

namespace mlir::linac {

/// The type of static buffer `type` with its rows padded: 16 bytes more where
/// the rows (innermost dimension) of a buffer of rank 2 or more, at least two
/// rows a matrix, are a multiple of 32 bytes; `type` itself otherwise.
MemRefType paddedSharedType(MemRefType type);

/// Whether the offset of `view` is a multiple of `multiple` elements: its
/// static offset, or for a dynamic one (a subview at a run-time position,
/// such as one half of a double buffer) where every offset of the subviews
/// it is cut with moves by a multiple.
bool offsetIsMultipleOf(Value view, int64_t multiple);

/// The type `alloca` takes in shared memory with its rows padded: its padded
/// type (paddedSharedType) where every use reads it through its strides,
/// its own type otherwise.
MemRefType paddedAllocaType(memref::AllocaOp alloca);

/// The buffer a view is cut from (through memref.subview).
Value viewedBuffer(Value view);

/// Whether every use of `buffer` and of the subviews cut from it reads or
/// writes it through its strides (loads, stores, linalg ops, dims, subviews,
/// strided metadata), so that it may be replaced by a view with padded rows.
bool accessedThroughStrides(Value buffer);

/// Rewrites the result types of the subviews cut from `root` (transitively)
/// after `root`'s type changed: their strides follow the new layout.
void retypeSubviews(Value root);

} // namespace mlir::linac

#endif // LINAC_PASSES_GPUSHAREDPADDING_H
