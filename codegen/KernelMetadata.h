//===- KernelMetadata.h - what a launcher needs to know ---------*- C++ -*-===//

#ifndef LINAC_CODEGEN_KERNELMETADATA_H
#define LINAC_CODEGEN_KERNELMETADATA_H

#include "codegen/Pipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/JSON.h"

namespace linac {

struct KernelArgInfo {
  std::string name;      // q, k, v, g, beta, initial_state, output, ...
  bool isBuffer = true;  // else an f32 scalar
  int64_t rank = 0;
  std::string dtype;     // f32, f16, bf16, i64
  llvm::json::Array shape; // symbolic sizes ("B", "T", "H", ...) or numbers
};

struct KernelMetadata {
  std::string op;
  std::string target;
  std::string mode;
  std::string form;
  /// Why the step runs sequentially (form = sequential).
  std::string sequentialReason;
  bool normalize = false;
  std::string dtype;
  int64_t headDimK = 0, headDimV = 0, chunkSize = 0, blockV = 0;
  int64_t gpuBlockSize = 0;
  /// GPUs: the dynamic shared memory a block needs (0: static buffers only).
  int64_t dynamicSharedBytes = 0;
  /// The op's modifiers (0 / false / 0.0 when off).
  int64_t householder = 1;
  bool qkL2Norm = false;
  float betaSigmoid = 0.0f;
  bool dtSoftplus = false;
  /// A state pass's segment length in chunks (0: an ordinary kernel).
  int64_t stateCheckpoints = 0;
  /// ... and its segments' length in tokens.
  int64_t segmentTokens = 0;
  std::vector<KernelArgInfo> args;
  /// Profiling builds: what each counted phase runs (linac-profile-phases).
  std::vector<std::string> profilePhases;

  llvm::json::Value toJson() const;
};

/// Reads the arguments and sizes of a specialized kernel function (after
/// linac-specialize). Fails when the function has no linac.recurrence or an
/// argument that is not one of its operands.
llvm::Expected<KernelMetadata> describeKernel(mlir::func::FuncOp func,
                                              const CompileOptions &options);

} // namespace linac

#endif // LINAC_CODEGEN_KERNELMETADATA_H
