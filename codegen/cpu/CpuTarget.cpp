//===- CpuTarget.cpp - LLVM dialect to a host object file ----------------===//

#include "codegen/cpu/CpuTarget.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <mutex>

using namespace llvm;

namespace {

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
  });
}

/// The host CPU, or the named one (features from its name) for objects that
/// must run on other machines.
Expected<std::unique_ptr<TargetMachine>> createTargetMachine(StringRef cpu) {
  initializeNativeTarget();
  Expected<orc::JITTargetMachineBuilder> builder =
      orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  if (!cpu.empty() && cpu != "native") {
    std::string error;
    const Target *target =
        TargetRegistry::lookupTarget(builder->getTargetTriple(), error);
    if (!target)
      return createStringError(error);
    std::unique_ptr<MCSubtargetInfo> info(target->createMCSubtargetInfo(
        builder->getTargetTriple(), "", ""));
    if (!info || !info->isCPUStringValid(cpu))
      return createStringError("linac: unknown CPU '" + cpu.str() +
                               "' (e.g. native, x86-64, x86-64-v3, "
                               "x86-64-v4)");
    builder->setCPU(cpu.str());
    builder->getFeatures() = SubtargetFeatures();
  }
  builder->setCodeGenOptLevel(CodeGenOptLevel::Aggressive);
  builder->setRelocationModel(Reloc::PIC_);
  return builder->createTargetMachine();
}

/// void <name>_packed(void **args): args[i] points at argument i of
/// _mlir_ciface_<name> (a descriptor pointer for buffers, the value of a
/// scalar). One entry point with one signature for every kernel.
Error addPackedEntry(Module &module, StringRef funcName) {
  Function *target = module.getFunction(("_mlir_ciface_" + funcName).str());
  if (!target)
    return createStringError("no C interface _mlir_ciface_" + funcName.str() +
                             " in the lowered module");
  LLVMContext &ctx = module.getContext();
  auto *ptrType = PointerType::getUnqual(ctx);
  auto *fnType = FunctionType::get(Type::getVoidTy(ctx), {ptrType}, false);
  Function *packed = Function::Create(fnType, GlobalValue::ExternalLinkage,
                                      (funcName + "_packed").str(), module);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", packed));
  SmallVector<Value *> callArgs;
  Value *args = packed->getArg(0);
  for (auto [i, param] : enumerate(target->args())) {
    Value *slot = b.CreateConstGEP1_64(ptrType, args, i);
    Value *argPtr = b.CreateLoad(ptrType, slot);
    callArgs.push_back(param.getType()->isPointerTy()
                           ? argPtr
                           : b.CreateLoad(param.getType(), argPtr));
  }
  b.CreateCall(target, callArgs);
  b.CreateRetVoid();
  return Error::success();
}

/// The subtarget of CPU `cpu` ("": the generic one) of the host's
/// architecture, or null when LLVM has no target for it.
std::unique_ptr<MCSubtargetInfo> hostArchSubtarget(StringRef cpu) {
  initializeNativeTarget();
  std::string error, triple = sys::getDefaultTargetTriple();
  const Target *target = TargetRegistry::lookupTarget(Triple(triple), error);
  if (!target)
    return nullptr;
  return std::unique_ptr<MCSubtargetInfo>(
      target->createMCSubtargetInfo(Triple(triple), cpu, ""));
}

} // namespace

std::string linac::hostCpuDescription() {
  std::string text = sys::getHostCPUName().str();
  for (const auto &feature : sys::getHostCPUFeatures())
    if (feature.second)
      text += "," + feature.first().str();
  return text;
}

int64_t linac::cpuVectorBits(StringRef cpu) {
  auto bitsOf = [](auto has) -> int64_t {
    return has("avx512f") ? 512 : has("avx") ? 256 : 128;
  };
  if (cpu.empty() || cpu == "native") {
    StringMap<bool> features = sys::getHostCPUFeatures();
    return bitsOf([&](StringRef name) { return features.lookup(name); });
  }
  std::unique_ptr<MCSubtargetInfo> info = hostArchSubtarget(cpu);
  return bitsOf([&](StringRef name) {
    return info && info->checkFeatures(("+" + name).str());
  });
}

bool linac::isKnownCpu(StringRef cpu) {
  if (cpu.empty() || cpu == "native")
    return true;
  std::unique_ptr<MCSubtargetInfo> info = hostArchSubtarget("");
  return info && info->isCPUStringValid(cpu);
}

Expected<std::string> linac::emitCpuObject(mlir::ModuleOp module,
                                           StringRef funcName, StringRef cpu) {
  Expected<std::unique_ptr<TargetMachine>> machine = createTargetMachine(cpu);
  if (!machine)
    return machine.takeError();
  LLVMContext ctx;
  std::unique_ptr<Module> llvmModule = mlir::translateModuleToLLVMIR(module, ctx);
  if (!llvmModule)
    return createStringError("linac: translation to LLVM IR failed");
  llvmModule->setDataLayout((*machine)->createDataLayout());
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  if (Error error = addPackedEntry(*llvmModule, funcName))
    return std::move(error);
  // Use the widest vectors the host has (LLVM prefers 256 bits on AVX-512
  // parts by default, to spare clock speed; these loops are FMA-bound).
  for (Function &function : *llvmModule)
    if (!function.isDeclaration())
      function.addFnAttr("prefer-vector-width", "512");
  auto optimize = mlir::makeOptimizingTransformer(3, 0, machine->get());
  if (Error error = optimize(llvmModule.get()))
    return std::move(error);

  SmallString<0> buffer;
  raw_svector_ostream os(buffer);
  legacy::PassManager pm;
  if ((*machine)->addPassesToEmitFile(pm, os, nullptr,
                                      CodeGenFileType::ObjectFile))
    return createStringError("linac: the host target cannot emit objects");
  pm.run(*llvmModule);
  return std::string(buffer.str());
}
