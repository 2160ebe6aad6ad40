/*===- CApi.h - a C interface to the GPU runtime ------------------*- C -*-===*\
|*                                                                            *|
|* Loads kernels compiled ahead of time (linac-compile's .cubin / .ptx) and   *|
|* launches them through the CUDA driver, from C or from Python's ctypes:     *|
|* liblinac_runtime.so has no LLVM, MLIR or CUDA link-time dependency, so a   *|
|* GPU machine builds it alone (cmake -DLINAC_ENABLE_COMPILER=OFF).           *|
|*                                                                            *|
|* Arguments follow the kernel metadata's "args" order (see KernelAbi.h):     *|
|* buffers as device pointers with sizes and strides in elements, scalars as  *|
|* f32. Errors come back as one line of text in the caller's buffer.          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef LINAC_RUNTIME_CAPI_H
#define LINAC_RUNTIME_CAPI_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define LINAC_C_EXPORT __attribute__((visibility("default")))
#else
#define LINAC_C_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A strided view of device memory: `rank` sizes and strides (in elements). */
typedef struct linac_buffer {
  void *data;
  int64_t rank;
  const int64_t *sizes;
  const int64_t *strides;
} linac_buffer;

/* One kernel argument: a buffer (is_buffer != 0) or an f32 scalar. */
typedef struct linac_arg {
  int32_t is_buffer;
  float f32;
  linac_buffer buffer;
} linac_arg;

typedef struct linac_gpu_kernel linac_gpu_kernel;

/* linac's version, e.g. "0.1.0". */
LINAC_C_EXPORT const char *linac_runtime_version(void);

/* 1 when a CUDA device is usable (its compute capability, e.g. 90, goes to
 * `compute_capability` and its name to `message`), else 0 with the reason in
 * `message`. Either pointer may be NULL. */
LINAC_C_EXPORT int linac_cuda_status(int *compute_capability, char *message,
                                     size_t message_size);

/* Loads the kernel `symbol` from its cubin (used when `target`, e.g. "sm_90",
 * is the device's) or else its PTX (JIT-compiled by the driver). Either image
 * may be absent (NULL or size 0). Returns NULL and fills `error` on failure.
 * The module stays loaded until the process exits. */
LINAC_C_EXPORT linac_gpu_kernel *
linac_gpu_kernel_load(const char *symbol, const char *target, const void *cubin,
                      size_t cubin_size, const char *ptx, size_t ptx_size,
                      char *error, size_t error_size);

/* 1 when the cubin was loaded, 0 when the PTX was. */
LINAC_C_EXPORT int linac_gpu_kernel_loaded_cubin(const linac_gpu_kernel *kernel);

/* The dynamic shared memory each later launch gives a block: the kernel
 * metadata's grid.dynamic_shared_bytes, which a kernel whose buffers exceed
 * 48 KiB needs (it is allowed that much first). Returns 0, or -1 and fills
 * `error`. */
LINAC_C_EXPORT int linac_gpu_kernel_set_dynamic_shared_bytes(
    linac_gpu_kernel *kernel, unsigned bytes, char *error, size_t error_size);

/* Launches on `stream` (a CUstream; NULL: the default stream) with a grid of
 * grid_x * grid_y * grid_z blocks of block_x threads. Returns 0, or -1 and
 * fills `error`. The arguments may be freed once the call returns. */
LINAC_C_EXPORT int linac_gpu_kernel_launch(linac_gpu_kernel *kernel,
                                           const linac_arg *args,
                                           size_t num_args, unsigned grid_x,
                                           unsigned grid_y, unsigned grid_z,
                                           unsigned block_x, void *stream,
                                           char *error, size_t error_size);

/* Waits for the device, then copies the first `capacity` bytes of the kernel
 * module's global variable `name` (a profiling build's phase counters,
 * "linac_profile_<op>") to `dst` and, when `reset` is nonzero, zeroes the
 * global. Returns the global's size in bytes, or -1 and fills `error` (no
 * such global, CUDA error). */
LINAC_C_EXPORT long long
linac_gpu_kernel_read_global(linac_gpu_kernel *kernel, const char *name,
                             void *dst, size_t capacity, int reset, char *error,
                             size_t error_size);

/* Frees the handle (NULL is allowed). */
LINAC_C_EXPORT void linac_gpu_kernel_free(linac_gpu_kernel *kernel);

#ifdef __cplusplus
}
#endif

#endif /* LINAC_RUNTIME_CAPI_H */
