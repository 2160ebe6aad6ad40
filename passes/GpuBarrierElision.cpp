//===- GpuBarrierElision.cpp - barriers between independent phases -------===//

#include "passes/GpuBarrierElision.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
using namespace mlir::linac;

namespace {

/// Whether the two sets share a buffer.
bool meets(const llvm::SmallDenseSet<Value> &a,
           const llvm::SmallDenseSet<Value> &b) {
  return llvm::any_of(a, [&](Value v) { return b.contains(v); });
}

/// The accesses of a run of ops between barriers.
struct PhaseAccesses {
  llvm::SmallDenseSet<Value> reads, writes;
  bool readsGlobal = false, writesGlobal = false;
  /// The kernel arguments read and written (global memory, by argument).
  llvm::SmallDenseSet<Value> argumentsRead, argumentsWritten;
  /// Accesses that could not be traced: conflicts with any access.
  bool unknown = false;

  void merge(const PhaseAccesses &other) {
    reads.insert(other.reads.begin(), other.reads.end());
    writes.insert(other.writes.begin(), other.writes.end());
    readsGlobal |= other.readsGlobal;
    writesGlobal |= other.writesGlobal;
    unknown |= other.unknown;
  }

  bool empty() const {
    return reads.empty() && writes.empty() && !readsGlobal && !writesGlobal &&
           !unknown;
  }

  bool conflictsWith(const PhaseAccesses &other) const {
    if (unknown || other.unknown)
      return !empty() && !other.empty();
    return meets(writes, other.writes) || meets(writes, other.reads) ||
           meets(reads, other.writes) ||
           (writesGlobal && (other.readsGlobal || other.writesGlobal)) ||
           (readsGlobal && other.writesGlobal);
  }
};

/// The buffer a memref value views: a workgroup attribution or a view of
/// the dynamic shared memory (each its own buffer), a kernel argument
/// (global memory, `isGlobal`), or null where it cannot be traced.
Value bufferOf(Value value, gpu::GPUFuncOp kernel, bool &isGlobal) {
  isGlobal = false;
  while (true) {
    if (auto view = value.getDefiningOp<memref::ViewOp>())
      return view.getSource().getDefiningOp<gpu::DynamicSharedMemoryOp>()
                 ? view.getResult()
                 : Value();
    if (auto viewLike = value.getDefiningOp<ViewLikeOpInterface>()) {
      value = viewLike.getViewSource();
      continue;
    }
    if (auto cast = value.getDefiningOp<memref::CastOp>()) {
      value = cast.getSource();
      continue;
    }
    break;
  }
  auto argument = dyn_cast<BlockArgument>(value);
  if (!argument || argument.getOwner() != &kernel.getBody().front())
    return Value();
  if (llvm::is_contained(kernel.getWorkgroupAttributions(), argument))
    return argument;
  if (llvm::is_contained(kernel.getArguments(), argument)) {
    isGlobal = true;
    return argument;
  }
  return Value();
}

/// Adds the accesses of `op` and of the ops nested in it.
void collectAccesses(Operation *op, gpu::GPUFuncOp kernel,
                     PhaseAccesses &accesses) {
  op->walk([&](Operation *nested) {
    if (isa<gpu::BarrierOp>(nested)) {
      // A barrier inside: the phases around it are not one run.
      accesses.unknown = true;
      return;
    }
    // nvvm.mma.sync computes on registers alone, but declares no memory
    // effects.
    if (isa<NVVM::MmaOp>(nested))
      return;
    auto effecting = dyn_cast<MemoryEffectOpInterface>(nested);
    if (!effecting) {
      // Loops and branches: the walk visits the ops inside.
      if (!nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
        accesses.unknown = true;
      return;
    }
    SmallVector<MemoryEffects::EffectInstance> effects;
    effecting.getEffects(effects);
    // nvgpu.ldmatrix declares a read of its source and, through its op
    // trait, one of no value: the source is all it reads.
    if (isa<nvgpu::LdMatrixOp>(nested))
      llvm::erase_if(effects, [](const MemoryEffects::EffectInstance &effect) {
        return !effect.getValue();
      });
    for (const MemoryEffects::EffectInstance &effect : effects) {
      bool read = isa<MemoryEffects::Read>(effect.getEffect());
      bool write = isa<MemoryEffects::Write>(effect.getEffect());
      if (!read && !write)
        continue;
      Value value = effect.getValue();
      bool isGlobal = false;
      Value buffer = value ? bufferOf(value, kernel, isGlobal) : Value();
      if (!buffer) {
        accesses.unknown = true;
        continue;
      }
      if (isGlobal) {
        accesses.readsGlobal |= read;
        accesses.writesGlobal |= write;
        (read ? accesses.argumentsRead : accesses.argumentsWritten)
            .insert(buffer);
        continue;
      }
      (read ? accesses.reads : accesses.writes).insert(buffer);
    }
  });
}

int64_t eraseInBlock(Block &block, gpu::GPUFuncOp kernel) {
  int64_t erased = 0;
  for (Operation &op : block)
    for (Region &region : op.getRegions())
      for (Block &nested : region)
        erased += eraseInBlock(nested, kernel);

  SmallVector<gpu::BarrierOp> barriers(block.getOps<gpu::BarrierOp>());
  if (barriers.size() < 3)
    return erased;
  // The phase after each barrier, up to the next one.
  auto phaseAfter = [&](gpu::BarrierOp barrier) {
    PhaseAccesses accesses;
    for (Operation *op = barrier->getNextNode(); op && !isa<gpu::BarrierOp>(op);
         op = op->getNextNode())
      collectAccesses(op, kernel, accesses);
    return accesses;
  };
  PhaseAccesses sinceKept = phaseAfter(barriers.front());
  for (gpu::BarrierOp barrier : ArrayRef(barriers).drop_front().drop_back()) {
    PhaseAccesses next = phaseAfter(barrier);
    if (sinceKept.conflictsWith(next)) {
      sinceKept = std::move(next);
      continue;
    }
    sinceKept.merge(next);
    barrier.erase();
    ++erased;
  }
  return erased;
}

} // namespace

bool mlir::linac::mayOverwrite(Operation *writer, ArrayRef<Operation *> loads,
                               gpu::GPUFuncOp kernel) {
  PhaseAccesses loaded, written;
  for (Operation *load : loads)
    collectAccesses(load, kernel, loaded);
  collectAccesses(writer, kernel, written);
  // Kernel arguments by argument: an output never aliases an input.
  bool writes = !written.writes.empty() || !written.argumentsWritten.empty();
  return (written.unknown && !loaded.empty()) ||
         (loaded.unknown && (writes || written.unknown)) ||
         meets(loaded.reads, written.writes) ||
         meets(loaded.argumentsRead, written.argumentsWritten);
}

int64_t
mlir::linac::eraseBarriersBetweenIndependentPhases(gpu::GPUFuncOp kernel) {
  return eraseInBlock(kernel.getBody().front(), kernel);
}
