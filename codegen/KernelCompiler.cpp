//===- KernelCompiler.cpp - compile a kernel, through the cache ----------===//

#include "codegen/KernelCompiler.h"
#include "CompilerHash.h"

#include "codegen/OpLibrary.h"
#include "codegen/Registration.h"
#include "codegen/cpu/CpuTarget.h"
#include "codegen/nvptx/NvptxTarget.h"
#include "runtime/KernelCache.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Config/llvm-config.h"

#include <chrono>
#include <mutex>

using namespace mlir;

namespace {

/// One context for the process; compiles are serialized by its mutex.
struct CompilerContext {
  std::mutex mutex;
  MLIRContext context;

  CompilerContext() : context(makeRegistry()) {
    ::linac::registerAllPasses();
    context.loadAllAvailableDialects();
  }
  static DialectRegistry makeRegistry() {
    DialectRegistry registry;
    ::linac::registerAllDialects(registry);
    return registry;
  }
  static CompilerContext &get() {
    static CompilerContext instance;
    return instance;
  }
};

std::string toolchain(const ::linac::CompileOptions &options) {
  std::string text = "llvm " LLVM_VERSION_STRING;
  if (options.target == "cpu")
    return text + (options.cpu.empty() || options.cpu == "native"
                       ? " host " + ::linac::hostCpuDescription()
                       : " cpu " + options.cpu);
  return text + " ptxas " + ::linac::ptxasVersion();
}

} // namespace

namespace linac {

std::string cacheKey(const CompileRequest &request) {
  // The compiler's source hash: a rebuilt compiler never reuses the kernels
  // an older build cached under the same version number.
  return KernelCache::hashKey(
      std::string("linac " LINAC_VERSION_STRING " " LINAC_COMPILER_HASH "\n") +
      request.funcName + "\n" + request.options.fingerprint() + "\n" +
      toolchain(request.options) + "\n" + request.source);
}

std::string compilerIdentity() {
  return "linac " LINAC_VERSION_STRING " (compiler " LINAC_COMPILER_HASH ")";
}

llvm::Expected<CompileResult> compile(const CompileRequest &request) {
  if (llvm::Expected<TargetKind> kind = parseTarget(request.options.target);
      !kind)
    return kind.takeError();
  if (llvm::Error error = checkGateSums(request.options.gateSums))
    return std::move(error);
  if (llvm::Error error = checkDoubleBuffer(request.options.doubleBuffer))
    return std::move(error);
  if (llvm::Error error = checkElideBarriers(request.options.elideBarriers))
    return std::move(error);
  if (llvm::Error error = checkLdmatrix(request.options.ldmatrix))
    return std::move(error);
  if (llvm::Error error = checkWarpTiles(request.options.warpTiles))
    return std::move(error);
  if (llvm::Error error = checkWarpgroupMma(request.options.warpgroupMma,
                                            request.options.target))
    return std::move(error);
  if (llvm::Error error = checkFactoredBand(request.options.factoredBand))
    return std::move(error);
  if (llvm::Error error =
          checkStateCheckpoints(request.options.stateCheckpoints))
    return std::move(error);
  if (llvm::Error error = checkDecayedRows(request.options.decayedRows))
    return std::move(error);
  if (llvm::Error error = checkProductOperands(request.options.productOperands))
    return std::move(error);
  if (llvm::Error error = checkUTSolve(request.options.utSolve))
    return std::move(error);
  CompileResult result;
  KernelCache cache(KernelCache::defaultDirectory());
  std::string key = cacheKey(request);
  if (request.useCache && !request.keepStages) {
    std::string warning;
    std::optional<std::string> payload = cache.load(key, &warning);
    if (!warning.empty())
      result.warnings.push_back(warning);
    if (payload) {
      std::optional<KernelArtifact> artifact =
          KernelArtifact::deserialize(*payload);
      if (artifact) {
        result.artifact = std::move(*artifact);
        result.fromCache = true;
        return result;
      }
      result.warnings.push_back("linac: discarded an unreadable cache entry " +
                                cache.entryPath(key) + "; recompiling");
    }
  }

  auto start = std::chrono::steady_clock::now();
  CompilerContext &compiler = CompilerContext::get();
  std::lock_guard<std::mutex> lock(compiler.mutex);
  std::string diagnostics;
  OwningOpRef<ModuleOp> module;
  {
    ScopedDiagnosticHandler handler(&compiler.context, [&](Diagnostic &diag) {
      llvm::raw_string_ostream os(diagnostics);
      ::linac::formatDiagnostic(os, diag);
      return success();
    });
    ParserConfig config(&compiler.context);
    module = parseSourceString<ModuleOp>(request.source, config,
                                         request.sourceName);
  }
  if (!module)
    return llvm::createStringError("linac: cannot parse " + request.sourceName +
                                   "\n" + diagnostics);
  llvm::Expected<KernelArtifact> artifact =
      compileKernel(*module, request.funcName, request.options,
                    request.keepStages ? &result.stages : nullptr);
  if (!artifact)
    return artifact.takeError();
  result.artifact = std::move(*artifact);
  result.compileMs = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - start)
                         .count();
  if (request.useCache) {
    std::string warning;
    if (!cache.store(key, result.artifact.serialize(), &warning))
      result.warnings.push_back(warning);
  }
  return result;
}

llvm::Expected<CompileResult> compileBuiltin(llvm::StringRef kernelName, CompileRequest request) {
  const BuiltinKernel *kernel = findBuiltinKernel(kernelName);
  if (!kernel) {
    std::string names;
    for (const BuiltinKernel &k : builtinKernels())
      names += (names.empty() ? "" : ", ") + std::string(k.name);
    return llvm::createStringError("unknown op '" + kernelName.str() +
                                   "' (known: " + names + ")");
  }
  {
    CompilerContext &compiler = CompilerContext::get();
    std::lock_guard<std::mutex> lock(compiler.mutex);
    llvm::Expected<std::string> source =
        kernelSource(*kernel, compiler.context);
    if (!source)
      return source.takeError();
    request.source = std::move(*source);
  }
  request.sourceName = std::string("lib/ops/") + kernel->family + ".mlir";
  request.funcName = kernel->name;
  // The library's chunks of 64 tokens suit tensor cores; CPUs get smaller
  // ones (cpuDefaultChunkSize; LINAC_AUTOTUNE=1 searches further). The
  // state-space families keep theirs: mamba_chunk_scan_combined takes
  // chunk_size from its caller.
  llvm::StringRef family = kernel->family;
  if (request.options.target == "cpu" && request.options.chunkSize == 0 &&
      family != "mamba2" && family != "selective_scan")
    request.options.chunkSize = cpuDefaultChunkSize(request.options.headDimK,
                                                    request.options.headDimV);
  return compile(request);
}

} // namespace linac
