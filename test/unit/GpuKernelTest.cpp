//===- GpuKernelTest.cpp - loading and launching kernels on a GPU ---------===//
//
// Skipped without a CUDA device. The kernel is hand-written LLVM IR compiled
// by llc (-mtriple=nvptx64-nvidia-cuda -mcpu=sm_50); its parameters follow
// MLIR's expanded memref convention, so a launch checks every slot of
// GpuLaunchParams:
//
//   define ptx_kernel void @scale_view(ptr addrspace(1) %allocated,
//       ptr addrspace(1) %aligned, i64 %offset, i64 %size0, i64 %size1,
//       i64 %stride0, i64 %stride1, float %scale)
//
// multiplies each element of the strided 2-D view by %scale.
//
//===----------------------------------------------------------------------===//

#include "runtime/GpuKernel.h"

#include <gtest/gtest.h>

#include <vector>

using namespace linac;

namespace {

constexpr const char *kScaleViewPtx = R"(
.version 4.0
.target sm_50
.address_size 64
.visible .entry scale_view(
.param .u64 .ptr .global .align 1 scale_view_param_0,
.param .u64 .ptr .global .align 1 scale_view_param_1,
.param .u64 scale_view_param_2,
.param .u64 scale_view_param_3,
.param .u64 scale_view_param_4,
.param .u64 scale_view_param_5,
.param .u64 scale_view_param_6,
.param .f32 scale_view_param_7
)
{
.reg .pred  %p<3>;
.reg .b32  %r<13>;
.reg .b64  %rd<18>;
ld.param.b64  %rd4, [scale_view_param_4];
mov.u32  %r2, %ctaid.x;
mov.u32  %r3, %ntid.x;
ld.param.b64  %rd7, [scale_view_param_3];
mov.u32  %r4, %tid.x;
mad.lo.s32  %r5, %r2, %r3, %r4;
cvt.u64.u32  %rd1, %r5;
mul.lo.s64  %rd8, %rd7, %rd4;
setp.ge.s64  %p1, %rd1, %rd8;
@%p1 bra  $L__BB0_5;
ld.param.b32  %r1, [scale_view_param_7];
ld.param.b64  %rd6, [scale_view_param_6];
ld.param.b64  %rd5, [scale_view_param_5];
ld.param.b64  %rd3, [scale_view_param_2];
ld.param.b64  %rd2, [scale_view_param_1];
and.b64  %rd9, %rd4, -4294967296;
setp.ne.b64  %p2, %rd9, 0;
@%p2 bra  $L__BB0_3;
bra.uni  $L__BB0_2;
$L__BB0_3:
div.s64  %rd16, %rd1, %rd4;
mul.lo.s64  %rd10, %rd16, %rd4;
sub.s64  %rd17, %rd1, %rd10;
bra.uni  $L__BB0_4;
$L__BB0_2:
cvt.u32.u64  %r6, %rd4;
cvt.u32.u64  %r7, %rd1;
div.u32  %r8, %r7, %r6;
mul.lo.s32  %r9, %r8, %r6;
sub.s32  %r10, %r7, %r9;
cvt.u64.u32  %rd16, %r8;
cvt.u64.u32  %rd17, %r10;
$L__BB0_4:
mul.lo.s64  %rd11, %rd17, %rd6;
mad.lo.s64  %rd12, %rd16, %rd5, %rd11;
add.s64  %rd13, %rd3, %rd12;
shl.b64  %rd14, %rd13, 2;
add.s64  %rd15, %rd2, %rd14;
ld.global.b32  %r11, [%rd15];
mul.rn.f32  %r12, %r11, %r1;
st.global.b32  [%rd15], %r12;
$L__BB0_5:
ret;
}
)";

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
    artifact.ptx = kScaleViewPtx;
    artifact.cubin = "not a cubin";
    return artifact;
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

TEST_F(GpuKernelTest, ReportsAMissingKernel) {
  KernelArtifact artifact = ptxArtifact();
  artifact.symbol = "no_such_kernel";
  std::string error;
  EXPECT_FALSE(GpuKernel::load(artifact, &error));
  EXPECT_NE(error.find("cuModuleGetFunction failed"), std::string::npos)
      << error;
  EXPECT_NE(error.find("no_such_kernel"), std::string::npos) << error;
}

} // namespace
