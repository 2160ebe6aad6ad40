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
    getOperation().walk([&](SsmOp op) {
      // Decode runs one token per chunk.
      int64_t chunkSize =
          op.getMode() == ExecutionMode::recurrent ? 1 : op.getChunkSize();
      buildSsmChunkLoop(op, chunkSize);
      op.erase();
    });
  }
};

} // namespace
