//===- Registration.cpp - dialects, passes and pipelines of linac --------===//

#include "codegen/Registration.h"

#include "codegen/Pipeline.h"
#include "passes/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include <mutex>

namespace {

/// Options of the `linac-to-cpu` replay pipeline.
struct CpuPipelineOptions
    : public mlir::PassPipelineOptions<CpuPipelineOptions> {
  Option<std::string> cpu{
      *this, "cpu",
      llvm::cl::desc("the CPU whose vector registers the micro-kernels' "
                     "tiles follow (an LLVM CPU name; default the host)"),
      llvm::cl::init("")};
};

/// Adds the pipeline's MLIR stages for `options` to `pm`.
void addStages(mlir::OpPassManager &pm, const linac::CompileOptions &options) {
  for (const linac::Stage &stage : linac::getStages(options))
    if (mlir::failed(mlir::parsePassPipeline(stage.pipeline, pm)))
      llvm::report_fatal_error("bad built-in pipeline: " +
                               llvm::Twine(stage.pipeline));
}

/// `linac-to-cpu` / `linac-to-nvvm`: the pipeline's MLIR stages with default
/// options, so linac-opt replays what the compiler does.
void registerTargetPipelines() {
  mlir::PassPipelineRegistration<CpuPipelineOptions>(
      "linac-to-cpu",
      "every linac stage, from specialization to the LLVM dialect",
      [](mlir::OpPassManager &pm, const CpuPipelineOptions &cpuOptions) {
        linac::CompileOptions options;
        options.target = "cpu";
        options.cpu = cpuOptions.cpu;
        addStages(pm, options);
      });
  mlir::PassPipelineRegistration<>(
      "linac-to-nvvm",
      "every linac stage, from specialization to a gpu.binary with PTX",
      [](mlir::OpPassManager &pm) {
        linac::CompileOptions options;
        options.target = "sm_90";
        // Small tiles fit every family's buffers in a block's shared memory.
        options.chunkSize = 16;
        options.blockV = 16;
        addStages(pm, options);
      });
}

} // namespace

void linac::registerAllDialects(mlir::DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registry.insert<mlir::linac::LinacDialect>();
}

void linac::registerAllPasses() {
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    mlir::linac::registerLinacPasses();
    registerTargetPipelines();
  });
}
