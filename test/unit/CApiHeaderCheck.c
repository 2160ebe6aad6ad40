/* CApi.h must compile as C (C11, no C++): this file only includes it and
 * names each declaration. */
#include "runtime/CApi.h"

void linac_capi_header_check(void);

void linac_capi_header_check(void) {
  linac_arg arg = {1, 0.0f, {0, 0, 0, 0}};
  (void)arg;
  (void)linac_runtime_version;
  (void)linac_cuda_status;
  (void)linac_gpu_kernel_load;
  (void)linac_gpu_kernel_loaded_cubin;
  (void)linac_gpu_kernel_launch;
  (void)linac_gpu_kernel_free;
}
