//===- ProfilePhases.cpp - cycle counters per phase of a GPU kernel -------===//
//
// A GPU chunk step is a sequence of phases separated by block barriers; the
// timings of whole kernels cannot say which phase the time goes to. Thread 0
// of each block reads the SM's cycle counter after every barrier and adds the
// cycles since its previous reading to the phase that barrier ends, in a
// global array the runtime reads back after a launch.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACPROFILEPHASES
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

/// Whether `op` is a barrier or has one nested in it (the walk visits `op`).
bool holdsBarrier(Operation *op) {
  return op->walk([](gpu::BarrierOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

/// What the phase that `end` (a barrier or the return) closes runs: the chunk
/// ops its code came from (the names linac-lower-chunk-ops puts in the
/// locations) or, without any, the names of its top-level operations. The
/// phase starts after the last barrier before `end` in its block, or after
/// the last operation there that holds one.
std::string phaseLabel(Operation *end) {
  Block *block = end->getBlock();
  Block::iterator begin = block->begin();
  for (Block::iterator it(end); it != block->begin();) {
    --it;
    if (holdsBarrier(&*it)) {
      begin = std::next(it);
      break;
    }
  }
  llvm::SetVector<StringRef> chunkOps, topLevelOps;
  bool mma = false;
  for (Operation &op : llvm::make_range(begin, Block::iterator(end))) {
    topLevelOps.insert(op.getName().getStringRef());
    op.walk([&](Operation *nested) {
      mma |= isa<NVVM::MmaOp>(nested);
      nested->getLoc()->walk([&](Location loc) {
        if (auto name = dyn_cast<NameLoc>(loc))
          chunkOps.insert(name.getName().getValue());
        return WalkResult::advance();
      });
    });
  }
  std::string label = llvm::join(chunkOps.empty() ? topLevelOps.getArrayRef()
                                                  : chunkOps.getArrayRef(),
                                 ", ");
  if (label.empty())
    label = "(nothing)";
  if (mma)
    label += " [mma.sync]";
  // The chunk loop is the outermost loop with barriers; a loop inside it (the
  // UT transform's rows) visits its phases several times a chunk. A barrier
  // under a condition (the initial state's load) may not be visited at all.
  int64_t loops = 0;
  bool conditional = false;
  for (Operation *parent = end->getParentOp(); parent;
       parent = parent->getParentOp()) {
    loops += isa<scf::ForOp>(parent);
    conditional |= isa<scf::IfOp>(parent);
  }
  if (conditional)
    label += " [conditional]";
  if (loops > 1)
    label = "chunk loop, inner loop: " + label;
  else if (loops == 1)
    label = "chunk loop: " + label;
  else if (isa<gpu::ReturnOp>(end))
    label = "end: " + label;
  return label;
}

struct ProfilePhasesPass
    : public linac::impl::LinacProfilePhasesBase<ProfilePhasesPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<gpu::GPUFuncOp> kernels;
    getOperation().walk([&](gpu::GPUFuncOp func) {
      if (func.isKernel())
        kernels.push_back(func);
    });
    for (gpu::GPUFuncOp kernel : kernels)
      instrument(kernel);
  }

  void instrument(gpu::GPUFuncOp kernel) {
    MLIRContext *ctx = kernel.getContext();
    Location loc = kernel.getLoc();
    // Barriers and returns have no regions: the walk meets them in program
    // order.
    SmallVector<Operation *> ends;
    kernel.walk([&](Operation *op) {
      if (isa<gpu::BarrierOp, gpu::ReturnOp>(op))
        ends.push_back(op);
    });
    SmallVector<Attribute> labels;
    for (Operation *end : ends)
      labels.push_back(StringAttr::get(ctx, phaseLabel(end)));

    OpBuilder b(ctx);
    auto i64 = b.getI64Type();
    auto counterType = MemRefType::get(
        {int64_t(ends.size()), 2}, i64, MemRefLayoutAttrInterface{},
        gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Global));
    std::string symbol = (kProfileGlobalPrefix + kernel.getName()).str();
    b.setInsertionPointToStart(
        kernel->getParentOfType<gpu::GPUModuleOp>().getBody());
    memref::GlobalOp::create(
        b, loc, symbol, /*sym_visibility=*/nullptr, counterType,
        DenseElementsAttr::get(
            RankedTensorType::get(counterType.getShape(), i64),
            b.getI64IntegerAttr(0)),
        /*constant=*/false, b.getI64IntegerAttr(8));

    // Entry: thread 0 notes the time the first phase starts.
    b.setInsertionPointToStart(&kernel.front());
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value oneCount = arith::ConstantIntOp::create(b, loc, i64, 1);
    Value thread = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
    Value leader =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, thread, zero);
    Value counters = memref::GetGlobalOp::create(b, loc, counterType, symbol);
    Value previous = memref::AllocaOp::create(b, loc, MemRefType::get({}, i64));
    auto onLeader = [&](function_ref<void(OpBuilder &, Value)> body) {
      scf::IfOp::create(b, loc, leader, [&](OpBuilder &tb, Location l) {
        Value now = NVVM::Clock64Op::create(tb, l, i64);
        body(tb, now);
        memref::StoreOp::create(tb, l, now, previous);
        scf::YieldOp::create(tb, l);
      });
    };
    onLeader([](OpBuilder &, Value) {});

    for (auto [index, end] : llvm::enumerate(ends)) {
      if (isa<gpu::BarrierOp>(end)) {
        b.setInsertionPointAfter(end);
        end->setAttr("linac.profile_phase", b.getI64IntegerAttr(index));
      } else {
        b.setInsertionPoint(end);
      }
      Value row = arith::ConstantIndexOp::create(b, loc, index);
      onLeader([&](OpBuilder &tb, Value now) {
        Value start = memref::LoadOp::create(tb, loc, previous);
        Value cycles = arith::SubIOp::create(tb, loc, now, start);
        memref::AtomicRMWOp::create(tb, loc, arith::AtomicRMWKind::addi, cycles,
                                    counters, ValueRange{row, zero});
        memref::AtomicRMWOp::create(tb, loc, arith::AtomicRMWKind::addi,
                                    oneCount, counters, ValueRange{row, one});
      });
    }
    kernel->setAttr(kProfilePhasesAttrName, ArrayAttr::get(ctx, labels));
  }
};

} // namespace
