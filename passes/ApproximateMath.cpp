//===- ApproximateMath.cpp - math functions as vectorizable polynomials --===//

#include "passes/Passes.h"

#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACAPPROXIMATEMATH
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;

namespace {

struct ApproximateMathPass
    : public linac::impl::LinacApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
