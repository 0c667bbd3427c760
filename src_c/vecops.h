/* cw2v vector primitives and the per-worker random generator.
 *
 * The dot/axpy loops are plain C that the compiler auto-vectorises. On x86-64 Linux with glibc
 * (GCC or Clang) they are built three times -- AVX-512, AVX2+FMA and the baseline -- with
 * `target_clones`, and the loader picks the widest one the CPU has (runtime dispatch through
 * ifunc). Elsewhere (macOS, Windows/MSVC, musl, ARM) the baseline build is used as is: NEON on
 * aarch64 is baseline already. No -march=native is needed for wide SIMD.
 */
#ifndef CW2V_VECOPS_H
#define CW2V_VECOPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) && defined(__GLIBC__) && defined(__ELF__) && \
    (defined(__clang__) ? (__clang_major__ >= 14) : (defined(__GNUC__) && __GNUC__ >= 9)) && \
    !defined(CW2V_NO_DISPATCH)
#define CW2V_DISPATCH 1
#define CW2V_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CW2V_DISPATCH 0
#define CW2V_CLONES
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define CW2V_RESTRICT __restrict
#else
#define CW2V_RESTRICT __restrict__
#endif

/* Dot product of two float vectors of length n. Four partial sums so the compiler may
 * reassociate without -ffast-math. */
CW2V_CLONES
static float cw2v_dot(const float *CW2V_RESTRICT a, const float *CW2V_RESTRICT b, ptrdiff_t n)
{
    float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int j = 0; j < 4; j++) {
            s0 += a[i + j] * b[i + j];
            s1 += a[i + 4 + j] * b[i + 4 + j];
            s2 += a[i + 8 + j] * b[i + 8 + j];
            s3 += a[i + 12 + j] * b[i + 12 + j];
        }
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* y += a * x */
CW2V_CLONES
static void cw2v_axpy(float a, const float *CW2V_RESTRICT x, float *CW2V_RESTRICT y, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* The output-side half of one SGNS target (Mikolov et al. 2013, eq. 4 gradients, word2vec.c order):
 *   neu1e += g * o   (o before its update)
 *   o     += g * h
 * in one pass over o. */
CW2V_CLONES
static void cw2v_update_out(float g, const float *CW2V_RESTRICT h, float *CW2V_RESTRICT o,
                            float *CW2V_RESTRICT neu1e, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        float oi = o[i];
        neu1e[i] += g * oi;
        o[i] = oi + g * h[i];
    }
}

/* Ask for a row's cache lines ahead of use. */
static inline void cw2v_prefetch_row(const float *p, ptrdiff_t n)
{
#if defined(__GNUC__) || defined(__clang__)
    const char *c = (const char *)p;
    for (ptrdiff_t off = 0; off < n * (ptrdiff_t)sizeof(float); off += 64)
        __builtin_prefetch(c + off, 1, 3);
#else
    (void)p; (void)n;
#endif
}

/* Which vector width the dispatcher picked, for benchmarks and tests. */
static const char *cw2v_simd_level(void)
{
#if CW2V_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
    return "baseline";
#else
    return "baseline (no runtime dispatch on this platform)";
#endif
}

/* splitmix64 (Steele, Lea, Flood 2014): a 64-bit generator, one state word per worker. */
static inline uint64_t cw2v_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform float in [0, 1) from the top 24 bits. */
static inline float cw2v_rng_uniform(uint64_t *state)
{
    return (float)(cw2v_rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform integer in [0, n) by Lemire's multiply-shift on the high 32 bits (n < 2**32). */
static inline uint32_t cw2v_rng_below(uint64_t *state, uint32_t n)
{
    return (uint32_t)(((cw2v_rng_next(state) >> 32) * (uint64_t)n) >> 32);
}

/* One draw from a Walker/Vose alias table: the high 32 bits pick a bucket, the low 24 bits
 * decide between the bucket and its alias. O(1), one generator call. */
static inline int32_t cw2v_alias_draw(uint64_t *state, const float *prob, const int32_t *alias,
                                      uint32_t n)
{
    uint64_t r = cw2v_rng_next(state);
    uint32_t i = (uint32_t)(((r >> 32) * (uint64_t)n) >> 32);
    float u = (float)(r & 0xFFFFFFULL) * (1.0f / 16777216.0f);
    return u < prob[i] ? (int32_t)i : alias[i];
}

#endif /* CW2V_VECOPS_H */
