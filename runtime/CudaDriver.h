//===- CudaDriver.h - the CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// libcuda.so.1 is opened with dlopen on first use: linac has no link-time
// dependency on CUDA, the CPU path works on machines without a driver, and
// GPU calls there fail with a message that says why.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_CUDADRIVER_H
#define LINAC_RUNTIME_CUDADRIVER_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace linac {

/// Opaque driver handles (CUmodule, CUfunction, CUstream, CUdeviceptr).
using CuModule = void *;
using CuFunction = void *;
using CuStream = void *;
using CuDevicePtr = std::uint64_t;

class CudaDriver {
public:
  /// The process-wide driver: dlopen, cuInit, device 0's primary context made
  /// current. Returns nullptr and sets `error` (one line naming the missing
  /// library or the failing call and its CUDA error name) when unavailable.
  static CudaDriver *get(std::string *error);

  /// Compute capability of the current device, e.g. 90 for sm_90.
  int computeCapability() const { return computeCapability_; }
  std::string deviceName() const { return deviceName_; }

  /// Loads a cubin or PTX image (the driver JITs PTX).
  bool loadModule(const std::string &image, CuModule *module,
                  std::string *error);
  bool getFunction(CuModule module, const std::string &name,
                   CuFunction *function, std::string *error);
  /// The device address and size of a module's global variable.
  bool getGlobal(CuModule module, const std::string &name, CuDevicePtr *ptr,
                 std::size_t *bytes, std::string *error);
  /// `params` points to one pointer per kernel parameter (cuLaunchKernel).
  bool launch(CuFunction function, unsigned gridX, unsigned gridY,
              unsigned gridZ, unsigned blockX, unsigned blockY, unsigned blockZ,
              unsigned sharedBytes, CuStream stream, void **params,
              std::string *error);
  /// Lets `function` launch with up to `bytes` of dynamic shared memory
  /// (above the default 48 KiB; cuFuncSetAttribute).
  bool setMaxDynamicSharedBytes(CuFunction function, int bytes,
                                std::string *error);
  bool synchronize(std::string *error);

  bool memAlloc(CuDevicePtr *ptr, std::size_t bytes, std::string *error);
  bool memFree(CuDevicePtr ptr, std::string *error);
  bool copyToDevice(CuDevicePtr dst, const void *src, std::size_t bytes,
                    std::string *error);
  bool copyToHost(void *dst, CuDevicePtr src, std::size_t bytes,
                  std::string *error);

private:
  CudaDriver() = default;
  struct Api;
  Api *api_ = nullptr;
  int computeCapability_ = 0;
  std::string deviceName_;
  bool check(int result, const char *call, std::string *error) const;
};

} // namespace linac

#endif // LINAC_RUNTIME_CUDADRIVER_H
