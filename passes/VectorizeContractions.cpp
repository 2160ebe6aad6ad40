//===- VectorizeContractions.cpp - register-blocked CPU contractions -----===//
//
// The chunk algebra's matrix products are linalg.generic contractions on
// small tiles (C x K x V). LLVM vectorizes the loops linalg gives them, but
// keeps the output in memory across the reduction. This pass replaces each
// contraction whose operands have unit-stride rows by a register-blocked
// micro-kernel in the vector dialect: a tile of the output stays in vector
// registers for the whole reduction, edges are masked.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACVECTORIZECONTRACTIONS
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;

namespace {

using utils::IteratorType;

/// The attribute SCF-to-CF copies from an scf.for to its loop's branch and
/// the CF-to-LLVM conversion carries into llvm.cond_br (llvm.loop metadata).
constexpr llvm::StringLiteral kLoopAnnotationAttrName = "loop_annotation";

/// The micro-kernels' register tiles for one vector register width.
struct RegisterTiles {
  /// f32 lanes per vector register.
  int64_t lanes;
  /// Rank-1 tiles: rows x vectors of accumulators, or, where that covers
  /// whole output rows known statically (more than rankOneVectors and at most
  /// wideVectors vectors), wideRows x wideVectors.
  int64_t rankOneRows, rankOneVectors;
  int64_t wideRows, wideVectors;
  /// Dot-product tiles: dotRows x dotColumns outputs, whose sums are reduced
  /// into one vector, a lane each (dotRows * dotColumns == lanes).
  int64_t dotRows, dotColumns;
};

/// AVX-512 (32 registers of 16 lanes): 16 accumulators, 8 output rows by 2
/// vectors, or 4 by 4 for output rows of 33-64 columns. (Measured with
/// benchmarks/ab_objects.py against 4 x 2: 8 x 2 is 5-27% faster at K = V =
/// 128 across chunk_simple_gla, chunk_gla and chunk_gated_delta_rule, 4 x 4
/// 4-9% faster at K = V = 64 but 10% slower at K = V = 128.)
constexpr RegisterTiles kTiles512 = {16, 8, 2, 4, 4, 4, 4};
/// AVX2 (16 registers of 8 lanes): 8 accumulators, 2 rows by 4 vectors.
/// AVX-512's tiles on 8-lane vectors (32 accumulators) spill: 2.1x slower.
/// Measured on chunk_simple_gla, K = V = 128, on a 2-core AMD EPYC (Zen,
/// AVX2) with benchmarks/ab_objects.py: 2 x 4 21.9 ms, 4 x 2 24.3, 8 x 1
/// 33.6, 6 x 2 (12 accumulators) 28.7, 3 x 4 34.6, 4 x 3 39.9, 2 x 6 46.4;
/// again once whole rows were stored unmasked (times relative to 2 x 4, also
/// chunk_gla and chunk_gated_delta_rule): 4 x 2 0.96-1.01, 6 x 2 1.01-1.05,
/// 3 x 4 1.46; dot-product tiles 4 x 2, 8 x 1, 1 x 8: 1.02-1.07.
constexpr RegisterTiles kTiles256 = {8, 2, 4, 2, 4, 2, 4};
/// SSE (16 registers of 4 lanes), e.g. the portable x86-64: AVX2's tiles.
constexpr RegisterTiles kTiles128 = {4, 2, 4, 2, 4, 2, 2};

// The dot-product tile's sums are reduced into one vector, a lane each.
static_assert(kTiles512.dotRows * kTiles512.dotColumns == kTiles512.lanes &&
              kTiles256.dotRows * kTiles256.dotColumns == kTiles256.lanes &&
              kTiles128.dotRows * kTiles128.dotColumns == kTiles128.lanes);

/// Deferred prefetches: a burst of lines per this many reduction steps of
/// an output tile (one at least), at most kMaxBursts (from a depth of 64 on).
/// Three bursts measured best at depths 64 and 128 (seven at 128: +2%).
constexpr int64_t kStepsPerPrefetchBurst = 16;
constexpr int64_t kMaxBursts = 3;

/// Which product a contraction computes, in terms of the loops:
///   RankOne:    out[i, j] (+|-)= sum_r A(i, r) B[r, j]  (A read as lhs[i][r]
///               or, transposed, lhs[r][i])
///   DotProduct: out[i, j] += sum_d lhs[i, d] rhs[j, d]
enum class Form { RankOne, DotProduct };

struct Contraction {
  Form form;
  bool lhsTransposed = false;
  bool subtract = false;
  Value lhs, rhs, out;
  /// The causal diagonal's query stride when the output above it is
  /// discarded (DotProduct, linac.causal_output) or the lhs above it is zero
  /// (RankOne, linac.causal_lhs), else 0.
  int64_t causalStride = 0;
};

bool hasUnitStrideRows(Value memref) {
  auto type = dyn_cast<MemRefType>(memref.getType());
  if (!type || type.getRank() != 2)
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) &&
         strides.back() == 1;
}

/// The stride of causal mark `name` on `op`, 0 without it.
int64_t causalStrideOf(linalg::GenericOp op, StringRef name) {
  auto stride = op->getAttrOfType<IntegerAttr>(name);
  return stride ? std::max<int64_t>(stride.getInt(), 0) : 0;
}

/// Strips an arith.extf of a block argument.
BlockArgument argumentOf(Value value) {
  if (auto ext = value.getDefiningOp<arith::ExtFOp>())
    value = ext.getIn();
  return dyn_cast<BlockArgument>(value);
}

/// Recognizes `acc +/- ext(a) * ext(b)` generics with one of the three loop
/// structures ChunkAlgebra emits.
std::optional<Contraction> matchContraction(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 3 || !op.hasPureBufferSemantics())
    return std::nullopt;
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *combine = yield.getValues()[0].getDefiningOp();
  if (!combine || !isa<arith::AddFOp, arith::SubFOp>(combine) ||
      combine->getOperand(0) != body.getArgument(2))
    return std::nullopt;
  auto mul = combine->getOperand(1).getDefiningOp<arith::MulFOp>();
  if (!mul)
    return std::nullopt;
  BlockArgument x = argumentOf(mul.getLhs()), y = argumentOf(mul.getRhs());
  if (!x || !y || x.getArgNumber() != 0 || y.getArgNumber() != 1)
    return std::nullopt;
  // Exactly the ops above: a product of the (converted) inputs.
  if (std::distance(body.begin(), body.end()) > 6)
    return std::nullopt;

  Contraction c;
  c.subtract = isa<arith::SubFOp>(combine);
  c.lhs = op.getDpsInputs()[0];
  c.rhs = op.getDpsInputs()[1];
  c.out = op.getDpsInits()[0];
  if (!hasUnitStrideRows(c.lhs) || !hasUnitStrideRows(c.rhs) ||
      !hasUnitStrideRows(c.out))
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  auto map = [&](ArrayRef<unsigned> dims) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d : dims)
      exprs.push_back(getAffineDimExpr(d, ctx));
    return AffineMap::get(3, 0, exprs, ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<IteratorType> iters = op.getIteratorTypesArray();
  auto is = [&](ArrayRef<IteratorType> expected, AffineMap a, AffineMap b,
                AffineMap o) {
    return iters == SmallVector<IteratorType>(expected) && maps[0] == a &&
           maps[1] == b && maps[2] == o;
  };
  constexpr IteratorType par = IteratorType::parallel,
                         red = IteratorType::reduction;
  if (is({par, red, par}, map({0, 1}), map({1, 2}), map({0, 2}))) {
    c.form = Form::RankOne;
    c.causalStride = causalStrideOf(op, linac::kCausalLhsAttrName);
    return c;
  }
  if (is({red, par, par}, map({0, 1}), map({0, 2}), map({1, 2}))) {
    c.form = Form::RankOne;
    c.lhsTransposed = true;
    return c;
  }
  if (!c.subtract &&
      is({par, par, red}, map({0, 2}), map({1, 2}), map({0, 1}))) {
    c.form = Form::DotProduct;
    c.causalStride = causalStrideOf(op, linac::kCausalOutputAttrName);
    return c;
  }
  return std::nullopt;
}

/// The op just before a rank-one contraction when it only rewrites the
/// contraction's output in place: folded into the micro-kernel's first read
/// of the output, one pass over the output less (the state's decay before
/// the state update, the zero fill before Q S). `fill`: out = value;
/// `scale`: out[i, j] *= f(i), f computed from rows of 1-D inputs or from
/// values defined outside. (Folding the scale after P V into its final
/// write measured 15% slower on chunk_simple_gla, for reasons not found.)
struct OutputRewrite {
  Operation *op = nullptr;
  Value fillValue;
  linalg::GenericOp scale;
  /// The multiplier's operand in the scale's body.
  Value factor;
};

/// The buffer a view reads: through view-like ops (subviews, casts, ...) to
/// the allocation or argument.
Value bufferOf(Value view) {
  while (auto viewLike = view.getDefiningOp<ViewLikeOpInterface>())
    view = viewLike.getViewSource();
  return view;
}

/// Matches `op` as an in-place rewrite of `out` (see OutputRewrite).
std::optional<OutputRewrite> matchOutputRewrite(Operation *op, Value out) {
  if (!op)
    return std::nullopt;
  auto outType = cast<MemRefType>(out.getType());
  if (!outType.getElementType().isF32())
    return std::nullopt;
  if (auto fill = dyn_cast<linalg::FillOp>(op)) {
    if (fill.getOutputs()[0] != out || !fill.value().getType().isF32())
      return std::nullopt;
    OutputRewrite rewrite;
    rewrite.op = op;
    rewrite.fillValue = fill.value();
    return rewrite;
  }
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumDpsInits() != 1 || generic.getDpsInits()[0] != out ||
      generic.getNumLoops() != 2 || generic.getNumReductionLoops() != 0)
    return std::nullopt;
  MLIRContext *ctx = op->getContext();
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  if (maps.back() != AffineMap::getMultiDimIdentityMap(2, ctx))
    return std::nullopt;
  AffineMap byRow = AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx);
  for (auto [input, map] : llvm::zip(generic.getDpsInputs(), maps))
    if (map != byRow || cast<MemRefType>(input.getType()).getRank() != 1)
      return std::nullopt;
  Block &body = generic.getRegion().front();
  BlockArgument outArg = body.getArguments().back();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto mul = yield.getValues()[0].getDefiningOp<arith::MulFOp>();
  if (!mul || !outArg.hasOneUse() || !mul.getType().isF32())
    return std::nullopt;
  Value factor = mul.getLhs() == outArg   ? mul.getRhs()
                 : mul.getRhs() == outArg ? mul.getLhs()
                                          : Value();
  if (!factor)
    return std::nullopt;
  // Only pure scalar arithmetic besides the product (it is recomputed per
  // row in the micro-kernel).
  for (Operation &bodyOp : body.without_terminator())
    if (&bodyOp != mul && !isPure(&bodyOp))
      return std::nullopt;
  OutputRewrite rewrite;
  rewrite.op = op;
  rewrite.scale = generic;
  rewrite.factor = factor;
  return rewrite;
}

/// An upper bound of `memref`'s extent `d`: its static size, or that of the
/// buffer it views (the staged chunk buffers are subviews of static allocas),
/// or `fallback`.
int64_t staticExtent(Value memref, unsigned d, int64_t fallback = 64) {
  int64_t size = cast<MemRefType>(memref.getType()).getDimSize(d);
  if (!ShapedType::isDynamic(size))
    return size;
  auto source = dyn_cast<MemRefType>(bufferOf(memref).getType());
  if (source && source.getRank() == 2 &&
      !ShapedType::isDynamic(source.getDimSize(d)))
    return source.getDimSize(d);
  return fallback;
}

/// A rank-1 contraction's multiply-adds, from the static extents (a causal
/// lhs halves them).
int64_t rankOneWork(const Contraction &k) {
  int64_t work =
      staticExtent(k.out, 0) * staticExtent(k.out, 1) * staticExtent(k.rhs, 0);
  return std::max<int64_t>(k.causalStride ? work / 2 : work, 1);
}

/// A prefetch loop over the rows of the next chunk (marked
/// kDeferredPrefetchAttrName), usually with an inner loop over each row's
/// cache lines, whose lines this contraction issues: lines
/// [from, to) / total of them (shares in proportion to the takers' work),
/// spread over its output tiles.
struct DeferredPrefetch {
  scf::ForOp rowLoop;
  int64_t from = 0, to = 1, total = 1;

  /// The loop over a row's lines when it is all the row loop holds and its
  /// bounds come from outside (a one-line row has none left after
  /// canonicalization); without it, whole rows are the unit.
  scf::ForOp lineLoop() {
    Block *body = rowLoop.getBody();
    auto lines = body->getOperations().size() == 2
                     ? dyn_cast<scf::ForOp>(body->front())
                     : scf::ForOp();
    if (!lines)
      return {};
    for (Value bound :
         {lines.getLowerBound(), lines.getUpperBound(), lines.getStep()})
      if (rowLoop.getRegion().isAncestor(bound.getParentRegion()))
        return {};
    return lines;
  }
};

/// Builds the vector code of one contraction at the op's position.
struct MicroKernel {
  OpBuilder &b;
  Location loc;
  const RegisterTiles &tiles;
  /// Prefetches to issue from this contraction's tiles (rank-1 form only).
  SmallVector<DeferredPrefetch> prefetches;

  /// Iterations of `loop` (none when its bounds are crossed).
  Value tripCount(scf::ForOp loop) {
    return arith::CeilDivUIOp::create(
        b, loc, max(sub(loop.getUpperBound(), loop.getLowerBound()), c(0)),
        loop.getStep());
  }
  /// Induction variable value of iteration `i` of `loop`.
  Value iterationValue(scf::ForOp loop, Value i) {
    return add(loop.getLowerBound(),
               arith::MulIOp::create(b, loc, i, loop.getStep()));
  }

  /// A deferred prefetch's lines for this contraction, [begin, end) in the
  /// row-major order of its loop nest, and how many each output tile issues.
  /// Computed once before the tile loops: no division per tile.
  struct PrefetchSchedule {
    Value begin, end, perTile, linesPerRow;
  };
  SmallVector<PrefetchSchedule> schedulePrefetches(Value tiles) {
    SmallVector<PrefetchSchedule> schedules;
    for (DeferredPrefetch &p : prefetches) {
      PrefetchSchedule s;
      scf::ForOp lines = p.lineLoop();
      s.linesPerRow = lines ? tripCount(lines) : c(1);
      // The last chunk prefetches no rows.
      Value total =
          arith::MulIOp::create(b, loc, tripCount(p.rowLoop), s.linesPerRow);
      auto boundary = [&](int64_t share) {
        return arith::DivUIOp::create(
            b, loc, arith::MulIOp::create(b, loc, c(share), total), c(p.total));
      };
      s.begin = boundary(p.from);
      s.end = boundary(p.to);
      s.perTile = arith::CeilDivUIOp::create(b, loc, sub(s.end, s.begin),
                                             max(tiles, c(1)));
      schedules.push_back(s);
    }
    return schedules;
  }
  /// Issues burst `burst` of `bursts` of output tile `tile`'s lines: the
  /// body of each prefetch loop nest again, at the row and line of each.
  void issuePrefetches(ArrayRef<PrefetchSchedule> schedules, Value tile,
                       int64_t burst, int64_t bursts) {
    for (auto [index, p] : llvm::enumerate(prefetches)) {
      // (Named, not bound: the lambda below captures it.)
      const PrefetchSchedule &s = schedules[index];
      scf::ForOp rows = p.rowLoop, lines = p.lineLoop();
      auto at = [&](int64_t part) {
        Value within = arith::DivUIOp::create(
            b, loc, arith::MulIOp::create(b, loc, s.perTile, c(part)),
            c(bursts));
        return min(
            add(add(s.begin, arith::MulIOp::create(b, loc, tile, s.perTile)),
                within),
            s.end);
      };
      Value first = at(burst), last = at(burst + 1);
      scf::ForOp::create(
          b, loc, first, last, c(1), ValueRange{},
          [&](OpBuilder &nb, Location l, Value line, ValueRange) {
            OpBuilder::InsertionGuard inner(b);
            b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
            IRMapping mapping;
            mapping.map(rows.getInductionVar(),
                        iterationValue(rows, arith::DivUIOp::create(
                                                 b, l, line, s.linesPerRow)));
            Block *body = rows.getBody();
            if (lines) {
              mapping.map(
                  lines.getInductionVar(),
                  iterationValue(lines, arith::RemUIOp::create(b, l, line,
                                                               s.linesPerRow)));
              body = lines.getBody();
            }
            for (Operation &op : body->without_terminator())
              b.clone(op, mapping);
            scf::YieldOp::create(b, l);
          });
    }
  }

  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value dim(Value memref, int64_t d) {
    return memref::DimOp::create(b, loc, memref, d);
  }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value max(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  VectorType vecType(Type element, int64_t lanes = 0) {
    return VectorType::get({lanes ? lanes : tiles.lanes}, element);
  }
  Value f32(Value v) {
    Type f32Type = b.getF32Type();
    Type t = v.getType();
    if (auto vt = dyn_cast<VectorType>(t)) {
      if (vt.getElementType() == f32Type)
        return v;
      return arith::ExtFOp::create(b, loc,
                                   vecType(f32Type, vt.getNumElements()), v);
    }
    return t == f32Type ? v : arith::ExtFOp::create(b, loc, f32Type, v);
  }
  /// Tells LLVM not to unroll `loop`: a micro-kernel's reduction step is
  /// already a tile of FMAs, and LLVM unrolled the short static reductions
  /// (depth 64 at K = V = 64) into blocks where its scheduler spilled the
  /// accumulators (chunk_simple_gla at K = V = 64 was 1.3x slower on AVX2).
  /// The attribute rides scf.for -> cf.cond_br -> llvm.cond_br to LLVM IR.
  void keepRolled(scf::ForOp loop) {
    MLIRContext *context = b.getContext();
    auto unroll = LLVM::LoopUnrollAttr::get(
        context, /*disable=*/b.getBoolAttr(true), /*count=*/{},
        /*runtimeDisable=*/{}, /*full=*/{}, /*followupUnrolled=*/{},
        /*followupRemainder=*/{}, /*followupAll=*/{});
    auto annotation = LLVM::LoopAnnotationAttr::get(
        context, /*disableNonforced=*/{}, /*vectorize=*/{}, /*interleave=*/{},
        unroll, /*unrollAndJam=*/{}, /*licm=*/{}, /*distribute=*/{},
        /*pipeline=*/{}, /*peeled=*/{}, /*unswitch=*/{}, /*mustProgress=*/{},
        /*isVectorized=*/{}, /*startLoc=*/{}, /*endLoc=*/{},
        /*parallelAccesses=*/{});
    loop->setAttr(kLoopAnnotationAttrName, annotation);
  }
  /// A mask of the first `count` lanes (count clamped to [0, lanes]).
  Value mask(Value count, int64_t lanes = 0) {
    lanes = lanes ? lanes : tiles.lanes;
    Value clamped = max(min(count, c(lanes)), c(0));
    return vector::CreateMaskOp::create(
        b, loc, VectorType::get({lanes}, b.getI1Type()), ValueRange{clamped});
  }
  /// A mask of the first `count` lanes, or none (every lane) when `extent`
  /// is static and a multiple of `step`, the loop's: it then stays in bounds.
  Value maskUnlessWhole(Value count, int64_t extent, int64_t step) {
    if (!ShapedType::isDynamic(extent) && extent % step == 0)
      return Value();
    return mask(count);
  }
  /// A vector read; with no mask, every lane is in bounds.
  Value read(Value memref, Value row, Value col, Value laneMask,
             int64_t lanes = 0) {
    Type element = cast<MemRefType>(memref.getType()).getElementType();
    Value padding = arith::ConstantOp::create(b, loc, b.getZeroAttr(element));
    Value vec = vector::TransferReadOp::create(
        b, loc, vecType(element, lanes), memref, ValueRange{row, col},
        AffineMap::getMinorIdentityMap(2, 1, b.getContext()), padding, laneMask,
        b.getBoolArrayAttr({!laneMask}));
    return f32(vec);
  }
  void write(Value vec, Value memref, Value row, Value col, Value laneMask,
             bool inBounds = false) {
    vector::TransferWriteOp::create(
        b, loc, TypeRange{}, vec, memref, ValueRange{row, col},
        AffineMap::getMinorIdentityMap(2, 1, b.getContext()), laneMask,
        b.getBoolArrayAttr({inBounds}));
  }
  /// (i0 + rows) * s: one past the last key the causal rows [i0, i0 + rows)
  /// of stride s see.
  Value causalEnd(Value i0, const Contraction &k, int64_t rows) {
    Value end = rows ? add(i0, c(rows)) : i0;
    return k.causalStride == 1
               ? end
               : arith::MulIOp::create(b, loc, end, c(k.causalStride));
  }
  Value zeros(int64_t lanes = 0) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vecType(b.getF32Type(), lanes), 0.0f));
  }

  /// The scale rewrite's factor f(row): its body again, on row `row` of
  /// its inputs, without the final product.
  Value rowFactor(const OutputRewrite &rewrite, Value row) {
    linalg::GenericOp scale = rewrite.scale;
    Block &body = scale.getRegion().front();
    Operation *product = body.getTerminator()->getOperand(0).getDefiningOp();
    IRMapping mapping;
    for (auto [arg, input] :
         llvm::zip(body.getArguments(), scale.getDpsInputs()))
      mapping.map(arg, memref::LoadOp::create(b, loc, input, row));
    for (Operation &bodyOp : body.without_terminator())
      if (&bodyOp != product)
        b.clone(bodyOp, mapping);
    return mapping.lookupOrDefault(rewrite.factor);
  }
  Value splat(Value scalar) {
    return vector::BroadcastOp::create(b, loc, vecType(b.getF32Type()), scalar);
  }

  /// out[i, j] (+|-)= sum_r A(i, r) B[r, j]: tiles of tileRows rows x
  /// tileVectors vectors of the output in registers across r; `prologue`
  /// (optional) rewrites the output as it is first read.
  void rankOne(const Contraction &k,
               const std::optional<OutputRewrite> &prologue) {
    Value rows = dim(k.out, 0), cols = dim(k.out, 1);
    Value depth = dim(k.rhs, 0);
    int64_t staticCols = cast<MemRefType>(k.out.getType()).getDimSize(1);
    bool wide = !ShapedType::isDynamic(staticCols) &&
                staticCols > tiles.rankOneVectors * tiles.lanes &&
                staticCols <= tiles.wideVectors * tiles.lanes;
    const int64_t tileRows = wide ? tiles.wideRows : tiles.rankOneRows;
    const int64_t tileVectors = wide ? tiles.wideVectors : tiles.rankOneVectors;
    int64_t tileCols = tileVectors * tiles.lanes;
    Value colTiles;
    SmallVector<PrefetchSchedule> schedules;
    if (!prefetches.empty()) {
      colTiles = arith::CeilDivUIOp::create(b, loc, cols, c(tileCols));
      schedules = schedulePrefetches(arith::MulIOp::create(
          b, loc, arith::CeilDivUIOp::create(b, loc, rows, c(tileRows)),
          colTiles));
    }
    auto rowLoop = scf::ForOp::create(b, loc, c(0), rows, c(tileRows));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rowLoop.getBody());
    Value i0 = rowLoop.getInductionVar();
    auto colLoop = scf::ForOp::create(b, loc, c(0), cols, c(tileCols));
    b.setInsertionPointToStart(colLoop.getBody());
    Value j0 = colLoop.getInductionVar();
    Value lastRow = sub(rows, c(1));

    // Row ii of the tile is valid when i0 + ii < rows; lane v of vector w
    // when j0 + lanes * w + v < cols. Invalid rows read clamped indices (never
    // stored) and masks keep every access in bounds.
    SmallVector<Value> rowIndex, masks, colIndex;
    SmallVector<Value> initial;
    for (int64_t ii = 0; ii < tileRows; ++ii)
      rowIndex.push_back(min(add(i0, c(ii)), lastRow));
    for (int64_t w = 0; w < tileVectors; ++w) {
      colIndex.push_back(add(j0, c(w * tiles.lanes)));
      masks.push_back(
          maskUnlessWhole(sub(cols, colIndex.back()), staticCols, tileCols));
    }
    Value fill =
        prologue && prologue->fillValue ? splat(prologue->fillValue) : Value();
    for (int64_t ii = 0; ii < tileRows; ++ii) {
      Value factor = prologue && prologue->scale
                         ? splat(rowFactor(*prologue, rowIndex[ii]))
                         : Value();
      for (int64_t w = 0; w < tileVectors; ++w) {
        if (fill) {
          initial.push_back(fill);
          continue;
        }
        Value current = read(k.out, rowIndex[ii], colIndex[w], masks[w]);
        initial.push_back(
            factor ? arith::MulFOp::create(b, loc, current, factor) : current);
      }
    }
    // The reduction over r in [lower, upper); with `causalRows`, row ii only
    // takes the terms its causal diagonal lets it see (r < (i0 + ii + 1) * s):
    // the others are skipped, not multiplied by the lhs's zeros, so a NaN or
    // Inf in a later row of B cannot reach row ii (0 * NaN = NaN).
    auto reduce = [&](Value lower, Value upper, ValueRange init,
                      bool causalRows) {
      auto loop = scf::ForOp::create(
          b, loc, lower, upper, c(1), init,
          [&](OpBuilder &nb, Location l, Value r, ValueRange acc) {
            OpBuilder::InsertionGuard inner(b);
            b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
            SmallVector<Value> bRow;
            for (int64_t w = 0; w < tileVectors; ++w)
              bRow.push_back(read(k.rhs, r, colIndex[w], masks[w]));
            SmallVector<Value> next;
            for (int64_t ii = 0; ii < tileRows; ++ii) {
              Value a = k.lhsTransposed
                            ? memref::LoadOp::create(
                                  b, l, k.lhs, ValueRange{r, rowIndex[ii]})
                            : memref::LoadOp::create(
                                  b, l, k.lhs, ValueRange{rowIndex[ii], r});
              a = f32(a);
              if (k.subtract)
                a = arith::NegFOp::create(b, l, a);
              Value splat =
                  vector::BroadcastOp::create(b, l, vecType(b.getF32Type()), a);
              Value sees;
              if (causalRows)
                sees = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, r,
                                             causalEnd(i0, k, ii + 1));
              for (int64_t w = 0; w < tileVectors; ++w) {
                Value old = acc[ii * tileVectors + w];
                Value sum = vector::FMAOp::create(b, l, splat, bRow[w], old);
                next.push_back(
                    causalRows ? arith::SelectOp::create(b, l, sees, sum, old)
                               : sum);
              }
            }
            scf::YieldOp::create(b, l, next);
          });
      keepRolled(loop);
      return loop;
    };
    // Deferred prefetches are issued between parts of the tile's
    // reduction: after its first output reads, away from its stores.
    // (Measured on chunk_simple_gla, K = V = 128: issued before the
    // reduction or after it, they gained nothing.)
    Value tileIndex;
    if (!prefetches.empty()) {
      Value rowTile = arith::DivUIOp::create(b, loc, i0, c(tileRows));
      Value colTile = arith::DivUIOp::create(b, loc, j0, c(tileCols));
      tileIndex =
          add(arith::MulIOp::create(b, loc, rowTile, colTiles), colTile);
    }
    auto issuePrefetchesOfTile = [&](int64_t burst, int64_t bursts) {
      if (!prefetches.empty())
        issuePrefetches(schedules, tileIndex, burst, bursts);
    };
    scf::ForOp reduction;
    if (k.causalStride) {
      // A causal lhs: the tile's rows all see r < i0 * s; the diagonal block
      // [i0 * s, (i0 + tileRows) * s) row by row; nothing beyond it.
      Value before = min(depth, causalEnd(i0, k, 0));
      Value after = min(depth, causalEnd(i0, k, tileRows));
      auto full = reduce(c(0), before, initial, /*causalRows=*/false);
      issuePrefetchesOfTile(0, 1);
      reduction = reduce(before, after, full.getResults(), /*causalRows=*/true);
    } else if (!prefetches.empty()) {
      // A deep reduction takes its lines in several bursts, one after each
      // part but the last, so that no burst outruns the line fill buffers.
      int64_t parts = std::clamp<int64_t>(
          staticExtent(k.rhs, 0) / kStepsPerPrefetchBurst, 2, kMaxBursts + 1);
      ValueRange acc = initial;
      for (int64_t part = 0; part < parts; ++part) {
        Value lower = arith::DivUIOp::create(
            b, loc, arith::MulIOp::create(b, loc, depth, c(part)), c(parts));
        Value upper = arith::DivUIOp::create(
            b, loc, arith::MulIOp::create(b, loc, depth, c(part + 1)),
            c(parts));
        reduction = reduce(lower, upper, acc, /*causalRows=*/false);
        acc = reduction.getResults();
        if (part + 1 < parts)
          issuePrefetchesOfTile(part, parts - 1);
      }
    } else {
      reduction = reduce(c(0), depth, initial, /*causalRows=*/false);
    }
    // With no lane mask, a row of the tile is stored with plain vector
    // stores under a branch on the row being the output's: masked stores are
    // microcoded on AMD Zen (removing them made chunk_simple_gla 18% faster
    // on AVX2) and the branch almost always goes the same way.
    bool wholeColumns = llvm::none_of(masks, [](Value m) { return bool(m); });
    for (int64_t ii = 0; ii < tileRows; ++ii) {
      Value valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                          add(i0, c(ii)), rows);
      if (wholeColumns) {
        auto ifValid = scf::IfOp::create(b, loc, valid, /*withElse=*/false);
        OpBuilder::InsertionGuard rowGuard(b);
        b.setInsertionPointToStart(ifValid.thenBlock());
        for (int64_t w = 0; w < tileVectors; ++w)
          write(reduction.getResult(ii * tileVectors + w), k.out,
                add(i0, c(ii)), colIndex[w], Value(), /*inBounds=*/true);
        continue;
      }
      for (int64_t w = 0; w < tileVectors; ++w) {
        Value rowMask = vector::BroadcastOp::create(
            b, loc, VectorType::get({tiles.lanes}, b.getI1Type()), valid);
        if (masks[w])
          rowMask = arith::AndIOp::create(b, loc, masks[w], rowMask);
        write(reduction.getResult(ii * tileVectors + w), k.out, add(i0, c(ii)),
              colIndex[w], rowMask);
      }
    }
  }

  /// A vector whose lane n is the sum of the lanes of accs[n] (`lanes`
  /// vectors of `lanes` lanes): log2(lanes) levels that each add the two
  /// halves of every accumulator's partial sums, packing two vectors into
  /// one (lanes - 1 additions in all, instead of a full reduction per
  /// accumulator).
  Value transposeReduce(SmallVector<Value> vectors) {
    int64_t width = tiles.lanes; // partial sums per accumulator in each vector
    while (vectors.size() > 1) {
      int64_t half = width / 2;
      // Accumulator blocks of `width` lanes: the first halves of both
      // vectors' blocks, then the second halves.
      SmallVector<int64_t> firstHalves, secondHalves;
      for (int64_t source : {int64_t(0), tiles.lanes})
        for (int64_t block = 0; block < tiles.lanes; block += width)
          for (int64_t lane = 0; lane < half; ++lane) {
            firstHalves.push_back(source + block + lane);
            secondHalves.push_back(source + block + half + lane);
          }
      SmallVector<Value> packed;
      for (size_t i = 0; i < vectors.size(); i += 2) {
        Value first = vector::ShuffleOp::create(b, loc, vectors[i],
                                                vectors[i + 1], firstHalves);
        Value second = vector::ShuffleOp::create(b, loc, vectors[i],
                                                 vectors[i + 1], secondHalves);
        packed.push_back(arith::AddFOp::create(b, loc, first, second));
      }
      vectors = std::move(packed);
      width = half;
    }
    return vectors.front();
  }

  /// out[i, j] += sum_d lhs[i, d] rhs[j, d]: dotRows x dotColumns dot
  /// products accumulated lane-wise over d, reduced together at the end.
  void dotProduct(const Contraction &k) {
    Value rows = dim(k.out, 0), cols = dim(k.out, 1);
    Value depth = dim(k.lhs, 1);
    auto rowLoop = scf::ForOp::create(b, loc, c(0), rows, c(tiles.dotRows));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rowLoop.getBody());
    Value i0 = rowLoop.getInductionVar();
    // With a causal output, columns past the tile's last visible key
    // ((i0 + dotRows) * s - 1) are discarded: not computed.
    Value tileCols =
        k.causalStride ? min(cols, causalEnd(i0, k, tiles.dotRows)) : cols;
    auto colLoop =
        scf::ForOp::create(b, loc, c(0), tileCols, c(tiles.dotColumns));
    b.setInsertionPointToStart(colLoop.getBody());
    Value j0 = colLoop.getInductionVar();
    SmallVector<Value> lhsRows, rhsRows;
    for (int64_t ii = 0; ii < tiles.dotRows; ++ii)
      lhsRows.push_back(min(add(i0, c(ii)), sub(rows, c(1))));
    for (int64_t jj = 0; jj < tiles.dotColumns; ++jj)
      rhsRows.push_back(min(add(j0, c(jj)), sub(cols, c(1))));
    SmallVector<Value> initial(tiles.dotRows * tiles.dotColumns, zeros());
    auto reduction = scf::ForOp::create(
        b, loc, c(0), depth, c(tiles.lanes), initial,
        [&](OpBuilder &nb, Location l, Value d, ValueRange acc) {
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value laneMask = maskUnlessWhole(
              sub(depth, d), cast<MemRefType>(k.lhs.getType()).getDimSize(1),
              tiles.lanes);
          SmallVector<Value> a, bv;
          for (int64_t ii = 0; ii < tiles.dotRows; ++ii)
            a.push_back(read(k.lhs, lhsRows[ii], d, laneMask));
          for (int64_t jj = 0; jj < tiles.dotColumns; ++jj)
            bv.push_back(read(k.rhs, rhsRows[jj], d, laneMask));
          SmallVector<Value> next;
          for (int64_t ii = 0; ii < tiles.dotRows; ++ii)
            for (int64_t jj = 0; jj < tiles.dotColumns; ++jj)
              next.push_back(vector::FMAOp::create(
                  b, l, a[ii], bv[jj], acc[ii * tiles.dotColumns + jj]));
          scf::YieldOp::create(b, l, next);
        });
    Value columnMask = mask(sub(cols, j0), tiles.dotColumns);
    Value wholeColumns = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::sle, add(j0, c(tiles.dotColumns)), cols);
    Value tileSums =
        transposeReduce(llvm::to_vector_of<Value>(reduction.getResults()));
    for (int64_t ii = 0; ii < tiles.dotRows; ++ii) {
      Value sums = vector::ExtractStridedSliceOp::create(
          b, loc, tileSums,
          /*offsets=*/ArrayRef<int64_t>{ii * tiles.dotColumns},
          /*sizes=*/ArrayRef<int64_t>{tiles.dotColumns},
          /*strides=*/ArrayRef<int64_t>{1});
      Value row = add(i0, c(ii));
      Value valid =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, row, rows);
      // A whole row of the tile in bounds (the usual case) takes plain
      // vector accesses; masked stores are slow on some CPUs (AMD Zen).
      Value whole = arith::AndIOp::create(b, loc, valid, wholeColumns);
      auto ifWhole = scf::IfOp::create(b, loc, whole, /*withElse=*/true);
      OpBuilder::InsertionGuard rowGuard(b);
      b.setInsertionPointToStart(ifWhole.thenBlock());
      Value current = read(k.out, row, j0, Value(), tiles.dotColumns);
      write(arith::AddFOp::create(b, loc, current, sums), k.out, row, j0,
            Value(), /*inBounds=*/true);
      b.setInsertionPointToStart(ifWhole.elseBlock());
      Value rowMask = arith::AndIOp::create(
          b, loc, columnMask,
          vector::BroadcastOp::create(
              b, loc, VectorType::get({tiles.dotColumns}, b.getI1Type()),
              valid));
      current = read(k.out, lhsRows[ii], j0, rowMask, tiles.dotColumns);
      write(arith::AddFOp::create(b, loc, current, sums), k.out, row, j0,
            rowMask);
    }
  }
};

struct VectorizeContractionsPass
    : public linac::impl::LinacVectorizeContractionsBase<
          VectorizeContractionsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (vectorBits != 512 && vectorBits != 256 && vectorBits != 128) {
      getOperation().emitError()
          << "linac-vectorize-contractions: vector-bits "
          << vectorBits.getValue() << " is not 512, 256 or 128";
      return signalPassFailure();
    }
    const RegisterTiles &tiles = vectorBits == 512   ? kTiles512
                                 : vectorBits == 256 ? kTiles256
                                                     : kTiles128;
    SmallVector<std::pair<linalg::GenericOp, Contraction>> matches;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<Contraction> contraction = matchContraction(op))
        matches.push_back({op, *contraction});
    });
    // Each deferred prefetch loop nest goes to the rank-1 contractions after
    // it in its block (the chunk's Q S, P V and state update), each taking
    // a share of its lines in proportion to its multiply-adds, and is then
    // erased; with none, it stays.
    DenseMap<Operation *, SmallVector<DeferredPrefetch>> deferred;
    SmallVector<scf::ForOp> spread;
    getOperation().walk([&](scf::ForOp loop) {
      if (!loop->hasAttr(linac::kDeferredPrefetchAttrName))
        return;
      SmallVector<Operation *> takers;
      SmallVector<int64_t> workBefore = {0};
      for (auto &[op, contraction] : matches)
        if (contraction.form == Form::RankOne &&
            op->getBlock() == loop->getBlock() && loop->isBeforeInBlock(op)) {
          takers.push_back(op);
          workBefore.push_back(workBefore.back() + rankOneWork(contraction));
        }
      for (auto [index, taker] : llvm::enumerate(takers))
        deferred[taker].push_back({loop, workBefore[index],
                                   workBefore[index + 1], workBefore.back()});
      if (!takers.empty())
        spread.push_back(loop);
    });
    for (auto &[op, contraction] : matches) {
      OpBuilder b(op);
      MicroKernel kernel{b, op.getLoc(), tiles};
      if (auto it = deferred.find(op); it != deferred.end())
        kernel.prefetches = it->second;
      if (contraction.form == Form::RankOne) {
        // Folding the rewrite into the output's first read is exact only if
        // the product reads the output's buffer through no other operand.
        std::optional<OutputRewrite> prologue;
        Value outBuffer = bufferOf(contraction.out);
        if (bufferOf(contraction.lhs) != outBuffer &&
            bufferOf(contraction.rhs) != outBuffer)
          prologue = matchOutputRewrite(op->getPrevNode(), contraction.out);
        kernel.rankOne(contraction, prologue);
        if (prologue)
          prologue->op->erase();
      } else {
        kernel.dotProduct(contraction);
      }
      op.erase();
    }
    for (scf::ForOp loop : spread)
      loop.erase();
  }
};

} // namespace
