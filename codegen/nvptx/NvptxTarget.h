//===- NvptxTarget.h - PTX out of a gpu.binary, cubin via ptxas -*- C++ -*-===//

#ifndef LINAC_CODEGEN_NVPTX_NVPTXTARGET_H
#define LINAC_CODEGEN_NVPTX_NVPTXTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace linac {

/// The PTX of the (single) gpu.binary in `module`.
llvm::Expected<std::string> extractPtx(mlir::ModuleOp module);

/// ptxas: $LINAC_PTXAS, else on PATH, else $CUDA_HOME/bin or
/// /usr/local/cuda/bin. std::nullopt when not installed.
std::optional<std::string> findPtxas();

/// The CUDA toolkit whose nvvm/libdevice the GPU code links: $CUDA_HOME,
/// else the folder above ptxas's bin/, else /usr/local/cuda; empty when none
/// has libdevice.
std::string cudaToolkitPath();

/// `ptxas --version`'s last line, or "none" (part of cache keys).
std::string ptxasVersion();

struct PtxasResult {
  std::string cubin; // empty when ptxas is not installed
  std::string log;   // ptxas -v output, or why it did not run
};

/// Assembles PTX for `arch` (sm_80, sm_90). Without ptxas, returns an empty
/// cubin and a log that says so; a ptxas failure is an error with its output.
llvm::Expected<PtxasResult> assemblePtx(const std::string &ptx,
                                        const std::string &arch);

} // namespace linac

#endif // LINAC_CODEGEN_NVPTX_NVPTXTARGET_H
