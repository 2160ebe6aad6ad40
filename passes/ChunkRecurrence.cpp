//===- ChunkRecurrence.cpp - a canonical recurrence as chunked ops -------===//

#include "passes/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACCHUNKRECURRENCE
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

/// A fully dynamic strided layout of the given rank: the body is written for
/// any view the tiling pass hands it.
MemRefType viewType(ArrayRef<int64_t> shape, Type elementType) {
  SmallVector<int64_t> strides(shape.size(), ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(elementType.getContext(),
                                       ShapedType::kDynamic, strides);
  return MemRefType::get(shape, elementType, layout);
}

/// A chunk-local scratch buffer of static size `shape` viewed at the
/// chunk's (dynamic) length in every dimension marked in `dynamicDims`.
Value chunkScratch(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   Value chunkLength) {
  auto f32 = b.getF32Type();
  Value buffer = memref::AllocaOp::create(b, loc, MemRefType::get(shape, f32));
  SmallVector<OpFoldResult> offsets(shape.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes(shape.size(), chunkLength);
  SmallVector<OpFoldResult> strides(shape.size(), b.getIndexAttr(1));
  return memref::SubViewOp::create(b, loc, buffer, offsets, sizes, strides);
}

struct ChunkRecurrencePass
    : public linac::impl::LinacChunkRecurrenceBase<ChunkRecurrencePass> {
  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](RecurrenceOp op) {
      if (failed(chunk(op)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult chunk(RecurrenceOp op) {
    RecurrenceFormAttr form = op.getFormAttr();
    if (!form)
      return op.emitOpError("must be recognized (linac-recognize-recurrence) "
                            "before it is chunked");
    if (form.getUpdate() != UpdateKind::plain ||
        form.getDecay() == DecayKind::vector)
      return op.emitOpError() << "no chunked algorithm for " << form
                              << " yet";

    OpBuilder b(op);
    Location loc = op.getLoc();
    int64_t chunkSize =
        op.getMode() == ExecutionMode::recurrent ? 1 : op.getChunkSize();
    auto loop = ChunkLoopOp::create(
        b, loc, op.getQ(), op.getK(), op.getV(), op.getG(), op.getBeta(),
        op.getInitialState(), op.getOutput(), op.getFinalState(),
        op.getCuSeqlens(), op.getScale(), b.getI64IntegerAttr(chunkSize),
        form, op.getNormalizeAttr());

    // Body arguments: views of one chunk of one (sequence, head, value tile).
    Type inputType = cast<MemRefType>(op.getQ().getType()).getElementType();
    Type f32 = b.getF32Type();
    int64_t K = op.getHeadDimK(), V = op.getHeadDimV();
    int64_t dyn = ShapedType::kDynamic;
    Block *body = new Block();
    loop.getBody().push_back(body);
    Value q = body->addArgument(viewType({dyn, K}, inputType), loc);
    Value k = body->addArgument(viewType({dyn, K}, inputType), loc);
    Value v = body->addArgument(viewType({dyn, V}, inputType), loc);
    Value g = op.getG() ? body->addArgument(viewType({dyn}, f32), loc) : Value();
    Value state = body->addArgument(viewType({K, V}, f32), loc);
    Value out = body->addArgument(viewType({dyn, V}, f32), loc);
    Value keySum =
        op.getNormalize() ? body->addArgument(viewType({K}, f32), loc) : Value();

    b.setInsertionPointToStart(body);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value length = memref::DimOp::create(b, loc, q, zero);
    Value decay;
    if (g) {
      decay = chunkScratch(b, loc, {chunkSize}, length);
      ChunkCumsumOp::create(b, loc, g, decay);
    }
    Value scores = chunkScratch(b, loc, {chunkSize, chunkSize}, length);
    Value scale = op.getScale();
    DecayedScoresOp::create(b, loc, q, k, decay, scores);
    ChunkOutputOp::create(b, loc, q, state, scores, v, decay, scale, out);
    ChunkStateUpdateOp::create(b, loc, k, v, decay, state);
    if (keySum)
      ChunkNormalizeOp::create(b, loc, q, k, scale, keySum, out);
    YieldOp::create(b, loc);

    op.erase();
    return success();
  }
};

} // namespace
