//===- OpLibrary.cpp - the built-in ops ----------------------------------===//

#include "codegen/OpLibrary.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Parser/Parser.h"

using namespace mlir;

namespace {

struct EmbeddedFile {
  const char *name;
  const char *text;
};

const EmbeddedFile kFiles[] = {
#include "lib/ops/OpLibrarySources.inc"
};

} // namespace

namespace linac {

const std::vector<BuiltinKernel> &builtinKernels() {
  using mlir::linac::ExecutionMode;
  static const std::vector<BuiltinKernel> kernels = {
      {"chunk_linear_attn", "linear_attn", "linear_attn", ExecutionMode::chunk, false,
       "linear attention, chunk-parallel"},
      {"chunk_linear_attn_normalized", "linear_attn", "linear_attn", ExecutionMode::chunk, true,
       "normalized linear attention, chunk-parallel"},
      {"fused_recurrent_linear_attn", "linear_attn", "linear_attn", ExecutionMode::recurrent, false,
       "linear attention, one token at a time"},
      {"fused_recurrent_linear_attn_normalized", "linear_attn", "linear_attn", ExecutionMode::recurrent, true,
       "normalized linear attention, one token at a time"},
      {"noncausal_linear_attn", "linear_attn", "linear_attn", ExecutionMode::noncausal, false,
       "non-causal linear attention (every query reads the whole sequence)"},
      {"noncausal_linear_attn_normalized", "linear_attn", "linear_attn", ExecutionMode::noncausal, true,
       "non-causal normalized linear attention (LinFusion)"},
      {"chunk_retention", "simple_gla", "simple_gla", ExecutionMode::chunk, false,
       "retention: simple GLA with g = log(1 - 2^(-5-h)) broadcast over B, T"},
      {"fused_recurrent_retention", "simple_gla", "simple_gla", ExecutionMode::recurrent, false,
       "retention, one token at a time"},
      {"chunk_simple_gla", "simple_gla", "simple_gla", ExecutionMode::chunk, false,
       "scalar data-dependent decay, chunk-parallel"},
      {"fused_recurrent_simple_gla", "simple_gla", "simple_gla", ExecutionMode::recurrent, false,
       "scalar data-dependent decay, one token at a time"},
      {"chunk_gla", "gla", "gla", ExecutionMode::chunk, false,
       "decay per key channel (GLA, HGRN-2), chunk-parallel"},
      {"fused_recurrent_gla", "gla", "gla", ExecutionMode::recurrent, false,
       "decay per key channel, one token at a time"},
      {"chunk_delta_rule", "delta_rule", "delta_rule", ExecutionMode::chunk, false,
       "DeltaNet, chunk-parallel (UT transform)"},
      {"fused_recurrent_delta_rule", "delta_rule", "delta_rule", ExecutionMode::recurrent, false,
       "DeltaNet, one token at a time"},
      {"chunk_gated_delta_rule", "gated_delta_rule", "gated_delta_rule", ExecutionMode::chunk, false,
       "Gated DeltaNet, chunk-parallel"},
      {"fused_recurrent_gated_delta_rule", "gated_delta_rule", "gated_delta_rule", ExecutionMode::recurrent, false,
       "Gated DeltaNet, one token at a time"},
      {"chunk_gated_delta_product", "gated_delta_rule", "gated_delta_rule", ExecutionMode::chunk, false,
       "Gated DeltaProduct (--householder=n steps per token), chunk-parallel"},
      {"chunk_delta_product", "delta_rule", "delta_rule", ExecutionMode::chunk, false,
       "DeltaProduct without decay (--householder=n), chunk-parallel"},
      {"chunk_mamba2", "mamba2", "mamba2", ExecutionMode::chunk, false,
       "Mamba-2 (SSD), chunk-parallel, fused dt transform and D"},
      {"chunk_mamba2_gated", "mamba2", "mamba2_gated", ExecutionMode::chunk, false,
       "Mamba-2 (SSD) with the silu(z) gate, chunk-parallel"},
      {"fused_recurrent_mamba2", "mamba2", "mamba2", ExecutionMode::recurrent, false,
       "Mamba-2, one token at a time"},
      {"fused_recurrent_mamba2_gated", "mamba2", "mamba2_gated", ExecutionMode::recurrent, false,
       "Mamba-2 with the gate, one token at a time"},
      {"selective_scan", "selective_scan", "selective_scan", ExecutionMode::chunk, false,
       "Mamba-1 selective scan (chunked associative scan)"},
      {"selective_scan_gated", "selective_scan", "selective_scan_gated", ExecutionMode::chunk, false,
       "Mamba-1 selective scan with the silu(z) gate"},
  };
  return kernels;
}

const BuiltinKernel *findBuiltinKernel(llvm::StringRef name) {
  for (const BuiltinKernel &kernel : builtinKernels())
    if (name == kernel.name)
      return &kernel;
  return nullptr;
}

llvm::Expected<std::string> familySource(llvm::StringRef family) {
  std::string file = (family + ".mlir").str();
  for (const EmbeddedFile &embedded : kFiles)
    if (file == embedded.name)
      return std::string(embedded.text);
  return llvm::createStringError("no lib/ops/" + file + " in this build");
}

llvm::Expected<std::string> kernelSource(const BuiltinKernel &kernel,
                                         MLIRContext &context) {
  llvm::Expected<std::string> text = familySource(kernel.family);
  if (!text)
    return text.takeError();
  ParserConfig config(&context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(
      *text, config, std::string("lib/ops/") + kernel.family + ".mlir");
  if (!module)
    return llvm::createStringError(std::string("cannot parse lib/ops/") +
                                   kernel.family + ".mlir");
  auto func = module->lookupSymbol<func::FuncOp>(kernel.function);
  if (!func)
    return llvm::createStringError(std::string("lib/ops/") + kernel.family +
                                   ".mlir has no @" + kernel.function);
  func.setName(kernel.name);
  for (Operation &op : llvm::make_early_inc_range(*module->getBody()))
    if (&op != func.getOperation())
      op.erase();
  func.walk([&](mlir::linac::RecurrenceOp op) {
    op.setMode(kernel.mode);
    if (kernel.normalize)
      op.setNormalize(true);
  });
  func.walk([&](mlir::linac::SsmOp op) { op.setMode(kernel.mode); });
  // With locations, diagnostics point at lib/ops/<family>.mlir's lines.
  std::string out;
  llvm::raw_string_ostream os(out);
  module->print(os, OpPrintingFlags().enableDebugInfo());
  return out;
}

} // namespace linac
