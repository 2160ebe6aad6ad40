//===- OpLibrary.h - the built-in ops ---------------------------*- C++ -*-===//
//
// The ops are written once per family in lib/ops/*.mlir (embedded at build
// time). A kernel of the library is a family instantiated in one execution
// mode, e.g. chunk_simple_gla = @simple_gla in chunk mode.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_CODEGEN_OPLIBRARY_H
#define LINAC_CODEGEN_OPLIBRARY_H

#include "dialect/Linac.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace linac {

struct BuiltinKernel {
  const char *name;     // chunk_simple_gla
  const char *family;   // simple_gla: lib/ops/<family>.mlir
  const char *function; // the function in that file
  mlir::linac::ExecutionMode mode;
  bool normalize;
  const char *summary;
};

/// Every kernel of the library, in a stable order.
const std::vector<BuiltinKernel> &builtinKernels();

/// The kernel called `name`, or nullptr.
const BuiltinKernel *findBuiltinKernel(llvm::StringRef name);

/// The embedded text of lib/ops/<family>.mlir.
llvm::Expected<std::string> familySource(llvm::StringRef family);

/// The library's source for `kernel`, instantiated: its function renamed to
/// the kernel's name, with the kernel's mode and normalizer.
llvm::Expected<std::string> kernelSource(const BuiltinKernel &kernel,
                                         mlir::MLIRContext &context);

} // namespace linac

#endif // LINAC_CODEGEN_OPLIBRARY_H
