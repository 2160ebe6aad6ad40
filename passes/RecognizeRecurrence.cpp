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

/// Matches the decay applied to the old state: S (none) or exp(g_t) * S.
FailureOr<DecayKind> matchDecay(Value decayed, const StepArgs &args,
                                Mismatch &why) {
  if (decayed == args.state)
    return DecayKind::none;
  if (auto scale = decayed.getDefiningOp<ScaleOp>()) {
    auto exp = scale.getFactor().getDefiningOp<math::ExpOp>();
    if (scale.getInput() == args.state && exp && args.g &&
        exp.getOperand() == args.g && isa<FloatType>(args.g.getType()))
      return DecayKind::scalar;
  }
  why = {decayed, "the old state must enter unchanged (S) or decayed by a "
                  "scalar exp(g_t) * S"};
  return failure();
}

/// Matches a plain update `D + k_t v_t^T`, where D is the decayed state.
FailureOr<RecurrenceFormAttr> matchUpdate(Value newState, const StepArgs &args,
                                          Mismatch &why) {
  auto add = newState.getDefiningOp<arith::AddFOp>();
  if (!add) {
    why = {newState, "the new state must be the decayed state plus k_t v_t^T"};
    return failure();
  }
  for (auto [decayed, written] : {std::pair{add.getLhs(), add.getRhs()},
                                  std::pair{add.getRhs(), add.getLhs()}}) {
    auto outer = written.getDefiningOp<OuterOp>();
    if (!outer || outer.getLhs() != args.k || outer.getRhs() != args.v)
      continue;
    Mismatch decayWhy;
    FailureOr<DecayKind> decay = matchDecay(decayed, args, decayWhy);
    if (failed(decay)) {
      why = decayWhy;
      return failure();
    }
    return RecurrenceFormAttr::get(newState.getContext(), *decay,
                                   UpdateKind::plain, 1);
  }
  why = {newState, "the new state must add the outer product k_t v_t^T"};
  return failure();
}

struct RecognizeRecurrencePass
    : public linac::impl::LinacRecognizeRecurrenceBase<
          RecognizeRecurrencePass> {
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
    InFlightDiagnostic diag =
        op.emitOpError("step is not a linear recurrence linac can chunk: ")
        << why.reason;
    if (Operation *culprit = why.value.getDefiningOp())
      diag.attachNote(culprit->getLoc()) << "see this operation";
    return failure();
  }
};

} // namespace
