//===- CpuKernel.cpp - running compiled kernels on the host --------------===//

#include "runtime/CpuKernel.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

#include <atomic>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif
#include <cstdlib>
#include <mutex>

using namespace llvm;

namespace {

/// One JIT for the process; each kernel gets its own JITDylib, so kernels
/// with the same symbol names (one op at several sizes) coexist.
struct ProcessJit {
  std::unique_ptr<orc::LLJIT> jit;
  std::string error;
  std::atomic<unsigned> nextDylib{0};

  ProcessJit() {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
    Expected<std::unique_ptr<orc::LLJIT>> created =
        orc::LLJITBuilder().create();
    if (!created) {
      error = toString(created.takeError());
      return;
    }
    jit = std::move(*created);
  }
  static ProcessJit &get() {
    static ProcessJit instance;
    return instance;
  }
};

/// LLVM's OpenMP runtime: $LINAC_LIBOMP, else the one found at build time.
const char *openmpLibrary() {
  const char *env = std::getenv("LINAC_LIBOMP");
  return env && *env ? env : LINAC_LIBOMP_PATH;
}

/// A function of the OpenMP runtime (loaded on first use), or null.
template <typename Fn> Fn openmpFunction(const char *name) {
  auto library = sys::DynamicLibrary::getPermanentLibrary(openmpLibrary());
  return reinterpret_cast<Fn>(library.getAddressOfSymbol(name));
}

/// LINAC_NUM_THREADS sizes the OpenMP pool the kernels' grids run on
/// (default: OpenMP's, one thread per core or OMP_NUM_THREADS). Idle pool
/// threads spin 1 ms after a kernel (KMP_BLOCKTIME, unless set) instead of
/// libomp's 200 ms: a spinning thread would take a core from whatever the
/// program does between kernel calls (measured: 0.2 s of CPU after every
/// call), while back-to-back calls still find the pool awake.
void configureOpenMP() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Read when libomp starts (at the first kernel call, unless something
    // else in the process started it before), so set before.
    setenv("KMP_BLOCKTIME", "1", /*overwrite=*/0);
    const char *env = std::getenv("LINAC_NUM_THREADS");
    if (!env || !*env)
      return;
    int threads = std::atoi(env);
    // Before libomp starts, its default; after, the calling thread's.
    setenv("OMP_NUM_THREADS", env, /*overwrite=*/1);
    auto setThreads = openmpFunction<void (*)(int)>("omp_set_num_threads");
    if (threads > 0 && setThreads)
      setThreads(threads);
  });
}

} // namespace

std::unique_ptr<linac::CpuKernel>
linac::CpuKernel::load(const KernelArtifact &artifact, std::string *error) {
  auto fail = [&](std::string message) -> std::unique_ptr<CpuKernel> {
    if (error)
      *error = "linac: cannot load CPU kernel " + artifact.symbol + ": " +
               std::move(message);
    return nullptr;
  };
  if (artifact.object.empty())
    return fail("the artifact has no object code (target " + artifact.target +
                ")");
  ProcessJit &process = ProcessJit::get();
  if (!process.jit)
    return fail(process.error);
  orc::LLJIT &jit = *process.jit;
  std::string dylibName =
      artifact.symbol + "." + std::to_string(process.nextDylib++);
  Expected<orc::JITDylib &> dylib = jit.createJITDylib(dylibName);
  if (!dylib)
    return fail(toString(dylib.takeError()));
  // libm (expf) and the C runtime come from the process; the OpenMP runtime
  // that runs the grid in parallel from libomp.
  char prefix = jit.getDataLayout().getGlobalPrefix();
  auto symbols = orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(prefix);
  if (!symbols)
    return fail(toString(symbols.takeError()));
  dylib->addGenerator(std::move(*symbols));
  configureOpenMP();
  auto openmp = orc::DynamicLibrarySearchGenerator::Load(openmpLibrary(), prefix);
  if (!openmp)
    return fail("cannot load the OpenMP runtime " + std::string(openmpLibrary()) +
                " (set LINAC_LIBOMP to libomp.so): " +
                toString(openmp.takeError()));
  dylib->addGenerator(std::move(*openmp));
  auto buffer = MemoryBuffer::getMemBufferCopy(artifact.object,
                                               artifact.symbol + ".o");
  if (Error err = jit.addObjectFile(*dylib, std::move(buffer)))
    return fail(toString(std::move(err)));
  Expected<orc::ExecutorAddr> address =
      jit.lookup(*dylib, artifact.symbol + "_packed");
  if (!address)
    return fail(toString(address.takeError()));
  auto kernel = std::unique_ptr<CpuKernel>(new CpuKernel());
  kernel->entry_ = address->toPtr<PackedFn>();
  return kernel;
}

namespace {

/// Flushes subnormal floats to zero (MXCSR's FTZ and DAZ) for the duration
/// of a kernel call, then restores the caller's mode. Fast decays make
/// products of e^-90-sized factors, and x86 takes ~100x longer on each
/// subnormal operand or result; LLVM's OpenMP runtime hands the calling
/// thread's MXCSR to its workers at every fork, so the whole grid runs
/// flushed. Only values below 1.2e-38 change (to zero), as on GPUs.
class FlushSubnormals {
public:
#if defined(__SSE__) || defined(__x86_64__)
  FlushSubnormals() : saved_(_mm_getcsr()) {
    _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero);
  }
  ~FlushSubnormals() { _mm_setcsr(saved_); }

private:
  static constexpr unsigned kFlushToZero = 1u << 15;
  static constexpr unsigned kDenormalsAreZero = 1u << 6;
  unsigned saved_;
#endif
};

/// The OpenMP runtime's omp_get_max_threads and omp_set_num_threads (null
/// where it cannot be loaded), after linac's settings (configureOpenMP): the
/// first call may be what starts the runtime.
std::pair<int (*)(), void (*)(int)> openmpThreadFunctions() {
  static const auto functions = [] {
    configureOpenMP();
    return std::make_pair(openmpFunction<int (*)()>("omp_get_max_threads"),
                          openmpFunction<void (*)(int)>("omp_set_num_threads"));
  }();
  return functions;
}

/// At most `maxThreads` threads for the grids started on this thread while
/// it lives (OpenMP's nthreads ICV of the calling thread), then the caller's
/// setting again. A small call on one thread neither forks nor wakes the
/// pool's sleeping threads (hundreds of microseconds on a VM).
class ThreadLimit {
public:
  explicit ThreadLimit(int maxThreads) {
    if (maxThreads <= 0)
      return;
    auto [getMax, set] = openmpThreadFunctions();
    if (!getMax || !set)
      return;
    int current = getMax();
    if (maxThreads >= current)
      return;
    set_ = set;
    saved_ = current;
    set(maxThreads);
  }
  ~ThreadLimit() {
    if (set_)
      set_(saved_);
  }
  ThreadLimit(const ThreadLimit &) = delete;
  ThreadLimit &operator=(const ThreadLimit &) = delete;

private:
  void (*set_)(int) = nullptr;
  int saved_ = 0;
};

} // namespace

int linac::CpuKernel::maxThreads() {
  auto getMax = openmpThreadFunctions().first;
  return getMax ? getMax() : 0;
}

void linac::CpuKernel::run(const std::vector<KernelArg> &args, int maxThreads) {
  CpuCallFrame frame(args);
  FlushSubnormals flushed;
  ThreadLimit limit(maxThreads);
  entry_(frame.pointers());
}
