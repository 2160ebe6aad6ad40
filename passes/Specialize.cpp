//===- Specialize.cpp - fix head sizes, element type, chunk size ---------===//

#include "passes/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACSPECIALIZE
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

/// Returns `type` with dimension `dim` set to `size` (when size > 0) and, when
/// `elementType` is set, that element type.
MemRefType withDim(MemRefType type, int64_t dim, int64_t size,
                   Type elementType = {}) {
  SmallVector<int64_t> shape(type.getShape());
  if (size > 0 && dim < (int64_t)shape.size())
    shape[dim] = size;
  return MemRefType::get(shape, elementType ? elementType : type.getElementType(),
                         type.getLayout(), type.getMemorySpace());
}

/// Re-infers the result types of the step ops after their block arguments
/// changed type. Step ops are pure functions of their operand shapes.
LogicalResult refineStepTypes(Block &block) {
  for (Operation &op : block.without_terminator()) {
    auto setResult = [&](Type type) { op.getResult(0).setType(type); };
    auto tensorOf = [](Value v) { return cast<RankedTensorType>(v.getType()); };
    if (auto outer = dyn_cast<OuterOp>(op)) {
      setResult(RankedTensorType::get({tensorOf(outer.getLhs()).getDimSize(0),
                                       tensorOf(outer.getRhs()).getDimSize(0)},
                                      tensorOf(outer.getLhs()).getElementType()));
    } else if (auto matvec = dyn_cast<MatVecOp>(op)) {
      auto m = tensorOf(matvec.getMatrix());
      setResult(RankedTensorType::get({m.getDimSize(0)}, m.getElementType()));
    } else if (auto transpose = dyn_cast<TransposeOp>(op)) {
      auto m = tensorOf(transpose.getMatrix());
      setResult(RankedTensorType::get({m.getDimSize(1), m.getDimSize(0)},
                                      m.getElementType()));
    } else if (op.getNumResults() == 1 && op.getNumOperands() >= 1 &&
               isa<RankedTensorType>(op.getResult(0).getType())) {
      // Elementwise ops (arith, math, linac.scale): the result has the shape
      // of their tensor operand.
      for (Value operand : op.getOperands())
        if (isa<RankedTensorType>(operand.getType())) {
          setResult(operand.getType());
          break;
        }
    }
  }
  return success();
}

struct SpecializePass
    : public linac::impl::LinacSpecializeBase<SpecializePass> {
  using LinacSpecializeBase::LinacSpecializeBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    Type elementType;
    if (!dtype.empty()) {
      MLIRContext *ctx = &getContext();
      elementType = llvm::StringSwitch<Type>(dtype)
                        .Case("f32", Float32Type::get(ctx))
                        .Case("f16", Float16Type::get(ctx))
                        .Case("bf16", BFloat16Type::get(ctx))
                        .Default(Type());
      if (!elementType) {
        func.emitError() << "linac-specialize: unknown dtype '" << dtype
                         << "' (expected f32, f16 or bf16)";
        return signalPassFailure();
      }
    }
    if (headDimK < 0 || headDimV < 0 || chunkSize < 0 || householder < 0) {
      func.emitError("linac-specialize: sizes must be positive");
      return signalPassFailure();
    }

    WalkResult result = func.walk([&](Operation *op) -> WalkResult {
      LogicalResult specialized = success();
      if (auto recurrence = dyn_cast<RecurrenceOp>(op))
        specialized = specialize(func, recurrence, elementType);
      else if (auto ssm = dyn_cast<SsmOp>(op))
        specialized = specialize(func, ssm, elementType);
      return failed(specialized) ? WalkResult::interrupt()
                                 : WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    // Keep the function type in step with its (possibly rewritten) arguments.
    func.setType(FunctionType::get(&getContext(),
                                   func.getBody().getArgumentTypes(),
                                   func.getResultTypes()));
  }

  /// Rewrites the type of `value`, a function argument, with `fn`.
  static LogicalResult retype(func::FuncOp func, Operation *op, Value value,
                              StringRef name,
                              function_ref<MemRefType(MemRefType)> fn) {
    if (!value)
      return success();
    auto arg = dyn_cast<BlockArgument>(value);
    if (!arg || arg.getOwner()->getParentOp() != func)
      return op->emitOpError() << "linac-specialize: operand " << name
                               << " must be an argument of the function";
    arg.setType(fn(cast<MemRefType>(arg.getType())));
    return success();
  }

  /// SSMs: N (the state size, K) and P (the head size, V).
  LogicalResult specialize(func::FuncOp func, SsmOp op, Type elementType) {
    int64_t N = headDimK, P = headDimV;
    // Options of linear-attention recurrences do nothing here: refuse them
    // rather than compile a kernel that ignores what was asked.
    for (auto [set, option] :
         {std::pair<bool, StringRef>{householder > 0, "householder"},
          {qkL2norm, "qk-l2norm"},
          {betaSigmoid != 0.0f, "beta-sigmoid"}})
      if (set)
        return op.emitOpError() << "linac-specialize: option '" << option
                                << "' applies to linac.recurrence, not to a "
                                   "state-space model";
    auto perHead = [&](MemRefType t) { return withDim(t, 3, P, elementType); };
    auto perState = [&](MemRefType t) { return withDim(t, 3, N, elementType); };
    auto rates = [&](MemRefType t) { return withDim(t, 1, N); };
    auto skip = [&](MemRefType t) { return withDim(t, 1, P); };
    auto state = [&](MemRefType t) { return withDim(withDim(t, 2, N), 3, P); };
    Operation *raw = op.getOperation();
    if (failed(retype(func, raw, op.getX(), "x", perHead)) ||
        failed(retype(func, raw, op.getOutput(), "output", perHead)) ||
        failed(retype(func, raw, op.getZ(), "z", perHead)) ||
        failed(retype(func, raw, op.getB(), "b", perState)) ||
        failed(retype(func, raw, op.getC(), "c", perState)) ||
        failed(retype(func, raw, op.getA(), "a", rates)) ||
        failed(retype(func, raw, op.getD(), "d", skip)) ||
        failed(retype(func, raw, op.getInitialState(), "initial_state", state)) ||
        failed(retype(func, raw, op.getFinalState(), "final_state", state)))
      return failure();
    if (chunkSize > 0)
      op.setChunkSize(chunkSize);
    if (dtSoftplus)
      op.setDtSoftplus(true);
    return success();
  }

  LogicalResult specialize(func::FuncOp func, RecurrenceOp op,
                           Type elementType) {
    int64_t K = headDimK, V = headDimV;
    if (dtSoftplus)
      return op.emitOpError("linac-specialize: option 'dt-softplus' applies "
                            "to linac.ssm (state-space models), not to a "
                            "recurrence");
    auto retype = [&](Value value, StringRef name,
                      function_ref<MemRefType(MemRefType)> fn) {
      return SpecializePass::retype(func, op, value, name, fn);
    };
    auto qk = [&](MemRefType t) { return withDim(t, 3, K, elementType); };
    auto vo = [&](MemRefType t) { return withDim(t, 3, V, elementType); };
    auto gate = [&](MemRefType t) {
      return t.getRank() == 4 ? withDim(t, 3, K) : t;
    };
    auto state = [&](MemRefType t) { return withDim(withDim(t, 2, K), 3, V); };
    if (failed(retype(op.getQ(), "q", qk)) || failed(retype(op.getK(), "k", qk)) ||
        failed(retype(op.getV(), "v", vo)) ||
        failed(retype(op.getOutput(), "output", vo)) ||
        failed(retype(op.getG(), "g", gate)) ||
        failed(retype(op.getInitialState(), "initial_state", state)) ||
        failed(retype(op.getFinalState(), "final_state", state)))
      return failure();
    if (chunkSize > 0)
      op.setChunkSize(chunkSize);
    if (householder > 0)
      op.setHouseholder(householder);
    if (qkL2norm)
      op.setQkL2norm(true);
    if (betaSigmoid != 0.0f)
      op.setBetaSigmoidAttr(FloatAttr::get(Float32Type::get(op.getContext()),
                                           betaSigmoid));

    if (op.getStep().empty())
      return success();
    Block &block = op.getStep().front();
    auto f32 = Float32Type::get(op.getContext());
    int64_t k = op.getHeadDimK(), v = op.getHeadDimV();
    auto vectorType = [&](int64_t n) { return RankedTensorType::get({n}, f32); };
    unsigned index = 0;
    block.getArgument(index++).setType(vectorType(k));
    block.getArgument(index++).setType(vectorType(k));
    block.getArgument(index++).setType(vectorType(v));
    if (Value g = op.getG()) {
      if (cast<MemRefType>(g.getType()).getRank() == 4)
        block.getArgument(index).setType(vectorType(k));
      ++index;
    }
    if (op.getBeta())
      ++index;
    block.getArgument(index).setType(RankedTensorType::get({k, v}, f32));
    return refineStepTypes(block);
  }
};

} // namespace
