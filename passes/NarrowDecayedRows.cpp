//===- NarrowDecayedRows.cpp - decayed rows in the inputs' 16-bit type ----===//

#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACNARROWDECAYEDROWS
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

/// Whether `use` is an operand that ODS types AnyFloat, where a 16-bit
/// buffer is as valid as an f32 one: decayed_rows' input and result, the
/// state update's keys and values, the queries and values of the outputs,
/// the operands of chunk_matmul (not the f32 state, scores, decays or
/// accumulators).
bool takesAnyFloat(OpOperand &use) {
  Operation *user = use.getOwner();
  auto isOperand = [&](OpOperand &operand) { return &use == &operand; };
  if (auto rows = dyn_cast<DecayedRowsOp>(user))
    return isOperand(rows.getInputMutable()) ||
           isOperand(rows.getResultMutable());
  if (auto update = dyn_cast<ChunkStateUpdateOp>(user))
    return isOperand(update.getKeysMutable()) ||
           isOperand(update.getValuesMutable());
  if (auto output = dyn_cast<ChunkOutputOp>(user))
    return isOperand(output.getQueriesMutable()) ||
           isOperand(output.getValuesMutable());
  if (auto readout = dyn_cast<ChunkReadoutOp>(user))
    return isOperand(readout.getQueriesMutable());
  if (auto matmul = dyn_cast<ChunkMatmulOp>(user))
    return isOperand(matmul.getLhsMutable()) ||
           isOperand(matmul.getRhsMutable());
  return false;
}

/// Collects the subviews of `buffer` (transitively) and the ops that use
/// them; false when a use is neither a subview nor an operand that takes
/// rows of any float type.
bool collectUses(Value buffer, SmallVectorImpl<memref::SubViewOp> &views,
                 SmallVectorImpl<Operation *> &users) {
  for (OpOperand &use : buffer.getUses()) {
    if (auto view = dyn_cast<memref::SubViewOp>(use.getOwner())) {
      views.push_back(view);
      if (!collectUses(view.getResult(), views, users))
        return false;
      continue;
    }
    if (!takesAnyFloat(use))
      return false;
    users.push_back(use.getOwner());
  }
  return true;
}

/// The 16-bit type every decayed_rows that uses the buffer reads, or null
/// (also where one reads the buffer itself: rows of f32 rows).
Type narrowType(ArrayRef<Operation *> users) {
  Type narrow;
  for (Operation *user : users) {
    auto rows = dyn_cast<DecayedRowsOp>(user);
    if (!rows)
      continue;
    Type input = cast<MemRefType>(rows.getInput().getType()).getElementType();
    if (input.getIntOrFloatBitWidth() != 16 || (narrow && narrow != input))
      return Type();
    narrow = input;
  }
  return narrow;
}

/// `type` with element type `element`.
MemRefType withElement(MemRefType type, Type element) {
  return MemRefType::get(type.getShape(), element, type.getLayout(),
                         type.getMemorySpace());
}

struct NarrowDecayedRowsPass
    : public linac::impl::LinacNarrowDecayedRowsBase<NarrowDecayedRowsPass> {
  void runOnOperation() override {
    SmallVector<memref::AllocaOp> scratch;
    getOperation().walk([&](DecayedRowsOp rows) {
      Value root = rows.getResult();
      while (auto view = root.getDefiningOp<memref::SubViewOp>())
        root = view.getSource();
      auto alloca = root.getDefiningOp<memref::AllocaOp>();
      if (alloca && alloca.getType().getElementType().isF32() &&
          !llvm::is_contained(scratch, alloca))
        scratch.push_back(alloca);
    });
    for (memref::AllocaOp alloca : scratch)
      narrow(alloca);
  }

  void narrow(memref::AllocaOp alloca) {
    SmallVector<memref::SubViewOp> views;
    SmallVector<Operation *> users;
    if (!collectUses(alloca.getResult(), views, users))
      return;
    Type element = narrowType(users);
    if (!element)
      return;
    OpBuilder b(alloca);
    MemRefType type = alloca.getType();
    auto narrowed = memref::AllocaOp::create(
        b, alloca.getLoc(), withElement(type, element),
        alloca.getDynamicSizes(), alloca.getSymbolOperands(),
        alloca.getAlignmentAttr());
    narrowed->setDiscardableAttrs(alloca->getDiscardableAttrDictionary());
    IRMapping mapping;
    mapping.map(alloca.getResult(), narrowed.getResult());
    // Views in order of definition: each one's source is mapped first.
    for (memref::SubViewOp view : views) {
      b.setInsertionPoint(view);
      auto rebuilt = memref::SubViewOp::create(
          b, view.getLoc(), withElement(view.getType(), element),
          mapping.lookup(view.getSource()), view.getMixedOffsets(),
          view.getMixedSizes(), view.getMixedStrides());
      mapping.map(view.getResult(), rebuilt.getResult());
    }
    for (Operation *user : users)
      for (OpOperand &operand : user->getOpOperands())
        if (Value mapped = mapping.lookupOrNull(operand.get()))
          operand.set(mapped);
    for (memref::SubViewOp view : llvm::reverse(views))
      view.erase();
    alloca.erase();
  }
};

} // namespace
