//===- GpuVectorCopy.h - global/shared copies in 16-byte accesses -*- C++
//-*-===//
//
// linac-map-to-gpu copies a chunk's inputs and the initial state from global
// into shared memory. Element by element, a thread moves 2 or 4 bytes per
// instruction and keeps few bytes in flight; these helpers move 16 (or 8, or
// 4) bytes per instruction where both sides allow it. (Copies out of shared
// memory stay element by element: their stores do not wait, and ptxas,
// hoisting all their shared loads, took the decode kernels from 116 to 168
// registers.)
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_GPUVECTORCOPY_H
#define LINAC_PASSES_GPUVECTORCOPY_H

#include "mlir/IR/Builders.h"

namespace mlir::linac {

/// A copy of `rowBound` rows (or, with `dynamicRows`, of the first
/// `dim(source, 0)` of at most `rowBound` rows) of `columns` elements from
/// global memory (`source`) into shared memory (`target`), one element type.
struct GpuRowCopy {
  Value source, target;
  int64_t rowBound, columns;
  bool dynamicRows;
};

/// The widest access in bytes (16, 8 or 4, at least two elements) that the
/// target's static layout and the row length allow; 0 when none does.
int64_t vectorCopyBytes(const GpuRowCopy &copy);

/// Whether the source, at run time, has unit column stride, a row
/// stride and an address that are multiples of `bytes`: the condition under
/// which buildVectorCopy may run (uniform over the block).
Value buildVectorCopyCondition(OpBuilder &b, Location loc,
                               const GpuRowCopy &copy, int64_t bytes);

/// The copy in `bytes`-wide vector loads and stores spread over the block's
/// threads, every load of a thread issued before its first store;
/// with `dynamicRows`, the rows past the end are loaded from the last row
/// and not stored.
void buildVectorCopy(OpBuilder &b, Location loc, const GpuRowCopy &copy,
                     int64_t bytes, Value threadId, int64_t blockSize);

} // namespace mlir::linac

#endif // LINAC_PASSES_GPUVECTORCOPY_H
