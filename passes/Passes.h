//===- Passes.h - linac passes ----------------------------------*- C++ -*-===//

#ifndef LINAC_PASSES_PASSES_H
#define LINAC_PASSES_PASSES_H

#include "dialect/Linac.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::linac {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Marks the scf.parallel a tiled linac kernel uses as its grid; its value
/// names the role of each loop dimension, outermost first.
inline constexpr llvm::StringLiteral kGridAttrName = "linac.grid";
inline constexpr llvm::StringLiteral kGridValueTile = "value_tile";
inline constexpr llvm::StringLiteral kGridHead = "head";
inline constexpr llvm::StringLiteral kGridSequence = "sequence";

/// Marks a linac.recurrence whose step linac-recognize-recurrence could not
/// match (its value says why): linac-sequential-recurrence lowers it.
inline constexpr llvm::StringLiteral kSequentialAttrName = "linac.sequential";

/// Marks a contraction (a linalg.generic of the chunk lowering) whose output
/// entries above the causal diagonal are discarded by the mask that follows;
/// the value is the diagonal's query stride s (entry (i, j) lies above it
/// when j > i * s + s - 1). linac-vectorize-contractions does not compute
/// them; other passes may ignore the mark.
inline constexpr llvm::StringLiteral kCausalOutputAttrName =
    "linac.causal_output";

/// Static shared memory a GPU block may use without opting in to more.
inline constexpr int64_t kMaxStaticSharedBytes = 48 * 1024;

/// Bytes of the static local buffers (memref.alloca) under `root`: what a
/// GPU block keeps in shared memory.
int64_t localBufferBytes(Operation *root);

} // namespace mlir::linac

#endif // LINAC_PASSES_PASSES_H
