/* cw2v vector primitives, the per-worker random generator and the CPU feature probe.
 *
 * The dot/axpy loops are plain C that the compiler auto-vectorises and inlines into the Cython
 * kernel. The kernel is compiled once per instruction set (baseline, AVX2+FMA, AVX-512; see
 * setup.py) and cw2v/_simd.py imports the widest one the CPU supports: runtime dispatch at
 * module level, so nothing in the hot loop pays for it and no -march=native is needed.
 */
#ifndef CW2V_VECOPS_H
#define CW2V_VECOPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(_MSC_VER) && !defined(__clang__)
#define CW2V_RESTRICT __restrict
#else
#define CW2V_RESTRICT __restrict__
#endif

#define CW2V_LANES 16

/* The primitives always inline into the kernel functions: with several callers, GCC otherwise
 * kept cw2v_dots out of line, which cost the batched mode a third of its speed. */
#if defined(_MSC_VER) && !defined(__clang__)
#define CW2V_INLINE static __forceinline
#elif defined(__GNUC__) || defined(__clang__)
#define CW2V_INLINE static inline __attribute__((always_inline))
#else
#define CW2V_INLINE static inline
#endif

/* Sum of sixteen partial sums, pairwise: halves added lane by lane (8, then 4, 2, 1), written
 * out so that the compiler keeps the first steps in vector registers. */
CW2V_INLINE float cw2v_hsum16(const float *acc)
{
    float s8[8], s4[4];
    for (int j = 0; j < 8; j++) s8[j] = acc[j] + acc[j + 8];
    for (int j = 0; j < 4; j++) s4[j] = s8[j] + s8[j + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

/* Dot product of two float vectors of length n. Sixteen independent partial sums, one per
 * lane, so the compiler vectorises the loop at any width (SSE to AVX-512) without -ffast-math:
 * each lane's order of additions is fixed, the result does not depend on the width. */
CW2V_INLINE float cw2v_dot(const float *CW2V_RESTRICT a, const float *CW2V_RESTRICT b, ptrdiff_t n)
{
    float acc[CW2V_LANES] = {0.f};
    ptrdiff_t i = 0;
    for (; i + CW2V_LANES <= n; i += CW2V_LANES)
        for (int j = 0; j < CW2V_LANES; j++) acc[j] += a[i + j] * b[i + j];
    float tail = 0.f;
    for (; i < n; i++) tail += a[i] * b[i];
    return cw2v_hsum16(acc) + tail;
}

/* out[b] = x . rows[b] for b < m, four rows per pass so x is read once per four rows and
 * four independent sums are in flight (the batched mode's S = I O^T, one row of it). */
CW2V_INLINE void cw2v_dots(const float *CW2V_RESTRICT x, const float *const *rows, int m,
                             float *CW2V_RESTRICT out, ptrdiff_t n)
{
    int b = 0;
    for (; b + 4 <= m; b += 4) {
        const float *r0 = rows[b], *r1 = rows[b + 1], *r2 = rows[b + 2], *r3 = rows[b + 3];
        float a0[CW2V_LANES] = {0.f}, a1[CW2V_LANES] = {0.f};
        float a2[CW2V_LANES] = {0.f}, a3[CW2V_LANES] = {0.f};
        ptrdiff_t i = 0;
        for (; i + CW2V_LANES <= n; i += CW2V_LANES)
            for (int j = 0; j < CW2V_LANES; j++) {
                float xv = x[i + j];
                a0[j] += xv * r0[i + j];
                a1[j] += xv * r1[i + j];
                a2[j] += xv * r2[i + j];
                a3[j] += xv * r3[i + j];
            }
        float t0 = 0.f, t1 = 0.f, t2 = 0.f, t3 = 0.f;
        for (; i < n; i++) {
            t0 += x[i] * r0[i];
            t1 += x[i] * r1[i];
            t2 += x[i] * r2[i];
            t3 += x[i] * r3[i];
        }
        out[b] = cw2v_hsum16(a0) + t0;
        out[b + 1] = cw2v_hsum16(a1) + t1;
        out[b + 2] = cw2v_hsum16(a2) + t2;
        out[b + 3] = cw2v_hsum16(a3) + t3;
    }
    for (; b < m; b++) out[b] = cw2v_dot(x, rows[b], n);
}

/* y += sum_b coef[b * stride] * rows[b], one pass over y per sixteen lanes (the batched mode's
 * dI = G O and dO = G^T I, one row of each). */
CW2V_INLINE void cw2v_combine(const float *coef, ptrdiff_t stride, const float *const *rows,
                                int m, float *CW2V_RESTRICT y, ptrdiff_t n)
{
    ptrdiff_t i = 0;
    for (; i + CW2V_LANES <= n; i += CW2V_LANES) {
        float acc[CW2V_LANES];
        for (int j = 0; j < CW2V_LANES; j++) acc[j] = y[i + j];
        for (int b = 0; b < m; b++) {
            const float c = coef[b * stride], *r = rows[b] + i;
            for (int j = 0; j < CW2V_LANES; j++) acc[j] += c * r[j];
        }
        for (int j = 0; j < CW2V_LANES; j++) y[i + j] = acc[j];
    }
    for (; i < n; i++) {
        float acc = y[i];
        for (int b = 0; b < m; b++) acc += coef[b * stride] * rows[b][i];
        y[i] = acc;
    }
}

/* y += a * x */
CW2V_INLINE void cw2v_axpy(float a, const float *CW2V_RESTRICT x, float *CW2V_RESTRICT y, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* The output-side half of one SGNS target (Mikolov et al. 2013, eq. 4 gradients, word2vec.c order):
 *   neu1e += g * o   (o before its update)
 *   o     += g * h
 * in one pass over o. */
CW2V_INLINE void cw2v_update_out(float g, const float *CW2V_RESTRICT h, float *CW2V_RESTRICT o,
                            float *CW2V_RESTRICT neu1e, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        float oi = o[i];
        neu1e[i] += g * oi;
        o[i] = oi + g * h[i];
    }
}

/* A worker's private scratch: n bytes that share no 128-byte block (two cache lines, which the
 * adjacent-line prefetcher fetches as a pair) with any other allocation. Workers' states are
 * made in one thread, so plain malloc would put their small buffers side by side, and every
 * write to one would take the line from the other core (false sharing). *raw receives the
 * pointer to free(); NULL when out of memory. */
#define CW2V_PRIVATE_BLOCK 128
static inline void *cw2v_alloc_private(size_t n, void **raw)
{
    char *p = (char *)malloc(n + 2 * CW2V_PRIVATE_BLOCK);
    *raw = p;
    if (p == NULL) return NULL;
    uintptr_t a = ((uintptr_t)p + CW2V_PRIVATE_BLOCK) & ~(uintptr_t)(CW2V_PRIVATE_BLOCK - 1);
    return (void *)a;  /* in (p, p + 128]: its blocks up to a + n + 127 lie inside p's 256 spare */
}

/* Ask for a row's cache lines ahead of use (rows are read and written: prefetch for write; on 16
 * cores, prefetching for read or not at all measured no faster, see bench/results). */
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

/* The instruction set this copy of the kernel was compiled for. */
static const char *cw2v_compiled_level(void)
{
#if defined(__AVX512F__)
    return "avx512";
#elif defined(__AVX2__)
    return "avx2";
#else
    return "baseline";
#endif
}

/* The widest level the running CPU and OS support: 2 = AVX-512 (F, VL, BW, DQ), 1 = AVX2 + FMA,
 * 0 = baseline. */
#if defined(_MSC_VER) && !defined(__clang__) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#include <immintrin.h>
static int cw2v_cpu_level(void)
{
    int r[4];
    __cpuid(r, 0);
    if (r[0] < 7) return 0;
    __cpuid(r, 1);
    int has_fma = (r[2] >> 12) & 1, has_osxsave = (r[2] >> 27) & 1, has_avx = (r[2] >> 28) & 1;
    if (!(has_fma && has_osxsave && has_avx)) return 0;
    unsigned long long xcr0 = _xgetbv(0);
    if ((xcr0 & 0x6) != 0x6) return 0;
    __cpuidex(r, 7, 0);
    int has_avx2 = (r[1] >> 5) & 1;
    int avx512 = ((r[1] >> 16) & 1) && ((r[1] >> 17) & 1) && ((r[1] >> 30) & 1) && ((r[1] >> 31) & 1);
    if (!has_avx2) return 0;
    if (avx512 && (xcr0 & 0xE6) == 0xE6) return 2;
    return 1;
}
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
static int cw2v_cpu_level(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
}
#else
static int cw2v_cpu_level(void) { return 0; }
#endif

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
