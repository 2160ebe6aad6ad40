//===- CApiTest.cpp - the C interface of the GPU runtime ------------------===//
//
// Without a CUDA device: every call fails with the driver's one-line reason
// and bad arguments are refused. With one: the PTX kernel of ScaleViewPtx.h
// is loaded and launched through the C interface on a strided view.
//
//===----------------------------------------------------------------------===//

#include "runtime/CApi.h"
#include "runtime/CudaDriver.h"
#include "test/unit/ScaleViewPtx.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace linac;

namespace {

constexpr std::size_t kMessageSize = 512;

std::string driverError() {
  std::string error;
  CudaDriver::get(&error);
  return error;
}

TEST(CApiTest, VersionIsLinacs) {
  EXPECT_STREQ(linac_runtime_version(), LINAC_VERSION_STRING);
}

TEST(CApiTest, StatusMatchesTheDriver) {
  int capability = -1;
  char message[kMessageSize] = {};
  int available = linac_cuda_status(&capability, message, sizeof(message));
  std::string error;
  CudaDriver *driver = CudaDriver::get(&error);
  EXPECT_EQ(available, driver ? 1 : 0);
  if (driver) {
    EXPECT_EQ(capability, driver->computeCapability());
    EXPECT_EQ(std::string(message), driver->deviceName());
  } else {
    EXPECT_EQ(capability, 0);
    EXPECT_EQ(std::string(message), error);
  }
  // Null outputs are allowed.
  EXPECT_EQ(linac_cuda_status(nullptr, nullptr, 0), available);
}

TEST(CApiTest, MessagesAreTruncatedAndTerminated) {
  char message[8];
  std::memset(message, 'x', sizeof(message));
  linac_cuda_status(nullptr, message, sizeof(message));
  EXPECT_EQ(message[sizeof(message) - 1], '\0');
  EXPECT_LE(std::strlen(message), sizeof(message) - 1);
}

TEST(CApiTest, LoadWithoutDriverReportsWhy) {
  if (CudaDriver::get(nullptr))
    GTEST_SKIP() << "a CUDA device is available";
  char error[kMessageSize] = {};
  const char *ptx = test::kScaleViewPtx;
  EXPECT_EQ(linac_gpu_kernel_load("scale_view", "sm_90", nullptr, 0, ptx,
                                  std::strlen(ptx), error, sizeof(error)),
            nullptr);
  EXPECT_EQ(std::string(error), driverError());
}

TEST(CApiTest, RefusesMissingArguments) {
  char error[kMessageSize] = {};
  EXPECT_EQ(linac_gpu_kernel_load(nullptr, "sm_90", nullptr, 0, nullptr, 0,
                                  error, sizeof(error)),
            nullptr);
  EXPECT_NE(std::string(error).find("symbol and target"), std::string::npos);
  EXPECT_EQ(linac_gpu_kernel_launch(nullptr, nullptr, 0, 1, 1, 1, 1, nullptr,
                                    error, sizeof(error)),
            -1);
  EXPECT_NE(std::string(error).find("no kernel"), std::string::npos);
  EXPECT_EQ(linac_gpu_kernel_loaded_cubin(nullptr), 0);
  EXPECT_EQ(linac_gpu_kernel_read_global(nullptr, "linac_profile_op", nullptr,
                                         0, 0, error, sizeof(error)),
            -1);
  EXPECT_NE(std::string(error).find("no kernel"), std::string::npos);
  error[0] = '\0';
  EXPECT_EQ(linac_gpu_kernel_set_dynamic_shared_bytes(nullptr, 65536, error,
                                                      sizeof(error)),
            -1);
  EXPECT_NE(std::string(error).find("set_dynamic_shared_bytes: no kernel"),
            std::string::npos);
  linac_gpu_kernel_free(nullptr);
}

class CApiGpuTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string error;
    driver = CudaDriver::get(&error);
    if (!driver)
      GTEST_SKIP() << error;
  }
  CudaDriver *driver = nullptr;
};

TEST_F(CApiGpuTest, LaunchesPtxOnAStridedView) {
  char error[kMessageSize] = {};
  const char *ptx = test::kScaleViewPtx;
  // A cubin for no real device: the PTX is loaded instead.
  const char bogusCubin[] = "not a cubin";
  linac_gpu_kernel *kernel =
      linac_gpu_kernel_load("scale_view", "sm_10", bogusCubin,
                            sizeof(bogusCubin), ptx, std::strlen(ptx), error,
                            sizeof(error));
  ASSERT_NE(kernel, nullptr) << error;
  EXPECT_EQ(linac_gpu_kernel_loaded_cubin(kernel), 0);

  // A 9x5 view of rows padded to 8 floats: the padding must not change.
  constexpr std::int64_t rows = 9, cols = 5, rowStride = 8;
  std::vector<float> host(rows * rowStride);
  for (std::size_t i = 0; i < host.size(); ++i)
    host[i] = static_cast<float>(i);
  std::size_t bytes = host.size() * sizeof(float);
  std::string message;
  CuDevicePtr device = 0;
  ASSERT_TRUE(driver->memAlloc(&device, bytes, &message)) << message;
  ASSERT_TRUE(driver->copyToDevice(device, host.data(), bytes, &message))
      << message;

  const std::int64_t sizes[] = {rows, cols}, strides[] = {rowStride, 1};
  linac_arg args[2] = {};
  args[0].is_buffer = 1;
  args[0].buffer = {reinterpret_cast<void *>(device), 2, sizes, strides};
  args[1].f32 = -0.5f;
  ASSERT_EQ(linac_gpu_kernel_launch(kernel, args, 2, 1, 1, 1, 64, nullptr,
                                    error, sizeof(error)),
            0)
      << error;
  ASSERT_TRUE(driver->synchronize(&message)) << message;

  std::vector<float> result(host.size());
  ASSERT_TRUE(driver->copyToHost(result.data(), device, bytes, &message))
      << message;
  EXPECT_TRUE(driver->memFree(device, &message)) << message;
  linac_gpu_kernel_free(kernel);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < rowStride; ++c) {
      std::size_t i = r * rowStride + c;
      ASSERT_EQ(result[i], c < cols ? host[i] * -0.5f : host[i])
          << "row " << r << ", column " << c;
    }
}

TEST_F(CApiGpuTest, RefusesABufferWithoutSizes) {
  char error[kMessageSize] = {};
  const char *ptx = test::kScaleViewPtx;
  linac_gpu_kernel *kernel = linac_gpu_kernel_load(
      "scale_view", "sm_10", nullptr, 0, ptx, std::strlen(ptx), error,
      sizeof(error));
  ASSERT_NE(kernel, nullptr) << error;
  linac_arg arg = {};
  arg.is_buffer = 1;
  arg.buffer.rank = 2;
  EXPECT_EQ(linac_gpu_kernel_launch(kernel, &arg, 1, 1, 1, 1, 64, nullptr,
                                    error, sizeof(error)),
            -1);
  EXPECT_NE(std::string(error).find("argument 0"), std::string::npos) << error;
  linac_gpu_kernel_free(kernel);
}

} // namespace
