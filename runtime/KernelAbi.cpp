//===- KernelAbi.cpp - how kernel arguments are passed --------------------===//
//
// Both blocks lay a buffer out as its memref descriptor fields, each 8 bytes:
// allocated, aligned, offset, sizes..., strides... . linac never passes views
// with an offset, so the base pointer serves as allocated and aligned.
//
//===----------------------------------------------------------------------===//

#include "runtime/KernelAbi.h"

#include <cassert>
#include <cstring>

using namespace linac;

namespace {

std::vector<std::int64_t> descriptorFields(const BufferView &view) {
  assert(view.sizes.size() == view.strides.size() &&
         "a view needs one stride per size");
  auto base =
      static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(view.data));
  std::vector<std::int64_t> fields = {base, base, 0};
  fields.insert(fields.end(), view.sizes.begin(), view.sizes.end());
  fields.insert(fields.end(), view.strides.begin(), view.strides.end());
  return fields;
}

} // namespace

CpuCallFrame::CpuCallFrame(const std::vector<KernelArg> &args) {
  // Fill the storage first: pointers into it are taken once it stops growing.
  for (const KernelArg &arg : args) {
    if (arg.isBuffer)
      descriptors_.push_back(descriptorFields(arg.buffer));
    else
      scalars_.push_back(arg.f32);
  }
  std::size_t nextDescriptor = 0, nextScalar = 0;
  pointers_.reserve(args.size());
  for (const KernelArg &arg : args) {
    if (arg.isBuffer)
      pointers_.push_back(descriptors_[nextDescriptor++].data());
    else
      pointers_.push_back(&scalars_[nextScalar++]);
  }
}

GpuLaunchParams::GpuLaunchParams(const std::vector<KernelArg> &args) {
  for (const KernelArg &arg : args) {
    if (arg.isBuffer) {
      for (std::int64_t field : descriptorFields(arg.buffer))
        slots_.push_back(static_cast<std::uint64_t>(field));
      continue;
    }
    // The driver reads a 4-byte parameter from the start of its slot, which
    // on a little-endian host is the slot's low half.
    std::uint64_t slot = 0;
    std::memcpy(&slot, &arg.f32, sizeof(arg.f32));
    slots_.push_back(slot);
  }
  pointers_.reserve(slots_.size());
  for (std::uint64_t &slot : slots_)
    pointers_.push_back(&slot);
}
