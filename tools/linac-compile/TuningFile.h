//===- TuningFile.h - measured tilings for linac-compile --tuning ---------===//
//
// A tuning file records, per kernel (op, dtype, head sizes, target), the
// fastest tiling a sweep measured on a GPU: benchmarks/gpu_variants.py
// --summarize writes one from the device check's variants. linac-compile
// --tuning=FILE compiles with that tiling where the file has an entry.
//
//   {"format": "linac-tuning-1", "gpu": "NVIDIA H200",
//    "kernels": [{"op": "chunk_simple_gla", "target": "sm_90",
//                 "dtype": "bf16", "head_dim_k": 128, "head_dim_v": 128,
//                 "chunk_size": 16, "block_v": 64, "block_size": 256,
//                 "ms": 11.24}]}
//
// An entry may also name "factored_band" ("on" or "off", linac-compile
// --factored-band) when the sweep measured the kernel with it.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_TOOLS_LINAC_COMPILE_TUNINGFILE_H
#define LINAC_TOOLS_LINAC_COMPILE_TUNINGFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace linac {

/// One kernel's measured tiling.
struct TunedTiling {
  int64_t chunkSize = 0;
  int64_t blockV = 0;
  int64_t blockSize = 0;
  /// "on", "off", or empty when the entry does not say.
  std::string factoredBand;
  double ms = 0;   // its measured time, for the message
  std::string gpu; // where it was measured
};

/// The kernel the tiling is looked up for.
struct TuningKey {
  std::string op, target, dtype;
  int64_t headDimK = 0, headDimV = 0;
};

/// The entry of `path` for `key`, std::nullopt when the file has none, or an
/// error naming the file and what is wrong with it.
llvm::Expected<std::optional<TunedTiling>> lookupTuning(llvm::StringRef path,
                                                        const TuningKey &key);

} // namespace linac

#endif // LINAC_TOOLS_LINAC_COMPILE_TUNINGFILE_H
