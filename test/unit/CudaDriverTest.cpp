//===- CudaDriverTest.cpp - loading the CUDA driver at run time -----------===//
//
// Runs everywhere: without libcuda.so.1 it checks the message GPU calls fail
// with, with a driver it checks the device was found.
//
//===----------------------------------------------------------------------===//

#include "runtime/CudaDriver.h"
#include "runtime/GpuKernel.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

using namespace linac;

namespace {

bool driverLibraryPresent() {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return false;
  dlclose(library);
  return true;
}

TEST(CudaDriverTest, MissingDriverIsReportedByName) {
  if (driverLibraryPresent())
    GTEST_SKIP() << "libcuda.so.1 is installed";
  std::string error;
  EXPECT_EQ(CudaDriver::get(&error), nullptr);
  EXPECT_NE(error.find("libcuda.so.1"), std::string::npos) << error;
  EXPECT_EQ(error.rfind("CUDA driver not available: ", 0), 0u) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(CudaDriverTest, UnavailableDriverGivesOneLineReason) {
  std::string error;
  if (CudaDriver::get(&error))
    GTEST_SKIP() << "a CUDA device is available";
  EXPECT_EQ(error.rfind("CUDA driver not available: ", 0), 0u) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(CudaDriverTest, GetIsStable) {
  std::string first, second;
  CudaDriver *driver = CudaDriver::get(&first);
  EXPECT_EQ(CudaDriver::get(&second), driver);
  EXPECT_EQ(first, second);
}

TEST(CudaDriverTest, DeviceReportsComputeCapability) {
  std::string error;
  CudaDriver *driver = CudaDriver::get(&error);
  if (!driver)
    GTEST_SKIP() << error;
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_GT(driver->computeCapability(), 0);
  EXPECT_FALSE(driver->deviceName().empty());
}

TEST(CudaDriverTest, GpuKernelLoadFailsWithTheDriverMessage) {
  std::string driverError;
  if (CudaDriver::get(&driverError))
    GTEST_SKIP() << "a CUDA device is available";
  KernelArtifact artifact;
  artifact.symbol = "kernel";
  artifact.target = "sm_90";
  artifact.ptx = ".version 8.0\n";
  std::string error;
  EXPECT_EQ(GpuKernel::load(artifact, &error), nullptr);
  EXPECT_EQ(error, driverError);
}

} // namespace
