//===- NvptxTarget.cpp - PTX out of a gpu.binary, cubin via ptxas --------===//

#include "codegen/nvptx/NvptxTarget.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

using namespace llvm;

namespace {

/// Reads and removes a temporary file.
std::string takeFile(StringRef path) {
  std::string text;
  if (auto buffer = MemoryBuffer::getFile(path, /*IsText=*/false))
    text = (*buffer)->getBuffer().str();
  sys::fs::remove(path);
  return text;
}

} // namespace

Expected<std::string> linac::extractPtx(mlir::ModuleOp module) {
  std::string ptx;
  module.walk([&](mlir::gpu::BinaryOp binary) {
    for (mlir::Attribute attr : binary.getObjects())
      if (auto object = dyn_cast<mlir::gpu::ObjectAttr>(attr))
        ptx = object.getObject().getValue().str();
  });
  if (ptx.empty())
    return createStringError("linac: the GPU pipeline produced no PTX");
  return ptx;
}

std::optional<std::string> linac::findPtxas() {
  if (const char *env = std::getenv("LINAC_PTXAS"))
    return *env ? std::optional<std::string>(env) : std::nullopt;
  if (ErrorOr<std::string> path = sys::findProgramByName("ptxas"))
    return *path;
  SmallVector<std::string> folders;
  if (const char *cuda = std::getenv("CUDA_HOME"))
    folders.push_back(std::string(cuda) + "/bin");
  folders.push_back("/usr/local/cuda/bin");
  for (const std::string &folder : folders)
    if (ErrorOr<std::string> path = sys::findProgramByName("ptxas", {folder}))
      return *path;
  return std::nullopt;
}

std::string linac::cudaToolkitPath() {
  SmallVector<std::string> candidates;
  if (const char *cuda = std::getenv("CUDA_HOME"))
    candidates.push_back(cuda);
  if (std::optional<std::string> ptxas = findPtxas())
    candidates.push_back(
        sys::path::parent_path(sys::path::parent_path(*ptxas)).str());
  candidates.push_back("/usr/local/cuda");
  for (const std::string &path : candidates) {
    SmallString<256> libdevice(path);
    sys::path::append(libdevice, "nvvm", "libdevice");
    if (!path.empty() && sys::fs::is_directory(libdevice))
      return path;
  }
  return "";
}

std::string linac::ptxasVersion() {
  static const std::string version = [] {
    std::optional<std::string> ptxas = findPtxas();
    if (!ptxas)
      return std::string("none");
    SmallString<128> out;
    if (sys::fs::createTemporaryFile("linac-ptxas-version", "txt", out))
      return std::string("unknown");
    std::optional<StringRef> redirects[] = {std::nullopt, StringRef(out),
                                            StringRef(out)};
    sys::ExecuteAndWait(*ptxas, {*ptxas, "--version"}, std::nullopt,
                        redirects, /*SecondsToWait=*/30);
    // The text must outlive the StringRefs into it.
    std::string file = takeFile(out);
    StringRef text = StringRef(file).trim();
    return text.rsplit('\n').second.empty() ? text.str()
                                            : text.rsplit('\n').second.str();
  }();
  return version;
}

Expected<linac::PtxasResult> linac::assemblePtx(const std::string &ptx,
                                                const std::string &arch) {
  std::optional<std::string> ptxas = findPtxas();
  if (!ptxas)
    return PtxasResult{"", "ptxas not found"};
  SmallString<128> input, output, log;
  int fd;
  if (sys::fs::createTemporaryFile("linac", "ptx", fd, input))
    return createStringError("linac: cannot create a temporary PTX file");
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << ptx;
  }
  if (sys::fs::createTemporaryFile("linac", "cubin", output) ||
      sys::fs::createTemporaryFile("linac", "log", log)) {
    sys::fs::remove(input);
    return createStringError("linac: cannot create temporary files for ptxas");
  }
  std::string archFlag = "-arch=" + arch;
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log),
                                          StringRef(log)};
  std::string errorMessage;
  int status = sys::ExecuteAndWait(
      *ptxas, {*ptxas, archFlag, "-v", "-o", output.str(), input.str()},
      std::nullopt, redirects, /*SecondsToWait=*/300, /*MemoryLimit=*/0,
      &errorMessage);
  sys::fs::remove(input);
  PtxasResult result{takeFile(output), takeFile(log)};
  if (status != 0)
    return createStringError("linac: ptxas " + archFlag + " failed (" +
                             (errorMessage.empty() ? "exit status " +
                                                         std::to_string(status)
                                                   : errorMessage) +
                             "):\n" + result.log);
  return result;
}
