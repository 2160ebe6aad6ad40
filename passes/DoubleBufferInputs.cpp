//===- DoubleBufferInputs.cpp - stage the next chunk during this one -----===//
//
// With staged inputs (linac-tile-chunk-loop{stage-inputs}), a chunk loop
// copies its chunk's q, k, v, g and beta into local buffers at the top of
// each chunk, and its first product waits for them. With two buffers per
// input, chunk c + 1's copies go out at the top of chunk c, into the buffer
// chunk c does not read, and land while chunk c computes; on GPUs they are
// cp.async, which linac-map-to-gpu waits for one chunk later.
//
//===----------------------------------------------------------------------===//

#include "passes/GpuSharedPadding.h"
#include "passes/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACDOUBLEBUFFERINPUTS
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

bool usedOnlyInside(Value buffer, Operation *region) {
  SmallVector<Value> views = {buffer};
  while (!views.empty()) {
    Value view = views.pop_back_val();
    for (Operation *user : view.getUsers()) {
      if (!region->isProperAncestor(user))
        return false;
      if (auto subview = dyn_cast<memref::SubViewOp>(user))
        views.push_back(subview.getResult());
    }
  }
  return true;
}

/// A chunk loop's staging copies (kStagedInputAttrName) and the buffers
/// they fill, each allocated before the loop and used only inside it.
struct StagedLoop {
  scf::ForOp loop;
  SmallVector<linalg::GenericOp> copies;
  SmallVector<memref::AllocaOp> buffers;
};

std::optional<StagedLoop> findStagedLoop(scf::ForOp loop) {
  StagedLoop staged{loop, {}, {}};
  for (auto copy : loop.getBody()->getOps<linalg::GenericOp>()) {
    if (!copy->hasAttr(kStagedInputAttrName))
      continue;
    auto alloca = viewedBuffer(copy.getDpsInitOperand(0)->get())
                      .getDefiningOp<memref::AllocaOp>();
    if (!alloca || !alloca.getType().hasStaticShape() ||
        !alloca.getType().getLayout().isIdentity() ||
        loop->isAncestor(alloca) || !usedOnlyInside(alloca, loop) ||
        !accessedThroughStrides(alloca))
      return std::nullopt;
    staged.copies.push_back(copy);
    if (!llvm::is_contained(staged.buffers, alloca))
      staged.buffers.push_back(alloca);
  }
  if (staged.copies.empty())
    return std::nullopt;
  return staged;
}

/// Whether the block, its staged buffers doubled and its rows padded (as
/// linac-map-to-gpu pads them), stays within what a block of `chip` may
/// grow to (maxGrownSharedBytes).
bool fitsSharedMemory(func::FuncOp func, const StagedLoop &staged,
                      StringRef chip) {
  if (chip.empty())
    return true;
  int64_t padded = 0;
  func.walk([&](memref::AllocaOp alloca) {
    if (!alloca.getType().hasStaticShape())
      return;
    int64_t bytes = sharedBufferBytes(paddedAllocaType(alloca));
    padded += llvm::is_contained(staged.buffers, alloca) ? 2 * bytes : bytes;
  });
  return padded <= maxGrownSharedBytes(chip);
}

/// Replaces `alloca` (used only inside `loop`) by the half of a buffer of
/// twice its size that the loop's iteration uses: ((iv - lb) / step) mod 2.
void doubleBuffer(memref::AllocaOp alloca, scf::ForOp loop) {
  MemRefType type = alloca.getType();
  OpBuilder b(alloca);
  Location loc = alloca.getLoc();
  SmallVector<int64_t> shape = {2};
  llvm::append_range(shape, type.getShape());
  auto doubled = memref::AllocaOp::create(
      b, loc, MemRefType::get(shape, type.getElementType()));
  b.setInsertionPointToStart(loop.getBody());
  Value iteration = arith::DivUIOp::create(
      b, loc,
      arith::SubIOp::create(b, loc, loop.getInductionVar(),
                            loop.getLowerBound()),
      loop.getStep());
  Value slot = arith::RemUIOp::create(
      b, loc, iteration, arith::ConstantIndexOp::create(b, loc, 2));
  SmallVector<OpFoldResult> offsets(shape.size(), b.getIndexAttr(0));
  offsets[0] = slot;
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
  for (int64_t size : type.getShape())
    sizes.push_back(b.getIndexAttr(size));
  SmallVector<OpFoldResult> strides(shape.size(), b.getIndexAttr(1));
  auto viewType = memref::SubViewOp::inferRankReducedResultType(
      type.getShape(), doubled.getType(), offsets, sizes, strides);
  Value half = memref::SubViewOp::create(b, loc, viewType, doubled, offsets,
                                         sizes, strides);
  alloca.getResult().replaceAllUsesWith(half);
  alloca.erase();
  retypeSubviews(half);
}

/// The ops of the loop's body that the staging copies depend on, in body
/// order; empty when one of them touches memory (it could not move).
std::optional<SetVector<Operation *>> copySlice(const StagedLoop &staged) {
  scf::ForOp loop = staged.loop;
  Block *body = loop.getBody();
  BackwardSliceOptions options;
  options.omitBlockArguments = true;
  options.filter = [&](Operation *op) { return op->getBlock() == body; };
  SetVector<Operation *> slice;
  for (linalg::GenericOp copy : staged.copies)
    if (failed(getBackwardSlice(copy.getOperation(), &slice, options)))
      return std::nullopt;
  for (Operation *op : slice)
    if (!isMemoryEffectFree(op))
      return std::nullopt;
  SetVector<Operation *> ordered;
  for (Operation &op : *body)
    if (slice.contains(&op) ||
        llvm::is_contained(staged.copies, cast<Operation *>(&op)))
      ordered.insert(&op);
  return ordered;
}

/// The staging copies of the iteration at `iv`, under `scf.if condition`
/// marked as a prefetch (`kind`: kPrefetchFirst, kPrefetchNext).
void emitCopies(OpBuilder &b, Location loc, const StagedLoop &staged,
                const SetVector<Operation *> &slice, Value iv, Value condition,
                StringRef kind) {
  auto branch = scf::IfOp::create(b, loc, condition, /*withElseRegion=*/false);
  branch->setAttr(kPrefetchAttrName, b.getStringAttr(kind));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(branch.thenBlock());
  IRMapping mapping;
  scf::ForOp loop = staged.loop;
  mapping.map(loop.getInductionVar(), iv);
  for (Operation *op : slice)
    b.clone(*op, mapping);
}

struct DoubleBufferInputsPass
    : public linac::impl::LinacDoubleBufferInputsBase<DoubleBufferInputsPass> {
  using LinacDoubleBufferInputsBase::LinacDoubleBufferInputsBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<StagedLoop> loops;
    func.walk([&](scf::ForOp loop) {
      if (std::optional<StagedLoop> staged = findStagedLoop(loop))
        loops.push_back(*staged);
    });
    for (StagedLoop &staged : loops) {
      // Copies that depend on reads of memory cannot move a chunk ahead.
      if (!copySlice(staged) || !fitsSharedMemory(func, staged, chip))
        continue;
      for (memref::AllocaOp alloca : staged.buffers)
        doubleBuffer(alloca, staged.loop);
      // Now with the buffer halves the copies write.
      SetVector<Operation *> slice = *copySlice(staged);
      scf::ForOp loop = staged.loop;
      Location loc = loop.getLoc();
      // The first chunk's copies before the loop...
      OpBuilder b(loop);
      Value any =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                loop.getLowerBound(), loop.getUpperBound());
      emitCopies(b, loc, staged, slice, loop.getLowerBound(), any,
                 kPrefetchFirst);
      // ... and each chunk's successor's at its top.
      b.setInsertionPointToStart(loop.getBody());
      Value next =
          arith::AddIOp::create(b, loc, loop.getInductionVar(), loop.getStep());
      Value more = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                         next, loop.getUpperBound());
      emitCopies(b, loc, staged, slice, next, more, kPrefetchNext);
      for (linalg::GenericOp copy : staged.copies)
        copy.erase();
    }
  }
};

} // namespace
