//===- RecognizeRecurrence.cpp - match a step to its canonical form ------===//

#include "passes/Passes.h"

#include "mlir/IR/Matchers.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACRECOGNIZERECURRENCE
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

/// The step's block arguments by role.
struct StepArgs {
  Value q, k, v, g, beta, state;
};

StepArgs getStepArgs(RecurrenceOp op) {
  Block &block = op.getStep().front();
  StepArgs args;
  unsigned i = 0;
  args.q = block.getArgument(i++);
  args.k = block.getArgument(i++);
  args.v = block.getArgument(i++);
  if (op.getG())
    args.g = block.getArgument(i++);
  if (op.getBeta())
    args.beta = block.getArgument(i++);
  args.state = block.getArgument(i);
  return args;
}

/// Why a step did not match, and where.
struct Mismatch {
  Value value;
  std::string reason;
};

/// Strips one `linac.scale %x, %factor` and returns %x, or null.
Value stripScaleBy(Value value, Value factor) {
  if (auto scale = value.getDefiningOp<ScaleOp>())
    if (scale.getFactor() == factor)
      return scale.getInput();
  return {};
}

/// Matches `scale * S^T q` where S is `newState`; the scale may multiply the
/// result, the state or the query.
LogicalResult matchReadout(Value output, Value newState, const StepArgs &args,
                           Value scale, Mismatch &why) {
  int scales = 0;
  Value readout = output;
  if (Value inner = stripScaleBy(readout, scale)) {
    readout = inner;
    ++scales;
  }
  auto matvec = readout.getDefiningOp<MatVecOp>();
  auto transpose =
      matvec ? matvec.getMatrix().getDefiningOp<TransposeOp>() : TransposeOp();
  if (!transpose) {
    why = {output, "the output is not a readout S^T q_t of the new state"};
    return failure();
  }
  Value state = transpose.getMatrix();
  if (Value inner = stripScaleBy(state, scale)) {
    state = inner;
    ++scales;
  }
  Value query = matvec.getVector();
  if (Value inner = stripScaleBy(query, scale)) {
    query = inner;
    ++scales;
  }
  if (state != newState) {
    why = {state, "the output must read the new state (readout after the "
                  "update)"};
    return failure();
  }
  if (query != args.q) {
    why = {query, "the output must be read with the query q_t"};
    return failure();
  }
  if (scales != 1) {
    why = {output, "the output must be multiplied by the recurrence's scale "
                   "exactly once"};
    return failure();
  }
  return success();
}

/// Matches the decay applied to the old state: S (none), exp(g_t) * S
/// (scalar) or exp(g_t)[:, None] * S (vector).
FailureOr<DecayKind> matchDecay(Value decayed, const StepArgs &args) {
  if (decayed == args.state)
    return DecayKind::none;
  if (!args.g)
    return failure();
  if (auto scale = decayed.getDefiningOp<ScaleOp>()) {
    auto exp = scale.getFactor().getDefiningOp<math::ExpOp>();
    if (scale.getInput() == args.state && exp && exp.getOperand() == args.g)
      return DecayKind::scalar;
  }
  if (auto rows = decayed.getDefiningOp<ScaleRowsOp>()) {
    auto exp = rows.getFactors().getDefiningOp<math::ExpOp>();
    if (rows.getInput() == args.state && exp && exp.getOperand() == args.g)
      return DecayKind::vector;
  }
  return failure();
}

/// Strips a scaling by beta_t, counting it in `betas`.
Value stripBeta(Value value, const StepArgs &args, int &betas) {
  if (!args.beta)
    return value;
  if (Value inner = stripScaleBy(value, args.beta)) {
    ++betas;
    return inner;
  }
  return value;
}

/// Matches the new state: the decayed state D plus either k_t v_t^T (plain)
/// or beta_t k_t (v_t - D^T k_t)^T (delta), beta applied once anywhere in
/// the product.
FailureOr<RecurrenceFormAttr> matchUpdate(Value newState, const StepArgs &args,
                                          Mismatch &why) {
  auto add = newState.getDefiningOp<arith::AddFOp>();
  if (!add) {
    why = {newState, "the new state must be the decayed state plus a rank-1 "
                     "update"};
    return failure();
  }
  why = {newState, "the new state must add k_t v_t^T (plain) or "
                   "beta_t k_t (v_t - S^T k_t)^T (delta) to the decayed state"};
  for (auto [decayed, written] : {std::pair{add.getLhs(), add.getRhs()},
                                  std::pair{add.getRhs(), add.getLhs()}}) {
    // The other side is the rank-1 update when it is an outer product
    // (possibly scaled by beta_t); only then are this order's reasons right.
    int betas = 0;
    auto outer = stripBeta(written, args, betas).getDefiningOp<OuterOp>();
    if (!outer)
      continue;
    FailureOr<DecayKind> decay = matchDecay(decayed, args);
    if (failed(decay)) {
      why = {decayed, "the old state must enter unchanged (S), decayed by "
                      "a scalar exp(g_t) * S or per key channel "
                      "exp(g_t)[:, None] * S"};
      continue;
    }
    Value key = stripBeta(outer.getLhs(), args, betas);
    Value value = stripBeta(outer.getRhs(), args, betas);
    if (key != args.k)
      continue;
    MLIRContext *ctx = newState.getContext();
    if (value == args.v && betas == 0)
      return RecurrenceFormAttr::get(ctx, *decay, UpdateKind::plain);
    // The delta rule's error: v_t minus the decayed state's prediction.
    auto error = value.getDefiningOp<arith::SubFOp>();
    if (!error || error.getLhs() != args.v)
      continue;
    auto predict = error.getRhs().getDefiningOp<MatVecOp>();
    auto transpose =
        predict ? predict.getMatrix().getDefiningOp<TransposeOp>() : TransposeOp();
    if (!transpose || transpose.getMatrix() != decayed ||
        predict.getVector() != args.k) {
      why = {error.getRhs(), "the delta rule's prediction must be "
                             "S^T k_t of the decayed state S"};
      continue;
    }
    if (betas != 1) {
      why = {newState, "the delta-rule update must be scaled by beta_t "
                       "exactly once"};
      return failure();
    }
    return RecurrenceFormAttr::get(ctx, *decay, UpdateKind::delta);
  }
  return failure();
}

struct RecognizeRecurrencePass
    : public linac::impl::LinacRecognizeRecurrenceBase<
          RecognizeRecurrencePass> {
  using LinacRecognizeRecurrenceBase::LinacRecognizeRecurrenceBase;

  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](RecurrenceOp op) {
      if (op.getStep().empty())
        return WalkResult::advance();
      if (failed(recognize(op)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult recognize(RecurrenceOp op) {
    StepArgs args = getStepArgs(op);
    auto yield = cast<YieldOp>(op.getStep().front().getTerminator());
    Value newState = yield.getValues()[0], output = yield.getValues()[1];
    Mismatch why;
    FailureOr<RecurrenceFormAttr> form = matchUpdate(newState, args, why);
    if (succeeded(form) &&
        succeeded(matchReadout(output, newState, args, op.getScale(), why))) {
      op.setFormAttr(*form);
      op.getStep().dropAllReferences();
      op.getStep().getBlocks().clear();
      return success();
    }
    Operation *culprit = why.value.getDefiningOp();
    if (allowSequential) {
      // Kept for linac-sequential-recurrence; the reason names the culprit's
      // source position so a front end can show the user's line.
      std::string reason = why.reason;
      if (culprit) {
        llvm::raw_string_ostream os(reason);
        os << " (at ";
        if (auto file = culprit->getLoc()->findInstanceOf<FileLineColLoc>())
          os << file.getFilename().getValue() << ":" << file.getLine() << ":"
             << file.getColumn();
        else
          os << culprit->getLoc();
        os << ")";
      }
      op->setAttr(kSequentialAttrName, StringAttr::get(op.getContext(), reason));
      InFlightDiagnostic diag =
          op.emitWarning("step is not a linear recurrence linac can chunk: ")
          << why.reason << "; it runs one token at a time";
      if (culprit)
        diag.attachNote(culprit->getLoc()) << "see this operation";
      return success();
    }
    InFlightDiagnostic diag =
        op.emitOpError("step is not a linear recurrence linac can chunk: ")
        << why.reason;
    if (culprit)
      diag.attachNote(culprit->getLoc()) << "see this operation";
    return failure();
  }
};

} // namespace
