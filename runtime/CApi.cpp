//===- CApi.cpp - a C interface to the GPU runtime ------------------------===//
//
// A thin layer over GpuKernel and CudaDriver: C types in, one-line errors
// out, no exception crosses the boundary (ctypes could not catch it).
//
//===----------------------------------------------------------------------===//

#include "runtime/CApi.h"

#include "runtime/CudaDriver.h"
#include "runtime/GpuKernel.h"

#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

struct linac_gpu_kernel {
  std::unique_ptr<linac::GpuKernel> kernel;
};

namespace {

/// Copies `text` into the caller's buffer, truncated and NUL-terminated.
void report(const std::string &text, char *buffer, std::size_t size) {
  if (!buffer || size == 0)
    return;
  std::size_t length = text.size() < size - 1 ? text.size() : size - 1;
  std::memcpy(buffer, text.data(), length);
  buffer[length] = '\0';
}

std::string image(const void *data, std::size_t size) {
  return data && size ? std::string(static_cast<const char *>(data), size)
                      : std::string();
}

} // namespace

extern "C" {

const char *linac_runtime_version(void) { return LINAC_VERSION_STRING; }

int linac_cuda_status(int *compute_capability, char *message,
                      size_t message_size) {
  std::string error;
  linac::CudaDriver *driver = linac::CudaDriver::get(&error);
  if (compute_capability)
    *compute_capability = driver ? driver->computeCapability() : 0;
  report(driver ? driver->deviceName() : error, message, message_size);
  return driver ? 1 : 0;
}

linac_gpu_kernel *linac_gpu_kernel_load(const char *symbol, const char *target,
                                        const void *cubin, size_t cubin_size,
                                        const char *ptx, size_t ptx_size,
                                        char *error, size_t error_size) {
  if (!symbol || !target) {
    report("linac_gpu_kernel_load: symbol and target are required", error,
           error_size);
    return nullptr;
  }
  try {
    linac::KernelArtifact artifact;
    artifact.symbol = symbol;
    artifact.target = target;
    artifact.cubin = image(cubin, cubin_size);
    artifact.ptx = image(ptx, ptx_size);
    std::string message;
    std::unique_ptr<linac::GpuKernel> kernel =
        linac::GpuKernel::load(artifact, &message);
    if (!kernel) {
      report(message, error, error_size);
      return nullptr;
    }
    return new linac_gpu_kernel{std::move(kernel)};
  } catch (const std::exception &exception) {
    report(std::string("linac_gpu_kernel_load: ") + exception.what(), error,
           error_size);
    return nullptr;
  }
}

int linac_gpu_kernel_loaded_cubin(const linac_gpu_kernel *kernel) {
  return kernel && kernel->kernel->loadedCubin() ? 1 : 0;
}

int linac_gpu_kernel_set_dynamic_shared_bytes(linac_gpu_kernel *kernel,
                                              unsigned bytes, char *error,
                                              size_t error_size) {
  if (!kernel) {
    report("linac_gpu_kernel_set_dynamic_shared_bytes: no kernel", error,
           error_size);
    return -1;
  }
  try {
    std::string message;
    if (kernel->kernel->setDynamicSharedBytes(bytes, &message))
      return 0;
    report(message, error, error_size);
    return -1;
  } catch (const std::exception &exception) {
    report(std::string("linac_gpu_kernel_set_dynamic_shared_bytes: ") +
               exception.what(),
           error, error_size);
    return -1;
  }
}

int linac_gpu_kernel_launch(linac_gpu_kernel *kernel, const linac_arg *args,
                            size_t num_args, unsigned grid_x, unsigned grid_y,
                            unsigned grid_z, unsigned block_x, void *stream,
                            char *error, size_t error_size) {
  if (!kernel || (num_args && !args)) {
    report("linac_gpu_kernel_launch: no kernel or no arguments", error,
           error_size);
    return -1;
  }
  try {
    std::vector<linac::KernelArg> kernelArgs;
    kernelArgs.reserve(num_args);
    for (std::size_t i = 0; i < num_args; ++i) {
      const linac_arg &arg = args[i];
      if (!arg.is_buffer) {
        kernelArgs.push_back(linac::KernelArg::ofF32(arg.f32));
        continue;
      }
      const linac_buffer &buffer = arg.buffer;
      if (buffer.rank < 0 ||
          (buffer.rank > 0 && (!buffer.sizes || !buffer.strides))) {
        report("linac_gpu_kernel_launch: argument " + std::to_string(i) +
                   " has a negative rank or no sizes/strides",
               error, error_size);
        return -1;
      }
      linac::BufferView view;
      view.data = buffer.data;
      view.sizes.assign(buffer.sizes, buffer.sizes + buffer.rank);
      view.strides.assign(buffer.strides, buffer.strides + buffer.rank);
      kernelArgs.push_back(linac::KernelArg::ofBuffer(std::move(view)));
    }
    std::string message;
    if (kernel->kernel->launch(kernelArgs, grid_x, grid_y, grid_z, block_x,
                               static_cast<linac::CuStream>(stream), &message))
      return 0;
    report(message, error, error_size);
    return -1;
  } catch (const std::exception &exception) {
    report(std::string("linac_gpu_kernel_launch: ") + exception.what(), error,
           error_size);
    return -1;
  }
}

long long linac_gpu_kernel_read_global(linac_gpu_kernel *kernel,
                                       const char *name, void *dst,
                                       size_t capacity, int reset, char *error,
                                       size_t error_size) {
  if (!kernel || !name || (capacity && !dst)) {
    report("linac_gpu_kernel_read_global: no kernel, name or destination",
           error, error_size);
    return -1;
  }
  try {
    std::string message;
    std::size_t bytes = 0;
    if (kernel->kernel->readGlobal(name, dst, capacity, &bytes, reset != 0,
                                   &message))
      return static_cast<long long>(bytes);
    report(message, error, error_size);
    return -1;
  } catch (const std::exception &exception) {
    report(std::string("linac_gpu_kernel_read_global: ") + exception.what(),
           error, error_size);
    return -1;
  }
}

void linac_gpu_kernel_free(linac_gpu_kernel *kernel) { delete kernel; }

} // extern "C"
