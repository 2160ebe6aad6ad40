//===- CpuKernel.h - running compiled kernels on the host -------*- C++ -*-===//
//
// Loads a kernel's object file into the process with LLVM's ORC JIT (no
// system linker needed) and calls its packed entry point.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_CPUKERNEL_H
#define LINAC_RUNTIME_CPUKERNEL_H

#include "runtime/KernelAbi.h"
#include "runtime/KernelArtifact.h"

#include <memory>
#include <string>

namespace linac {

class CpuKernel {
public:
  static std::unique_ptr<CpuKernel> load(const KernelArtifact &artifact,
                                         std::string *error);
  /// Runs the kernel to completion on the calling thread. With `maxThreads`
  /// > 0, its grid runs on at most that many of the OpenMP pool's threads
  /// (the calling thread's setting, restored after the call).
  void run(const std::vector<KernelArg> &args, int maxThreads = 0);
  /// The threads a grid started on the calling thread gets (OpenMP's
  /// omp_get_max_threads), 0 where the OpenMP runtime cannot be loaded.
  static int maxThreads();

private:
  using PackedFn = void (*)(void **);
  PackedFn entry_ = nullptr;
};

} // namespace linac

#endif // LINAC_RUNTIME_CPUKERNEL_H
