//===- CudaDriver.cpp - the CUDA driver API, loaded at run time -----------===//
//
// The few entry points linac needs are declared here with plain C types, so
// neither cuda.h nor libcuda is needed to build. Versioned symbols (_v2) are
// the ones cuda.h maps the plain names to.
//
//===----------------------------------------------------------------------===//

#include "runtime/CudaDriver.h"

#include <dlfcn.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

using namespace linac;

namespace {

/// CUresult values are plain ints; CUDA_SUCCESS is 0.
using CuResult = int;
using CuDevice = int;
using CuContext = void *;

constexpr CuResult kSuccess = 0;
constexpr int kAttributeComputeCapabilityMajor = 75;
constexpr int kAttributeComputeCapabilityMinor = 76;
constexpr int kJitErrorLogBuffer = 5;
constexpr int kJitErrorLogBufferSizeBytes = 6;

std::string oneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  for (char &c : text)
    if (c == '\n')
      c = ' ';
  return text;
}

} // namespace

struct CudaDriver::Api {
  CuResult (*cuInit)(unsigned flags);
  CuResult (*cuDeviceGet)(CuDevice *device, int ordinal);
  CuResult (*cuDeviceGetAttribute)(int *value, int attribute, CuDevice device);
  CuResult (*cuDeviceGetName)(char *name, int length, CuDevice device);
  CuResult (*cuDevicePrimaryCtxRetain)(CuContext *context, CuDevice device);
  CuResult (*cuCtxSetCurrent)(CuContext context);
  CuResult (*cuModuleLoadDataEx)(CuModule *module, const void *image,
                                 unsigned numOptions, int *options,
                                 void **optionValues);
  CuResult (*cuModuleGetFunction)(CuFunction *function, CuModule module,
                                  const char *name);
  CuResult (*cuModuleGetGlobal)(CuDevicePtr *ptr, std::size_t *bytes,
                                CuModule module, const char *name);
  CuResult (*cuLaunchKernel)(CuFunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, CuStream stream,
                             void **params, void **extra);
  CuResult (*cuFuncSetAttribute)(CuFunction function, int attribute, int value);
  CuResult (*cuCtxSynchronize)();
  CuResult (*cuMemAlloc)(CuDevicePtr *ptr, std::size_t bytes);
  CuResult (*cuMemFree)(CuDevicePtr ptr);
  CuResult (*cuMemcpyHtoD)(CuDevicePtr dst, const void *src, std::size_t bytes);
  CuResult (*cuMemcpyDtoH)(void *dst, CuDevicePtr src, std::size_t bytes);
  CuResult (*cuGetErrorName)(CuResult result, const char **name);

  CuContext context = nullptr;

  /// Looks up every entry point in `library`; returns the first missing
  /// symbol's name, or nullptr when all were found.
  const char *resolve(void *library) {
    const char *missing = nullptr;
    auto lookup = [&](auto &entry, const char *symbol) {
      if (missing)
        return;
      void *address = dlsym(library, symbol);
      if (!address)
        missing = symbol;
      entry =
          reinterpret_cast<std::remove_reference_t<decltype(entry)>>(address);
    };
    lookup(cuInit, "cuInit");
    lookup(cuDeviceGet, "cuDeviceGet");
    lookup(cuDeviceGetAttribute, "cuDeviceGetAttribute");
    lookup(cuDeviceGetName, "cuDeviceGetName");
    lookup(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    lookup(cuCtxSetCurrent, "cuCtxSetCurrent");
    lookup(cuModuleLoadDataEx, "cuModuleLoadDataEx");
    lookup(cuModuleGetFunction, "cuModuleGetFunction");
    lookup(cuModuleGetGlobal, "cuModuleGetGlobal_v2");
    lookup(cuLaunchKernel, "cuLaunchKernel");
    lookup(cuFuncSetAttribute, "cuFuncSetAttribute");
    lookup(cuCtxSynchronize, "cuCtxSynchronize");
    lookup(cuMemAlloc, "cuMemAlloc_v2");
    lookup(cuMemFree, "cuMemFree_v2");
    lookup(cuMemcpyHtoD, "cuMemcpyHtoD_v2");
    lookup(cuMemcpyDtoH, "cuMemcpyDtoH_v2");
    lookup(cuGetErrorName, "cuGetErrorName");
    return missing;
  }

  /// Makes the primary context current on the calling thread. The driver
  /// tracks the current context per thread, and a kernel may be loaded on one
  /// thread and launched on another.
  CuResult bindContext() const {
    thread_local CuContext bound = nullptr;
    if (bound == context)
      return kSuccess;
    CuResult result = cuCtxSetCurrent(context);
    if (result == kSuccess)
      bound = context;
    return result;
  }
};

CudaDriver *CudaDriver::get(std::string *error) {
  // Initialized once, thread-safely. The driver, its library and its context
  // stay loaded until the process exits.
  static const std::pair<CudaDriver *, std::string> state =
      []() -> std::pair<CudaDriver *, std::string> {
    auto unavailable = [](const std::string &why) {
      return std::make_pair(static_cast<CudaDriver *>(nullptr),
                            "CUDA driver not available: " + why +
                                "; linac runs on the CPU without it");
    };
    void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library)
      return unavailable(std::string("dlopen(libcuda.so.1) failed: ") +
                         dlerror());
    auto api = std::make_unique<Api>();
    if (const char *missing = api->resolve(library))
      return unavailable(std::string("libcuda.so.1 lacks ") + missing);

    std::unique_ptr<CudaDriver> driver(new CudaDriver());
    driver->api_ = api.get();
    std::string message;
    CuDevice device;
    int major = 0, minor = 0;
    char name[256] = {};
    if (!driver->check(api->cuInit(0), "cuInit", &message) ||
        !driver->check(api->cuDeviceGet(&device, 0), "cuDeviceGet", &message) ||
        !driver->check(api->cuDeviceGetAttribute(
                           &major, kAttributeComputeCapabilityMajor, device),
                       "cuDeviceGetAttribute", &message) ||
        !driver->check(api->cuDeviceGetAttribute(
                           &minor, kAttributeComputeCapabilityMinor, device),
                       "cuDeviceGetAttribute", &message) ||
        !driver->check(api->cuDeviceGetName(name, sizeof(name) - 1, device),
                       "cuDeviceGetName", &message) ||
        !driver->check(api->cuDevicePrimaryCtxRetain(&api->context, device),
                       "cuDevicePrimaryCtxRetain", &message) ||
        !driver->check(api->bindContext(), "cuCtxSetCurrent", &message))
      return unavailable(message);
    driver->computeCapability_ = major * 10 + minor;
    driver->deviceName_ = name;
    api.release();
    return {driver.release(), std::string()};
  }();
  if (!state.first && error)
    *error = state.second;
  return state.first;
}

bool CudaDriver::check(int result, const char *call, std::string *error) const {
  if (result == kSuccess)
    return true;
  if (error) {
    const char *name = nullptr;
    if (api_->cuGetErrorName(result, &name) != kSuccess || !name)
      *error =
          std::string(call) + " failed: CUDA error " + std::to_string(result);
    else
      *error = std::string(call) + " failed: " + name;
  }
  return false;
}

bool CudaDriver::loadModule(const std::string &image, CuModule *module,
                            std::string *error) {
  if (!check(api_->bindContext(), "cuCtxSetCurrent", error))
    return false;
  // The JIT's error log says why PTX was rejected; the result code alone
  // rarely does. std::string keeps PTX text NUL-terminated, as required.
  char log[4096] = {};
  int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferSizeBytes};
  void *values[] = {log, reinterpret_cast<void *>(std::uintptr_t(sizeof(log)))};
  if (check(api_->cuModuleLoadDataEx(module, image.c_str(), 2, options, values),
            "cuModuleLoadDataEx", error))
    return true;
  if (error && log[0])
    *error += ": " + oneLine(log);
  return false;
}

bool CudaDriver::getFunction(CuModule module, const std::string &name,
                             CuFunction *function, std::string *error) {
  if (!check(api_->bindContext(), "cuCtxSetCurrent", error))
    return false;
  if (check(api_->cuModuleGetFunction(function, module, name.c_str()),
            "cuModuleGetFunction", error))
    return true;
  if (error)
    *error += " (kernel " + name + ")";
  return false;
}

bool CudaDriver::getGlobal(CuModule module, const std::string &name,
                           CuDevicePtr *ptr, std::size_t *bytes,
                           std::string *error) {
  if (!check(api_->bindContext(), "cuCtxSetCurrent", error))
    return false;
  if (check(api_->cuModuleGetGlobal(ptr, bytes, module, name.c_str()),
            "cuModuleGetGlobal", error))
    return true;
  if (error)
    *error += " (global " + name + ")";
  return false;
}

bool CudaDriver::launch(CuFunction function, unsigned gridX, unsigned gridY,
                        unsigned gridZ, unsigned blockX, unsigned blockY,
                        unsigned blockZ, unsigned sharedBytes, CuStream stream,
                        void **params, std::string *error) {
  return check(api_->bindContext(), "cuCtxSetCurrent", error) &&
         check(api_->cuLaunchKernel(function, gridX, gridY, gridZ, blockX,
                                    blockY, blockZ, sharedBytes, stream, params,
                                    nullptr),
               "cuLaunchKernel", error);
}

bool CudaDriver::setMaxDynamicSharedBytes(CuFunction function, int bytes,
                                          std::string *error) {
  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES in cuda.h.
  constexpr int kMaxDynamicSharedSizeBytes = 8;
  return check(api_->bindContext(), "cuCtxSetCurrent", error) &&
         check(api_->cuFuncSetAttribute(function, kMaxDynamicSharedSizeBytes,
                                        bytes),
               "cuFuncSetAttribute", error);
}

bool CudaDriver::synchronize(std::string *error) {
  return check(api_->bindContext(), "cuCtxSetCurrent", error) &&
         check(api_->cuCtxSynchronize(), "cuCtxSynchronize", error);
}

bool CudaDriver::memAlloc(CuDevicePtr *ptr, std::size_t bytes,
                          std::string *error) {
  return check(api_->bindContext(), "cuCtxSetCurrent", error) &&
         check(api_->cuMemAlloc(ptr, bytes), "cuMemAlloc", error);
}

bool CudaDriver::memFree(CuDevicePtr ptr, std::string *error) {
  return check(api_->bindContext(), "cuCtxSetCurrent", error) &&
         check(api_->cuMemFree(ptr), "cuMemFree", error);
}

bool CudaDriver::copyToDevice(CuDevicePtr dst, const void *src,
                              std::size_t bytes, std::string *error) {
  return check(api_->bindContext(), "cuCtxSetCurrent", error) &&
         check(api_->cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD", error);
}

bool CudaDriver::copyToHost(void *dst, CuDevicePtr src, std::size_t bytes,
                            std::string *error) {
  return check(api_->bindContext(), "cuCtxSetCurrent", error) &&
         check(api_->cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH", error);
}
