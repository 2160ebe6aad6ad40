//===- LinacOps.cpp - verifiers and helpers of linac ops -----------------===//

#include "dialect/Linac.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MathExtras.h"

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

/// The number of tokens of `buffer` (dimension 1) is `substeps` times q's.
static LogicalResult verifySubsteps(Operation *op, StringRef name, Value buffer,
                                    Value q, int64_t substeps) {
  int64_t tokens = cast<ShapedType>(buffer.getType()).getDimSize(1);
  int64_t queries = cast<ShapedType>(q.getType()).getDimSize(1);
  int64_t expected;
  if (ShapedType::isDynamic(tokens) || ShapedType::isDynamic(queries) ||
      (!llvm::MulOverflow(queries, substeps, expected) && tokens == expected))
    return success();
  return op->emitOpError() << "dimension 1 of " << name << " (" << tokens
                           << ") must be " << substeps
                           << " sub-steps per token of q (" << queries << ")";
}

/// Operand checks shared by linac.recurrence and linac.chunk_loop: both carry
/// the same buffers with the same meaning; k, v and beta hold `substeps`
/// sub-steps per token.
template <typename OpTy>
static LogicalResult verifyRecurrenceOperands(OpTy op, int64_t substeps) {
  Operation *raw = op.getOperation();
  Value q = op.getQ(), k = op.getK(), v = op.getV(), o = op.getOutput();
  for (auto [name, value] : {std::pair<StringRef, Value>{"q", q}, {"k", k},
                             {"v", v}, {"output", o}})
    if (failed(verifyRank(raw, name, value, {4}, "[B, T, H, D]")))
      return failure();
  // Empty heads leave nothing to compute, and tiling V would divide by 0.
  for (auto [name, value] : {std::pair<StringRef, Value>{"q", q}, {"v", v}})
    if (cast<MemRefType>(value.getType()).getDimSize(3) == 0)
      return op.emitOpError() << "dimension 3 of " << name
                              << " (the head size) must not be 0";
  Type inputType = cast<MemRefType>(q.getType()).getElementType();
  if (!isInputFloat(inputType))
    return op.emitOpError() << "q must have element type f16, bf16 or f32, got "
                            << inputType;
  for (auto [name, value] :
       {std::pair<StringRef, Value>{"k", k}, {"v", v}, {"output", o}})
    if (failed(verifyElementType(raw, name, value, inputType)))
      return failure();
  // [B, T] agree everywhere (k and v with their sub-steps), H between q and
  // k and between v and output, K between q and k, V between v and output.
  // q and k may have fewer heads than v (grouped heads).
  for (unsigned d = 0; d < 3; ++d)
    if (failed(verifySameSize(raw, "v", v, d == 1 ? 0 : d, "output", o,
                              d == 1 ? 0 : d)))
      return failure();
  if (failed(verifySameSize(raw, "q", q, 1, "output", o, 1)) ||
      failed(verifySameSize(raw, "q", q, 2, "k", k, 2)))
    return failure();
  for (auto [name, value] : {std::pair<StringRef, Value>{"k", k}, {"v", v}})
    if (failed(verifySameSize(raw, "q", q, 0, name, value, 0)) ||
        failed(verifySubsteps(raw, name, value, q, substeps)))
      return failure();
  int64_t queryHeads = cast<MemRefType>(q.getType()).getDimSize(2);
  int64_t valueHeads = cast<MemRefType>(v.getType()).getDimSize(2);
  if (!ShapedType::isDynamic(queryHeads) && !ShapedType::isDynamic(valueHeads) &&
      (queryHeads == 0 || valueHeads % queryHeads != 0))
    return op.emitOpError() << "v has " << valueHeads
                            << " heads, not a multiple of q's " << queryHeads;
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
    if (failed(verifySameSize(raw, "g", g, 0, "q", q, 0)) ||
        failed(verifySameSize(raw, "g", g, 1, "q", q, 1)) ||
        failed(verifySameSize(raw, "g", g, 2, "v", v, 2)))
      return failure();
    if (gType.getRank() == 4 && failed(verifySameSize(raw, "g", g, 3, "q", q, 3)))
      return failure();
  }
  if (Value beta = op.getBeta()) {
    if (failed(verifyRank(raw, "beta", beta, {3}, "[B, T, H]")) ||
        failed(verifyElementType(raw, "beta", beta, f32)))
      return failure();
    if (failed(verifySameSize(raw, "beta", beta, 0, "q", q, 0)) ||
        failed(verifySameSize(raw, "beta", beta, 2, "v", v, 2)) ||
        failed(verifySubsteps(raw, "beta", beta, q, substeps)))
      return failure();
  }
  for (auto [name, state] :
       {std::pair<StringRef, Value>{"initial_state", op.getInitialState()},
        {"final_state", op.getFinalState()}}) {
    if (!state)
      continue;
    if (failed(verifyRank(raw, name, state, {4}, "[N, H, K, V]")) ||
        failed(verifyElementType(raw, name, state, f32)) ||
        failed(verifySameSize(raw, name, state, 1, "v", v, 2)) ||
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
  // I64Attr getters are unsigned: a negative value must not pass as large.
  if (static_cast<int64_t>(getHouseholder()) < 1)
    return emitOpError() << "householder must be at least 1, got "
                         << static_cast<int64_t>(getHouseholder());
  if (failed(verifyRecurrenceOperands(*this, getHouseholder())))
    return failure();
  int64_t chunk = getChunkSize();
  if (chunk < 1 || chunk > 256 || !llvm::isPowerOf2_64(chunk))
    return emitOpError() << "chunk_size must be a power of two in [1, 256], got "
                         << chunk;
  if (getHouseholder() > 1 && !getBeta())
    return emitOpError("householder products are delta-rule steps: they need "
                       "a beta operand");
  if (getBetaSigmoid() && !getBeta())
    return emitOpError("beta_sigmoid needs a beta operand");
  if (getNormalize() && getBeta())
    return emitOpError("normalize applies to plain updates only");
  if (getMode() == ExecutionMode::noncausal && (getG() || getBeta()))
    return emitOpError("non-causal attention has no decay and no step sizes");
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

LogicalResult ScaleRowsOp::verify() {
  if (!compatible(getInput().getType().getDimSize(0),
                  getFactors().getType().getDimSize(0)))
    return emitOpError() << "cannot scale the rows of " << getInput().getType()
                         << " by " << getFactors().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// ChunkLoopOp
//===----------------------------------------------------------------------===//

unsigned ChunkLoopOp::getNumExpectedBodyArguments() {
  // q, k, v, [g], [beta], state, output tile, [key sum], aux...
  return 5 + (getG() ? 1 : 0) + (getBeta() ? 1 : 0) + (getNormalize() ? 1 : 0) +
         getAux().size();
}

LogicalResult ChunkLoopOp::verifyRegions() {
  if (static_cast<int64_t>(getInterleave()) < 1)
    return emitOpError() << "interleave must be at least 1, got "
                         << static_cast<int64_t>(getInterleave());
  if (failed(verifyRecurrenceOperands(*this, getInterleave())) ||
      failed(verifyFormOperands(*this, getForm())))
    return failure();
  if (getAuxLayouts().size() != getAux().size())
    return emitOpError() << "has " << getAux().size() << " aux inputs but "
                         << getAuxLayouts().size() << " aux_layouts";
  for (auto [index, layout, aux] :
       llvm::enumerate(getAuxLayouts(), getAux())) {
    StringRef name = cast<StringAttr>(layout).getValue();
    // The ranks each layout allows, and their shapes for the message.
    auto [ranks, shapes] =
        llvm::StringSwitch<std::pair<SmallVector<int64_t>, StringRef>>(name)
            .Case("token", {{3, 4}, "[B, T, H'] or [B, T, H', D]"})
            .Case("token_value", {{4}, "[B, T, H', V]"})
            .Case("head", {{1, 2}, "[H'] or [H', D]"})
            .Case("head_value", {{2}, "[H', V]"})
            .Default({{}, ""});
    if (ranks.empty())
      return emitOpError() << "unknown aux layout '" << name
                           << "' (expected token, token_value, head or "
                              "head_value)";
    int64_t rank = cast<MemRefType>(aux.getType()).getRank();
    if (!llvm::is_contained(ranks, rank))
      return emitOpError() << "aux input #" << index << " has layout '"
                           << name << "' and must be " << shapes << ", got "
                           << aux.getType();
  }
  for (Region *region : {&getBody(), &getReadout()}) {
    if (region->empty())
      continue;
    Block &block = region->front();
    if (block.getNumArguments() != getNumExpectedBodyArguments())
      return emitOpError() << "body takes " << getNumExpectedBodyArguments()
                           << " arguments, got " << block.getNumArguments();
    for (BlockArgument arg : block.getArguments())
      if (!isa<MemRefType>(arg.getType()))
        return emitOpError() << "body argument #" << arg.getArgNumber()
                             << " must be a memref view, got "
                             << arg.getType();
  }
  if (static_cast<int64_t>(getChunkSize()) < 1)
    return emitOpError() << "chunk_size must be positive, got "
                         << static_cast<int64_t>(getChunkSize());
  return success();
}

//===----------------------------------------------------------------------===//
// Tile ops
//===----------------------------------------------------------------------===//

/// A decay is `[C]` (scalar per row) or `[C, K]` (per channel); `rows` and
/// `channels` are the view it must match.
static LogicalResult verifyDecay(Operation *op, StringRef name, Value decay,
                                 Value rows, unsigned rowDim, Value channels,
                                 unsigned channelDim) {
  auto type = cast<MemRefType>(decay.getType());
  if (type.getRank() != 1 && type.getRank() != 2)
    return op->emitOpError() << name
                             << " must be [C] (scalar decay) or [C, K] "
                                "(vector decay), got "
                             << decay.getType();
  if (failed(verifySameSize(op, name, decay, 0, "rows", rows, rowDim)))
    return failure();
  if (type.getRank() == 2)
    return verifySameSize(op, name, decay, 1, "channels", channels,
                          channelDim);
  return success();
}

LogicalResult ChunkCumsumOp::verify() {
  auto in = cast<MemRefType>(getGates().getType());
  auto out = cast<MemRefType>(getResult().getType());
  if (in.getRank() != out.getRank() || in.getRank() < 1 || in.getRank() > 2)
    return emitOpError() << "gates and result must both be [C] or [C, K], got "
                         << in << " and " << out;
  int64_t repeat = getRepeat();
  if (repeat < 1)
    return emitOpError() << "repeat must be at least 1, got " << repeat;
  if (in.getRank() == 2 &&
      failed(verifySameSize(*this, "gates", getGates(), 1, "result",
                            getResult(), 1)))
    return failure();
  int64_t rows = in.getDimSize(0), outRows = out.getDimSize(0), expected;
  if (!ShapedType::isDynamic(rows) && !ShapedType::isDynamic(outRows) &&
      (llvm::MulOverflow(rows, repeat, expected) || expected != outRows))
    return emitOpError() << "result has " << outRows << " rows, expected "
                         << rows << " x repeat " << getRepeat();
  return success();
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
  int64_t queryStride = getQueryStride(), interleave = getInterleave();
  if (queryStride < 1 || interleave < 1)
    return emitOpError() << "query_stride and interleave must be at least 1, "
                            "got "
                         << queryStride << " and " << interleave;
  Value gates = getGates(), workspace = getWorkspace();
  if (!gates)
    return workspace ? emitOpError("only gated scores take a workspace")
                     : success();
  if (!workspace)
    return emitOpError("gated scores need a workspace");
  auto gateType = cast<MemRefType>(gates.getType());
  if (gateType.getRank() == 1) {
    if (failed(
            verifySameSize(op, "workspace", workspace, 0, "gates", gates, 0)) ||
        failed(
            verifySameSize(op, "workspace", workspace, 1, "gates", gates, 0)))
      return failure();
    // Every key belongs to a token of the window sums (the lowering reads
    // the sums of hidden entries too, then discards them).
    int64_t tokens = gateType.getDimSize(0), expected;
    int64_t keys = cast<MemRefType>(getKeys().getType()).getDimSize(0);
    if (!ShapedType::isDynamic(tokens) && !ShapedType::isDynamic(keys) &&
        (llvm::MulOverflow(tokens, interleave, expected) || keys != expected))
      return emitOpError() << "keys has " << keys << " rows, expected "
                           << tokens << " gates x interleave " << interleave;
    return success();
  }
  if (gateType.getRank() != 2)
    return emitOpError() << "gates must be [T] (scalar) or [T, K] (vector), "
                            "got "
                         << gateType;
  if (getQueryStride() != 1 || getInterleave() != 1)
    return emitOpError("vector gates need one key per query and token "
                       "(query_stride = interleave = 1)");
  return failure(
      failed(verifySameSize(op, "gates", gates, 0, "queries", getQueries(),
                            0)) ||
      failed(verifySameSize(op, "gates", gates, 1, "queries", getQueries(),
                            1)) ||
      failed(verifySameSize(op, "workspace", workspace, 1, "keys", getKeys(),
                            1)));
}

LogicalResult DecayedRowsOp::verify() {
  Operation *op = getOperation();
  if (failed(verifySameSize(op, "result", getResult(), 0, "input", getInput(),
                            0)) ||
      failed(verifySameSize(op, "result", getResult(), 1, "input", getInput(),
                            1)))
    return failure();
  return verifyDecay(op, "decay", getDecay(), getInput(), 0, getInput(), 1);
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
  // Only the decay's last row (the whole chunk's) is read: with interleaved
  // sub-steps it has one row per token, fewer than the keys.
  if (Value decay = getDecay()) {
    auto type = cast<MemRefType>(decay.getType());
    if (type.getRank() == 2)
      return verifySameSize(op, "decay", decay, 1, "keys", getKeys(), 1);
    if (type.getRank() != 1)
      return emitOpError() << "decay must be [C] or [C, K], got " << type;
  }
  return success();
}

LogicalResult UTTransformOp::verify() {
  Operation *op = getOperation();
  return failure(
      failed(verifySameSize(op, "products", getProducts(), 0, "products",
                            getProducts(), 1)) ||
      failed(verifySameSize(op, "beta", getBeta(), 0, "products",
                            getProducts(), 0)) ||
      failed(verifySameSize(op, "result", getResult(), 0, "products",
                            getProducts(), 0)) ||
      failed(verifySameSize(op, "result", getResult(), 1, "products",
                            getProducts(), 1)));
}

LogicalResult ChunkMatmulOp::verify() {
  Operation *op = getOperation();
  return failure(
      failed(verifySameSize(op, "lhs", getLhs(), 1, "rhs", getRhs(), 0)) ||
      failed(verifySameSize(op, "result", getResult(), 0, "lhs", getLhs(), 0)) ||
      failed(verifySameSize(op, "result", getResult(), 1, "rhs", getRhs(), 1)));
}

LogicalResult ChunkL2NormalizeOp::verify() {
  Operation *op = getOperation();
  return failure(
      failed(verifySameSize(op, "result", getResult(), 0, "input", getInput(),
                            0)) ||
      failed(verifySameSize(op, "result", getResult(), 1, "input", getInput(),
                            1)));
}

LogicalResult ChunkSigmoidOp::verify() {
  return verifySameSize(*this, "result", getResult(), 0, "input", getInput(),
                        0);
}

LogicalResult SsmOp::verify() {
  Operation *op = getOperation();
  Value x = getX(), dt = getDt(), a = getA(), b = getB(), c = getC(),
        o = getOutput();
  if (failed(verifyRank(op, "x", x, {4}, "[B, T, H, P]")) ||
      failed(verifyRank(op, "output", o, {4}, "[B, T, H, P]")) ||
      failed(verifyRank(op, "dt", dt, {3}, "[B, T, H]")) ||
      failed(verifyRank(op, "a", a, {1, 2}, "[H] (SSD) or [H, N] (selective "
                                            "scan)")) ||
      failed(verifyRank(op, "b", b, {4}, "[B, T, G, N]")) ||
      failed(verifyRank(op, "c", c, {4}, "[B, T, G, N]")))
    return failure();
  Type inputType = cast<MemRefType>(x.getType()).getElementType();
  if (!isInputFloat(inputType))
    return emitOpError() << "x must have element type f16, bf16 or f32, got "
                         << inputType;
  Type f32 = Float32Type::get(getContext());
  for (auto [name, value] : {std::pair<StringRef, Value>{"b", b}, {"c", c},
                             {"output", o}})
    if (failed(verifyElementType(op, name, value, inputType)))
      return failure();
  for (auto [name, value] : {std::pair<StringRef, Value>{"dt", dt}, {"a", a}})
    if (failed(verifyElementType(op, name, value, f32)))
      return failure();
  for (unsigned d = 0; d < 4; ++d)
    if (failed(verifySameSize(op, "output", o, d, "x", x, d)))
      return failure();
  for (unsigned d = 0; d < 3; ++d)
    if (failed(verifySameSize(op, "dt", dt, d, "x", x, d)))
      return failure();
  for (unsigned d = 0; d < 4; ++d)
    if (failed(verifySameSize(op, "c", c, d, "b", b, d)))
      return failure();
  if (failed(verifySameSize(op, "b", b, 0, "x", x, 0)) ||
      failed(verifySameSize(op, "b", b, 1, "x", x, 1)) ||
      failed(verifySameSize(op, "a", a, 0, "x", x, 2)))
    return failure();
  if (isSelectiveScan() &&
      failed(verifySameSize(op, "a", a, 1, "b", b, 3)))
    return failure();
  int64_t heads = cast<MemRefType>(x.getType()).getDimSize(2);
  int64_t groups = cast<MemRefType>(b.getType()).getDimSize(2);
  if (!ShapedType::isDynamic(heads) && !ShapedType::isDynamic(groups) &&
      (groups == 0 || heads % groups != 0))
    return emitOpError() << "x has " << heads
                         << " heads, not a multiple of the " << groups
                         << " groups of b and c";
  if (Value d = getD()) {
    if (failed(verifyRank(op, "d", d, {1, 2}, "[H] or [H, P]")) ||
        failed(verifyElementType(op, "d", d, f32)) ||
        failed(verifySameSize(op, "d", d, 0, "x", x, 2)))
      return failure();
    if (cast<MemRefType>(d.getType()).getRank() == 2 &&
        failed(verifySameSize(op, "d", d, 1, "x", x, 3)))
      return failure();
  }
  if (Value z = getZ()) {
    if (failed(verifyRank(op, "z", z, {4}, "[B, T, H, P]")) ||
        failed(verifyElementType(op, "z", z, inputType)))
      return failure();
    for (unsigned i = 0; i < 4; ++i)
      if (failed(verifySameSize(op, "z", z, i, "x", x, i)))
        return failure();
  }
  if (Value bias = getDtBias())
    if (failed(verifyRank(op, "dt_bias", bias, {1}, "[H]")) ||
        failed(verifyElementType(op, "dt_bias", bias, f32)) ||
        failed(verifySameSize(op, "dt_bias", bias, 0, "x", x, 2)))
      return failure();
  for (auto [name, state] :
       {std::pair<StringRef, Value>{"initial_state", getInitialState()},
        {"final_state", getFinalState()}}) {
    if (!state)
      continue;
    if (failed(verifyRank(op, name, state, {4}, "[N, H, N_state, P]")) ||
        failed(verifyElementType(op, name, state, f32)) ||
        failed(verifySameSize(op, name, state, 1, "x", x, 2)) ||
        failed(verifySameSize(op, name, state, 2, "b", b, 3)) ||
        failed(verifySameSize(op, name, state, 3, "x", x, 3)))
      return failure();
  }
  if (Value cu = getCuSeqlens())
    if (failed(verifyRank(op, "cu_seqlens", cu, {1}, "[N + 1]")) ||
        failed(verifyElementType(op, "cu_seqlens", cu,
                                 IntegerType::get(getContext(), 64))))
      return failure();
  int64_t chunk = getChunkSize();
  if (chunk < 1 || chunk > 256 || !llvm::isPowerOf2_64(chunk))
    return emitOpError() << "chunk_size must be a power of two in [1, 256], got "
                         << chunk;
  if (getMode() == ExecutionMode::noncausal)
    return emitOpError("a state-space model is causal");
  return success();
}

LogicalResult SsmInputsOp::verify() {
  Operation *op = getOperation();
  if (failed(verifySameSize(op, "dt", getDt(), 0, "x", getX(), 0)) ||
      failed(verifySameSize(op, "values", getValues(), 0, "x", getX(), 0)) ||
      failed(verifySameSize(op, "values", getValues(), 1, "x", getX(), 1)) ||
      failed(verifySameSize(op, "gates", getGates(), 0, "x", getX(), 0)))
    return failure();
  auto gates = cast<MemRefType>(getGates().getType());
  if (gates.getRank() == 2)
    return verifySameSize(op, "gates", getGates(), 1, "rates", getRates(), 0);
  if (gates.getRank() != 1)
    return emitOpError() << "gates must be [C] or [C, N], got " << gates;
  return success();
}

LogicalResult SsmOutputOp::verify() {
  Operation *op = getOperation();
  if (failed(verifySameSize(op, "result", getResult(), 0, "x", getX(), 0)) ||
      failed(verifySameSize(op, "result", getResult(), 1, "x", getX(), 1)))
    return failure();
  if (Value skip = getSkip()) {
    int64_t size = cast<MemRefType>(skip.getType()).getDimSize(0);
    int64_t width = cast<MemRefType>(getX().getType()).getDimSize(1);
    if (size != 1 && !compatible(size, width))
      return emitOpError() << "skip must be one coefficient ([1]) or one per "
                              "column of x ("
                           << width << "), got " << skip.getType();
  }
  if (Value gate = getGate())
    if (failed(verifySameSize(op, "gate", gate, 0, "x", getX(), 0)) ||
        failed(verifySameSize(op, "gate", gate, 1, "x", getX(), 1)))
      return failure();
  return success();
}

LogicalResult ChunkScanOp::verify() {
  Operation *op = getOperation();
  if (failed(verifySameSize(op, "keys", getKeys(), 0, "queries",
                            getQueries(), 0)) ||
      failed(verifySameSize(op, "queries", getQueries(), 1, "keys", getKeys(),
                            1)) ||
      failed(verifySameSize(op, "values", getValues(), 0, "queries",
                            getQueries(), 0)) ||
      failed(verifySameSize(op, "state", getState(), 0, "keys", getKeys(),
                            1)) ||
      failed(verifySameSize(op, "state", getState(), 1, "values", getValues(),
                            1)) ||
      failed(verifySameSize(op, "result", getResult(), 0, "queries",
                            getQueries(), 0)) ||
      failed(verifySameSize(op, "result", getResult(), 1, "values",
                            getValues(), 1)))
    return failure();
  return verifyDecay(op, "gates", getGates(), getQueries(), 0, getKeys(), 1);
}

LogicalResult ChunkReadoutOp::verify() {
  Operation *op = getOperation();
  return failure(
      failed(verifySameSize(op, "queries", getQueries(), 1, "state",
                            getState(), 0)) ||
      failed(verifySameSize(op, "result", getResult(), 0, "queries",
                            getQueries(), 0)) ||
      failed(verifySameSize(op, "result", getResult(), 1, "state", getState(),
                            1)));
}

LogicalResult ChunkKeySumOp::verify() {
  return verifySameSize(*this, "key_sum", getKeySum(), 0, "keys", getKeys(),
                        1);
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
