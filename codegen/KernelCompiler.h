//===- KernelCompiler.h - compile a kernel, through the cache ---*- C++ -*-===//

#ifndef LINAC_CODEGEN_KERNELCOMPILER_H
#define LINAC_CODEGEN_KERNELCOMPILER_H

#include "codegen/Pipeline.h"

#include <string>
#include <vector>

namespace linac {

struct CompileRequest {
  /// MLIR text holding the kernel function.
  std::string source;
  /// Shown in diagnostics (a file name, or "<dsl>").
  std::string sourceName = "<source>";
  std::string funcName;
  CompileOptions options;
  /// Use the on-disk cache (LINAC_CACHE_DIR) for lookups and stores.
  bool useCache = true;
  /// Keep the IR after each stage (always compiles, then stores).
  bool keepStages = false;
};

struct CompileResult {
  KernelArtifact artifact;
  bool fromCache = false;
  double compileMs = 0.0;
  StageDumps stages;
  /// One-line warnings (a discarded cache entry, an unwritable cache).
  std::vector<std::string> warnings;
};

/// The cache key of a request: linac's version, the source, the function,
/// every option, and the toolchain (LLVM version, host CPU or ptxas version).
std::string cacheKey(const CompileRequest &request);

/// "linac <version> (compiler <hash>)": the release and the hash of the
/// compiler's sources that the kernel cache keys on (two builds of one version
/// from different sources differ in it).
std::string compilerIdentity();

/// Parses, compiles and caches one kernel. Thread-safe (compiles one at a
/// time in a process).
llvm::Expected<CompileResult> compile(const CompileRequest &request);

/// Compiles a kernel of the op library by name.
llvm::Expected<CompileResult> compileBuiltin(llvm::StringRef kernelName,
                                             CompileRequest request);

} // namespace linac

#endif // LINAC_CODEGEN_KERNELCOMPILER_H
