//===- KernelMetadata.cpp - what a launcher needs to know ----------------===//

#include "codegen/KernelMetadata.h"

#include "dialect/Linac.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace {

std::string typeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isInteger(64))
    return "i64";
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

/// Which operand of the kernel's linac op each function argument is.
class ArgumentRoles {
public:
  explicit ArgumentRoles(StringRef opName) : opName(opName) {}
  void add(Value value, StringRef name) {
    if (value)
      names[value] = name;
  }
  /// The role of `arg`; an error naming it when it is no operand of the op.
  llvm::Expected<std::string> of(BlockArgument arg, func::FuncOp func) const {
    auto it = names.find(arg);
    if (it == names.end())
      return llvm::createStringError(
          "argument #" + std::to_string(arg.getArgNumber()) + " of @" +
          func.getName().str() + " is not an operand of its " + opName.str());
    return it->second.str();
  }

private:
  StringRef opName;
  llvm::DenseMap<Value, StringRef> names;
};

/// A buffer's shape: its static sizes as numbers, its dynamic ones by the
/// names given (in order).
llvm::json::Array namedShape(MemRefType type,
                             const std::vector<const char *> &names) {
  llvm::json::Array shape;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!type.isDynamicDim(d))
      shape.push_back(type.getDimSize(d));
    else
      shape.push_back(d < (int64_t)names.size() ? names[d] : "?");
  }
  return shape;
}

/// Symbolic names of each buffer's dimensions (numbers where static).
llvm::json::Array shapeOf(StringRef name, MemRefType type) {
  static const llvm::StringMap<std::vector<const char *>> kNames = {
      {"q", {"B", "T", "H", "K"}},
      {"k", {"B", "T", "H", "K"}},
      {"v", {"B", "T", "H", "V"}},
      {"output", {"B", "T", "H", "V"}},
      {"beta", {"B", "T", "H"}},
      {"initial_state", {"N", "H", "K", "V"}},
      {"final_state", {"N", "H", "K", "V"}},
      {"cu_seqlens", {"N+1"}},
  };
  std::vector<const char *> names;
  if (name == "g")
    names = type.getRank() == 3 ? std::vector<const char *>{"B", "T", "H"}
                                : std::vector<const char *>{"B", "T", "H", "K"};
  else
    names = kNames.lookup(name);
  return namedShape(type, names);
}

/// The same for a state-space model's buffers: P is the head size, d_state
/// the state size, G the groups of B and C.
llvm::json::Array ssmShapeOf(StringRef name, MemRefType type) {
  static const llvm::StringMap<std::vector<const char *>> kNames = {
      {"x", {"B", "T", "H", "P"}},
      {"z", {"B", "T", "H", "P"}},
      {"output", {"B", "T", "H", "P"}},
      {"dt", {"B", "T", "H"}},
      {"A", {"H", "d_state"}},
      {"B", {"B", "T", "G", "d_state"}},
      {"C", {"B", "T", "G", "d_state"}},
      {"D", {"H", "P"}},
      {"dt_bias", {"H"}},
      {"initial_state", {"N", "H", "d_state", "P"}},
      {"final_state", {"N", "H", "d_state", "P"}},
      {"cu_seqlens", {"N+1"}},
  };
  return namedShape(type, kNames.lookup(name));
}

} // namespace

namespace linac {

llvm::json::Value KernelMetadata::toJson() const {
  llvm::json::Array argList;
  for (const KernelArgInfo &arg : args) {
    llvm::json::Object entry{{"name", arg.name},
                             {"kind", arg.isBuffer ? "buffer" : "f32"}};
    if (arg.isBuffer) {
      entry["rank"] = arg.rank;
      entry["dtype"] = arg.dtype;
      entry["shape"] = llvm::json::Array(arg.shape);
    }
    argList.push_back(std::move(entry));
  }
  llvm::json::Object object{
      {"linac_version", LINAC_VERSION_STRING},
      {"op", op},
      {"symbol", op},
      {"target", target},
      {"mode", mode},
      {"form", form},
      {"normalize", normalize},
      {"dtype", dtype},
      {"head_dim_k", headDimK},
      {"head_dim_v", headDimV},
      {"chunk_size", chunkSize},
      {"block_v", blockV},
      {"args", std::move(argList)},
      {"householder", householder},
      {"qk_l2norm", qkL2Norm},
      {"beta_sigmoid", betaSigmoid},
      {"dt_softplus", dtSoftplus},
  };
  if (stateCheckpoints > 0) {
    // final_state's rows are the sequences' segments; output is not written.
    object["state_checkpoints"] = stateCheckpoints;
    object["segment_tokens"] = segmentTokens;
    for (llvm::json::Value &arg : *object.getArray("args")) {
      llvm::json::Object *entry = arg.getAsObject();
      if (entry->getString("name") == "final_state")
        (*entry->getArray("shape"))[0] = "segments";
    }
  }
  if (!sequentialReason.empty())
    object["sequential_reason"] = sequentialReason;
  if (!profilePhases.empty())
    object["profile"] = llvm::json::Object{
        {"symbol", (mlir::linac::kProfileGlobalPrefix + op).str()},
        {"counters", "int64 [phases, 2]: cycles, visits (summed over blocks)"},
        {"phases", llvm::json::Array(profilePhases)}};
  int64_t valueTiles = (headDimV + blockV - 1) / blockV;
  if (target == "cpu") {
    object["entry"] = llvm::json::Object{
        {"packed", op + "_packed"}, {"c_interface", "_mlir_ciface_" + op}};
  } else {
    object["entry"] = llvm::json::Object{{"kernel", op}};
    object["grid"] = llvm::json::Object{
        {"x", valueTiles},
        {"y", "H"},
        {"z", "N (= len(cu_seqlens) - 1 when cu_seqlens is not empty, else B)"},
        {"block", llvm::json::Array{gpuBlockSize, 1, 1}},
        {"dynamic_shared_bytes", dynamicSharedBytes}};
  }
  return llvm::json::Value(std::move(object));
}

/// An SSM's arguments, mode and sizes (N is K, P is V).
llvm::Expected<KernelMetadata> describeSsm(func::FuncOp func,
                                           mlir::linac::SsmOp ssm,
                                           const CompileOptions &options) {
  ArgumentRoles roles("linac.ssm");
  roles.add(ssm.getX(), "x");
  roles.add(ssm.getDt(), "dt");
  roles.add(ssm.getA(), "A");
  roles.add(ssm.getB(), "B");
  roles.add(ssm.getC(), "C");
  roles.add(ssm.getD(), "D");
  roles.add(ssm.getZ(), "z");
  roles.add(ssm.getDtBias(), "dt_bias");
  roles.add(ssm.getInitialState(), "initial_state");
  roles.add(ssm.getOutput(), "output");
  roles.add(ssm.getFinalState(), "final_state");
  roles.add(ssm.getCuSeqlens(), "cu_seqlens");
  KernelMetadata meta;
  meta.op = func.getName().str();
  meta.target = options.target;
  meta.mode = mlir::linac::stringifyExecutionMode(ssm.getMode()).str();
  meta.form = ssm.isSelectiveScan() ? "selective_scan" : "ssd";
  meta.dtSoftplus = ssm.getDtSoftplus();
  meta.dtype = typeName(cast<MemRefType>(ssm.getX().getType()).getElementType());
  meta.headDimK = cast<MemRefType>(ssm.getB().getType()).getDimSize(3);
  meta.headDimV = cast<MemRefType>(ssm.getX().getType()).getDimSize(3);
  meta.chunkSize = ssm.getMode() == mlir::linac::ExecutionMode::recurrent
                       ? 1
                       : ssm.getChunkSize();
  meta.gpuBlockSize = options.gpuBlockSize;
  for (BlockArgument arg : func.getArguments()) {
    llvm::Expected<std::string> name = roles.of(arg, func);
    if (!name)
      return name.takeError();
    KernelArgInfo info;
    info.name = *name;
    auto type = cast<MemRefType>(arg.getType());
    info.rank = type.getRank();
    info.dtype = typeName(type.getElementType());
    info.shape = ssmShapeOf(info.name, type);
    meta.args.push_back(std::move(info));
  }
  return meta;
}

llvm::Expected<KernelMetadata> describeKernel(func::FuncOp func,
                                              const CompileOptions &options) {
  mlir::linac::RecurrenceOp recurrence;
  mlir::linac::SsmOp ssm;
  func.walk([&](mlir::linac::RecurrenceOp op) { recurrence = op; });
  func.walk([&](mlir::linac::SsmOp op) { ssm = op; });
  if (ssm)
    return describeSsm(func, ssm, options);
  if (!recurrence)
    return llvm::createStringError("function @" + func.getName().str() +
                                   " has no linac.recurrence or linac.ssm");
  ArgumentRoles roles("linac.recurrence");
  roles.add(recurrence.getQ(), "q");
  roles.add(recurrence.getK(), "k");
  roles.add(recurrence.getV(), "v");
  roles.add(recurrence.getG(), "g");
  roles.add(recurrence.getBeta(), "beta");
  roles.add(recurrence.getInitialState(), "initial_state");
  roles.add(recurrence.getOutput(), "output");
  roles.add(recurrence.getFinalState(), "final_state");
  roles.add(recurrence.getCuSeqlens(), "cu_seqlens");
  roles.add(recurrence.getScale(), "scale");

  KernelMetadata meta;
  meta.op = func.getName().str();
  meta.target = options.target;
  meta.mode = mlir::linac::stringifyExecutionMode(recurrence.getMode()).str();
  meta.normalize = recurrence.getNormalize();
  meta.dtype = typeName(
      cast<MemRefType>(recurrence.getQ().getType()).getElementType());
  meta.headDimK = recurrence.getHeadDimK();
  meta.headDimV = recurrence.getHeadDimV();
  meta.chunkSize = recurrence.getMode() == mlir::linac::ExecutionMode::recurrent
                       ? 1
                       : recurrence.getChunkSize();
  meta.householder = recurrence.getHouseholder();
  meta.qkL2Norm = recurrence.getQkL2norm();
  if (auto factor = recurrence.getBetaSigmoidAttr())
    meta.betaSigmoid = factor.getValueAsDouble();
  meta.blockV = options.blockV > 0 ? options.blockV : meta.headDimV;
  meta.gpuBlockSize = options.gpuBlockSize;
  for (BlockArgument arg : func.getArguments()) {
    llvm::Expected<std::string> name = roles.of(arg, func);
    if (!name)
      return name.takeError();
    KernelArgInfo info;
    info.name = *name;
    if (auto type = dyn_cast<MemRefType>(arg.getType())) {
      info.rank = type.getRank();
      info.dtype = typeName(type.getElementType());
      info.shape = shapeOf(info.name, type);
      // DeltaProduct: k, v and beta hold householder sub-steps per token.
      bool substeps = info.name == "k" || info.name == "v" || info.name == "beta";
      if (substeps && meta.householder > 1 && type.isDynamicDim(1))
        info.shape[1] = "T*" + std::to_string(meta.householder);
    } else {
      info.isBuffer = false;
    }
    meta.args.push_back(std::move(info));
  }
  return meta;
}

} // namespace linac
