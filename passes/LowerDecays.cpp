//===- LowerDecays.cpp - gate sums and decayed scores to linalg, scf ----===//
//
// Part of linac-lower-chunk-ops: the chunk-local sums of log decays and the
// decayed (causally masked) scores, the lowerings where the decays' numerics
// live (every exponent a sum of gates over a window, see MATH.md).
//
//===----------------------------------------------------------------------===//

#include "passes/ChunkAlgebra.h"

using namespace mlir;
using namespace mlir::linac;
using utils::IteratorType;

namespace {

/// Rows per sub-chunk of the vector-decay scores.
constexpr int64_t kSubChunk = 16;

/// g[from] + ... + g[to - 1] (of channel `channel` for vector gates, else
/// null), added in ascending or descending order from 0: one loop, for one
/// element of a per-element sum.
Value sumGates(OpBuilder &b, Location loc, Value gates, Value channel,
               Value from, Value to, bool descending) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  // Descending: step u visits from + to - 1 - u.
  Value mirror;
  if (descending)
    mirror = arith::SubIOp::create(
        b, loc, arith::AddIOp::create(b, loc, from, to), one);
  auto loop = scf::ForOp::create(
      b, loc, from, to, one, ValueRange{zero},
      [&](OpBuilder &nb, Location l, Value u, ValueRange iterArgs) {
        Value m =
            descending ? Value(arith::SubIOp::create(nb, l, mirror, u)) : u;
        SmallVector<Value> indices = {m};
        if (channel)
          indices.push_back(channel);
        Value g = memref::LoadOp::create(nb, l, gates, indices);
        scf::YieldOp::create(
            nb, l, Value(arith::AddFOp::create(nb, l, iterArgs[0], g)));
      });
  return loop.getResult(0);
}

/// Cumulative sums of `gates` ([n] or [n, K]) element by element, into the
/// n * repeat rows of `sums`: row r holds the sums of step i = r / repeat,
/// forward g[0] + ... + g[i], reverse g[i+1] + ... + g[n-1]. Each element
/// adds its own gates in one loop, in the order the row-by-row form adds
/// them (the same values). For GPUs, where the row-by-row form is a chain of
/// dependent steps: a global load per row on one thread, or a barrier per row.
void sumGatesPerElement(ChunkAlgebra &alg, Value gates, Value sums,
                        bool reverse, int64_t repeat = 1) {
  bool vector = cast<MemRefType>(gates.getType()).getRank() == 2;
  Value n = alg.dim(gates, 0);
  alg.elementwise(
      {}, {}, sums, [&](OpBuilder &nb, Location l, ValueRange) -> Value {
        Value row = linalg::IndexOp::create(nb, l, 0);
        Value i = repeat == 1
                      ? row
                      : Value(arith::DivUIOp::create(
                            nb, l, row,
                            arith::ConstantIndexOp::create(nb, l, repeat)));
        Value channel =
            vector ? Value(linalg::IndexOp::create(nb, l, 1)) : Value();
        Value next = arith::AddIOp::create(
            nb, l, i, arith::ConstantIndexOp::create(nb, l, 1));
        if (reverse)
          return sumGates(nb, l, gates, channel, next, n, /*descending=*/true);
        return sumGates(nb, l, gates, channel,
                        arith::ConstantIndexOp::create(nb, l, 0), next,
                        /*descending=*/false);
      });
}

/// Forward: S_i = g_0 + ... + g_i; reverse: S_i = g_{i+1} + ... + g_{n-1}.
/// Each S_i is written to rows [i * repeat, (i + 1) * repeat). Scalar gates
/// keep one running sum; vector gates add a row of them a step (CPUs: one
/// vector op a row), or, with `perElementSums` (GPUs), run one channel a
/// thread (a thread-parallel loop), and scalar gates then sum each element
/// on its own.
} // namespace

LogicalResult mlir::linac::lowerChunkCumsum(ChunkCumsumOp op,
                                            bool perElementSums) {
  OpBuilder b(op);
  ChunkAlgebra alg{b, op.getLoc()};
  Location loc = op.getLoc();
  Value gates = op.getGates(), result = op.getResult();
  int64_t repeat = op.getRepeat();
  bool reverse = op.getReverse();
  bool vector = cast<MemRefType>(gates.getType()).getRank() == 2;
  Value n = alg.dim(gates, 0), copies = alg.index(repeat);
  Value zero = alg.index(0), one = alg.index(1);
  // Step u visits row i = u (forward) or n - 1 - u (reverse).
  auto rowAt = [&](OpBuilder &nb, Location l, Value u) -> Value {
    if (!reverse)
      return u;
    return arith::SubIOp::create(nb, l, arith::SubIOp::create(nb, l, n, one),
                                 u);
  };
  // The running sum of one channel (or of scalar gates, `channel` null)
  // down the rows, in a register: the row-by-row form's additions in its
  // order.
  auto runningSum = [&](Value channel) {
    auto index = [&](Value row) {
      return channel ? SmallVector<Value>{row, channel}
                     : SmallVector<Value>{row};
    };
    scf::ForOp::create(
        b, loc, zero, n, one, ValueRange{alg.f32Const(0.0f)},
        [&](OpBuilder &nb, Location l, Value u, ValueRange iterArgs) {
          Value i = rowAt(nb, l, u);
          Value g = memref::LoadOp::create(nb, l, gates, index(i));
          Value withRow = arith::AddFOp::create(nb, l, iterArgs[0], g);
          // Reverse sums exclude their own row.
          Value sum = reverse ? iterArgs[0] : withRow;
          Value first = arith::MulIOp::create(nb, l, i, copies);
          scf::ForOp::create(
              nb, l, zero, copies, one, ValueRange{},
              [&](OpBuilder &ib, Location il, Value j, ValueRange) {
                Value row = arith::AddIOp::create(ib, il, first, j);
                memref::StoreOp::create(ib, il, sum, result, index(row));
                scf::YieldOp::create(ib, il);
              });
          scf::YieldOp::create(nb, l, withRow);
        });
  };
  if (perElementSums && vector) {
    // GPUs: one iteration per channel, each on a thread of its own.
    auto channels = scf::ForOp::create(b, loc, zero, alg.dim(gates, 1), one);
    channels->setAttr(kThreadParallelAttrName, b.getUnitAttr());
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(channels.getBody());
    runningSum(channels.getInductionVar());
    op.erase();
    return success();
  }
  if (perElementSums) {
    SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {
        repeat == 1 ? n : arith::MulIOp::create(b, loc, n, copies).getResult()};
    sumGatesPerElement(alg, gates, alg.view(result, offsets, sizes), reverse,
                       repeat);
    op.erase();
    return success();
  }
  if (!vector) {
    runningSum(Value());
    op.erase();
    return success();
  }
  // Per channel: the rows of i are the rows of the previous step plus that
  // step's gates (forward: g_i; reverse: g_{i+1}), or g_0 / 0 at the start.
  Value width = alg.dim(gates, 1);
  auto loop = scf::ForOp::create(b, loc, zero, n, one);
  b.setInsertionPointToStart(loop.getBody());
  Value u = loop.getInductionVar();
  Value i = rowAt(b, loc, u);
  Value first = arith::MulIOp::create(b, loc, i, copies);
  Value rows = alg.view(result, {first, b.getIndexAttr(0)},
                        {b.getIndexAttr(repeat), width});
  Value isFirst =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, u, zero);
  auto branch = scf::IfOp::create(b, loc, isFirst, /*withElse=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(branch.thenBlock());
    if (reverse)
      alg.zero(rows);
    else
      alg.elementwise(
          {alg.rowOf(gates, i)}, {alg.map(2, {1})}, rows,
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    b.setInsertionPointToStart(branch.elseBlock());
    Value previousStep = reverse ? Value(arith::AddIOp::create(b, loc, i, one))
                                 : Value(arith::SubIOp::create(b, loc, i, one));
    Value previous =
        alg.rowOf(result, arith::MulIOp::create(b, loc, previousStep, copies));
    Value added = alg.rowOf(gates, reverse ? previousStep : i);
    alg.elementwise({previous, added}, {alg.map(2, {1}), alg.map(2, {1})}, rows,
                    [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                      return arith::AddFOp::create(nb, l, args[0], args[1]);
                    });
  }
  op.erase();
  return success();
}

namespace {

/// Window sums of scalar gates over tokens: E[i, t] = g_{t+1} + ... + g_i
/// for t <= i, row by row (E[i, :i] = E[i-1, :i] + g_i): only additions.
/// Per element, each window is one loop in that same order (for GPUs).
void buildWindowSums(ChunkAlgebra &alg, Value gates, Value sums,
                     bool perElementSums) {
  OpBuilder &b = alg.b;
  Location loc = alg.loc;
  if (perElementSums) {
    alg.elementwise({}, {}, sums,
                    [&](OpBuilder &nb, Location l, ValueRange) -> Value {
                      Value one = arith::ConstantIndexOp::create(nb, l, 1);
                      Value i = linalg::IndexOp::create(nb, l, 0);
                      Value t = linalg::IndexOp::create(nb, l, 1);
                      Value from = arith::AddIOp::create(nb, l, t, one);
                      Value to = arith::AddIOp::create(nb, l, i, one);
                      return sumGates(nb, l, gates, Value(), from, to,
                                      /*descending=*/false);
                    });
    return;
  }
  alg.zero(sums);
  auto rows =
      scf::ForOp::create(b, loc, alg.index(1), alg.dim(gates, 0), alg.index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(rows.getBody());
  Value i = rows.getInductionVar();
  Value previousRow = arith::SubIOp::create(b, loc, i, alg.index(1));
  OpFoldResult idx0 = b.getIndexAttr(0), idx1 = b.getIndexAttr(1);
  Value previous = alg.view(sums, {previousRow, idx0}, {idx1, i});
  Value current = alg.view(sums, {i, idx0}, {idx1, i});
  Value gate = memref::LoadOp::create(b, loc, gates, i);
  alg.elementwise({previous}, {alg.map(2, {0, 1})}, current,
                  [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    return arith::AddFOp::create(nb, l, args[0], gate);
                  });
}

/// Causal mask and scalar decay: P[i, j] = j visible from p(i) ?
/// P * exp(E[t(p(i)), t(j)]) : 0.
void applyScalarDecayAndMask(ChunkAlgebra &alg, DecayedScoresOp op,
                             bool perElementSums) {
  Value sums = op.getWorkspace();
  if (sums)
    buildWindowSums(alg, op.getGates(), sums, perElementSums);
  int64_t stride = op.getQueryStride(), interleave = op.getInterleave();
  bool strict = op.getStrict();
  alg.elementwise(
      {}, {}, op.getScores(),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        auto c = [&](int64_t v) {
          return arith::ConstantIndexOp::create(nb, l, v);
        };
        Value i = linalg::IndexOp::create(nb, l, 0);
        Value j = linalg::IndexOp::create(nb, l, 1);
        Value pos = arith::AddIOp::create(
            nb, l, arith::MulIOp::create(nb, l, i, c(stride)), c(stride - 1));
        Value visible = arith::CmpIOp::create(
            nb, l,
            strict ? arith::CmpIPredicate::ult : arith::CmpIPredicate::ule, j,
            pos);
        Value score = args.back();
        if (sums) {
          // Hidden entries read the sums too (in bounds: every
          // key has a token, verified), then are discarded: a
          // clamped index would cost the vector loop a gather.
          Value queryToken = arith::DivUIOp::create(nb, l, pos, c(interleave));
          Value keyToken = arith::DivUIOp::create(nb, l, j, c(interleave));
          Value exponent = memref::LoadOp::create(
              nb, l, sums, ValueRange{queryToken, keyToken});
          score = arith::MulFOp::create(nb, l, score,
                                        math::ExpOp::create(nb, l, exponent));
        }
        Value zero = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0f));
        return arith::SelectOp::create(nb, l, visible, score, zero);
      });
}

/// The 1-D view of the diagonal P[row0 + u, col0 + u], u in [0, count).
Value diagonalView(ChunkAlgebra &alg, Value matrix, Value row0, Value col0,
                   Value count) {
  OpBuilder &b = alg.b;
  Location loc = alg.loc;
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, matrix);
  Value rowStride = metadata.getStrides()[0],
        colStride = metadata.getStrides()[1];
  Value offset = arith::AddIOp::create(
      b, loc, metadata.getOffset(),
      arith::AddIOp::create(b, loc,
                            arith::MulIOp::create(b, loc, row0, rowStride),
                            arith::MulIOp::create(b, loc, col0, colStride)));
  Value stride = arith::AddIOp::create(b, loc, rowStride, colStride);
  auto type = MemRefType::get(
      {ShapedType::kDynamic}, b.getF32Type(),
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                             {ShapedType::kDynamic}),
      cast<MemRefType>(matrix.getType()).getMemorySpace());
  return memref::ReinterpretCastOp::create(
      b, loc, type, metadata.getBaseBuffer(), OpFoldResult(offset),
      ArrayRef<OpFoldResult>{count}, ArrayRef<OpFoldResult>{stride});
}

/// Vector gates, the keys inside a sub-chunk of `count` queries from row
/// `i0`, exactly: diagonal d holds (query i0 + d + u, key i0 + u), with window
/// sums acc[d + u] = g_{i0+u+1} + ... + g_{i0+d+u} (workspace rows [16, 32)),
/// one exp per score and channel.
void buildExactBand(ChunkAlgebra &alg, DecayedScoresOp op, Value blockGates,
                    Value i0, Value count) {
  OpBuilder &b = alg.b;
  Location loc = alg.loc;
  OpBuilder::InsertionGuard guard(b);
  Value queries = op.getQueries(), keys = op.getKeys(), scores = op.getScores();
  bool strict = op.getStrict();
  Value width = alg.dim(queries, 1), zero = alg.index(0), one = alg.index(1);
  OpFoldResult idx0 = b.getIndexAttr(0);
  Value acc = alg.view(op.getWorkspace(), {b.getIndexAttr(kSubChunk), idx0},
                       {count, width});
  alg.zero(acc);
  auto diagonals = scf::ForOp::create(b, loc, zero, count, one);
  b.setInsertionPointToStart(diagonals.getBody());
  Value d = diagonals.getInductionVar();
  Value length = arith::SubIOp::create(b, loc, count, d);
  Value accRows = alg.view(acc, {d, idx0}, {length, width});
  Value firstQuery = arith::AddIOp::create(b, loc, i0, d);
  Value queryRows = alg.view(queries, {firstQuery, idx0}, {length, width});
  Value keyRows = alg.view(keys, {i0, idx0}, {length, width});
  Value isDiagonal =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, d, zero);
  Value include =
      strict ? arith::XOrIOp::create(b, loc, isDiagonal,
                                     arith::ConstantIntOp::create(b, loc, 1, 1))
             : arith::ConstantIntOp::create(b, loc, 1, 1).getResult();
  auto band = scf::IfOp::create(b, loc, include, /*withElse=*/false);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(band.thenBlock());
    Value diagonal = diagonalView(alg, scores, firstQuery, i0, length);
    linalg::GenericOp::create(
        b, loc, ValueRange{queryRows, keyRows, accRows}, ValueRange{diagonal},
        ArrayRef<AffineMap>{alg.map(2, {0, 1}), alg.map(2, {0, 1}),
                            alg.map(2, {0, 1}), alg.map(2, {0})},
        ArrayRef<IteratorType>{kPar, kRed},
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value q = convertFloat(nb, l, args[0], nb.getF32Type());
          Value k = convertFloat(nb, l, args[1], nb.getF32Type());
          Value weight = math::ExpOp::create(nb, l, args[2]);
          Value qk = arith::MulFOp::create(nb, l, q, k);
          linalg::YieldOp::create(nb, l,
                                  alg.mulAdd(nb, l, args[3], qk, weight));
        });
  }
  // Widen each window by one token for the next diagonal.
  alg.elementwise({alg.view(blockGates, {idx0, idx0}, {length, width})},
                  {alg.map(2, {0, 1})}, accRows,
                  [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    return arith::AddFOp::create(nb, l, args[1], args[0]);
                  });
}

/// Channels a thread of the GPU band carries (their windows and keys in
/// registers).
constexpr int64_t kBandChannels = 16;

/// Vector gates, the keys inside a sub-chunk of `count` (at most `countMax`)
/// queries, for GPUs, in two loops of independent iterations (marked
/// linac.thread_parallel: one barrier each). First, iteration (j, group)
/// runs down the queries a >= j of key j: its channels c = group + u * groups
/// (neighbouring iterations, neighbouring channels) keep their windows
/// g_{j+1} + ... + g_a, one token wider a step (the diagonal form's order),
/// and the sum of q_a k_j exp(window) over them goes to the partial score
/// (a, j, group). Then iteration (a, j) adds the groups' partial scores of
/// each visible score. Per element, each score's windows would be a loop of
/// their own (a chain of loads per term). The partial scores get a buffer of
/// their own beside the workspace's (countMax^2 x groups floats: 8 KiB at 16
/// rows and K = 128, where the workspace is (32 + C) x K). Returns false,
/// building nothing, where the width is dynamic or the workspace is not a
/// local buffer.
bool buildThreadBand(ChunkAlgebra &alg, DecayedScoresOp op, Value queries,
                     Value keys, Value gates, Value band, Value count,
                     int64_t countMax) {
  OpBuilder &b = alg.b;
  Location loc = alg.loc;
  std::optional<int64_t> width = staticUpperBound(queries, 1);
  if (!width)
    return false;
  int64_t groups = (*width + kBandChannels - 1) / kBandChannels;
  // The partial scores live beside the workspace's buffer, in the same
  // scope (the workspace itself is (32 + C) x K: too much shared memory).
  memref::AllocaOp root = localRoot(op.getWorkspace());
  if (!root)
    return false;
  Value partials;
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointAfter(root);
    partials = memref::AllocaOp::create(
        b, loc, MemRefType::get({countMax * countMax, groups}, b.getF32Type()));
  }
  bool strict = op.getStrict();
  Type f32 = b.getF32Type();
  Value zero = alg.index(0), one = alg.index(1);
  Value groupsV = alg.index(groups), countMaxV = alg.index(countMax);
  // Partial score (a, j, group) at row a * countMax + j, column group.
  auto partialAt = [&](OpBuilder &nb, Location l, Value a, Value j,
                       Value group) -> SmallVector<Value> {
    return {arith::AddIOp::create(
                nb, l, arith::MulIOp::create(nb, l, a, countMaxV), j),
            group};
  };
  // A thread-parallel loop over outer x inner items, the builder left in its
  // body; returns the item's (outer, inner) indices.
  auto threadLoop = [&](int64_t outer, int64_t inner) {
    auto loop = scf::ForOp::create(b, loc, zero, alg.index(outer * inner), one);
    loop->setAttr(kThreadParallelAttrName, b.getUnitAttr());
    b.setInsertionPointToStart(loop.getBody());
    Value item = loop.getInductionVar(), innerV = alg.index(inner);
    Value outerIndex = arith::DivUIOp::create(b, loc, item, innerV);
    Value innerIndex = arith::RemUIOp::create(b, loc, item, innerV);
    return std::make_pair(outerIndex, innerIndex);
  };

  {
    OpBuilder::InsertionGuard guard(b);
    // Plain values, not structured bindings: the lambdas below capture them.
    Value j, group;
    std::tie(j, group) = threadLoop(countMax, groups);
    auto inside = scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, j, count),
        /*withElse=*/false);
    b.setInsertionPointToStart(inside.thenBlock());
    // The thread's channels (clamped into the row where past it, their
    // terms dropped) and its key's entries.
    Value last = alg.index(*width - 1);
    SmallVector<Value> channels, present, keyEntries, windows;
    for (int64_t u = 0; u < kBandChannels; ++u) {
      Value c = arith::AddIOp::create(b, loc, group, alg.index(u * groups));
      present.push_back(
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, c, last));
      channels.push_back(arith::MinUIOp::create(b, loc, c, last));
      keyEntries.push_back(convertFloat(
          b, loc,
          memref::LoadOp::create(b, loc, keys, ValueRange{j, channels.back()}),
          f32));
      windows.push_back(alg.f32Const(0.0f));
    }
    scf::ForOp::create(
        b, loc, j, count, one, windows,
        [&](OpBuilder &nb, Location l, Value a, ValueRange before) {
          Value first =
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, a, j);
          Value sum = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0));
          SmallVector<Value> after;
          for (int64_t u = 0; u < kBandChannels; ++u) {
            Value g = memref::LoadOp::create(nb, l, gates,
                                             ValueRange{a, channels[u]});
            // The key's own token adds no gate: its window is empty.
            Value window = arith::SelectOp::create(
                nb, l, first, before[u],
                arith::AddFOp::create(nb, l, before[u], g));
            after.push_back(window);
            Value q =
                convertFloat(nb, l,
                             memref::LoadOp::create(nb, l, queries,
                                                    ValueRange{a, channels[u]}),
                             f32);
            Value term = arith::MulFOp::create(
                nb, l, arith::MulFOp::create(nb, l, q, keyEntries[u]),
                math::ExpOp::create(nb, l, window));
            sum = arith::SelectOp::create(
                nb, l, present[u], arith::AddFOp::create(nb, l, sum, term),
                sum);
          }
          memref::StoreOp::create(nb, l, sum, partials,
                                  partialAt(nb, l, a, j, group));
          scf::YieldOp::create(nb, l, after);
        });
  }

  OpBuilder::InsertionGuard guard(b);
  Value a, j;
  std::tie(a, j) = threadLoop(countMax, countMax);
  Value visible = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, a, count),
      arith::CmpIOp::create(b, loc,
                            strict ? arith::CmpIPredicate::ult
                                   : arith::CmpIPredicate::ule,
                            j, a));
  auto inside = scf::IfOp::create(b, loc, visible, /*withElse=*/false);
  b.setInsertionPointToStart(inside.thenBlock());
  auto total = scf::ForOp::create(
      b, loc, zero, groupsV, one, ValueRange{alg.f32Const(0.0f)},
      [&](OpBuilder &nb, Location l, Value group, ValueRange acc) {
        Value partial = memref::LoadOp::create(nb, l, partials,
                                               partialAt(nb, l, a, j, group));
        scf::YieldOp::create(
            nb, l, Value(arith::AddFOp::create(nb, l, acc[0], partial)));
      });
  memref::StoreOp::create(b, loc, total.getResult(0), band, ValueRange{a, j});
  return true;
}

/// The largest |g_{t+1} + ... + g_last| of a sub-chunk for which its scores
/// are factored: the two factors stay within exp(+-20) of q and k, far from
/// f32's range, and the rounding of the sums (shared by both factors up to
/// the later token) moves each weight by a few units in the last place.
constexpr float kFactoredBandRange = 20.0f;

/// Whether every |sums[t, c]| <= kFactoredBandRange (false for NaN): the
/// largest per channel into workspace row 0, then the largest of those into
/// workspace[1, 0], both plain reductions LLVM vectorizes.
Value sumsWithinFactoredRange(ChunkAlgebra &alg, Value sums, Value workspace) {
  OpBuilder &b = alg.b;
  Location loc = alg.loc;
  OpFoldResult idx0 = b.getIndexAttr(0), idx1 = b.getIndexAttr(1);
  auto largerMagnitude = [](OpBuilder &nb, Location l, ValueRange args) {
    Value magnitude = math::AbsFOp::create(nb, l, args[0]);
    linalg::YieldOp::create(
        nb, l, Value(arith::MaximumFOp::create(nb, l, args[1], magnitude)));
  };
  Value width = alg.dim(sums, 1);
  Value perChannel =
      alg.rowOf(alg.view(workspace, {idx0, idx0}, {idx1, width}), alg.index(0));
  alg.zero(perChannel);
  linalg::GenericOp::create(
      b, loc, ValueRange{sums}, ValueRange{perChannel},
      ArrayRef<AffineMap>{alg.map(2, {0, 1}), alg.map(2, {1})},
      ArrayRef<IteratorType>{kRed, kPar}, largerMagnitude);
  auto workspaceType = cast<MemRefType>(workspace.getType());
  SmallVector<OpFoldResult> offsets = {idx1, idx0}, unit = {idx1, idx1};
  auto scalarType = memref::SubViewOp::inferRankReducedResultType(
      {}, workspaceType, offsets, unit, unit);
  Value largest = memref::SubViewOp::create(
      b, loc, cast<MemRefType>(scalarType), workspace, offsets, unit, unit);
  alg.zero(largest);
  linalg::GenericOp::create(
      b, loc, ValueRange{perChannel}, ValueRange{largest},
      ArrayRef<AffineMap>{alg.map(1, {0}),
                          AffineMap::get(1, 0, b.getContext())},
      ArrayRef<IteratorType>{kRed}, largerMagnitude);
  Value value = memref::LoadOp::create(b, loc, largest, ValueRange{});
  return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, value,
                               alg.f32Const(kFactoredBandRange));
}

/// Vector gates, the keys inside a sub-chunk as one matrix product: with
/// R_t = g_{t+1} + ... + g_last (`reverseSums`), the window of query a and
/// key j <= a is R_j - R_a, so its score is (q_a * exp(-R_a)) . (k_j *
/// exp(R_j)): 2 exps per row and channel instead of one per score and
/// channel. The causal mask then zeroes the keys after each query.
/// `reverseSums` is rescaled in place into the keys' factor; `scaledQueries`
/// receives the queries'.
void buildFactoredBand(ChunkAlgebra &alg, DecayedScoresOp op, Value queries,
                       Value keys, Value reverseSums, Value scaledQueries,
                       Value scores) {
  alg.elementwise({queries, reverseSums},
                  {alg.map(2, {0, 1}), alg.map(2, {0, 1})}, scaledQueries,
                  [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    Value q = convertFloat(nb, l, args[0], nb.getF32Type());
                    Value toEnd = arith::NegFOp::create(nb, l, args[1]);
                    return arith::MulFOp::create(
                        nb, l, q, math::ExpOp::create(nb, l, toEnd));
                  });
  alg.elementwise({keys}, {alg.map(2, {0, 1})}, reverseSums,
                  [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    Value k = convertFloat(nb, l, args[0], nb.getF32Type());
                    return arith::MulFOp::create(
                        nb, l, k, math::ExpOp::create(nb, l, args[1]));
                  });
  linalg::GenericOp products =
      alg.matmulTransposed(scaledQueries, reverseSums, scores);
  products->setAttr(kCausalOutputAttrName, alg.b.getI64IntegerAttr(1));
  bool strict = op.getStrict();
  alg.elementwise(
      {}, {}, scores, [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value i = linalg::IndexOp::create(nb, l, 0);
        Value j = linalg::IndexOp::create(nb, l, 1);
        Value visible = arith::CmpIOp::create(
            nb, l,
            strict ? arith::CmpIPredicate::ult : arith::CmpIPredicate::ule, j,
            i);
        Value zero = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0f));
        return arith::SelectOp::create(nb, l, visible, args[0], zero);
      });
}

/// Vector gates, sub-chunk by sub-chunk of 16 queries (one key per query).
/// Keys before the sub-chunk: q_i * exp(g_{i0} + ... + g_i) times
/// k_t * exp(g_{t+1} + ... + g_{i0-1}), one matrix product. Keys inside it:
/// diagonal by diagonal, with running window sums per channel; with
/// `perElementSums`, one contraction whose every score sums its own windows;
/// with `factoredBand`, one matrix product of rescaled rows where the
/// sub-chunk's gate sums allow it (the diagonals where they do not).
void lowerVectorDecayScores(ChunkAlgebra &alg, DecayedScoresOp op,
                            bool perElementSums, bool factoredBand) {
  OpBuilder &b = alg.b;
  Location loc = alg.loc;
  Value queries = op.getQueries(), keys = op.getKeys(), gates = op.getGates();
  Value scores = op.getScores(), workspace = op.getWorkspace();
  bool strict = op.getStrict();
  Value rows = alg.dim(queries, 0), width = alg.dim(queries, 1);
  Value zero = alg.index(0), one = alg.index(1), sub = alg.index(kSubChunk);
  OpFoldResult idx0 = b.getIndexAttr(0), idx1 = b.getIndexAttr(1);
  auto addRows = [&](Value dst, Value src) {
    alg.elementwise({src}, {alg.map(1, {0})}, dst,
                    [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                      return arith::AddFOp::create(nb, l, args[1], args[0]);
                    });
  };
  auto scaleByExp = [&](Value source, Value inPlace) {
    alg.elementwise({source}, {alg.map(2, {0, 1})}, inPlace,
                    [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                      Value x = convertFloat(nb, l, args[0], nb.getF32Type());
                      return arith::MulFOp::create(
                          nb, l, x, math::ExpOp::create(nb, l, args[1]));
                    });
  };

  // sums[r] = g[0] + ... + g[r], row by row.
  auto forwardSumsByRow = [&](Value sums, Value blockGates) {
    alg.elementwise(
        {alg.rowOf(blockGates, zero)}, {alg.map(1, {0})}, alg.rowOf(sums, zero),
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    auto forward = scf::ForOp::create(b, loc, one, alg.dim(sums, 0), one);
    OpBuilder::InsertionGuard loopGuard(b);
    b.setInsertionPointToStart(forward.getBody());
    Value r = forward.getInductionVar();
    Value row = alg.rowOf(sums, r);
    alg.elementwise(
        {alg.rowOf(sums, arith::SubIOp::create(b, loc, r, one))},
        {alg.map(1, {0})}, row,
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    addRows(row, alg.rowOf(blockGates, r));
  };
  // sums[t] = g[t + 1] + ... + g[n - 1] for the n rows of sums, row by row.
  auto reverseSumsByRow = [&](Value sums, Value chunkGates) {
    Value last = arith::SubIOp::create(b, loc, alg.dim(sums, 0), one);
    alg.zero(alg.rowOf(sums, last));
    auto backward = scf::ForOp::create(b, loc, one, alg.dim(sums, 0), one);
    OpBuilder::InsertionGuard loopGuard(b);
    b.setInsertionPointToStart(backward.getBody());
    Value t = arith::SubIOp::create(b, loc, last, backward.getInductionVar());
    Value next = arith::AddIOp::create(b, loc, t, one);
    Value row = alg.rowOf(sums, t);
    alg.elementwise(
        {alg.rowOf(sums, next)}, {alg.map(1, {0})}, row,
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    addRows(row, alg.rowOf(chunkGates, next));
  };

  // A chunk of at most 16 rows is one sub-chunk with no keys before it
  // (without the loop, the keys-before branch folds away, and with it, on
  // GPUs, the workspace's shared memory).
  OpBuilder::InsertionGuard guard(b);
  Value i0 = zero, count = rows;
  std::optional<int64_t> maxRows = staticUpperBound(rows);
  if (!maxRows || *maxRows > kSubChunk) {
    auto blocks = scf::ForOp::create(
        b, loc, zero, arith::CeilDivSIOp::create(b, loc, rows, sub), one);
    b.setInsertionPointToStart(blocks.getBody());
    i0 = arith::MulIOp::create(b, loc, blocks.getInductionVar(), sub);
    count = arith::MinSIOp::create(b, loc, sub,
                                   arith::SubIOp::create(b, loc, rows, i0));
  }
  Value blockQueries = alg.view(queries, {i0, idx0}, {count, width});
  Value blockGates = alg.view(gates, {i0, idx0}, {count, width});

  // Keys before the sub-chunk.
  Value hasBefore =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, i0, zero);
  auto before = scf::IfOp::create(b, loc, hasBefore, /*withElse=*/false);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(before.thenBlock());
    // Forward sums from the block's start, then the rescaled queries.
    Value scaledQueries = alg.view(workspace, {idx0, idx0}, {count, width});
    if (perElementSums)
      sumGatesPerElement(alg, blockGates, scaledQueries, /*reverse=*/false);
    else
      forwardSumsByRow(scaledQueries, blockGates);
    scaleByExp(blockQueries, scaledQueries);
    // Reverse sums up to the block's start, then the rescaled keys.
    Value scaledKeys =
        alg.view(workspace, {b.getIndexAttr(2 * kSubChunk), idx0}, {i0, width});
    if (perElementSums)
      sumGatesPerElement(alg, alg.view(gates, {idx0, idx0}, {i0, width}),
                         scaledKeys, /*reverse=*/true);
    else
      reverseSumsByRow(scaledKeys, gates);
    scaleByExp(alg.view(keys, {idx0, idx0}, {i0, width}), scaledKeys);
    alg.matmulTransposed(scaledQueries, scaledKeys,
                         alg.view(scores, {i0, idx0}, {count, i0}));
  }

  // Keys inside the sub-chunk, each score on its own: per channel, its
  // window g_a + ... + g_{j+1} (the diagonal form's order and products), one
  // op for the whole band (GPUs: no chain of barriers); by row, one op per
  // diagonal.
  auto exactBand = [&] {
    if (!perElementSums) {
      buildExactBand(alg, op, blockGates, i0, count);
      return;
    }
    Value blockKeys = alg.view(keys, {i0, idx0}, {count, width});
    if (buildThreadBand(alg, op, blockQueries, blockKeys, blockGates,
                        alg.view(scores, {i0, i0}, {count, count}), count,
                        std::min(maxRows.value_or(kSubChunk), kSubChunk)))
      return;
    linalg::GenericOp::create(
        b, loc, ValueRange{blockQueries, blockKeys},
        ValueRange{alg.view(scores, {i0, i0}, {count, count})},
        ArrayRef<AffineMap>{alg.map(3, {0, 2}), alg.map(3, {1, 2}),
                            alg.map(3, {0, 1})},
        ArrayRef<IteratorType>{kPar, kPar, kRed},
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value a = linalg::IndexOp::create(nb, l, 0);
          Value j = linalg::IndexOp::create(nb, l, 1);
          Value c = linalg::IndexOp::create(nb, l, 2);
          Value one = arith::ConstantIndexOp::create(nb, l, 1);
          Value from = arith::AddIOp::create(nb, l, j, one);
          Value to = arith::AddIOp::create(nb, l, a, one);
          Value window = sumGates(nb, l, blockGates, c, from, to,
                                  /*descending=*/true);
          Value q = convertFloat(nb, l, args[0], nb.getF32Type());
          Value k = convertFloat(nb, l, args[1], nb.getF32Type());
          Value qk = arith::MulFOp::create(nb, l, q, k);
          Value sum = alg.mulAdd(nb, l, args[2], qk,
                                 math::ExpOp::create(nb, l, window));
          Value visible = arith::CmpIOp::create(
              nb, l,
              strict ? arith::CmpIPredicate::ult : arith::CmpIPredicate::ule, j,
              a);
          linalg::YieldOp::create(
              nb, l,
              Value(arith::SelectOp::create(nb, l, visible, sum, args[2])));
        });
  };

  if (!factoredBand) {
    exactBand();
    return;
  }
  // Factored when the sub-chunk's gate sums are small, else exact. The
  // per-element reverse sums add in the running sum's order: the same R.
  Value tail =
      alg.view(workspace, {b.getIndexAttr(kSubChunk), idx0}, {count, width});
  if (perElementSums)
    sumGatesPerElement(alg, blockGates, tail, /*reverse=*/true);
  else
    reverseSumsByRow(tail, blockGates);
  Value small = sumsWithinFactoredRange(alg, tail, workspace);
  auto branch = scf::IfOp::create(b, loc, small, /*withElse=*/true);
  b.setInsertionPointToStart(branch.thenBlock());
  buildFactoredBand(alg, op, alg.view(queries, {i0, idx0}, {count, width}),
                    alg.view(keys, {i0, idx0}, {count, width}), tail,
                    alg.view(workspace, {idx0, idx0}, {count, width}),
                    alg.view(scores, {i0, i0}, {count, count}));
  b.setInsertionPointToStart(branch.elseBlock());
  exactBand();
}

} // namespace

LogicalResult mlir::linac::lowerDecayedScores(DecayedScoresOp op,
                                              bool perElementSums,
                                              bool factoredBand) {
  OpBuilder b(op);
  ChunkAlgebra alg{b, op.getLoc()};
  alg.zero(op.getScores());
  Value gates = op.getGates();
  if (gates && cast<MemRefType>(gates.getType()).getRank() == 2) {
    lowerVectorDecayScores(alg, op, perElementSums, factoredBand);
  } else {
    // The mask below zeroes the entries above the causal diagonal.
    linalg::GenericOp products =
        alg.matmulTransposed(op.getQueries(), op.getKeys(), op.getScores());
    products->setAttr(kCausalOutputAttrName,
                      b.getI64IntegerAttr(op.getQueryStride()));
    applyScalarDecayAndMask(alg, op, perElementSums);
  }
  op.erase();
  return success();
}
