/* The text kernel's C (cw2v._text, src_c/_text.pyx): whitespace tables, word and token ends,
   the word hash, and the hash tables' slot allocation. Included once, by _text.pyx. */
#ifndef CW2V_TEXT_SCAN_H
#define CW2V_TEXT_SCAN_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* ASCII whitespace, as bytes.split(): space, \t, \n, \v, \f, \r */
static const unsigned char cw2v_space[256] = {0,0,0,0,0,0,0,0,0,1,1,1,1,1,0,0,
                                              0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 1};
#define cw2v_is_space(c) (cw2v_space[(unsigned char)(c)])
#if defined(__GNUC__) || defined(__clang__)
#define cw2v_prefetch(p) __builtin_prefetch((p), 1, 1)
#else
#define cw2v_prefetch(p) ((void)(p))
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif
/* Where the word starting at p[pos] ends: the first whitespace byte at or after pos, or
   end. Eight bytes at a time: a byte <= 0x20 is flagged by the borrow trick (exact for the
   first flagged byte, which the table then confirms: control characters are not spaces). */
static inline Py_ssize_t cw2v_word_end(const unsigned char* p, Py_ssize_t pos,
                                       Py_ssize_t end) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (pos + 8 <= end) {
        uint64_t x, m;
        memcpy(&x, p + pos, 8);
        m = (x - 0x2121212121212121ULL) & ~x & 0x8080808080808080ULL;
        if (m == 0) { pos += 8; continue; }
        pos += __builtin_ctzll(m) >> 3;
        if (cw2v_space[p[pos]]) return pos;
        pos += 1;
    }
#endif
    while (pos < end && !cw2v_space[p[pos]]) pos++;
    return pos;
}
/* str.split()'s whitespace (str.isspace()) in UTF-8: \t \n \v \f \r, \x1c-\x1f, space,
   U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
   The length in bytes of the whitespace character at p[0:avail], 0 if there is none. */
static const unsigned char cw2v_uspace_ascii[128] = {0,0,0,0,0,0,0,0,0,1,1,1,1,1,0,0,
                                                     0,0,0,0,0,0,0,0,0,0,0,0,1,1,1,1, 1};
static inline int cw2v_uspace(const unsigned char* p, Py_ssize_t avail) {
    unsigned char c = p[0];
    if (c < 0x80) return cw2v_uspace_ascii[c];
    if (c == 0xC2) return (avail >= 2 && (p[1] == 0x85 || p[1] == 0xA0)) ? 2 : 0;
    if (avail < 3) return 0;
    if (c == 0xE1) return (p[1] == 0x9A && p[2] == 0x80) ? 3 : 0;
    if (c == 0xE2 && p[1] == 0x80)
        return ((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9
                || p[2] == 0xAF) ? 3 : 0;
    if (c == 0xE2 && p[1] == 0x81) return p[2] == 0x9F ? 3 : 0;
    if (c == 0xE3) return (p[1] == 0x80 && p[2] == 0x80) ? 3 : 0;
    return 0;
}
/* Where the token starting at p[pos] ends: the first str.split() whitespace at or after
   pos, or end. Eight bytes at a time: a byte <= 0x20 or >= 0x80 is flagged (exact for the
   first flagged byte: no borrow reaches it), then checked. */
static inline Py_ssize_t cw2v_token_end(const unsigned char* p, Py_ssize_t pos,
                                        Py_ssize_t end) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (pos + 8 <= end) {
        uint64_t x, m;
        memcpy(&x, p + pos, 8);
        m = ((x - 0x2121212121212121ULL) | x) & 0x8080808080808080ULL;
        if (m == 0) { pos += 8; continue; }
        pos += __builtin_ctzll(m) >> 3;
        if (cw2v_uspace(p + pos, end - pos)) return pos;
        pos += 1;
    }
#endif
    while (pos < end && !cw2v_uspace(p + pos, end - pos)) pos++;
    return pos;
}
/* The word hash: from a seed, each eight-byte block (the last one masked to the word's
   bytes) folded in, then the length, then splitmix64's finaliser. */
#define CW2V_HASH_SEED 0x9e3779b97f4a7c15ULL
#define CW2V_HASH_BLOCK(h, x) \
    do { (h) = ((h) ^ (x)) * 0x100000001b3ULL; (h) ^= (h) >> 29; } while (0)
static inline uint64_t cw2v_hash_finish(uint64_t h, Py_ssize_t n) {
    h ^= (uint64_t)n * 0xff51afd7ed558ccdULL;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}
/* The hash of p[0:n]; end bounds the readable bytes after p: when eight can be read at the
   last partial block, it is read in one load and masked (the same value as copying its
   n % 8 bytes). */
static inline uint64_t cw2v_hash_in(const unsigned char* p, Py_ssize_t n,
                                    const unsigned char* end) {
    const Py_ssize_t len = n;
    uint64_t h = CW2V_HASH_SEED, x;
    while (n >= 8) {
        memcpy(&x, p, 8);
        CW2V_HASH_BLOCK(h, x);
        p += 8; n -= 8;
    }
    if (n > 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (end - p >= 8) {
            memcpy(&x, p, 8);
            x &= ~0ULL >> (64 - 8 * n);
        } else
#endif
        {
            x = 0;
            memcpy(&x, p, (size_t)n);
        }
        CW2V_HASH_BLOCK(h, x);
    }
    return cw2v_hash_finish(h, len);
}
/* cw2v_word_end(p, pos, end), with cw2v_hash_in of the word in *h, in one pass over its
   bytes: each eight-byte block the scan loads is hashed as it goes (the same blocks as
   cw2v_hash_in's, from the word's start); a control character inside the word ends the
   fast path, and the word is then scanned and hashed apart. */
static inline Py_ssize_t cw2v_word_end_hash(const unsigned char* p, Py_ssize_t pos,
                                            Py_ssize_t end, uint64_t* h) {
    const Py_ssize_t start = pos;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t acc = CW2V_HASH_SEED;
    while (pos + 8 <= end) {
        uint64_t x, m;
        int k;
        memcpy(&x, p + pos, 8);
        m = (x - 0x2121212121212121ULL) & ~x & 0x8080808080808080ULL;
        if (m == 0) {
            CW2V_HASH_BLOCK(acc, x);
            pos += 8;
            continue;
        }
        k = __builtin_ctzll(m) >> 3;
        if (!cw2v_space[p[pos + k]]) break;
        if (k > 0) {
            x &= ~0ULL >> (64 - 8 * k);
            CW2V_HASH_BLOCK(acc, x);
        }
        *h = cw2v_hash_finish(acc, pos + k - start);
        return pos + k;
    }
#endif
    pos = cw2v_word_end(p, start, end);
    *h = cw2v_hash_in(p + start, pos - start, p + end);
    return pos;
}
/* The first min(n, 8) bytes of p as a number, byte k in bits 8k..8k+7, zero above: equal
   for two byte strings of the same length n <= 8 exactly when they are equal. Reads only
   p[0:n] (little-endian: two overlapping loads; elsewhere byte by byte). */
static inline uint64_t cw2v_head8(const unsigned char* p, Py_ssize_t n) {
    uint64_t x = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n >= 8) {
        memcpy(&x, p, 8);
    } else if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        x = (uint64_t)lo | ((uint64_t)hi << (8 * (n - 4)));
    } else if (n > 0) {
        x = (uint64_t)p[0] | ((uint64_t)p[n >> 1] << (8 * (n >> 1)))
            | ((uint64_t)p[n - 1] << (8 * (n - 1)));
    }
#else
    for (Py_ssize_t k = 0; k < n && k < 8; k++) x |= (uint64_t)p[k] << (8 * k);
#endif
    return x;
}
/* p[8:n] == q[8:n], for n > 8: eight bytes at a time, the last block overlapping the one
   before it (reads only p[0:n] and q[0:n]). */
static inline int cw2v_tail_equal(const unsigned char* p, const unsigned char* q,
                                  Py_ssize_t n) {
    uint64_t a, b;
    Py_ssize_t k = 8;
    for (; k + 8 < n; k += 8) {
        memcpy(&a, p + k, 8);
        memcpy(&b, q + k, 8);
        if (a != b) return 0;
    }
    memcpy(&a, p + n - 8, 8);
    memcpy(&b, q + n - 8, 8);
    return a == b;
}
static inline uint64_t cw2v_hash_bytes(const unsigned char* p, Py_ssize_t n) {
    return cw2v_hash_in(p, n, p + n);
}
/* A hash table's slots, zeroed. Tables of 2 MiB or more are mapped from the OS (Linux:
   mmap, whose pages read as zero until written, so nothing is written here) and asked to
   live in huge pages, so that random probes do not miss the TLB as well as the cache; they
   grow where they are (mremap moves page tables, not bytes). A table grown by doubling
   from fresh allocations would touch twice its final size of new pages, each zeroed by the
   OS: on a VM, a third of a phrase-learning run went there. Freed by cw2v_slots_free with
   the same byte count. */
#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(MREMAP_MAYMOVE)
#define CW2V_MAPPED_SLOTS ((size_t)1 << 21)
#else
#define CW2V_MAPPED_SLOTS ((size_t)-1)
#endif
static void* cw2v_slots_alloc(size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(MREMAP_MAYMOVE)
    if (bytes >= CW2V_MAPPED_SLOTS) {
        void* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED) return NULL;
        madvise(p, bytes, MADV_HUGEPAGE);
        return p;
    }
#endif
    return calloc(bytes, 1);
}
static void cw2v_slots_free(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(MREMAP_MAYMOVE)
    if (bytes >= CW2V_MAPPED_SLOTS) {
        if (p != NULL) munmap(p, bytes);
        return;
    }
#endif
    free(p);
}
/* p's slots grown from old_bytes to new_bytes, their contents kept and the new ones
   zeroed; NULL, p left as it was, if out of memory. */
static void* cw2v_slots_grow(void* p, size_t old_bytes, size_t new_bytes) {
    void* q;
#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(MREMAP_MAYMOVE)
    if (old_bytes >= CW2V_MAPPED_SLOTS) {
        q = mremap(p, old_bytes, new_bytes, MREMAP_MAYMOVE);   /* keeps MADV_HUGEPAGE */
        return q == MAP_FAILED ? NULL : q;
    }
#endif
    if (new_bytes >= CW2V_MAPPED_SLOTS) {
        q = cw2v_slots_alloc(new_bytes);
        if (q == NULL) return NULL;
        memcpy(q, p, old_bytes);
        free(p);
        return q;
    }
    q = realloc(p, new_bytes);
    if (q == NULL) return NULL;
    memset((char*)q + old_bytes, 0, new_bytes - old_bytes);
    return q;
}
#endif /* CW2V_TEXT_SCAN_H */
