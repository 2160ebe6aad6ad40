//===- MapToGPU.cpp - a tiled linac kernel as a gpu.func -----------------===//

#include "passes/Passes.h"

#include "passes/GpuAsyncCopy.h"
#include "passes/GpuBarrierElision.h"
#include "passes/GpuSharedPadding.h"
#include "passes/GpuTensorCores.h"
#include "passes/GpuWarpgroupMma.h"
#include "passes/LinalgHelpers.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACMAPTOGPU
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

int64_t mlir::linac::sharedBufferBytes(MemRefType type) {
  return llvm::alignTo(type.getNumElements() *
                           (type.getElementTypeBitWidth() / 8),
                       kSharedBufferAlignment);
}

int64_t mlir::linac::maxSharedBytes(llvm::StringRef chip) {
  // The opt-in limits per block of the CUDA programming guide's table of
  // compute capabilities: 227 KiB on 9.0, 163 KiB on 8.0 and 8.7, 99 KiB on
  // 8.6 and 8.9.
  if (chip.starts_with("sm_90"))
    return 227 * 1024;
  if (chip == "sm_80" || chip == "sm_87")
    return 163 * 1024;
  if (chip == "sm_86" || chip == "sm_89")
    return 99 * 1024;
  return kMaxStaticSharedBytes;
}

int64_t mlir::linac::maxGrownSharedBytes(llvm::StringRef chip) {
  constexpr int64_t kBlocksPerMultiprocessor = 4;
  return std::max(kMaxStaticSharedBytes,
                  maxSharedBytes(chip) / kBlocksPerMultiprocessor);
}

int64_t mlir::linac::localBufferBytes(Operation *root) {
  int64_t bytes = 0;
  root->walk([&](memref::AllocaOp alloca) {
    MemRefType type = alloca.getType();
    if (type.hasStaticShape())
      bytes += sharedBufferBytes(type);
  });
  return bytes;
}

namespace {

/// Elements each thread loads ahead in an evenly split elementwise loop.
constexpr int64_t kElementwiseUnroll = 4;

bool containsLinalg(Operation *op) {
  WalkResult result = op->walk([](linalg::LinalgOp) {
    return WalkResult::interrupt();
  });
  return result.wasInterrupted();
}

bool writesMemory(Operation *op) {
  WalkResult result = op->walk([](Operation *nested) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(nested);
    if (effects && effects.hasEffect<MemoryEffects::Write>())
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Sets the memory space of every view derived from `root` to `space`.
void propagateMemorySpace(Value root, Attribute space) {
  SmallVector<Value> worklist = {root};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (!isa<memref::SubViewOp, memref::CastOp, memref::ReinterpretCastOp,
               memref::ExtractStridedMetadataOp>(user))
        continue;
      // Views (and the base buffer of extract_strided_metadata) are result 0.
      Value result = user->getResult(0);
      auto type = cast<MemRefType>(result.getType());
      if (type.getMemorySpace() == space)
        continue;
      result.setType(MemRefType::get(type.getShape(), type.getElementType(),
                                     type.getLayout(), space));
      worklist.push_back(result);
    }
  }
}

/// Lowers the kernel body of one block: linalg ops become loops strided over
/// the block's threads, other writes run on thread 0, barriers separate them.
struct BlockDistributor {
  Value threadId;
  Value isThreadZero;
  int64_t blockSize;
  TensorCoreInputs tensorCores;
  bool ldmatrix;
  /// Each warp runs a group of output tiles together (chooseWarpTiling).
  bool groupTiles;
  /// The shared scratch of the wgmma path (null without it).
  Value warpgroupScratch;
  gpu::GPUFuncOp kernel;

  /// A copy from global into shared memory in one element type, with
  /// identity maps: the initial state's (static rows) and a chunk's staged
  /// inputs (linac-tile-chunk-loop{stage-inputs stage-in-input-type}; rows [0,
  /// count), count dynamic but bounded). `columns` is 0 for vectors.
  std::optional<GpuRowCopy> matchRowCopy(linalg::LinalgOp op) const {
    auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!generic || generic.getNumDpsInputs() != 1 ||
        generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 0 ||
        !llvm::all_of(generic.getIndexingMapsArray(),
                      [](AffineMap map) { return map.isIdentity(); }))
      return std::nullopt;
    Block &payload = generic.getRegion().front();
    if (payload.getOperations().size() != 1 ||
        payload.getTerminator()->getOperand(0) != payload.getArgument(0))
      return std::nullopt;
    Value source = generic.getDpsInputOperand(0)->get();
    Value target = generic.getDpsInitOperand(0)->get();
    auto sourceType = dyn_cast<MemRefType>(source.getType());
    auto targetType = dyn_cast<MemRefType>(target.getType());
    if (!sourceType || !targetType || sourceType.getRank() > 2 ||
        gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(sourceType) ||
        !gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(targetType) ||
        sourceType.getElementType() != targetType.getElementType())
      return std::nullopt;
    std::optional<int64_t> rows = staticUpperBound(source, 0);
    int64_t columns = sourceType.getRank() == 2 ? sourceType.getDimSize(1) : 0;
    if (!rows || *rows <= 0 || ShapedType::isDynamic(columns) ||
        (!sourceType.isDynamicDim(0) && targetType.isDynamicDim(0)))
      return std::nullopt;
    return GpuRowCopy{source, target, *rows, columns,
                      sourceType.isDynamicDim(0)};
  }

  /// Element by element, a chunk's rows are copied fully unrolled (below)
  /// up to this many elements per thread; static copies, whose even split
  /// needs no guard, and longer ones take the generic loop.
  static constexpr int64_t kMaxStagingTrips = 16;
  bool isUnrolledStagingCopy(const GpuRowCopy &copy) const {
    return copy.dynamicRows &&
           llvm::divideCeil(copy.rowBound * std::max<int64_t>(copy.columns, 1),
                            blockSize) <= kMaxStagingTrips;
  }

  /// Whether asynchronous copies (buildAsyncCopy) may be in flight: the
  /// next barrier after them must wait for them first.
  bool asyncCopiesInFlight = false;

  /// Inside a prefetch (kPrefetchAttrName): copies of a chunk that no thread
  /// reads before the barrier after it (distributePrefetch), so they need no
  /// barrier of their own, and their cp.async are neither committed nor
  /// waited for one by one.
  bool inPrefetch = false;

  /// A barrier, after which every thread may read what any wrote before it,
  /// asynchronous copies included (none inside a prefetch).
  void barrier(OpBuilder &b, Location loc) {
    if (inPrefetch)
      return;
    if (asyncCopiesInFlight)
      waitForAsyncCopies(b, loc);
    asyncCopiesInFlight = false;
    gpu::BarrierOp::create(b, loc);
  }

  /// Whether a barrier must follow `copy` (of `op`): not when the next op
  /// that touches memory copies into another buffer; such copies only read
  /// global memory, and the last of them is followed by one.
  bool needsBarrierAfter(Operation *op, const GpuRowCopy &copy) const {
    for (Operation *next = op->getNextNode(); next;
         next = next->getNextNode()) {
      if (isMemoryEffectFree(next))
        continue;
      auto linalgOp = dyn_cast<linalg::LinalgOp>(next);
      std::optional<GpuRowCopy> nextCopy =
          linalgOp ? matchRowCopy(linalgOp) : std::nullopt;
      return !nextCopy ||
             viewedBuffer(nextCopy->target) == viewedBuffer(copy.target);
    }
    return true;
  }

  /// A copy in asynchronous copies of `bytes` where the global side allows
  /// it at run time (a uniform branch), element by element elsewhere.
  LogicalResult distributeAsyncCopy(linalg::LinalgOp op, const GpuRowCopy &copy,
                                    int64_t bytes) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    bool needsBarrier = needsBarrierAfter(op, copy);
    Value aligned = buildAsyncCopyCondition(b, loc, copy, bytes);
    auto branch = scf::IfOp::create(b, loc, aligned,
                                    /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(branch.thenBlock());
      buildAsyncCopy(b, loc, copy, bytes, threadId, blockSize,
                     /*commit=*/!inPrefetch);
      asyncCopiesInFlight |= !inPrefetch;
      b.setInsertionPointToStart(branch.elseBlock());
      // The generic loop: unrolled, its loads took registers from the
      // whole kernel (chunk_simple_gla 177 instead of 146).
      auto scalar = cast<linalg::LinalgOp>(b.clone(*op));
      if (failed(distributeLoops(scalar, /*needsBarrier=*/false)))
        return failure();
    }
    if (needsBarrier)
      barrier(b, loc);
    op->erase();
    return success();
  }

  /// Every thread loads all its elements of the copy before it stores the
  /// first (fully unrolled, the row index clamped to the last valid row
  /// instead of a guard on the load), so a thread has all its loads in
  /// flight at once instead of waiting out a memory latency per element;
  /// only the stores of rows past the chunk's end are skipped.
  void distributeStagingCopy(linalg::LinalgOp op, const GpuRowCopy &copy,
                             bool needsBarrier) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto c = [&](int64_t v) {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    int64_t width = std::max<int64_t>(copy.columns, 1);
    int64_t total = copy.rowBound * width;
    Value count = memref::DimOp::create(b, loc, copy.source, 0);
    Value lastRow = arith::SubIOp::create(b, loc, count, c(1));
    SmallVector<Value> rows, columns, values;
    for (int64_t first = 0; first < total; first += blockSize) {
      Value linear = arith::AddIOp::create(b, loc, threadId, c(first));
      Value row = copy.columns
                      ? arith::DivUIOp::create(b, loc, linear, c(width))
                      : linear;
      Value column = copy.columns
                         ? arith::RemUIOp::create(b, loc, linear, c(width))
                         : Value();
      Value clamped = arith::MinUIOp::create(b, loc, row, lastRow);
      SmallVector<Value> indices = {clamped};
      if (column)
        indices.push_back(column);
      rows.push_back(row);
      columns.push_back(column);
      values.push_back(memref::LoadOp::create(b, loc, copy.source, indices));
    }
    for (auto [row, column, value] : llvm::zip(rows, columns, values)) {
      Value inside =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, count);
      auto guard = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(guard.thenBlock());
      SmallVector<Value> indices = {row};
      if (column)
        indices.push_back(column);
      memref::StoreOp::create(b, loc, value, copy.target, indices);
    }
    if (needsBarrier)
      barrier(b, loc);
    op->erase();
  }

  /// A chunk's staging copies moved ahead by linac-double-buffer-inputs,
  /// then one commit of their group, taken or not, so that every thread has
  /// committed as many: the first chunk's before the chunk loop, and at the
  /// top of each chunk the next one's, after which the chunk waits for all
  /// but that newest group (its own copies, committed a chunk earlier) and
  /// the barrier makes them visible. The chunk's compute hides the next
  /// chunk's copies; the barrier that ended the previous chunk keeps them
  /// off the buffer halves it read.
  LogicalResult distributePrefetch(scf::IfOp prefetch, StringRef kind) {
    inPrefetch = true;
    LogicalResult distributed = distributeBlock(*prefetch.thenBlock());
    inPrefetch = false;
    if (failed(distributed))
      return failure();
    Location loc = prefetch.getLoc();
    OpBuilder after(prefetch->getBlock(), std::next(prefetch->getIterator()));
    commitAsyncCopies(after, loc);
    if (kind == kPrefetchNext) {
      waitForAsyncCopies(after, loc, /*newestGroupsInFlight=*/1);
      barrier(after, loc);
    }
    return success();
  }

  LogicalResult distributeBlock(Block &block) {
    // The loads every thread has run since the last barrier: a phase that
    // overwrites what they read waits for them (a warp could otherwise
    // overwrite a value another has yet to load).
    SmallVector<Operation *> uniformLoads;
    for (Operation &op : llvm::make_early_inc_range(block)) {
      // A barrier before `op`: the block's own, or the one distributing the
      // previous op put after it.
      if (isa_and_nonnull<gpu::BarrierOp>(op.getPrevNode()))
        uniformLoads.clear();
      if (isa<gpu::BarrierOp>(op))
        continue;
      if (isa<memref::LoadOp, vector::LoadOp>(op)) {
        uniformLoads.push_back(&op);
        continue;
      }
      if (!uniformLoads.empty() && mayOverwrite(&op, uniformLoads, kernel)) {
        OpBuilder before(&op);
        barrier(before, op.getLoc());
        uniformLoads.clear();
      }
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
        if (failed(distributeLinalg(linalgOp)))
          return failure();
        continue;
      }
      if (auto kind = op.getAttrOfType<StringAttr>(kPrefetchAttrName)) {
        auto prefetch = dyn_cast<scf::IfOp>(op);
        if (!prefetch || prefetch.getNumResults() != 0 ||
            prefetch.elseBlock() ||
            !llvm::is_contained({kPrefetchFirst, kPrefetchNext},
                                kind.getValue()))
          return op.emitOpError()
                 << "is marked " << kPrefetchAttrName << " = " << kind
                 << "; expected an scf.if with no results or else branch, "
                    "marked \"first\" or \"next\"";
        if (failed(distributePrefetch(prefetch, kind.getValue())))
          return failure();
        continue;
      }
      if (op.hasAttr(kThreadParallelAttrName)) {
        if (failed(distributeThreadParallel(&op)))
          return failure();
        continue;
      }
      if (op.getNumRegions() > 0 && containsLinalg(&op)) {
        // Uniform control flow (bounds and conditions are the same on every
        // thread): distribute inside.
        for (Region &region : op.getRegions())
          for (Block &nested : region)
            if (failed(distributeBlock(nested)))
              return failure();
        continue;
      }
      if (!op.hasTrait<OpTrait::IsTerminator>() && writesMemory(&op) &&
          !isa<gpu::BarrierOp>(op))
        if (failed(runOnThreadZero(&op)))
          return failure();
    }
    return success();
  }

  /// A loop of independent iterations (linac.thread_parallel): thread t
  /// runs iterations t, t + blockSize, ... whole, then the block meets.
  LogicalResult distributeThreadParallel(Operation *op) {
    auto loop = dyn_cast<scf::ForOp>(op);
    if (!loop || loop.getNumResults() != 0 || containsLinalg(op))
      return op->emitOpError()
             << "is marked " << kThreadParallelAttrName
             << "; expected an scf.for without results or linalg ops inside";
    OpBuilder b(loop);
    Location loc = loop.getLoc();
    Value threads = arith::ConstantIndexOp::create(b, loc, blockSize);
    loop.setLowerBound(arith::AddIOp::create(
        b, loc, loop.getLowerBound(),
        arith::MulIOp::create(b, loc, threadId, loop.getStep())));
    loop.setStep(arith::MulIOp::create(b, loc, loop.getStep(), threads));
    loop->removeAttr(kThreadParallelAttrName);
    b.setInsertionPointAfter(loop);
    barrier(b, loc);
    return success();
  }

  LogicalResult runOnThreadZero(Operation *op) {
    for (Value result : op->getResults())
      if (!result.use_empty())
        return op->emitOpError("writes memory and defines values used later; "
                               "it cannot run on a single GPU thread");
    OpBuilder b(op);
    auto guard = scf::IfOp::create(b, op->getLoc(), isThreadZero,
                                   /*withElseRegion=*/false);
    op->moveBefore(guard.thenBlock()->getTerminator());
    b.setInsertionPointAfter(guard);
    barrier(b, op->getLoc());
    return success();
  }

  /// Evaluates the payload of `op` at loop indices `ivs`, with the output's
  /// current value `current`.
  Value evaluatePayload(OpBuilder &b, Location loc, linalg::LinalgOp op,
                        ArrayRef<Value> ivs, Value current) {
    Block *payload = op.getBlock();
    IRMapping mapping;
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value source = input->get();
      Value element = source;
      if (isa<MemRefType>(source.getType()))
        element = memref::LoadOp::create(
            b, loc, source, indicesFor(op.getMatchingIndexingMap(input), ivs));
      mapping.map(op.getMatchingBlockArgument(input), element);
    }
    mapping.map(payload->getArguments().back(), current);
    for (Operation &nested : payload->without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(nested)) {
        mapping.map(index.getResult(), ivs[index.getDim()]);
        continue;
      }
      b.clone(nested, mapping);
    }
    // The yielded value may be defined above the op (a captured constant).
    return mapping.lookupOrDefault(payload->getTerminator()->getOperand(0));
  }

  static SmallVector<Value> indicesFor(AffineMap map, ArrayRef<Value> ivs) {
    SmallVector<Value> indices;
    for (AffineExpr expr : map.getResults())
      indices.push_back(ivs[cast<AffineDimExpr>(expr).getPosition()]);
    return indices;
  }

  LogicalResult distributeLinalg(linalg::LinalgOp op) {
    // The products erase `op`: their barrier goes before its successor.
    Location loc = op.getLoc();
    OpBuilder after(op->getBlock(), std::next(op->getIterator()));
    if (warpgroupScratch &&
        succeeded(distributeOnWarpgroups(op, threadId, blockSize, tensorCores,
                                         warpgroupScratch))) {
      barrier(after, loc);
      return success();
    }
    if (succeeded(distributeOnTensorCores(op, threadId, blockSize, tensorCores,
                                          ldmatrix, groupTiles))) {
      barrier(after, loc);
      return success();
    }
    if (std::optional<GpuRowCopy> copy = matchRowCopy(op)) {
      if (int64_t bytes = asyncCopyBytes(*copy))
        return distributeAsyncCopy(op, *copy, bytes);
      if (isUnrolledStagingCopy(*copy)) {
        distributeStagingCopy(op, *copy, needsBarrierAfter(op, *copy));
        return success();
      }
    }
    return distributeLoops(op, /*needsBarrier=*/true);
  }

  /// The generic case: the parallel loops of `op` strided over the block's
  /// threads, each thread reducing its own output elements.
  LogicalResult distributeLoops(linalg::LinalgOp op, bool needsBarrier) {
    if (op.getNumDpsInits() != 1 || !op.hasPureBufferSemantics())
      return op.emitOpError("only single-output linalg ops on buffers can be "
                            "mapped to GPU threads");
    for (AffineMap map : op.getIndexingMapsArray())
      if (!map.isProjectedPermutation())
        return op.emitOpError("indexing maps must be projected permutations "
                              "to map to GPU threads");
    OpBuilder b(op);
    Location loc = op.getLoc();
    SmallVector<Range> ranges = op.createLoopRanges(b, loc);
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    SmallVector<Value> sizes;
    SmallVector<unsigned> parallelDims, reductionDims;
    for (auto [d, range] : llvm::enumerate(ranges)) {
      sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
      if (iterators[d] == utils::IteratorType::parallel)
        parallelDims.push_back(d);
      else
        reductionDims.push_back(d);
    }
    // The parallel dimensions the threads spread over, outermost first
    // (those of extent 1 take index 0), and the extent each is iterated
    // with. In elementwise ops, an inner extent that is dynamic but bounded
    // (a chunk's rows, min(remaining, C)) is iterated up to its bound, the
    // elements beyond it skipped: the per-element index math below then
    // divides by constants (shifts and masks), not by a runtime value (a
    // 64-bit division per element on the GPU). The outermost keeps its own
    // extent, so the trip count stays what it was.
    bool elementwise = reductionDims.empty();
    SmallVector<Value> ivs(ranges.size());
    SmallVector<unsigned> spread, guarded;
    SmallVector<Value> iterated(ranges.size());
    for (unsigned d : parallelDims) {
      if (getConstantIntValue(sizes[d]) == 1)
        ivs[d] = arith::ConstantIndexOp::create(b, loc, 0);
      else
        spread.push_back(d);
    }
    Value total = arith::ConstantIndexOp::create(b, loc, 1);
    std::optional<int64_t> staticTotal = 1;
    for (unsigned d : spread) {
      iterated[d] = sizes[d];
      std::optional<int64_t> size = getConstantIntValue(sizes[d]), bound;
      if (elementwise && d != spread.front() && !size)
        bound = staticUpperBound(ranges[d].size);
      if (bound && *bound > 0) {
        iterated[d] = arith::ConstantIndexOp::create(b, loc, *bound);
        guarded.push_back(d);
      }
      total = arith::MulIOp::create(b, loc, total, iterated[d]);
      staticTotal = size && staticTotal ? std::optional(*staticTotal * *size)
                                        : std::nullopt;
    }
    // An elementwise op of static extents (the state's copies and decay)
    // whose size is a multiple of the block size gives every thread the same
    // trip count: the loop counts from 0 and is unrolled below, so each
    // thread issues several loads before it uses the first, instead of
    // waiting out a memory latency per element. (Ops over a chunk's rows need
    // a guard per element, behind which the loads cannot move: not these.)
    int64_t evenTrips =
        elementwise && staticTotal && *staticTotal % blockSize == 0
            ? *staticTotal / blockSize
            : 0;
    OpOperand *init = op.getDpsInitOperand(0);
    Value out = init->get();
    AffineMap outMap = op.getMatchingIndexingMap(init);
    bool readsOutput = !op.getMatchingBlockArgument(init).use_empty();
    Value step = arith::ConstantIndexOp::create(b, loc, blockSize);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    scf::ForOp loop;
    Value linear;
    if (evenTrips) {
      loop = scf::ForOp::create(
          b, loc, zero, arith::ConstantIndexOp::create(b, loc, evenTrips), one);
      b.setInsertionPointToStart(loop.getBody());
      linear = arith::AddIOp::create(
          b, loc, threadId,
          arith::MulIOp::create(b, loc, loop.getInductionVar(), step));
    } else {
      loop = scf::ForOp::create(b, loc, threadId, total, step);
      b.setInsertionPointToStart(loop.getBody());
      linear = loop.getInductionVar();
    }

    // Row-major delinearization: the innermost parallel dimension varies
    // fastest across threads, so neighbouring threads touch neighbouring
    // elements. The loop stays below the product of the extents, so the
    // outermost index needs no remainder. Contractions keep it all the same:
    // it tells LLVM the index's range, and without it kernels already at 255
    // registers (the f32 chunk_gated_delta_rule, the bf16 recurrent delta
    // rules at K = V = 128) spilled.
    for (unsigned d : llvm::reverse(spread)) {
      if (d == spread.front()) {
        ivs[d] = elementwise
                     ? linear
                     : arith::RemUIOp::create(b, loc, linear, iterated[d]);
        break;
      }
      ivs[d] = arith::RemUIOp::create(b, loc, linear, iterated[d]);
      linear = arith::DivUIOp::create(b, loc, linear, iterated[d]);
    }
    if (!guarded.empty()) {
      Value inside;
      for (unsigned d : guarded) {
        Value below = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                            ivs[d], sizes[d]);
        inside = inside ? arith::AndIOp::create(b, loc, inside, below) : below;
      }
      auto guard = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
      b.setInsertionPointToStart(guard.thenBlock());
    }
    Value current;
    if (readsOutput || !reductionDims.empty())
      current = memref::LoadOp::create(b, loc, out, indicesFor(outMap, ivs));
    Value result;
    if (reductionDims.empty()) {
      result = evaluatePayload(b, loc, op, ivs, current);
    } else {
      // Each thread reduces its own output elements sequentially.
      std::function<Value(OpBuilder &, unsigned, Value)> reduce =
          [&](OpBuilder &rb, unsigned level, Value acc) -> Value {
        if (level == reductionDims.size())
          return evaluatePayload(rb, loc, op, ivs, acc);
        unsigned d = reductionDims[level];
        auto inner = scf::ForOp::create(
            rb, loc, zero, sizes[d], one, ValueRange{acc},
            [&](OpBuilder &lb, Location, Value iv, ValueRange iterArgs) {
              ivs[d] = iv;
              Value next = reduce(lb, level + 1, iterArgs[0]);
              scf::YieldOp::create(lb, loc, next);
            });
        return inner.getResult(0);
      };
      result = reduce(b, 0, current);
    }
    memref::StoreOp::create(b, loc, result, out, indicesFor(outMap, ivs));
    b.setInsertionPointAfter(loop);
    if (needsBarrier)
      barrier(b, loc);
    op->erase();
    if (evenTrips > 1 &&
        failed(loopUnrollByFactor(
            loop, std::min<int64_t>(evenTrips, kElementwiseUnroll))))
      return loop.emitOpError("could not be unrolled");
    return success();
  }
};

struct MapToGPUPass : public linac::impl::LinacMapToGPUBase<MapToGPUPass> {
  using LinacMapToGPUBase::LinacMapToGPUBase;
  TensorCoreInputs tensorCoreInputs = TensorCoreInputs::none;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<TensorCoreInputs> inputs = parseTensorCoreInputs(tensorCores);
    if (!inputs) {
      module.emitError() << "linac-map-to-gpu: tensor-cores must be none, "
                            "tf32, bf16 or f16, got '"
                         << tensorCores << "'";
      return signalPassFailure();
    }
    tensorCoreInputs = *inputs;
    if (minBlocksPerMultiprocessor < 1) {
      module.emitError() << "linac-map-to-gpu: min-blocks-per-multiprocessor "
                            "must be at least 1, got "
                         << static_cast<int64_t>(minBlocksPerMultiprocessor);
      return signalPassFailure();
    }
    SmallVector<std::pair<func::FuncOp, scf::ParallelOp>> kernels;
    for (auto func : module.getOps<func::FuncOp>()) {
      // Outlining a kernel erases its function: one grid per function.
      bool found = false;
      for (auto grid : func.getBody().getOps<scf::ParallelOp>()) {
        if (!grid->hasAttr(kGridAttrName))
          continue;
        if (found) {
          grid.emitOpError("is a second linac grid in its function; a GPU "
                           "kernel has one");
          return signalPassFailure();
        }
        found = true;
        kernels.push_back({func, grid});
      }
    }
    if (kernels.empty())
      return;

    MLIRContext *ctx = &getContext();
    std::string targetText = "#nvvm.target<chip = \"" + chip +
                             "\", features = \"" + features + "\">";
    Attribute target = parseAttribute(targetText, ctx);
    if (!target) {
      module.emitError() << "linac-map-to-gpu: bad target " << targetText;
      return signalPassFailure();
    }
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(ctx));
    OpBuilder b(ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(),
                                              "linac_kernels",
                                              b.getArrayAttr({target}));
    for (auto [func, grid] : kernels)
      if (failed(outline(gpuModule, func, grid)))
        return signalPassFailure();
  }

  LogicalResult outline(gpu::GPUModuleOp gpuModule, func::FuncOp func,
                        scf::ParallelOp grid) {
    auto roles = grid->getAttrOfType<ArrayAttr>(kGridAttrName);
    if (!roles || roles.size() != grid.getNumLoops())
      return grid.emitOpError("a linac grid names the role of each dimension");
    // Each role becomes one block index: unknown or repeated roles would
    // silently share one.
    llvm::SmallDenseSet<StringRef> seen;
    for (Attribute role : roles) {
      auto name = dyn_cast<StringAttr>(role);
      if (!name ||
          !llvm::is_contained({kGridValueTile, kGridHead, kGridSequence},
                              name.getValue()) ||
          !seen.insert(name.getValue()).second)
        return grid.emitOpError()
               << "has grid roles " << roles << "; expected distinct '"
               << kGridValueTile << "', '" << kGridHead << "' or '"
               << kGridSequence << "'";
    }
    for (Operation &op : func.getBody().front()) {
      if (&op == grid.getOperation() || isa<func::ReturnOp>(op))
        continue;
      if (!isMemoryEffectFree(&op) && !isa<memref::DimOp>(op))
        return op.emitOpError("only side-effect-free ops may precede a linac "
                              "grid on the GPU");
    }
    OpBuilder b(gpuModule.getBody(), gpuModule.getBody()->begin());
    Location loc = func.getLoc();
    auto kernel = gpu::GPUFuncOp::create(b, loc, func.getName(),
                                         func.getFunctionType());
    kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
    kernel.setKnownBlockSizeAttr(
        b.getDenseI32ArrayAttr({(int32_t)blockSize, 1, 1}));
    // The blocks ptxas must fit on a multiprocessor (a register budget).
    // Without the attribute, ptxas caps the registers of a kernel with a
    // known block size to fit several blocks, and spills; the compiler
    // asks for more than one only where ptxas then does not spill.
    kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                    b.getI32IntegerAttr(minBlocksPerMultiprocessor));
    Block &entry = kernel.getBody().front();
    b.setInsertionPointToStart(&entry);

    IRMapping mapping;
    for (auto [from, to] :
         llvm::zip(func.getArguments(), entry.getArguments()))
      mapping.map(from, to);
    for (Operation &op : func.getBody().front()) {
      if (&op == grid.getOperation())
        break;
      b.clone(op, mapping);
    }
    // Value tiles on x, heads on y, sequences on z (the launcher's grid).
    for (auto [iv, role] : llvm::zip(grid.getInductionVars(), roles)) {
      StringRef name = cast<StringAttr>(role).getValue();
      gpu::Dimension dim = name == kGridValueTile ? gpu::Dimension::x
                           : name == kGridHead    ? gpu::Dimension::y
                                                  : gpu::Dimension::z;
      mapping.map(iv, gpu::BlockIdOp::create(b, loc, dim));
    }
    for (Operation &op : grid.getBody()->without_terminator()) {
      if (auto scope = dyn_cast<memref::AllocaScopeOp>(op)) {
        for (Operation &inner : scope.getBodyRegion().front().without_terminator())
          b.clone(inner, mapping);
        continue;
      }
      b.clone(op, mapping);
    }
    gpu::ReturnOp::create(b, loc);

    // The wgmma path's operands go through one scratch buffer, as large as
    // the largest contraction on it needs; where that would take the block
    // past the chip's shared memory, the products keep mma.sync.
    memref::AllocaOp warpgroupScratchAlloca;
    Value warpgroupScratch;
    if (warpgroupMma) {
      if (chip != "sm_90a")
        return func.emitOpError()
               << "warpgroup-mma needs the chip sm_90a (wgmma), not " << chip;
      int64_t scratchBytes = 0;
      kernel.walk([&](linalg::LinalgOp op) {
        scratchBytes =
            std::max(scratchBytes,
                     warpgroupMmaScratchBytes(op, blockSize, tensorCoreInputs)
                         .value_or(0));
      });
      if (scratchBytes > 0 &&
          localBufferBytes(kernel) + scratchBytes <= maxSharedBytes(chip)) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&kernel.getBody().front());
        warpgroupScratchAlloca = memref::AllocaOp::create(
            b, loc, MemRefType::get({scratchBytes}, b.getI8Type()));
      }
    }

    // Local buffers are shared by the block's threads: static workgroup
    // buffers up to 48 KiB, views of the dynamic shared memory beyond.
    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                                gpu::AddressSpace::Workgroup);
    SmallVector<memref::AllocaOp> allocas;
    kernel.walk([&](memref::AllocaOp alloca) { allocas.push_back(alloca); });
    int64_t sharedBytes = 0, paddedBytes = 0;
    SmallVector<MemRefType> paddedTypes;
    for (memref::AllocaOp alloca : allocas) {
      MemRefType type = alloca.getType();
      if (!type.hasStaticShape() || !type.getLayout().isIdentity())
        return alloca.emitOpError(
            "a GPU kernel needs static local buffers of identity layout");
      paddedTypes.push_back(paddedAllocaType(alloca));
      sharedBytes += sharedBufferBytes(type);
      paddedBytes += sharedBufferBytes(paddedTypes.back());
    }
    int64_t limit = maxSharedBytes(chip);
    // Rows padded against bank conflicts, unless that would take a block
    // past what it may grow to (or, already beyond, past the chip's limit).
    bool pad =
        paddedBytes <= limit && (sharedBytes > kMaxStaticSharedBytes ||
                                 paddedBytes <= maxGrownSharedBytes(chip));
    if (pad)
      sharedBytes = paddedBytes;
    if (sharedBytes > limit)
      return func.emitOpError()
             << "needs " << sharedBytes << " bytes of shared memory per block "
             << "(limit " << limit << " on " << chip
             << "): use a smaller value tile or chunk size";
    bool dynamic = sharedBytes > kMaxStaticSharedBytes;
    Value dynamicShared;
    if (dynamic) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&kernel.getBody().front());
      dynamicShared = gpu::DynamicSharedMemoryOp::create(
          b, loc,
          MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                          MemRefLayoutAttrInterface(), workgroup));
      kernel->setAttr(kDynamicSharedBytesAttrName,
                      b.getI64IntegerAttr(sharedBytes));
    }
    int64_t offset = 0;
    for (auto [alloca, padded] : llvm::zip(allocas, paddedTypes)) {
      MemRefType type = pad ? padded : alloca.getType();
      auto sharedType = MemRefType::get(type.getShape(), type.getElementType(),
                                        type.getLayout(), workgroup);
      Value buffer;
      if (dynamic) {
        // Offsets stay multiples of kSharedBufferAlignment: sharedBufferBytes
        // rounds each buffer up to it.
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointAfterValue(dynamicShared);
        buffer = memref::ViewOp::create(
            b, alloca.getLoc(), sharedType, dynamicShared,
            arith::ConstantIndexOp::create(b, alloca.getLoc(), offset),
            ValueRange{});
        offset += sharedBufferBytes(type);
      } else {
        buffer = kernel.addWorkgroupAttribution(sharedType, alloca.getLoc());
        // LLVM's load/store vectorizer merges neighbouring shared accesses
        // into 8- and 16-byte ones; an element-aligned buffer then faults
        // with "misaligned address" wherever ptxas happens to place it.
        kernel.setWorkgroupAttributionAttr(
            kernel.getNumWorkgroupAttributions() - 1,
            LLVM::LLVMDialect::getAlignAttrName(),
            b.getI64IntegerAttr(kSharedBufferAlignment));
      }
      if (alloca == warpgroupScratchAlloca)
        warpgroupScratch = buffer;
      if (type == alloca.getType()) {
        alloca.getResult().replaceAllUsesWith(buffer);
        alloca.erase();
        propagateMemorySpace(buffer, workgroup);
        continue;
      }
      // Padded rows: the alloca's uses take a view of its original shape.
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(alloca);
      int64_t rank = type.getRank();
      SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
          strides(rank, b.getIndexAttr(1)), sizes;
      for (int64_t size : alloca.getType().getShape())
        sizes.push_back(b.getIndexAttr(size));
      Value view = memref::SubViewOp::create(b, alloca.getLoc(), buffer,
                                             offsets, sizes, strides);
      alloca.getResult().replaceAllUsesWith(view);
      alloca.erase();
      retypeSubviews(view);
    }

    b.setInsertionPointToStart(&kernel.getBody().front());
    Value threadId = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
    Value isThreadZero = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq, threadId,
        arith::ConstantIndexOp::create(b, loc, 0));
    BlockDistributor distributor{threadId,         isThreadZero, blockSize,
                                 tensorCoreInputs, ldmatrix,     warpTiles,
                                 warpgroupScratch, kernel};
    if (failed(distributor.distributeBlock(kernel.getBody().front())))
      return failure();
    if (elideBarriers)
      eraseBarriersBetweenIndependentPhases(kernel);
    func.erase();
    return success();
  }
};

} // namespace
