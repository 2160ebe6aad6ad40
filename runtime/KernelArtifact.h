//===- KernelArtifact.h - a compiled kernel and its metadata ----*- C++ -*-===//
//
// What the compiler produces for one kernel and what the cache stores: the
// code for one target plus the JSON metadata that tells a launcher how to
// call it. No LLVM dependency: GPU machines build the runtime without LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_KERNELARTIFACT_H
#define LINAC_RUNTIME_KERNELARTIFACT_H

#include <optional>
#include <string>

namespace linac {

struct KernelArtifact {
  /// Entry symbol: the GPU kernel name, or the CPU function whose packed
  /// entry point is `<symbol>_packed` (and C interface `_mlir_ciface_<symbol>`).
  std::string symbol;
  /// "cpu", "sm_80", "sm_90", ...
  std::string target;
  /// JSON: op, shapes, dtype, target, grid rule, arguments (see README).
  std::string metadata;
  /// CPU: an ELF relocatable object file.
  std::string object;
  /// GPU: PTX text, and the cubin when ptxas was available.
  std::string ptx;
  std::string cubin;
  /// ptxas's verbose output (registers, spills), when it ran.
  std::string ptxasLog;

  /// A self-describing byte string (section name, size, bytes for each field).
  std::string serialize() const;
  /// The inverse of serialize(); std::nullopt when `bytes` is not a complete,
  /// well-formed artifact.
  static std::optional<KernelArtifact> deserialize(const std::string &bytes);
};

} // namespace linac

#endif // LINAC_RUNTIME_KERNELARTIFACT_H
