# The skip-gram negative-sampling arithmetic, run with the GIL released.
#
# Every ``def`` here is an entry point: it checks shapes, lengths and index ranges once, then runs
# its whole loop inside one ``with nogil:`` block on raw pointers. Nothing raises inside ``nogil``.
# Python (``cw2v.model``) owns policy -- vocabulary, schedules, threads -- and builds the tables
# (sigmoid, noise, keep-probabilities) that are passed in here as read-only memoryviews.
#
# Update rule (Mikolov et al. 2013, "Distributed Representations of Words and Phrases", eq. 4;
# the order of word2vec.c): for an input vector h = W_in[i] and targets t_0 (label 1) and the
# noise words t_1..t_k (label 0)::
#
#     f     = h . W_out[t]
#     g     = lr * (label - sigmoid(f))
#     neu1e += g * W_out[t]          (W_out[t] before its update)
#     W_out[t] += g * h
#     ... and after all k+1 targets: W_in[i] += neu1e
#
# A noise word equal to the positive target is skipped.
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

import numpy as np

from vecops cimport (
    NoiseTable,
    SigmoidTable,
    cw2v_alias_draw,
    cw2v_axpy,
    cw2v_dot,
    cw2v_prefetch_row,
    cw2v_rng_below,
    cw2v_rng_next,
    cw2v_rng_uniform,
    cw2v_combine,
    cw2v_compiled_level,
    cw2v_cpu_level,
    cw2v_dots,
    cw2v_update_out,
    weights_t,
)


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
    t.size = <int>sigmoid.shape[0] - 1
    t.max_exp = max_exp
    t.scale = <float>(<float>t.size / (<float>2.0 * max_exp))
    return t


cdef NoiseTable _noise_view(const float[::1] prob, const int32_t[::1] alias, Py_ssize_t V) except *:
    """Check an alias table against the vocabulary size and return its struct."""
    if prob.shape[0] != V or alias.shape[0] != V:
        raise ValueError(f"noise table has {prob.shape[0]}/{alias.shape[0]} entries, "
                         f"the vocabulary {V}")
    cdef NoiseTable t
    t.prob = &prob[0]
    t.alias = &alias[0]
    t.n = <uint32_t>V
    return t


cdef int _check_weights(weights_t W_in, weights_t W_out) except -1:
    if W_in.shape[0] != W_out.shape[0] or W_in.shape[1] != W_out.shape[1]:
        raise ValueError(f"W_in ({W_in.shape[0]}, {W_in.shape[1]}) and W_out ({W_out.shape[0]}, {W_out.shape[1]}) "
                         "must have the same shape")
    if W_in.shape[0] < 1 or W_in.shape[1] < 1:
        raise ValueError("weights must have at least one row and one column")
    if W_in.shape[0] >= 2**31:
        raise ValueError("vocabulary larger than 2**31 - 1 words")
    return 0


cdef Py_ssize_t _first_out_of_range(const int32_t* ids, Py_ssize_t n, Py_ssize_t V) noexcept nogil:
    """Index of the first id outside [0, V), or -1."""
    cdef Py_ssize_t i
    for i in range(n):
        if ids[i] < 0 or ids[i] >= V:
            return i
    return -1


cdef int _check_ids(const int32_t[::1] ids, Py_ssize_t V, str what) except -1:
    cdef Py_ssize_t bad
    if ids.shape[0] == 0:
        return 0
    with nogil:
        bad = _first_out_of_range(&ids[0], ids.shape[0], V)
    if bad >= 0:
        raise IndexError(f"{what}[{bad}] = {ids[bad]} is out of range for a vocabulary of {V}")
    return 0


# ---------------------------------------------------------------------------------------------
# The nogil core
# ---------------------------------------------------------------------------------------------

cdef inline float _gradient(const SigmoidTable* t, float f, float label, float lr,
                            double* loss) noexcept nogil:
    """g = lr * (label - sigmoid(f)) from the table; adds -log p(label | f) to loss."""
    cdef float s, log_s, pos, frac
    cdef Py_ssize_t i
    if f >= t.max_exp:
        s = 1.0
        loss[0] += 0.0 if label > 0 else f            # -log(1 - sigmoid(f)) ~ f
    elif f <= -t.max_exp:
        s = 0.0
        loss[0] += -f if label > 0 else 0.0           # -log sigmoid(f) ~ -f
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
        # -log sigmoid(f) for the positive; for a noise word -log sigmoid(-f) = f - log sigmoid(f).
        loss[0] += -log_s if label > 0 else f - log_s
    return (label - s) * lr


cdef inline void _sgns_update(float* h, float* W_out, Py_ssize_t d, int32_t positive,
                              const int32_t* negatives, int n_neg, float lr,
                              const SigmoidTable* sig, float* neu1e, double* loss) noexcept nogil:
    """One SGNS step for input vector h, positive target and n_neg noise targets (eq. 4)."""
    cdef int t
    cdef int32_t target
    cdef float label, g, f
    cdef float* o
    memset(neu1e, 0, d * sizeof(float))
    for t in range(n_neg + 1):
        if t == 0:
            target = positive
            label = 1.0
        else:
            target = negatives[t - 1]
            if target == positive:
                continue
            label = 0.0
        o = W_out + target * d
        f = cw2v_dot(h, o, d)
        g = _gradient(sig, f, label, lr, loss)
        cw2v_update_out(g, h, o, neu1e, d)
    for t in range(d):
        h[t] += neu1e[t]


cdef inline void _batched_update(float* W_in, float* W_out, Py_ssize_t d,
                                 const int32_t* inputs, int n_in, const int32_t* outputs,
                                 int n_out, float lr, const SigmoidTable* sig, float* grad_in,
                                 double* loss) noexcept nogil:
    """HogBatch step (Ji et al. 2016): inputs share one set of outputs (outputs[0] positive).

    With I the input rows (n_in x d) and O the output rows (n_out x d)::

        S = I O^T,  G = lr (label - sigmoid(S)),  dI = G O,  dO = G^T I

    dI and dO both use the weights from before this step. Outputs equal to outputs[0] after
    position 0 are skipped, as in the exact rule.
    """
    cdef int a, b
    cdef float label
    # Row pointers and G live in small stack buffers (sizes: MAX_BATCH_INPUTS/OUTPUTS).
    cdef const float* in_rows[64]
    cdef const float* out_rows[33]
    cdef float G[64 * 33]
    cdef float* S
    for b in range(n_out):
        out_rows[b] = W_out + outputs[b] * d
    for a in range(n_in):
        in_rows[a] = W_in + inputs[a] * d
    for a in range(n_in):
        # Row a of S, then of G, then dI_a = G[a] O into grad_in (O not yet changed).
        S = G + a * n_out
        cw2v_dots(in_rows[a], out_rows, n_out, S, d)
        for b in range(n_out):
            if b > 0 and outputs[b] == outputs[0]:
                S[b] = 0.0
                continue
            label = 1.0 if b == 0 else 0.0
            S[b] = _gradient(sig, S[b], label, lr, loss)
        memset(grad_in + a * d, 0, d * sizeof(float))
        cw2v_combine(S, 1, out_rows, n_out, grad_in + a * d, d)
    # dO = G^T I, applied in place (I still holds the old inputs).
    for b in range(n_out):
        cw2v_combine(G + b, n_out, in_rows, n_in, <float*>out_rows[b], d)
    for a in range(n_in):
        cw2v_axpy(1.0, grad_in + a * d, <float*>in_rows[a], d)


# Largest window and noise count the batched mode's stack buffer G holds: 2*window <= 64 inputs,
# n_neg + 1 <= 33 outputs.
MAX_BATCH_INPUTS = 64
MAX_BATCH_OUTPUTS = 33


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------

def sgns_pair(weights_t W_in, weights_t W_out, Py_ssize_t center, Py_ssize_t context,
              const int32_t[::1] negatives, int n_neg, const float[::1] noise_prob,
              const int32_t[::1] noise_alias, uint64_t[::1] rng_state, float lr,
              const float[::1] sigmoid, const float[::1] log_sigmoid, float max_exp):
    """One SGNS update of W_in[center] against W_out[context] and n_neg noise words.

    Parameters
    ----------
    W_in, W_out : float32 (V, d), C-contiguous, updated in place.
    center, context : row indices in [0, V).
    negatives : int32 noise-word ids in [0, V), or None to draw ``n_neg`` of them from the
        alias table (noise_prob, noise_alias) with the generator state ``rng_state[0]``.
    lr : learning rate.
    sigmoid, log_sigmoid, max_exp : the tables from ``cw2v.tables.sigmoid_tables``.

    Returns
    -------
    float : the pair's loss, -log sigmoid(f+) - sum log sigmoid(-f-), from the tables.
    """
    _check_weights(W_in, W_out)
    cdef Py_ssize_t V = W_in.shape[0], d = W_in.shape[1]
    if not (0 <= center < V):
        raise IndexError(f"center index {center} is out of range for a vocabulary of {V}")
    if not (0 <= context < V):
        raise IndexError(f"context index {context} is out of range for a vocabulary of {V}")
    cdef NoiseTable noise = NoiseTable(NULL, NULL, 0)
    if negatives is not None:
        _check_ids(negatives, V, "negatives")
        n_neg = <int>negatives.shape[0]
    else:
        if n_neg < 0:
            raise ValueError(f"n_neg must be >= 0, got {n_neg}")
        noise = _noise_view(noise_prob, noise_alias, V)
        if rng_state.shape[0] != 1:
            raise ValueError("rng_state must hold one uint64")
    cdef SigmoidTable sig = _sigmoid_view(sigmoid, log_sigmoid, max_exp)
    cdef double loss = 0.0
    cdef int k
    cdef float* neu1e = <float*>malloc(d * sizeof(float) + (n_neg + 1) * sizeof(int32_t))
    if neu1e == NULL:
        raise MemoryError()
    cdef int32_t* negs = <int32_t*>(neu1e + d)
    with nogil:
        for k in range(n_neg):
            if negatives is None:
                negs[k] = cw2v_alias_draw(&rng_state[0], noise.prob, noise.alias, noise.n)
            else:
                negs[k] = negatives[k]
        _sgns_update(&W_in[center, 0], &W_out[0, 0], d, <int32_t>context, negs, n_neg, lr,
                     &sig, neu1e, &loss)
    free(neu1e)
    return loss


cdef class PairTrainer:
    """One model's arrays, checked once and held as views, for fast single-pair updates.

    ``cw2v.Word2Vec.train_pair`` keeps one of these while its arrays, learning rate and noise
    table stay the same, so a call from Python costs an index check and the update -- no
    re-validation of the arrays.
    """
    cdef weights_t W_in
    cdef weights_t W_out
    cdef const float[::1] noise_prob
    cdef const int32_t[::1] noise_alias
    cdef uint64_t[::1] rng_state
    cdef const float[::1] sigmoid
    cdef const float[::1] log_sigmoid
    cdef SigmoidTable sig
    cdef NoiseTable noise
    cdef float* neu1e
    cdef int32_t* negs
    cdef readonly int n_neg
    cdef readonly float lr
    cdef readonly tuple sources
    cdef Py_ssize_t V, d

    def __cinit__(self, W_in, W_out, noise_prob, noise_alias, rng_state, int n_neg, float lr,
                  sigmoid, log_sigmoid, float max_exp):
        self.neu1e = NULL
        self.negs = NULL
        self.W_in = W_in
        self.W_out = W_out
        _check_weights(self.W_in, self.W_out)
        self.V = self.W_in.shape[0]
        self.d = self.W_in.shape[1]
        self.noise_prob = noise_prob
        self.noise_alias = noise_alias
        self.noise = _noise_view(self.noise_prob, self.noise_alias, self.V)
        self.rng_state = rng_state
        if self.rng_state.shape[0] != 1:
            raise ValueError("rng_state must hold one uint64")
        if n_neg < 0:
            raise ValueError(f"n_neg must be >= 0, got {n_neg}")
        self.sigmoid = sigmoid
        self.log_sigmoid = log_sigmoid
        self.sig = _sigmoid_view(self.sigmoid, self.log_sigmoid, max_exp)
        self.n_neg = n_neg
        self.lr = lr
        self.sources = (W_in, W_out, noise_prob, rng_state)
        self.neu1e = <float*>malloc(self.d * sizeof(float))
        self.negs = <int32_t*>malloc((n_neg + 1) * sizeof(int32_t))
        if self.neu1e == NULL or self.negs == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.neu1e)
        free(self.negs)

    def train(self, Py_ssize_t center, Py_ssize_t context):
        """One SGNS update of W_in[center] against W_out[context] and n_neg drawn noise words;
        returns the pair's loss."""
        if not (0 <= center < self.V):
            raise IndexError(f"center index {center} is out of range for a vocabulary of {self.V}")
        if not (0 <= context < self.V):
            raise IndexError(f"context index {context} is out of range for a vocabulary of {self.V}")
        cdef double loss = 0.0
        cdef int k
        with nogil:
            for k in range(self.n_neg):
                self.negs[k] = cw2v_alias_draw(&self.rng_state[0], self.noise.prob,
                                               self.noise.alias, self.noise.n)
            _sgns_update(&self.W_in[center, 0], &self.W_out[0, 0], self.d, <int32_t>context,
                         self.negs, self.n_neg, self.lr, &self.sig, self.neu1e, &loss)
        return loss


def sgns_pairs(weights_t W_in, weights_t W_out, const int32_t[::1] centers,
               const int32_t[::1] contexts, const int32_t[:, ::1] negatives, int n_neg,
               const float[::1] noise_prob, const int32_t[::1] noise_alias,
               uint64_t[::1] rng_state, float lr, const float[::1] sigmoid,
               const float[::1] log_sigmoid, float max_exp):
    """SGNS updates for many (center, context) pairs in one nogil loop, in order.

    Noise words come from ``negatives`` (shape (n, n_neg)) when it is not None, otherwise
    ``n_neg`` of them are drawn per pair from the alias table (noise_prob, noise_alias) with
    the generator state ``rng_state[0]``, which is advanced in place.

    Returns
    -------
    float : the summed loss of all pairs.
    """
    _check_weights(W_in, W_out)
    cdef Py_ssize_t V = W_in.shape[0], d = W_in.shape[1]
    cdef Py_ssize_t n = centers.shape[0], p
    if contexts.shape[0] != n:
        raise ValueError(f"centers ({n}) and contexts ({contexts.shape[0]}) differ in length")
    if n_neg < 0:
        raise ValueError(f"n_neg must be >= 0, got {n_neg}")
    _check_ids(centers, V, "centers")
    _check_ids(contexts, V, "contexts")
    cdef bint given = negatives is not None
    cdef NoiseTable noise = NoiseTable(NULL, NULL, 0)
    if given:
        if negatives.shape[0] != n or negatives.shape[1] != n_neg:
            raise ValueError(f"negatives must have shape ({n}, {n_neg}), "
                             f"got ({negatives.shape[0]}, {negatives.shape[1]})")
        if n_neg > 0 and n > 0:
            _check_ids(np.asarray(negatives).reshape(-1), V, "negatives")
    else:
        noise = _noise_view(noise_prob, noise_alias, V)
        if rng_state.shape[0] != 1:
            raise ValueError("rng_state must hold one uint64")
    cdef SigmoidTable sig = _sigmoid_view(sigmoid, log_sigmoid, max_exp)
    cdef double loss = 0.0
    if n == 0:
        return loss
    cdef float* neu1e = <float*>malloc(d * sizeof(float))
    cdef int32_t* drawn = <int32_t*>malloc((n_neg + 1) * sizeof(int32_t))
    if neu1e == NULL or drawn == NULL:
        free(neu1e)
        free(drawn)
        raise MemoryError()
    cdef const int32_t* negs
    cdef int k
    cdef uint64_t state = rng_state[0] if not given else 0
    with nogil:
        for p in range(n):
            if given:
                negs = &negatives[p, 0] if n_neg > 0 else drawn
            else:
                for k in range(n_neg):
                    drawn[k] = cw2v_alias_draw(&state, noise.prob, noise.alias, noise.n)
                negs = drawn
            _sgns_update(&W_in[centers[p], 0], &W_out[0, 0], d, contexts[p], negs, n_neg, lr,
                         &sig, neu1e, &loss)
    if not given:
        rng_state[0] = state
    free(neu1e)
    free(drawn)
    return loss


def batched_window(weights_t W_in, weights_t W_out, const int32_t[::1] inputs,
                   const int32_t[::1] outputs, float lr, const float[::1] sigmoid,
                   const float[::1] log_sigmoid, float max_exp):
    """One HogBatch step: W_in rows ``inputs`` against W_out rows ``outputs``.

    ``outputs[0]`` is the positive target (the window's center word), ``outputs[1:]`` the
    shared noise words. A test door for the batched mode of ``train_span``.

    Returns
    -------
    float : the summed loss of the step.
    """
    _check_weights(W_in, W_out)
    cdef Py_ssize_t V = W_in.shape[0], d = W_in.shape[1]
    cdef int n_in = <int>inputs.shape[0], n_out = <int>outputs.shape[0]
    if not (1 <= n_in <= MAX_BATCH_INPUTS):
        raise ValueError(f"need 1..{MAX_BATCH_INPUTS} inputs, got {n_in}")
    if not (1 <= n_out <= MAX_BATCH_OUTPUTS):
        raise ValueError(f"need 1..{MAX_BATCH_OUTPUTS} outputs, got {n_out}")
    _check_ids(inputs, V, "inputs")
    _check_ids(outputs, V, "outputs")
    cdef SigmoidTable sig = _sigmoid_view(sigmoid, log_sigmoid, max_exp)
    cdef double loss = 0.0
    cdef float* grad_in = <float*>malloc(n_in * d * sizeof(float))
    if grad_in == NULL:
        raise MemoryError()
    with nogil:
        _batched_update(&W_in[0, 0], &W_out[0, 0], d, &inputs[0], n_in, &outputs[0], n_out,
                        lr, &sig, grad_in, &loss)
    free(grad_in)
    return loss


cdef inline int _draw_plan(uint64_t* rng, const NoiseTable* noise, int window, int n_neg,
                           bint batched, int* reduced, int32_t* negs) noexcept nogil:
    """Draw a center's window size (uniform in 1..window) and its noise words.

    Exact mode draws n_neg noise words for each of the 2 * reduced possible contexts, batched
    mode one set shared by them. Returns how many were drawn.
    """
    cdef int k
    reduced[0] = 1 + <int>cw2v_rng_below(rng, <uint32_t>window)
    cdef int n_draws = n_neg if batched else 2 * reduced[0] * n_neg
    for k in range(n_draws):
        negs[k] = cw2v_alias_draw(rng, noise.prob, noise.alias, noise.n)
    return n_draws


cdef inline void _prefetch_rows(const float* W, Py_ssize_t d, const int32_t* ids, int n) noexcept nogil:
    cdef int k
    for k in range(n):
        cw2v_prefetch_row(W + ids[k] * d, d)


cdef void _train_piece(float* W_in, float* W_out, Py_ssize_t d, const int32_t* words, int m,
                       int window, int n_neg, float lr, bint batched, const SigmoidTable* sig,
                       const NoiseTable* noise, uint64_t* rng, float* scratch, int32_t* plan_a,
                       int32_t* plan_b, int32_t* ctx, double* loss, long long* n_pairs) noexcept nogil:
    """Skip-gram over one subsampled sentence piece ``words[0:m]``.

    Each center's plan (window size and noise words) is drawn one center ahead, so the rows
    it names can be prefetched while the current center is trained.
    """
    cdef int i, j, lo, hi, n_ctx, c
    cdef int b_cur = 0, b_next = 0
    cdef int32_t* negs_cur = plan_a
    cdef int32_t* negs_next = plan_b
    cdef int32_t* swap
    if m < 2:
        return
    _draw_plan(rng, noise, window, n_neg, batched, &b_cur, negs_cur)
    for i in range(m):
        if i + 1 < m:
            _draw_plan(rng, noise, window, n_neg, batched, &b_next, negs_next)
        lo = i - b_cur if i >= b_cur else 0
        hi = i + b_cur + 1 if i + b_cur + 1 <= m else m
        if batched:
            # Prefetch the next center's output rows (its word and shared noise words).
            if i + 1 < m:
                _prefetch_rows(W_out, d, negs_next, n_neg)
                _prefetch_rows(W_out, d, &words[i + 1], 1)
                if i + 1 + b_next < m:  # the input row that enters the next window
                    _prefetch_rows(W_in, d, &words[i + 1 + b_next], 1)
            n_ctx = 0
            for j in range(lo, hi):
                if j != i:
                    ctx[n_ctx] = words[j]
                    n_ctx += 1
            # outputs: the center word, then the shared noise words, contiguous in plan.
            (negs_cur - 1)[0] = words[i]
            _batched_update(W_in, W_out, d, ctx, n_ctx, negs_cur - 1, n_neg + 1, lr, sig,
                            scratch, loss)
            n_pairs[0] += n_ctx
        else:
            # word2vec.c's skip-gram: the context word's input vector predicts the center word.
            # Each pair prefetches the rows of the next pair (or the next center's first), so
            # memory requests are spread out rather than queued all at once.
            c = 0
            for j in range(lo, hi):
                if j == i:
                    continue
                if j + 1 < hi and not (j + 1 == i and j + 2 >= hi):
                    _prefetch_rows(W_out, d, negs_cur + (c + 1) * n_neg, n_neg)
                    _prefetch_rows(W_in, d, &words[j + 2 if j + 1 == i else j + 1], 1)
                elif i + 1 < m:
                    _prefetch_rows(W_out, d, negs_next, n_neg)
                    _prefetch_rows(W_out, d, &words[i + 1], 1)
                    _prefetch_rows(W_in, d, &words[i + 1 - b_next if i + 1 >= b_next else 0], 1)
                _sgns_update(W_in + words[j] * d, W_out, d, words[i], negs_cur + c * n_neg,
                             n_neg, lr, sig, scratch, loss)
                c += 1
            n_pairs[0] += c
        swap = negs_cur
        negs_cur = negs_next
        negs_next = swap
        b_cur = b_next


def train_span(weights_t W_in, weights_t W_out, const int32_t[::1] tokens,
               const int64_t[::1] bounds, const float[::1] keep_prob,
               const float[::1] noise_prob, const int32_t[::1] noise_alias,
               uint64_t[::1] rng_state, int window, int n_neg, float lr_start, float lr_end,
               bint batched, const float[::1] sigmoid, const float[::1] log_sigmoid,
               float max_exp):
    """Train skip-gram on one span of the encoded corpus, GIL released throughout.

    Parameters
    ----------
    W_in, W_out : float32 (V, d), shared between threads and updated without locks (Hogwild).
    tokens : int32 word ids of the span.
    bounds : int64 sentence boundaries inside the span: 0 = bounds[0] < ... < bounds[-1] =
        len(tokens). Windows never cross a boundary.
    keep_prob : float32 (V,), probability of keeping each word when subsampling (word2vec.c's
        formula, built by ``cw2v.vocab``); 1 keeps every occurrence.
    noise_prob, noise_alias : the alias table of the noise distribution.
    rng_state : uint64 array of one element, the worker's generator; advanced in place.
    window : maximum window; each center draws its own from 1..window (word2vec.c).
    n_neg : noise words per positive.
    lr_start, lr_end : learning rate at the start and the end of the span (linear in between).
    batched : False for the exact rule (n_neg noise words per pair), True for HogBatch (one
        set of noise words shared by a center's window).

    Returns
    -------
    (raw_words, kept_words, pairs, loss) : tokens read, tokens kept by subsampling, positive
        pairs trained and the summed loss.
    """
    _check_weights(W_in, W_out)
    cdef Py_ssize_t V = W_in.shape[0], d = W_in.shape[1]
    cdef Py_ssize_t n = tokens.shape[0], nb = bounds.shape[0], s, p
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if n_neg < 0:
        raise ValueError(f"n_neg must be >= 0, got {n_neg}")
    if batched and (2 * window > MAX_BATCH_INPUTS or n_neg + 1 > MAX_BATCH_OUTPUTS):
        raise ValueError(f"batched mode takes window <= {MAX_BATCH_INPUTS // 2} and "
                         f"n_neg <= {MAX_BATCH_OUTPUTS - 1}")
    if keep_prob.shape[0] != V:
        raise ValueError(f"keep_prob has {keep_prob.shape[0]} entries, the vocabulary {V}")
    if rng_state.shape[0] != 1:
        raise ValueError("rng_state must hold one uint64")
    if nb < 1 or bounds[0] != 0 or bounds[nb - 1] != n:
        raise ValueError("bounds must start at 0 and end at len(tokens)")
    for s in range(1, nb):
        if bounds[s] < bounds[s - 1]:
            raise ValueError("bounds must be non-decreasing")
    _check_ids(tokens, V, "tokens")
    cdef NoiseTable noise = _noise_view(noise_prob, noise_alias, V)
    cdef SigmoidTable sig = _sigmoid_view(sigmoid, log_sigmoid, max_exp)
    cdef double loss = 0.0
    cdef long long n_pairs = 0, kept = 0
    if n == 0:
        return 0, 0, 0, 0.0

    cdef Py_ssize_t plan_len = 2 * window * n_neg + 2
    cdef int32_t* kept_words = <int32_t*>malloc(n * sizeof(int32_t))
    cdef float* scratch = <float*>malloc(2 * window * d * sizeof(float))
    cdef int32_t* plans = <int32_t*>malloc(2 * plan_len * sizeof(int32_t))
    cdef int32_t* ctx = <int32_t*>malloc(2 * window * sizeof(int32_t))
    if kept_words == NULL or scratch == NULL or plans == NULL or ctx == NULL:
        free(kept_words)
        free(scratch)
        free(plans)
        free(ctx)
        raise MemoryError()
    cdef int m
    cdef int32_t w
    cdef float lr
    # The generator state lives on this thread's stack while the span runs: two workers' state
    # arrays may share a cache line, and writing it there per draw would bounce the line.
    cdef uint64_t state = rng_state[0]
    with nogil:
        for s in range(nb - 1):
            # Subsample the sentence piece (word2vec.c: keep with probability keep_prob[w]).
            m = 0
            for p in range(bounds[s], bounds[s + 1]):
                w = tokens[p]
                if keep_prob[w] >= 1.0 or cw2v_rng_uniform(&state) < keep_prob[w]:
                    kept_words[m] = w
                    m += 1
            kept += m
            lr = lr_start + (lr_end - lr_start) * (<float>bounds[s] / <float>n)
            # plans hold one slot before each noise set for the batched mode's positive.
            _train_piece(&W_in[0, 0], &W_out[0, 0], d, kept_words, m, window, n_neg, lr,
                         batched, &sig, &noise, &state, scratch, plans + 1,
                         plans + plan_len + 1, ctx, &loss, &n_pairs)
    rng_state[0] = state
    free(kept_words)
    free(scratch)
    free(plans)
    free(ctx)
    return n, kept, n_pairs, loss


# ---------------------------------------------------------------------------------------------
# Test doors
# ---------------------------------------------------------------------------------------------

def rng_draws(uint64_t seed, Py_ssize_t n):
    """``n`` raw 64-bit outputs of the kernel's generator started from state ``seed``."""
    out = np.empty(n, dtype=np.uint64)
    cdef uint64_t[::1] o = out
    cdef uint64_t state = seed
    cdef Py_ssize_t i
    with nogil:
        for i in range(n):
            o[i] = cw2v_rng_next(&state)
    return out


def noise_draws(const float[::1] noise_prob, const int32_t[::1] noise_alias,
                uint64_t[::1] rng_state, Py_ssize_t n):
    """``n`` draws from an alias table with the kernel's sampler; ``rng_state[0]`` advances."""
    cdef NoiseTable t = _noise_view(noise_prob, noise_alias, noise_prob.shape[0])
    if t.n == 0:
        raise ValueError("empty noise table")
    if rng_state.shape[0] != 1:
        raise ValueError("rng_state must hold one uint64")
    out = np.empty(n, dtype=np.int32)
    cdef int32_t[::1] o = out
    cdef Py_ssize_t i
    with nogil:
        for i in range(n):
            o[i] = cw2v_alias_draw(&rng_state[0], t.prob, t.alias, t.n)
    return out


def sigmoid_lookup(const float[::1] x, const float[::1] sigmoid, const float[::1] log_sigmoid,
                   float max_exp):
    """The kernel's table sigmoid of each x (float32), for testing the table."""
    cdef SigmoidTable t = _sigmoid_view(sigmoid, log_sigmoid, max_exp)
    out = np.empty(x.shape[0], dtype=np.float32)
    cdef float[::1] o = out
    cdef Py_ssize_t i
    cdef double unused = 0.0
    with nogil:
        for i in range(x.shape[0]):
            o[i] = 1.0 - _gradient(&t, x[i], 1.0, 1.0, &unused)
    return out
