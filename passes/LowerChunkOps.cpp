//===- LowerChunkOps.cpp - tile-level linac ops to linalg and scf --------===//

#include "passes/ChunkAlgebra.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

namespace mlir::linac {
#define GEN_PASS_DEF_LINACLOWERCHUNKOPS
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;
using utils::IteratorType;

namespace {

/// y = x * exp(D).
LogicalResult lower(DecayedRowsOp op) {
  OpBuilder b(op);
  ChunkAlgebra alg{b, op.getLoc()};
  Value decay = op.getDecay();
  alg.elementwise({op.getInput(), decay}, {alg.map(2, {0, 1}), alg.decayMap(decay)},
                  op.getResult(),
                  [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    Value x = convertFloat(nb, l, args[0], nb.getF32Type());
                    Value y = arith::MulFOp::create(
                        nb, l, x, math::ExpOp::create(nb, l, args[1]));
                    return convertFloat(nb, l, y, args[2].getType());
                  });
  op.erase();
  return success();
}

/// O = scale * (Q S + P V).
LogicalResult lower(ChunkOutputOp op) {
  OpBuilder b(op);
  ChunkAlgebra alg{b, op.getLoc()};
  Value out = op.getResult();
  alg.queryState(op.getQueries(), op.getState(), out);
  linalg::GenericOp intraChunk =
      alg.matmul(op.getScores(), op.getValues(), out);
  if (std::optional<uint64_t> stride = op.getCausalStride())
    intraChunk->setAttr(kCausalLhsAttrName, b.getI64IntegerAttr(*stride));
  alg.scale(out, op.getScale());
  op.erase();
  return success();
}

/// S = exp(G_last) * S + K^T V.
LogicalResult lower(ChunkStateUpdateOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ChunkAlgebra alg{b, loc};
  Value state = op.getState();
  if (Value decay = op.getDecay()) {
    Value last = arith::SubIOp::create(b, loc, alg.dim(decay, 0), alg.index(1));
    if (cast<MemRefType>(decay.getType()).getRank() == 1) {
      alg.scale(state,
                math::ExpOp::create(
                    b, loc, memref::LoadOp::create(b, loc, decay, last)));
    } else {
      alg.elementwise({alg.rowOf(decay, last)}, {alg.map(2, {0})}, state,
                      [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                        return arith::MulFOp::create(
                            nb, l, args[1], math::ExpOp::create(nb, l, args[0]));
                      });
    }
  }
  // Loops (i, d, e): the chunk's rows outermost, rank-1 updates inside.
  alg.contract(op.getKeys(), alg.map(3, {0, 1}), op.getValues(),
               alg.map(3, {0, 2}), state, alg.map(3, {1, 2}),
               {kRed, kPar, kPar});
  op.erase();
  return success();
}

/// T = (I + diag(beta) A)^-1 diag(beta) by forward substitution:
/// T[i, :] = beta_i (e_i - sum_{j<i} A[i, j] T[j, :]).
LogicalResult lower(UTTransformOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ChunkAlgebra alg{b, loc};
  Value products = op.getProducts(), beta = op.getBeta(), result = op.getResult();
  Value n = alg.dim(products, 0);
  alg.zero(result);
  auto loop = scf::ForOp::create(b, loc, alg.index(0), n, alg.index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value i = loop.getInductionVar();
  OpFoldResult idx0 = b.getIndexAttr(0), idx1 = b.getIndexAttr(1);
  Value row = alg.view(result, {i, idx0}, {idx1, n});
  // row[0, c] += sum_j A[i, j] T[j, c] over the rows already solved.
  Value solvedA = alg.view(products, {i, idx0}, {idx1, i});
  Value solvedT = alg.view(result, {idx0, idx0}, {i, n});
  alg.matmul(solvedA, solvedT, row);
  Value beta_i = memref::LoadOp::create(b, loc, beta, i);
  alg.elementwise({}, {}, row,
                  [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    Value c = linalg::IndexOp::create(nb, l, 1);
                    Value diagonal = arith::CmpIOp::create(
                        nb, l, arith::CmpIPredicate::eq, c, i);
                    Value unit = arith::SelectOp::create(
                        nb, l, diagonal,
                        arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1.0f)),
                        arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0f)));
                    return arith::MulFOp::create(
                        nb, l, beta_i, arith::SubFOp::create(nb, l, unit, args[0]));
                  });
  op.erase();
  return success();
}

/// The same T column by column (GPUs): column c depends only on itself, so
/// each is a sequential solve of its own, and the loop over the columns is
/// marked thread-parallel. Row by row, a GPU block meets at two barriers a
/// row; column by column, at none until the end. T is lower triangular: row
/// i of column c takes the terms j in [c, i) (those below c are zero), and
/// the rows above c are zero.
///   T[i, c] = beta_i ([i == c] - sum_{c <= j < i} A[i, j] T[j, c])
LogicalResult lowerUTTransformByColumns(UTTransformOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ChunkAlgebra alg{b, loc};
  Value products = op.getProducts(), beta = op.getBeta(),
        result = op.getResult();
  Value zero = alg.index(0), one = alg.index(1);
  Value rows = alg.dim(products, 0), columns = alg.dim(result, 1);
  auto columnLoop = scf::ForOp::create(b, loc, zero, columns, one);
  columnLoop->setAttr(kThreadParallelAttrName, b.getUnitAttr());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(columnLoop.getBody());
  Value c = columnLoop.getInductionVar();
  auto rowLoop = scf::ForOp::create(b, loc, zero, rows, one);
  b.setInsertionPointToStart(rowLoop.getBody());
  Value i = rowLoop.getInductionVar();
  Value diagonal =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, i, c);
  Value unit = arith::SelectOp::create(b, loc, diagonal, alg.f32Const(1.0f),
                                       alg.f32Const(0.0f));
  auto sum = scf::ForOp::create(
      b, loc, c, i, one, ValueRange{unit},
      [&](OpBuilder &nb, Location l, Value j, ValueRange acc) {
        Value a = memref::LoadOp::create(nb, l, products, ValueRange{i, j});
        Value t = memref::LoadOp::create(nb, l, result, ValueRange{j, c});
        scf::YieldOp::create(nb, l,
                             alg.mulAdd(nb, l, acc[0], a, t,
                                        /*subtract=*/true));
      });
  Value beta_i = memref::LoadOp::create(b, loc, beta, i);
  Value entry = arith::MulFOp::create(b, loc, beta_i, sum.getResult(0));
  memref::StoreOp::create(b, loc, entry, result, ValueRange{i, c});
  op.erase();
  return success();
}

LogicalResult lower(ChunkMatmulOp op) {
  OpBuilder b(op);
  ChunkAlgebra alg{b, op.getLoc()};
  if (op.getAccumulate() == Accumulate::overwrite)
    alg.zero(op.getResult());
  linalg::GenericOp product =
      alg.matmul(op.getLhs(), op.getRhs(), op.getResult(),
                 op.getAccumulate() == Accumulate::subtract);
  if (std::optional<uint64_t> stride = op.getCausalStride())
    product->setAttr(kCausalLhsAttrName, b.getI64IntegerAttr(*stride));
  op.erase();
  return success();
}

/// Row by row: y = x / sqrt(x . x + 1e-6).
LogicalResult lower(ChunkL2NormalizeOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ChunkAlgebra alg{b, loc};
  Value input = op.getInput(), result = op.getResult();
  Value zero = alg.index(0), one = alg.index(1), width = alg.dim(input, 1);
  auto loop = scf::ForOp::create(b, loc, zero, alg.dim(input, 0), one);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value i = loop.getInductionVar();
  auto sum = scf::ForOp::create(
      b, loc, zero, width, one, ValueRange{alg.f32Const(0.0f)},
      [&](OpBuilder &nb, Location l, Value d, ValueRange acc) {
        Value x = convertFloat(
            nb, l, memref::LoadOp::create(nb, l, input, ValueRange{i, d}),
            nb.getF32Type());
        scf::YieldOp::create(nb, l, alg.mulAdd(nb, l, acc[0], x, x));
      });
  Value inverse = math::RsqrtOp::create(
      b, loc, arith::AddFOp::create(b, loc, sum.getResult(0), alg.f32Const(1e-6f)));
  alg.elementwise({alg.rowOf(input, i)}, {alg.map(1, {0})},
                  alg.rowOf(result, i),
                  [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    Value x = convertFloat(nb, l, args[0], nb.getF32Type());
                    return arith::MulFOp::create(nb, l, x, inverse);
                  });
  op.erase();
  return success();
}

/// numerator * sigmoid(x), as numerator / (1 + exp(-x)).
Value timesSigmoid(OpBuilder &b, Location loc, Value numerator, Value x) {
  Value negated = arith::NegFOp::create(b, loc, x);
  Value denominator = arith::AddFOp::create(
      b, loc, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.0f)),
      math::ExpOp::create(b, loc, negated));
  return arith::DivFOp::create(b, loc, numerator, denominator);
}

/// y = factor / (1 + exp(-x)).
LogicalResult lower(ChunkSigmoidOp op) {
  OpBuilder b(op);
  ChunkAlgebra alg{b, op.getLoc()};
  float factor = op.getFactor().convertToFloat();
  alg.elementwise({op.getInput()}, {alg.map(1, {0})}, op.getResult(),
                  [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    return timesSigmoid(nb, l,
                                        arith::ConstantOp::create(
                                            nb, l, nb.getF32FloatAttr(factor)),
                                        args[0]);
                  });
  op.erase();
  return success();
}

/// softplus(x) = log(1 + exp(x)), and x itself above 20 (where the two
/// agree in f32), as torch and Mamba do.
Value softplus(OpBuilder &b, Location loc, Value x) {
  Value threshold = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(20.0f));
  Value large =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, threshold);
  Value smooth = math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, x));
  return arith::SelectOp::create(b, loc, large, x, smooth);
}

/// dt' = softplus(dt + bias); gates = dt' * a; values = x * dt'.
LogicalResult lower(SsmInputsOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ChunkAlgebra alg{b, loc};
  Value zero = alg.index(0);
  Value bias = op.getBias() ? memref::LoadOp::create(b, loc, op.getBias(), zero)
                                  .getResult()
                            : Value();
  bool useSoftplus = op.getDtSoftplus();
  auto timeStep = [&](OpBuilder &nb, Location l, Value dt) {
    if (bias)
      dt = arith::AddFOp::create(nb, l, dt, bias);
    return useSoftplus ? softplus(nb, l, dt) : dt;
  };
  Value gates = op.getGates(), rates = op.getRates();
  if (cast<MemRefType>(gates.getType()).getRank() == 1) {
    Value rate = memref::LoadOp::create(b, loc, rates, zero);
    alg.elementwise({op.getDt()}, {alg.map(1, {0})}, gates,
                    [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                      return arith::MulFOp::create(nb, l, timeStep(nb, l, args[0]),
                                                   rate);
                    });
  } else {
    alg.elementwise({op.getDt(), rates}, {alg.map(2, {0}), alg.map(2, {1})},
                    gates,
                    [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                      return arith::MulFOp::create(nb, l, timeStep(nb, l, args[0]),
                                                   args[1]);
                    });
  }
  alg.elementwise({op.getX(), op.getDt()}, {alg.map(2, {0, 1}), alg.map(2, {0})},
                  op.getValues(),
                  [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    Value x = convertFloat(nb, l, args[0], nb.getF32Type());
                    return arith::MulFOp::create(nb, l, x,
                                                 timeStep(nb, l, args[1]));
                  });
  op.erase();
  return success();
}

/// y = (y + d * x) * silu(z).
LogicalResult lower(SsmOutputOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ChunkAlgebra alg{b, loc};
  SmallVector<Value> ins = {op.getX()};
  SmallVector<AffineMap> maps = {alg.map(2, {0, 1})};
  Value skip = op.getSkip(), gate = op.getGate();
  bool perColumnSkip =
      skip && cast<MemRefType>(skip.getType()).getDimSize(0) != 1;
  Value scalarSkip;
  if (skip && perColumnSkip) {
    ins.push_back(skip);
    maps.push_back(alg.map(2, {1}));
  } else if (skip) {
    scalarSkip = memref::LoadOp::create(b, loc, skip, alg.index(0));
  }
  if (gate) {
    ins.push_back(gate);
    maps.push_back(alg.map(2, {0, 1}));
  }
  alg.elementwise(ins, maps, op.getResult(),
                  [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    Type f32 = nb.getF32Type();
                    Value y = args.back();
                    unsigned next = 1;
                    if (skip) {
                      Value d = perColumnSkip ? args[next++] : scalarSkip;
                      Value x = convertFloat(nb, l, args[0], f32);
                      y = arith::AddFOp::create(nb, l, y,
                                                arith::MulFOp::create(nb, l, d, x));
                    }
                    if (gate) {
                      Value z = convertFloat(nb, l, args[next], f32);
                      y = arith::MulFOp::create(nb, l, y,
                                                timesSigmoid(nb, l, z, z));
                    }
                    return y;
                  });
  op.erase();
  return success();
}

/// Token by token: S = exp(g_t) * S + k_t v_t^T, then O[t] = S^T q_t.
LogicalResult lower(ChunkScanOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ChunkAlgebra alg{b, loc};
  Value gates = op.getGates(), state = op.getState();
  bool vector = cast<MemRefType>(gates.getType()).getRank() == 2;
  auto loop = scf::ForOp::create(b, loc, alg.index(0),
                                 alg.dim(op.getQueries(), 0), alg.index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value t = loop.getInductionVar();
  SmallVector<Value> ins = {alg.rowOf(op.getKeys(), t),
                            alg.rowOf(op.getValues(), t)};
  SmallVector<AffineMap> maps = {alg.map(2, {0}), alg.map(2, {1})};
  Value scalarGate;
  if (vector) {
    ins.push_back(alg.rowOf(gates, t));
    maps.push_back(alg.map(2, {0}));
  } else {
    scalarGate = memref::LoadOp::create(b, loc, gates, t);
  }
  alg.elementwise(ins, maps, state,
                  [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    Type f32 = nb.getF32Type();
                    Value decay = math::ExpOp::create(
                        nb, l, vector ? args[2] : scalarGate);
                    Value k = convertFloat(nb, l, args[0], f32);
                    Value v = convertFloat(nb, l, args[1], f32);
                    Value decayed = arith::MulFOp::create(nb, l, args.back(), decay);
                    return alg.mulAdd(nb, l, decayed, k, v);
                  });
  Value row = alg.rowOf(op.getResult(), t);
  alg.zero(row);
  // row[e] = sum_d S[d, e] q[d]; loops (d, e).
  alg.contract(state, alg.map(2, {0, 1}), alg.rowOf(op.getQueries(), t),
               alg.map(2, {0}), row, alg.map(2, {1}), {kRed, kPar});
  op.erase();
  return success();
}

/// z += sum over the rows of k.
LogicalResult lower(ChunkKeySumOp op) {
  OpBuilder b(op);
  ChunkAlgebra alg{b, op.getLoc()};
  linalg::GenericOp::create(
      b, op.getLoc(), ValueRange{op.getKeys()}, ValueRange{op.getKeySum()},
      ArrayRef<AffineMap>{alg.map(2, {0, 1}), alg.map(2, {1})},
      ArrayRef<IteratorType>{kRed, kPar},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value k = convertFloat(nb, l, args[0], nb.getF32Type());
        linalg::YieldOp::create(nb, l,
                                Value(arith::AddFOp::create(nb, l, args[1], k)));
      });
  op.erase();
  return success();
}

/// O = scale * Q S.
LogicalResult lower(ChunkReadoutOp op) {
  OpBuilder b(op);
  ChunkAlgebra alg{b, op.getLoc()};
  Value out = op.getResult();
  alg.queryState(op.getQueries(), op.getState(), out);
  alg.scale(out, op.getScale());
  op.erase();
  return success();
}

/// Row by row: z += k_i (unless fixed); O[i, :] /= scale * (q_i . z) + 1e-10.
LogicalResult lower(ChunkNormalizeOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ChunkAlgebra alg{b, loc};
  Type f32 = b.getF32Type();
  Value zero = alg.index(0), one = alg.index(1);
  Value rows = alg.dim(op.getQueries(), 0);
  Value width = alg.dim(op.getKeys(), 1);
  Value cols = alg.dim(op.getResult(), 1);
  Value zeroF = alg.f32Const(0.0f), eps = alg.f32Const(1e-10f);
  Value keySum = op.getKeySum(), out = op.getResult();
  bool fixed = op.getFixed();
  scf::ForOp::create(
      b, loc, zero, rows, one, ValueRange{},
      [&](OpBuilder &nb, Location l, Value i, ValueRange) {
        auto dot = scf::ForOp::create(
            nb, l, zero, width, one, ValueRange{zeroF},
            [&](OpBuilder &ib, Location il, Value d, ValueRange acc) {
              Value z = memref::LoadOp::create(ib, il, keySum, d);
              if (!fixed) {
                Value k = convertFloat(
                    ib, il,
                    memref::LoadOp::create(ib, il, op.getKeys(),
                                           ValueRange{i, d}),
                    f32);
                z = arith::AddFOp::create(ib, il, z, k);
                memref::StoreOp::create(ib, il, z, keySum, d);
              }
              Value q = convertFloat(
                  ib, il,
                  memref::LoadOp::create(ib, il, op.getQueries(),
                                         ValueRange{i, d}),
                  f32);
              scf::YieldOp::create(ib, il, alg.mulAdd(ib, il, acc[0], q, z));
            });
        Value denom = arith::AddFOp::create(
            nb, l, arith::MulFOp::create(nb, l, dot.getResult(0), op.getScale()),
            eps);
        scf::ForOp::create(
            nb, l, zero, cols, one, ValueRange{},
            [&](OpBuilder &ib, Location il, Value e, ValueRange) {
              Value o = memref::LoadOp::create(ib, il, out, ValueRange{i, e});
              memref::StoreOp::create(ib, il,
                                      arith::DivFOp::create(ib, il, o, denom),
                                      out, ValueRange{i, e});
              scf::YieldOp::create(ib, il);
            });
        scf::YieldOp::create(nb, l);
      });
  op.erase();
  return success();
}

struct LowerChunkOpsPass
    : public linac::impl::LinacLowerChunkOpsBase<LowerChunkOpsPass> {
  using LinacLowerChunkOpsBase::LinacLowerChunkOpsBase;

  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<ChunkCumsumOp, DecayedScoresOp, DecayedRowsOp, ChunkOutputOp,
              ChunkReadoutOp, ChunkStateUpdateOp, UTTransformOp, ChunkMatmulOp,
              ChunkL2NormalizeOp, ChunkSigmoidOp, ChunkNormalizeOp,
              ChunkKeySumOp, ChunkScanOp, SsmInputsOp, SsmOutputOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      // The lowered code keeps the name of the op it came from (phase labels
      // of linac-profile-phases, readable dumps).
      op->setLoc(NameLoc::get(
          StringAttr::get(op->getContext(), op->getName().stripDialect()),
          op->getLoc()));
      LogicalResult result =
          llvm::TypeSwitch<Operation *, LogicalResult>(op)
              .Case<ChunkCumsumOp>([&](auto tileOp) {
                return lowerChunkCumsum(tileOp, perElementSums);
              })
              .Case<DecayedScoresOp>([&](auto tileOp) {
                return lowerDecayedScores(tileOp, perElementSums, factoredBand);
              })
              .Case<UTTransformOp>([&](auto tileOp) {
                return columnSolve ? lowerUTTransformByColumns(tileOp)
                                   : lower(tileOp);
              })
              .Case<DecayedRowsOp, ChunkOutputOp, ChunkReadoutOp,
                    ChunkStateUpdateOp, ChunkMatmulOp, ChunkL2NormalizeOp,
                    ChunkSigmoidOp, ChunkNormalizeOp, ChunkKeySumOp,
                    ChunkScanOp, SsmInputsOp, SsmOutputOp>(
                  [](auto tileOp) { return lower(tileOp); });
      if (failed(result))
        return signalPassFailure();
    }
  }
};

} // namespace
