// Is one pass over the state faster than two? (AVX-512.) The products that
// touch the state in a chunk of chunk_simple_gla at K = V = 128, C = 16, f32,
// one thread:
//   Q S   (the chunk's queries read the state: O = Qd S)
//   S U   (the state update: S = d S + Kd^T V)
// "separate" runs them as linac's CPU micro-kernels do (linac-vectorize-
// contractions: 8 x 32 output tiles in registers, Q S over all of k, then
// S U over each state tile); "fused" reads each 8 x 32 state tile once, adds
// its Q S terms to the output (kept in L1) and updates it in registers, so
// the 64 KiB state (more than L1) streams from L2 once per chunk instead of
// three times. Both are checked against each other, then timed alternately.
//
//   cc -O3 -march=native benchmarks/state_products.c -o /tmp/state_products &&
//   /tmp/state_products
//
// Measured (2026-11-30, the 2-core AVX-512 CI machine): fused/separate
// 1.03-1.08, the one pass is slower; separate reaches 147-162 GFLOP/s on one
// core, 91-98% of fma_peak.c's one-thread figure, when the host is quiet.
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define K 128
#define V 128
#define C 16
static float S[K * V] __attribute__((aligned(64)));
static float S2[K * V] __attribute__((aligned(64)));
static float Qd[C * K] __attribute__((aligned(64)));
static float Kd[C * K] __attribute__((aligned(64)));
static float Vv[C * V] __attribute__((aligned(64)));
static float O[C * V] __attribute__((aligned(64)));
static float O2[C * V] __attribute__((aligned(64)));

static void qs(const float *q, const float *s, float *o) {
  for (int i0 = 0; i0 < C; i0 += 8)
    for (int j0 = 0; j0 < V; j0 += 32) {
      __m512 acc[8][2];
      for (int i = 0; i < 8; ++i)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
      for (int k = 0; k < K; ++k) {
        __m512 b0 = _mm512_load_ps(s + k * V + j0),
               b1 = _mm512_load_ps(s + k * V + j0 + 16);
        for (int i = 0; i < 8; ++i) {
          __m512 a = _mm512_set1_ps(q[(i0 + i) * K + k]);
          acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
          acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
        }
      }
      for (int i = 0; i < 8; ++i) {
        _mm512_store_ps(o + (i0 + i) * V + j0, acc[i][0]);
        _mm512_store_ps(o + (i0 + i) * V + j0 + 16, acc[i][1]);
      }
    }
}
// The state update of one 8 x 32 tile held in registers: t += Kd^T V over
// the chunk's C tokens, then the tile back to the state.
static inline void update_tile(__m512 t[8][2], const float *kd, const float *v,
                               int k0, int j0) {
  for (int r = 0; r < C; ++r) {
    __m512 b0 = _mm512_load_ps(v + r * V + j0),
           b1 = _mm512_load_ps(v + r * V + j0 + 16);
    for (int i = 0; i < 8; ++i) {
      __m512 a = _mm512_set1_ps(kd[r * K + k0 + i]);
      t[i][0] = _mm512_fmadd_ps(a, b0, t[i][0]);
      t[i][1] = _mm512_fmadd_ps(a, b1, t[i][1]);
    }
  }
}
static inline void store_tile(__m512 t[8][2], float *s, int k0, int j0) {
  for (int i = 0; i < 8; ++i) {
    _mm512_store_ps(s + (k0 + i) * V + j0, t[i][0]);
    _mm512_store_ps(s + (k0 + i) * V + j0 + 16, t[i][1]);
  }
}
static void su(const float *kd, const float *v, float d, float *s) {
  __m512 dd = _mm512_set1_ps(d);
  for (int k0 = 0; k0 < K; k0 += 8)
    for (int j0 = 0; j0 < V; j0 += 32) {
      __m512 acc[8][2];
      for (int i = 0; i < 8; ++i) {
        acc[i][0] = _mm512_mul_ps(dd, _mm512_load_ps(s + (k0 + i) * V + j0));
        acc[i][1] =
            _mm512_mul_ps(dd, _mm512_load_ps(s + (k0 + i) * V + j0 + 16));
      }
      update_tile(acc, kd, v, k0, j0);
      store_tile(acc, s, k0, j0);
    }
}
// One pass: each 8x32 state tile is read once, gives its Q S terms to the
// output (kept in L1, read-modify-write) and is updated in registers.
static void fused(const float *q, const float *kd, const float *v, float d,
                  float *s, float *o) {
  __m512 dd = _mm512_set1_ps(d);
  memset(o, 0, sizeof(float) * C * V);
  for (int j0 = 0; j0 < V; j0 += 32)
    for (int k0 = 0; k0 < K; k0 += 8) {
      __m512 t[8][2];
      for (int i = 0; i < 8; ++i) {
        t[i][0] = _mm512_load_ps(s + (k0 + i) * V + j0);
        t[i][1] = _mm512_load_ps(s + (k0 + i) * V + j0 + 16);
      }
      for (int r = 0; r < C; ++r) {
        __m512 o0 = _mm512_load_ps(o + r * V + j0),
               o1 = _mm512_load_ps(o + r * V + j0 + 16);
        __m512 p0 = _mm512_setzero_ps(), p1 = _mm512_setzero_ps();
        for (int i = 0; i < 8; i += 2) {
          __m512 a = _mm512_set1_ps(q[r * K + k0 + i]);
          __m512 a2 = _mm512_set1_ps(q[r * K + k0 + i + 1]);
          o0 = _mm512_fmadd_ps(a, t[i][0], o0);
          o1 = _mm512_fmadd_ps(a, t[i][1], o1);
          p0 = _mm512_fmadd_ps(a2, t[i + 1][0], p0);
          p1 = _mm512_fmadd_ps(a2, t[i + 1][1], p1);
        }
        _mm512_store_ps(o + r * V + j0, _mm512_add_ps(o0, p0));
        _mm512_store_ps(o + r * V + j0 + 16, _mm512_add_ps(o1, p1));
      }
      for (int i = 0; i < 8; ++i) {
        t[i][0] = _mm512_mul_ps(dd, t[i][0]);
        t[i][1] = _mm512_mul_ps(dd, t[i][1]);
      }
      update_tile(t, kd, v, k0, j0);
      store_tile(t, s, k0, j0);
    }
}
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 20000;
  srand(1);
  for (int i = 0; i < K * V; ++i)
    S[i] = S2[i] = (rand() / (float)RAND_MAX - 0.5f) * 0.01f;
  for (int i = 0; i < C * K; ++i) {
    Qd[i] = rand() / (float)RAND_MAX - 0.5f;
    Kd[i] = 0.01f * (rand() / (float)RAND_MAX - 0.5f);
  }
  for (int i = 0; i < C * V; ++i)
    Vv[i] = rand() / (float)RAND_MAX - 0.5f;
  // correctness: one step each
  qs(Qd, S, O);
  su(Kd, Vv, 0.9f, S);
  fused(Qd, Kd, Vv, 0.9f, S2, O2);
  double e = 0, m = 0;
  for (int i = 0; i < C * V; ++i) {
    double x = O[i] - O2[i];
    e = e > x * x ? e : x * x;
    m += O[i] * O[i];
  }
  for (int i = 0; i < K * V; ++i) {
    double x = S[i] - S2[i];
    e = e > x * x ? e : x * x;
  }
  if (e > 1e-10 * (1 + m)) {
    fprintf(stderr,
            "state_products: the two versions disagree: max squared difference "
            "%.3g\n",
            e);
    return 1;
  }
  double best[2] = {1e9, 1e9};
  for (int round = 0; round < 10; ++round)
    for (int variant = 0; variant < 2; ++variant) {
      double t0 = now();
      for (int r = 0; r < reps; ++r) {
        if (variant == 0) {
          qs(Qd, S, O);
          su(Kd, Vv, 0.999f, S);
        } else
          fused(Qd, Kd, Vv, 0.999f, S2, O2);
      }
      double t = (now() - t0) / reps;
      if (t < best[variant])
        best[variant] = t;
    }
  double flops = 2.0 * 2 * C * K * V;
  printf("separate %.2f us (%.1f GFLOP/s), fused %.2f us (%.1f GFLOP/s), "
         "fused/separate %.3f\n",
         best[0] * 1e6, flops / best[0] / 1e9, best[1] * 1e6,
         flops / best[1] / 1e9, best[1] / best[0]);
  return 0;
}
