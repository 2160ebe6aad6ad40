//===- NarrowProductOperands.cpp - f32 product operands in 16 bits --------===//
//
// A 16-bit kernel's matrix products read f32 intermediates (the state, the
// scores, the delta rule's pseudo-values): tensor cores then run them in
// tf32, at half the rate of bf16. This pass rounds each such operand to the
// inputs' type in a copy before its product, as flash-linear-attention
// rounds its state and scores before `tl.dot`; the products still accumulate
// in f32.
//
//===----------------------------------------------------------------------===//

#include "passes/GpuTensorCores.h"
#include "passes/LinalgHelpers.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::linac {
#define GEN_PASS_DEF_LINACNARROWPRODUCTOPERANDS
#include "passes/Passes.h.inc"
} // namespace mlir::linac

using namespace mlir;
using namespace mlir::linac;

namespace {

/// The kernel's 16-bit float type: that of its 16-bit memref arguments, or
/// null where it has none (an f32 kernel) or two kinds.
Type sixteenBitType(func::FuncOp func) {
  Type found;
  for (Type type : func.getArgumentTypes()) {
    auto memref = dyn_cast<MemRefType>(type);
    if (!memref || !isa<FloatType>(memref.getElementType()) ||
        memref.getElementTypeBitWidth() != 16)
      continue;
    if (found && found != memref.getElementType())
      return Type();
    found = memref.getElementType();
  }
  return found;
}

/// Whether `op` may write `root` or a view of it (or memory it cannot name).
bool mayWrite(Operation *op, memref::AllocaOp root) {
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getEffectsRecursively(op);
  if (!effects)
    return true;
  return llvm::any_of(*effects, [&](const MemoryEffects::EffectInstance &e) {
    if (!isa<MemoryEffects::Write>(e.getEffect()))
      return false;
    Value written = e.getValue();
    return !written || localRoot(written) == root;
  });
}

/// Whether each output of the product sums at least 8 terms: a decode step's
/// outer product (one token) would round its operands and gain nothing.
bool sumsSeveralTerms(linalg::LinalgOp op, const Contraction &contraction) {
  std::optional<int64_t> terms = loopUpperBound(op, contraction.k);
  return terms && *terms >= 8;
}

/// A 16-bit copy of an f32 operand, made before one product and valid for
/// the later products of its block until its source's buffer is written.
struct NarrowCopy {
  Value source;
  Value copy;
  Operation *copyOp;
};

struct NarrowProductOperandsPass
    : public linac::impl::LinacNarrowProductOperandsBase<
          NarrowProductOperandsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    copies.clear();
    twins.clear();
    element = sixteenBitType(func);
    if (!element)
      return;
    SmallVector<linalg::GenericOp> products;
    func.walk([&](linalg::GenericOp op) {
      if (std::optional<Contraction> contraction = matchContraction(op);
          contraction && fillsTensorCoreTiles(op, *contraction) &&
          sumsSeveralTerms(op, *contraction))
        products.push_back(op);
    });
    for (linalg::GenericOp op : products)
      narrowOperands(op);
  }

  /// Gives `op` 16-bit copies of its f32 operands, where then both are
  /// 16-bit.
  void narrowOperands(linalg::GenericOp op) {
    SmallVector<OpOperand *> wide;
    for (OpOperand *operand : op.getDpsInputOperands()) {
      Type type = cast<MemRefType>(operand->get().getType()).getElementType();
      if (type == element)
        continue;
      if (!type.isF32() || !localRoot(operand->get()) ||
          !viewsRebuild(operand->get()))
        return;
      wide.push_back(operand);
    }
    for (OpOperand *operand : wide) {
      Value copy = copyBefore(op, operand->get());
      operand->set(copy);
      // The payload reads the operand as f32: extend the narrowed argument.
      BlockArgument arg = op.getMatchingBlockArgument(operand);
      arg.setType(element);
      OpBuilder b = OpBuilder::atBlockBegin(arg.getOwner());
      auto extended =
          arith::ExtFOp::create(b, op.getLoc(), b.getF32Type(), arg);
      arg.replaceAllUsesExcept(extended, extended);
    }
  }

  /// Whether every view between `view` and its buffer can be rebuilt on a
  /// 16-bit buffer (subviews and casts).
  static bool viewsRebuild(Value view) {
    while (!view.getDefiningOp<memref::AllocaOp>()) {
      Operation *def = view.getDefiningOp();
      if (auto subview = dyn_cast_or_null<memref::SubViewOp>(def))
        view = subview.getSource();
      else if (auto castOp = dyn_cast_or_null<memref::CastOp>(def))
        view = castOp.getSource();
      else
        return false;
    }
    return true;
  }

  /// A 16-bit copy of `source` for `user`: the last one made in `user`'s
  /// block where nothing since has written its buffer, else a new one.
  Value copyBefore(Operation *user, Value source) {
    memref::AllocaOp root = localRoot(source);
    for (const NarrowCopy &made : llvm::reverse(copies)) {
      if (made.source != source ||
          made.copyOp->getBlock() != user->getBlock() ||
          !made.copyOp->isBeforeInBlock(user))
        continue;
      bool written = false;
      for (Operation *op = made.copyOp->getNextNode(); op != user && !written;
           op = op->getNextNode())
        written = mayWrite(op, root);
      if (!written)
        return made.copy;
      break;
    }
    Value copy = narrowView(source);
    OpBuilder b(user);
    Operation *copyOp = buildConvertingCopy(b, user->getLoc(), source, copy);
    copies.push_back({source, copy, copyOp});
    return copy;
  }

  /// `view` rebuilt on its buffer's 16-bit twin, each view beside the one it
  /// copies.
  Value narrowView(Value view) {
    if (auto alloca = view.getDefiningOp<memref::AllocaOp>())
      return narrowBuffer(alloca);
    Operation *def = view.getDefiningOp();
    OpBuilder b(def);
    b.setInsertionPointAfter(def);
    auto narrowType = [&](Value value) {
      auto type = cast<MemRefType>(value.getType());
      return MemRefType::get(type.getShape(), element, type.getLayout(),
                             type.getMemorySpace());
    };
    if (auto subview = dyn_cast<memref::SubViewOp>(def))
      return memref::SubViewOp::create(
          b, def->getLoc(), narrowType(view), narrowView(subview.getSource()),
          subview.getMixedOffsets(), subview.getMixedSizes(),
          subview.getMixedStrides());
    auto castOp = cast<memref::CastOp>(def);
    return memref::CastOp::create(b, def->getLoc(), narrowType(view),
                                  narrowView(castOp.getSource()));
  }

  /// The 16-bit twin of an f32 buffer, allocated beside it (one per buffer:
  /// views of it hold the copies of its views).
  Value narrowBuffer(memref::AllocaOp alloca) {
    auto [it, inserted] = twins.try_emplace(alloca.getOperation());
    if (!inserted)
      return it->second;
    OpBuilder b(alloca);
    b.setInsertionPointAfter(alloca);
    MemRefType type = alloca.getType();
    auto twin = memref::AllocaOp::create(
        b, alloca.getLoc(),
        MemRefType::get(type.getShape(), element, type.getLayout(),
                        type.getMemorySpace()),
        alloca.getDynamicSizes(), alloca.getSymbolOperands(),
        alloca.getAlignmentAttr());
    twin->setDiscardableAttrs(alloca->getDiscardableAttrDictionary());
    it->second = twin.getResult();
    return twin.getResult();
  }

  Type element;
  SmallVector<NarrowCopy> copies;
  llvm::DenseMap<Operation *, Value> twins;
};

} // namespace
