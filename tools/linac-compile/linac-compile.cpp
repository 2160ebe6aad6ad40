//===- linac-compile.cpp - compile linac kernels ahead of time -----------===//
//
//   linac-compile <op-name | file.mlir> --target=cpu|sm_80|sm_90|sm_90a -o
//   <dir>
//       [--head-dim-k=N] [--head-dim-v=N] [--chunk-size=N]
//       [--dtype=f32|f16|bf16]
//       [--block-v=N] [--householder=N] [--qk-l2norm] [--beta-sigmoid=1|2]
//       [--dt-softplus] [--gate-sums=...] [--factored-band=auto|on|off]
//       [--tuning=FILE]
//       [--function=NAME] [--dump-ir] [--no-cache] [--list]
//
// Writes <dir>/<op>.o (cpu) or <op>.ptx and <op>.cubin (GPUs), <op>.h and
// <op>.json. Exit codes: 0 success, 1 compile error, 2 usage error.
//
//===----------------------------------------------------------------------===//

#include "TuningFile.h"

#include "codegen/CHeader.h"
#include "codegen/KernelCompiler.h"
#include "codegen/OpLibrary.h"
#include "codegen/cpu/CpuTarget.h"
#include "codegen/Registration.h"
#include "dialect/Linac.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace {

cl::OptionCategory category("linac-compile options");

cl::opt<std::string> input(cl::Positional, cl::desc("<op-name | file.mlir>"),
                           cl::cat(category));
cl::opt<std::string> target("target",
                            cl::desc("cpu, sm_80, sm_90 or sm_90a (default: cpu)"),
                            cl::init("cpu"), cl::cat(category));
cl::opt<std::string> outputDir("o", cl::desc("output folder (created)"),
                               cl::value_desc("dir"), cl::cat(category));
cl::opt<int64_t> headDimK("head-dim-k", cl::desc("K, the query/key head size"),
                          cl::init(64), cl::cat(category));
cl::opt<int64_t> headDimV("head-dim-v", cl::desc("V, the value head size"),
                          cl::init(64), cl::cat(category));
cl::opt<int64_t> chunkSize(
    "chunk-size",
    cl::desc("tokens per chunk, a power of two in [1, 256] (default: the op's)"),
    cl::init(0), cl::cat(category));
cl::opt<int64_t> blockV("block-v",
                        cl::desc("value tile width (default: the target's)"),
                        cl::init(0), cl::cat(category));
cl::opt<std::string> tensorCores(
    "tensor-cores",
    cl::desc("GPU matrix products on tensor cores (mma.sync): auto (bf16/f16 "
             "kernels use them, f32 kernels do not), none, tf32, bf16 or f16 "
             "(default: auto)"),
    cl::init("auto"), cl::cat(category));
cl::opt<std::string> gateSums(
    "gate-sums",
    cl::desc("how chunks sum their log decays: by-row (a running sum), "
             "per-element (each sum its own loop, no barrier per row on a "
             "GPU) or auto (by-row on CPUs, per-element on GPUs; default)"),
    cl::init("auto"), cl::cat(category));
cl::opt<std::string> doubleBuffer(
    "double-buffer",
    cl::desc("two buffers for each staged input, the next chunk's copied "
             "while this one computes: on, off or auto (on for GPUs, off for "
             "CPUs, whose copies are synchronous; default)"),
    cl::init("auto"), cl::cat(category));
cl::opt<std::string> elideBarriers(
    "elide-barriers",
    cl::desc("GPUs: erase the barriers between phases that access no common "
             "buffer with a write among them: on, off or auto (off until "
             "tested on a GPU; default)"),
    cl::init("auto"), cl::cat(category));
cl::opt<std::string> ldmatrix(
    "ldmatrix",
    cl::desc("GPUs: load the 16-bit fragments of tensor-core products with "
             "ldmatrix where their rows are 16-byte aligned in shared "
             "memory: on, off or auto (on; default)"),
    cl::init("auto"), cl::cat(category));
cl::opt<std::string> warpTiles(
    "warp-tiles",
    cl::desc("GPUs: each warp runs a group of up to 8 of a matrix product's "
             "16x8 mma.sync tiles together (fragments shared along the "
             "group's rows and columns, independent chains), and splits a "
             "long k chain of one or two tiles into independent "
             "accumulators: on, off or auto (off until tested on a GPU; "
             "default)"),
    cl::init("auto"), cl::cat(category));
cl::opt<std::string> warpgroupMma(
    "warpgroup-mma",
    cl::desc("sm_90a: run the matrix products with a side of 64-row "
             "multiples as warpgroup wgmma, their operands copied into "
             "shared memory in its core-matrix layout: on, off or auto "
             "(off until tested on a GPU; default)"),
    cl::init("auto"), cl::cat(category));
cl::opt<std::string> factoredBand(
    "factored-band",
    cl::desc("GLA's intra-chunk scores as one product of rescaled rows where "
             "a sub-chunk's gate sums lie within +-20 (the exact band "
             "elsewhere): on, off or auto (on for CPUs, off for GPUs; "
             "default)"),
    cl::init("auto"), cl::cat(category));
cl::opt<int64_t> blockSize("block-size",
                           cl::desc("GPU threads per block, a multiple of 32 "
                                    "in [32, 1024] (default: 128)"),
                           cl::init(128), cl::cat(category));
cl::opt<std::string> tuningFile(
    "tuning",
    cl::desc("a tuning file (benchmarks/gpu_variants.py --summarize): compile "
             "with the tiling it measured fastest for this kernel, where it "
             "has one; --chunk-size, --block-v and --block-size still win"),
    cl::init(""), cl::cat(category));
cl::opt<std::string> dtype("dtype",
                           cl::desc("element type of q, k, v and the output: "
                                    "f32, f16 or bf16 (default: f32)"),
                           cl::init("f32"), cl::cat(category));
cl::opt<std::string> decayedRows(
    "decayed-rows",
    cl::desc("the element type of decayed q and k rows: input (bf16/f16 "
             "inputs' own type: the state update runs on 16-bit tensor cores), "
             "f32 or auto (f32 until tested on a GPU; default)"),
    cl::init("auto"), cl::cat(category));
cl::opt<std::string> productOperands(
    "product-operands",
    cl::desc("the element type of the f32 operands (state, scores, the delta "
             "rule's U, W and T) of 16-bit kernels' matrix products: input "
             "(rounded to the inputs' type before each product, as "
             "flash-linear-attention does: every product on 16-bit tensor "
             "cores; implies --decayed-rows=input), f32 or auto (f32 until "
             "tested on a GPU; default)"),
    cl::init("auto"), cl::cat(category));
cl::opt<std::string> utSolve(
    "ut-solve",
    cl::desc("delta rules: the UT transform's forward substitution by rows "
             "(vectorized along each row; two GPU barriers a row) or by "
             "columns (each column a sequential solve on its own GPU thread), "
             "or auto (columns on GPUs, rows on CPUs; default)"),
    cl::init("auto"), cl::cat(category));
cl::opt<int64_t> stateCheckpoints(
    "state-checkpoints",
    cl::desc("a state pass for segmented runs: no outputs, and the state "
             "after every N chunks of each sequence (and after its last) "
             "written to final_state's rows, one per segment (default 0: the "
             "ordinary kernel)"),
    cl::init(0), cl::cat(category));
cl::opt<int64_t> householder(
    "householder",
    cl::desc("Householder steps per token of a delta rule (DeltaProduct)"),
    cl::init(0), cl::cat(category));
cl::opt<bool> qkL2Norm("qk-l2norm",
                       cl::desc("L2-normalize q and k inside the kernel"),
                       cl::cat(category));
cl::opt<float> betaSigmoid(
    "beta-sigmoid",
    cl::desc("step sizes factor * sigmoid(beta): 1, or 2 to allow negative "
             "eigenvalues (default 0: beta as given)"),
    cl::init(0.0f), cl::cat(category));
cl::opt<bool> dtSoftplus(
    "dt-softplus",
    cl::desc("state-space models: apply softplus to dt + dt_bias"),
    cl::cat(category));
cl::opt<std::string> cpuName(
    "cpu",
    cl::desc("CPU objects: the CPU to build for, an LLVM name such as "
             "x86-64 (portable), x86-64-v3 (AVX2) or x86-64-v4 (AVX-512) "
             "(default: this host)"),
    cl::cat(category));
cl::opt<std::string> functionName(
    "function", cl::desc("kernel function in a .mlir input (default: the only "
                         "function with a linac.recurrence)"),
    cl::cat(category));
cl::opt<bool> dumpIR("dump-ir",
                     cl::desc("write the IR after every stage to <dir>/ir/"),
                     cl::cat(category));
cl::opt<bool> noCache("no-cache", cl::desc("bypass the kernel cache"),
                      cl::cat(category));
cl::opt<bool> allowSequential(
    "allow-sequential",
    cl::desc("compile a step linac cannot chunk as a sequential recurrent "
             "kernel (with a warning) instead of failing"),
    cl::cat(category));
cl::opt<bool> profilePhases(
    "profile-phases",
    cl::desc("GPUs: a profiling build that counts the cycles of each phase "
             "between the kernel's barriers (read back with "
             "benchmarks/gpu_profile.py)"),
    cl::cat(category));
cl::opt<bool> list("list", cl::desc("list the built-in ops and exit"),
                   cl::cat(category));

int usageError(const Twine &message) {
  errs() << "linac-compile: " << message << "\n";
  return 2;
}

bool writeFile(const Twine &path, StringRef contents) {
  std::error_code ec;
  raw_fd_ostream os(path.str(), ec, sys::fs::OF_None);
  if (ec) {
    errs() << "linac-compile: cannot write " << path << ": " << ec.message()
           << "\n";
    return false;
  }
  os << contents;
  return true;
}

/// The kernel of a .mlir input: its only function with a linac.recurrence
/// or linac.ssm, else its only function. Parsed rather than searched as
/// text, so comments do not count; an empty name when the source does not
/// parse, and compiling it then reports the parse errors with locations.
Expected<std::string> findKernelFunction(StringRef source, StringRef file) {
  mlir::DialectRegistry registry;
  linac::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  if (!module)
    return std::string();
  SmallVector<std::string> functions, kernels;
  for (auto func : module->getOps<mlir::func::FuncOp>()) {
    functions.push_back(func.getName().str());
    if (func.walk([](mlir::Operation *op) {
              return isa<mlir::linac::RecurrenceOp, mlir::linac::SsmOp>(op)
                         ? mlir::WalkResult::interrupt()
                         : mlir::WalkResult::advance();
            })
            .wasInterrupted())
      kernels.push_back(func.getName().str());
  }
  if (kernels.size() == 1)
    return kernels.front();
  if (kernels.empty() && functions.size() == 1)
    return functions.front();
  return createStringError(
      "usage: " + file +
      " does not have exactly one function; name one with --function");
}

} // namespace

/// Takes the tiling of --tuning's file for kernel `op`, for each setting the
/// command line leaves open; says on stderr what it did.
static Error applyTuning(linac::CompileRequest &request, StringRef op) {
  if (tuningFile.empty())
    return Error::success();
  linac::TuningKey key{op.str(), request.options.target, request.options.dtype,
                       request.options.headDimK, request.options.headDimV};
  Expected<std::optional<linac::TunedTiling>> tuned =
      linac::lookupTuning(tuningFile, key);
  if (!tuned)
    return tuned.takeError();
  if (!*tuned) {
    errs() << formatv("linac-compile: {0} has no entry for {1} {2} K={3} V={4} "
                      "on {5}: default tiling\n",
                      tuningFile, op, key.dtype, key.headDimK, key.headDimV,
                      key.target);
    return Error::success();
  }
  const linac::TunedTiling &tiling = **tuned;
  SmallVector<std::string> taken, kept;
  auto take = [&](int64_t &setting, int64_t value, bool explicitly,
                  StringRef what) {
    if (explicitly) {
      kept.push_back(what.str());
      return;
    }
    setting = value;
    taken.push_back(formatv("{0} {1}", what, value).str());
  };
  take(request.options.chunkSize, tiling.chunkSize,
       request.options.chunkSize != 0, "chunk");
  take(request.options.blockV, tiling.blockV, request.options.blockV != 0,
       "value tile");
  take(request.options.gpuBlockSize, tiling.blockSize,
       blockSize.getNumOccurrences() > 0, "threads");
  if (!tiling.factoredBand.empty()) {
    if (factoredBand.getNumOccurrences() > 0) {
      kept.push_back("factored band");
    } else {
      request.options.factoredBand = tiling.factoredBand;
      taken.push_back("factored band " + tiling.factoredBand);
    }
  }
  errs() << formatv("linac-compile: from {0} (fastest measured on {1}, "
                    "{2:F3} ms): {3}",
                    tuningFile, tiling.gpu, tiling.ms,
                    taken.empty() ? "nothing" : join(taken, ", "));
  if (!kept.empty())
    errs() << "; the command line sets the " << join(kept, ", ");
  errs() << "\n";
  return Error::success();
}

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(category);
  // --version names linac and the build of its compiler, not LLVM's.
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "linac-compile: " << linac::compilerIdentity() << "\n";
  });
  std::string parseErrors;
  raw_string_ostream errorStream(parseErrors);
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "linac-compile: compiles a linac op (built-in or from a .mlir file) "
          "ahead of time.\n\nWrites <dir>/<op>.o (cpu) or <op>.ptx and "
          "<op>.cubin (GPUs; cubin when ptxas is installed), <op>.h (C "
          "declarations and, for GPUs, a launcher) and <op>.json (metadata: "
          "shapes, dtype, target, grid rule, arguments).\nExit codes: 0 "
          "success, 1 compile error, 2 usage error.\n",
          &errorStream)) {
    // Option parsers print their own message (a bad value) straight to
    // stderr; the others land in errorStream. Either way, one line.
    StringRef first = StringRef(parseErrors).trim().split('\n').first;
    if (first.empty())
      return 2;
    first.consume_front("linac-compile: ");
    return usageError(first);
  }

  if (list) {
    for (const linac::BuiltinKernel &kernel : linac::builtinKernels())
      outs() << kernel.name << "\t" << kernel.summary << "\n";
    return 0;
  }
  if (input.empty())
    return usageError("missing the op name or .mlir file (see --help)");
  if (outputDir.empty())
    return usageError("missing -o <dir>");
  if (!linac::parseTarget(target)) {
    consumeError(linac::parseTarget(target).takeError());
    return usageError("unknown target '" + target +
                      "' (expected cpu, sm_80, sm_90 or sm_90a)");
  }
  if (dtype != "f32" && dtype != "f16" && dtype != "bf16")
    return usageError("unknown dtype '" + dtype +
                      "' (expected f32, f16 or bf16)");
  if (headDimK < 1 || headDimK > 1024 || headDimV < 1 || headDimV > 1024)
    return usageError("head dimensions must be in [1, 1024], got K=" +
                      Twine(headDimK) + " V=" + Twine(headDimV));
  if (chunkSize != 0 &&
      (chunkSize < 1 || chunkSize > 256 || !isPowerOf2_64(chunkSize)))
    return usageError("chunk size must be a power of two in [1, 256], got " +
                      Twine(chunkSize));
  if (tensorCores != "auto" && tensorCores != "none" && tensorCores != "tf32" &&
      tensorCores != "bf16" && tensorCores != "f16")
    return usageError("unknown tensor-cores '" + tensorCores +
                      "' (expected auto, none, tf32, bf16 or f16)");
  if (Error error = linac::checkGateSums(gateSums))
    return usageError(toString(std::move(error)));
  if (Error error = linac::checkFactoredBand(factoredBand))
    return usageError(toString(std::move(error)));
  if (Error error = linac::checkDoubleBuffer(doubleBuffer))
    return usageError(toString(std::move(error)));
  if (Error error = linac::checkElideBarriers(elideBarriers))
    return usageError(toString(std::move(error)));
  if (Error error = linac::checkLdmatrix(ldmatrix))
    return usageError(toString(std::move(error)));
  if (Error error = linac::checkWarpTiles(warpTiles))
    return usageError(toString(std::move(error)));
  if (Error error = linac::checkWarpgroupMma(warpgroupMma, target))
    return usageError(toString(std::move(error)));
  if (Error error = linac::checkDecayedRows(decayedRows))
    return usageError(toString(std::move(error)));
  if (Error error = linac::checkProductOperands(productOperands))
    return usageError(toString(std::move(error)));
  if (Error error = linac::checkUTSolve(utSolve))
    return usageError(toString(std::move(error)));
  if (Error error = linac::checkStateCheckpoints(stateCheckpoints))
    return usageError(toString(std::move(error)));
  if (blockSize < 32 || blockSize > 1024 || blockSize % 32 != 0)
    return usageError("block-size must be a multiple of 32 in [32, 1024], got " +
                      Twine(blockSize));
  if (blockV < 0)
    return usageError("block-v must be positive, got " + Twine(blockV));
  if (profilePhases && target == "cpu")
    return usageError("--profile-phases counts GPU cycles; give a GPU --target "
                      "(sm_80, sm_90 or sm_90a)");
  if (!linac::isKnownCpu(cpuName))
    return usageError("unknown CPU '" + cpuName +
                      "' (e.g. native, x86-64, x86-64-v3, x86-64-v4)");
  if (householder < 0 || householder > 16)
    return usageError("householder must be in [1, 16], got " +
                      Twine(householder));
  if (betaSigmoid != 0.0f && betaSigmoid != 1.0f && betaSigmoid != 2.0f)
    return usageError("beta-sigmoid must be 1 or 2, got " +
                      Twine(std::to_string(betaSigmoid)));

  linac::CompileRequest request;
  request.options.target = target;
  request.options.headDimK = headDimK;
  request.options.headDimV = headDimV;
  request.options.chunkSize = chunkSize;
  request.options.blockV = blockV;
  request.options.dtype = dtype;
  request.options.householder = householder;
  request.options.stateCheckpoints = stateCheckpoints;
  request.options.decayedRows = decayedRows;
  request.options.productOperands = productOperands;
  request.options.utSolve = utSolve;
  request.options.qkL2Norm = qkL2Norm;
  request.options.betaSigmoid = betaSigmoid;
  request.options.allowSequential = allowSequential;
  request.options.dtSoftplus = dtSoftplus;
  request.options.cpu = cpuName;
  request.options.tensorCores = tensorCores;
  request.options.gateSums = gateSums;
  request.options.factoredBand = factoredBand;
  request.options.doubleBuffer = doubleBuffer;
  request.options.elideBarriers = elideBarriers;
  request.options.ldmatrix = ldmatrix;
  request.options.warpTiles = warpTiles;
  request.options.warpgroupMma = warpgroupMma;
  request.options.gpuBlockSize = blockSize;
  request.options.profilePhases = profilePhases;
  request.useCache = !noCache;
  request.keepStages = dumpIR;

  // A tuned tiling that no longer fits in shared memory (a compiler change
  // since the sweep grew a kernel's buffers) gives way to the default search.
  auto compileTuned = [&](auto compileWith) -> Expected<linac::CompileResult> {
    linac::CompileRequest untuned = request;
    if (Error error = applyTuning(request, request.funcName.empty()
                                               ? StringRef(input)
                                               : StringRef(request.funcName)))
      return std::move(error);
    Expected<linac::CompileResult> compiled = compileWith(request);
    if (compiled || tuningFile.empty())
      return compiled;
    std::string message = toString(compiled.takeError());
    if (StringRef(message).contains("bytes of shared memory per block") &&
        (untuned.options.chunkSize != request.options.chunkSize ||
         untuned.options.blockV != request.options.blockV)) {
      errs() << "linac-compile: the tuned tiling needs too much shared memory "
                "with this compiler; default tiling\n";
      request = untuned;
      return compileWith(request);
    }
    return createStringError(message);
  };
  Expected<linac::CompileResult> result = [&]() -> Expected<linac::CompileResult> {
    if (!StringRef(input).ends_with(".mlir")) {
      if (!linac::findBuiltinKernel(input))
        return createStringError("usage: unknown op '" + input +
                                 "' (run linac-compile --list)");
      return compileTuned([&](const linac::CompileRequest &r) {
        return linac::compileBuiltin(input, r);
      });
    }
    ErrorOr<std::unique_ptr<MemoryBuffer>> file = MemoryBuffer::getFile(input);
    if (!file)
      return createStringError("usage: cannot read " + input + ": " +
                               file.getError().message());
    request.source = (*file)->getBuffer().str();
    request.sourceName = input;
    request.funcName = functionName;
    if (functionName.empty()) {
      Expected<std::string> kernel = findKernelFunction(request.source, input);
      if (!kernel)
        return kernel.takeError();
      request.funcName = std::move(*kernel);
    }
    return compileTuned(
        [&](const linac::CompileRequest &r) { return linac::compile(r); });
  }();
  if (!result) {
    std::string message = toString(result.takeError());
    StringRef text(message);
    if (text.consume_front("usage: "))
      return usageError(text);
    errs() << message << (text.ends_with("\n") ? "" : "\n");
    return 1;
  }
  for (const std::string &warning : result->warnings)
    errs() << warning << "\n";

  const linac::KernelArtifact &artifact = result->artifact;
  if (std::error_code ec = sys::fs::create_directories(outputDir)) {
    errs() << "linac-compile: cannot create " << outputDir << ": "
           << ec.message() << "\n";
    return 1;
  }
  SmallString<256> base(outputDir);
  sys::path::append(base, artifact.symbol);
  Expected<std::string> header = linac::emitCHeader(artifact);
  if (!header) {
    errs() << "linac-compile: " << toString(header.takeError()) << "\n";
    return 1;
  }
  bool ok = writeFile(base + ".json", artifact.metadata + "\n") &&
            writeFile(base + ".h", *header);
  if (artifact.target == "cpu") {
    ok = ok && writeFile(base + ".o", artifact.object);
  } else {
    ok = ok && writeFile(base + ".ptx", artifact.ptx);
    if (!artifact.cubin.empty())
      ok = ok && writeFile(base + ".cubin", artifact.cubin);
    if (!artifact.ptxasLog.empty())
      ok = ok && writeFile(base + ".ptxas.log", artifact.ptxasLog);
  }
  for (const auto &[index, stage] : llvm::enumerate(result->stages)) {
    SmallString<256> dir(outputDir);
    sys::path::append(dir, "ir");
    sys::fs::create_directories(dir);
    sys::path::append(dir, formatv("{0}.{1}.{2}.mlir", artifact.symbol, index,
                                   stage.first)
                               .str());
    ok = ok && writeFile(dir, stage.second);
  }
  if (!ok)
    return 1;
  outs() << "linac-compile: wrote " << base << ".{json,h,"
         << (artifact.target == "cpu"
                 ? "o"
                 : artifact.cubin.empty() ? "ptx" : "ptx,cubin")
         << "}" << (result->fromCache ? " (from the kernel cache)" : "")
         << (artifact.target != "cpu" && artifact.cubin.empty()
                 ? " (ptxas not found: no cubin)"
                 : "")
         << "\n";
  return 0;
}
