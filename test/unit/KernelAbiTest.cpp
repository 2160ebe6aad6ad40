//===- KernelAbiTest.cpp - argument blocks for CPU calls and GPU launches -===//

#include "runtime/KernelAbi.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace linac;

namespace {

/// What `_mlir_ciface_*` reads for a rank-4 f32 memref.
struct MemRef4 {
  float *allocated;
  float *aligned;
  std::int64_t offset;
  std::int64_t sizes[4];
  std::int64_t strides[4];
};

class KernelAbiTest : public ::testing::Test {
protected:
  float data[2 * 3 * 4 * 5] = {};
  float vector[7] = {};
  std::vector<KernelArg> args = {
      KernelArg::ofBuffer({data, {2, 3, 4, 5}, {60, 20, 5, 1}}),
      KernelArg::ofF32(0.125f),
      KernelArg::ofBuffer({vector, {7}, {1}}),
  };
};

void expectRank4Descriptor(const MemRef4 &desc, float *data) {
  EXPECT_EQ(desc.allocated, data);
  EXPECT_EQ(desc.aligned, data);
  EXPECT_EQ(desc.offset, 0);
  EXPECT_EQ(desc.sizes[0], 2);
  EXPECT_EQ(desc.sizes[1], 3);
  EXPECT_EQ(desc.sizes[2], 4);
  EXPECT_EQ(desc.sizes[3], 5);
  EXPECT_EQ(desc.strides[0], 60);
  EXPECT_EQ(desc.strides[1], 20);
  EXPECT_EQ(desc.strides[2], 5);
  EXPECT_EQ(desc.strides[3], 1);
}

TEST_F(KernelAbiTest, CpuFramePointsAtDescriptorsAndScalars) {
  CpuCallFrame frame(args);
  ASSERT_EQ(frame.size(), 3u);
  expectRank4Descriptor(*static_cast<MemRef4 *>(frame.pointers()[0]), data);
  EXPECT_EQ(*static_cast<float *>(frame.pointers()[1]), 0.125f);

  const auto *rank1 = static_cast<const std::int64_t *>(frame.pointers()[2]);
  EXPECT_EQ(rank1[0], reinterpret_cast<std::intptr_t>(vector));
  EXPECT_EQ(rank1[1], reinterpret_cast<std::intptr_t>(vector));
  EXPECT_EQ(rank1[2], 0);
  EXPECT_EQ(rank1[3], 7);
  EXPECT_EQ(rank1[4], 1);
}

TEST_F(KernelAbiTest, CpuFrameSurvivesMove) {
  CpuCallFrame original(args);
  CpuCallFrame frame(std::move(original));
  expectRank4Descriptor(*static_cast<MemRef4 *>(frame.pointers()[0]), data);
  EXPECT_EQ(*static_cast<float *>(frame.pointers()[1]), 0.125f);
}

TEST_F(KernelAbiTest, GpuParamsExpandEachField) {
  GpuLaunchParams params(args);
  // 3 + 2 * 4 slots for the rank-4 view, 1 for the scalar, 3 + 2 * 1 for the
  // rank-1 view.
  ASSERT_EQ(params.size(), 11u + 1u + 5u);
  auto slot = [&](std::size_t i) {
    return *static_cast<const std::uint64_t *>(params.pointers()[i]);
  };
  auto address = [](const void *p) {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
  };

  std::uint64_t expected[] = {
      address(data), address(data), 0, 2, 3, 4, 5, 60, 20, 5, 1};
  for (std::size_t i = 0; i < 11; ++i)
    EXPECT_EQ(slot(i), expected[i]) << "slot " << i;

  // The scalar's bits fill the low 4 bytes, which the driver reads as f32.
  float scale;
  std::memcpy(&scale, params.pointers()[11], sizeof(scale));
  EXPECT_EQ(scale, 0.125f);
  EXPECT_EQ(slot(11) >> 32, 0u);

  std::uint64_t expectedRank1[] = {address(vector), address(vector), 0, 7, 1};
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(slot(12 + i), expectedRank1[i]) << "slot " << 12 + i;

  // Each slot is 8 bytes and has its own pointer.
  for (std::size_t i = 1; i < params.size(); ++i)
    EXPECT_EQ(static_cast<char *>(params.pointers()[i]) -
                  static_cast<char *>(params.pointers()[i - 1]),
              8);
}

TEST_F(KernelAbiTest, GpuParamsSurviveMove) {
  GpuLaunchParams original(args);
  GpuLaunchParams params(std::move(original));
  ASSERT_EQ(params.size(), 17u);
  EXPECT_EQ(*static_cast<const std::uint64_t *>(params.pointers()[3]), 2u);
}

TEST(KernelAbiRank0Test, DescriptorHasNoSizesOrStrides) {
  float value = 0;
  std::vector<KernelArg> args = {KernelArg::ofBuffer({&value, {}, {}})};
  EXPECT_EQ(GpuLaunchParams(args).size(), 3u);
  CpuCallFrame frame(args);
  const auto *desc = static_cast<const std::int64_t *>(frame.pointers()[0]);
  EXPECT_EQ(desc[1], reinterpret_cast<std::intptr_t>(&value));
  EXPECT_EQ(desc[2], 0);
}

} // namespace
