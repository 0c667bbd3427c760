# Declarations of vecops.h (vector primitives, generator, alias draw); the kernel's own C types
# are in kernel_types.pxd.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

cdef extern from "vecops.h" nogil:
    float cw2v_dot(const float* a, const float* b, Py_ssize_t n)
    void cw2v_axpy(float a, const float* x, float* y, Py_ssize_t n)
    void cw2v_dots(const float* x, const float* const* rows, int m, float* out, Py_ssize_t n)
    void cw2v_combine(const float* coef, Py_ssize_t stride, const float* const* rows, int m,
                      float* y, Py_ssize_t n)
    void cw2v_update_out(float g, const float* h, float* o, float* neu1e, Py_ssize_t n)
    void cw2v_sum_rows(const float* W, Py_ssize_t ld, const int32_t* ids, int m, float scale,
                       float* y, Py_ssize_t n)
    void cw2v_add_to_rows(const float* x, float* W, Py_ssize_t ld, const int32_t* ids, int m,
                          Py_ssize_t n)
    void cw2v_hs_update(const float* g, float* const* rows, int m, const float* h, float* y,
                        Py_ssize_t n)
    void cw2v_hs_update_dots(const float* g, float* const* rows, int m, const float* h,
                             float* y, const float* x, float* out, Py_ssize_t n)
    enum: CW2V_HS_GRADIENTS_VECTOR
    float cw2v_hs_gradients(const float* sigmoid, const float* log_sigmoid, Py_ssize_t size,
                            float max_exp, float scale, const float* F, const uint8_t* code,
                            Py_ssize_t n, float lr, float* G)
    void cw2v_prefetch(const void* p)
    void cw2v_prefetch_row(const float* p, Py_ssize_t n)
    void* cw2v_alloc_private(size_t n, void** raw)
    const char* cw2v_compiled_level()
    int cw2v_cpu_level()
    uint64_t cw2v_rng_next(uint64_t* state)
    float cw2v_rng_uniform(uint64_t* state)
    uint32_t cw2v_rng_below(uint64_t* state, uint32_t n)
    int32_t cw2v_alias_draw(uint64_t* state, const float* prob, const int32_t* alias, uint32_t n)
