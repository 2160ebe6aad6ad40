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

/// `linac-to-cpu` / `linac-to-nvvm`: the pipeline's MLIR stages with default
/// options, so linac-opt replays what the compiler does.
void registerTargetPipeline(linac::TargetKind kind) {
  bool cpu = kind == linac::TargetKind::Cpu;
  mlir::PassPipelineRegistration<>(
      cpu ? "linac-to-cpu" : "linac-to-nvvm",
      cpu ? "every linac stage, from specialization to the LLVM dialect"
          : "every linac stage, from specialization to a gpu.binary with PTX",
      [cpu](mlir::OpPassManager &pm) {
        linac::CompileOptions options;
        options.target = cpu ? "cpu" : "sm_90";
        // Small tiles fit every family's buffers in a block's shared memory.
        options.chunkSize = cpu ? 0 : 16;
        options.blockV = cpu ? 0 : 16;
        for (const linac::Stage &stage : linac::getStages(options))
          if (mlir::failed(mlir::parsePassPipeline(stage.pipeline, pm)))
            llvm::report_fatal_error("bad built-in pipeline: " +
                                     llvm::Twine(stage.pipeline));
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
    registerTargetPipeline(TargetKind::Cpu);
    registerTargetPipeline(TargetKind::Nvptx);
  });
}
