//===- ChunkSsm.cpp - a state-space model as a chunk loop ----------------===//

#include "passes/ChunkBody.h"
#include "passes/Passes.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACCHUNKSSM
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

struct ChunkSsmPass : public linac::impl::LinacChunkSsmBase<ChunkSsmPass> {
  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](SsmOp op) {
      int64_t stateSize = cast<MemRefType>(op.getB().getType()).getDimSize(3);
      int64_t headSize = cast<MemRefType>(op.getX().getType()).getDimSize(3);
      if (ShapedType::isDynamic(stateSize) || ShapedType::isDynamic(headSize)) {
        op.emitOpError("state size N and head size P must be static to size "
                       "the chunk's buffers (run linac-specialize first)");
        return WalkResult::interrupt();
      }
      // Decode runs one token per chunk.
      int64_t chunkSize =
          op.getMode() == ExecutionMode::recurrent ? 1 : op.getChunkSize();
      buildSsmChunkLoop(op, chunkSize);
      op.erase();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
