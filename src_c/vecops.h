/* cw2v vector primitives, the per-worker random generator and the CPU feature probe.
 *
 * The dot/axpy loops are plain C that the compiler auto-vectorises and inlines into the Cython
 * kernel; the row loops use GCC/Clang vector extensions; one routine, hierarchical softmax's
 * gradients in the AVX-512 copy (cw2v_hs_gradients), uses AVX-512 intrinsics for its gathers.
 * The kernel is compiled once per instruction set (baseline, AVX2+FMA, AVX-512; see setup.py)
 * and cw2v/_simd.py imports the widest one the CPU supports: runtime dispatch at module level,
 * so nothing in the hot loop pays for it and no -march=native is needed.
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

/* Sixteen-lane vectors for the kernels' row loops: GCC/Clang vector extensions, which compile
 * to two AVX2 registers, one AVX-512 register or four SSE registers as the copy's flags allow
 * (same lanes, same order of operations per lane: results do not depend on the width); a
 * struct of sixteen floats elsewhere (MSVC, or where CW2V_PORTABLE_VECTORS is defined: the
 * tests build that one too), whose loops the compiler vectorises as it can.
 * Loads and stores are unaligned (rows are d floats apart). */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(CW2V_PORTABLE_VECTORS)
typedef float cw2v_v8 __attribute__((vector_size(32), aligned(4), __may_alias__));
#if defined(__AVX512F__)
/* The AVX-512 copy: one 512-bit register per vector (half the instructions of two halves). */
typedef float cw2v_v16 __attribute__((vector_size(64), aligned(4), __may_alias__));
CW2V_INLINE cw2v_v16 cw2v_v16_load(const float *p) { return *(const cw2v_v16 *)p; }
CW2V_INLINE void cw2v_v16_store(float *p, cw2v_v16 v) { *(cw2v_v16 *)p = v; }
CW2V_INLINE cw2v_v16 cw2v_v16_zero(void) { cw2v_v16 z = {0.f}; return z; }
CW2V_INLINE cw2v_v16 cw2v_v16_add(cw2v_v16 a, cw2v_v16 b) { return a + b; }
/* a * b + c for a scalar a. */
CW2V_INLINE cw2v_v16 cw2v_v16_madd(float a, cw2v_v16 b, cw2v_v16 c)
{
    const cw2v_v16 av = {a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a};
    return av * b + c;
}
/* a * b + c, lane by lane. */
CW2V_INLINE cw2v_v16 cw2v_v16_vmadd(cw2v_v16 a, cw2v_v16 b, cw2v_v16 c) { return a * b + c; }
/* The low and high eight lanes. */
#define CW2V_V16_LO(v) __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)
#define CW2V_V16_HI(v) __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15)
#else
/* Two halves of eight floats (GCC lowers wider generic vectors poorly on AVX2). */
typedef struct { cw2v_v8 lo, hi; } cw2v_v16;
#define CW2V_V16_LO(v) ((v).lo)
#define CW2V_V16_HI(v) ((v).hi)
CW2V_INLINE cw2v_v16 cw2v_v16_load(const float *p)
{
    cw2v_v16 v = {*(const cw2v_v8 *)p, *(const cw2v_v8 *)(p + 8)};
    return v;
}
CW2V_INLINE void cw2v_v16_store(float *p, cw2v_v16 v)
{
    *(cw2v_v8 *)p = v.lo;
    *(cw2v_v8 *)(p + 8) = v.hi;
}
CW2V_INLINE cw2v_v16 cw2v_v16_zero(void) { cw2v_v16 z = {{0.f}, {0.f}}; return z; }
CW2V_INLINE cw2v_v16 cw2v_v16_add(cw2v_v16 a, cw2v_v16 b)
{
    cw2v_v16 r = {a.lo + b.lo, a.hi + b.hi};
    return r;
}
/* a * b + c for a scalar a. */
CW2V_INLINE cw2v_v16 cw2v_v16_madd(float a, cw2v_v16 b, cw2v_v16 c)
{
    const cw2v_v8 av = {a, a, a, a, a, a, a, a};
    cw2v_v16 r = {av * b.lo + c.lo, av * b.hi + c.hi};
    return r;
}
/* a * b + c, lane by lane. */
CW2V_INLINE cw2v_v16 cw2v_v16_vmadd(cw2v_v16 a, cw2v_v16 b, cw2v_v16 c)
{
    cw2v_v16 r = {a.lo * b.lo + c.lo, a.hi * b.hi + c.hi};
    return r;
}
#endif
#else
typedef struct { float f[CW2V_LANES]; } cw2v_v16;
CW2V_INLINE cw2v_v16 cw2v_v16_load(const float *p) { cw2v_v16 v; for (int j = 0; j < CW2V_LANES; j++) v.f[j] = p[j]; return v; }
CW2V_INLINE void cw2v_v16_store(float *p, cw2v_v16 v) { for (int j = 0; j < CW2V_LANES; j++) p[j] = v.f[j]; }
CW2V_INLINE cw2v_v16 cw2v_v16_zero(void) { cw2v_v16 z = {{0.f}}; return z; }
CW2V_INLINE cw2v_v16 cw2v_v16_add(cw2v_v16 a, cw2v_v16 b) { for (int j = 0; j < CW2V_LANES; j++) a.f[j] += b.f[j]; return a; }
CW2V_INLINE cw2v_v16 cw2v_v16_madd(float a, cw2v_v16 b, cw2v_v16 c) { for (int j = 0; j < CW2V_LANES; j++) c.f[j] += a * b.f[j]; return c; }
CW2V_INLINE cw2v_v16 cw2v_v16_vmadd(cw2v_v16 a, cw2v_v16 b, cw2v_v16 c) { for (int j = 0; j < CW2V_LANES; j++) c.f[j] += a.f[j] * b.f[j]; return c; }
#endif

/* Four-lane vectors for the elements past a row's last full block of sixteen (n % 16 of them,
 * four at a time): loads and stores of k < 4 lanes (a row's last elements) read and write only
 * those, the other lanes load as zero. The same arithmetic lane by lane as the sixteen-lane
 * blocks, so the tail costs a quarter of a block per four elements, and no block overlaps
 * another: a load never spans two stores still on their way to the cache (the old last block,
 * ending at n, reloaded lanes the block before had just stored, and the CPU could not forward
 * them). */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(CW2V_PORTABLE_VECTORS)
typedef float cw2v_v4 __attribute__((vector_size(16), aligned(4), __may_alias__));
CW2V_INLINE cw2v_v4 cw2v_v4_load(const float *p, ptrdiff_t k)
{
    if (k >= 4) return *(const cw2v_v4 *)p;
    cw2v_v4 v = {p[0], k > 1 ? p[1] : 0.f, k > 2 ? p[2] : 0.f, 0.f};
    return v;
}
CW2V_INLINE void cw2v_v4_store(float *p, cw2v_v4 v, ptrdiff_t k)
{
    if (k >= 4) {
        *(cw2v_v4 *)p = v;
        return;
    }
    p[0] = v[0];
    if (k > 1) p[1] = v[1];
    if (k > 2) p[2] = v[2];
}
CW2V_INLINE cw2v_v4 cw2v_v4_zero(void) { cw2v_v4 z = {0.f}; return z; }
CW2V_INLINE cw2v_v4 cw2v_v4_add(cw2v_v4 a, cw2v_v4 b) { return a + b; }
CW2V_INLINE cw2v_v4 cw2v_v4_madd(float a, cw2v_v4 b, cw2v_v4 c)
{
    const cw2v_v4 av = {a, a, a, a};
    return av * b + c;
}
CW2V_INLINE cw2v_v4 cw2v_v4_vmadd(cw2v_v4 a, cw2v_v4 b, cw2v_v4 c) { return a * b + c; }
CW2V_INLINE float cw2v_v4_sum(cw2v_v4 v) { return (v[0] + v[2]) + (v[1] + v[3]); }
#else
typedef struct { float f[4]; } cw2v_v4;
CW2V_INLINE cw2v_v4 cw2v_v4_load(const float *p, ptrdiff_t k) { cw2v_v4 v; for (int j = 0; j < 4; j++) v.f[j] = j < k ? p[j] : 0.f; return v; }
CW2V_INLINE void cw2v_v4_store(float *p, cw2v_v4 v, ptrdiff_t k) { for (int j = 0; j < 4; j++) if (j < k) p[j] = v.f[j]; }
CW2V_INLINE cw2v_v4 cw2v_v4_zero(void) { cw2v_v4 z = {{0.f}}; return z; }
CW2V_INLINE cw2v_v4 cw2v_v4_add(cw2v_v4 a, cw2v_v4 b) { for (int j = 0; j < 4; j++) a.f[j] += b.f[j]; return a; }
CW2V_INLINE cw2v_v4 cw2v_v4_madd(float a, cw2v_v4 b, cw2v_v4 c) { for (int j = 0; j < 4; j++) c.f[j] += a * b.f[j]; return c; }
CW2V_INLINE cw2v_v4 cw2v_v4_vmadd(cw2v_v4 a, cw2v_v4 b, cw2v_v4 c) { for (int j = 0; j < 4; j++) c.f[j] += a.f[j] * b.f[j]; return c; }
CW2V_INLINE float cw2v_v4_sum(cw2v_v4 v) { return (v.f[0] + v.f[2]) + (v.f[1] + v.f[3]); }
#endif

/* The lanes of the tail group at offset o of a row of n floats: 4, or fewer in the last. */
#define CW2V_TAIL_LANES(o, n) ((n) - (o) < 4 ? (n) - (o) : 4)

/* The sum of v's lanes, pairwise as cw2v_hsum16. */
CW2V_INLINE float cw2v_v16_sum(cw2v_v16 v)
{
    float a[CW2V_LANES];
    cw2v_v16_store(a, v);
    return cw2v_hsum16(a);
}

/* out[k] = cw2v_v16_sum(a_k) for k < 4, the same additions in the same order, the four sums
 * reduced side by side (a transposed reduction: three shuffle-and-add steps for all four). */
CW2V_INLINE void cw2v_v16_sum4(cw2v_v16 a0, cw2v_v16 a1, cw2v_v16 a2, cw2v_v16 a3, float *out)
{
#if (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)) && !defined(CW2V_PORTABLE_VECTORS)
    const cw2v_v8 s0 = CW2V_V16_LO(a0) + CW2V_V16_HI(a0);   /* s8 of each */
    const cw2v_v8 s1 = CW2V_V16_LO(a1) + CW2V_V16_HI(a1);
    const cw2v_v8 s2 = CW2V_V16_LO(a2) + CW2V_V16_HI(a2);
    const cw2v_v8 s3 = CW2V_V16_LO(a3) + CW2V_V16_HI(a3);
    /* s4 of rows 0, 1 (lanes 0-3, 4-7) and of rows 2, 3 */
    const cw2v_v8 t01 = __builtin_shufflevector(s0, s1, 0, 1, 2, 3, 8, 9, 10, 11) +
                        __builtin_shufflevector(s0, s1, 4, 5, 6, 7, 12, 13, 14, 15);
    const cw2v_v8 t23 = __builtin_shufflevector(s2, s3, 0, 1, 2, 3, 8, 9, 10, 11) +
                        __builtin_shufflevector(s2, s3, 4, 5, 6, 7, 12, 13, 14, 15);
    /* (s4[0] + s4[2], s4[1] + s4[3]) of each row */
    const cw2v_v8 u = __builtin_shufflevector(t01, t23, 0, 1, 4, 5, 8, 9, 12, 13) +
                      __builtin_shufflevector(t01, t23, 2, 3, 6, 7, 10, 11, 14, 15);
    const cw2v_v8 w = __builtin_shufflevector(u, u, 0, 2, 4, 6, 0, 2, 4, 6) +
                      __builtin_shufflevector(u, u, 1, 3, 5, 7, 1, 3, 5, 7);
    out[0] = w[0];
    out[1] = w[1];
    out[2] = w[2];
    out[3] = w[3];
#else
    out[0] = cw2v_v16_sum(a0);
    out[1] = cw2v_v16_sum(a1);
    out[2] = cw2v_v16_sum(a2);
    out[3] = cw2v_v16_sum(a3);
#endif
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

/* out[k] = (the sum of a_k's lanes) + (the sum of t_k's) for k < K (K <= 4, a constant at each
 * call): a row's full blocks, then its tail. */
CW2V_INLINE void cw2v__sums(cw2v_v16 a0, cw2v_v16 a1, cw2v_v16 a2, cw2v_v16 a3, cw2v_v4 t0,
                            cw2v_v4 t1, cw2v_v4 t2, cw2v_v4 t3, int K, float *CW2V_RESTRICT out)
{
    float sums[4];
    cw2v_v16_sum4(a0, a1, a2, a3, sums);
    out[0] = sums[0] + cw2v_v4_sum(t0);
    if (K > 1) out[1] = sums[1] + cw2v_v4_sum(t1);
    if (K > 2) out[2] = sums[2] + cw2v_v4_sum(t2);
    if (K > 3) out[3] = sums[3] + cw2v_v4_sum(t3);
}

/* One pass of cw2v_dots over K <= 4 rows r[0:K] (K a constant at each call: the unused
 * accumulators fold away): the blocks of sixteen below full, then the tail, four lanes at a
 * time. */
CW2V_INLINE void cw2v__dots_pass(const float *CW2V_RESTRICT x, const float *const *r, int K,
                                 float *CW2V_RESTRICT out, ptrdiff_t full, ptrdiff_t n)
{
    cw2v_v16 a0 = cw2v_v16_zero(), a1 = a0, a2 = a0, a3 = a0;
    for (ptrdiff_t o = 0; o < full; o += CW2V_LANES) {
        const cw2v_v16 xv = cw2v_v16_load(x + o);
        a0 = cw2v_v16_vmadd(xv, cw2v_v16_load(r[0] + o), a0);
        if (K > 1) a1 = cw2v_v16_vmadd(xv, cw2v_v16_load(r[1] + o), a1);
        if (K > 2) a2 = cw2v_v16_vmadd(xv, cw2v_v16_load(r[2] + o), a2);
        if (K > 3) a3 = cw2v_v16_vmadd(xv, cw2v_v16_load(r[3] + o), a3);
    }
    cw2v_v4 t0 = cw2v_v4_zero(), t1 = t0, t2 = t0, t3 = t0;
    for (ptrdiff_t o = full; o < n; o += 4) {
        const ptrdiff_t k = CW2V_TAIL_LANES(o, n);
        const cw2v_v4 xv = cw2v_v4_load(x + o, k);
        t0 = cw2v_v4_vmadd(xv, cw2v_v4_load(r[0] + o, k), t0);
        if (K > 1) t1 = cw2v_v4_vmadd(xv, cw2v_v4_load(r[1] + o, k), t1);
        if (K > 2) t2 = cw2v_v4_vmadd(xv, cw2v_v4_load(r[2] + o, k), t2);
        if (K > 3) t3 = cw2v_v4_vmadd(xv, cw2v_v4_load(r[3] + o, k), t3);
    }
    cw2v__sums(a0, a1, a2, a3, t0, t1, t2, t3, K, out);
}

/* out[b] = x . rows[b] for b < m, four rows per pass so x is read once per four rows and
 * four independent sums are in flight (the batched mode's S = I O^T, one row of it; the
 * hierarchical softmax's path); the last one to three rows in a pass of their own. */
CW2V_INLINE void cw2v_dots(const float *CW2V_RESTRICT x, const float *const *rows, int m,
                           float *CW2V_RESTRICT out, ptrdiff_t n)
{
    const ptrdiff_t full = n - n % CW2V_LANES;
    int b = 0;
    for (; b + 4 <= m; b += 4) cw2v__dots_pass(x, rows + b, 4, out + b, full, n);
    switch (m - b) {
    case 3: cw2v__dots_pass(x, rows + b, 3, out + b, full, n); break;
    case 2: cw2v__dots_pass(x, rows + b, 2, out + b, full, n); break;
    case 1: cw2v__dots_pass(x, rows + b, 1, out + b, full, n); break;
    default: break;
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

/* Row b of a set of m rows: rows[b], or W + ids[b] * ld when rows is NULL (a constant at each
 * call: the other branch folds away; ld is W's row stride in floats). */
#define CW2V__ROW(rows, W, ids, b, ld) ((rows) ? (rows)[b] : (W) + (ptrdiff_t)(ids)[b] * (ld))

/* sum_b coef[b * stride] * row_b over the sixteen lanes at offset o, even and odd rows in two
 * accumulators (two independent chains of multiply-adds, added at the end): the block loop of
 * cw2v_combine and cw2v_sum_rows. */
CW2V_INLINE cw2v_v16 cw2v__rows_block(const float *coef, ptrdiff_t stride,
                                      const float *const *rows, const float *W,
                                      const int32_t *ids, int m, ptrdiff_t ld, ptrdiff_t o)
{
    cw2v_v16 a0 = cw2v_v16_zero(), a1 = a0;
    int b = 0;
    for (; b + 2 <= m; b += 2) {
        a0 = cw2v_v16_madd(coef[b * stride], cw2v_v16_load(CW2V__ROW(rows, W, ids, b, ld) + o), a0);
        a1 = cw2v_v16_madd(coef[(b + 1) * stride],
                           cw2v_v16_load(CW2V__ROW(rows, W, ids, b + 1, ld) + o), a1);
    }
    if (b < m)
        a0 = cw2v_v16_madd(coef[b * stride], cw2v_v16_load(CW2V__ROW(rows, W, ids, b, ld) + o), a0);
    return cw2v_v16_add(a0, a1);
}

/* cw2v__rows_block's sum over the k <= 4 lanes of the tail group at offset o. */
CW2V_INLINE cw2v_v4 cw2v__rows_tail(const float *coef, ptrdiff_t stride, const float *const *rows,
                                    const float *W, const int32_t *ids, int m, ptrdiff_t ld,
                                    ptrdiff_t o, ptrdiff_t k)
{
    cw2v_v4 a0 = cw2v_v4_zero(), a1 = a0;
    int b = 0;
    for (; b + 2 <= m; b += 2) {
        a0 = cw2v_v4_madd(coef[b * stride], cw2v_v4_load(CW2V__ROW(rows, W, ids, b, ld) + o, k), a0);
        a1 = cw2v_v4_madd(coef[(b + 1) * stride],
                          cw2v_v4_load(CW2V__ROW(rows, W, ids, b + 1, ld) + o, k), a1);
    }
    if (b < m)
        a0 = cw2v_v4_madd(coef[b * stride], cw2v_v4_load(CW2V__ROW(rows, W, ids, b, ld) + o, k), a0);
    return cw2v_v4_add(a0, a1);
}

/* y += sum_b coef[b * stride] * rows[b], one pass over y per sixteen lanes (the batched mode's
 * dI = G O and dO = G^T I, one row of each), then the tail four lanes at a time. y is none of
 * the rows. */
CW2V_INLINE void cw2v_combine(const float *coef, ptrdiff_t stride, const float *const *rows,
                              int m, float *CW2V_RESTRICT y, ptrdiff_t n)
{
    const ptrdiff_t full = n - n % CW2V_LANES;
    for (ptrdiff_t o = 0; o < full; o += CW2V_LANES) {
        const cw2v_v16 sum = cw2v__rows_block(coef, stride, rows, NULL, NULL, m, 0, o);
        cw2v_v16_store(y + o, cw2v_v16_add(cw2v_v16_load(y + o), sum));
    }
    for (ptrdiff_t o = full; o < n; o += 4) {
        const ptrdiff_t k = CW2V_TAIL_LANES(o, n);
        const cw2v_v4 sum = cw2v__rows_tail(coef, stride, rows, NULL, NULL, m, 0, o, k);
        cw2v_v4_store(y + o, cw2v_v4_add(cw2v_v4_load(y + o, k), sum), k);
    }
}

/* y = scale * sum_j W[ids[j]], rows of n floats ld apart (CBOW's context vector h; m >= 1),
 * sixteen lanes at a time as cw2v_combine (a coefficient of 1 adds each row exactly). */
CW2V_INLINE void cw2v_sum_rows(const float *W, ptrdiff_t ld, const int32_t *ids, int m,
                               float scale, float *CW2V_RESTRICT y, ptrdiff_t n)
{
    static const float one = 1.f;
    const ptrdiff_t full = n - n % CW2V_LANES;
    for (ptrdiff_t o = 0; o < full; o += CW2V_LANES) {
        const cw2v_v16 sum = cw2v__rows_block(&one, 0, NULL, W, ids, m, ld, o);
        cw2v_v16_store(y + o, cw2v_v16_madd(scale, sum, cw2v_v16_zero()));
    }
    for (ptrdiff_t o = full; o < n; o += 4) {
        const ptrdiff_t k = CW2V_TAIL_LANES(o, n);
        const cw2v_v4 sum = cw2v__rows_tail(&one, 0, NULL, W, ids, m, ld, o, k);
        cw2v_v4_store(y + o, cw2v_v4_madd(scale, sum, cw2v_v4_zero()), k);
    }
}

/* W[ids[j]] += x for j < m, rows of n floats ld apart (CBOW's input gradient to every context
 * row; a row listed twice gets x twice), sixteen lanes at a time with x's block held in
 * registers, then the tail. */
CW2V_INLINE void cw2v_add_to_rows(const float *CW2V_RESTRICT x, float *W, ptrdiff_t ld,
                                  const int32_t *ids, int m, ptrdiff_t n)
{
    const ptrdiff_t full = n - n % CW2V_LANES;
    for (ptrdiff_t o = 0; o < full; o += CW2V_LANES) {
        const cw2v_v16 xv = cw2v_v16_load(x + o);
        for (int b = 0; b < m; b++) {
            float *r = W + (ptrdiff_t)ids[b] * ld + o;
            cw2v_v16_store(r, cw2v_v16_add(cw2v_v16_load(r), xv));
        }
    }
    for (ptrdiff_t o = full; o < n; o += 4) {
        const ptrdiff_t k = CW2V_TAIL_LANES(o, n);
        const cw2v_v4 xv = cw2v_v4_load(x + o, k);
        for (int b = 0; b < m; b++) {
            float *r = W + (ptrdiff_t)ids[b] * ld + o;
            cw2v_v4_store(r, cw2v_v4_add(cw2v_v4_load(r, k), xv), k);
        }
    }
}

/* Hierarchical softmax's output-side update for input vector h and m distinct inner-node rows
 * with gradients g (Mikolov et al. 2013b, eq. 3; word2vec.c's node loop):
 *   y      += sum_b g[b] * rows[b]   (the rows before their update)
 *   rows[b] += g[b] * h
 * in one pass over each row, sixteen lanes at a time (h's block held, y's block accumulated in
 * two chains, even and odd rows, as cw2v_combine), then the tail four lanes at a time. y and h
 * are none of the rows. */
CW2V_INLINE void cw2v_hs_update(const float *g, float *const *rows, int m,
                                const float *CW2V_RESTRICT h, float *CW2V_RESTRICT y, ptrdiff_t n)
{
    const ptrdiff_t full = n - n % CW2V_LANES;
    for (ptrdiff_t o = 0; o < full; o += CW2V_LANES) {
        const cw2v_v16 hv = cw2v_v16_load(h + o);
        cw2v_v16 a0 = cw2v_v16_zero(), a1 = a0;
        int b = 0;
        for (; b + 2 <= m; b += 2) {
            float *r0 = rows[b] + o, *r1 = rows[b + 1] + o;
            const cw2v_v16 v0 = cw2v_v16_load(r0), v1 = cw2v_v16_load(r1);
            a0 = cw2v_v16_madd(g[b], v0, a0);
            a1 = cw2v_v16_madd(g[b + 1], v1, a1);
            cw2v_v16_store(r0, cw2v_v16_madd(g[b], hv, v0));
            cw2v_v16_store(r1, cw2v_v16_madd(g[b + 1], hv, v1));
        }
        if (b < m) {
            const cw2v_v16 v0 = cw2v_v16_load(rows[b] + o);
            a0 = cw2v_v16_madd(g[b], v0, a0);
            cw2v_v16_store(rows[b] + o, cw2v_v16_madd(g[b], hv, v0));
        }
        cw2v_v16_store(y + o, cw2v_v16_add(cw2v_v16_load(y + o), cw2v_v16_add(a0, a1)));
    }
    for (ptrdiff_t o = full; o < n; o += 4) {   /* the same, four lanes at a time */
        const ptrdiff_t k = CW2V_TAIL_LANES(o, n);
        const cw2v_v4 hv = cw2v_v4_load(h + o, k);
        cw2v_v4 a0 = cw2v_v4_zero(), a1 = a0;
        int b = 0;
        for (; b + 2 <= m; b += 2) {
            float *r0 = rows[b] + o, *r1 = rows[b + 1] + o;
            const cw2v_v4 v0 = cw2v_v4_load(r0, k), v1 = cw2v_v4_load(r1, k);
            a0 = cw2v_v4_madd(g[b], v0, a0);
            a1 = cw2v_v4_madd(g[b + 1], v1, a1);
            cw2v_v4_store(r0, cw2v_v4_madd(g[b], hv, v0), k);
            cw2v_v4_store(r1, cw2v_v4_madd(g[b + 1], hv, v1), k);
        }
        if (b < m) {
            const cw2v_v4 v0 = cw2v_v4_load(rows[b] + o, k);
            a0 = cw2v_v4_madd(g[b], v0, a0);
            cw2v_v4_store(rows[b] + o, cw2v_v4_madd(g[b], hv, v0), k);
        }
        cw2v_v4_store(y + o, cw2v_v4_add(cw2v_v4_load(y + o, k), cw2v_v4_add(a0, a1)), k);
    }
}

/* Row j of a cw2v_hs_update_dots pass over the lanes at offset o, the same for a block of
 * sixteen (V = v16) and for a tail group of k <= 4 lanes (V = v4; v16 ignores k):
 * y += g_j * row (before its update), row += g_j * h, a_j += x * row. */
#define CW2V__LOAD_v16(p, k) cw2v_v16_load(p)
#define CW2V__STORE_v16(p, v, k) cw2v_v16_store(p, v)
#define CW2V__LOAD_v4(p, k) cw2v_v4_load(p, k)
#define CW2V__STORE_v4(p, v, k) cw2v_v4_store(p, v, k)
#define CW2V__HS_ROW(V, j, gj, aj)                                                           \
    do {                                                                                    \
        float *p_ = r[j] + o;                                                               \
        const cw2v_##V v_ = CW2V__LOAD_##V(p_, k);                                          \
        yv = cw2v_##V##_madd(gj, v_, yv);                                                   \
        const cw2v_##V u_ = cw2v_##V##_madd(gj, hv, v_);                                    \
        CW2V__STORE_##V(p_, u_, k);                                                         \
        *aj = cw2v_##V##_vmadd(xv, u_, *aj);                                                \
    } while (0)

/* One block of a cw2v_hs_update_dots pass: the sixteen lanes at offset o of K <= 4 rows r
 * (K a constant at each call). */
CW2V_INLINE void cw2v__hs_update_dots_block(float g0, float g1, float g2, float g3,
                                            float *const *r, int K, ptrdiff_t o,
                                            const float *CW2V_RESTRICT h,
                                            const float *CW2V_RESTRICT x,
                                            float *CW2V_RESTRICT y, cw2v_v16 *a0,
                                            cw2v_v16 *a1, cw2v_v16 *a2, cw2v_v16 *a3)
{
    const cw2v_v16 hv = cw2v_v16_load(h + o), xv = cw2v_v16_load(x + o);
    cw2v_v16 yv = cw2v_v16_load(y + o);
    CW2V__HS_ROW(v16, 0, g0, a0);
    if (K > 1) CW2V__HS_ROW(v16, 1, g1, a1);
    if (K > 2) CW2V__HS_ROW(v16, 2, g2, a2);
    if (K > 3) CW2V__HS_ROW(v16, 3, g3, a3);
    cw2v_v16_store(y + o, yv);
}

/* The same for the k <= 4 lanes of the tail group at offset o. */
CW2V_INLINE void cw2v__hs_update_dots_tail(float g0, float g1, float g2, float g3,
                                           float *const *r, int K, ptrdiff_t o, ptrdiff_t k,
                                           const float *CW2V_RESTRICT h,
                                           const float *CW2V_RESTRICT x,
                                           float *CW2V_RESTRICT y, cw2v_v4 *t0,
                                           cw2v_v4 *t1, cw2v_v4 *t2, cw2v_v4 *t3)
{
    const cw2v_v4 hv = cw2v_v4_load(h + o, k), xv = cw2v_v4_load(x + o, k);
    cw2v_v4 yv = cw2v_v4_load(y + o, k);
    CW2V__HS_ROW(v4, 0, g0, t0);
    if (K > 1) CW2V__HS_ROW(v4, 1, g1, t1);
    if (K > 2) CW2V__HS_ROW(v4, 2, g2, t2);
    if (K > 3) CW2V__HS_ROW(v4, 3, g3, t3);
    cw2v_v4_store(y + o, yv, k);
}
#undef CW2V__HS_ROW
#undef CW2V__LOAD_v16
#undef CW2V__STORE_v16
#undef CW2V__LOAD_v4
#undef CW2V__STORE_v4

/* One pass of cw2v_hs_update_dots over K <= 4 rows r[0:K] (K a constant at each call). */
CW2V_INLINE void cw2v__hs_update_dots_pass(const float *g, float *const *r, int K,
                                           const float *CW2V_RESTRICT h,
                                           const float *CW2V_RESTRICT x, float *CW2V_RESTRICT y,
                                           float *CW2V_RESTRICT out, ptrdiff_t full, ptrdiff_t n)
{
    const float g0 = g[0], g1 = K > 1 ? g[1] : 0.f, g2 = K > 2 ? g[2] : 0.f, g3 = K > 3 ? g[3] : 0.f;
    cw2v_v16 a0 = cw2v_v16_zero(), a1 = a0, a2 = a0, a3 = a0;
    for (ptrdiff_t o = 0; o < full; o += CW2V_LANES)
        cw2v__hs_update_dots_block(g0, g1, g2, g3, r, K, o, h, x, y, &a0, &a1, &a2, &a3);
    cw2v_v4 t0 = cw2v_v4_zero(), t1 = t0, t2 = t0, t3 = t0;
    for (ptrdiff_t o = full; o < n; o += 4)
        cw2v__hs_update_dots_tail(g0, g1, g2, g3, r, K, o, CW2V_TAIL_LANES(o, n), h, x, y,
                                  &t0, &t1, &t2, &t3);
    cw2v__sums(a0, a1, a2, a3, t0, t1, t2, t3, K, out);
}

/* Hierarchical softmax's output-side update for input vector h and the m distinct rows of a
 * path, fused with the next example's dot products on the same path (skip-gram: a center's
 * contexts share its path, word2vec.c's loop over them):
 *   y       += g[b] * rows[b]   (the rows before their update; b in order, word2vec.c's sum)
 *   rows[b] += g[b] * h
 *   out[b]   = x . rows[b]      (the rows after their update: as cw2v_dots would give)
 * four rows a pass, each row read and written once. A row with g[b] = 0 (a node skipped by the
 * |f| >= max_exp rule) gets + 0 * h: its values do not change (the sign of a zero may), and y
 * gets + 0 * row. y, h and x are none of the rows. */
CW2V_INLINE void cw2v_hs_update_dots(const float *g, float *const *rows, int m,
                                     const float *CW2V_RESTRICT h, float *CW2V_RESTRICT y,
                                     const float *CW2V_RESTRICT x, float *CW2V_RESTRICT out,
                                     ptrdiff_t n)
{
    const ptrdiff_t full = n - n % CW2V_LANES;
    int b = 0;
    for (; b + 4 <= m; b += 4)
        cw2v__hs_update_dots_pass(g + b, rows + b, 4, h, x, y, out + b, full, n);
    switch (m - b) {
    case 3: cw2v__hs_update_dots_pass(g + b, rows + b, 3, h, x, y, out + b, full, n); break;
    case 2: cw2v__hs_update_dots_pass(g + b, rows + b, 2, h, x, y, out + b, full, n); break;
    case 1: cw2v__hs_update_dots_pass(g + b, rows + b, 1, h, x, y, out + b, full, n); break;
    default: break;
    }
}

/* Hierarchical softmax's gradients for the n nodes of a path (the AVX-512 copy; where
 * CW2V_HS_GRADIENTS_VECTOR is 0, the kernel computes them node by node instead, and this
 * function must not be called):
 *   G[j] = lr * (label_j - sigmoid(F[j])),  label_j = 1 - code[j],
 * or 0 for a node with |F[j]| >= max_exp (word2vec.c and gensim skip it); returns the path's
 * loss, the sum of -log p(label_j | F[j]) (for a skipped node (1 - label) F or -label F).
 * Sixteen nodes a step: the sigmoid and log-sigmoid tables (size + 1 knots over [-max_exp,
 * max_exp], scale = size / (2 max_exp)) are read with gathers and interpolated linearly between
 * the knots of F's bucket, the same float operations in the same order as the kernel's scalar
 * _gradient, so G has the same bits; the loss is summed in another order. */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    (defined(__GNUC__) || defined(__clang__)) && !defined(CW2V_PORTABLE_VECTORS)
#include <immintrin.h>
#define CW2V_HS_GRADIENTS_VECTOR 1
CW2V_INLINE float cw2v_hs_gradients(const float *sigmoid, const float *log_sigmoid,
                                    ptrdiff_t size, float max_exp, float scale,
                                    const float *F, const uint8_t *code, ptrdiff_t n, float lr,
                                    float *G)
{
    const __m512 vmax = _mm512_set1_ps(max_exp), vmin = _mm512_set1_ps(-max_exp);
    const __m512 vscale = _mm512_set1_ps(scale), one = _mm512_set1_ps(1.f);
    const __m512 vlr = _mm512_set1_ps(lr), zero = _mm512_setzero_ps();
    const __m512i last = _mm512_set1_epi32((int)(size - 1)), first = _mm512_setzero_si512();
    __m512 loss = zero;
    for (ptrdiff_t o = 0; o < n; o += 16) {
        const int k = n - o < 16 ? (int)(n - o) : 16;
        const __mmask16 live = (__mmask16)((1u << k) - 1u);
        const __m512 f = _mm512_maskz_loadu_ps(live, F + o);
        const __m512 label = _mm512_cvtepi32_ps(_mm512_sub_epi32(
            _mm512_set1_epi32(1), _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(live, code + o))));
        const __mmask16 above = _mm512_mask_cmp_ps_mask(live, f, vmax, _CMP_GE_OQ);
        const __mmask16 inside = _mm512_mask_cmp_ps_mask(live, f, vmax, _CMP_LT_OQ) &
                                 _mm512_cmp_ps_mask(f, vmin, _CMP_GT_OQ);
        const __mmask16 below = (__mmask16)(live & ~above & ~inside);  /* (and NaN) */
        /* f's bucket i (clamped to the table) and its position frac in the bucket */
        const __m512 pos = _mm512_mul_ps(_mm512_add_ps(f, vmax), vscale);
        const __m512i i = _mm512_max_epi32(_mm512_min_epi32(_mm512_cvttps_epi32(pos), last), first);
        const __m512 frac = _mm512_sub_ps(pos, _mm512_cvtepi32_ps(i));
        const __m512 s0 = _mm512_mask_i32gather_ps(zero, inside, i, sigmoid, 4);
        const __m512 s1 = _mm512_mask_i32gather_ps(zero, inside, i, sigmoid + 1, 4);
        const __m512 l0 = _mm512_mask_i32gather_ps(zero, inside, i, log_sigmoid, 4);
        const __m512 l1 = _mm512_mask_i32gather_ps(zero, inside, i, log_sigmoid + 1, 4);
        const __m512 sig = _mm512_fmadd_ps(_mm512_sub_ps(s1, s0), frac, s0);
        const __m512 log_sig = _mm512_fmadd_ps(_mm512_sub_ps(l1, l0), frac, l0);
        _mm512_mask_storeu_ps(G + o, live,
                              _mm512_maskz_mul_ps(inside, _mm512_sub_ps(label, sig), vlr));
        /* -log sigmoid(f) for label 1, f - log sigmoid(f) for label 0; f >= max_exp: ~ f for
         * label 0; f <= -max_exp: ~ -f for label 1 */
        const __m512 not_label = _mm512_sub_ps(one, label);
        __m512 term = _mm512_maskz_fmsub_ps(inside, not_label, f, log_sig);
        term = _mm512_mask_mul_ps(term, above, not_label, f);
        term = _mm512_mask_mul_ps(term, below, _mm512_sub_ps(zero, label), f);
        loss = _mm512_add_ps(loss, term);
    }
    return _mm512_reduce_add_ps(loss);
}
#else
#define CW2V_HS_GRADIENTS_VECTOR 0
CW2V_INLINE float cw2v_hs_gradients(const float *sigmoid, const float *log_sigmoid,
                                    ptrdiff_t size, float max_exp, float scale,
                                    const float *F, const uint8_t *code, ptrdiff_t n, float lr,
                                    float *G)
{
    (void)sigmoid, (void)log_sigmoid, (void)size, (void)max_exp, (void)scale, (void)F;
    (void)code, (void)n, (void)lr, (void)G;
    abort();   /* not in this copy: see CW2V_HS_GRADIENTS_VECTOR */
}
#endif

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

/* Ask for the cache line holding p ahead of use; rw = 1 for a line that will be written.
 * The empty volatile asm that takes p keeps the prefetch alive: a function that does nothing but
 * prefetch has no effect GCC can see, so GCC marks it pure and deletes calls to it whose result
 * (none) is unused -- it did so, silently, to the kernel's Cython helper that prefetched a
 * Huffman path's rows, wherever it had not inlined it first. The asm emits nothing. */
#if defined(__GNUC__) || defined(__clang__)
#define CW2V__PREFETCH(p, rw)                               \
    do {                                                    \
        __builtin_prefetch((p), (rw), 3);                   \
        __asm__ __volatile__("" : : "r"((const void *)(p)));  \
    } while (0)
#else
#define CW2V__PREFETCH(p, rw) ((void)(p))
#endif

/* Ask for the cache line holding p ahead of a read. */
CW2V_INLINE void cw2v_prefetch(const void *p)
{
    CW2V__PREFETCH(p, 0);
}

/* Ask for a row's cache lines ahead of use (rows are read and written: prefetch for write; on 16
 * cores, prefetching for read or not at all measured no faster, see bench/results). */
CW2V_INLINE void cw2v_prefetch_row(const float *p, ptrdiff_t n)
{
    const char *c = (const char *)p;
    for (ptrdiff_t off = 0; off < n * (ptrdiff_t)sizeof(float); off += 64)
        CW2V__PREFETCH(c + off, 1);
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
