//===- Pipeline.cpp - the linac compilation pipeline ---------------------===//

#include "codegen/Pipeline.h"

#include "codegen/KernelMetadata.h"
#include "codegen/cpu/CpuTarget.h"
#include "codegen/nvptx/NvptxTarget.h"
#include "codegen/nvptx/NvptxTarget.h"
#include "dialect/Linac.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

using namespace mlir;

namespace linac {

std::string CompileOptions::fingerprint() const {
  return llvm::formatv("target={0} K={1} V={2} chunk={3} block_v={4} dtype={5} "
                       "block={6} ptxas={7} householder={8} qk_l2norm={9} "
                       "beta_sigmoid={10} dt_softplus={11} cpu={12} "
                       "tensor_cores={13} gate_sums={14} factored_band={15} "
                       "double_buffer={16} elide_barriers={17} ldmatrix={18} "
                       "warpgroup_mma={19} state_checkpoints={20} "
                       "decayed_rows={21} product_operands={22} "
                       "ut_solve={23} warp_tiles={24}",
                       target, headDimK, headDimV, chunkSize, blockV, dtype,
                       gpuBlockSize, runPtxas, householder, qkL2Norm,
                       betaSigmoid, dtSoftplus, cpu, tensorCoreInputs(*this),
                       perElementGateSums(*this) ? "per-element" : "by-row",
                       usesFactoredBand(*this) ? "on" : "off",
                       usesDoubleBuffer(*this) ? "on" : "off",
                       usesElidedBarriers(*this) ? "on" : "off",
                       usesLdmatrix(*this) ? "on" : "off",
                       usesWarpgroupMma(*this) ? "on" : "off", stateCheckpoints,
                       narrowsDecayedRows(*this) ? "input" : "f32",
                       narrowsProductOperands(*this) ? "input" : "f32",
                       solvesUTByColumns(*this) ? "columns" : "rows",
                       usesWarpTiles(*this) ? "on" : "off")
             .str() +
         (allowSequential ? " allow_sequential" : "") +
         (profilePhases ? " profile_phases" : "");
}

llvm::Expected<TargetKind> parseTarget(llvm::StringRef target) {
  if (target == "cpu")
    return TargetKind::Cpu;
  if (target == "sm_80" || target == "sm_90" || target == "sm_90a")
    return TargetKind::Nvptx;
  return llvm::createStringError("unknown target '" + target.str() +
                                 "' (expected cpu, sm_80, sm_90 or sm_90a)");
}

int64_t cpuDefaultChunkSize(int64_t /*headDimK*/, int64_t /*headDimV*/) {
  return 16;
}

namespace {

/// Success for `value` empty (the default) or one of `choices`, else an
/// error naming the option, the value and the choices.
llvm::Error checkOneOf(llvm::StringRef option, llvm::StringRef value,
                       llvm::ArrayRef<llvm::StringRef> choices) {
  if (value.empty() || llvm::is_contained(choices, value))
    return llvm::Error::success();
  std::string expected;
  for (size_t i = 0; i < choices.size(); ++i)
    expected += (i == 0                    ? ""
                 : i + 1 == choices.size() ? " or "
                                           : ", ") +
                choices[i].str();
  return llvm::createStringError("unknown " + option.str() + " '" +
                                 value.str() + "' (expected " + expected + ")");
}

} // namespace

bool perElementGateSums(const CompileOptions &options) {
  if (options.gateSums.empty() || options.gateSums == "auto")
    return options.target != "cpu";
  return options.gateSums == "per-element";
}

llvm::Error checkGateSums(llvm::StringRef gateSums) {
  return checkOneOf("gate-sums", gateSums, {"auto", "by-row", "per-element"});
}

bool usesFactoredBand(const CompileOptions &options) {
  if (options.factoredBand.empty() || options.factoredBand == "auto")
    return options.target == "cpu";
  return options.factoredBand == "on";
}

namespace {

llvm::Error checkAutoOnOff(llvm::StringRef option, llvm::StringRef value) {
  return checkOneOf(option, value, {"auto", "on", "off"});
}

} // namespace

llvm::Error checkFactoredBand(llvm::StringRef factoredBand) {
  return checkAutoOnOff("factored-band", factoredBand);
}

bool usesDoubleBuffer(const CompileOptions &options) {
  if (options.doubleBuffer.empty() || options.doubleBuffer == "auto")
    return options.target != "cpu";
  return options.doubleBuffer == "on";
}

llvm::Error checkDoubleBuffer(llvm::StringRef doubleBuffer) {
  return checkAutoOnOff("double-buffer", doubleBuffer);
}

bool usesElidedBarriers(const CompileOptions &options) {
  return options.elideBarriers == "on";
}

llvm::Error checkElideBarriers(llvm::StringRef elideBarriers) {
  return checkAutoOnOff("elide-barriers", elideBarriers);
}

bool usesLdmatrix(const CompileOptions &options) {
  return options.ldmatrix != "off";
}

llvm::Error checkLdmatrix(llvm::StringRef ldmatrix) {
  return checkAutoOnOff("ldmatrix", ldmatrix);
}

bool usesWarpTiles(const CompileOptions &options) {
  return options.warpTiles == "on";
}

llvm::Error checkWarpTiles(llvm::StringRef warpTiles) {
  return checkAutoOnOff("warp-tiles", warpTiles);
}

bool usesWarpgroupMma(const CompileOptions &options) {
  return options.warpgroupMma == "on";
}

llvm::Error checkWarpgroupMma(llvm::StringRef warpgroupMma,
                              llvm::StringRef target) {
  if (llvm::Error error = checkAutoOnOff("warpgroup-mma", warpgroupMma))
    return error;
  if (warpgroupMma == "on" && target != "sm_90a")
    return llvm::createStringError(
        "warpgroup-mma=on needs --target=sm_90a (wgmma is sm_90a's), not " +
        target.str());
  return llvm::Error::success();
}

bool narrowsDecayedRows(const CompileOptions &options) {
  // Rounded product operands round the rows too, where this is not told
  // otherwise: written in 16 bits at once, they need no second copy.
  return options.decayedRows == "input" ||
         (options.decayedRows != "f32" && narrowsProductOperands(options));
}

llvm::Error checkDecayedRows(llvm::StringRef decayedRows) {
  return checkOneOf("decayed-rows", decayedRows, {"auto", "f32", "input"});
}

bool solvesUTByColumns(const CompileOptions &options) {
  if (options.utSolve.empty() || options.utSolve == "auto")
    return options.target != "cpu";
  return options.utSolve == "columns";
}

llvm::Error checkUTSolve(llvm::StringRef utSolve) {
  return checkOneOf("ut-solve", utSolve, {"auto", "rows", "columns"});
}

bool narrowsProductOperands(const CompileOptions &options) {
  return options.productOperands == "input";
}

llvm::Error checkProductOperands(llvm::StringRef productOperands) {
  return checkOneOf("product-operands", productOperands,
                    {"auto", "f32", "input"});
}

llvm::Error checkStateCheckpoints(int64_t stateCheckpoints) {
  if (stateCheckpoints >= 0)
    return llvm::Error::success();
  return llvm::createStringError(
      "state-checkpoints must be >= 0 (chunks per segment of a state pass; "
      "0 builds the ordinary kernel), got " +
      std::to_string(stateCheckpoints));
}

std::string tensorCoreInputs(const CompileOptions &options) {
  if (!options.tensorCores.empty() && options.tensorCores != "auto")
    return options.tensorCores;
  // fp32 kernels keep fp32 products: tf32 would lose their accuracy.
  if (options.dtype == "bf16" || options.dtype == "f16")
    return options.dtype;
  return "none";
}

std::vector<Stage> getStages(const CompileOptions &options) {
  std::vector<Stage> stages;
  stages.push_back(
      {"specialize",
       llvm::formatv("func.func(linac-specialize{{head-dim-k={0} "
                     "head-dim-v={1} dtype={2} chunk-size={3} householder={4} "
                     "qk-l2norm={5} beta-sigmoid={6} dt-softplus={7}})",
                     options.headDimK, options.headDimV, options.dtype,
                     options.chunkSize, options.householder,
                     options.qkL2Norm ? "true" : "false", options.betaSigmoid,
                     options.dtSoftplus ? "true" : "false")
           .str()});
  stages.push_back(
      {"recognize",
       options.allowSequential
           ? "func.func(linac-recognize-recurrence{allow-sequential=true})"
           : "func.func(linac-recognize-recurrence)"});
  stages.push_back(
      {"chunk",
       std::string("func.func(linac-interleave-householder, "
                   "linac-chunk-recurrence, linac-chunk-ssm") +
           (narrowsDecayedRows(options) ? ", linac-narrow-decayed-rows)"
                                        : ")")});
  // Both stage every input of a chunk: CPUs as f32 rows of unit stride for
  // vector code (and prefetch the next chunk), GPUs in the inputs' own type
  // in shared memory, so that the tensor cores' fragments and the
  // per-element loops read shared memory instead of global memory.
  bool cpu = options.target == "cpu";
  stages.push_back(
      {"tile",
       llvm::formatv("func.func(linac-sequential-recurrence, "
                     "linac-tile-chunk-loop{{block-v={0} stage-inputs=true "
                     "stage-in-input-type={1} "
                     "prefetch-next-chunk={2} state-checkpoints={3}}, "
                     "canonicalize, cse{4})",
                     options.blockV, !cpu, cpu, options.stateCheckpoints,
                     options.stateCheckpoints > 0
                         ? ", linac-erase-unobserved-writes, canonicalize"
                         : "")
           .str()});
  stages.push_back(
      {"lower",
       llvm::formatv("func.func(linac-lower-chunk-ops{{"
                     "per-element-sums={0} factored-band={1} "
                     "column-solve={3}}, canonicalize{2})",
                     perElementGateSums(options), usesFactoredBand(options),
                     narrowsProductOperands(options)
                         ? ", linac-narrow-product-operands, cse"
                         : "",
                     solvesUTByColumns(options))
           .str()});
  // The next chunk's inputs staged while this one computes; GPUs within the
  // shared memory a block may grow to.
  if (usesDoubleBuffer(options))
    stages.push_back({"buffer", "func.func(linac-double-buffer-inputs{chip=" +
                                    (cpu ? std::string() : options.target) +
                                    "})"});
  if (cpu) {
    stages.push_back(
        {"llvm",
         // memref.alloca_scope (per-iteration stack inside the OpenMP
         // loop) must lower before scf-to-cf splits its single block.
         "func.func(linac-vectorize-contractions{vector-bits=" +
             std::to_string(cpuVectorBits(options.cpu)) +
             "}, linac-approximate-math, "
             "linac-align-buffers, "
             "convert-linalg-to-loops), convert-scf-to-openmp, "
             "func.func(linac-balance-grid), "
             "expand-strided-metadata, lower-affine, "
             "arith-expand{include-bf16=true}, convert-vector-to-scf, "
             "convert-vector-to-llvm{reassociate-fp-reductions=true}, "
             "convert-math-to-llvm, "
             "finalize-memref-to-llvm, convert-scf-to-cf, "
             "convert-arith-to-llvm, "
             "convert-index-to-llvm, convert-openmp-to-llvm, "
             "convert-func-to-llvm, "
             "convert-cf-to-llvm, reconcile-unrealized-casts, canonicalize, "
             "cse"});
    return stages;
  }
  stages.push_back(
      {"gpu",
       llvm::formatv("linac-map-to-gpu{{chip={0} features=+ptx80 "
                     "block-size={1} tensor-cores={2} "
                     "min-blocks-per-multiprocessor={4} elide-barriers={5} "
                     "ldmatrix={6} warpgroup-mma={7} warp-tiles={8}}, "
                     "canonicalize, "
                     "cse{3}",
                     options.target, options.gpuBlockSize,
                     tensorCoreInputs(options),
                     options.profilePhases ? ", linac-profile-phases" : "",
                     options.minBlocksPerMultiprocessor,
                     usesElidedBarriers(options), usesLdmatrix(options),
                     usesWarpgroupMma(options), usesWarpTiles(options))
           .str()});
  stages.push_back({"nvvm", "gpu.module(expand-strided-metadata, lower-affine, "
                            "convert-scf-to-cf, convert-nvgpu-to-nvvm, "
                            "convert-gpu-to-nvvm{index-bitwidth=64}, "
                            "convert-nvvm-to-llvm, "
                            "canonicalize, cse), reconcile-unrealized-casts"});
  // The toolkit's libdevice supplies exp, log1p and rsqrt for the GPU.
  std::string toolkit = cudaToolkitPath();
  stages.push_back({"ptx", toolkit.empty()
                               ? std::string("gpu-module-to-binary{format=isa}")
                               : "gpu-module-to-binary{format=isa toolkit=" +
                                     toolkit + "}"});
  return stages;
}

namespace {

/// Where LINAC_DUMP_IR sends the IR after each stage.
void dumpStage(StringRef funcName, size_t index, const Stage &stage,
               StringRef text) {
  const char *dump = std::getenv("LINAC_DUMP_IR");
  if (!dump || !*dump || StringRef(dump) == "0")
    return;
  if (StringRef(dump) == "1") {
    llvm::errs() << "// ----- linac stage " << index << ": " << stage.name
                 << " (" << stage.pipeline << ")\n"
                 << text << "\n";
    return;
  }
  llvm::sys::fs::create_directories(dump);
  SmallString<256> path(dump);
  llvm::sys::path::append(path, llvm::formatv("{0}.{1}.{2}.mlir", funcName,
                                              index, stage.name)
                                    .str());
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (!ec)
    os << text;
}

} // namespace

void formatDiagnostic(llvm::raw_ostream &os, Diagnostic &diag) {
  auto print = [&](Location loc, StringRef severity, Diagnostic &d) {
    if (auto fileLoc = dyn_cast<FileLineColLoc>(loc))
      os << fileLoc.getFilename().getValue() << ":" << fileLoc.getLine() << ":"
         << fileLoc.getColumn();
    else
      os << loc;
    os << ": " << severity << ": " << d << "\n";
  };
  StringRef severity = diag.getSeverity() == DiagnosticSeverity::Error ? "error"
                       : diag.getSeverity() == DiagnosticSeverity::Warning
                           ? "warning"
                           : "note";
  print(diag.getLocation(), severity, diag);
  for (Diagnostic &note : diag.getNotes())
    print(note.getLocation(), "note", note);
}

namespace {

std::string printOp(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os);
  return text;
}

} // namespace

namespace {

/// How one run of the MLIR stages ended.
enum class StagesOutcome { Done, TooMuchSharedMemory };

/// Runs the stages on `module` with `options` (their block_v resolved on
/// the way), filling `metadata`. For GPUs with `allowRetry`, stops after the
/// lowering when the local buffers exceed a block's static shared memory: the
/// default tilings are searched within 48 KiB (the measured order, and room
/// for several blocks per multiprocessor); an explicit tiling may use the
/// chip's dynamic shared memory up to its limit.
llvm::Expected<StagesOutcome>
runStages(ModuleOp module, StringRef funcName, CompileOptions &options,
          KernelMetadata &metadata, StageDumps *dumps, bool allowRetry,
          const std::string &diagnostics) {
  MLIRContext *ctx = module.getContext();
  bool cpu = options.target == "cpu";
  auto failWith = [&](StringRef stage) {
    return llvm::createStringError("linac: " + stage.str() + " failed\n" +
                                   diagnostics);
  };
  std::vector<Stage> stages = getStages(options);
  for (size_t i = 0; i < stages.size(); ++i) {
    const Stage &stage = stages[i];
    auto func = module.lookupSymbol<func::FuncOp>(funcName);
    if (stage.name == "llvm")
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(ctx));
    PassManager pm(ctx);
    std::string parseErrors;
    llvm::raw_string_ostream parseStream(parseErrors);
    if (failed(parsePassPipeline(stage.pipeline, pm, parseStream)))
      return llvm::createStringError("linac: bad " + stage.name +
                                     " pipeline: " + parseErrors);
    if (failed(pm.run(module)))
      return failWith("stage '" + stage.name + "'");
    std::string text;
    if (dumps || std::getenv("LINAC_DUMP_IR"))
      text = printOp(module);
    dumpStage(funcName, i, stage, text);
    if (dumps)
      dumps->push_back({stage.name, text});

    if (stage.name == "specialize") {
      llvm::Expected<KernelMetadata> described = describeKernel(func, options);
      if (!described)
        return described.takeError();
      metadata = std::move(*described);
      if (ShapedType::isDynamic(metadata.headDimK) ||
          ShapedType::isDynamic(metadata.headDimV))
        return llvm::createStringError(
            "linac: the head dimensions of @" + funcName.str() +
            " are not fixed; give head_dim_k and head_dim_v");
      options.blockV = options.blockV > 0
                           ? std::min(options.blockV, metadata.headDimV)
                           : metadata.headDimV;
      metadata.blockV = options.blockV;
      metadata.stateCheckpoints = options.stateCheckpoints;
      stages = getStages(options);
    } else if (stage.name == "recognize") {
      func.walk([&](mlir::linac::RecurrenceOp op) {
        // A sequential kernel: one token at a time, the whole state per block.
        if (auto reason = op->getAttrOfType<StringAttr>(
                mlir::linac::kSequentialAttrName)) {
          metadata.form = "sequential";
          metadata.sequentialReason = reason.str();
          metadata.chunkSize = 1;
          metadata.blockV = metadata.headDimV;
          return;
        }
        if (!op.getFormAttr())
          return;
        std::string text;
        llvm::raw_string_ostream os(text);
        mlir::Attribute(op.getFormAttr()).print(os);
        metadata.form = text;
      });
      if (options.stateCheckpoints > 0 &&
          (metadata.mode != "chunk" || metadata.form == "sequential"))
        return llvm::createStringError(
            "linac: state checkpoints need a chunked kernel; @" +
            funcName.str() + " is " +
            (metadata.mode != "chunk" ? metadata.mode + " mode"
                                      : std::string("sequential")));
    } else if (stage.name == "tile" && options.stateCheckpoints > 0) {
      if (auto tokens = func->getAttrOfType<IntegerAttr>(
              mlir::linac::kSegmentTokensAttrName))
        metadata.segmentTokens = tokens.getInt();
    } else if (stage.name == "gpu") {
      module.walk([&](gpu::GPUFuncOp kernel) {
        if (auto labels = kernel->getAttrOfType<ArrayAttr>(
                mlir::linac::kProfilePhasesAttrName))
          for (auto label : labels.getAsValueRange<StringAttr>())
            metadata.profilePhases.push_back(label.str());
        if (auto bytes = kernel->getAttrOfType<IntegerAttr>(
                mlir::linac::kDynamicSharedBytesAttrName))
          metadata.dynamicSharedBytes = bytes.getInt();
      });
    } else if (stage.name == "lower" && !cpu && allowRetry &&
               mlir::linac::localBufferBytes(func) >
                   mlir::linac::kMaxStaticSharedBytes) {
      return StagesOutcome::TooMuchSharedMemory;
    }
  }
  return StagesOutcome::Done;
}

} // namespace

namespace {

llvm::Expected<KernelArtifact> compileKernelOnce(ModuleOp module,
                                                 StringRef funcName,
                                                 CompileOptions options,
                                                 StageDumps *dumps) {
  llvm::Expected<TargetKind> kind = parseTarget(options.target);
  if (!kind)
    return kind.takeError();
  MLIRContext *ctx = module.getContext();

  // Keep only the requested function.
  auto func = module.lookupSymbol<func::FuncOp>(funcName);
  if (!func) {
    std::string names;
    for (auto f : module.getOps<func::FuncOp>())
      names += (names.empty() ? "" : ", ") + f.getName().str();
    return llvm::createStringError("no function @" + funcName.str() +
                                   " in the module (it has: " + names + ")");
  }
  for (Operation &op : llvm::make_early_inc_range(*module.getBody()))
    if (&op != func.getOperation())
      op.erase();

  // Diagnostics become the error message, locations included.
  std::string diagnostics;
  ctx->printOpOnDiagnostic(false);
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &diag) {
    llvm::raw_string_ostream os(diagnostics);
    formatDiagnostic(os, diag);
    return success();
  });
  if (failed(verify(module)))
    return llvm::createStringError("linac: verification of the input failed\n" +
                                   diagnostics);

  // GPUs without an explicit tiling try (chunk size, value tile) pairs, the
  // fastest first, until the block's buffers fit in shared memory.
  // An explicit chunk size or value tile is kept; the other one is searched.
  // The order is measured (benchmarks/gpu_variants.py on an H200, bf16,
  // K = V = 128, results in benchmarks/results/gpu/): a value tile of 32 or
  // more pays more than a longer chunk; 16-token chunks by 32 columns ran
  // 1.9x (mamba2) and 2.2x (delta rule) faster than 32 by 16.
  std::vector<std::pair<int64_t, int64_t>> tilings = {
      {options.chunkSize, options.blockV}};
  if (*kind == TargetKind::Nvptx &&
      (options.chunkSize == 0 || options.blockV == 0)) {
    tilings.clear();
    static constexpr std::pair<int64_t, int64_t> kMeasuredOrder[] = {
        {0, 64},  {0, 32},  {32, 64}, {32, 32}, {16, 32}, {0, 16},
        {32, 16}, {16, 16}, {8, 32},  {16, 8},  {8, 16},  {8, 8}};
    for (auto [chunk, blockV] : kMeasuredOrder) {
      std::pair<int64_t, int64_t> tiling = {
          options.chunkSize ? options.chunkSize : chunk,
          options.blockV ? options.blockV : blockV};
      if (!llvm::is_contained(tilings, tiling))
        tilings.push_back(tiling);
    }
  }
  KernelMetadata metadata;
  OwningOpRef<ModuleOp> compiled;
  for (size_t i = 0; i < tilings.size(); ++i) {
    CompileOptions attemptOptions = options;
    attemptOptions.chunkSize = tilings[i].first;
    attemptOptions.blockV = tilings[i].second;
    compiled = module.clone();
    StageDumps attemptDumps;
    bool last = i + 1 == tilings.size();
    llvm::Expected<StagesOutcome> outcome =
        runStages(*compiled, funcName, attemptOptions, metadata,
                  dumps ? &attemptDumps : nullptr, !last, diagnostics);
    if (!outcome)
      return outcome.takeError();
    if (*outcome == StagesOutcome::TooMuchSharedMemory)
      continue;
    options = attemptOptions;
    if (dumps)
      *dumps = std::move(attemptDumps);
    break;
  }
  module = *compiled;

  KernelArtifact artifact;
  artifact.symbol = funcName.str();
  artifact.target = options.target;
  if (*kind == TargetKind::Cpu) {
    llvm::Expected<std::string> object =
        emitCpuObject(module, funcName, options.cpu);
    if (!object)
      return object.takeError();
    artifact.object = std::move(*object);
  } else {
    llvm::Expected<std::string> ptx = extractPtx(module);
    if (!ptx)
      return ptx.takeError();
    artifact.ptx = std::move(*ptx);
    if (options.runPtxas) {
      llvm::Expected<PtxasResult> assembled =
          assemblePtx(artifact.ptx, options.target);
      if (!assembled)
        return assembled.takeError();
      artifact.cubin = std::move(assembled->cubin);
      artifact.ptxasLog = std::move(assembled->log);
    }
  }
  std::string json;
  llvm::raw_string_ostream os(json);
  os << llvm::formatv("{0:2}", metadata.toJson());
  artifact.metadata = std::move(json);
  return artifact;
}

} // namespace

/// Whether ptxas -v reported spill stores or loads.
static bool ptxasSpilled(StringRef log) {
  llvm::Regex spills("[1-9][0-9]* bytes spill (stores|loads)");
  return spills.match(log);
}

llvm::Expected<KernelArtifact> compileKernel(ModuleOp module,
                                             StringRef funcName,
                                             CompileOptions options,
                                             StageDumps *dumps) {
  // GPU kernels ask ptxas for at most 128 registers a thread, the budget of
  // 512 threads on a multiprocessor (four blocks of 128): the bf16 K = V =
  // 128 chunk kernels fit it without spilling, where left alone ptxas took
  // 128-161 (3 or 4 blocks). Where the budget spills, or without ptxas to
  // tell, they ask for one block (no cap below ptxas's 255).
  constexpr int64_t kThreadsPerMultiprocessor = 512;
  int64_t blocks = options.target == "cpu" || !options.runPtxas || !findPtxas()
                       ? 1
                       : std::max<int64_t>(1, kThreadsPerMultiprocessor /
                                                  options.gpuBlockSize);
  if (blocks == 1) {
    options.minBlocksPerMultiprocessor = 1;
    return compileKernelOnce(module, funcName, options, dumps);
  }
  OwningOpRef<ModuleOp> pristine = module.clone();
  options.minBlocksPerMultiprocessor = blocks;
  llvm::Expected<KernelArtifact> budgeted =
      compileKernelOnce(module, funcName, options, dumps);
  if (!budgeted || !ptxasSpilled(budgeted->ptxasLog))
    return budgeted;
  options.minBlocksPerMultiprocessor = 1;
  return compileKernelOnce(*pristine, funcName, options, dumps);
}

} // namespace linac
