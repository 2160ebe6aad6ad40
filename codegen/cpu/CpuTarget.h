//===- CpuTarget.h - LLVM dialect to a host object file ---------*- C++ -*-===//

#ifndef LINAC_CODEGEN_CPU_CPUTARGET_H
#define LINAC_CODEGEN_CPU_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace linac {

/// The host CPU's name and features, as the object files are built for them
/// (part of the cache key).
std::string hostCpuDescription();

/// Whether `cpu` names a CPU of the host's architecture ("native" and the
/// empty name mean the host).
bool isKnownCpu(llvm::StringRef cpu);

/// The width in bits of `cpu`'s widest f32 vector registers (empty or
/// "native": the host): 512 with AVX-512, 256 with AVX, else 128.
int64_t cpuVectorBits(llvm::StringRef cpu);

/// Translates a module in the LLVM dialect to LLVM IR, adds the packed entry
/// point `<funcName>_packed(void **args)` that calls
/// `_mlir_ciface_<funcName>`, optimizes at -O3 for `cpu` (empty or "native":
/// the host, with its features; else an LLVM CPU name such as x86-64-v3)
/// and emits an ELF relocatable object.
llvm::Expected<std::string> emitCpuObject(mlir::ModuleOp module,
                                          llvm::StringRef funcName,
                                          llvm::StringRef cpu = "");

} // namespace linac

#endif // LINAC_CODEGEN_CPU_CPUTARGET_H
