//===- linac-fuzz.cpp - libFuzzer target over parse, verify and pipeline -===//
//
// Each input is MLIR text. It is parsed and verified, then run through the
// pipeline's MLIR stages for the CPU and for NVPTX (up to and including
// linac-map-to-gpu and convert-gpu-to-nvvm; the PTX emission is skipped: it
// costs more than all other stages and sees only IR that verified). A
// function with a linac.recurrence or linac.ssm goes the way linac-compile
// takes it (alone in its module, described after specialization); a module
// without one goes the way `linac-opt --linac-to-cpu` takes it. Every
// outcome but a crash, a sanitizer report or a timeout is fine: errors are
// diagnostics.
//
// The compile options are drawn from a hash of the input, so a crasher
// reproduces from its file alone.
//
//===----------------------------------------------------------------------===//

#include "codegen/KernelMetadata.h"
#include "codegen/Pipeline.h"
#include "codegen/Registration.h"
#include "dialect/Linac.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/xxhash.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace mlir;

namespace {

/// Inputs larger than this only slow the fuzzer down: the seeds are < 8 KiB.
constexpr size_t kMaxInputBytes = 16 * 1024;
/// Kernels compiled per input (a module may hold many functions).
constexpr size_t kMaxKernels = 2;

DialectRegistry &registry() {
  static DialectRegistry instance = [] {
    DialectRegistry r;
    ::linac::registerAllDialects(r);
    return r;
  }();
  return instance;
}

/// Options that vary with the input, as linac-compile's flags would.
::linac::CompileOptions drawOptions(uint64_t hash, bool cpu) {
  ::linac::CompileOptions options;
  options.target = cpu ? "cpu" : "sm_90";
  const int64_t headDims[] = {64, 0, 16, 100};
  options.headDimK = headDims[hash & 3];
  options.headDimV = headDims[(hash >> 2) & 3];
  const char *dtypes[] = {"", "f16", "bf16", "f32"};
  options.dtype = dtypes[(hash >> 4) & 3];
  const int64_t chunks[] = {0, 16, 64, 1};
  options.chunkSize = chunks[(hash >> 6) & 3];
  options.householder = (hash >> 8) & 1 ? 2 : 0;
  options.qkL2Norm = (hash >> 9) & 1;
  const float sigmoids[] = {0.0f, 1.0f, 2.0f, 0.0f};
  options.betaSigmoid = sigmoids[(hash >> 10) & 3];
  options.allowSequential = (hash >> 12) & 1;
  options.dtSoftplus = (hash >> 13) & 1;
  // linac-compile resolves the value tile after specialization; a fixed
  // width exercises the same code (the NVPTX stages require one).
  options.blockV = cpu ? 0 : 32;
  return options;
}

/// Runs the stages of `options` on `module`; for a kernel, describes it after
/// specialization as compileKernel does. Stops at the first failure.
void runStages(ModuleOp module, func::FuncOp kernel,
               const ::linac::CompileOptions &options) {
  MLIRContext *ctx = module.getContext();
  for (const ::linac::Stage &stage : ::linac::getStages(options)) {
    if (stage.name == "ptx")
      return;
    PassManager pm(ctx);
    if (failed(parsePassPipeline(stage.pipeline, pm)) ||
        failed(pm.run(module)))
      return;
    if (kernel && stage.name == "specialize") {
      llvm::Expected<::linac::KernelMetadata> described =
          ::linac::describeKernel(kernel, options);
      if (!described) {
        llvm::consumeError(described.takeError());
        return;
      }
    }
  }
}

void compileAllWays(ModuleOp module, uint64_t hash) {
  llvm::SmallVector<StringRef> kernels;
  for (auto func : module.getOps<func::FuncOp>()) {
    bool isKernel = false;
    func.walk([&](Operation *op) {
      isKernel |= isa<mlir::linac::RecurrenceOp, mlir::linac::SsmOp>(op);
    });
    if (isKernel && kernels.size() < kMaxKernels)
      kernels.push_back(func.getName());
  }
  for (bool cpu : {true, false}) {
    ::linac::CompileOptions options = drawOptions(hash, cpu);
    if (kernels.empty()) {
      OwningOpRef<ModuleOp> copy = module.clone();
      runStages(*copy, nullptr, options);
      continue;
    }
    for (StringRef name : kernels) {
      OwningOpRef<ModuleOp> copy = module.clone();
      // As compileKernel: keep only the kernel function.
      auto kernel = copy->lookupSymbol<func::FuncOp>(name);
      for (Operation &op : llvm::make_early_inc_range(*copy->getBody()))
        if (&op != kernel.getOperation())
          op.erase();
      runStages(*copy, kernel, options);
    }
  }
}

} // namespace

// Defaults that hold when a crasher is replayed by hand too. MLIR's
// allocators poison and unpoison their slabs only in instrumented code;
// libMLIR.so is not instrumented, so honouring user poisoning gives false
// reports. Leaks are not checked: MLIR keeps process-wide registries alive.
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0:detect_leaks=0";
}
extern "C" const char *__ubsan_default_options() {
  return "print_stacktrace=1";
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  ::linac::registerAllPasses();
  (void)registry();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > kMaxInputBytes)
    return -1;
  // MLIR's lexer expects the NUL that files and std::string carry after
  // their last byte; libFuzzer's buffer has none.
  std::string text(reinterpret_cast<const char *>(data), size);
  // A fresh context per input: nothing uniqued by one input leaks into the
  // next, so every crash reproduces from its input alone.
  MLIRContext context(registry(), MLIRContext::Threading::DISABLED);
  // Errors are the expected outcome for most inputs; keep them quiet.
  ScopedDiagnosticHandler quiet(&context,
                                [](Diagnostic &) { return success(); });
  ParserConfig config(&context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, config);
  if (!module || failed(verify(*module)))
    return 0;
  compileAllWays(*module, llvm::xxh3_64bits(text));
  return 0;
}
