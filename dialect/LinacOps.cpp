//===- LinacOps.cpp - verifiers and helpers of linac ops -----------------===//

#include "dialect/Linac.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::linac;

namespace {

/// Two sizes are compatible when either is dynamic or they are equal.
bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Checks that dimension `i` of `a` and dimension `j` of `b` agree.
LogicalResult verifySameSize(Operation *op, StringRef aName, Value a,
                             unsigned i, StringRef bName, Value b,
                             unsigned j) {
  int64_t sa = cast<ShapedType>(a.getType()).getDimSize(i);
  int64_t sb = cast<ShapedType>(b.getType()).getDimSize(j);
  if (compatible(sa, sb))
    return success();
  return op->emitOpError() << "dimension " << i << " of " << aName << " ("
                           << sa << ") does not match dimension " << j
                           << " of " << bName << " (" << sb << ")";
}

LogicalResult verifyRank(Operation *op, StringRef name, Value value,
                         ArrayRef<int64_t> allowedRanks, StringRef layout) {
  auto type = cast<ShapedType>(value.getType());
  if (llvm::is_contained(allowedRanks, type.getRank()))
    return success();
  return op->emitOpError() << name << " must be " << layout << ", got "
                           << value.getType();
}

LogicalResult verifyElementType(Operation *op, StringRef name, Value value,
                                Type expected) {
  Type actual = cast<ShapedType>(value.getType()).getElementType();
  if (actual == expected)
    return success();
  return op->emitOpError() << name << " must have element type " << expected
                           << ", got " << actual;
}

bool isInputFloat(Type type) { return type.isF16() || type.isBF16() || type.isF32(); }

} // namespace

//===----------------------------------------------------------------------===//
// RecurrenceOp
//===----------------------------------------------------------------------===//

int64_t RecurrenceOp::getHeadDimK() {
  return cast<MemRefType>(getQ().getType()).getDimSize(3);
}

int64_t RecurrenceOp::getHeadDimV() {
  return cast<MemRefType>(getV().getType()).getDimSize(3);
}

/// Operand checks shared by linac.recurrence and linac.chunk_loop: both carry
/// the same buffers with the same meaning.
template <typename OpTy>
static LogicalResult verifyRecurrenceOperands(OpTy op) {
  Operation *raw = op.getOperation();
  Value q = op.getQ(), k = op.getK(), v = op.getV(), o = op.getOutput();
  for (auto [name, value] : {std::pair<StringRef, Value>{"q", q}, {"k", k},
                             {"v", v}, {"output", o}})
    if (failed(verifyRank(raw, name, value, {4}, "[B, T, H, D]")))
      return failure();
  Type inputType = cast<MemRefType>(q.getType()).getElementType();
  if (!isInputFloat(inputType))
    return op.emitOpError() << "q must have element type f16, bf16 or f32, got "
                            << inputType;
  for (auto [name, value] :
       {std::pair<StringRef, Value>{"k", k}, {"v", v}, {"output", o}})
    if (failed(verifyElementType(raw, name, value, inputType)))
      return failure();
  // [B, T, H] agree everywhere; K between q and k; V between v and output.
  for (unsigned d = 0; d < 3; ++d)
    for (auto [name, value] :
         {std::pair<StringRef, Value>{"k", k}, {"v", v}, {"output", o}})
      if (failed(verifySameSize(raw, "q", q, d, name, value, d)))
        return failure();
  if (failed(verifySameSize(raw, "q", q, 3, "k", k, 3)) ||
      failed(verifySameSize(raw, "v", v, 3, "output", o, 3)))
    return failure();

  Type f32 = Float32Type::get(op.getContext());
  if (Value g = op.getG()) {
    if (failed(verifyRank(raw, "g", g, {3, 4},
                          "[B, T, H] (scalar decay) or [B, T, H, K] (vector "
                          "decay)")) ||
        failed(verifyElementType(raw, "g", g, f32)))
      return failure();
    auto gType = cast<MemRefType>(g.getType());
    for (unsigned d = 0; d < 3; ++d)
      if (failed(verifySameSize(raw, "g", g, d, "q", q, d)))
        return failure();
    if (gType.getRank() == 4 && failed(verifySameSize(raw, "g", g, 3, "q", q, 3)))
      return failure();
  }
  if (Value beta = op.getBeta()) {
    if (failed(verifyRank(raw, "beta", beta, {3}, "[B, T, H]")) ||
        failed(verifyElementType(raw, "beta", beta, f32)))
      return failure();
    for (unsigned d = 0; d < 3; ++d)
      if (failed(verifySameSize(raw, "beta", beta, d, "q", q, d)))
        return failure();
  }
  for (auto [name, state] :
       {std::pair<StringRef, Value>{"initial_state", op.getInitialState()},
        {"final_state", op.getFinalState()}}) {
    if (!state)
      continue;
    if (failed(verifyRank(raw, name, state, {4}, "[N, H, K, V]")) ||
        failed(verifyElementType(raw, name, state, f32)) ||
        failed(verifySameSize(raw, name, state, 1, "q", q, 2)) ||
        failed(verifySameSize(raw, name, state, 2, "q", q, 3)) ||
        failed(verifySameSize(raw, name, state, 3, "v", v, 3)))
      return failure();
  }
  if (Value cu = op.getCuSeqlens())
    if (failed(verifyRank(raw, "cu_seqlens", cu, {1}, "[N + 1]")) ||
        failed(verifyElementType(raw, "cu_seqlens", cu,
                                 IntegerType::get(op.getContext(), 64))))
      return failure();
  return success();
}

/// Checks a canonical form against the operands it needs.
template <typename OpTy>
static LogicalResult verifyFormOperands(OpTy op, RecurrenceFormAttr form) {
  Value g = op.getG();
  switch (form.getDecay()) {
  case DecayKind::none:
    if (g)
      return op.emitOpError("decay = none takes no g operand");
    break;
  case DecayKind::scalar:
    if (!g || cast<MemRefType>(g.getType()).getRank() != 3)
      return op.emitOpError("decay = scalar needs g of shape [B, T, H]");
    break;
  case DecayKind::vector:
    if (!g || cast<MemRefType>(g.getType()).getRank() != 4)
      return op.emitOpError("decay = vector needs g of shape [B, T, H, K]");
    break;
  }
  if (form.getUpdate() == UpdateKind::delta && !op.getBeta())
    return op.emitOpError("update = delta needs a beta operand");
  if (form.getUpdate() == UpdateKind::plain && op.getBeta())
    return op.emitOpError("update = plain takes no beta operand");
  return success();
}

LogicalResult RecurrenceOp::verify() {
  if (failed(verifyRecurrenceOperands(*this)))
    return failure();
  int64_t chunk = getChunkSize();
  if (chunk < 1 || chunk > 256 || !llvm::isPowerOf2_64(chunk))
    return emitOpError() << "chunk_size must be a power of two in [1, 256], got "
                         << chunk;
  bool hasStep = !getStep().empty();
  if (hasStep == bool(getFormAttr()))
    return emitOpError(hasStep ? "has both a step region and a canonical form"
                               : "needs a step region or a canonical form");
  if (auto form = getFormAttr())
    return verifyFormOperands(*this, form);
  return success();
}

/// The tensor type one token of `buffer` has inside the step: the trailing
/// head dimension, or a scalar f32 for per-token scalars.
static Type stepTypeOf(Value buffer, unsigned tokenRank) {
  auto type = cast<MemRefType>(buffer.getType());
  auto f32 = Float32Type::get(buffer.getContext());
  if (type.getRank() <= (int64_t)tokenRank)
    return f32;
  return RankedTensorType::get({type.getDimSize(type.getRank() - 1)}, f32);
}

LogicalResult RecurrenceOp::verifyRegions() {
  if (getStep().empty())
    return success();
  if (!getStep().hasOneBlock())
    return emitOpError("step region must have exactly one block");
  Block &block = getStep().front();
  SmallVector<Type> expected = {stepTypeOf(getQ(), 3), stepTypeOf(getK(), 3),
                                stepTypeOf(getV(), 3)};
  SmallVector<StringRef> names = {"q_t", "k_t", "v_t"};
  if (Value g = getG()) {
    expected.push_back(stepTypeOf(g, 3));
    names.push_back("g_t");
  }
  if (Value beta = getBeta()) {
    expected.push_back(stepTypeOf(beta, 3));
    names.push_back("beta_t");
  }
  auto f32 = Float32Type::get(getContext());
  auto stateType =
      RankedTensorType::get({getHeadDimK(), getHeadDimV()}, f32);
  expected.push_back(stateType);
  names.push_back("S");
  if (block.getNumArguments() != expected.size())
    return emitOpError() << "step region takes " << expected.size()
                         << " arguments (" << llvm::join(names, ", ")
                         << "), got " << block.getNumArguments();
  for (auto [i, arg] : llvm::enumerate(block.getArguments())) {
    auto want = expected[i];
    bool ok = arg.getType() == want;
    if (!ok) {
      // Dynamic sizes on either side are compatible.
      auto a = dyn_cast<RankedTensorType>(arg.getType());
      auto w = dyn_cast<RankedTensorType>(want);
      ok = a && w && a.getRank() == w.getRank() &&
           a.getElementType() == w.getElementType() &&
           llvm::all_of(llvm::zip(a.getShape(), w.getShape()), [](auto p) {
             return compatible(std::get<0>(p), std::get<1>(p));
           });
    }
    if (!ok)
      return emitOpError() << "step argument " << names[i] << " must be "
                           << want << ", got " << arg.getType();
  }
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValues().size() != 2)
    return emitOpError(
        "step region must end with linac.yield of (new state, output)");
  if (yield.getValues()[0].getType() != block.getArguments().back().getType())
    return emitOpError() << "step yields a state of type "
                         << yield.getValues()[0].getType()
                         << ", but the state is "
                         << block.getArguments().back().getType();
  auto outType = dyn_cast<RankedTensorType>(yield.getValues()[1].getType());
  if (!outType || outType.getRank() != 1 ||
      !compatible(outType.getDimSize(0), getHeadDimV()))
    return emitOpError() << "step yields an output of type "
                         << yield.getValues()[1].getType() << ", expected "
                         << stepTypeOf(getV(), 3);
  return success();
}

//===----------------------------------------------------------------------===//
// Step ops
//===----------------------------------------------------------------------===//

LogicalResult OuterOp::verify() {
  auto type = getResult().getType();
  if (!compatible(type.getDimSize(0), getLhs().getType().getDimSize(0)) ||
      !compatible(type.getDimSize(1), getRhs().getType().getDimSize(0)))
    return emitOpError() << "result " << type << " does not match the outer "
                         << "product of " << getLhs().getType() << " and "
                         << getRhs().getType();
  return success();
}

LogicalResult MatVecOp::verify() {
  auto m = getMatrix().getType();
  if (!compatible(m.getDimSize(1), getVector().getType().getDimSize(0)))
    return emitOpError() << "cannot multiply a matrix " << m << " by a vector "
                         << getVector().getType();
  if (!compatible(m.getDimSize(0), getResult().getType().getDimSize(0)))
    return emitOpError() << "result " << getResult().getType()
                         << " does not match the rows of " << m;
  return success();
}

LogicalResult TransposeOp::verify() {
  auto in = getMatrix().getType(), out = getResult().getType();
  if (!compatible(in.getDimSize(0), out.getDimSize(1)) ||
      !compatible(in.getDimSize(1), out.getDimSize(0)))
    return emitOpError() << "result " << out << " is not the transpose of "
                         << in;
  return success();
}

//===----------------------------------------------------------------------===//
// ChunkLoopOp
//===----------------------------------------------------------------------===//

unsigned ChunkLoopOp::getNumExpectedBodyArguments() {
  // q, k, v, [g], [beta], state, output tile, [key sum].
  return 5 + (getG() ? 1 : 0) + (getBeta() ? 1 : 0) + (getNormalize() ? 1 : 0);
}

LogicalResult ChunkLoopOp::verifyRegions() {
  if (failed(verifyRecurrenceOperands(*this)) ||
      failed(verifyFormOperands(*this, getForm())))
    return failure();
  Block &body = getBody().front();
  if (body.getNumArguments() != getNumExpectedBodyArguments())
    return emitOpError() << "body takes " << getNumExpectedBodyArguments()
                         << " arguments, got " << body.getNumArguments();
  for (BlockArgument arg : body.getArguments())
    if (!isa<MemRefType>(arg.getType()))
      return emitOpError() << "body argument #" << arg.getArgNumber()
                           << " must be a memref view, got " << arg.getType();
  if (getChunkSize() < 1)
    return emitOpError() << "chunk_size must be positive, got "
                         << getChunkSize();
  return success();
}

//===----------------------------------------------------------------------===//
// Tile ops
//===----------------------------------------------------------------------===//

LogicalResult ChunkCumsumOp::verify() {
  return verifySameSize(*this, "gates", getGates(), 0, "result", getResult(),
                        0);
}

LogicalResult DecayedScoresOp::verify() {
  Operation *op = getOperation();
  if (failed(verifySameSize(op, "queries", getQueries(), 1, "keys", getKeys(),
                            1)) ||
      failed(verifySameSize(op, "scores", getScores(), 0, "queries",
                            getQueries(), 0)) ||
      failed(verifySameSize(op, "scores", getScores(), 1, "keys", getKeys(),
                            0)))
    return failure();
  if (Value decay = getDecay())
    return verifySameSize(op, "decay", decay, 0, "queries", getQueries(), 0);
  return success();
}

LogicalResult ChunkOutputOp::verify() {
  Operation *op = getOperation();
  if (failed(verifySameSize(op, "queries", getQueries(), 1, "state",
                            getState(), 0)) ||
      failed(verifySameSize(op, "scores", getScores(), 0, "queries",
                            getQueries(), 0)) ||
      failed(verifySameSize(op, "scores", getScores(), 1, "values",
                            getValues(), 0)) ||
      failed(verifySameSize(op, "values", getValues(), 1, "state", getState(),
                            1)) ||
      failed(verifySameSize(op, "result", getResult(), 0, "queries",
                            getQueries(), 0)) ||
      failed(verifySameSize(op, "result", getResult(), 1, "state", getState(),
                            1)))
    return failure();
  if (Value decay = getDecay())
    return verifySameSize(op, "decay", decay, 0, "queries", getQueries(), 0);
  return success();
}

LogicalResult ChunkStateUpdateOp::verify() {
  Operation *op = getOperation();
  if (failed(verifySameSize(op, "keys", getKeys(), 0, "values", getValues(),
                            0)) ||
      failed(verifySameSize(op, "state", getState(), 0, "keys", getKeys(),
                            1)) ||
      failed(verifySameSize(op, "state", getState(), 1, "values", getValues(),
                            1)))
    return failure();
  if (Value decay = getDecay())
    return verifySameSize(op, "decay", decay, 0, "keys", getKeys(), 0);
  return success();
}

LogicalResult ChunkNormalizeOp::verify() {
  Operation *op = getOperation();
  if (failed(verifySameSize(op, "queries", getQueries(), 0, "keys", getKeys(),
                            0)) ||
      failed(verifySameSize(op, "queries", getQueries(), 1, "keys", getKeys(),
                            1)) ||
      failed(verifySameSize(op, "key_sum", getKeySum(), 0, "keys", getKeys(),
                            1)) ||
      failed(verifySameSize(op, "result", getResult(), 0, "queries",
                            getQueries(), 0)))
    return failure();
  return success();
}

#define GET_OP_CLASSES
#include "dialect/LinacOps.cpp.inc"
