// fp32 FMA peak of this CPU: independent FMA chains on the widest vectors the
// compiler targets (-march=native), one per thread (OpenMP), timed.
//
//   cc -O2 -march=native -fopenmp benchmarks/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
//
// Prints GFLOP/s for one thread and for all threads (2 flops per lane per FMA).
#include <omp.h>
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define LANES 16
typedef __m512 vec;
#define SET1(x) _mm512_set1_ps(x)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define REDUCE(v) _mm512_reduce_add_ps(v)
#elif defined(__AVX2__)
#include <immintrin.h>
#define LANES 8
typedef __m256 vec;
#define SET1(x) _mm256_set1_ps(x)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
static float reduce256(__m256 v) {
  float out[8];
  _mm256_storeu_ps(out, v);
  float s = 0;
  for (int i = 0; i < 8; ++i)
    s += out[i];
  return s;
}
#define REDUCE(v) reduce256(v)
#else
#error "needs AVX2 or AVX-512 (compile with -march=native)"
#endif

// Enough independent chains to cover the FMA latency on every port.
#define CHAINS 12

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

// Twelve named accumulators so that the compiler keeps every chain in a
// register (an array indexed in a loop may stay in memory).
static float run(long iterations) {
  const vec a = SET1(0.999999f), b = SET1(1e-7f);
  vec c0 = SET1(1.0f), c1 = SET1(1.1f), c2 = SET1(1.2f), c3 = SET1(1.3f);
  vec c4 = SET1(1.4f), c5 = SET1(1.5f), c6 = SET1(1.6f), c7 = SET1(1.7f);
  vec c8 = SET1(1.8f), c9 = SET1(1.9f), c10 = SET1(2.0f), c11 = SET1(2.1f);
  for (long i = 0; i < iterations; ++i) {
    c0 = FMA(c0, a, b);
    c1 = FMA(c1, a, b);
    c2 = FMA(c2, a, b);
    c3 = FMA(c3, a, b);
    c4 = FMA(c4, a, b);
    c5 = FMA(c5, a, b);
    c6 = FMA(c6, a, b);
    c7 = FMA(c7, a, b);
    c8 = FMA(c8, a, b);
    c9 = FMA(c9, a, b);
    c10 = FMA(c10, a, b);
    c11 = FMA(c11, a, b);
  }
  return REDUCE(c0) + REDUCE(c1) + REDUCE(c2) + REDUCE(c3) + REDUCE(c4) +
         REDUCE(c5) + REDUCE(c6) + REDUCE(c7) + REDUCE(c8) + REDUCE(c9) +
         REDUCE(c10) + REDUCE(c11);
}

static double gflops(int threads, long iterations) {
  volatile float sink = 0;
  double start = seconds();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
  sink += run(iterations);
  double elapsed = seconds() - start;
  return 2.0 * LANES * CHAINS * (double)iterations * threads / elapsed / 1e9;
}

int main(void) {
  const long iterations = 200000000L / CHAINS;
  int threads = omp_get_max_threads();
  gflops(threads, iterations / 10); // warm up the clocks
  double best1 = 0, bestN = 0;
  for (int r = 0; r < 3; ++r) {
    double one = gflops(1, iterations), all = gflops(threads, iterations);
    best1 = one > best1 ? one : best1;
    bestN = all > bestN ? all : bestN;
  }
  printf("{\"lanes\": %d, \"threads\": %d, \"gflops_1_thread\": %.1f, "
         "\"gflops_all_threads\": %.1f}\n",
         LANES, threads, best1, bestN);
  return 0;
}
