//===- GpuAsyncCopy.h - wide async copies into shared memory ---*- C++ -*-===//
//
// linac-map-to-gpu copies a chunk's inputs and the initial state from global
// into shared memory. Element by element, a thread moves 2 or 4 bytes per
// instruction through a register and keeps few bytes in flight; these
// helpers move 16 (or 8, or 4) bytes per asynchronous copy where both sides
// allow it. (Copies out of shared memory stay element by element: their
// stores do not wait, and with 16-byte accesses ptxas hoisted all their
// shared loads, taking the decode kernels from 116 to 168 registers.)
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_GPUASYNCCOPY_H
#define LINAC_PASSES_GPUASYNCCOPY_H

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
int64_t asyncCopyBytes(const GpuRowCopy &copy);

/// Whether the source, at run time, has unit column stride, a row
/// stride and an address that are multiples of `bytes`: the condition under
/// which buildAsyncCopy may run (uniform over the block).
Value buildAsyncCopyCondition(OpBuilder &b, Location loc,
                              const GpuRowCopy &copy, int64_t bytes);

/// The copy as asynchronous `bytes`-wide copies (cp.async,
/// nvgpu.device_async_copy) spread over the block's threads, then (with
/// `commit`) one commit of the thread's group: the bytes do not pass through
/// registers, and a thread's copies of this and the following buffers are
/// all in flight until waitForAsyncCopies. With `dynamicRows`, the rows past
/// the end read nothing and are zero-filled (in the buffer beneath the view).
void buildAsyncCopy(OpBuilder &b, Location loc, const GpuRowCopy &copy,
                    int64_t bytes, Value threadId, int64_t blockSize,
                    bool commit = true);

/// Closes the thread's group of asynchronous copies (cp.async.commit_group);
/// with no copy since the last commit, an empty group.
void commitAsyncCopies(OpBuilder &b, Location loc);

/// Waits for the asynchronous copies the thread has committed, all but the
/// `newestGroupsInFlight` groups committed last (cp.async.wait_group): before
/// the barrier after which other threads read the copied buffers.
void waitForAsyncCopies(OpBuilder &b, Location loc,
                        int64_t newestGroupsInFlight = 0);

} // namespace mlir::linac

#endif // LINAC_PASSES_GPUASYNCCOPY_H
