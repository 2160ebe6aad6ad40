//===- GpuBarrierElision.h - barriers between independent phases -*- C++
//-*-===//
//
// linac-map-to-gpu places a barrier after every distributed op. Where the
// phases on either side of one touch no common buffer with a write among them
// (the forward and the reverse sums of a chunk's gates, say), it orders
// nothing, and the block's warps need not wait for each other there. The same
// accounting of buffers tells it where a phase overwrites what a load of
// every thread has read, which needs a barrier between them.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_GPUBARRIERELISION_H
#define LINAC_PASSES_GPUBARRIERELISION_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::linac {

/// Erases the barriers of `kernel` that separate phases with no conflicting
/// accesses: in each block, between its first and its last barrier (which
/// stay, as the block's ends meet code outside it, or the loop's next
/// iteration), a barrier goes when nothing the phases since the last kept
/// barrier access conflicts with what the phase after it accesses. Accesses
/// conflict where they may touch the same buffer and one writes. Buffers are
/// the kernel's workgroup attributions and views of its dynamic shared
/// memory (disjoint by construction), global memory is one buffer, and an
/// op whose accesses are not known (no memory-effect interface, an effect
/// on no traceable buffer, a nested barrier) conflicts with everything.
/// Returns the number of barriers erased.
int64_t eraseBarriersBetweenIndependentPhases(gpu::GPUFuncOp kernel);

/// Whether `writer` (or an op nested in it) may write a buffer that one of
/// `loads` reads (buffers as above, except that each kernel argument is its
/// own buffer: the runtime's outputs alias no input; an access not traced
/// conflicts).
bool mayOverwrite(Operation *writer, ArrayRef<Operation *> loads,
                  gpu::GPUFuncOp kernel);

} // namespace mlir::linac

#endif // LINAC_PASSES_GPUBARRIERELISION_H
