//===- TuningFile.cpp - measured tilings for linac-compile --tuning -------===//

#include "TuningFile.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace llvm;

namespace linac {

namespace {

constexpr StringLiteral kFormat = "linac-tuning-1";

Error invalid(StringRef path, const Twine &what) {
  return createStringError("usage: tuning file " + path + ": " + what);
}

} // namespace

Expected<std::optional<TunedTiling>> lookupTuning(StringRef path,
                                                  const TuningKey &key) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> file = MemoryBuffer::getFile(path);
  if (!file)
    return invalid(path, "cannot read it: " + file.getError().message());
  Expected<json::Value> parsed = json::parse((*file)->getBuffer());
  if (!parsed)
    return invalid(path, "not JSON: " + toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root || root->getString("format") != kFormat)
    return invalid(path, "expected an object with \"format\": \"" + kFormat +
                             "\" (benchmarks/gpu_variants.py --summarize "
                             "writes one)");
  const json::Array *kernels = root->getArray("kernels");
  if (!kernels)
    return invalid(path, "no \"kernels\" list");
  for (const auto &[index, value] : llvm::enumerate(*kernels)) {
    const json::Object *entry = value.getAsObject();
    auto text = [&](StringRef field) {
      return entry ? entry->getString(field).value_or("") : StringRef();
    };
    auto number = [&](StringRef field) {
      return entry ? entry->getInteger(field).value_or(0) : 0;
    };
    if (!entry || text("op").empty() || text("target").empty() ||
        text("dtype").empty() || number("head_dim_k") <= 0 ||
        number("head_dim_v") <= 0)
      return invalid(path, "kernels[" + Twine(index) +
                               "] needs op, target, dtype, head_dim_k and "
                               "head_dim_v");
    if (text("op") != key.op || text("target") != key.target ||
        text("dtype") != key.dtype || number("head_dim_k") != key.headDimK ||
        number("head_dim_v") != key.headDimV)
      continue;
    TunedTiling tiling;
    tiling.chunkSize = number("chunk_size");
    tiling.blockV = number("block_v");
    tiling.blockSize = number("block_size");
    tiling.factoredBand = text("factored_band").str();
    tiling.ms = entry->getNumber("ms").value_or(0);
    tiling.gpu = root->getString("gpu").value_or("a GPU").str();
    if (tiling.chunkSize <= 0 || tiling.blockV <= 0 || tiling.blockSize <= 0)
      return invalid(path, "kernels[" + Twine(index) +
                               "] needs positive chunk_size, block_v and "
                               "block_size");
    if (!tiling.factoredBand.empty() && tiling.factoredBand != "on" &&
        tiling.factoredBand != "off")
      return invalid(path, "kernels[" + Twine(index) + "] has factored_band '" +
                               tiling.factoredBand + "' (expected on or off)");
    return tiling;
  }
  return std::nullopt;
}

} // namespace linac
