//===- ReplayMain.cpp - run linac-fuzz's target on files, without libFuzzer
//===//
//
// linac-fuzz-replay FILE...: feeds each file to LLVMFuzzerTestOneInput, as
// libFuzzer replays a crasher, in any build (no clang, no instrumentation).
// The lit suite runs it on the regression corpus test/fuzz/corpus, so every
// input that once crashed keeps being checked; under the sanitizer build
// (scripts/test.sh --sanitize) it runs with ASan and UBSan.
//
//===----------------------------------------------------------------------===//

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  int replayed = 0;
  for (int i = 1; i < argc; ++i) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
        llvm::MemoryBuffer::getFile(argv[i]);
    if (!file) {
      llvm::errs() << "linac-fuzz-replay: cannot read " << argv[i] << ": "
                   << file.getError().message() << "\n";
      return 2;
    }
    llvm::StringRef bytes = (*file)->getBuffer();
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()),
                           bytes.size());
    ++replayed;
  }
  llvm::outs() << "linac-fuzz-replay: replayed " << replayed << " inputs\n";
  return 0;
}
