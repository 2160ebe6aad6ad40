//===- BalanceGrid.cpp - grid items to threads as they free up (CPU) -----===//
//
// convert-scf-to-openmp gives the grid's worksharing loop OpenMP's default
// (static) schedule: each thread gets an equal share of the (sequence, head)
// items up front, and the kernel ends when the slowest share does. Shares
// are unequal when sequences have different lengths (cu_seqlens) and when a
// core is shared with another process; a dynamic schedule hands out one item
// at a time, so a thread that finishes early takes the next. The items are
// whole chunk loops (milliseconds), so handing them out costs nothing.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACBALANCEGRID
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;

namespace {

struct BalanceGridPass
    : public linac::impl::LinacBalanceGridBase<BalanceGridPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    getOperation().walk([&](omp::WsloopOp loop) {
      // A schedule someone chose stays.
      if (loop.getScheduleKind())
        return;
      loop.setScheduleKindAttr(omp::ClauseScheduleKindAttr::get(
          context, omp::ClauseScheduleKind::Dynamic));
    });
  }
};

} // namespace
