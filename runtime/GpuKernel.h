//===- GpuKernel.h - launching compiled kernels on a GPU --------*- C++ -*-===//
//
// Loads a kernel's cubin or PTX through the CUDA driver and launches it with
// the argument convention of KernelAbi.h.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_GPUKERNEL_H
#define LINAC_RUNTIME_GPUKERNEL_H

#include "runtime/CudaDriver.h"
#include "runtime/KernelAbi.h"
#include "runtime/KernelArtifact.h"

#include <cstddef>
#include <memory>
#include <vector>

namespace linac {

class GpuKernel {
public:
  /// Loads the artifact's cubin when it was built for this device's compute
  /// capability, else its PTX (JIT-compiled by the driver).
  static std::unique_ptr<GpuKernel> load(const KernelArtifact &artifact,
                                         std::string *error);

  /// The dynamic shared memory every later launch gives a block: the
  /// metadata's grid.dynamic_shared_bytes (0 for kernels with static shared
  /// memory only). Above 48 KiB the kernel is allowed that much first.
  bool setDynamicSharedBytes(unsigned bytes, std::string *error);

  bool launch(const std::vector<KernelArg> &args, unsigned gridX,
              unsigned gridY, unsigned gridZ, unsigned blockX, CuStream stream,
              std::string *error);

  /// Copies the first `capacity` bytes of the module's global `name` (e.g. a
  /// profiling build's phase counters) to `dst`, sets `bytes` to its size
  /// and, with `reset`, zeroes it afterwards. Waits for the device first.
  bool readGlobal(const std::string &name, void *dst, std::size_t capacity,
                  std::size_t *bytes, bool reset, std::string *error);
  /// Whether the cubin (true) or the PTX (false) was loaded.
  bool loadedCubin() const { return loadedCubin_; }

private:
  CudaDriver *driver_ = nullptr;
  CuModule module_ = nullptr;
  CuFunction function_ = nullptr;
  bool loadedCubin_ = false;
  unsigned dynamicSharedBytes_ = 0;
};

} // namespace linac

#endif // LINAC_RUNTIME_GPUKERNEL_H
