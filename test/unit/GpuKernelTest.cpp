//===- GpuKernelTest.cpp - loading and launching kernels on a GPU ---------===//
//
// Skipped without a CUDA device. The kernel (ScaleViewPtx.h) takes one
// strided 2-D view and a scale, so a launch checks every slot of
// GpuLaunchParams.
//
//===----------------------------------------------------------------------===//

#include "runtime/GpuKernel.h"
#include "test/unit/ScaleViewPtx.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

using namespace linac;

namespace {

class GpuKernelTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string error;
    driver = CudaDriver::get(&error);
    if (!driver)
      GTEST_SKIP() << error;
  }

  KernelArtifact ptxArtifact() const {
    KernelArtifact artifact;
    artifact.symbol = "scale_view";
    // No device has compute capability 1.0, so the cubin is never chosen.
    artifact.target = "sm_10";
    artifact.ptx = test::kScaleViewPtx;
    artifact.cubin = "not a cubin";
    return artifact;
  }

  /// Loads the PTX kernel `symbol` of `ptx`.
  std::unique_ptr<GpuKernel> loadPtx(const char *symbol, const char *ptx,
                                     std::string *error) const {
    KernelArtifact artifact = ptxArtifact();
    artifact.symbol = symbol;
    artifact.ptx = ptx;
    return GpuKernel::load(artifact, error);
  }

  CudaDriver *driver = nullptr;
};

TEST_F(GpuKernelTest, LaunchesPtxOnAStridedView) {
  std::string error;
  std::unique_ptr<GpuKernel> kernel = GpuKernel::load(ptxArtifact(), &error);
  ASSERT_TRUE(kernel) << error;
  EXPECT_FALSE(kernel->loadedCubin());

  // A 30x17 view of rows padded to 20 floats: the padding must not change.
  constexpr std::int64_t rows = 30, cols = 17, rowStride = 20;
  std::vector<float> host(rows * rowStride);
  for (std::size_t i = 0; i < host.size(); ++i)
    host[i] = static_cast<float>(i);
  std::size_t bytes = host.size() * sizeof(float);
  CuDevicePtr device = 0;
  ASSERT_TRUE(driver->memAlloc(&device, bytes, &error)) << error;
  ASSERT_TRUE(driver->copyToDevice(device, host.data(), bytes, &error))
      << error;

  std::vector<KernelArg> args = {
      KernelArg::ofBuffer(
          {reinterpret_cast<void *>(device), {rows, cols}, {rowStride, 1}}),
      KernelArg::ofF32(2.5f),
  };
  unsigned block = 64;
  auto grid = static_cast<unsigned>((rows * cols + block - 1) / block);
  ASSERT_TRUE(kernel->launch(args, grid, 1, 1, block, nullptr, &error))
      << error;
  ASSERT_TRUE(driver->synchronize(&error)) << error;

  std::vector<float> result(host.size());
  ASSERT_TRUE(driver->copyToHost(result.data(), device, bytes, &error))
      << error;
  EXPECT_TRUE(driver->memFree(device, &error)) << error;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < rowStride; ++c) {
      std::size_t i = r * rowStride + c;
      float expected = c < cols ? host[i] * 2.5f : host[i];
      ASSERT_EQ(result[i], expected) << "row " << r << ", column " << c;
    }
}

TEST_F(GpuKernelTest, PrefersTheCubinBuiltForThisDevice) {
  KernelArtifact artifact = ptxArtifact();
  artifact.target = "sm_" + std::to_string(driver->computeCapability());
  std::string error;
  // The bogus cubin is chosen over the valid PTX, and fails to load.
  EXPECT_FALSE(GpuKernel::load(artifact, &error));
  EXPECT_NE(error.find("cuModuleLoadDataEx failed"), std::string::npos)
      << error;
}

TEST_F(GpuKernelTest, RejectsAnArtifactWithoutUsableCode) {
  KernelArtifact artifact = ptxArtifact();
  artifact.ptx.clear();
  std::string error;
  EXPECT_FALSE(GpuKernel::load(artifact, &error));
  EXPECT_NE(error.find("has no PTX"), std::string::npos) << error;
}

// Each thread adds one to the first of two counters in a module global, as a
// profiling build's phase counters are added to.
constexpr const char *kCountThreadsPtx = R"(
.version 7.0
.target sm_50
.address_size 64
.visible .global .align 8 .u64 thread_count[2];
.visible .entry count_threads()
{
  .reg .b64 %rd<3>;
  mov.u64 %rd1, thread_count;
  atom.global.add.u64 %rd2, [%rd1], 1;
  ret;
}
)";

TEST_F(GpuKernelTest, ReadsAndResetsAModuleGlobal) {
  std::string error;
  std::unique_ptr<GpuKernel> kernel =
      loadPtx("count_threads", kCountThreadsPtx, &error);
  ASSERT_TRUE(kernel) << error;
  ASSERT_TRUE(kernel->launch({}, 3, 2, 1, 32, nullptr, &error)) << error;
  std::uint64_t counts[2] = {7, 7};
  std::size_t bytes = 0;
  ASSERT_TRUE(kernel->readGlobal("thread_count", counts, sizeof(counts), &bytes,
                                 /*reset=*/true, &error))
      << error;
  EXPECT_EQ(bytes, sizeof(counts));
  EXPECT_EQ(counts[0], 3u * 2u * 32u);
  EXPECT_EQ(counts[1], 0u);
  ASSERT_TRUE(kernel->readGlobal("thread_count", counts, sizeof(counts), &bytes,
                                 /*reset=*/false, &error))
      << error;
  EXPECT_EQ(counts[0], 0u) << "reset left the counter";
  EXPECT_FALSE(kernel->readGlobal("no_such_global", counts, sizeof(counts),
                                  &bytes, false, &error));
  EXPECT_NE(error.find("cuModuleGetGlobal failed"), std::string::npos) << error;
  EXPECT_NE(error.find("no_such_global"), std::string::npos) << error;
}

TEST_F(GpuKernelTest, ReportsAMissingKernel) {
  KernelArtifact artifact = ptxArtifact();
  artifact.symbol = "no_such_kernel";
  std::string error;
  EXPECT_FALSE(GpuKernel::load(artifact, &error));
  EXPECT_NE(error.find("cuModuleGetFunction failed"), std::string::npos)
      << error;
  EXPECT_NE(error.find("no_such_kernel"), std::string::npos) << error;
}

// 32 threads reverse their ids through shared memory 100000 bytes past the
// start of the block's window, in the form MLIR's gpu.dynamic_shared_memory
// takes in PTX (a zero-sized shared symbol, demoted into the entry): only a
// launch with that much dynamic shared memory may touch those bytes.
constexpr const char *kReverseThroughDynamicSharedPtx = R"(
.version 7.0
.target sm_50
.address_size 64
.visible .global .align 4 .u32 reversed[32];
.visible .entry reverse_through_dynamic_shared()
{
  .shared .align 16 .b8 dynamic_shared;
  .reg .b32 %r<4>;
  .reg .b64 %rd<9>;
  mov.u32 %r1, %tid.x;
  mov.u64 %rd1, dynamic_shared;
  add.u64 %rd2, %rd1, 100000;
  mul.wide.u32 %rd3, %r1, 4;
  add.u64 %rd4, %rd2, %rd3;
  st.shared.u32 [%rd4], %r1;
  bar.sync 0;
  sub.u32 %r2, 31, %r1;
  mul.wide.u32 %rd5, %r2, 4;
  add.u64 %rd6, %rd2, %rd5;
  ld.shared.u32 %r3, [%rd6];
  mov.u64 %rd7, reversed;
  add.u64 %rd8, %rd7, %rd3;
  st.global.u32 [%rd8], %r3;
  ret;
}
)";

TEST_F(GpuKernelTest, LaunchesWithDynamicSharedMemoryAbove48KiB) {
  std::string error;
  std::unique_ptr<GpuKernel> kernel =
      loadPtx("reverse_through_dynamic_shared", kReverseThroughDynamicSharedPtx,
              &error);
  ASSERT_TRUE(kernel) << error;
  // Above 48 KiB the kernel must be allowed the bytes before a launch.
  ASSERT_TRUE(kernel->setDynamicSharedBytes(100000 + 32 * 4, &error)) << error;
  ASSERT_TRUE(kernel->launch({}, 1, 1, 1, 32, nullptr, &error)) << error;
  std::uint32_t values[32] = {};
  std::size_t bytes = 0;
  ASSERT_TRUE(kernel->readGlobal("reversed", values, sizeof(values), &bytes,
                                 /*reset=*/false, &error))
      << error;
  for (std::uint32_t i = 0; i < 32; ++i)
    EXPECT_EQ(values[i], 31 - i) << "thread " << i;
}

TEST_F(GpuKernelTest, RefusesMoreDynamicSharedMemoryThanTheDeviceHas) {
  std::string error;
  std::unique_ptr<GpuKernel> kernel =
      loadPtx("reverse_through_dynamic_shared", kReverseThroughDynamicSharedPtx,
              &error);
  ASSERT_TRUE(kernel) << error;
  EXPECT_FALSE(kernel->setDynamicSharedBytes(16u << 20, &error));
  EXPECT_NE(error.find("cuFuncSetAttribute failed"), std::string::npos)
      << error;
}

} // namespace
