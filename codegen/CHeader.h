//===- CHeader.h - the C header of an ahead-of-time kernel ------*- C++ -*-===//

#ifndef LINAC_CODEGEN_CHEADER_H
#define LINAC_CODEGEN_CHEADER_H

#include "runtime/KernelArtifact.h"

#include "llvm/Support/Error.h"

namespace linac {

/// A self-contained C header for the artifact: the buffer descriptor types,
/// and for the CPU the declarations of `_mlir_ciface_<op>` and
/// `<op>_packed`; for GPUs a static inline launcher over the CUDA driver API
/// that computes the grid and expands the descriptors into kernel parameters.
llvm::Expected<std::string> emitCHeader(const KernelArtifact &artifact);

} // namespace linac

#endif // LINAC_CODEGEN_CHEADER_H
