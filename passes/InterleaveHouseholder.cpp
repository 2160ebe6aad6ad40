//===- InterleaveHouseholder.cpp - DeltaProduct as an interleaved delta rule ===//

#include "passes/ChunkBody.h"
#include "passes/Passes.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACINTERLEAVEHOUSEHOLDER
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

struct InterleaveHouseholderPass
    : public linac::impl::LinacInterleaveHouseholderBase<
          InterleaveHouseholderPass> {
  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](RecurrenceOp op) {
      int64_t n = op.getHouseholder();
      if (n == 1)
        return WalkResult::advance();
      RecurrenceFormAttr form = op.getFormAttr();
      if (!form || form.getUpdate() != UpdateKind::delta) {
        op.emitOpError("Householder products need a recognized delta-rule "
                       "step");
        return WalkResult::interrupt();
      }
      if (form.getDecay() == DecayKind::vector) {
        op.emitOpError("Householder products with a decay per key channel "
                       "are not supported (use a scalar decay)");
        return WalkResult::interrupt();
      }
      // The n sub-steps of a token are n consecutive delta-rule steps; the
      // decay comes with the first and the readout after the last. A chunk
      // keeps whole tokens.
      int64_t tokens = op.getMode() == ExecutionMode::recurrent
                           ? 1
                           : std::max<int64_t>(1, op.getChunkSize() / n);
      buildChunkLoop(op, tokens, n);
      op.erase();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
