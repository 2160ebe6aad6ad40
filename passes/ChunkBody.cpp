//===- ChunkBody.cpp - the chunked algorithm as tile-level ops -----------===//

#include "passes/ChunkBody.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::linac;

namespace {

/// A fully dynamic strided layout: the body is written for any view the
/// tiling pass hands it.
MemRefType viewType(ArrayRef<int64_t> shape, Type elementType) {
  SmallVector<int64_t> strides(shape.size(), ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(elementType.getContext(),
                                       ShapedType::kDynamic, strides);
  return MemRefType::get(shape, elementType, layout);
}

/// Builds the body of one chunk.
class BodyBuilder {
public:
  BodyBuilder(OpBuilder &b, Location loc, int64_t K, int64_t V)
      : b(b), loc(loc), K(K), V(V) {}

  /// An f32 scratch buffer of static `shape`, viewed at `sizes`;
  /// `valueDims` lists the dimensions that hold V.
  Value scratch(ArrayRef<int64_t> shape, ArrayRef<OpFoldResult> sizes,
                ArrayRef<int64_t> valueDims = {}) {
    auto alloca = memref::AllocaOp::create(
        b, loc, MemRefType::get(shape, b.getF32Type()));
    if (!valueDims.empty())
      alloca->setAttr(kValueDimsAttrName, b.getDenseI64ArrayAttr(valueDims));
    SmallVector<OpFoldResult> offsets(shape.size(), b.getIndexAttr(0));
    SmallVector<OpFoldResult> strides(shape.size(), b.getIndexAttr(1));
    return memref::SubViewOp::create(b, loc, alloca, offsets, sizes, strides);
  }

  Value rows(Value view) { return memref::DimOp::create(b, loc, view, 0); }
  OpFoldResult k() { return b.getIndexAttr(K); }

  OpBuilder &b;
  Location loc;
  int64_t K, V;
};

} // namespace

ChunkLoopOp mlir::linac::buildChunkLoop(RecurrenceOp op,
                                        int64_t tokensPerChunk,
                                        int64_t interleave) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  RecurrenceFormAttr form = op.getFormAttr();
  auto loop = ChunkLoopOp::create(
      b, loc, op.getQ(), op.getK(), op.getV(), op.getG(), op.getBeta(),
      op.getInitialState(), op.getOutput(), op.getFinalState(),
      op.getCuSeqlens(), op.getScale(), b.getI64IntegerAttr(tokensPerChunk),
      form, op.getNormalizeAttr(), b.getI64IntegerAttr(interleave));

  // Body arguments: views of one chunk of one (sequence, head, value tile).
  Type inputType = cast<MemRefType>(op.getQ().getType()).getElementType();
  Type f32 = b.getF32Type();
  int64_t K = op.getHeadDimK(), V = op.getHeadDimV();
  int64_t dyn = ShapedType::kDynamic;
  bool vectorDecay = form.getDecay() == DecayKind::vector;
  Block *body = new Block();
  loop.getBody().push_back(body);
  Value q = body->addArgument(viewType({dyn, K}, inputType), loc);
  Value k = body->addArgument(viewType({dyn, K}, inputType), loc);
  Value v = body->addArgument(viewType({dyn, V}, inputType), loc);
  Value g;
  if (op.getG())
    g = body->addArgument(
        viewType(vectorDecay ? ArrayRef<int64_t>{dyn, K} : ArrayRef<int64_t>{dyn},
                 f32),
        loc);
  Value beta = op.getBeta() ? body->addArgument(viewType({dyn}, f32), loc)
                            : Value();
  Value state = body->addArgument(viewType({K, V}, f32), loc);
  Value out = body->addArgument(viewType({dyn, V}, f32), loc);
  Value keySum =
      op.getNormalize() ? body->addArgument(viewType({K}, f32), loc) : Value();

  b.setInsertionPointToStart(body);
  BodyBuilder bb(b, loc, K, V);
  int64_t C = tokensPerChunk, subSteps = tokensPerChunk * interleave;
  Value queryRows = bb.rows(q), keyRows = bb.rows(k);
  auto decayShape = [&](int64_t rows) {
    return vectorDecay ? SmallVector<int64_t>{rows, K} : SmallVector<int64_t>{rows};
  };
  auto decaySizes = [&](Value rows) {
    return vectorDecay ? SmallVector<OpFoldResult>{rows, bb.k()}
                       : SmallVector<OpFoldResult>{rows};
  };

  Value queries = q, keys = k;
  if (op.getQkL2norm()) {
    queries = bb.scratch({C, K}, {queryRows, bb.k()});
    ChunkL2NormalizeOp::create(b, loc, q, queries);
    keys = bb.scratch({subSteps, K}, {keyRows, bb.k()});
    ChunkL2NormalizeOp::create(b, loc, k, keys);
  }

  // Chunk-local sums of log decays: forward over the tokens (decays from
  // the chunk's start; the last one decays the state), reverse over the
  // sub-steps (decays to the chunk's end), and forward over the sub-steps
  // (the delta rule's keys).
  Value forward, reverse, subStepForward;
  auto cumsum = [&](int64_t rows, Value rowCount, int64_t repeat,
                    bool reversed) {
    Value sums = bb.scratch(decayShape(rows), decaySizes(rowCount));
    ChunkCumsumOp::create(b, loc, g, sums, repeat, reversed);
    return sums;
  };
  Value scoreWorkspace, productWorkspace;
  if (g) {
    forward = cumsum(C, queryRows, 1, false);
    reverse = cumsum(subSteps, keyRows, interleave, true);
    subStepForward =
        interleave == 1 ? forward : cumsum(subSteps, keyRows, interleave, false);
    if (vectorDecay) {
      scoreWorkspace = bb.scratch({32 + subSteps, K},
                                  {b.getIndexAttr(32 + subSteps), bb.k()});
      productWorkspace = scoreWorkspace;
    } else {
      scoreWorkspace = bb.scratch({C, C}, {queryRows, queryRows});
      productWorkspace = scoreWorkspace;
    }
  }
  Value scores = bb.scratch({C, subSteps}, {queryRows, keyRows});
  DecayedScoresOp::create(b, loc, queries, keys, g, scoreWorkspace, scores,
                          /*strict=*/false, interleave, interleave);

  // Rows rescaled by their decays share one scratch buffer: each is dead
  // before the next is written.
  Value rowScratch;
  auto decayedRows = [&](Value input, Value decay, Value rows) {
    if (!decay)
      return input;
    if (!rowScratch)
      rowScratch = memref::AllocaOp::create(
          b, loc, MemRefType::get({subSteps, K}, f32));
    Value view = memref::SubViewOp::create(
        b, loc, rowScratch,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{rows, bb.k()},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    DecayedRowsOp::create(b, loc, input, decay, view);
    return view;
  };

  Value values = v;
  if (form.getUpdate() == UpdateKind::delta) {
    Value stepSizes = beta;
    if (auto factor = op.getBetaSigmoidAttr()) {
      stepSizes = bb.scratch({subSteps}, {keyRows});
      ChunkSigmoidOp::create(b, loc, beta, stepSizes, factor);
    }
    // Key-key products at the sub-step level, strictly lower triangular.
    Value products = bb.scratch({subSteps, subSteps}, {keyRows, keyRows});
    DecayedScoresOp::create(b, loc, keys, keys, g, productWorkspace, products,
                            /*strict=*/true, 1, interleave);
    Value transform = bb.scratch({subSteps, subSteps}, {keyRows, keyRows});
    UTTransformOp::create(b, loc, products, stepSizes, transform);
    // W = T (K * exp(G)); U = T V - W S.
    Value decayedKeys = decayedRows(keys, subStepForward, keyRows);
    Value w = bb.scratch({subSteps, K}, {keyRows, bb.k()});
    ChunkMatmulOp::create(b, loc, transform, decayedKeys, w,
                          Accumulate::overwrite);
    Value valueWidth = memref::DimOp::create(b, loc, v, 1);
    values = bb.scratch({subSteps, V}, {keyRows, valueWidth}, {1});
    ChunkMatmulOp::create(b, loc, transform, v, values, Accumulate::overwrite);
    ChunkMatmulOp::create(b, loc, w, state, values, Accumulate::subtract);
  }

  Value scale = op.getScale();
  Value decayedQueries = decayedRows(queries, forward, queryRows);
  ChunkOutputOp::create(b, loc, decayedQueries, state, scores, values, scale,
                        out);
  Value keysToEnd = decayedRows(keys, reverse, keyRows);
  ChunkStateUpdateOp::create(b, loc, keysToEnd, values, forward, state);
  if (keySum)
    ChunkNormalizeOp::create(b, loc, queries, keys, scale, keySum, out);
  YieldOp::create(b, loc);
  return loop;
}
