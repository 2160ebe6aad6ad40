//===- SequentialRecurrence.cpp - a step run one token at a time ---------===//
//
// The fallback for steps linac cannot chunk (e.g. tanh of the state): the
// grid over (head, sequence) of the tiled kernels, a loop over the tokens of
// the sequence, the state in a local buffer, and the step's tensor ops as
// linalg.generic ops on small static local buffers, so the CPU and NVPTX back
// ends take it as they take the chunked kernels.
//
//===----------------------------------------------------------------------===//

#include "passes/LinalgHelpers.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACSEQUENTIALRECURRENCE
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

using utils::IteratorType;

/// A value of the step once lowered: an f32 scalar, or a local buffer read
/// as is or transposed (linac.transpose makes no copy).
struct Lowered {
  Value scalar;
  Value buffer;
  bool transposed = false;
};

/// A rank-reduced view `source[offsets][sizes]` with unit strides keeping
/// the dimensions in `keep`.
Value rankReducedView(OpBuilder &b, Location loc, Value source,
                      ArrayRef<OpFoldResult> offsets,
                      ArrayRef<OpFoldResult> sizes, ArrayRef<unsigned> keep) {
  auto sourceType = cast<MemRefType>(source.getType());
  SmallVector<OpFoldResult> strides(sourceType.getRank(), b.getIndexAttr(1));
  SmallVector<int64_t> shape;
  for (unsigned d : keep)
    shape.push_back(*getConstantIntValue(sizes[d]));
  auto type = memref::SubViewOp::inferRankReducedResultType(
      shape, sourceType, offsets, sizes, strides);
  return memref::SubViewOp::create(b, loc, type, source, offsets, sizes,
                                   strides);
}

/// Lowers the ops of one step, in order, into linalg ops on local buffers.
/// Buffers are allocated before the token loop and reused once the values
/// they hold are dead; elementwise ops write in place into an operand that
/// dies with them, so the state is usually updated in its own buffer.
class StepLowering {
public:
  StepLowering(OpBuilder &b, Operation *tokenLoop, Value state)
      : b(b), tokenLoop(tokenLoop), state(state) {}

  /// Lowers `block` (the step) for the token whose inputs are `args`; the
  /// yielded state ends in the state buffer, the output in the view that
  /// `outputView` builds.
  LogicalResult lower(Block &block, ArrayRef<Lowered> args,
                      function_ref<Value()> outputView) {
    for (auto [arg, lowered] : llvm::zip(block.getArguments(), args)) {
      values[arg] = lowered;
      if (lowered.buffer)
        ++refs[lowered.buffer];
    }
    unsigned index = 0;
    for (Operation &op : block) {
      for (Value operand : op.getOperands())
        lastUse[operand] = index;
      ++index;
    }
    index = 0;
    for (Operation &op : block.without_terminator()) {
      current = index;
      if (failed(lowerOp(op)))
        return failure();
      for (Value result : op.getResults())
        if (!lastUse.count(result))
          release(result);
      SmallPtrSet<Value, 4> seen;
      for (Value operand : op.getOperands())
        if (lastUse.lookup(operand) == index && seen.insert(operand).second)
          release(operand);
      ++index;
    }
    auto yield = cast<YieldOp>(block.getTerminator());
    Location loc = yield.getLoc();
    Lowered out = get(yield.getValues()[1]);
    buildConvertingCopy(b, loc, out.buffer, outputView());
    Lowered next = get(yield.getValues()[0]);
    if (next.buffer == state && !next.transposed)
      return success();
    if (next.buffer == state) {
      // A transpose of the state into itself needs a copy in between.
      Value copy = allocate(cast<MemRefType>(state.getType()));
      copyInto(loc, next, copy);
      next = {Value(), copy, false};
    }
    copyInto(loc, next, state);
    return success();
  }

private:
  OpBuilder &b;
  Operation *tokenLoop;
  Value state;
  DenseMap<Value, Lowered> values;
  DenseMap<Value, unsigned> lastUse;
  /// Index of the op being lowered.
  unsigned current = 0;
  /// Live values held by each buffer; free buffers by type.
  DenseMap<Value, unsigned> refs;
  DenseMap<Type, SmallVector<Value>> pool;
  /// Buffers that are never reused (filled once before the token loop).
  DenseSet<Value> constants;

  Type f32() { return b.getF32Type(); }

  /// The lowered form of `value`; values from outside the step (the scale)
  /// are scalars as they are.
  Lowered get(Value value) {
    auto it = values.find(value);
    if (it != values.end())
      return it->second;
    return {value, Value(), false};
  }

  /// A free buffer of `type`, or a new one before the token loop.
  Value allocate(MemRefType type) {
    SmallVector<Value> &free = pool[type];
    if (!free.empty())
      return free.pop_back_val();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(tokenLoop);
    return memref::AllocaOp::create(b, tokenLoop->getLoc(), type);
  }

  void release(Value value) {
    Lowered lowered = get(value);
    if (!lowered.buffer || --refs[lowered.buffer] != 0)
      return;
    if (lowered.buffer != state && !constants.contains(lowered.buffer))
      pool[lowered.buffer.getType()].push_back(lowered.buffer);
  }

  /// The logical shape of a tensor value (static).
  static SmallVector<int64_t> shapeOf(Value value) {
    return SmallVector<int64_t>(
        cast<RankedTensorType>(value.getType()).getShape());
  }

  /// The map reading `lowered` at logical indices `dims` of a loop nest
  /// with `numDims` dimensions.
  AffineMap readMap(const Lowered &lowered, unsigned numDims,
                    ArrayRef<unsigned> dims) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d : dims)
      exprs.push_back(b.getAffineDimExpr(d));
    if (lowered.transposed)
      std::swap(exprs[0], exprs[1]);
    return AffineMap::get(numDims, 0, exprs, b.getContext());
  }

  void copyInto(Location loc, const Lowered &from, Value to) {
    unsigned rank = cast<MemRefType>(to.getType()).getRank();
    SmallVector<unsigned> dims = rank == 1 ? SmallVector<unsigned>{0}
                                           : SmallVector<unsigned>{0, 1};
    SmallVector<AffineMap> maps = {readMap(from, rank, dims),
                                   b.getMultiDimIdentityMap(rank)};
    SmallVector<IteratorType> iterators(rank, IteratorType::parallel);
    linalg::GenericOp::create(
        b, loc, ValueRange{from.buffer}, ValueRange{to}, maps, iterators,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          linalg::YieldOp::create(nb, l, args[0]);
        });
  }

  /// The buffer of an elementwise result: an operand's buffer when that
  /// operand dies here and nothing else reads the buffer, else a free one.
  Value resultBuffer(Operation &op, ArrayRef<Value> elementwiseOperands) {
    for (Value operand : elementwiseOperands) {
      Lowered lowered = get(operand);
      if (lowered.buffer && !lowered.transposed &&
          lastUse.lookup(operand) == current && refs[lowered.buffer] == 1 &&
          !constants.contains(lowered.buffer) &&
          operand.getType() == op.getResult(0).getType())
        return lowered.buffer;
    }
    return allocate(MemRefType::get(shapeOf(op.getResult(0)), f32()));
  }

  /// Records `buffer` as the (untransposed) value of `result`.
  void define(Value result, Value buffer) {
    values[result] = {Value(), buffer, false};
    ++refs[buffer];
  }

  /// out = fn(operands) element by element over the result's shape; scalar
  /// operands are read as they are.
  void buildElementwise(Operation &op, ArrayRef<Value> operands,
                        function_ref<Value(OpBuilder &, Location, ValueRange)>
                            fn) {
    Location loc = op.getLoc();
    Value result = op.getResult(0);
    unsigned rank = shapeOf(result).size();
    SmallVector<unsigned> dims;
    for (unsigned d = 0; d < rank; ++d)
      dims.push_back(d);
    SmallVector<Value> tensorOperands;
    for (Value operand : operands)
      if (isa<RankedTensorType>(operand.getType()))
        tensorOperands.push_back(operand);
    Value out = resultBuffer(op, tensorOperands);
    SmallVector<Value> ins;
    SmallVector<AffineMap> maps;
    for (Value operand : tensorOperands) {
      Lowered lowered = get(operand);
      ins.push_back(lowered.buffer);
      maps.push_back(readMap(lowered, rank, dims));
    }
    maps.push_back(b.getMultiDimIdentityMap(rank));
    SmallVector<IteratorType> iterators(rank, IteratorType::parallel);
    linalg::GenericOp::create(
        b, loc, ins, ValueRange{out}, maps, iterators,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          SmallVector<Value> elements;
          unsigned next = 0;
          for (Value operand : operands)
            elements.push_back(isa<RankedTensorType>(operand.getType())
                                   ? args[next++]
                                   : get(operand).scalar);
          linalg::YieldOp::create(nb, l, fn(nb, l, elements));
        });
    define(result, out);
  }

  LogicalResult lowerOp(Operation &op) {
    Location loc = op.getLoc();
    auto isTensor = [](Value v) { return isa<RankedTensorType>(v.getType()); };
    SmallVector<Value> all(op.getOperands());
    llvm::append_range(all, op.getResults());
    for (Value value : all)
      if (auto tensor = dyn_cast<RankedTensorType>(value.getType()))
        if (!tensor.hasStaticShape() || !tensor.getElementType().isF32())
          return op.emitOpError("a sequential step needs tensors of f32 with "
                                "static shapes (run linac-specialize first), "
                                "got ")
                 << tensor;

    if (auto transpose = dyn_cast<TransposeOp>(op)) {
      Lowered lowered = get(transpose.getMatrix());
      lowered.transposed = !lowered.transposed;
      values[transpose.getResult()] = lowered;
      ++refs[lowered.buffer];
      return success();
    }
    if (auto scale = dyn_cast<ScaleOp>(op)) {
      Value factor = get(scale.getFactor()).scalar;
      buildElementwise(op, {scale.getInput()},
                       [&](OpBuilder &nb, Location l, ValueRange args) {
                         return arith::MulFOp::create(nb, l, args[0], factor);
                       });
      return success();
    }
    if (auto rows = dyn_cast<ScaleRowsOp>(op)) {
      Value matrix = rows.getInput(), factors = rows.getFactors();
      Lowered m = get(matrix), f = get(factors);
      Value out = resultBuffer(op, {matrix});
      SmallVector<AffineMap> maps = {readMap(m, 2, {0, 1}),
                                     readMap(f, 2, {0}),
                                     b.getMultiDimIdentityMap(2)};
      linalg::GenericOp::create(
          b, loc, ValueRange{m.buffer, f.buffer}, ValueRange{out}, maps,
          {IteratorType::parallel, IteratorType::parallel},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value product = arith::MulFOp::create(nb, l, args[0], args[1]);
            linalg::YieldOp::create(nb, l, product);
          });
      define(rows.getResult(), out);
      return success();
    }
    if (auto outer = dyn_cast<OuterOp>(op)) {
      Lowered lhs = get(outer.getLhs());
      Lowered rhs = get(outer.getRhs());
      Value out = allocate(MemRefType::get(shapeOf(outer.getResult()), f32()));
      SmallVector<AffineMap> maps = {readMap(lhs, 2, {0}), readMap(rhs, 2, {1}),
                                     b.getMultiDimIdentityMap(2)};
      linalg::GenericOp::create(
          b, loc, ValueRange{lhs.buffer, rhs.buffer}, ValueRange{out}, maps,
          {IteratorType::parallel, IteratorType::parallel},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value product = arith::MulFOp::create(nb, l, args[0], args[1]);
            linalg::YieldOp::create(nb, l, product);
          });
      define(outer.getResult(), out);
      return success();
    }
    if (auto matvec = dyn_cast<MatVecOp>(op)) {
      Lowered m = get(matvec.getMatrix());
      Lowered x = get(matvec.getVector());
      Value out = allocate(MemRefType::get(shapeOf(matvec.getResult()), f32()));
      buildFill(b, loc, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0)),
                out);
      SmallVector<AffineMap> maps = {readMap(m, 2, {0, 1}), readMap(x, 2, {1}),
                                     readMap({}, 2, {0})};
      linalg::GenericOp::create(
          b, loc, ValueRange{m.buffer, x.buffer}, ValueRange{out}, maps,
          {IteratorType::parallel, IteratorType::reduction},
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value product = arith::MulFOp::create(nb, l, args[0], args[1]);
            Value sum = arith::AddFOp::create(nb, l, args[2], product);
            linalg::YieldOp::create(nb, l, sum);
          });
      define(matvec.getResult(), out);
      return success();
    }
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto tensor = dyn_cast<RankedTensorType>(constant.getType());
      if (!tensor) {
        values[constant.getResult()] = {b.clone(op)->getResult(0), Value(),
                                        false};
        return success();
      }
      auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
      if (!dense || !dense.isSplat())
        return op.emitOpError("a sequential step takes only splat tensor "
                              "constants");
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(tokenLoop);
      auto type = MemRefType::get(tensor.getShape(), f32());
      Value buffer = memref::AllocaOp::create(b, loc, type);
      Value splat = arith::ConstantOp::create(b, loc,
                                              dense.getSplatValue<FloatAttr>());
      buildFill(b, loc, splat, buffer);
      constants.insert(buffer);
      define(constant.getResult(), buffer);
      return success();
    }
    if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
      Lowered tensor = get(extract.getTensor());
      SmallVector<Value> indices;
      for (Value index : extract.getIndices())
        indices.push_back(get(index).scalar);
      if (tensor.transposed)
        std::swap(indices[0], indices[1]);
      values[extract.getResult()] = {
          memref::LoadOp::create(b, loc, tensor.buffer, indices), Value(),
          false};
      return success();
    }
    bool anyTensor = llvm::any_of(op.getOperands(), isTensor) ||
                     llvm::any_of(op.getResults(), isTensor);
    if (op.getNumRegions() != 0 || op.getNumResults() != 1)
      return op.emitOpError("is not supported in a sequential step");
    if (!anyTensor) {
      // Scalar arithmetic (decays, gates): as it is, once per token.
      IRMapping mapping;
      for (Value operand : op.getOperands())
        mapping.map(operand, get(operand).scalar);
      values[op.getResult(0)] = {b.clone(op, mapping)->getResult(0), Value(),
                                 false};
      return success();
    }
    if (!op.hasTrait<OpTrait::Elementwise>() ||
        !isTensor(op.getResult(0)) ||
        !llvm::all_of(op.getOperands(), isTensor))
      return op.emitOpError("is not supported in a sequential step (step "
                            "ops: linac.outer, linac.matvec, linac.transpose, "
                            "linac.scale, linac.scale_rows, elementwise arith "
                            "and math ops, splat constants, tensor.extract)");
    // An elementwise arith/math op on tensors: the same op on each element.
    buildElementwise(op, SmallVector<Value>(op.getOperands()),
                     [&](OpBuilder &nb, Location, ValueRange args) {
                       IRMapping mapping;
                       for (auto [operand, element] :
                            llvm::zip(op.getOperands(), args))
                         mapping.map(operand, element);
                       Operation *scalar = nb.clone(op, mapping);
                       scalar->getResult(0).setType(f32());
                       return scalar->getResult(0);
                     });
    return success();
  }
};

struct SequentialRecurrencePass
    : public linac::impl::LinacSequentialRecurrenceBase<
          SequentialRecurrencePass> {
  void runOnOperation() override {
    SmallVector<RecurrenceOp> ops;
    getOperation().walk([&](RecurrenceOp op) {
      if (!op.getStep().empty())
        ops.push_back(op);
    });
    for (RecurrenceOp op : ops)
      if (failed(lowerRecurrence(op)))
        return signalPassFailure();
  }

  LogicalResult lowerRecurrence(RecurrenceOp op) {
    int64_t K = op.getHeadDimK(), V = op.getHeadDimV();
    if (ShapedType::isDynamic(K) || ShapedType::isDynamic(V))
      return op.emitOpError("head dimensions K and V must be static to run "
                            "a step sequentially (run linac-specialize first)");
    if (op.getHouseholder() > 1 || op.getNormalize() || op.getQkL2norm() ||
        op.getBetaSigmoid())
      return op.emitOpError("a sequential step takes no modifiers "
                            "(householder, normalize, qk_l2norm, "
                            "beta_sigmoid): write them in the step");
    if (op.getMode() == ExecutionMode::noncausal)
      return op.emitOpError("a non-causal recurrence needs every query to "
                            "read the whole sequence's state; a step that is "
                            "not chunkable runs only causally");

    OpBuilder b(op);
    Location loc = op.getLoc();
    auto c = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    auto dim = [&](Value memref, int64_t d) -> Value {
      return memref::DimOp::create(b, loc, memref, d);
    };
    auto nonEmpty = [&](Value memref) -> Value {
      return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                   dim(memref, 0), c(0));
    };
    Value zero = c(0), one = c(1);
    Value batch = dim(op.getQ(), 0), time = dim(op.getQ(), 1),
          heads = dim(op.getV(), 2);
    // Grouped q/k heads: value head h reads q and k at h / (H / H_qk).
    Value groupSize = arith::DivUIOp::create(b, loc, heads, dim(op.getQ(), 2));
    Value cu = op.getCuSeqlens();
    Value varlen = cu ? nonEmpty(cu) : Value();
    Value numSeqs =
        cu ? arith::SelectOp::create(
                 b, loc, varlen,
                 arith::SubIOp::create(b, loc, dim(cu, 0), one), batch)
                 .getResult()
           : batch;
    Value hasInitial =
        op.getInitialState() ? nonEmpty(op.getInitialState()) : Value();
    Value hasFinal = op.getFinalState() ? nonEmpty(op.getFinalState()) : Value();

    // The grid: (head, sequence); the whole state in one block.
    auto grid = scf::ParallelOp::create(b, loc, ValueRange{zero, zero},
                                        ValueRange{heads, numSeqs},
                                        ValueRange{one, one});
    grid->setAttr(kGridAttrName,
                  b.getArrayAttr({b.getStringAttr(kGridHead),
                                  b.getStringAttr(kGridSequence)}));
    b.setInsertionPointToStart(grid.getBody());
    auto scope = memref::AllocaScopeOp::create(b, loc, TypeRange{});
    Block *scopeBody = new Block();
    scope.getBodyRegion().push_back(scopeBody);
    b.setInsertionPointToStart(scopeBody);
    memref::AllocaScopeReturnOp::create(b, loc);
    b.setInsertionPointToStart(scopeBody);
    Value h = grid.getInductionVars()[0], n = grid.getInductionVars()[1];
    Value qkHead = arith::DivUIOp::create(b, loc, h, groupSize);

    // Sequence n: batch row, first token and length.
    Value batchRow = n, start = zero, length = time;
    if (cu) {
      auto bounds = scf::IfOp::create(
          b, loc,
          TypeRange{b.getIndexType(), b.getIndexType(), b.getIndexType()},
          varlen, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(bounds.thenBlock());
      auto load = [&](Value i) -> Value {
        Value v = memref::LoadOp::create(b, loc, cu, i);
        return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
      };
      Value bos = load(n),
            eos = load(arith::AddIOp::create(b, loc, n, one));
      scf::YieldOp::create(
          b, loc,
          ValueRange{zero, bos, arith::SubIOp::create(b, loc, eos, bos)});
      b.setInsertionPointToStart(bounds.elseBlock());
      scf::YieldOp::create(b, loc, ValueRange{n, zero, time});
      batchRow = bounds.getResult(0);
      start = bounds.getResult(1);
      length = bounds.getResult(2);
    }

    // The state: the initial state or zeros.
    Type f32 = b.getF32Type();
    Value state = memref::AllocaOp::create(b, loc, MemRefType::get({K, V}, f32));
    auto stateView = [&](Value states) {
      return rankReducedView(
          b, loc, states, {n, h, b.getIndexAttr(0), b.getIndexAttr(0)},
          {b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(K),
           b.getIndexAttr(V)},
          {2, 3});
    };
    buildInitialState(
        b, loc, hasInitial,
        [&] { return stateView(op.getInitialState()); }, state);

    // Local buffers of the token's vectors.
    auto vectorBuffer = [&](int64_t size) -> Value {
      return memref::AllocaOp::create(b, loc, MemRefType::get({size}, f32));
    };
    Value qt = vectorBuffer(K), kt = vectorBuffer(K), vt = vectorBuffer(V);
    Value g = op.getG();
    bool vectorGate = g && cast<MemRefType>(g.getType()).getRank() == 4;
    Value gt = vectorGate ? vectorBuffer(K) : Value();

    // The loop over the sequence's tokens.
    auto tokenLoop = scf::ForOp::create(b, loc, zero, length, one);
    b.setInsertionPointToStart(tokenLoop.getBody());
    Value token = tokenLoop.getInductionVar();
    if (cu)
      token = arith::AddIOp::create(b, loc, start, token);
    OpFoldResult idx0 = b.getIndexAttr(0), idx1 = b.getIndexAttr(1);
    auto rowViewAt = [&](Value buffer, Value head, int64_t width) {
      return rankReducedView(b, loc, buffer, {batchRow, token, head, idx0},
                             {idx1, idx1, idx1, b.getIndexAttr(width)}, {3});
    };
    auto rowView = [&](Value buffer, int64_t width) {
      return rowViewAt(buffer, h, width);
    };
    auto scalarAt = [&](Value buffer) -> Value {
      return memref::LoadOp::create(b, loc, buffer,
                                    ValueRange{batchRow, token, h});
    };
    buildConvertingCopy(b, loc, rowViewAt(op.getQ(), qkHead, K), qt);
    buildConvertingCopy(b, loc, rowViewAt(op.getK(), qkHead, K), kt);
    buildConvertingCopy(b, loc, rowView(op.getV(), V), vt);
    SmallVector<Lowered> args = {{Value(), qt}, {Value(), kt}, {Value(), vt}};
    if (g) {
      if (vectorGate) {
        buildConvertingCopy(b, loc, rowView(g, K), gt);
        args.push_back({Value(), gt});
      } else {
        args.push_back({scalarAt(g), Value()});
      }
    }
    if (Value beta = op.getBeta())
      args.push_back({scalarAt(beta), Value()});
    args.push_back({Value(), state});

    StepLowering step(b, tokenLoop, state);
    if (failed(step.lower(op.getStep().front(), args,
                          [&] { return rowView(op.getOutput(), V); })))
      return failure();

    // After the last token: the final state.
    b.setInsertionPointAfter(tokenLoop);
    if (hasFinal) {
      auto store = scf::IfOp::create(b, loc, hasFinal, /*withElse=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(store.thenBlock());
      buildConvertingCopy(b, loc, state, stateView(op.getFinalState()));
    }
    op.erase();
    return success();
  }
};

} // namespace
