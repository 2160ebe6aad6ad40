//===- LinalgHelpers.h - small linalg builders shared by passes -*- C++ -*-===//

#ifndef LINAC_PASSES_LINALGHELPERS_H
#define LINAC_PASSES_LINALGHELPERS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

#include <optional>

namespace mlir::linac {

/// The largest value `size` can take, when it is known without analysis: a
/// constant, a static dimension, or the min with one of those (a chunk's
/// rows are `min(remaining, C)`). Bounds the tensor-core tiles and the
/// elementwise loops of linac-map-to-gpu, and GLA's sub-chunks.
std::optional<int64_t> staticUpperBound(OpFoldResult size);
/// The same for dimension `index` of `memref` (a static dimension, or the
/// size a subview took it with).
std::optional<int64_t> staticUpperBound(Value memref, int64_t index);

/// The `memref.alloca` that `buffer` views (through view-like ops), or null
/// when it views anything else (a kernel argument: global memory).
memref::AllocaOp localRoot(Value buffer);

/// Converts a value to `type` (f16/bf16/f32): extf, truncf or nothing.
Value convertFloat(OpBuilder &b, Location loc, Value value, Type type);

/// dst[...] = convert(src[...]) as a linalg.generic over their common shape.
linalg::GenericOp buildConvertingCopy(OpBuilder &b, Location loc, Value src,
                                      Value dst);

/// Fills `dst` with `value` (converted to its element type).
void buildFill(OpBuilder &b, Location loc, Value value, Value dst);

/// Starts a state: a copy of `initialState()` (built only on that path)
/// where `hasInitial` (an i1, or null where no initial state can come) holds
/// at run time, zeros otherwise.
void buildInitialState(OpBuilder &b, Location loc, Value hasInitial,
                       llvm::function_ref<Value()> initialState, Value state);

} // namespace mlir::linac

#endif // LINAC_PASSES_LINALGHELPERS_H
