//===- LinalgHelpers.h - small linalg builders shared by passes -*- C++ -*-===//

#ifndef LINAC_PASSES_LINALGHELPERS_H
#define LINAC_PASSES_LINALGHELPERS_H

#include "mlir/IR/Builders.h"

namespace mlir::linac {

/// Converts a value to `type` (f16/bf16/f32): extf, truncf or nothing.
Value convertFloat(OpBuilder &b, Location loc, Value value, Type type);

/// dst[...] = convert(src[...]) as a linalg.generic over their common shape.
void buildConvertingCopy(OpBuilder &b, Location loc, Value src, Value dst);

/// Fills `dst` with `value` (converted to its element type).
void buildFill(OpBuilder &b, Location loc, Value value, Value dst);

/// Starts a state: a copy of `initialState()` (built only on that path)
/// where `hasInitial` (an i1, or null where no initial state can come) holds
/// at run time, zeros otherwise.
void buildInitialState(OpBuilder &b, Location loc, Value hasInitial,
                       llvm::function_ref<Value()> initialState, Value state);

} // namespace mlir::linac

#endif // LINAC_PASSES_LINALGHELPERS_H
