//===- TileChunkLoop.cpp - grid over (value tile, head, sequence) --------===//

#include "passes/ChunkBody.h"
#include "passes/LinalgHelpers.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"

#include <functional>

namespace mlir::linac {
#define GEN_PASS_DEF_LINACTILECHUNKLOOP
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

/// Index arithmetic with constant folding, so static sizes stay static.
struct IndexMath {
  OpBuilder &b;
  Location loc;
  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value ceilDiv(Value x, Value y) {
    return arith::CeilDivSIOp::create(b, loc, x, y);
  }
  Value max(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value divUI(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value dim(Value memref, int64_t d) {
    return memref::DimOp::create(b, loc, memref, d);
  }
  /// True when the optional buffer is present and not empty at run time.
  Value nonEmpty(Value memref) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                 dim(memref, 0), c(0));
  }
};

/// `loc` named for what the code built at it does (labels of
/// linac-profile-phases).
Location named(Location loc, StringRef what) {
  return NameLoc::get(StringAttr::get(loc->getContext(), what), loc);
}

/// A rank-reduced view `source[offsets][sizes]` with unit strides, keeping the
/// dimensions listed in `keep`.
Value view(OpBuilder &b, Location loc, Value source,
           ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
           ArrayRef<unsigned> keep) {
  auto sourceType = cast<MemRefType>(source.getType());
  SmallVector<OpFoldResult> strides(sourceType.getRank(), b.getIndexAttr(1));
  SmallVector<int64_t> shape;
  for (unsigned d : keep) {
    std::optional<int64_t> size = getConstantIntValue(sizes[d]);
    shape.push_back(size ? *size : ShapedType::kDynamic);
  }
  auto resultType = memref::SubViewOp::inferRankReducedResultType(
      shape, sourceType, offsets, sizes, strides);
  return memref::SubViewOp::create(b, loc, resultType, source, offsets, sizes,
                                   strides);
}

/// A copy of a body's scratch buffer with its value dimensions (marked by
/// the chunk pass) narrowed to the value tile width.
Value hoistScratch(OpBuilder &b, memref::AllocaOp alloca, int64_t blockV) {
  MemRefType type = alloca.getType();
  SmallVector<int64_t> shape(type.getShape());
  if (auto dims = alloca->getAttrOfType<DenseI64ArrayAttr>(kValueDimsAttrName))
    for (int64_t d : dims.asArrayRef())
      shape[d] = std::min(shape[d], blockV);
  return memref::AllocaOp::create(
      b, alloca.getLoc(),
      MemRefType::get(shape, type.getElementType(), type.getLayout(),
                      type.getMemorySpace()));
}

/// Whether a chunk body has a phase that walks the chunk's rows in sequence:
/// the UT transform's forward substitution, the SSM scan, or the vector
/// decay's per-row window sums. Such a phase is bound by latency, not by the
/// FMA units or L1 misses, and the next chunk's prefetches issued as one
/// burst at the top of the chunk overlap it for free; measured
/// (benchmarks/ab_objects.py, K = V = 128, T = 4096), spreading them over
/// the products instead made chunk_gated_delta_rule 8-15% and chunk_gla 3%
/// slower, while chunk_simple_gla gained 8-12% (and chunk_linear_attn 10% at
/// K = V = 64, nothing measurable at 128).
bool hasSequentialPhase(Region &body) {
  return body
      .walk([](Operation *op) {
        if (isa<UTTransformOp, ChunkScanOp>(op))
          return WalkResult::interrupt();
        auto scores = dyn_cast<DecayedScoresOp>(op);
        if (scores && scores.getGates() &&
            cast<MemRefType>(scores.getGates().getType()).getRank() == 2)
          return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

/// One (sequence, head, value tile) of a chunk loop: builds the sequential
/// loop over its chunks, the views each chunk's body receives, and clones
/// the body.
struct ChunkViews {
  ChunkLoopOp op;
  OpBuilder &b;
  Location loc;
  int64_t C, K, BV;
  Value batchRow, start, length, head, queryHead, heads, v0;
  OpFoldResult bv;
  Value state, outTile, keySum;
  bool stageInputs = false;
  /// Staged buffers keep the inputs' element type (GPUs: bf16 tiles feed the
  /// tensor cores from shared memory at half the bytes) instead of f32.
  bool stageInInputType = false;
  /// With stageInputs, prefetch the next chunk's rows into L2 (CPUs).
  bool prefetchNextChunk = true;
  /// A state pass (state-checkpoints=M): no outputs; after every M chunks
  /// but the last, `storeCheckpoint(segment)` stores the state. (What only
  /// the outputs needed is left to linac-erase-unobserved-writes.)
  int64_t checkpointChunks = 0;
  std::function<void(Value segment)> storeCheckpoint;

  /// With staging, `view` copied (as f32, or in its own element type with
  /// stageInInputType) into rows [0, rows) of a local buffer of `capacity`
  /// rows allocated before the chunk loop.
  Value staged(Value view, int64_t capacity, Operation *hoistPoint) {
    if (!stageInputs)
      return view;
    auto type = cast<MemRefType>(view.getType());
    SmallVector<int64_t> shape = {capacity};
    SmallVector<OpFoldResult> sizes = {
        memref::getMixedSize(b, loc, view, 0)};
    if (type.getRank() == 2) {
      int64_t width = type.getDimSize(1);
      // A partial value tile has a dynamic width; the buffer holds BV.
      shape.push_back(ShapedType::isDynamic(width) ? BV : width);
      sizes.push_back(memref::getMixedSize(b, loc, view, 1));
    }
    Value buffer;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(hoistPoint);
      Type element = stageInInputType ? type.getElementType() : b.getF32Type();
      buffer =
          memref::AllocaOp::create(b, loc, MemRefType::get(shape, element));
    }
    SmallVector<OpFoldResult> offsets(shape.size(), b.getIndexAttr(0));
    SmallVector<unsigned> keep;
    for (unsigned d = 0; d < shape.size(); ++d)
      keep.push_back(d);
    Value local = ::view(b, loc, buffer, offsets, sizes, keep);
    buildConvertingCopy(b, named(loc, "stage inputs"), view, local)
        ->setAttr(kStagedInputAttrName, b.getUnitAttr());
    return local;
  }

  /// Prefetches rows [first, first + count) of token-major
  /// buffer `buffer` (columns [col, col + width) of head `row`) into L2, one
  /// prefetch per cache line: the next chunk's rows then arrive while this
  /// chunk computes, instead of stalling its staging copy (head rows lie
  /// H * K elements apart, too far for the hardware prefetcher). Returns the
  /// loop over the rows.
  scf::ForOp prefetchRows(Value buffer, Value row, Value first, Value count,
                          OpFoldResult col, OpFoldResult width, bool write) {
    constexpr int64_t kCacheLineBytes = 64;
    IndexMath m{b, loc};
    auto type = cast<MemRefType>(buffer.getType());
    int64_t lineElements = std::max<int64_t>(
        1, kCacheLineBytes * 8 / type.getElementTypeBitWidth());
    Value col0 = getValueOrCreateConstantIndexOp(b, loc, col);
    Value cols = getValueOrCreateConstantIndexOp(b, loc, width);
    auto rowLoop = scf::ForOp::create(
        b, loc, m.c(0), count, m.c(1), ValueRange{},
        [&](OpBuilder &rb, Location l, Value t, ValueRange) {
          scf::ForOp::create(
              rb, l, m.c(0), cols, m.c(lineElements), ValueRange{},
              [&](OpBuilder &cb, Location cl, Value c, ValueRange) {
                IndexMath cm{cb, cl};
                memref::PrefetchOp::create(
                    cb, cl, buffer,
                    ValueRange{batchRow, cm.add(first, t), row,
                               cm.add(col0, c)},
                    write, /*localityHint=*/2, /*isDataCache=*/true);
                scf::YieldOp::create(cb, cl);
              });
          scf::YieldOp::create(rb, l);
        });
    return rowLoop;
  }

  Value rowsView(Value buffer, Value row, Value first, Value count,
                 OpFoldResult col, OpFoldResult width) {
    OpFoldResult idx1 = b.getIndexAttr(1);
    return view(b, loc, buffer, {batchRow, first, row, col},
                {idx1, count, idx1, width}, {1, 3});
  }
  Value scalarsView(Value buffer, Value row, Value first, Value count) {
    OpFoldResult idx1 = b.getIndexAttr(1);
    return view(b, loc, buffer, {batchRow, first, row}, {idx1, count, idx1},
                {1});
  }
  /// The head an input with fewer heads than the values reads.
  Value headOf(Value buffer, unsigned dim) {
    IndexMath m{b, loc};
    Value own = m.dim(buffer, dim);
    return m.divUI(head, m.divUI(heads, own));
  }

  /// The chunk views of aux input `buffer` with layout `layout`.
  Value auxView(Value buffer, StringRef layout, Value t0, Value tc) {
    auto type = cast<MemRefType>(buffer.getType());
    OpFoldResult idx0 = b.getIndexAttr(0), idx1 = b.getIndexAttr(1);
    if (layout == "token" && type.getRank() == 3)
      return scalarsView(buffer, headOf(buffer, 2), t0, tc);
    if (layout == "token" || layout == "token_value") {
      bool tiled = layout == "token_value";
      OpFoldResult width = b.getIndexAttr(type.getDimSize(3));
      return rowsView(buffer, headOf(buffer, 2), t0, tc,
                      tiled ? OpFoldResult(v0) : idx0, tiled ? bv : width);
    }
    if (type.getRank() == 1)
      return view(b, loc, buffer, {headOf(buffer, 0)}, {idx1}, {0});
    bool tiled = layout == "head_value";
    return view(b, loc, buffer,
                {headOf(buffer, 0), tiled ? OpFoldResult(v0) : idx0},
                {idx1, tiled ? bv : OpFoldResult(b.getIndexAttr(type.getDimSize(1)))},
                {1});
  }

  /// scf.for over the chunks, cloning `region` once per chunk.
  void emitLoop(Region &region, bool storeOutput) {
    IndexMath m{b, loc};
    int64_t substeps = op.getInterleave();
    Value zero = m.c(0), one = m.c(1);
    auto chunkLoop =
        scf::ForOp::create(b, loc, zero, m.ceilDiv(length, m.c(C)), one);
    Operation *hoistPoint = chunkLoop;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(chunkLoop.getBody());
    Value offsetInSeq = m.mul(chunkLoop.getInductionVar(), m.c(C));
    Value t0 = m.add(start, offsetInSeq);
    Value tc = m.min(m.c(C), m.sub(length, offsetInSeq));
    Value s0 = substeps == 1 ? t0 : m.mul(t0, m.c(substeps));
    Value sc = substeps == 1 ? tc : m.mul(tc, m.c(substeps));
    OpFoldResult idx0 = b.getIndexAttr(0), kWidth = b.getIndexAttr(K);
    IRMapping mapping;
    Block &body = region.front();
    unsigned arg = 0;
    int64_t subSteps = C * substeps;
    mapping.map(body.getArgument(arg++),
                staged(rowsView(op.getQ(), queryHead, t0, tc, idx0, kWidth),
                       C, hoistPoint));
    mapping.map(body.getArgument(arg++),
                staged(rowsView(op.getK(), queryHead, s0, sc, idx0, kWidth),
                       subSteps, hoistPoint));
    mapping.map(body.getArgument(arg++),
                staged(rowsView(op.getV(), head, s0, sc, v0, bv), subSteps,
                       hoistPoint));
    if (Value g = op.getG()) {
      bool vector = cast<MemRefType>(g.getType()).getRank() == 4;
      mapping.map(body.getArgument(arg++),
                  staged(vector ? rowsView(g, head, t0, tc, idx0, kWidth)
                                : scalarsView(g, head, t0, tc),
                         C, hoistPoint));
    }
    if (Value beta = op.getBeta())
      mapping.map(
          body.getArgument(arg++),
          staged(scalarsView(beta, head, s0, sc), subSteps, hoistPoint));
    // With staging, the next chunk's rows are prefetched (none after the
    // last chunk: its count is <= 0).
    if (stageInputs && prefetchNextChunk) {
      Value nextT0 = m.add(t0, m.c(C));
      Value nextCount =
          m.min(m.c(C), m.sub(length, m.add(offsetInSeq, m.c(C))));
      Value nextS0 = substeps == 1 ? nextT0 : m.mul(nextT0, m.c(substeps));
      Value nextSc =
          substeps == 1 ? nextCount : m.mul(nextCount, m.c(substeps));
      SmallVector<scf::ForOp> prefetches;
      if (!checkpointChunks)
        prefetches.push_back(prefetchRows(op.getQ(), queryHead, nextT0,
                                          nextCount, idx0, kWidth, false));
      if (op.getK() != op.getQ() || substeps != 1)
        prefetches.push_back(prefetchRows(op.getK(), queryHead, nextS0, nextSc,
                                          idx0, kWidth, false));
      prefetches.push_back(
          prefetchRows(op.getV(), head, nextS0, nextSc, v0, bv, false));
      if (storeOutput)
        prefetches.push_back(prefetchRows(op.getOutput(), head, nextT0,
                                          nextCount, v0, bv, true));
      // Products-only bodies leave them to linac-vectorize-contractions to
      // spread over the products.
      if (!hasSequentialPhase(region))
        for (scf::ForOp loop : prefetches)
          loop->setAttr(kDeferredPrefetchAttrName, b.getUnitAttr());
    }
    mapping.map(body.getArgument(arg++), state);
    Value out = view(b, loc, outTile, {idx0, idx0}, {tc, bv}, {0, 1});
    mapping.map(body.getArgument(arg++), out);
    if (keySum)
      mapping.map(body.getArgument(arg++), keySum);
    for (auto [buffer, layout] : llvm::zip(op.getAux(), op.getAuxLayouts()))
      mapping.map(body.getArgument(arg++),
                  auxView(buffer, cast<StringAttr>(layout).getValue(), t0, tc));

    // Clone the body; static scratch buffers move out of the chunk loop,
    // those that hold the value dimension shrink to the value tile.
    for (Operation &bodyOp : body.without_terminator()) {
      auto alloca = dyn_cast<memref::AllocaOp>(bodyOp);
      if (alloca && alloca.getType().hasStaticShape()) {
        OpBuilder::InsertionGuard hoist(b);
        b.setInsertionPoint(hoistPoint);
        mapping.map(alloca.getResult(), hoistScratch(b, alloca, BV));
        continue;
      }
      // Views of a narrowed scratch buffer take their new layout.
      auto subview = dyn_cast<memref::SubViewOp>(bodyOp);
      if (subview && mapping.lookup(subview.getSource()).getType() !=
                         subview.getSourceType()) {
        auto mapped = [&](ArrayRef<OpFoldResult> list) {
          SmallVector<OpFoldResult> result;
          for (OpFoldResult ofr : list)
            result.push_back(isa<Value>(ofr)
                                 ? OpFoldResult(mapping.lookupOrDefault(
                                       cast<Value>(ofr)))
                                 : ofr);
          return result;
        };
        Value narrowed = memref::SubViewOp::create(
            b, subview.getLoc(), mapping.lookup(subview.getSource()),
            mapped(subview.getMixedOffsets()), mapped(subview.getMixedSizes()),
            mapped(subview.getMixedStrides()));
        mapping.map(subview.getResult(), narrowed);
        continue;
      }
      b.clone(bodyOp, mapping);
    }
    if (checkpointChunks) {
      Value next = m.add(chunkLoop.getInductionVar(), one);
      Value atBoundary = arith::AndIOp::create(
          b, loc,
          arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::eq,
              arith::RemUIOp::create(b, loc, next, m.c(checkpointChunks)),
              zero),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, next,
                                chunkLoop.getUpperBound()));
      auto store = scf::IfOp::create(b, loc, atBoundary, /*withElse=*/false);
      OpBuilder::InsertionGuard inside(b);
      b.setInsertionPointToStart(store.thenBlock());
      storeCheckpoint(
          m.divUI(chunkLoop.getInductionVar(), m.c(checkpointChunks)));
    }
    if (storeOutput)
      buildConvertingCopy(b, named(loc, "store output"), out,
                          rowsView(op.getOutput(), head, t0, tc, v0, bv));
  }
};

/// Sum of `segments(length)` over the sequences before `n` of a batch whose
/// bounds `cu` holds when `varlen` (else `uniform`): where a state pass
/// writes sequence n's first segment.
Value buildSegmentsBefore(
    OpBuilder &b, Location loc, Value cu, Value varlen, Value n,
    llvm::function_ref<Value(OpBuilder &, Location, Value)> segments,
    Value uniform) {
  IndexMath m{b, loc};
  auto sum = scf::IfOp::create(b, loc, TypeRange{b.getIndexType()}, varlen,
                               /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(sum.thenBlock());
  auto loop = scf::ForOp::create(
      b, loc, m.c(0), n, m.c(1), ValueRange{m.c(0)},
      [&](OpBuilder &lb, Location l, Value i, ValueRange acc) {
        IndexMath lm{lb, l};
        auto load = [&](Value index) -> Value {
          Value v = memref::LoadOp::create(lb, l, cu, index);
          return arith::IndexCastOp::create(lb, l, lb.getIndexType(), v);
        };
        Value tokens = lm.sub(load(lm.add(i, lm.c(1))), load(i));
        scf::YieldOp::create(
            lb, l, ValueRange{lm.add(acc[0], segments(lb, l, tokens))});
      });
  scf::YieldOp::create(b, loc, loop.getResult(0));
  b.setInsertionPointToStart(sum.elseBlock());
  scf::YieldOp::create(b, loc, uniform);
  return sum.getResult(0);
}

struct TileChunkLoopPass
    : public linac::impl::LinacTileChunkLoopBase<TileChunkLoopPass> {
  using LinacTileChunkLoopBase::LinacTileChunkLoopBase;

  void runOnOperation() override {
    SmallVector<ChunkLoopOp> loops;
    getOperation().walk([&](ChunkLoopOp op) { loops.push_back(op); });
    for (ChunkLoopOp op : loops)
      if (failed(tile(op)))
        return signalPassFailure();
  }

  LogicalResult tile(ChunkLoopOp op) {
    auto qType = cast<MemRefType>(op.getQ().getType());
    auto vType = cast<MemRefType>(op.getV().getType());
    int64_t K = qType.getDimSize(3), V = vType.getDimSize(3);
    if (ShapedType::isDynamic(K) || ShapedType::isDynamic(V))
      return op.emitOpError("head dimensions K and V must be static to tile "
                            "(run linac-specialize first)");
    int64_t BV = blockV > 0 ? std::min<int64_t>(blockV, V) : V;
    int64_t numValueTiles = llvm::divideCeil(V, BV);
    int64_t C = op.getChunkSize();
    if (stateCheckpoints < 0)
      return op.emitOpError("state-checkpoints must be >= 0, got ")
             << stateCheckpoints;
    if (stateCheckpoints > 0 && (op.getNormalize() || !op.getReadout().empty()))
      return op.emitOpError(
          "state checkpoints need a causal recurrence whose only state is S "
          "(this one has a normalizer or a non-causal readout)");
    if (stateCheckpoints > 0 && !op.getFinalState())
      return op.emitOpError(
          "state checkpoints are written to final_state, which this "
          "recurrence lacks");

    OpBuilder b(op);
    Location loc = op.getLoc();
    IndexMath m{b, loc};
    Value zero = m.c(0), one = m.c(1);
    // Heads come from the values; q and k may have fewer (grouped heads).
    Value batch = m.dim(op.getQ(), 0), time = m.dim(op.getQ(), 1),
          heads = m.dim(op.getV(), 2);
    // Runs even when the grid is empty: no heads must not divide by zero.
    Value headsPerGroup = m.divUI(
        heads, arith::MaxUIOp::create(b, loc, m.dim(op.getQ(), 2), one));
    Value cu = op.getCuSeqlens();
    Value varlen = cu ? m.nonEmpty(cu) : Value();
    Value numSeqs = batch;
    if (cu)
      numSeqs = arith::SelectOp::create(b, loc, varlen,
                                        m.sub(m.dim(cu, 0), one), batch);
    Value hasInitial =
        op.getInitialState() ? m.nonEmpty(op.getInitialState()) : Value();
    Value hasFinal = op.getFinalState() ? m.nonEmpty(op.getFinalState()) : Value();

    // The grid: (value tile, head, sequence); a single value tile needs no
    // loop dimension.
    SmallVector<Value> upperBounds = {heads, numSeqs};
    SmallVector<Attribute> roles = {b.getStringAttr(kGridHead),
                                    b.getStringAttr(kGridSequence)};
    if (numValueTiles > 1) {
      upperBounds.insert(upperBounds.begin(), m.c(numValueTiles));
      roles.insert(roles.begin(), b.getStringAttr(kGridValueTile));
    }
    SmallVector<Value> lowerBounds(upperBounds.size(), zero);
    SmallVector<Value> steps(upperBounds.size(), one);
    auto grid =
        scf::ParallelOp::create(b, loc, lowerBounds, upperBounds, steps);
    grid->setAttr(kGridAttrName, b.getArrayAttr(roles));
    b.setInsertionPointToStart(grid.getBody());
    auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
    Block *scopeBody = new Block();
    scope.getBodyRegion().push_back(scopeBody);
    b.setInsertionPointToStart(scopeBody);
    memref::AllocaScopeReturnOp::create(b, loc);
    b.setInsertionPointToStart(scopeBody);

    SmallVector<Value> ivs = grid.getInductionVars();
    Value vt = numValueTiles > 1 ? ivs[0] : zero;
    Value h = ivs[ivs.size() - 2], n = ivs[ivs.size() - 1];

    // Sequence n: batch row, first token and length.
    Value batchRow = n, start = zero, length = time;
    if (cu) {
      auto bounds = scf::IfOp::create(
          b, loc, TypeRange{b.getIndexType(), b.getIndexType(), b.getIndexType()},
          varlen, /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(bounds.thenBlock());
        auto load = [&](Value i) {
          Value v = memref::LoadOp::create(b, loc, cu, i);
          return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
        };
        Value bos = load(n), eos = load(m.add(n, one));
        scf::YieldOp::create(b, loc, ValueRange{zero, bos, m.sub(eos, bos)});
        b.setInsertionPointToStart(bounds.elseBlock());
        scf::YieldOp::create(b, loc, ValueRange{n, zero, time});
      }
      batchRow = bounds.getResult(0);
      start = bounds.getResult(1);
      length = bounds.getResult(2);
    }

    // The value tile [v0, v0 + bv).
    Value v0 = m.mul(vt, m.c(BV));
    OpFoldResult bv = V % BV == 0 ? OpFoldResult(b.getIndexAttr(BV))
                                  : OpFoldResult(m.min(m.c(BV), m.sub(m.c(V), v0)));

    // Local buffers: the state, one output tile, the key sum.
    Type f32 = b.getF32Type();
    auto localView = [&](ArrayRef<int64_t> shape,
                         ArrayRef<OpFoldResult> sizes) -> Value {
      Value buffer =
          memref::AllocaOp::create(b, loc, MemRefType::get(shape, f32));
      SmallVector<unsigned> keep;
      for (unsigned d = 0; d < shape.size(); ++d)
        keep.push_back(d);
      SmallVector<OpFoldResult> offsets(shape.size(), b.getIndexAttr(0));
      return view(b, loc, buffer, offsets, sizes, keep);
    };
    Value state = localView({K, BV}, {b.getIndexAttr(K), bv});
    auto stateView = [&](Value states, Value row) {
      return view(b, loc, states, {row, h, b.getIndexAttr(0), v0},
                  {b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(K), bv},
                  {2, 3});
    };
    buildInitialState(
        b, named(loc, "load state"), hasInitial,
        [&] { return stateView(op.getInitialState(), n); }, state);
    Value keySum;
    if (op.getNormalize()) {
      keySum = localView({K}, {b.getIndexAttr(K)});
      Value zeroF = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
      buildFill(b, loc, zeroF, keySum);
    }
    Value outTile = memref::AllocaOp::create(b, loc, MemRefType::get({C, BV}, f32));

    // The sequential loop(s) over chunks of C tokens: the body, then for
    // non-causal attention the readout over the whole sequence again.
    ChunkViews views{op,
                     b,
                     loc,
                     C,
                     K,
                     BV,
                     batchRow,
                     start,
                     length,
                     h,
                     m.divUI(h, headsPerGroup),
                     heads,
                     v0,
                     bv,
                     state,
                     outTile,
                     keySum,
                     stageInputs};
    views.stageInInputType = stageInInputType;
    views.prefetchNextChunk = prefetchNextChunk;
    // A state pass writes segment j of sequence n to row first + j.
    Value finalRow = n, firstSegment;
    if (stateCheckpoints > 0) {
      op->getParentOfType<func::FuncOp>()->setAttr(
          kSegmentTokensAttrName, b.getI64IntegerAttr(stateCheckpoints * C));
      Value segmentTokens = m.c(stateCheckpoints * C);
      auto segments = [&](OpBuilder &sb, Location sl, Value tokens) {
        IndexMath sm{sb, sl};
        return sm.max(sm.c(1), sm.ceilDiv(tokens, segmentTokens));
      };
      firstSegment = m.mul(n, segments(b, loc, time));
      if (cu)
        firstSegment =
            buildSegmentsBefore(b, loc, cu, varlen, n, segments, firstSegment);
      finalRow = m.sub(m.add(firstSegment, segments(b, loc, length)), one);
      views.checkpointChunks = stateCheckpoints;
      views.storeCheckpoint = [&](Value segment) {
        auto store = scf::IfOp::create(b, loc, hasFinal, /*withElse=*/false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(store.thenBlock());
        buildConvertingCopy(
            b, named(loc, "store checkpoint"), state,
            stateView(op.getFinalState(), m.add(firstSegment, segment)));
      };
    }
    Region *readout = op.getReadout().empty() ? nullptr : &op.getReadout();
    views.emitLoop(op.getBody(), /*storeOutput=*/!readout && !stateCheckpoints);
    if (readout)
      views.emitLoop(*readout, /*storeOutput=*/true);

    // After the last chunk: the final state.
    if (hasFinal) {
      auto store = scf::IfOp::create(b, loc, hasFinal, /*withElse=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(store.thenBlock());
      buildConvertingCopy(b, named(loc, "store state"), state,
                          stateView(op.getFinalState(), finalRow));
    }
    op.erase();
    return success();
  }
};

} // namespace
