//===- ChunkAlgebra.h - linalg builders for lowering tile ops -*- C++ -*-===//
//
// The builders linac-lower-chunk-ops writes the chunk algebra with, shared by
// its files: LowerChunkOps.cpp (products, outputs, state updates, SSM ops)
// and LowerDecays.cpp (cumulative sums of gates and decayed scores).
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_CHUNKALGEBRA_H
#define LINAC_PASSES_CHUNKALGEBRA_H

#include "passes/LinalgHelpers.h"
#include "passes/Passes.h"

namespace mlir::linac {

constexpr utils::IteratorType kPar = utils::IteratorType::parallel;
constexpr utils::IteratorType kRed = utils::IteratorType::reduction;

/// Builds linalg.generic ops for the chunk algebra. Loop dimensions are
/// listed outermost first; the innermost runs along contiguous rows of the
/// operands, so the loops linalg produces vectorize.
struct ChunkAlgebra {
  OpBuilder &b;
  Location loc;

  Type f32() { return b.getF32Type(); }
  Value f32Const(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value dim(Value view, int64_t d) {
    return memref::DimOp::create(b, loc, view, d);
  }
  /// Reductions may be reassociated and contracted into FMAs.
  arith::FastMathFlagsAttr fastMath() {
    return arith::FastMathFlagsAttr::get(b.getContext(),
                                         arith::FastMathFlags::reassoc |
                                             arith::FastMathFlags::contract);
  }
  Value mulAdd(OpBuilder &nb, Location l, Value acc, Value x, Value y,
               bool subtract = false) {
    Value prod = arith::MulFOp::create(nb, l, x, y, fastMath());
    if (subtract)
      return arith::SubFOp::create(nb, l, acc, prod, fastMath());
    return arith::AddFOp::create(nb, l, acc, prod, fastMath());
  }
  AffineMap map(unsigned numDims, ArrayRef<unsigned> dims) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d : dims)
      exprs.push_back(b.getAffineDimExpr(d));
    return AffineMap::get(numDims, 0, exprs, b.getContext());
  }
  /// Dimension `d` of a view: an attribute when static.
  OpFoldResult mixedSize(Value view, int64_t d) {
    auto type = cast<MemRefType>(view.getType());
    if (!type.isDynamicDim(d))
      return b.getIndexAttr(type.getDimSize(d));
    return dim(view, d);
  }
  /// A rank-preserving view `source[offsets][sizes]` with unit strides.
  Value view(Value source, ArrayRef<OpFoldResult> offsets,
             ArrayRef<OpFoldResult> sizes) {
    SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
    return memref::SubViewOp::create(b, loc, source, offsets, sizes, strides);
  }
  /// Row `row` of a matrix, as a vector.
  Value rowOf(Value matrix, Value row) {
    auto type = cast<MemRefType>(matrix.getType());
    SmallVector<OpFoldResult> offsets = {row, b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), mixedSize(matrix, 1)};
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    auto resultType = memref::SubViewOp::inferRankReducedResultType(
        {type.getDimSize(1)}, type, offsets, sizes, strides);
    return memref::SubViewOp::create(b, loc, resultType, matrix, offsets, sizes,
                                     strides);
  }

  /// out (+|-)= contraction of lhs and rhs over the loops given by the maps.
  linalg::GenericOp contract(Value lhs, AffineMap lhsMap, Value rhs,
                             AffineMap rhsMap, Value out, AffineMap outMap,
                             ArrayRef<utils::IteratorType> iters,
                             bool subtract = false) {
    return linalg::GenericOp::create(
        b, loc, ValueRange{lhs, rhs}, ValueRange{out},
        ArrayRef<AffineMap>{lhsMap, rhsMap, outMap}, iters,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value x = convertFloat(nb, l, args[0], f32());
          Value y = convertFloat(nb, l, args[1], f32());
          linalg::YieldOp::create(nb, l,
                                  mulAdd(nb, l, args[2], x, y, subtract));
        });
  }
  /// out[i, j] (+|-)= sum_r lhs[i, r] rhs[r, j]; loops (i, r, j): rank-1
  /// updates along contiguous rows of rhs and out.
  linalg::GenericOp matmul(Value lhs, Value rhs, Value out,
                           bool subtract = false) {
    return contract(lhs, map(3, {0, 1}), rhs, map(3, {1, 2}), out,
                    map(3, {0, 2}), {kPar, kRed, kPar}, subtract);
  }
  /// out[i, j] += sum_d lhs[i, d] rhs[j, d]; loops (i, j, d): dot products
  /// along contiguous rows of both.
  linalg::GenericOp matmulTransposed(Value lhs, Value rhs, Value out) {
    return contract(lhs, map(3, {0, 2}), rhs, map(3, {1, 2}), out,
                    map(3, {0, 1}), {kPar, kPar, kRed});
  }

  /// out = fn(ins..., out) elementwise over out's shape.
  void elementwise(ValueRange ins, ArrayRef<AffineMap> inMaps, Value out,
                   function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
    unsigned rank = cast<MemRefType>(out.getType()).getRank();
    SmallVector<AffineMap> maps(inMaps);
    maps.push_back(b.getMultiDimIdentityMap(rank));
    SmallVector<utils::IteratorType> iters(rank, kPar);
    linalg::GenericOp::create(b, loc, ins, ValueRange{out}, maps, iters,
                              [&](OpBuilder &nb, Location l, ValueRange args) {
                                linalg::YieldOp::create(nb, l, fn(nb, l, args));
                              });
  }

  void zero(Value out) { buildFill(b, loc, f32Const(0.0f), out); }
  /// out *= factor (an f32 value defined outside).
  void scale(Value out, Value factor) {
    elementwise({}, {}, out,
                [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                  return arith::MulFOp::create(nb, l, args[0], factor);
                });
  }
  /// out = Q S (the inter-chunk part of a chunk's output).
  void queryState(Value queries, Value state, Value out) {
    zero(out);
    matmul(queries, state, out);
  }

  /// A decay's map over an (i, d) iteration space: G[i] or G[i, d].
  AffineMap decayMap(Value decay) {
    return cast<MemRefType>(decay.getType()).getRank() == 1 ? map(2, {0})
                                                            : map(2, {0, 1});
  }
};

/// Lowers a chunk_cumsum: row by row, or each sum its own loop with
/// `perElementSums` (GPUs).
LogicalResult lowerChunkCumsum(ChunkCumsumOp op, bool perElementSums);

/// Lowers a decayed_scores: products, then the decays and the causal mask
/// (scalar gates) or the sub-chunk scheme of vector gates; `factoredBand`
/// (CPUs) takes a vector-gate sub-chunk's scores as one product where its
/// gate sums allow.
LogicalResult lowerDecayedScores(DecayedScoresOp op, bool perElementSums,
                                 bool factoredBand);

} // namespace mlir::linac

#endif // LINAC_PASSES_CHUNKALGEBRA_H
