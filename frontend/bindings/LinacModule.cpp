//===- LinacModule.cpp - the linac._linac Python extension ---------------===//
//
// A thin layer: compile (through the kernel cache), load, and run kernels.
// Validation of user inputs happens in Python (linac/_validate.py); this
// module checks only what it needs to call a kernel safely.
//
//===----------------------------------------------------------------------===//

#include "codegen/CHeader.h"
#include "codegen/KernelCompiler.h"
#include "codegen/OpLibrary.h"
#include "runtime/CpuKernel.h"
#include "runtime/CudaDriver.h"
#include "runtime/GpuKernel.h"
#include "runtime/KernelCache.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace {

struct CompileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

linac::CompileResult unwrap(llvm::Expected<linac::CompileResult> result) {
  if (!result)
    throw CompileError(llvm::toString(result.takeError()));
  return std::move(*result);
}

/// Compile options: the common ones positionally, the modifiers of the op
/// (householder, qk_l2norm, beta_sigmoid) as keyword arguments.
linac::CompileOptions makeOptions(const std::string &target, int64_t k,
                                  int64_t v, const std::string &dtype,
                                  int64_t chunkSize, int64_t blockV,
                                  const py::kwargs &kwargs) {
  linac::CompileOptions options;
  options.target = target;
  options.headDimK = k;
  options.headDimV = v;
  options.dtype = dtype;
  options.chunkSize = chunkSize;
  options.blockV = blockV;
  for (const auto &[key, value] : kwargs) {
    std::string name = key.cast<std::string>();
    if (name == "householder")
      options.householder = value.cast<int64_t>();
    else if (name == "qk_l2norm")
      options.qkL2Norm = value.cast<bool>();
    else if (name == "beta_sigmoid")
      options.betaSigmoid = value.cast<float>();
    else if (name == "dt_softplus")
      options.dtSoftplus = value.cast<bool>();
    else if (name == "allow_sequential")
      options.allowSequential = value.cast<bool>();
    else if (name == "block_size")
      options.gpuBlockSize = value.cast<int64_t>();
    else if (name == "tensor_cores")
      options.tensorCores = value.cast<std::string>();
    else if (name == "gate_sums")
      options.gateSums = value.cast<std::string>();
    else if (name == "factored_band")
      options.factoredBand = value.cast<std::string>();
    else if (name == "double_buffer")
      options.doubleBuffer = value.cast<std::string>();
    else if (name == "elide_barriers")
      options.elideBarriers = value.cast<std::string>();
    else if (name == "ldmatrix")
      options.ldmatrix = value.cast<std::string>();
    else if (name == "warp_tiles")
      options.warpTiles = value.cast<std::string>();
    else if (name == "warpgroup_mma")
      options.warpgroupMma = value.cast<std::string>();
    else if (name == "cpu")
      options.cpu = value.cast<std::string>();
    else if (name == "decayed_rows")
      options.decayedRows = value.cast<std::string>();
    else if (name == "product_operands")
      options.productOperands = value.cast<std::string>();
    else if (name == "ut_solve")
      options.utSolve = value.cast<std::string>();
    else if (name == "state_checkpoints")
      options.stateCheckpoints = value.cast<int64_t>();
    else
      throw py::type_error("unknown compile option '" + name + "'");
  }
  return options;
}

/// A numpy array as a kernel buffer (strides converted to elements).
linac::KernelArg bufferArg(const py::array &array) {
  linac::BufferView view;
  view.data = const_cast<void *>(array.data());
  auto itemsize = static_cast<int64_t>(array.itemsize());
  for (py::ssize_t d = 0; d < array.ndim(); ++d) {
    view.sizes.push_back(array.shape(d));
    if (array.strides(d) % itemsize != 0)
      throw py::value_error("array strides must be multiples of its itemsize");
    view.strides.push_back(array.strides(d) / itemsize);
  }
  return linac::KernelArg::ofBuffer(std::move(view));
}

/// A device buffer described by (pointer, sizes, strides in elements).
linac::KernelArg deviceArg(const py::tuple &desc) {
  linac::BufferView view;
  view.data = reinterpret_cast<void *>(desc[0].cast<std::uintptr_t>());
  view.sizes = desc[1].cast<std::vector<int64_t>>();
  view.strides = desc[2].cast<std::vector<int64_t>>();
  return linac::KernelArg::ofBuffer(std::move(view));
}

class PyCpuKernel {
public:
  explicit PyCpuKernel(const linac::CompileResult &result) {
    std::string error;
    kernel_ = linac::CpuKernel::load(result.artifact, &error);
    if (!kernel_)
      throw std::runtime_error(error);
  }
  void run(const py::list &args, int maxThreads) {
    std::vector<linac::KernelArg> kernelArgs;
    for (const py::handle &arg : args) {
      if (py::isinstance<py::array>(arg))
        kernelArgs.push_back(bufferArg(py::reinterpret_borrow<py::array>(arg)));
      else
        kernelArgs.push_back(linac::KernelArg::ofF32(arg.cast<float>()));
    }
    py::gil_scoped_release release;
    kernel_->run(kernelArgs, maxThreads);
  }

private:
  std::unique_ptr<linac::CpuKernel> kernel_;
};

class PyGpuKernel {
public:
  explicit PyGpuKernel(const linac::CompileResult &result) {
    std::string error;
    kernel_ = linac::GpuKernel::load(result.artifact, &error);
    if (!kernel_)
      throw std::runtime_error(error);
  }
  void setDynamicSharedBytes(unsigned bytes) {
    std::string error;
    if (!kernel_->setDynamicSharedBytes(bytes, &error))
      throw std::runtime_error(error);
  }
  void launch(const py::list &args, std::array<unsigned, 3> grid,
              unsigned block, std::uintptr_t stream) {
    std::vector<linac::KernelArg> kernelArgs;
    for (const py::handle &arg : args) {
      if (py::isinstance<py::tuple>(arg))
        kernelArgs.push_back(deviceArg(py::reinterpret_borrow<py::tuple>(arg)));
      else
        kernelArgs.push_back(linac::KernelArg::ofF32(arg.cast<float>()));
    }
    std::string error;
    bool ok;
    {
      py::gil_scoped_release release;
      ok = kernel_->launch(kernelArgs, grid[0], grid[1], grid[2], block,
                           reinterpret_cast<linac::CuStream>(stream), &error);
    }
    if (!ok)
      throw std::runtime_error(error);
  }

private:
  std::unique_ptr<linac::GpuKernel> kernel_;
};

} // namespace

PYBIND11_MODULE(_linac, m) {
  m.doc() = "linac's compiler and runtime (internal; use linac.ops and "
            "linac.recurrence)";
  m.attr("version") = LINAC_VERSION_STRING;
  m.def("cpu_default_chunk_size", &linac::cpuDefaultChunkSize,
        py::arg("head_dim_k"), py::arg("head_dim_v"),
        "The chunk size of the op library's and the DSL's recurrences on "
        "CPUs when none is given.");
  py::register_exception<CompileError>(m, "CompileError", PyExc_RuntimeError);

  py::class_<linac::CompileResult>(m, "CompileResult")
      .def_property_readonly("symbol",
                             [](const linac::CompileResult &r) {
                               return r.artifact.symbol;
                             })
      .def_property_readonly("target",
                             [](const linac::CompileResult &r) {
                               return r.artifact.target;
                             })
      .def_property_readonly("metadata",
                             [](const linac::CompileResult &r) {
                               return r.artifact.metadata;
                             })
      .def_property_readonly("object",
                             [](const linac::CompileResult &r) {
                               return py::bytes(r.artifact.object);
                             })
      .def_property_readonly("ptx",
                             [](const linac::CompileResult &r) {
                               return r.artifact.ptx;
                             })
      .def_property_readonly("cubin",
                             [](const linac::CompileResult &r) {
                               return py::bytes(r.artifact.cubin);
                             })
      .def_property_readonly("ptxas_log",
                             [](const linac::CompileResult &r) {
                               return r.artifact.ptxasLog;
                             })
      .def_readonly("from_cache", &linac::CompileResult::fromCache)
      .def_readonly("compile_ms", &linac::CompileResult::compileMs)
      .def_readonly("stages", &linac::CompileResult::stages)
      .def_readonly("warnings", &linac::CompileResult::warnings);

  m.def(
      "builtin_kernels",
      []() {
        py::list out;
        for (const linac::BuiltinKernel &k : linac::builtinKernels())
          out.append(py::make_tuple(
              k.name, k.family,
              stringifyExecutionMode(k.mode).str(), k.normalize, k.summary));
        return out;
      },
      "(name, family, mode, normalize, summary) of every built-in kernel");
  m.def(
      "family_source",
      [](const std::string &family) {
        llvm::Expected<std::string> text = linac::familySource(family);
        if (!text)
          throw py::key_error(llvm::toString(text.takeError()));
        return *text;
      },
      py::arg("family"));
  m.def(
      "compile_builtin",
      [](const std::string &name, const std::string &target, int64_t k,
         int64_t v, const std::string &dtype, int64_t chunkSize, int64_t blockV,
         bool useCache, bool keepStages, const py::kwargs &kwargs) {
        linac::CompileRequest request;
        request.options =
            makeOptions(target, k, v, dtype, chunkSize, blockV, kwargs);
        request.useCache = useCache;
        request.keepStages = keepStages;
        py::gil_scoped_release release;
        return unwrap(linac::compileBuiltin(name, request));
      },
      py::arg("name"), py::arg("target") = "cpu", py::arg("head_dim_k") = 0,
      py::arg("head_dim_v") = 0, py::arg("dtype") = "f32",
      py::arg("chunk_size") = 0, py::arg("block_v") = 0, py::kw_only(),
      py::arg("use_cache") = true, py::arg("keep_stages") = false,
      "Compiles a built-in kernel; keyword options householder, qk_l2norm, "
      "beta_sigmoid, dt_softplus, block_size (GPU threads per block), "
      "tensor_cores (auto, none, tf32, bf16, f16), gate_sums (auto, by-row, "
      "per-element), factored_band (auto, on, off), double_buffer (auto, on, "
      "off), elide_barriers (auto, on, off), ldmatrix (auto, on, off), "
      "warp_tiles (auto, on, off), warpgroup_mma (auto, on, off; sm_90a), cpu "
      "(CPU objects for an "
      "LLVM CPU name such as x86-64-v3; default the host).");
  m.def(
      "compile",
      [](const std::string &source, const std::string &funcName,
         const std::string &sourceName, const std::string &target, int64_t k,
         int64_t v, const std::string &dtype, int64_t chunkSize,
         int64_t blockV, bool useCache, bool keepStages,
         const py::kwargs &kwargs) {
        linac::CompileRequest request;
        request.source = source;
        request.funcName = funcName;
        request.sourceName = sourceName;
        request.options =
            makeOptions(target, k, v, dtype, chunkSize, blockV, kwargs);
        request.useCache = useCache;
        request.keepStages = keepStages;
        py::gil_scoped_release release;
        return unwrap(linac::compile(request));
      },
      py::arg("source"), py::arg("func_name"), py::arg("source_name"),
      py::arg("target") = "cpu", py::arg("head_dim_k") = 0,
      py::arg("head_dim_v") = 0, py::arg("dtype") = "", py::arg("chunk_size") = 0,
      py::arg("block_v") = 0, py::kw_only(), py::arg("use_cache") = true,
      py::arg("keep_stages") = false,
      "Compiles the function func_name of an MLIR module; options as "
      "compile_builtin.");
  m.def(
      "c_header",
      [](const linac::CompileResult &result) {
        llvm::Expected<std::string> header = linac::emitCHeader(result.artifact);
        if (!header)
          throw CompileError(llvm::toString(header.takeError()));
        return *header;
      },
      py::arg("result"),
      "The C header linac-compile writes beside an ahead-of-time kernel.");
  m.def("cache_dir", &linac::KernelCache::defaultDirectory);
  m.def("cuda_status", []() -> py::tuple {
    std::string error;
    linac::CudaDriver *driver = linac::CudaDriver::get(&error);
    if (!driver)
      return py::make_tuple(false, error, 0);
    return py::make_tuple(true, driver->deviceName(),
                          driver->computeCapability());
  });

  m.def("cpu_max_threads", &linac::CpuKernel::maxThreads,
        "The threads a CPU kernel's grid started on this thread gets "
        "(omp_get_max_threads; 0 without the OpenMP runtime).");
  py::class_<PyCpuKernel>(m, "CpuKernel")
      .def(py::init<const linac::CompileResult &>())
      .def("run", &PyCpuKernel::run, py::arg("args"),
           py::arg("max_threads") = 0,
           "Runs the kernel; args follow the metadata's order: numpy arrays "
           "for buffers, floats for scalars. max_threads > 0 caps the "
           "threads of this call's grid.");
  py::class_<PyGpuKernel>(m, "GpuKernel")
      .def(py::init<const linac::CompileResult &>())
      .def("set_dynamic_shared_bytes", &PyGpuKernel::setDynamicSharedBytes,
           py::arg("bytes"),
           "The dynamic shared memory of every later launch (the metadata's "
           "grid.dynamic_shared_bytes).")
      .def("launch", &PyGpuKernel::launch, py::arg("args"), py::arg("grid"),
           py::arg("block"), py::arg("stream") = 0,
           "Launches the kernel; buffers are (device pointer, sizes, strides "
           "in elements) tuples, scalars floats.");
}
