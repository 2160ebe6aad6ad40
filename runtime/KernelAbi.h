//===- KernelAbi.h - how kernel arguments are passed ------------*- C++ -*-===//
//
// linac kernels take buffers as MLIR memref descriptors:
//   { T *allocated; T *aligned; int64_t offset; int64_t sizes[r]; int64_t strides[r]; }
// (strides in elements), and scalars by value, in the order of the kernel
// metadata's "args".
//
// - CPU: the C interface `_mlir_ciface_<name>(desc *q, ..., float scale)`,
//   reached through `<name>_packed(void **args)`: args[i] points at the i-th
//   argument (the descriptor of a buffer, the value of a scalar).
// - GPU: each descriptor is expanded into its fields, one kernel parameter
//   each (cuLaunchKernel's `kernelParams`).
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_KERNELABI_H
#define LINAC_RUNTIME_KERNELABI_H

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace linac {

/// A strided view of memory, strides in elements.
struct BufferView {
  void *data = nullptr;
  std::vector<std::int64_t> sizes;
  std::vector<std::int64_t> strides;
};

/// One kernel argument: a buffer or an f32 scalar.
struct KernelArg {
  bool isBuffer = true;
  BufferView buffer;
  float f32 = 0.0f;

  static KernelArg ofBuffer(BufferView view) {
    KernelArg arg;
    arg.buffer = std::move(view);
    return arg;
  }
  static KernelArg ofF32(float value) {
    KernelArg arg;
    arg.isBuffer = false;
    arg.f32 = value;
    return arg;
  }
};

/// The argument block of a CPU call through `<name>_packed`.
class CpuCallFrame {
public:
  explicit CpuCallFrame(const std::vector<KernelArg> &args);
  // pointers() point into this object's storage: moving keeps them valid,
  // a copy would not.
  CpuCallFrame(const CpuCallFrame &) = delete;
  CpuCallFrame &operator=(const CpuCallFrame &) = delete;
  CpuCallFrame(CpuCallFrame &&) = default;
  CpuCallFrame &operator=(CpuCallFrame &&) = default;

  void **pointers() { return pointers_.data(); }
  std::size_t size() const { return pointers_.size(); }

private:
  std::vector<std::vector<std::int64_t>> descriptors_;
  std::vector<float> scalars_;
  std::vector<void *> pointers_;
};

/// The parameter block of a GPU launch: one 8-byte slot per expanded field.
class GpuLaunchParams {
public:
  explicit GpuLaunchParams(const std::vector<KernelArg> &args);
  // pointers() point into this object's storage: moving keeps them valid,
  // a copy would not.
  GpuLaunchParams(const GpuLaunchParams &) = delete;
  GpuLaunchParams &operator=(const GpuLaunchParams &) = delete;
  GpuLaunchParams(GpuLaunchParams &&) = default;
  GpuLaunchParams &operator=(GpuLaunchParams &&) = default;

  void **pointers() { return pointers_.data(); }
  std::size_t size() const { return pointers_.size(); }

private:
  std::vector<std::uint64_t> slots_;
  std::vector<void *> pointers_;
};

} // namespace linac

#endif // LINAC_RUNTIME_KERNELABI_H
