//===- LowerChunkOps.cpp - tile-level linac ops to linalg and scf --------===//

#include "passes/LinalgHelpers.h"
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACLOWERCHUNKOPS
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

using utils::IteratorType;
constexpr IteratorType kPar = IteratorType::parallel;
constexpr IteratorType kRed = IteratorType::reduction;

/// Builds linalg.generic ops for the chunk algebra. Loop dimensions are listed
/// outermost first; the innermost one runs along contiguous rows of the
/// operands, so the loops that linalg produces vectorize.
struct ChunkAlgebra {
  OpBuilder &b;
  Location loc;

  Type f32() { return b.getF32Type(); }
  Value f32Const(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value toF32(Value v) { return convertFloat(b, loc, v, f32()); }
  /// Reductions may be reassociated and contracted into FMAs.
  arith::FastMathFlagsAttr fastMath() {
    return arith::FastMathFlagsAttr::get(
        b.getContext(),
        arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
  }
  Value mulAdd(OpBuilder &nb, Location l, Value acc, Value x, Value y) {
    Value prod = arith::MulFOp::create(nb, l, x, y, fastMath());
    return arith::AddFOp::create(nb, l, acc, prod, fastMath());
  }
  AffineMap map(unsigned numDims, ArrayRef<unsigned> dims) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d : dims)
      exprs.push_back(b.getAffineDimExpr(d));
    return AffineMap::get(numDims, 0, exprs, b.getContext());
  }

  /// out(i, j) += sum over r of a(...) * b(...): a contraction whose three
  /// loops (outer, middle, inner) are given by the operand maps.
  void contract(Value lhs, AffineMap lhsMap, Value rhs, AffineMap rhsMap,
                Value out, AffineMap outMap, ArrayRef<IteratorType> iters) {
    linalg::GenericOp::create(
        b, loc, ValueRange{lhs, rhs}, ValueRange{out},
        ArrayRef<AffineMap>{lhsMap, rhsMap, outMap}, iters,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value x = convertFloat(nb, l, args[0], f32());
          Value y = convertFloat(nb, l, args[1], f32());
          linalg::YieldOp::create(nb, l, mulAdd(nb, l, args[2], x, y));
        });
  }

  /// out(i, j) = fn(i, j, out(i, j), ins(...)) elementwise over out's shape.
  void elementwise(ValueRange ins, ArrayRef<AffineMap> inMaps, Value out,
                   function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
    unsigned rank = cast<MemRefType>(out.getType()).getRank();
    SmallVector<AffineMap> maps(inMaps);
    maps.push_back(b.getMultiDimIdentityMap(rank));
    SmallVector<IteratorType> iters(rank, kPar);
    linalg::GenericOp::create(
        b, loc, ins, ValueRange{out}, maps, iters,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          linalg::YieldOp::create(nb, l, fn(nb, l, args));
        });
  }

  void zero(Value out) { buildFill(b, loc, f32Const(0.0f), out); }
};

LogicalResult lower(ChunkCumsumOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value n = memref::DimOp::create(b, loc, op.getGates(), 0);
  Value init = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  scf::ForOp::create(
      b, loc, zero, n, one, ValueRange{init},
      [&](OpBuilder &nb, Location l, Value i, ValueRange iterArgs) {
        Value g = memref::LoadOp::create(nb, l, op.getGates(), i);
        Value sum = arith::AddFOp::create(nb, l, iterArgs[0], g);
        memref::StoreOp::create(nb, l, sum, op.getResult(), i);
        scf::YieldOp::create(nb, l, sum);
      });
  op.erase();
  return success();
}

/// P(i, j) = q_i . k_j, then times exp(G_i - G_j) below the diagonal, 0 above.
LogicalResult lower(DecayedScoresOp op) {
  OpBuilder b(op);
  ChunkAlgebra alg{b, op.getLoc()};
  Value scores = op.getScores();
  alg.zero(scores);
  // Loops (i, j, d): a dot product along contiguous rows of q and k.
  alg.contract(op.getQueries(), alg.map(3, {0, 2}), op.getKeys(),
               alg.map(3, {1, 2}), scores, alg.map(3, {0, 1}),
               {kPar, kPar, kRed});
  Value decay = op.getDecay();
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  if (decay) {
    ins = {decay, decay};
    maps = {alg.map(2, {0}), alg.map(2, {1})};
  }
  alg.elementwise(ins, maps, scores, [&](OpBuilder &nb, Location l,
                                         ValueRange args) -> Value {
    Value i = linalg::IndexOp::create(nb, l, 0);
    Value j = linalg::IndexOp::create(nb, l, 1);
    Value causal =
        arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ule, j, i);
    Value score = args.back();
    if (decay) {
      // Only differences of chunk-local cumulative sums are exponentiated.
      Value diff = arith::SubFOp::create(nb, l, args[0], args[1]);
      score = arith::MulFOp::create(nb, l, score, math::ExpOp::create(nb, l, diff));
    }
    Value zero = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0f));
    return arith::SelectOp::create(nb, l, causal, score, zero);
  });
  op.erase();
  return success();
}

/// O = scale * (diag(exp(G)) Q S + P V).
LogicalResult lower(ChunkOutputOp op) {
  OpBuilder b(op);
  ChunkAlgebra alg{b, op.getLoc()};
  Value out = op.getResult();
  alg.zero(out);
  // Loops (i, d, e): rank-1 updates along contiguous rows of S and O.
  alg.contract(op.getQueries(), alg.map(3, {0, 1}), op.getState(),
               alg.map(3, {1, 2}), out, alg.map(3, {0, 2}),
               {kPar, kRed, kPar});
  if (Value decay = op.getDecay())
    alg.elementwise({decay}, {alg.map(2, {0})}, out,
                    [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                      Value e = math::ExpOp::create(nb, l, args[0]);
                      return arith::MulFOp::create(nb, l, args[1], e);
                    });
  // Loops (i, j, e).
  alg.contract(op.getScores(), alg.map(3, {0, 1}), op.getValues(),
               alg.map(3, {1, 2}), out, alg.map(3, {0, 2}),
               {kPar, kRed, kPar});
  Value scale = op.getScale();
  alg.elementwise({}, {}, out,
                  [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                    return arith::MulFOp::create(nb, l, args[0], scale);
                  });
  op.erase();
  return success();
}

/// S = exp(G_last) S + (K * exp(G_last - G))^T V.
LogicalResult lower(ChunkStateUpdateOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ChunkAlgebra alg{b, loc};
  Value state = op.getState(), decay = op.getDecay();
  Value total;
  if (decay) {
    Value n = memref::DimOp::create(b, loc, decay, 0);
    Value last = arith::SubIOp::create(
        b, loc, n, arith::ConstantIndexOp::create(b, loc, 1));
    total = memref::LoadOp::create(b, loc, decay, last);
    Value factor = math::ExpOp::create(b, loc, total);
    alg.elementwise({}, {}, state,
                    [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                      return arith::MulFOp::create(nb, l, args[0], factor);
                    });
  }
  // Loops (i, d, e): the chunk's tokens outermost, so each token's weight
  // exp(G_last - G_i) and k_i[d] are loop-invariant in the inner loops.
  SmallVector<Value> ins = {op.getKeys(), op.getValues()};
  SmallVector<AffineMap> maps = {alg.map(3, {0, 1}), alg.map(3, {0, 2})};
  if (decay) {
    ins.push_back(decay);
    maps.push_back(alg.map(3, {0}));
  }
  maps.push_back(alg.map(3, {1, 2}));
  linalg::GenericOp::create(
      b, loc, ins, ValueRange{state}, maps, {kRed, kPar, kPar},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value key = convertFloat(nb, l, args[0], alg.f32());
        Value value = convertFloat(nb, l, args[1], alg.f32());
        if (decay) {
          Value diff = arith::SubFOp::create(nb, l, total, args[2]);
          key = arith::MulFOp::create(nb, l, key,
                                      math::ExpOp::create(nb, l, diff));
        }
        linalg::YieldOp::create(nb, l,
                                alg.mulAdd(nb, l, args.back(), key, value));
      });
  op.erase();
  return success();
}

/// Row by row: z += k_i; O[i, :] /= scale * (q_i . z) + 1e-10.
LogicalResult lower(ChunkNormalizeOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type f32 = b.getF32Type();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value rows = memref::DimOp::create(b, loc, op.getQueries(), 0);
  Value width = memref::DimOp::create(b, loc, op.getKeys(), 1);
  Value cols = memref::DimOp::create(b, loc, op.getResult(), 1);
  Value zeroF = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value eps = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1e-10f));
  Value keySum = op.getKeySum(), out = op.getResult();
  scf::ForOp::create(
      b, loc, zero, rows, one, ValueRange{},
      [&](OpBuilder &nb, Location l, Value i, ValueRange) {
        auto dot = scf::ForOp::create(
            nb, l, zero, width, one, ValueRange{zeroF},
            [&](OpBuilder &ib, Location il, Value d, ValueRange acc) {
              Value k = convertFloat(
                  ib, il,
                  memref::LoadOp::create(ib, il, op.getKeys(), ValueRange{i, d}),
                  f32);
              Value z = arith::AddFOp::create(
                  ib, il, memref::LoadOp::create(ib, il, keySum, d), k);
              memref::StoreOp::create(ib, il, z, keySum, d);
              Value q = convertFloat(
                  ib, il,
                  memref::LoadOp::create(ib, il, op.getQueries(),
                                         ValueRange{i, d}),
                  f32);
              Value prod = arith::MulFOp::create(ib, il, q, z);
              scf::YieldOp::create(ib, il,
                                   ValueRange{arith::AddFOp::create(
                                       ib, il, acc[0], prod)});
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
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<ChunkCumsumOp, DecayedScoresOp, ChunkOutputOp,
              ChunkStateUpdateOp, ChunkNormalizeOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      LogicalResult result =
          llvm::TypeSwitch<Operation *, LogicalResult>(op)
              .Case<ChunkCumsumOp, DecayedScoresOp, ChunkOutputOp,
                    ChunkStateUpdateOp, ChunkNormalizeOp>(
                  [](auto tileOp) { return lower(tileOp); });
      if (failed(result))
        return signalPassFailure();
    }
  }
};

} // namespace
