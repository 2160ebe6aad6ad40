//===- ChunkBody.cpp - the chunked algorithm as tile-level ops -----------===//

#include "passes/ChunkBody.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::linac;

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

/// A fully dynamic strided layout: the body is written for any view the
/// tiling pass hands it.
MemRefType viewType(ArrayRef<int64_t> shape, Type elementType) {
  SmallVector<int64_t> strides(shape.size(), kDyn);
  auto layout =
      StridedLayoutAttr::get(elementType.getContext(), kDyn, strides);
  return MemRefType::get(shape, elementType, layout);
}

int64_t trailingDim(Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  return type.getDimSize(type.getRank() - 1);
}

/// The body argument type of an aux input with the given layout.
MemRefType auxViewType(Value buffer, StringRef layout) {
  auto type = cast<MemRefType>(buffer.getType());
  Type element = type.getElementType();
  if (layout == "token")
    return type.getRank() == 3 ? viewType({kDyn}, element)
                               : viewType({kDyn, trailingDim(buffer)}, element);
  if (layout == "token_value")
    return viewType({kDyn, trailingDim(buffer)}, element);
  // head: [H] gives [1], [H, D] gives [D]; head_value: [H, V] gives [V].
  return viewType({type.getRank() == 1 ? 1 : trailingDim(buffer)}, element);
}

/// The views of one chunk a chunk loop's body receives.
struct BodyArgs {
  Value q, k, v, g, beta, state, out, keySum;
  SmallVector<Value> aux;
};

/// Creates the body block(s) of `loop`: one argument per chunk view.
BodyArgs addBodyArguments(ChunkLoopOp loop, Region &region, int64_t K,
                          int64_t V, bool vectorDecay) {
  Location loc = loop.getLoc();
  Type inputType = cast<MemRefType>(loop.getQ().getType()).getElementType();
  Type valueType = cast<MemRefType>(loop.getV().getType()).getElementType();
  Type f32 = Float32Type::get(loop.getContext());
  Block *block = new Block();
  region.push_back(block);
  BodyArgs args;
  args.q = block->addArgument(viewType({kDyn, K}, inputType), loc);
  args.k = block->addArgument(viewType({kDyn, K}, inputType), loc);
  args.v = block->addArgument(viewType({kDyn, V}, valueType), loc);
  if (loop.getG())
    args.g = block->addArgument(
        viewType(vectorDecay ? ArrayRef<int64_t>{kDyn, K}
                             : ArrayRef<int64_t>{kDyn},
                 f32),
        loc);
  if (loop.getBeta())
    args.beta = block->addArgument(viewType({kDyn}, f32), loc);
  args.state = block->addArgument(viewType({K, V}, f32), loc);
  args.out = block->addArgument(viewType({kDyn, V}, f32), loc);
  if (loop.getNormalize())
    args.keySum = block->addArgument(viewType({K}, f32), loc);
  for (auto [buffer, layout] : llvm::zip(loop.getAux(), loop.getAuxLayouts()))
    args.aux.push_back(block->addArgument(
        auxViewType(buffer, cast<StringAttr>(layout).getValue()), loc));
  return args;
}

int64_t headDim(Value buffer) {
  return cast<MemRefType>(buffer.getType()).getDimSize(3);
}

} // namespace

Value mlir::linac::createChunkScratch(OpBuilder &b, Location loc,
                                      ArrayRef<int64_t> shape,
                                      ArrayRef<OpFoldResult> sizes,
                                      ArrayRef<int64_t> valueDims) {
  auto alloca =
      memref::AllocaOp::create(b, loc, MemRefType::get(shape, b.getF32Type()));
  if (!valueDims.empty())
    alloca->setAttr(kValueDimsAttrName, b.getDenseI64ArrayAttr(valueDims));
  SmallVector<OpFoldResult> offsets(shape.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(shape.size(), b.getIndexAttr(1));
  return memref::SubViewOp::create(b, loc, alloca, offsets, sizes, strides);
}

void mlir::linac::emitChunkAlgorithm(OpBuilder &b, Location loc,
                                     const ChunkInputs &in) {
  int64_t K = in.headDimK, V = in.headDimV;
  int64_t C = in.tokensPerChunk, interleave = in.interleave;
  int64_t subSteps = C * interleave;
  Type f32 = b.getF32Type();
  bool vectorDecay = in.form.getDecay() == DecayKind::vector;
  Value g = in.gates;
  auto scratch = [&](ArrayRef<int64_t> shape, ArrayRef<OpFoldResult> sizes,
                     ArrayRef<int64_t> valueDims = {}) {
    return createChunkScratch(b, loc, shape, sizes, valueDims);
  };
  auto rowsOf = [&](Value view) -> Value {
    return memref::DimOp::create(b, loc, view, 0);
  };
  OpFoldResult k = b.getIndexAttr(K);
  Value queryRows = rowsOf(in.queries), keyRows = rowsOf(in.keys);
  auto decayShape = [&](int64_t rows) {
    return vectorDecay ? SmallVector<int64_t>{rows, K}
                       : SmallVector<int64_t>{rows};
  };
  auto decaySizes = [&](Value rows) {
    return vectorDecay ? SmallVector<OpFoldResult>{rows, k}
                       : SmallVector<OpFoldResult>{rows};
  };

  Value queries = in.queries, keys = in.keys;
  if (in.qkL2Norm) {
    queries = scratch({C, K}, {queryRows, k});
    ChunkL2NormalizeOp::create(b, loc, in.queries, queries);
    keys = scratch({subSteps, K}, {keyRows, k});
    ChunkL2NormalizeOp::create(b, loc, in.keys, keys);
  }

  // Chunk-local sums of log decays: forward over the tokens (decays from
  // the chunk's start; the last one decays the state), reverse over the
  // sub-steps (decays to the chunk's end), and forward over the sub-steps
  // (the delta rule's keys).
  Value forward, reverse, subStepForward, workspace;
  auto cumsum = [&](int64_t rows, Value rowCount, int64_t repeat,
                    bool reversed) {
    Value sums = scratch(decayShape(rows), decaySizes(rowCount));
    ChunkCumsumOp::create(b, loc, g, sums, repeat, reversed);
    return sums;
  };
  if (g) {
    forward = cumsum(C, queryRows, 1, false);
    reverse = cumsum(subSteps, keyRows, interleave, true);
    subStepForward = interleave == 1
                         ? forward
                         : cumsum(subSteps, keyRows, interleave, false);
    workspace = vectorDecay
                    ? scratch({32 + subSteps, K},
                              {b.getIndexAttr(32 + subSteps), k})
                    : scratch({C, C}, {queryRows, queryRows});
  }
  Value scores = scratch({C, subSteps}, {queryRows, keyRows});
  DecayedScoresOp::create(b, loc, queries, keys, g, workspace, scores,
                          /*strict=*/false, interleave, interleave);

  // Rows rescaled by their decays share one scratch buffer: each is dead
  // before the next is written.
  Value rowScratch;
  auto decayedRows = [&](Value input, Value decay, Value rows) {
    if (!decay)
      return input;
    if (!rowScratch)
      rowScratch =
          memref::AllocaOp::create(b, loc, MemRefType::get({subSteps, K}, f32));
    Value view = memref::SubViewOp::create(
        b, loc, rowScratch,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{rows, k},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    DecayedRowsOp::create(b, loc, input, decay, view);
    return view;
  };

  Value values = in.values;
  if (in.form.getUpdate() == UpdateKind::delta) {
    Value stepSizes = in.beta;
    if (in.betaSigmoid) {
      stepSizes = scratch({subSteps}, {keyRows});
      ChunkSigmoidOp::create(b, loc, in.beta, stepSizes, in.betaSigmoid);
    }
    // Key-key products at the sub-step level, strictly lower triangular.
    Value products = scratch({subSteps, subSteps}, {keyRows, keyRows});
    DecayedScoresOp::create(b, loc, keys, keys, g, workspace, products,
                            /*strict=*/true, 1, interleave);
    Value transform = scratch({subSteps, subSteps}, {keyRows, keyRows});
    UTTransformOp::create(b, loc, products, stepSizes, transform);
    // W = T (K * exp(G)); U = T V - W S.
    Value decayedKeys = decayedRows(keys, subStepForward, keyRows);
    Value w = scratch({subSteps, K}, {keyRows, k});
    // T is lower triangular: each row sums only the rows it sees.
    IntegerAttr lowerTriangular = b.getI64IntegerAttr(1);
    ChunkMatmulOp::create(b, loc, transform, decayedKeys, w,
                          Accumulate::overwrite, lowerTriangular);
    Value valueWidth = memref::DimOp::create(b, loc, in.values, 1);
    values = scratch({subSteps, V}, {keyRows, valueWidth}, {1});
    ChunkMatmulOp::create(b, loc, transform, in.values, values,
                          Accumulate::overwrite, lowerTriangular);
    ChunkMatmulOp::create(b, loc, w, in.state, values, Accumulate::subtract,
                          /*causal_stride=*/nullptr);
  }

  Value decayedQueries = decayedRows(queries, forward, queryRows);
  // The scores are zero above the causal diagonal of stride `interleave`.
  ChunkOutputOp::create(b, loc, decayedQueries, in.state, scores, values,
                        in.scale, in.output, b.getI64IntegerAttr(interleave));
  Value keysToEnd = decayedRows(keys, reverse, keyRows);
  ChunkStateUpdateOp::create(b, loc, keysToEnd, values, forward, in.state);
  if (in.keySum)
    ChunkNormalizeOp::create(b, loc, queries, keys, in.scale, in.keySum,
                             in.output, /*fixed=*/false);
}

ChunkLoopOp mlir::linac::buildChunkLoop(RecurrenceOp op,
                                        int64_t tokensPerChunk,
                                        int64_t interleave) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  RecurrenceFormAttr form = op.getFormAttr();
  auto loop = ChunkLoopOp::create(
      b, loc, op.getQ(), op.getK(), op.getV(), op.getG(), op.getBeta(),
      op.getInitialState(), op.getOutput(), op.getFinalState(),
      op.getCuSeqlens(), ValueRange{}, op.getScale(),
      b.getI64IntegerAttr(tokensPerChunk), form, op.getNormalizeAttr(),
      b.getI64IntegerAttr(interleave), b.getStrArrayAttr({}));
  int64_t K = op.getHeadDimK(), V = op.getHeadDimV();
  BodyArgs args = addBodyArguments(loop, loop.getBody(), K, V,
                                   form.getDecay() == DecayKind::vector);
  b.setInsertionPointToStart(&loop.getBody().front());
  ChunkInputs in;
  in.queries = args.q;
  in.keys = args.k;
  in.values = args.v;
  in.gates = args.g;
  in.beta = args.beta;
  in.state = args.state;
  in.output = args.out;
  in.keySum = args.keySum;
  in.scale = op.getScale();
  in.form = form;
  in.tokensPerChunk = tokensPerChunk;
  in.interleave = interleave;
  in.headDimK = K;
  in.headDimV = V;
  in.qkL2Norm = op.getQkL2norm();
  in.betaSigmoid = op.getBetaSigmoidAttr();
  emitChunkAlgorithm(b, loc, in);
  YieldOp::create(b, loc);
  return loop;
}

ChunkLoopOp mlir::linac::buildNonCausalChunkLoop(RecurrenceOp op,
                                                 int64_t tokensPerChunk) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto loop = ChunkLoopOp::create(
      b, loc, op.getQ(), op.getK(), op.getV(), Value(), Value(),
      op.getInitialState(), op.getOutput(), op.getFinalState(),
      op.getCuSeqlens(), ValueRange{},
      op.getScale(), b.getI64IntegerAttr(tokensPerChunk), op.getFormAttr(),
      op.getNormalizeAttr(), b.getI64IntegerAttr(1), b.getStrArrayAttr({}));
  int64_t K = op.getHeadDimK(), V = op.getHeadDimV();
  // With qk_l2norm the body reads the keys and the readout the queries
  // through a normalized copy of the chunk's rows.
  auto l2Normalized = [&](Value rows) -> Value {
    if (!op.getQkL2norm())
      return rows;
    Value count = memref::DimOp::create(b, loc, rows, 0);
    Value copy = createChunkScratch(b, loc, {tokensPerChunk, K},
                                    {count, b.getIndexAttr(K)});
    ChunkL2NormalizeOp::create(b, loc, rows, copy);
    return copy;
  };
  // Accumulate: S += K^T V and z += sum of the keys over every chunk.
  BodyArgs acc = addBodyArguments(loop, loop.getBody(), K, V, false);
  b.setInsertionPointToStart(&loop.getBody().front());
  Value keys = l2Normalized(acc.k);
  ChunkStateUpdateOp::create(b, loc, keys, acc.v, Value(), acc.state);
  if (acc.keySum)
    ChunkKeySumOp::create(b, loc, keys, acc.keySum);
  YieldOp::create(b, loc);
  // Readout: O = scale * Q S, divided by scale * q . z with the normalizer.
  BodyArgs read = addBodyArguments(loop, loop.getReadout(), K, V, false);
  b.setInsertionPointToStart(&loop.getReadout().front());
  Value queries = l2Normalized(read.q);
  ChunkReadoutOp::create(b, loc, queries, read.state, op.getScale(), read.out);
  // `fixed`: the keys only give the rows' shape, z is already complete.
  if (read.keySum)
    ChunkNormalizeOp::create(b, loc, queries, read.k, op.getScale(),
                             read.keySum, read.out, /*fixed=*/true);
  YieldOp::create(b, loc);
  return loop;
}

ChunkLoopOp mlir::linac::buildSsmChunkLoop(SsmOp op, int64_t tokensPerChunk) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  bool scan = op.isSelectiveScan();
  // The loop's g is dt, one scalar per token; the scan's per-state decays
  // are made inside the body from the rates.
  auto form =
      RecurrenceFormAttr::get(ctx, DecayKind::scalar, UpdateKind::plain);
  // The rates a, the dt bias, the skip D and the gate z ride along as aux.
  SmallVector<Value> aux = {op.getA()};
  SmallVector<StringRef> layouts = {"head"};
  if (Value bias = op.getDtBias()) {
    aux.push_back(bias);
    layouts.push_back("head");
  }
  if (Value d = op.getD()) {
    aux.push_back(d);
    layouts.push_back(cast<MemRefType>(d.getType()).getRank() == 1 ? "head"
                                                                   : "head_value");
  }
  if (Value z = op.getZ()) {
    aux.push_back(z);
    layouts.push_back("token_value");
  }
  Value one = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.0f));
  auto loop = ChunkLoopOp::create(
      b, loc, op.getC(), op.getB(), op.getX(), op.getDt(), Value(),
      op.getInitialState(), op.getOutput(), op.getFinalState(),
      op.getCuSeqlens(), aux, one, b.getI64IntegerAttr(tokensPerChunk), form,
      UnitAttr(), b.getI64IntegerAttr(1), b.getStrArrayAttr(layouts));

  // The body's views: q = C, k = B, v = x, g = dt; the state is [N, P].
  int64_t N = headDim(op.getB()), P = headDim(op.getX());
  Block *block = new Block();
  loop.getBody().push_back(block);
  Type inputType = cast<MemRefType>(op.getX().getType()).getElementType();
  Type f32 = b.getF32Type();
  Value c = block->addArgument(viewType({kDyn, N}, inputType), loc);
  Value bArg = block->addArgument(viewType({kDyn, N}, inputType), loc);
  Value x = block->addArgument(viewType({kDyn, P}, inputType), loc);
  Value dt = block->addArgument(viewType({kDyn}, f32), loc);
  Value state = block->addArgument(viewType({N, P}, f32), loc);
  Value out = block->addArgument(viewType({kDyn, P}, f32), loc);
  SmallVector<Value> auxArgs;
  for (auto [buffer, layout] : llvm::zip(aux, layouts))
    auxArgs.push_back(block->addArgument(auxViewType(buffer, layout), loc));
  b.setInsertionPointToStart(block);
  unsigned next = 0;
  Value rates = auxArgs[next++];
  Value bias = op.getDtBias() ? auxArgs[next++] : Value();
  Value skip = op.getD() ? auxArgs[next++] : Value();
  Value gate = op.getZ() ? auxArgs[next++] : Value();

  // dt' = softplus(dt + bias), g = dt' * a, v = x * dt'.
  int64_t C = tokensPerChunk;
  Value rows = memref::DimOp::create(b, loc, x, 0);
  Value width = memref::DimOp::create(b, loc, x, 1);
  Value gates = scan ? createChunkScratch(b, loc, {C, N}, {rows, b.getIndexAttr(N)})
                     : createChunkScratch(b, loc, {C}, {rows});
  Value values = createChunkScratch(b, loc, {C, P}, {rows, width}, {1});
  SsmInputsOp::create(b, loc, x, dt, rates, bias, gates, values,
                      op.getDtSoftplusAttr());
  if (scan) {
    ChunkScanOp::create(b, loc, c, bArg, values, gates, state, out);
  } else {
    ChunkInputs in;
    in.queries = c;
    in.keys = bArg;
    in.values = values;
    in.gates = gates;
    in.state = state;
    in.output = out;
    in.scale = one;
    in.form = form;
    in.tokensPerChunk = C;
    in.headDimK = N;
    in.headDimV = P;
    emitChunkAlgorithm(b, loc, in);
  }
  SsmOutputOp::create(b, loc, x, skip, gate, out);
  YieldOp::create(b, loc);
  return loop;
}
