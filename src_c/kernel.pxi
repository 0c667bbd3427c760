# The word2vec arithmetic (skip-gram and CBOW, negative sampling and hierarchical softmax), run
# with the GIL released.
#
# ``KernelState`` is the one entry point: a worker's state (the weights it trains, the sigmoid and
# noise tables, the Huffman tree, its generator and scratch buffers), checked and allocated once
# when it is made. Its methods check their own arguments (lengths, index ranges), then run their
# whole loop inside one ``with nogil:`` block on raw pointers; nothing raises inside ``nogil``.
# Python owns policy: the vocabulary, its keep-probabilities and its Huffman tree
# (cw2v/tables.py), schedules and threads (cw2v/trainer.py); the tables are passed in as
# read-only arrays.
#
# One ``cdef ... noexcept nogil`` kernel function per objective trains a subsampled sentence
# piece (KERNEL_FUNCTIONS names them): ``_sg_ns_exact_piece`` (skip-gram, negative sampling),
# ``_sg_ns_batched_piece`` (the same, HogBatch), ``_sg_hs_piece`` (skip-gram, hierarchical
# softmax, with negative sampling too when n_neg > 0), ``_sg_hs_batched_piece`` (skip-gram,
# hierarchical softmax alone, HogBatch) and ``_cbow_piece`` (CBOW, negative sampling and/or
# hierarchical softmax). They share one loop scaffolding (``_window``, the ``Plans`` helpers,
# ``_gather_context``), the target rules below and the vector primitives of vecops.h; they read
# the shared ``Model`` and one worker's ``WorkerState`` (kernel_types.pxd).
#
# Negative sampling (Mikolov et al. 2013b, "Distributed Representations of Words and Phrases",
# eq. 4; the order of word2vec.c): for an input vector h and targets t_0 (label 1) and the noise
# words t_1..t_k (label 0), with W_out = word2vec.c's syn1neg::
#
#     f     = h . W_out[t]
#     g     = lr * (label - sigmoid(f))
#     neu1e += g * W_out[t]          (W_out[t] before its update)
#     W_out[t] += g * h
#     ... and after all targets: input row(s) += neu1e
#
# A noise word equal to the positive target is skipped.
#
# Hierarchical softmax (2013b, eq. 3; word2vec.c's rule): the target word's Huffman path gives
# inner nodes n_1..n_L (rows of syn1) and code bits c_1..c_L; each node is a binary target with
# label 1 - c_j, trained by the same rule on syn1 -- except that word2vec.c (and gensim) skip a
# node whose |f| >= MAX_EXP (no update; its loss is still counted). With both on, hierarchical
# softmax's targets come first, then negative sampling's, into the same neu1e (word2vec.c).
#
# Skip-gram: h = W_in[context], the target is the center word; neu1e goes to that context row.
# CBOW (Mikolov et al. 2013a, "Efficient Estimation of Word Representations", section 3.1): h is
# the mean (cbow_mean=1, word2vec.c) or the sum (cbow_mean=0) of the window's input rows, the
# target is the center word, and neu1e is added to every context word's input row -- undivided
# for the mean (word2vec.c, gensim), divided by the window's size for the sum (gensim's
# cbow_mean=0; word2vec.c has no sum).
#
# Locked rows (gensim's vectors_lockf): with ``Model.lockf`` set, every input-row update (a
# pair's or a CBOW context's neu1e, a HogBatch row's dI) is scaled by the word's factor, and a
# row of factor 0 is not written at all; output rows (W_out, syn1) train as usual. lockf NULL
# (no lock) leaves every path as it was, bit for bit.
#
# Random draws, per subsampled piece of m >= 2 words, each center's plan drawn one center ahead
# (the reference, cw2v.reference, draws in the same order):
#   skip-gram (both modes' exact rule, and with hierarchical softmax): window size b in
#       1..window, then 2 * b * n_neg noise words (n_neg per context word, none when n_neg = 0);
#   skip-gram batched and CBOW: b, then n_neg noise words shared by the center's window.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memset

import numpy as np

from kernel_types cimport Model, NoiseTable, SigmoidTable, WorkerState, weights_t
from vecops cimport (
    cw2v_alias_draw,
    cw2v_add_to_rows,
    cw2v_alloc_private,
    cw2v_axpy,
    cw2v_combine,
    CW2V_HS_GRADIENTS_VECTOR,
    cw2v_hs_gradients,
    cw2v_hs_update,
    cw2v_hs_update_dots,
    cw2v_sum_rows,
    cw2v_compiled_level,
    cw2v_cpu_level,
    cw2v_dot,
    cw2v_dots,
    cw2v_prefetch,
    cw2v_prefetch_row,
    cw2v_rng_below,
    cw2v_rng_next,
    cw2v_rng_uniform,
    cw2v_update_out,
)

# Sizes of the batched mode's stack buffers: 2 * window <= 64 inputs, n_neg + 1 <= 33 outputs.
cdef enum:
    _BATCH_INPUTS = 64
    _BATCH_OUTPUTS = 33

MAX_BATCH_INPUTS = _BATCH_INPUTS
MAX_BATCH_OUTPUTS = _BATCH_OUTPUTS

# Bounds on what a KernelState is made with, checked before anything is allocated. The exact
# objective's scratch holds two plans of 2 * window * n_neg noise words each (at both bounds,
# 1.6 GB), the batched one 2 * window rows of d floats.
MAX_WINDOW = 10_000
MAX_NEG = 10_000
MAX_DIM = 100_000

# The modes ``KernelState(objective=...)`` trains in: "exact" (word2vec.c's rules, every
# architecture and objective) and "batched" (HogBatch: skip-gram with negative sampling only).
OBJECTIVES = ("exact", "batched")
# The kernel function a state runs, chosen from objective, sg and hs.
KERNEL_FUNCTIONS = ("sg_ns_exact", "sg_ns_batched", "sg_hs", "cbow", "sg_hs_batched",
                    "sg_subword", "cbow_subword")
cdef enum Objective:
    SG_NS_EXACT = 0
    SG_NS_BATCHED = 1
    SG_HS = 2           # skip-gram, hierarchical softmax (+ negative sampling if n_neg > 0)
    CBOW = 3            # CBOW, negative sampling and/or hierarchical softmax
    SG_HS_BATCHED = 4   # skip-gram, hierarchical softmax alone, HogBatch
    SG_SUB = 5          # skip-gram, fastText's subword input (negative sampling and/or hs)
    CBOW_SUB = 6        # CBOW, fastText's subword input (negative sampling and/or hs)


def compiled_level():
    """The instruction set this copy of the kernel was compiled for: "baseline", "avx2" or
    "avx512"."""
    return cw2v_compiled_level().decode()


def cpu_level():
    """The widest instruction set the running CPU and OS support: 0 baseline, 1 AVX2+FMA,
    2 AVX-512 (F/VL/BW/DQ)."""
    return cw2v_cpu_level()


# ---------------------------------------------------------------------------------------------
# Checks done before nogil
# ---------------------------------------------------------------------------------------------

cdef SigmoidTable _sigmoid_view(const float[::1] sigmoid, const float[::1] log_sigmoid,
                                float max_exp) except *:
    """Check a sigmoid table pair and return the struct the nogil code reads."""
    if sigmoid.shape[0] < 3 or sigmoid.shape[0] != log_sigmoid.shape[0]:
        raise ValueError("sigmoid and log_sigmoid tables must have the same length >= 3")
    if not max_exp > 0:
        raise ValueError(f"max_exp must be > 0, got {max_exp}")
    cdef SigmoidTable t
    t.sigmoid = &sigmoid[0]
    t.log_sigmoid = &log_sigmoid[0]
    t.size = sigmoid.shape[0] - 1
    t.max_exp = max_exp
    t.scale = <float>(<float>t.size / (<float>2.0 * max_exp))
    return t


cdef Py_ssize_t _row_stride(weights_t W, str name) except -1:
    """W's row stride in floats (ld): each row's d floats must be contiguous and rows must not
    overlap -- a C-contiguous array (ld = d) or the first d columns of a wider one
    (``cw2v._rows``)."""
    cdef Py_ssize_t d = W.shape[1], row = W.strides[0], col = W.strides[1]
    if d > 1 and col != <Py_ssize_t>sizeof(float):
        raise ValueError(f"{name}'s rows must be contiguous (a column stride of "
                         f"{sizeof(float)} bytes), got a stride of {col} bytes")
    if W.shape[0] == 1:
        return d
    if row % <Py_ssize_t>sizeof(float) or row < d * <Py_ssize_t>sizeof(float):
        raise ValueError(f"{name}'s rows must not overlap: a row stride of at least d * "
                         f"{sizeof(float)} = {d * sizeof(float)} bytes, a multiple of "
                         f"{sizeof(float)}, got {row}")
    return row // <Py_ssize_t>sizeof(float)


cdef int _check_weights(weights_t W_in, weights_t W_out) except -1:
    if W_in.shape[0] != W_out.shape[0] or W_in.shape[1] != W_out.shape[1]:
        raise ValueError(f"W_in ({W_in.shape[0]}, {W_in.shape[1]}) and W_out ({W_out.shape[0]}, "
                         f"{W_out.shape[1]}) must have the same shape")
    if W_in.shape[0] < 1 or W_in.shape[1] < 1:
        raise ValueError("weights must have at least one row and one column")
    if W_in.shape[0] >= 2**31:
        raise ValueError("vocabulary larger than 2**31 - 1 words")
    if W_in.shape[1] > MAX_DIM:
        raise ValueError(f"vector size d must be <= {MAX_DIM} (the kernel's MAX_DIM), "
                         f"got {W_in.shape[1]}")
    return 0


cdef Py_ssize_t _first_out_of_range(const int32_t* ids, Py_ssize_t n, Py_ssize_t V) noexcept nogil:
    """Index of the first id outside [0, V), or -1."""
    cdef Py_ssize_t i
    for i in range(n):
        if ids[i] < 0 or ids[i] >= V:
            return i
    return -1


cdef int _check_ids(const int32_t* ids, Py_ssize_t n, Py_ssize_t V, str what) except -1:
    cdef Py_ssize_t bad
    if n == 0:
        return 0
    with nogil:
        bad = _first_out_of_range(ids, n, V)
    if bad >= 0:
        raise IndexError(f"{what}[{bad}] = {ids[bad]} is out of range for a vocabulary of {V}")
    return 0


# ---------------------------------------------------------------------------------------------
# The update rules and the per-objective kernels (nogil)
# ---------------------------------------------------------------------------------------------

cdef inline float _gradient(const SigmoidTable* t, float f, float label, float lr,
                            float* loss) noexcept nogil:
    """g = lr * (label - sigmoid(f)) from the table; adds -log p(label | f) to loss."""
    cdef float s, log_s, pos, frac
    cdef float one = 1.0    # (a float: Cython writes the literal 1 - label in double)
    cdef Py_ssize_t i
    # The loss is written without a branch on the label (0 or 1): hierarchical softmax's labels
    # are code bits, which a branch would mispredict half the time. It is summed in float
    # (callers add an example's or a path's sum to their double total).
    if f >= t.max_exp:
        s = 1.0
        loss[0] += (one - label) * f                  # label 0: -log(1 - sigmoid(f)) ~ f
    elif f <= -t.max_exp:
        s = 0.0
        loss[0] += -label * f                         # label 1: -log sigmoid(f) ~ -f
    else:
        # Linear interpolation between the knots of f's bucket (float32 steps, as
        # cw2v.tables.table_lookup does); the sigmoid and log-sigmoid tables share the bucket.
        pos = (f + t.max_exp) * t.scale
        i = <Py_ssize_t>pos
        if i < 0:
            i = 0
        elif i >= t.size:
            i = t.size - 1
        frac = pos - <float>i
        s = t.sigmoid[i] + frac * (t.sigmoid[i + 1] - t.sigmoid[i])
        log_s = t.log_sigmoid[i] + frac * (t.log_sigmoid[i + 1] - t.log_sigmoid[i])
        # -log sigmoid(f) for label 1; for label 0 -log sigmoid(-f) = f - log sigmoid(f).
        loss[0] += (one - label) * f - log_s
    return (label - s) * lr


cdef inline void _ns_targets(const float* h, float* W_out, Py_ssize_t ld, Py_ssize_t d,
                             int32_t positive, const int32_t* negatives, Py_ssize_t n_neg,
                             float lr, const SigmoidTable* sig, float* neu1e,
                             double* loss) noexcept nogil:
    """Negative sampling's targets for input vector h (eq. 4): the positive and n_neg noise
    words (rows of W_out, ld floats apart); their input gradient is added to neu1e."""
    cdef Py_ssize_t t
    cdef int32_t target
    cdef float label, g, f
    cdef float* o
    cdef float targets_loss = 0.0
    for t in range(n_neg + 1):
        if t == 0:
            target = positive
            label = 1.0
        else:
            target = negatives[t - 1]
            if target == positive:
                continue
            label = 0.0
        o = W_out + target * ld
        f = cw2v_dot(h, o, d)
        g = _gradient(sig, f, label, lr, &targets_loss)
        cw2v_update_out(g, h, o, neu1e, d)
    loss[0] += targets_loss


cdef inline void _hs_targets(const float* h, float* syn1, Py_ssize_t ld, Py_ssize_t d,
                             const uint8_t* code, const int32_t* point, Py_ssize_t length,
                             float lr, const SigmoidTable* sig, float* neu1e,
                             double* loss) noexcept nogil:
    """Hierarchical softmax's targets for input vector h (Mikolov et al. 2013b, eq. 3): the
    inner nodes point[0:length] (rows of syn1, ld floats apart) of the target word's Huffman
    path, label 1 - code[j]; a node
    with |f| >= max_exp is skipped, as in word2vec.c and gensim (its loss still counts).

    The nodes of a path are distinct rows and h does not change within an example, so node j's
    f never depends on an earlier node's update: word2vec.c's node-by-node loop gives the same
    numbers as computing a chunk of nodes' f at once (four rows a pass, h read once), then
    their g (``_hs_gradients``), then, in one pass over each row, neu1e += g_j syn1[n_j] (the
    row before its update) and syn1[n_j] += g_j h (``_hs_update_kept``; skipped nodes are left
    out). Chunks of _BATCH_OUTPUTS nodes keep the buffers on the stack.
    """
    cdef float* rows[_BATCH_OUTPUTS]
    cdef float G[_BATCH_OUTPUTS]
    cdef Py_ssize_t start = 0, j, n
    while start < length:
        n = length - start if length - start < _BATCH_OUTPUTS else _BATCH_OUTPUTS
        for j in range(n):
            rows[j] = syn1 + point[start + j] * ld
        cw2v_dots(h, <const float* const*>rows, <int>n, G, d)
        _hs_gradients(sig, G, code + start, n, lr, G, loss)
        _hs_update_kept(G, rows, n, h, neu1e, d)
        start += n


cdef inline void _hs_gradients(const SigmoidTable* sig, const float* F, const uint8_t* code,
                               Py_ssize_t n, float lr, float* G, double* loss) noexcept nogil:
    """G[j] = lr * (1 - code[j] - sigmoid(F[j])) for the n nodes of a path, or 0 for a skipped
    node (|F[j]| >= max_exp: word2vec.c and gensim leave it out; its loss still counts). F and
    G may be the same array. The AVX-512 copy computes sixteen nodes a step
    (``cw2v_hs_gradients``, the same bits), the others one at a time."""
    cdef Py_ssize_t j
    cdef float f, g
    # The table's fields in locals: the stores to G could otherwise alias them, and the
    # compiler would read them again for every node.
    cdef SigmoidTable t = sig[0]
    cdef float node_loss = 0.0
    if CW2V_HS_GRADIENTS_VECTOR:    # (a constant: the AVX-512 copy's sixteen nodes a step)
        loss[0] += cw2v_hs_gradients(t.sigmoid, t.log_sigmoid, t.size, t.max_exp, t.scale, F,
                                     code, n, lr, G)
        return
    for j in range(n):
        f = F[j]
        g = _gradient(&t, f, <float>(1 - code[j]), lr, &node_loss)
        G[j] = g if f < t.max_exp and f > -t.max_exp else 0.0
    loss[0] += node_loss


cdef inline void _hs_update_kept(const float* G, float* const* rows, Py_ssize_t n,
                                 const float* h, float* neu1e, Py_ssize_t d) noexcept nogil:
    """``cw2v_hs_update`` over the nodes of G, rows[0:n] (n <= _BATCH_OUTPUTS) whose gradient
    is not 0 (a skipped node's row is left out of the pass); G and rows are left as they are."""
    cdef float* kept_rows[_BATCH_OUTPUTS]
    cdef float kept_g[_BATCH_OUTPUTS]
    cdef Py_ssize_t j
    cdef int kept = 0
    for j in range(n):
        if G[j] != 0.0:
            kept_g[kept] = G[j]
            kept_rows[kept] = rows[j]
            kept += 1
    cw2v_hs_update(kept_g, kept_rows, kept, h, neu1e, d)


cdef inline float _lock(const float* lockf, int32_t word) noexcept nogil:
    """Word ``word``'s lock factor: lockf[word], or 1 when there is no lock (lockf NULL)."""
    return <float>1.0 if lockf == NULL else lockf[word]


cdef inline void _add_input(float lock, const float* neu1e, float* h,
                            Py_ssize_t d) noexcept nogil:
    """An input row's update, h += lock * neu1e (gensim's vectors_lockf): the plain sum for
    lock 1 (the unlocked path, unchanged), nothing at all for lock 0 (the row keeps its bits,
    whatever neu1e holds)."""
    cdef Py_ssize_t t
    if lock == 1.0:
        for t in range(d):
            h[t] += neu1e[t]
    elif lock != 0.0:
        for t in range(d):
            h[t] += lock * neu1e[t]


cdef inline void _ns_update(float* h, float* W_out, Py_ssize_t ld_out, Py_ssize_t d,
                            int32_t positive, const int32_t* negatives, Py_ssize_t n_neg,
                            float lr, const SigmoidTable* sig, float* neu1e,
                            double* loss, float lock) noexcept nogil:
    """One negative-sampling step for input row h (updated, its update scaled by ``lock``),
    positive target and n_neg noise targets (eq. 4)."""
    memset(neu1e, 0, d * sizeof(float))
    _ns_targets(h, W_out, ld_out, d, positive, negatives, n_neg, lr, sig, neu1e, loss)
    _add_input(lock, neu1e, h, d)


cdef inline void _example(const Model* model, const float* h, int32_t target,
                          const int32_t* negatives, Py_ssize_t n_neg, float lr, float* neu1e,
                          double* loss) noexcept nogil:
    """One example's targets for input vector h and target word ``target``: hierarchical
    softmax's (if on), then negative sampling's (if n_neg > 0), their input gradient summed
    into neu1e (zeroed here), word2vec.c's order."""
    cdef Py_ssize_t lo
    memset(neu1e, 0, model.d * sizeof(float))
    if model.hs:
        lo = model.path_offsets[target]
        _hs_targets(h, model.syn1, model.ld_syn1, model.d, model.codes + lo, model.points + lo,
                    model.path_offsets[target + 1] - lo, lr, &model.sig, neu1e, loss)
    if n_neg:
        _ns_targets(h, model.W_out, model.ld_out, model.d, target, negatives, n_neg, lr,
                    &model.sig, neu1e, loss)


cdef inline void _cbow_example(const Model* model, const int32_t* ctx, Py_ssize_t n_ctx,
                               int32_t target, const int32_t* negatives, Py_ssize_t n_neg,
                               float lr, float* neu1, float* neu1e, double* loss) noexcept nogil:
    """One CBOW example (Mikolov et al. 2013a): h = mean (cbow_mean) or sum of the input rows
    ctx[0:n_ctx] (n_ctx >= 1) predicts ``target``; neu1e then goes to every context row,
    divided by n_ctx for the sum (gensim's cbow_mean=0), undivided for the mean (word2vec.c),
    and scaled by each context word's lock factor when there is a lock (``model.lockf``)."""
    cdef Py_ssize_t t, k, d = model.d
    cdef float inv = <float>1.0 / <float>n_ctx
    cw2v_sum_rows(model.W_in, model.ld_in, ctx, <int>n_ctx,
                  inv if model.cbow_mean else <float>1.0, neu1, d)
    _example(model, neu1, target, negatives, n_neg, lr, neu1e, loss)
    if not model.cbow_mean:
        for t in range(d):
            neu1e[t] *= inv
    if model.lockf == NULL:
        cw2v_add_to_rows(neu1e, model.W_in, model.ld_in, ctx, <int>n_ctx, d)
    else:
        for k in range(n_ctx):
            _add_input(model.lockf[ctx[k]], neu1e, model.W_in + ctx[k] * model.ld_in, d)


cdef inline void _batched_update(float* W_in, Py_ssize_t ld_in, float* W_out, Py_ssize_t ld_out,
                                 Py_ssize_t d, const int32_t* inputs, int n_in,
                                 const int32_t* outputs,
                                 int n_out, float lr, const SigmoidTable* sig, float* grad_in,
                                 double* loss, const float* lockf) noexcept nogil:
    """HogBatch step (Ji et al. 2016): inputs share one set of outputs (outputs[0] positive).

    With I the input rows (n_in x d) and O the output rows (n_out x d)::

        S = I O^T,  G = lr (label - sigmoid(S)),  dI = G O,  dO = G^T I

    dI and dO both use the weights from before this step. Outputs equal to outputs[0] after
    position 0 are skipped, as in the exact rule. n_in <= _BATCH_INPUTS, n_out <= _BATCH_OUTPUTS.
    Input row a's dI is scaled by its word's lock factor (``_add_inputs``; lockf NULL: none).
    """
    cdef int a, b
    cdef float label
    # Row pointers and G live in small stack buffers.
    cdef const float* in_rows[_BATCH_INPUTS]
    cdef const float* out_rows[_BATCH_OUTPUTS]
    cdef float G[_BATCH_INPUTS * _BATCH_OUTPUTS]
    cdef float* S
    cdef float step_loss = 0.0
    for b in range(n_out):
        out_rows[b] = W_out + outputs[b] * ld_out
    for a in range(n_in):
        in_rows[a] = W_in + inputs[a] * ld_in
    for a in range(n_in):
        # Row a of S, then of G, then dI_a = G[a] O into grad_in (O not yet changed).
        S = G + a * n_out
        cw2v_dots(in_rows[a], out_rows, n_out, S, d)
        for b in range(n_out):
            if b > 0 and outputs[b] == outputs[0]:
                S[b] = 0.0
                continue
            label = 1.0 if b == 0 else 0.0
            S[b] = _gradient(sig, S[b], label, lr, &step_loss)
        memset(grad_in + a * d, 0, d * sizeof(float))
        cw2v_combine(S, 1, out_rows, n_out, grad_in + a * d, d)
    # dO = G^T I, applied in place (I still holds the old inputs).
    for b in range(n_out):
        cw2v_combine(G + b, n_out, in_rows, n_in, <float*>out_rows[b], d)
    _add_inputs(grad_in, in_rows, inputs, n_in, d, lockf)
    loss[0] += step_loss


cdef inline void _add_inputs(const float* grad_in, const float* const* in_rows,
                             const int32_t* inputs, int n_in, Py_ssize_t d,
                             const float* lockf) noexcept nogil:
    """A HogBatch step's input updates: in_rows[a] += lock * grad_in[a], lock the factor of
    word inputs[a] (1 when lockf is NULL; a row of factor 0 is not touched)."""
    cdef int a
    cdef float lock
    for a in range(n_in):
        lock = _lock(lockf, inputs[a])
        if lock != 0.0:
            cw2v_axpy(lock, grad_in + a * d, <float*>in_rows[a], d)


cdef inline void _batched_hs_update(float* W_in, Py_ssize_t ld_in, float* syn1,
                                    Py_ssize_t ld_syn1, Py_ssize_t d,
                                    const int32_t* inputs, int n_in, const uint8_t* code,
                                    const int32_t* point, Py_ssize_t length, float lr,
                                    const SigmoidTable* sig, float* grad_in,
                                    double* loss, const float* lockf) noexcept nogil:
    """HogBatch for hierarchical softmax: a window's inputs share the center's Huffman path.

    With I the input rows (n_in x d) and O the path's inner-node rows (length x d), labels
    1 - code::

        S = I O^T,  G = lr (label - sigmoid(S)),  dI = G O,  dO = G^T I

    all from the weights before this step; an entry with |S| >= max_exp gets G = 0 (word2vec.c
    skips such a node). The path goes in chunks of _BATCH_OUTPUTS nodes (a chunk's rows are
    untouched by the chunks before it, and I changes only at the end, so the chunks make one
    step). n_in <= _BATCH_INPUTS. Input row a's dI is scaled by its word's lock factor
    (``_add_inputs``; lockf NULL: none).
    """
    cdef int a, b, n
    cdef Py_ssize_t start = 0
    cdef const float* in_rows[_BATCH_INPUTS]
    cdef const float* out_rows[_BATCH_OUTPUTS]
    cdef float G[_BATCH_INPUTS * _BATCH_OUTPUTS]
    cdef float* S
    for a in range(n_in):
        in_rows[a] = W_in + inputs[a] * ld_in
    memset(grad_in, 0, n_in * d * sizeof(float))
    while start < length:
        n = <int>(length - start if length - start < _BATCH_OUTPUTS else _BATCH_OUTPUTS)
        for b in range(n):
            out_rows[b] = syn1 + point[start + b] * ld_syn1
        for a in range(n_in):
            # Row a of S, then of G, then dI_a += G[a] O (O not yet changed).
            S = G + a * n
            cw2v_dots(in_rows[a], out_rows, n, S, d)
            _hs_gradients(sig, S, code + start, n, lr, S, loss)
            cw2v_combine(S, 1, out_rows, n, grad_in + a * d, d)
        # dO = G^T I for this chunk, in place (I still holds the old inputs).
        for b in range(n):
            cw2v_combine(G + b, n, in_rows, n_in, <float*>out_rows[b], d)
        start += n
    _add_inputs(grad_in, in_rows, inputs, n_in, d, lockf)


cdef inline Py_ssize_t _draw_window(uint64_t* rng, Py_ssize_t window) noexcept nogil:
    """A center's window size, uniform in 1..window (word2vec.c's reduced window)."""
    return 1 + <Py_ssize_t>cw2v_rng_below(rng, <uint32_t>window)


cdef inline void _draw_noise(uint64_t* rng, const NoiseTable* noise, Py_ssize_t n,
                             int32_t* out) noexcept nogil:
    """n noise words from the alias table into out."""
    cdef Py_ssize_t k
    for k in range(n):
        out[k] = cw2v_alias_draw(rng, noise.prob, noise.alias, noise.n)


cdef inline void _prefetch_rows(const float* W, Py_ssize_t ld, Py_ssize_t d, const int32_t* ids,
                                Py_ssize_t n) noexcept nogil:
    """Prefetch the d floats of rows ids[0:n] of W (rows ld floats apart)."""
    cdef Py_ssize_t k
    for k in range(n):
        cw2v_prefetch_row(W + ids[k] * ld, d)


cdef inline void _prefetch_path_arrays(const Model* model, const int32_t* words, Py_ssize_t i,
                                       Py_ssize_t m) noexcept nogil:
    """At center i of words[0:m], prefetch the Huffman path arrays (hierarchical softmax) of
    the centers to come: the points and codes of words[i + 2], the offsets of words[i + 3].

    A path's syn1 rows are found through its offsets (``path_offsets``, 8 bytes a word) and its
    points; with a large vocabulary a rare word's entries are not in cache, and those loads,
    which the row addresses depend on, stall the core. Fetched two and three centers ahead they
    hit (wiki8, d = 100: CBOW 11%, skip-gram 5-8% faster). Prefetching the syn1 rows themselves
    a center ahead as well measured no faster."""
    cdef int64_t lo
    if i + 2 < m:
        # The lines at the path's start and 64 bytes on: all of its points for a path of up
        # to 16 nodes (longer ones are rare words'), its codes in the first. (A prefetch past
        # an array's end is harmless: prefetches do not fault.)
        lo = model.path_offsets[words[i + 2]]
        cw2v_prefetch_row(<const float*>(model.points + lo), 32)
        cw2v_prefetch_row(<const float*>(model.codes + lo), 8)
    if i + 3 < m:
        cw2v_prefetch(model.path_offsets + words[i + 3])


# The loop every kernel function runs over a piece words[0:m], written once here:
#
#     _plans_start(&plans, ...)                  # the first center's plan
#     for i in range(m):
#         if i + 1 < m:
#             _plans_draw_next(&plans, ...)      # the next center's, one center ahead
#         win = _window(i, plans.b_cur, m)       # the center's context positions
#         n_ctx = _gather_context(words, i, win, ctx)   # (the window-at-once functions)
#         ... train center i ...
#         _plans_advance(&plans)

cdef struct Window:
    Py_ssize_t lo        # center i's context positions: lo <= j < hi, j != i
    Py_ssize_t hi


cdef inline Window _window(Py_ssize_t i, Py_ssize_t b, Py_ssize_t m) noexcept nogil:
    """Center i's window of size b in a piece of m words, cut at the piece's ends."""
    cdef Window w
    w.lo = i - b if i >= b else 0
    w.hi = i + b + 1 if i + b + 1 <= m else m
    return w


cdef inline Py_ssize_t _next_context(Py_ssize_t j, Py_ssize_t i) noexcept nogil:
    """The context position after j in center i's window, i itself skipped (past the window
    when >= its hi): whose rows a pair prefetches for the next pair."""
    return j + 2 if j + 1 == i else j + 1


cdef inline Py_ssize_t _gather_context(const int32_t* words, Py_ssize_t i, Window w,
                                       int32_t* ctx) noexcept nogil:
    """Center i's context words (words[w.lo:w.hi] but words[i]) into ctx; how many."""
    cdef Py_ssize_t j, n_ctx = 0
    for j in range(w.lo, w.hi):
        if j != i:
            ctx[n_ctx] = words[j]
            n_ctx += 1
    return n_ctx


cdef struct Plans:
    int32_t* cur         # this center's noise words (one free slot before them)
    int32_t* next        # the next center's
    Py_ssize_t b_cur     # this center's window size
    Py_ssize_t b_next    # the next center's
    bint per_context     # n_neg noise words for each context (skip-gram's exact rule), or
                         # n_neg shared by the window (batched, CBOW)


cdef inline Py_ssize_t _draw_plan(const Model* model, uint64_t* rng, bint per_context,
                                  int32_t* out) noexcept nogil:
    """A center's plan: its window size b (drawn first), then its noise words into out:
    2 * b * n_neg (per_context) or n_neg."""
    cdef Py_ssize_t b = _draw_window(rng, model.window)
    _draw_noise(rng, &model.noise, 2 * b * model.n_neg if per_context else model.n_neg, out)
    return b


cdef inline void _plans_start(Plans* p, const Model* model, WorkerState* st,
                              bint per_context) noexcept nogil:
    """The plans of a piece, in the worker's two plan buffers: the first center's drawn."""
    p.cur = st.plan_a
    p.next = st.plan_b
    p.per_context = per_context
    p.b_next = 0
    p.b_cur = _draw_plan(model, &st.rng, per_context, p.cur)


cdef inline void _plans_draw_next(Plans* p, const Model* model, uint64_t* rng) noexcept nogil:
    """Draw the next center's plan (while this one's is in use)."""
    p.b_next = _draw_plan(model, rng, p.per_context, p.next)


cdef inline void _plans_advance(Plans* p) noexcept nogil:
    """Move on to the next center: its plan becomes the current one, the buffers swap."""
    cdef int32_t* swap = p.cur
    p.cur = p.next
    p.next = swap
    p.b_cur = p.b_next


# The kernel functions, one per objective: each trains one subsampled piece words[0:m].

cdef void _sg_ns_exact_piece(const Model* model, WorkerState* st, const int32_t* words,
                             Py_ssize_t m, float lr, double* loss, int64_t* n_pairs) noexcept nogil:
    """Skip-gram, negative sampling, word2vec.c's rule, over one subsampled piece words[0:m].

    The context word's input vector predicts the center word, against n_neg fresh noise words
    per pair. Each center's plan (window size b, then 2 * b * n_neg noise words, n_neg per
    context) is drawn one center ahead; each pair prefetches the rows of the next pair (or of
    the next center's first), so memory requests are spread out rather than queued at once.
    """
    cdef float* W_in = model.W_in
    cdef float* W_out = model.W_out
    cdef Py_ssize_t d = model.d, n_neg = model.n_neg
    cdef Py_ssize_t ld_in = model.ld_in, ld_out = model.ld_out
    cdef const SigmoidTable* sig = &model.sig
    cdef float* neu1e = st.grad
    cdef Plans plans
    cdef Window win
    cdef Py_ssize_t i, j, jn, c
    if m < 2:
        return
    _plans_start(&plans, model, st, True)
    for i in range(m):
        if i + 1 < m:
            _plans_draw_next(&plans, model, &st.rng)
        win = _window(i, plans.b_cur, m)
        c = 0
        for j in range(win.lo, win.hi):
            if j == i:
                continue
            jn = _next_context(j, i)
            if jn < win.hi:
                _prefetch_rows(W_out, ld_out, d, plans.cur + (c + 1) * n_neg, n_neg)
                _prefetch_rows(W_in, ld_in, d, &words[jn], 1)
            elif i + 1 < m:
                _prefetch_rows(W_out, ld_out, d, plans.next, n_neg)
                _prefetch_rows(W_out, ld_out, d, &words[i + 1], 1)
                _prefetch_rows(W_in, ld_in, d,
                               &words[i + 1 - plans.b_next if i + 1 >= plans.b_next else 0], 1)
            _ns_update(W_in + words[j] * ld_in, W_out, ld_out, d, words[i],
                       plans.cur + c * n_neg, n_neg, lr, sig, neu1e, loss,
                       _lock(model.lockf, words[j]))
            c += 1
        n_pairs[0] += c
        _plans_advance(&plans)


cdef void _sg_ns_batched_piece(const Model* model, WorkerState* st, const int32_t* words,
                               Py_ssize_t m, float lr, double* loss,
                               int64_t* n_pairs) noexcept nogil:
    """Skip-gram, negative sampling, HogBatch (Ji et al. 2016), over one piece words[0:m].

    A center's window (its context words' input rows) is trained at once against the center
    word and n_neg noise words shared by the window, as small matrix products. Each center's
    plan (window size, then n_neg noise words) is drawn one center ahead, and the next
    center's output rows and entering input row are prefetched while this one trains.
    """
    cdef float* W_in = model.W_in
    cdef float* W_out = model.W_out
    cdef Py_ssize_t d = model.d, n_neg = model.n_neg
    cdef Py_ssize_t ld_in = model.ld_in, ld_out = model.ld_out
    cdef int32_t* ctx = st.ctx
    cdef Plans plans
    cdef Window win
    cdef Py_ssize_t i, n_ctx
    if m < 2:
        return
    _plans_start(&plans, model, st, False)
    for i in range(m):
        if i + 1 < m:
            _plans_draw_next(&plans, model, &st.rng)
        win = _window(i, plans.b_cur, m)
        # Prefetch the next center's output rows (its word and shared noise words).
        if i + 1 < m:
            _prefetch_rows(W_out, ld_out, d, plans.next, n_neg)
            _prefetch_rows(W_out, ld_out, d, &words[i + 1], 1)
            if i + 1 + plans.b_next < m:  # the input row that enters the next window
                _prefetch_rows(W_in, ld_in, d, &words[i + 1 + plans.b_next], 1)
        n_ctx = _gather_context(words, i, win, ctx)
        # outputs: the center word in the slot before the plan, then the shared noise words.
        (plans.cur - 1)[0] = words[i]
        _batched_update(W_in, ld_in, W_out, ld_out, d, ctx, <int>n_ctx, plans.cur - 1,
                        <int>(n_neg + 1), lr, &model.sig, st.grad, loss, model.lockf)
        n_pairs[0] += n_ctx
        _plans_advance(&plans)


cdef void _sg_hs_piece(const Model* model, WorkerState* st, const int32_t* words, Py_ssize_t m,
                       float lr, double* loss, int64_t* n_pairs) noexcept nogil:
    """Skip-gram, hierarchical softmax (and negative sampling when n_neg > 0), word2vec.c's
    rule, over one subsampled piece words[0:m].

    Each context word's input vector predicts the center word: the center's Huffman path, then
    n_neg noise words of the pair. The plan (window size b, then 2 * b * n_neg noise words) is
    drawn one center ahead, as in ``_sg_ns_exact_piece``. The path arrays of the centers to
    come are prefetched when a center starts (``_prefetch_path_arrays``), and each pair
    prefetches the next context's input row.

    A center's contexts share its path: the pass that updates the path's rows for one context
    also computes the next context's dot products with the updated rows
    (``cw2v_hs_update_dots``), so each row is read and written once per context. The next
    context's input row is read before this context's gradient is added to its own row, which
    is the same row only when the two contexts are the same word: then (and for paths longer
    than the stack buffers) the next context's dot products get a pass of their own.
    """
    cdef Py_ssize_t d = model.d, n_neg = model.n_neg
    cdef Py_ssize_t ld_in = model.ld_in
    cdef float* neu1e = st.grad
    cdef float* W_in = model.W_in
    cdef float* h
    cdef Plans plans
    cdef Window win
    cdef Py_ssize_t i, j, jn, t, c
    cdef Py_ssize_t length, p0
    cdef bint fused, have_dots
    cdef float* rows[_BATCH_OUTPUTS]
    cdef float F[_BATCH_OUTPUTS]
    cdef float G[_BATCH_OUTPUTS]
    if m < 2:
        return
    _plans_start(&plans, model, st, True)
    for i in range(m):
        if i + 1 < m:
            _plans_draw_next(&plans, model, &st.rng)
            _prefetch_path_arrays(model, words, i, m)
        win = _window(i, plans.b_cur, m)
        p0 = model.path_offsets[words[i]]
        length = model.path_offsets[words[i] + 1] - p0
        fused = length <= _BATCH_OUTPUTS
        if fused:
            for t in range(length):
                rows[t] = model.syn1 + model.points[p0 + t] * model.ld_syn1
        have_dots = False
        c = 0
        for j in range(win.lo, win.hi):
            if j == i:
                continue
            jn = _next_context(j, i)
            if jn < win.hi:
                _prefetch_rows(W_in, ld_in, d, &words[jn], 1)
            h = W_in + words[j] * ld_in
            if fused:
                memset(neu1e, 0, d * sizeof(float))
                if not have_dots:
                    cw2v_dots(h, <const float* const*>rows, <int>length, F, d)
                _hs_gradients(&model.sig, F, model.codes + p0, length, lr, G, loss)
                have_dots = jn < win.hi and words[jn] != words[j]
                if have_dots:
                    cw2v_hs_update_dots(G, rows, <int>length, h, neu1e, W_in + words[jn] * ld_in,
                                        F, d)
                else:
                    _hs_update_kept(G, rows, length, h, neu1e, d)
                if n_neg:
                    _ns_targets(h, model.W_out, model.ld_out, d, words[i], plans.cur + c * n_neg,
                                n_neg, lr, &model.sig, neu1e, loss)
            else:
                _example(model, h, words[i], plans.cur + c * n_neg, n_neg, lr, neu1e, loss)
            _add_input(_lock(model.lockf, words[j]), neu1e, h, d)
            c += 1
        n_pairs[0] += c
        _plans_advance(&plans)


cdef void _cbow_piece(const Model* model, WorkerState* st, const int32_t* words, Py_ssize_t m,
                      float lr, double* loss, int64_t* n_pairs) noexcept nogil:
    """CBOW (Mikolov et al. 2013a), negative sampling and/or hierarchical softmax, word2vec.c's
    rule, over one subsampled piece words[0:m].

    Each center's window (b drawn from 1..window) is averaged or summed into h, which predicts
    the center word; the plan (b, then n_neg noise words) is drawn one center ahead and the
    next center's output rows (negative sampling) or the path arrays of the centers to come
    (hierarchical softmax) prefetched. One example per center (``n_pairs`` counts centers).
    """
    cdef Py_ssize_t d = model.d, n_neg = model.n_neg
    cdef int32_t* ctx = st.ctx
    cdef Plans plans
    cdef Window win
    cdef Py_ssize_t i, n_ctx
    if m < 2:
        return
    _plans_start(&plans, model, st, False)
    for i in range(m):
        if i + 1 < m:
            _plans_draw_next(&plans, model, &st.rng)
            if n_neg:
                _prefetch_rows(model.W_out, model.ld_out, d, plans.next, n_neg)
                _prefetch_rows(model.W_out, model.ld_out, d, &words[i + 1], 1)
            if model.hs:
                _prefetch_path_arrays(model, words, i, m)
            if i + 1 + plans.b_next < m:  # the input row that enters the next window
                _prefetch_rows(model.W_in, model.ld_in, d, &words[i + 1 + plans.b_next], 1)
        win = _window(i, plans.b_cur, m)
        n_ctx = _gather_context(words, i, win, ctx)
        _cbow_example(model, ctx, n_ctx, words[i], plans.cur, n_neg, lr, st.grad, st.grad + d,
                      loss)
        n_pairs[0] += 1
        _plans_advance(&plans)


cdef void _sg_hs_batched_piece(const Model* model, WorkerState* st, const int32_t* words,
                               Py_ssize_t m, float lr, double* loss,
                               int64_t* n_pairs) noexcept nogil:
    """Skip-gram, hierarchical softmax alone, HogBatch, over one piece words[0:m].

    A center's window (its context words' input rows) is trained at once against the center's
    Huffman path, as small matrix products (``_batched_hs_update``). Each center's window size
    is drawn one center ahead (its plan: n_neg = 0, no noise words), and the path arrays of the
    centers to come prefetched.
    """
    cdef Py_ssize_t d = model.d
    cdef int32_t* ctx = st.ctx
    cdef Plans plans
    cdef Window win
    cdef Py_ssize_t i, n_ctx
    cdef int64_t p0
    if m < 2:
        return
    _plans_start(&plans, model, st, False)
    for i in range(m):
        if i + 1 < m:
            _plans_draw_next(&plans, model, &st.rng)
            _prefetch_path_arrays(model, words, i, m)
            if i + 1 + plans.b_next < m:  # the input row that enters the next window
                _prefetch_rows(model.W_in, model.ld_in, d, &words[i + 1 + plans.b_next], 1)
        win = _window(i, plans.b_cur, m)
        n_ctx = _gather_context(words, i, win, ctx)
        p0 = model.path_offsets[words[i]]
        _batched_hs_update(model.W_in, model.ld_in, model.syn1, model.ld_syn1, d, ctx,
                           <int>n_ctx, model.codes + p0, model.points + p0,
                           model.path_offsets[words[i] + 1] - p0, lr, &model.sig, st.grad, loss,
                           model.lockf)
        n_pairs[0] += n_ctx
        _plans_advance(&plans)


# ---------------------------------------------------------------------------------------------
# fastText's subword model (Bojanowski et al. 2017), fastText 0.9's rules
# ---------------------------------------------------------------------------------------------
#
# A word's input is the MEAN of its input rows -- its own row and its character n-grams' bucket
# rows (Model::computeHidden) -- and the input gradient neu1e is added to every one of those
# rows, unscaled (Model::update scales by 1 / n for the supervised model only). Skip-gram
# (FastText::skipgram): the CENTER word's mean, recomputed for each context word (the rows
# change after each pair), predicts that context word. CBOW (FastText::cbow): the mean of all
# the rows of all the window's context words predicts the center. The targets are cw2v's
# (``_example``: hierarchical softmax's path, then negative sampling's), the random draws those
# of the plain architectures: skip-gram n_neg noise words per pair, CBOW n_neg per center.

cdef inline int _sub_sum(const Model* model, int32_t w, float scale, float* y) noexcept nogil:
    """y = scale * (the sum of word w's input rows); returns how many rows."""
    cdef int64_t lo = model.sub_offsets[w]
    cdef int n = <int>(model.sub_offsets[w + 1] - lo)
    cw2v_sum_rows(model.W_in, model.ld_in, model.sub_rows + lo, n, scale, y, model.d)
    return n


cdef inline void _sub_add(const Model* model, int32_t w, const float* neu1e) noexcept nogil:
    """neu1e added to each of word w's input rows (a row listed twice gets it twice, as
    fastText's loop over the n-gram list does)."""
    cdef int64_t lo = model.sub_offsets[w]
    cw2v_add_to_rows(neu1e, model.W_in, model.ld_in, model.sub_rows + lo,
                     <int>(model.sub_offsets[w + 1] - lo), model.d)


cdef inline void _sg_sub_example(const Model* model, int32_t center, int32_t target,
                                 const int32_t* negatives, Py_ssize_t n_neg, float lr, float* h,
                                 float* neu1e, double* loss) noexcept nogil:
    """One skip-gram pair of the subword model: h = the mean of ``center``'s rows predicts
    ``target``; neu1e goes to each of the center's rows."""
    cdef int64_t lo = model.sub_offsets[center]
    cdef int n = <int>(model.sub_offsets[center + 1] - lo)
    cw2v_sum_rows(model.W_in, model.ld_in, model.sub_rows + lo, n, <float>1.0 / <float>n, h,
                  model.d)
    _example(model, h, target, negatives, n_neg, lr, neu1e, loss)
    cw2v_add_to_rows(neu1e, model.W_in, model.ld_in, model.sub_rows + lo, n, model.d)


cdef inline void _cbow_sub_example(const Model* model, const int32_t* ctx, Py_ssize_t n_ctx,
                                   int32_t target, const int32_t* negatives, Py_ssize_t n_neg,
                                   float lr, float* h, float* neu1e, float* tmp,
                                   double* loss) noexcept nogil:
    """One CBOW example of the subword model: h = the mean (cbow_mean; the sum otherwise) of
    all the rows of the context words ctx[0:n_ctx] predicts ``target``; neu1e goes to each of
    those rows (divided by their number for the sum)."""
    cdef Py_ssize_t k, t, d = model.d
    cdef int64_t n_rows = 0
    cdef float inv
    memset(h, 0, d * sizeof(float))
    for k in range(n_ctx):
        n_rows += _sub_sum(model, ctx[k], <float>1.0, tmp)
        cw2v_axpy(<float>1.0, tmp, h, d)
    inv = <float>1.0 / <float>n_rows
    if model.cbow_mean:
        for t in range(d):
            h[t] *= inv
    _example(model, h, target, negatives, n_neg, lr, neu1e, loss)
    if not model.cbow_mean:
        for t in range(d):
            neu1e[t] *= inv
    for k in range(n_ctx):
        _sub_add(model, ctx[k], neu1e)


cdef inline void _prefetch_sub_rows(const Model* model, int32_t w) noexcept nogil:
    """Prefetch word w's input rows (its own and its n-grams')."""
    cdef int64_t lo = model.sub_offsets[w]
    _prefetch_rows(model.W_in, model.ld_in, model.d, model.sub_rows + lo,
                   model.sub_offsets[w + 1] - lo)


cdef inline float _sub_growth(const int32_t* rows, int n) noexcept nogil:
    """How much the mean of the rows rows[0:n] moves when each listed row gets x added (a row
    listed c times gets c * x): the mean grows by (sum over distinct rows of c**2) / n * x --
    1 when no row is listed twice."""
    cdef int k, l
    cdef int64_t same = 0
    for k in range(n):
        for l in range(k):
            same += rows[k] == rows[l]
    return <float>(n + 2 * same) / <float>n


cdef void _sg_sub_piece(const Model* model, WorkerState* st, const int32_t* words, Py_ssize_t m,
                        float lr, double* loss, int64_t* n_pairs) noexcept nogil:
    """Skip-gram with subwords (fastText's FastText::skipgram), over one piece words[0:m]: for
    each center and each context word of its window, in order, the mean of the center's rows
    predicts the context word (hierarchical softmax's path, then n_neg noise words of the
    pair), and the pair's input gradient goes to each of those rows. The plan (window size b,
    then 2 * b * n_neg noise words) is drawn one center ahead, as in ``_sg_ns_exact_piece``; the
    next center's input rows and each next pair's output rows (its target's, its noise words')
    are prefetched.

    The rows are summed once per center, not once per pair: while a center's window trains,
    only the center's own rows change on the input side, each pair adding its gradient neu1e to
    each of them, so the next pair's mean is this one's plus ``_sub_growth`` * neu1e (exactly,
    but for float32 rounding). The summed gradient goes to the rows once, at the end of the
    window. Same updates as forming the mean again for each pair (fastText's loop; the
    reference does that), at about half the row passes."""
    cdef Py_ssize_t d = model.d, n_neg = model.n_neg
    cdef float* neu1e = st.grad
    cdef float* h = st.grad + d
    cdef float* acc = st.grad + 2 * d
    cdef Plans plans
    cdef Window win
    cdef Py_ssize_t i, j, jn, c, t
    cdef int64_t lo
    cdef int n
    cdef float growth
    if m < 2:
        return
    _plans_start(&plans, model, st, True)
    for i in range(m):
        if i + 1 < m:
            _plans_draw_next(&plans, model, &st.rng)
            _prefetch_sub_rows(model, words[i + 1])
        win = _window(i, plans.b_cur, m)
        lo = model.sub_offsets[words[i]]
        n = <int>(model.sub_offsets[words[i] + 1] - lo)
        cw2v_sum_rows(model.W_in, model.ld_in, model.sub_rows + lo, n, <float>1.0 / <float>n, h,
                      d)
        growth = _sub_growth(model.sub_rows + lo, n)
        memset(acc, 0, d * sizeof(float))
        c = 0
        for j in range(win.lo, win.hi):
            if j == i:
                continue
            jn = _next_context(j, i)
            if jn < win.hi:  # the next pair's output rows
                _prefetch_rows(model.W_out, model.ld_out, d, plans.cur + (c + 1) * n_neg, n_neg)
                _prefetch_rows(model.W_out, model.ld_out, d, &words[jn], 1)
            elif i + 1 < m:  # the next center's first pair's noise rows
                _prefetch_rows(model.W_out, model.ld_out, d, plans.next, n_neg)
            _example(model, h, words[j], plans.cur + c * n_neg, n_neg, lr, neu1e, loss)
            for t in range(d):
                acc[t] += neu1e[t]
                h[t] += growth * neu1e[t]
            c += 1
        cw2v_add_to_rows(acc, model.W_in, model.ld_in, model.sub_rows + lo, n, d)
        n_pairs[0] += c
        _plans_advance(&plans)


cdef void _cbow_sub_piece(const Model* model, WorkerState* st, const int32_t* words,
                          Py_ssize_t m, float lr, double* loss, int64_t* n_pairs) noexcept nogil:
    """CBOW with subwords (fastText's FastText::cbow), over one piece words[0:m]: the mean of
    all the rows of each center's context words predicts the center. The plan (b, then n_neg
    noise words) is drawn one center ahead, as in ``_cbow_piece``."""
    cdef Py_ssize_t d = model.d, n_neg = model.n_neg
    cdef int32_t* ctx = st.ctx
    cdef Plans plans
    cdef Window win
    cdef Py_ssize_t i, n_ctx
    if m < 2:
        return
    _plans_start(&plans, model, st, False)
    for i in range(m):
        if i + 1 < m:
            _plans_draw_next(&plans, model, &st.rng)
            _prefetch_rows(model.W_out, model.ld_out, d, plans.next, n_neg)  # next targets
            _prefetch_rows(model.W_out, model.ld_out, d, &words[i + 1], 1)
            if i + 1 + plans.b_next < m:  # the word that enters the next window
                _prefetch_sub_rows(model, words[i + 1 + plans.b_next])
        win = _window(i, plans.b_cur, m)
        n_ctx = _gather_context(words, i, win, ctx)
        _cbow_sub_example(model, ctx, n_ctx, words[i], plans.cur, n_neg, lr, st.grad + d,
                          st.grad, st.grad + 2 * d, loss)
        n_pairs[0] += 1
        _plans_advance(&plans)


cdef int _check_subword_weights(weights_t W_in, weights_t W_out) except -1:
    """The subword model's weights: W_in holds the V word rows and the bucket rows (at least
    V rows), W_out V rows, both d wide."""
    if W_in.shape[1] != W_out.shape[1] or W_in.shape[0] < W_out.shape[0]:
        raise ValueError(f"W_in ({W_in.shape[0]}, {W_in.shape[1]}) must have W_out's "
                         f"({W_out.shape[0]}, {W_out.shape[1]}) width and at least its rows "
                         "(the words' rows, then the n-gram buckets')")
    if W_out.shape[0] < 1 or W_in.shape[1] < 1:
        raise ValueError("weights must have at least one row and one column")
    if W_in.shape[0] >= 2**31:
        raise ValueError("words + buckets: more than 2**31 - 1 input rows")
    if W_in.shape[1] > MAX_DIM:
        raise ValueError(f"vector size d must be <= {MAX_DIM} (the kernel's MAX_DIM), "
                         f"got {W_in.shape[1]}")
    return 0


cdef int _check_subword_table(const int64_t[::1] offsets, const int32_t[::1] rows,
                              Py_ssize_t V, Py_ssize_t n_in) except -1:
    """The words' input rows in CSR form (cw2v.subwords.subword_table): V + 1 non-decreasing
    offsets from 0 to len(rows), every word at least one row, rows in [0, n_in)."""
    cdef Py_ssize_t w
    if offsets.shape[0] != V + 1:
        raise ValueError(f"sub_offsets has {offsets.shape[0]} entries, the vocabulary {V} + 1")
    if offsets[0] != 0 or offsets[V] != rows.shape[0]:
        raise ValueError(f"sub_offsets must run from 0 to len(sub_rows) = {rows.shape[0]}, "
                         f"got {offsets[0]}..{offsets[V]}")
    for w in range(V):
        if not 1 <= offsets[w + 1] - offsets[w] < 2**31:
            raise ValueError(f"word {w} has {offsets[w + 1] - offsets[w]} input rows in "
                             "sub_offsets; each word needs 1..2**31 - 1 (its own row first)")
    cdef Py_ssize_t bad
    with nogil:
        bad = _first_out_of_range(&rows[0], rows.shape[0], n_in)
    if bad >= 0:
        raise IndexError(f"sub_rows[{bad}] = {rows[bad]} is out of range for an input matrix "
                         f"of {n_in} rows")
    return 0


# ---------------------------------------------------------------------------------------------
# The entry point: one worker's state
# ---------------------------------------------------------------------------------------------

cdef class KernelState:
    """One worker's kernel-side state: the weights it trains, the sigmoid and noise tables, the
    subsampling keep-probabilities, its random generator and its scratch buffers.

    Everything is checked and allocated once, here; the methods then only check their own
    arguments. A state is used by one thread at a time (a second concurrent call raises
    RuntimeError); ``W_in`` and ``W_out`` may be shared by several states (Hogwild).

    Parameters
    ----------
    W_in, W_out : float32 (V, d), writeable
        The weights, updated in place. d <= MAX_DIM (100,000). Each row's d floats are
        contiguous; rows are d floats apart (C-contiguous) or further (the first d columns of a
        wider array, as ``cw2v._rows`` allocates them: rows on vector-width boundaries), and
        must not overlap.
    sigmoid : cw2v.tables.SigmoidTables
        The sigmoid and log-sigmoid tables and their range ``max_exp``.
    noise : cw2v.tables.AliasTable
        The alias table (``prob``, ``alias``, V entries each) of the noise distribution.
    n_neg : int
        Noise words per positive pair, 0..MAX_NEG (10,000); batched: at most
        MAX_BATCH_OUTPUTS - 1 (32).
    rng_state : int
        The generator's 64-bit state (splitmix64); see the ``rng_state`` property.
    keep_prob : float32 (V,), optional
        Probability of keeping each word when ``train_span`` subsamples (word2vec.c's formula,
        from ``cw2v.tables.keep_probabilities``); None keeps every word.
    window : int
        Maximum window of ``train_span``, 1..MAX_WINDOW (10,000); batched: at most
        MAX_BATCH_INPUTS // 2 (32).
    objective : str
        How ``train_span`` trains, one of OBJECTIVES: "exact" (word2vec.c's rules, every
        architecture and objective; skip-gram negative sampling draws n_neg noise words per
        pair) or "batched" (HogBatch: skip-gram with negative sampling only, one set of noise
        words shared by a center's window).
    sg : int
        1: skip-gram (the context word predicts the center); 0: CBOW (the window's mean or sum
        predicts the center).
    hs : int
        1: hierarchical softmax over ``tree`` with inner-node weights ``syn1`` (and negative
        sampling too when n_neg > 0); 0: negative sampling only.
    cbow_mean : int
        CBOW only: 1 averages the context rows (word2vec.c), 0 sums them (gensim's option).
    tree : cw2v.tables.HuffmanTree, optional
        The Huffman tree over the V words (required when hs=1): its paths' inner nodes must be
        in [0, V - 1), its codes 0 or 1.
    syn1 : float32 (V, d), writeable, optional, laid out as W_in may be
        Hierarchical softmax's inner-node weights (required when hs=1; row V - 1 unused).
    sub_offsets, sub_rows : int64 (V + 1,) and int32 arrays, optional
        fastText's subword model (``cw2v.subwords.subword_table``): word w's input vector is
        the mean of the W_in rows ``sub_rows[sub_offsets[w]:sub_offsets[w + 1]]`` (at least
        one each, in [0, len(W_in))), and W_in then has V + bucket rows (V = len(W_out)).
        Skip-gram: the center word's mean predicts each context word (fastText's direction);
        CBOW: the mean of all the context words' rows predicts the center. Exact mode only.
    lockf : float32 (V,), optional
        Each word's lock factor (gensim's ``vectors_lockf``): every update of ``W_in[w]``, in
        every method and objective, is scaled by ``lockf[w]`` -- 0 leaves the row unchanged,
        1 trains it as usual. Output rows (``W_out``, ``syn1``) train as usual. Values must be
        in [0, 1]. None: no locking (the kernel does no extra work).
    """
    cdef weights_t W_in
    cdef weights_t W_out
    cdef const float[::1] sigmoid
    cdef const float[::1] log_sigmoid
    cdef const float[::1] noise_prob
    cdef const int32_t[::1] noise_alias
    cdef const float[::1] keep_prob
    cdef Model model         # what the kernel functions read of the weights and tables
    cdef WorkerState st      # this worker's scratch and generator
    cdef Objective code
    cdef Py_ssize_t V
    cdef bint busy
    cdef float* grad
    cdef int32_t* plans
    cdef void* grad_raw      # what to free(): grad and plans are aligned inside these
    cdef void* plans_raw
    cdef int32_t* kept
    cdef Py_ssize_t kept_cap
    cdef readonly Py_ssize_t n_neg
    cdef readonly Py_ssize_t window
    cdef readonly str objective
    cdef readonly tuple sources
    cdef readonly int sg
    cdef readonly int hs
    cdef readonly int cbow_mean
    cdef weights_t syn1
    cdef const uint8_t[::1] codes
    cdef const int32_t[::1] points
    cdef const int64_t[::1] path_offsets
    cdef const int64_t[::1] sub_offsets
    cdef const int32_t[::1] sub_rows
    cdef readonly bint subwords
    cdef const float[::1] lockf

    def __cinit__(self, W_in, W_out, sigmoid, noise, Py_ssize_t n_neg, uint64_t rng_state, *,
                  keep_prob=None, Py_ssize_t window=1, str objective="exact", int sg=1,
                  int hs=0, int cbow_mean=1, tree=None, syn1=None, sub_offsets=None,
                  sub_rows=None, lockf=None):
        self.grad = NULL
        self.plans = NULL
        self.grad_raw = NULL
        self.plans_raw = NULL
        self.kept = NULL
        self.kept_cap = 0
        self.busy = False
        # Bounds first: nothing is allocated from a size that has not passed them.
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        if not 0 <= n_neg <= MAX_NEG:
            raise ValueError(f"n_neg must be in 0..{MAX_NEG} (the kernel's MAX_NEG bounds the "
                             f"noise words it draws and holds per pair), got {n_neg}")
        if not 1 <= window <= MAX_WINDOW:
            raise ValueError(f"window must be in 1..{MAX_WINDOW} (the kernel's MAX_WINDOW "
                             f"bounds the contexts it holds per center), got {window}")
        for name, value in (("sg", sg), ("hs", hs), ("cbow_mean", cbow_mean)):
            if value not in (0, 1):
                raise ValueError(f"{name} must be 0 or 1, got {value}")
        if objective == "batched" and (not sg or (hs and n_neg)):
            raise ValueError("the batched objective covers skip-gram with negative sampling "
                             "or with hierarchical softmax alone (sg=1 and hs=0 or n_neg=0), "
                             f"got sg={sg}, hs={hs}, n_neg={n_neg}")
        if objective == "batched" and (2 * window > _BATCH_INPUTS
                                       or n_neg + 1 > _BATCH_OUTPUTS):
            raise ValueError(f"the batched objective takes window <= {_BATCH_INPUTS // 2} and "
                             f"n_neg <= {_BATCH_OUTPUTS - 1} (its stack buffers), got "
                             f"window={window}, n_neg={n_neg}")
        self.W_in = W_in
        self.W_out = W_out
        self.subwords = sub_offsets is not None or sub_rows is not None
        if self.subwords:
            if sub_offsets is None or sub_rows is None:
                raise ValueError("the subword model needs both sub_offsets and sub_rows")
            if objective == "batched":
                raise ValueError("the subword model trains in the exact mode only")
            if lockf is not None:
                raise ValueError("lock factors (lockf) are not supported with the subword model")
            _check_subword_weights(self.W_in, self.W_out)
            self.sub_offsets = sub_offsets
            self.sub_rows = sub_rows
            _check_subword_table(self.sub_offsets, self.sub_rows, self.W_out.shape[0],
                                 self.W_in.shape[0])
        else:
            _check_weights(self.W_in, self.W_out)
        cdef Py_ssize_t V = self.W_out.shape[0], d = self.W_in.shape[1]
        self.V = V
        try:
            self.sigmoid = sigmoid.sigmoid
            self.log_sigmoid = sigmoid.log_sigmoid
            max_exp = float(sigmoid.max_exp)
        except AttributeError:
            raise TypeError("sigmoid must be a cw2v.tables.SigmoidTables") from None
        self.model.sig = _sigmoid_view(self.sigmoid, self.log_sigmoid, max_exp)
        try:
            self.noise_prob = noise.prob
            self.noise_alias = noise.alias
        except AttributeError:
            raise TypeError("noise must be a cw2v.tables.AliasTable") from None
        if self.noise_prob.shape[0] != V or self.noise_alias.shape[0] != V:
            raise ValueError(f"noise table has {self.noise_prob.shape[0]}/"
                             f"{self.noise_alias.shape[0]} entries, the vocabulary {V}")
        _check_ids(&self.noise_alias[0], V, V, "noise.alias")
        self.keep_prob = np.ones(V, dtype=np.float32) if keep_prob is None else keep_prob
        if self.keep_prob.shape[0] != V:
            raise ValueError(f"keep_prob has {self.keep_prob.shape[0]} entries, the "
                             f"vocabulary {V}")
        if hs:
            self._set_tree(tree, syn1, V, d)
        self.model.lockf = NULL
        if lockf is not None:
            self._set_lockf(lockf, V)
        self.n_neg = n_neg
        self.window = window
        self.objective = objective
        self.sg, self.hs, self.cbow_mean = sg, hs, cbow_mean
        if self.subwords:
            self.code = SG_SUB if sg else CBOW_SUB
        elif not sg:
            self.code = CBOW
        elif hs:
            self.code = SG_HS_BATCHED if objective == "batched" else SG_HS
        else:
            self.code = SG_NS_BATCHED if objective == "batched" else SG_NS_EXACT
        self.st.rng = rng_state
        self.sources = (W_in, W_out, sigmoid, noise, lockf)

        # Scratch, sized in Py_ssize_t from the bounded sizes. A plan holds a center's noise
        # words (skip-gram's exact rule: n_neg per context; batched and CBOW: one shared set)
        # after one free slot. grad: neu1e (exact), dI (batched: 2 * window rows), h and neu1e
        # (CBOW).
        cdef Py_ssize_t grad_rows = (2 * window if self.code in (SG_NS_BATCHED, SG_HS_BATCHED)
                                     else 2 if self.code == CBOW
                                     else 3 if self.code in (SG_SUB, CBOW_SUB) else 1)
        cdef Py_ssize_t plan_len = (2 * window * n_neg
                                    if self.code in (SG_NS_EXACT, SG_HS, SG_SUB)
                                    else n_neg) + 1
        cdef Py_ssize_t n_ids = 2 * plan_len + 2 * window
        # Private blocks: no cache line shared with another worker's scratch (vecops.h).
        self.grad = <float*>cw2v_alloc_private(grad_rows * d * sizeof(float), &self.grad_raw)
        self.plans = <int32_t*>cw2v_alloc_private(n_ids * sizeof(int32_t), &self.plans_raw)
        if self.grad == NULL or self.plans == NULL:
            raise MemoryError(f"cannot allocate the kernel's scratch ({grad_rows} x {d} floats, "
                              f"{n_ids} ids)")
        self.model.W_in = &self.W_in[0, 0]
        self.model.W_out = &self.W_out[0, 0]
        self.model.d = d
        self.model.ld_in = _row_stride(self.W_in, "W_in")
        self.model.ld_out = _row_stride(self.W_out, "W_out")
        self.model.window = window
        self.model.n_neg = n_neg
        self.model.noise.prob = &self.noise_prob[0]
        self.model.noise.alias = &self.noise_alias[0]
        self.model.noise.n = <uint32_t>V
        self.st.grad = self.grad
        self.st.plan_a = self.plans + 1
        self.st.plan_b = self.plans + plan_len + 1
        self.st.ctx = self.plans + 2 * plan_len
        self.model.cbow_mean = cbow_mean
        self.model.hs = hs
        if hs:
            self.model.syn1 = &self.syn1[0, 0]
            self.model.ld_syn1 = _row_stride(self.syn1, "syn1")
            self.model.path_offsets = &self.path_offsets[0]
            # Empty paths (V = 1) leave codes and points empty: nothing reads them.
            self.model.codes = &self.codes[0] if self.codes.shape[0] else NULL
            self.model.points = &self.points[0] if self.points.shape[0] else NULL
        self.model.sub_offsets = NULL
        self.model.sub_rows = NULL
        if self.subwords:
            self.model.sub_offsets = &self.sub_offsets[0]
            self.model.sub_rows = &self.sub_rows[0]

    cdef int _set_tree(self, tree, syn1, Py_ssize_t V, Py_ssize_t d) except -1:
        """Check hierarchical softmax's tree and syn1 against a vocabulary of V words, d wide."""
        if tree is None or syn1 is None:
            raise ValueError("hs=1 needs the Huffman tree (tree=) and the inner-node weights "
                             "(syn1=)")
        self.syn1 = syn1
        if self.syn1.shape[0] != V or self.syn1.shape[1] != d:
            raise ValueError(f"syn1 ({self.syn1.shape[0]}, {self.syn1.shape[1]}) must have "
                             f"the shape of W_in ({V}, {d})")
        try:
            self.codes = tree.codes
            self.points = tree.points
            self.path_offsets = tree.offsets
        except AttributeError:
            raise TypeError("tree must be a cw2v.tables.HuffmanTree") from None
        cdef Py_ssize_t n = self.codes.shape[0], w, k
        if self.path_offsets.shape[0] != V + 1:
            raise ValueError(f"tree.offsets has {self.path_offsets.shape[0]} entries, the "
                             f"vocabulary {V} + 1")
        if self.points.shape[0] != n or self.path_offsets[0] != 0 or self.path_offsets[V] != n:
            raise ValueError("tree.codes and tree.points must have tree.offsets[-1] entries "
                             "and tree.offsets[0] must be 0")
        for w in range(V):
            if self.path_offsets[w + 1] < self.path_offsets[w]:
                raise ValueError(f"tree.offsets must be non-decreasing (word {w})")
        for k in range(n):
            if self.codes[k] > 1:
                raise ValueError(f"tree.codes[{k}] = {self.codes[k]}, not 0 or 1")
        if n:
            _check_ids(&self.points[0], n, V - 1, "tree.points")
        return 0

    cdef int _set_lockf(self, lockf, Py_ssize_t V) except -1:
        """Check the lock factors (float32, V of them, each in [0, 1]) and point the model at
        them."""
        self.lockf = lockf
        if self.lockf.shape[0] != V:
            raise ValueError(f"lockf has {self.lockf.shape[0]} entries, the vocabulary {V}")
        cdef Py_ssize_t w
        for w in range(V):
            if not 0.0 <= self.lockf[w] <= 1.0:
                raise ValueError(f"lockf[{w}] = {self.lockf[w]}, not in [0, 1]")
        self.model.lockf = &self.lockf[0]
        return 0

    @property
    def kernel_function(self):
        """The kernel function ``train_span`` runs: one of KERNEL_FUNCTIONS."""
        return KERNEL_FUNCTIONS[<int>self.code]

    def __dealloc__(self):
        free(self.grad_raw)
        free(self.plans_raw)
        free(self.kept)

    @property
    def rng_state(self):
        """The generator's 64-bit state (int): read it to save a run, assign it to resume."""
        return self.st.rng

    @rng_state.setter
    def rng_state(self, uint64_t value):
        self._enter()
        self.st.rng = value
        self.busy = False

    cdef int _enter(self) except -1:
        """Mark the state in use, or raise if another thread is inside one of its methods."""
        if self.busy:
            raise RuntimeError("this KernelState is in use by another thread; make one per "
                               "thread")
        self.busy = True
        return 0

    def train_pair(self, Py_ssize_t center, Py_ssize_t context, float lr,
                   const int32_t[::1] negatives=None):
        """One skip-gram negative-sampling update of ``W_in[center]`` against
        ``W_out[context]`` and noise words.

        Parameters
        ----------
        center, context : int
            Row indices in [0, V); IndexError otherwise.
        lr : float
            Learning rate.
        negatives : int32 array, optional
            The noise words (ids in [0, V), at most MAX_NEG); by default n_neg are drawn with
            the state's generator.

        Returns
        -------
        float
            The pair's loss, -log sigmoid(f+) - sum log sigmoid(-f-), from the tables.
        """
        if not 0 <= center < self.V:
            raise IndexError(f"center index {center} is out of range for a vocabulary of {self.V}")
        if not 0 <= context < self.V:
            raise IndexError(f"context index {context} is out of range for a vocabulary of "
                             f"{self.V}")
        cdef Py_ssize_t n_neg = self.n_neg
        cdef const int32_t* negs = self.st.plan_a
        cdef bint draw = negatives is None
        if not draw:
            n_neg = negatives.shape[0]
            if n_neg > MAX_NEG:
                raise ValueError(f"at most {MAX_NEG} noise words (MAX_NEG), got {n_neg}")
            if n_neg:
                negs = &negatives[0]
                _check_ids(negs, n_neg, self.V, "negatives")
        cdef double loss = 0.0
        self._enter()
        with nogil:
            if draw:
                _draw_noise(&self.st.rng, &self.model.noise, n_neg, self.st.plan_a)
            _ns_update(self.model.W_in + center * self.model.ld_in, self.model.W_out,
                         self.model.ld_out, self.model.d,
                         <int32_t>context, negs, n_neg, lr, &self.model.sig, self.st.grad, &loss,
                         _lock(self.model.lockf, <int32_t>center))
        self.busy = False
        return loss

    def train_pairs(self, const int32_t[::1] centers, const int32_t[::1] contexts, float lr,
                    const int32_t[:, ::1] negatives=None):
        """Skip-gram negative-sampling updates for many (center, context) pairs in one nogil
        loop, in order.

        Parameters
        ----------
        centers, contexts : int32 arrays of equal length
            Row indices in [0, V).
        lr : float
            Learning rate.
        negatives : int32 array (len(centers), k), optional
            Each pair's noise words (k <= MAX_NEG); by default n_neg a pair are drawn with the
            state's generator.

        Returns
        -------
        float
            The summed loss of all pairs.
        """
        cdef Py_ssize_t n = centers.shape[0], p
        if contexts.shape[0] != n:
            raise ValueError(f"centers ({n}) and contexts ({contexts.shape[0]}) differ in length")
        if n == 0:
            return 0.0
        _check_ids(&centers[0], n, self.V, "centers")
        _check_ids(&contexts[0], n, self.V, "contexts")
        cdef bint draw = negatives is None
        cdef Py_ssize_t n_neg = self.n_neg
        if not draw:
            n_neg = negatives.shape[1]
            if negatives.shape[0] != n:
                raise ValueError(f"negatives must have one row per pair ({n}), got "
                                 f"{negatives.shape[0]}")
            if n_neg > MAX_NEG:
                raise ValueError(f"at most {MAX_NEG} noise words a pair (MAX_NEG), got {n_neg}")
            if n_neg:
                _check_ids(&negatives[0, 0], n * n_neg, self.V, "negatives")
        cdef double loss = 0.0
        cdef const int32_t* negs = self.st.plan_a
        cdef Py_ssize_t d = self.model.d
        self._enter()
        cdef uint64_t state = self.st.rng
        with nogil:
            for p in range(n):
                if draw:
                    _draw_noise(&state, &self.model.noise, n_neg, self.st.plan_a)
                elif n_neg:
                    negs = &negatives[p, 0]
                _ns_update(self.model.W_in + centers[p] * self.model.ld_in, self.model.W_out,
                             self.model.ld_out, d, contexts[p], negs,
                             n_neg, lr, &self.model.sig, self.st.grad, &loss,
                             _lock(self.model.lockf, centers[p]))
        self.st.rng = state
        self.busy = False
        return loss

    def train_example(self, const int32_t[::1] inputs, Py_ssize_t target, float lr,
                      const int32_t[::1] negatives=None):
        """One example of the state's architecture and objective, exact rule, nothing drawn
        but the noise words (when ``negatives`` is None): the door the tests step through.

        Skip-gram: ``inputs`` holds one word, whose input row predicts ``target``; CBOW: the
        mean (or sum) of the rows of ``inputs`` (1..2 * window ids) predicts ``target``. With
        subwords, a word's input row is the mean of its rows (``sub_offsets``, ``sub_rows``):
        skip-gram's ``inputs[0]`` is the center word, CBOW's h the mean of all the context
        words' rows.
        Hierarchical softmax's targets (target's Huffman path) come first when hs=1, then
        negative sampling's (target and the noise words) when there are noise words.

        Parameters
        ----------
        inputs : int32 array
            Input word ids in [0, V); one for skip-gram, 1..2 * window for CBOW.
        target : int
            The predicted word, in [0, V).
        lr : float
            Learning rate.
        negatives : int32 array, optional
            The noise words (ids in [0, V), at most n_neg); by default n_neg are drawn with the
            state's generator.

        Returns
        -------
        float
            The example's loss (-log sigmoid terms of all its targets, from the tables).
        """
        cdef Py_ssize_t n_in = inputs.shape[0]
        cdef Py_ssize_t limit = 1 if self.sg else 2 * self.window
        if not 1 <= n_in <= limit:
            raise ValueError(f"inputs must hold 1..{limit} word ids for "
                             f"{'skip-gram' if self.sg else 'CBOW'} with window "
                             f"{self.window}, got {n_in}")
        _check_ids(&inputs[0], n_in, self.V, "inputs")
        if not 0 <= target < self.V:
            raise IndexError(f"target {target} is out of range for a vocabulary of {self.V}")
        cdef Py_ssize_t n_neg = self.n_neg
        cdef const int32_t* negs = self.st.plan_a
        cdef bint draw = negatives is None
        if not draw:
            n_neg = negatives.shape[0]
            if n_neg > self.n_neg:
                raise ValueError(f"at most n_neg = {self.n_neg} noise words, got {n_neg}")
            if n_neg:
                negs = &negatives[0]
                _check_ids(negs, n_neg, self.V, "negatives")
        cdef double loss = 0.0
        cdef Py_ssize_t t, d = self.model.d
        cdef float* h
        self._enter()
        with nogil:
            if draw:
                _draw_noise(&self.st.rng, &self.model.noise, n_neg, self.st.plan_a)
            if self.subwords and self.sg:
                _sg_sub_example(&self.model, inputs[0], <int32_t>target, negs, n_neg, lr,
                                self.st.grad + d, self.st.grad, &loss)
            elif self.subwords:
                _cbow_sub_example(&self.model, &inputs[0], n_in, <int32_t>target, negs, n_neg,
                                  lr, self.st.grad + d, self.st.grad, self.st.grad + 2 * d,
                                  &loss)
            elif self.sg:
                h = self.model.W_in + inputs[0] * self.model.ld_in
                _example(&self.model, h, <int32_t>target, negs, n_neg, lr, self.st.grad, &loss)
                _add_input(_lock(self.model.lockf, inputs[0]), self.st.grad, h, d)
            else:
                _cbow_example(&self.model, &inputs[0], n_in, <int32_t>target, negs, n_neg, lr,
                              self.st.grad, self.st.grad + d, &loss)
        self.busy = False
        return loss

    def train_span(self, const int32_t[::1] tokens, const int64_t[::1] bounds, float lr_start,
                   float lr_end):
        """Train the state's objective on one span of the encoded corpus, GIL released.

        Per sentence piece: subsample (keep word w with probability keep_prob[w]), then train
        each kept center with its own window drawn from 1..window, by the objective's kernel
        function. The learning rate moves linearly from lr_start to lr_end over the span.

        Parameters
        ----------
        tokens : int32 word ids of the span, in [0, V).
        bounds : int64 sentence boundaries inside the span: 0 = bounds[0] <= ... <= bounds[-1]
            = len(tokens). Windows never cross a boundary.
        lr_start, lr_end : learning rate at the start and the end of the span.

        Returns
        -------
        (words, kept_words, pairs, loss)
            Tokens read, tokens kept by subsampling, examples trained (skip-gram: (center,
            context) pairs; CBOW: centers), summed loss of all their targets.
        """
        cdef Py_ssize_t n = tokens.shape[0], nb = bounds.shape[0], s, p
        if nb < 1 or bounds[0] != 0 or bounds[nb - 1] != n:
            raise ValueError("bounds must start at 0 and end at len(tokens)")
        for s in range(1, nb):
            if bounds[s] < bounds[s - 1]:
                raise ValueError("bounds must be non-decreasing")
        if n == 0:
            return 0, 0, 0, 0.0
        _check_ids(&tokens[0], n, self.V, "tokens")
        cdef int32_t* grown
        if n > self.kept_cap:
            grown = <int32_t*>realloc(self.kept, n * sizeof(int32_t))
            if grown == NULL:
                raise MemoryError(f"cannot allocate {n} token ids")
            self.kept = grown
            self.kept_cap = n
        cdef double loss = 0.0
        cdef int64_t n_pairs = 0, kept = 0
        cdef Py_ssize_t m
        cdef int32_t w
        cdef float lr
        cdef int32_t* words = self.kept
        cdef const float* keep = &self.keep_prob[0]
        cdef const Model* model = &self.model
        cdef Objective code = self.code
        self._enter()
        # The worker's state (its generator) lives on this thread's stack while the span runs:
        # two workers' states may share a cache line, and writing it there per draw would bounce
        # the line.
        cdef WorkerState st = self.st
        with nogil:
            for s in range(nb - 1):
                # Subsample the sentence piece (word2vec.c: keep with probability keep_prob[w]).
                m = 0
                for p in range(bounds[s], bounds[s + 1]):
                    w = tokens[p]
                    if keep[w] >= 1.0 or cw2v_rng_uniform(&st.rng) < keep[w]:
                        words[m] = w
                        m += 1
                kept += m
                lr = lr_start + (lr_end - lr_start) * (<float>bounds[s] / <float>n)
                if code == SG_NS_BATCHED:
                    _sg_ns_batched_piece(model, &st, words, m, lr, &loss, &n_pairs)
                elif code == CBOW:
                    _cbow_piece(model, &st, words, m, lr, &loss, &n_pairs)
                elif code == SG_HS:
                    _sg_hs_piece(model, &st, words, m, lr, &loss, &n_pairs)
                elif code == SG_HS_BATCHED:
                    _sg_hs_batched_piece(model, &st, words, m, lr, &loss, &n_pairs)
                elif code == SG_SUB:
                    _sg_sub_piece(model, &st, words, m, lr, &loss, &n_pairs)
                elif code == CBOW_SUB:
                    _cbow_sub_piece(model, &st, words, m, lr, &loss, &n_pairs)
                else:
                    _sg_ns_exact_piece(model, &st, words, m, lr, &loss, &n_pairs)
        self.st.rng = st.rng
        self.busy = False
        return n, kept, n_pairs, loss


# ---------------------------------------------------------------------------------------------
# Test doors (private): the generator, the noise sampler, the sigmoid table, one batched step
# ---------------------------------------------------------------------------------------------

def _rng_draws(uint64_t seed, Py_ssize_t n):
    """``n`` raw 64-bit outputs of the kernel's generator started from state ``seed``."""
    out = np.empty(n, dtype=np.uint64)
    cdef uint64_t[::1] o = out
    cdef uint64_t state = seed
    cdef Py_ssize_t i
    with nogil:
        for i in range(n):
            o[i] = cw2v_rng_next(&state)
    return out


def _noise_draws(noise, uint64_t seed, Py_ssize_t n):
    """``n`` draws from ``noise`` (a cw2v.tables.AliasTable) with the kernel's sampler, the
    generator started from state ``seed``."""
    cdef const float[::1] prob = noise.prob
    cdef const int32_t[::1] alias = noise.alias
    cdef Py_ssize_t V = prob.shape[0]
    if V == 0 or alias.shape[0] != V:
        raise ValueError("the alias table must have prob and alias of the same length >= 1")
    _check_ids(&alias[0], V, V, "noise.alias")
    cdef NoiseTable t = NoiseTable(&prob[0], &alias[0], <uint32_t>V)
    out = np.empty(n, dtype=np.int32)
    cdef int32_t[::1] o = out
    cdef uint64_t state = seed
    if n:
        with nogil:
            _draw_noise(&state, &t, n, &o[0])
    return out


def _sigmoid_lookup(const float[::1] x, sigmoid):
    """The kernel's table sigmoid of each x (float32) from ``sigmoid``, a
    cw2v.tables.SigmoidTables."""
    cdef const float[::1] table = sigmoid.sigmoid
    cdef const float[::1] log_table = sigmoid.log_sigmoid
    cdef SigmoidTable t = _sigmoid_view(table, log_table, float(sigmoid.max_exp))
    out = np.empty(x.shape[0], dtype=np.float32)
    cdef float[::1] o = out
    cdef Py_ssize_t i
    cdef float unused = 0.0
    with nogil:
        for i in range(x.shape[0]):
            o[i] = 1.0 - _gradient(&t, x[i], 1.0, 1.0, &unused)
    return out


cdef const float* _lock_door(const float[::1] lockf, Py_ssize_t V) except? NULL:
    """The test doors' lock factors: NULL for None, else checked to hold V entries."""
    if lockf is None:
        return NULL
    if lockf.shape[0] != V:
        raise ValueError(f"lockf has {lockf.shape[0]} entries, the vocabulary {V}")
    return &lockf[0]


def _batched_window(weights_t W_in, weights_t W_out, const int32_t[::1] inputs,
                    const int32_t[::1] outputs, float lr, sigmoid,
                    const float[::1] lockf=None):
    """One HogBatch step: W_in rows ``inputs`` against W_out rows ``outputs`` (``outputs[0]``
    the positive, the rest shared noise words), the batched objective's update, input rows
    scaled by ``lockf`` (V factors; None: no locking). Returns the step's summed loss."""
    _check_weights(W_in, W_out)
    cdef Py_ssize_t V = W_in.shape[0], d = W_in.shape[1]
    cdef Py_ssize_t ld_in = _row_stride(W_in, "W_in"), ld_out = _row_stride(W_out, "W_out")
    cdef Py_ssize_t n_in = inputs.shape[0], n_out = outputs.shape[0]
    if not 1 <= n_in <= _BATCH_INPUTS:
        raise ValueError(f"need 1..{_BATCH_INPUTS} inputs, got {n_in}")
    if not 1 <= n_out <= _BATCH_OUTPUTS:
        raise ValueError(f"need 1..{_BATCH_OUTPUTS} outputs, got {n_out}")
    _check_ids(&inputs[0], n_in, V, "inputs")
    _check_ids(&outputs[0], n_out, V, "outputs")
    cdef const float* lock = _lock_door(lockf, V)
    cdef const float[::1] table = sigmoid.sigmoid
    cdef const float[::1] log_table = sigmoid.log_sigmoid
    cdef SigmoidTable sig = _sigmoid_view(table, log_table, float(sigmoid.max_exp))
    cdef double loss = 0.0
    cdef float* grad_in = <float*>malloc(n_in * d * sizeof(float))
    if grad_in == NULL:
        raise MemoryError()
    with nogil:
        _batched_update(&W_in[0, 0], ld_in, &W_out[0, 0], ld_out, d, &inputs[0], <int>n_in,
                        &outputs[0], <int>n_out, lr, &sig, grad_in, &loss, lock)
    free(grad_in)
    return loss


def _batched_hs_window(weights_t W_in, weights_t syn1, tree, const int32_t[::1] inputs,
                       Py_ssize_t target, float lr, sigmoid, const float[::1] lockf=None):
    """One HogBatch hierarchical-softmax step: W_in rows ``inputs`` against the inner nodes of
    ``target``'s path in ``tree`` (a cw2v.tables.HuffmanTree), the batched skip-gram's update
    with hs=1, n_neg=0, input rows scaled by ``lockf`` (V factors; None: no locking). Returns
    the step's summed loss."""
    _check_weights(W_in, syn1)
    cdef Py_ssize_t V = W_in.shape[0], d = W_in.shape[1]
    cdef Py_ssize_t ld_in = _row_stride(W_in, "W_in"), ld_syn1 = _row_stride(syn1, "syn1")
    cdef Py_ssize_t n_in = inputs.shape[0]
    if not 1 <= n_in <= _BATCH_INPUTS:
        raise ValueError(f"need 1..{_BATCH_INPUTS} inputs, got {n_in}")
    _check_ids(&inputs[0], n_in, V, "inputs")
    if not 0 <= target < V:
        raise IndexError(f"target {target} is out of range for a vocabulary of {V}")
    cdef const float* lock = _lock_door(lockf, V)
    cdef const uint8_t[::1] codes = tree.codes
    cdef const int32_t[::1] points = tree.points
    cdef const int64_t[::1] offsets = tree.offsets
    if offsets.shape[0] != V + 1:
        raise ValueError("tree.offsets must have V + 1 entries")
    cdef Py_ssize_t lo = offsets[target], length = offsets[target + 1] - offsets[target], k
    for k in range(lo, lo + length):
        if not 0 <= points[k] < V - 1 or codes[k] > 1:
            raise ValueError("tree holds a node out of range or a code that is not 0 or 1")
    cdef const float[::1] table = sigmoid.sigmoid
    cdef const float[::1] log_table = sigmoid.log_sigmoid
    cdef SigmoidTable sig = _sigmoid_view(table, log_table, float(sigmoid.max_exp))
    cdef double loss = 0.0
    cdef float* grad_in = <float*>malloc(n_in * d * sizeof(float))
    if grad_in == NULL:
        raise MemoryError()
    if length:
        with nogil:
            _batched_hs_update(&W_in[0, 0], ld_in, &syn1[0, 0], ld_syn1, d, &inputs[0],
                               <int>n_in,
                               &codes[lo], &points[lo], length, lr, &sig, grad_in, &loss, lock)
    free(grad_in)
    return loss
