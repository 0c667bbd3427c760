# Declarations of vecops.h (vector primitives, generator, alias draw) and the kernel's C types.
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

# The weights: float32 (V, d), each row's d floats contiguous, rows ld >= d floats apart (a
# C-contiguous array, ld = d, or the first d columns of a wider one: cw2v._rows's storage).
ctypedef float[:, :] weights_t

# A sigmoid table and its log-sigmoid twin: size + 1 knots over [-max_exp, max_exp].
cdef struct SigmoidTable:
    const float* sigmoid
    const float* log_sigmoid
    Py_ssize_t size      # buckets (knots - 1)
    float max_exp
    float scale          # size / (2 * max_exp), as float32

# A noise distribution as a Walker/Vose alias table.
cdef struct NoiseTable:
    const float* prob
    const int32_t* alias
    uint32_t n

# What one worker's kernel functions read: the shared weights, the tables, the sizes and the
# worker's scratch buffers. Filled once by KernelState (sgns.pxi), which owns every buffer.
cdef struct Workspace:
    float* W_in          # (V, d), shared between workers (Hogwild)
    float* W_out         # (V, d), shared between workers
    Py_ssize_t d
    Py_ssize_t ld_in     # row strides (floats) of W_in, W_out and syn1: >= d
    Py_ssize_t ld_out
    Py_ssize_t ld_syn1
    Py_ssize_t window    # maximum window; each center draws its own from 1..window
    Py_ssize_t n_neg     # noise words per positive
    SigmoidTable sig
    NoiseTable noise
    float* grad          # d floats (exact: neu1e), or 2 * window * d (batched: dI)
    int32_t* plan_a      # a center's drawn noise words; one free slot before each plan
    int32_t* plan_b      # (the batched mode's positive goes there)
    int32_t* ctx         # 2 * window context ids (batched)
    # Architecture and hierarchical softmax (Mikolov et al. 2013a, 2013b):
    bint cbow_mean       # CBOW: h is the mean (1) or the sum (0) of the context rows
    bint hs              # hierarchical softmax on (the tree and syn1 below are set)
    float* syn1          # (V, d) inner-node weights, shared between workers; row V - 1 unused
    const uint8_t* codes        # Huffman codes, all words' paths back to back
    const int32_t* points       # inner nodes (syn1 rows) on those paths
    const int64_t* path_offsets # (V + 1,): word w's path is [path_offsets[w], path_offsets[w+1])
