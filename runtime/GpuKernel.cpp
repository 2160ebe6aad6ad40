//===- GpuKernel.cpp - launching compiled kernels on a GPU ----------------===//
//
// One module and one function per kernel, loaded for the process lifetime.
//
//===----------------------------------------------------------------------===//

#include "runtime/GpuKernel.h"

#include <algorithm>
#include <string>

using namespace linac;

std::unique_ptr<GpuKernel> GpuKernel::load(const KernelArtifact &artifact,
                                           std::string *error) {
  CudaDriver *driver = CudaDriver::get(error);
  if (!driver)
    return nullptr;

  // A cubin runs only on the exact compute capability it was built for (the
  // arch-specific sm_90a included: on 9.0 alone); PTX is JIT-compiled by the
  // driver for whatever device is present.
  std::string deviceTarget =
      "sm_" + std::to_string(driver->computeCapability());
  auto kernel = std::make_unique<GpuKernel>();
  kernel->driver_ = driver;
  kernel->loadedCubin_ =
      !artifact.cubin.empty() && (artifact.target == deviceTarget ||
                                  artifact.target == deviceTarget + "a");
  if (!kernel->loadedCubin_ && artifact.ptx.empty()) {
    if (error)
      *error = "kernel " + artifact.symbol + " has no PTX, and no cubin for " +
               deviceTarget + " (" + driver->deviceName() +
               "); it was built for " + artifact.target;
    return nullptr;
  }
  const std::string &image =
      kernel->loadedCubin_ ? artifact.cubin : artifact.ptx;
  if (!driver->loadModule(image, &kernel->module_, error) ||
      !driver->getFunction(kernel->module_, artifact.symbol, &kernel->function_,
                           error))
    return nullptr;
  return kernel;
}

bool GpuKernel::setDynamicSharedBytes(unsigned bytes, std::string *error) {
  constexpr unsigned kDefaultLimit = 48 * 1024;
  if (bytes > kDefaultLimit && !driver_->setMaxDynamicSharedBytes(
                                   function_, static_cast<int>(bytes), error))
    return false;
  dynamicSharedBytes_ = bytes;
  return true;
}

bool GpuKernel::launch(const std::vector<KernelArg> &args, unsigned gridX,
                       unsigned gridY, unsigned gridZ, unsigned blockX,
                       CuStream stream, std::string *error) {
  // The driver copies the parameters at launch, so `params` may go away as
  // soon as the call returns.
  GpuLaunchParams params(args);
  return driver_->launch(function_, gridX, gridY, gridZ, blockX, 1, 1,
                         dynamicSharedBytes_, stream, params.pointers(), error);
}

bool GpuKernel::readGlobal(const std::string &name, void *dst,
                           std::size_t capacity, std::size_t *bytes, bool reset,
                           std::string *error) {
  CuDevicePtr address = 0;
  std::size_t size = 0;
  if (!driver_->getGlobal(module_, name, &address, &size, error) ||
      !driver_->synchronize(error))
    return false;
  *bytes = size;
  if (capacity &&
      !driver_->copyToHost(dst, address, std::min(capacity, size), error))
    return false;
  if (!reset)
    return true;
  std::vector<char> zeros(size, 0);
  return driver_->copyToDevice(address, zeros.data(), size, error);
}
