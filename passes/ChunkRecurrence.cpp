//===- ChunkRecurrence.cpp - a canonical recurrence as chunked ops -------===//

#include "passes/ChunkBody.h"
#include "passes/Passes.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACCHUNKRECURRENCE
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

struct ChunkRecurrencePass
    : public linac::impl::LinacChunkRecurrenceBase<ChunkRecurrencePass> {
  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](RecurrenceOp op) {
      // Left to linac-sequential-recurrence.
      if (op->hasAttr(kSequentialAttrName))
        return WalkResult::advance();
      if (!op.getFormAttr()) {
        op.emitOpError("must be recognized (linac-recognize-recurrence) "
                       "before it is chunked");
        return WalkResult::interrupt();
      }
      if (ShapedType::isDynamic(op.getHeadDimK()) ||
          ShapedType::isDynamic(op.getHeadDimV())) {
        op.emitOpError("head dimensions K and V must be static to size the "
                       "chunk's buffers (run linac-specialize first)");
        return WalkResult::interrupt();
      }
      if (op.getHouseholder() > 1) {
        op.emitOpError("has Householder products: run "
                       "linac-interleave-householder first");
        return WalkResult::interrupt();
      }
      if (op.getMode() == ExecutionMode::noncausal) {
        RecurrenceFormAttr form = op.getFormAttr();
        if (form.getDecay() != DecayKind::none ||
            form.getUpdate() != UpdateKind::plain) {
          op.emitOpError("non-causal attention needs a plain update without "
                         "decay");
          return WalkResult::interrupt();
        }
        buildNonCausalChunkLoop(op, op.getChunkSize());
        op.erase();
        return WalkResult::advance();
      }
      // Decode runs one token per chunk: the same algebra, token by token.
      int64_t chunkSize =
          op.getMode() == ExecutionMode::recurrent ? 1 : op.getChunkSize();
      buildChunkLoop(op, chunkSize, /*interleave=*/1);
      op.erase();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
