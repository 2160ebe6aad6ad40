//===- EraseUnobservedWrites.cpp - erase writes nobody reads --------------===//

#include "passes/LinalgHelpers.h"
#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Iterators.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACERASEUNOBSERVEDWRITES
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

/// Appends the ops other than `writer` that may read `buffer` or a view of
/// it.
void collectReaders(Value buffer, Operation *writer,
                    SmallVectorImpl<Operation *> &readers) {
  for (OpOperand &use : buffer.getUses()) {
    Operation *user = use.getOwner();
    if (user == writer)
      continue;
    if (auto viewLike = dyn_cast<ViewLikeOpInterface>(user)) {
      if (viewLike.getViewSource() == buffer)
        collectReaders(viewLike->getResult(0), writer, readers);
      continue;
    }
    auto effects = dyn_cast<MemoryEffectOpInterface>(user);
    // Without the interface (a call, a region op taking it as an operand)
    // the use may read.
    if (!effects || effects.getEffectOnValue<MemoryEffects::Read>(buffer))
      readers.push_back(user);
  }
}

/// Whether `op` writes `view` without reading it.
bool overwrites(Operation *op, Value view) {
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  return effects && effects.getEffectOnValue<MemoryEffects::Write>(view) &&
         !effects.getEffectOnValue<MemoryEffects::Read>(view);
}

/// Whether a later op of `writer`'s block overwrites `view` before any of
/// `readers` (or an op holding one) runs.
bool overwrittenBeforeRead(Operation *writer, Value view,
                           ArrayRef<Operation *> readers) {
  for (Operation *next = writer->getNextNode(); next;
       next = next->getNextNode()) {
    for (Operation *reader : readers)
      if (next->isAncestor(reader))
        return false;
    if (overwrites(next, view))
      return true;
  }
  return false;
}

/// Whether erasing `op` changes nothing another op or the kernel's caller
/// can see.
bool onlyUnobservedWrites(Operation *op) {
  if (op->hasTrait<OpTrait::IsTerminator>() || !op->use_empty())
    return false;
  auto interface = dyn_cast<MemoryEffectOpInterface>(op);
  if (!interface)
    return false;
  SmallVector<MemoryEffects::EffectInstance> effects;
  interface.getEffects(effects);
  bool writes = false;
  for (const MemoryEffects::EffectInstance &effect : effects) {
    if (isa<MemoryEffects::Read>(effect.getEffect()))
      continue;
    Value view = effect.getValue();
    if (!isa<MemoryEffects::Write>(effect.getEffect()) || !view)
      return false;
    memref::AllocaOp root = localRoot(view);
    if (!root)
      return false;
    SmallVector<Operation *> readers;
    collectReaders(root.getResult(), op, readers);
    if (!readers.empty() && !overwrittenBeforeRead(op, view, readers))
      return false;
    writes = true;
  }
  // Ops without writes are canonicalize's business.
  return writes;
}

struct EraseUnobservedWritesPass
    : public linac::impl::LinacEraseUnobservedWritesBase<
          EraseUnobservedWritesPass> {
  void runOnOperation() override {
    bool changed = true;
    while (changed) {
      changed = false;
      getOperation().walk<WalkOrder::PostOrder, ReverseIterator>(
          [&](Operation *op) {
            if (!onlyUnobservedWrites(op))
              return WalkResult::advance();
            op->erase();
            changed = true;
            return WalkResult::advance();
          });
    }
  }
};

} // namespace
