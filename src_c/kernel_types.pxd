# The kernel's C types (kernel.pxi): its tables, the model the workers share, and one worker's
# state -- kept apart as fastText keeps Model and Model::State.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

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

# The model every worker reads and trains (Hogwild): pointers to the shared weights and tables,
# their sizes and the hyper-parameters. Filled once by KernelState, which holds the arrays.
cdef struct Model:
    float* W_in          # (V, d) input vectors
    float* W_out         # (V, d) output vectors (negative sampling; word2vec.c's syn1neg)
    Py_ssize_t d
    Py_ssize_t ld_in     # row strides (floats) of W_in, W_out and syn1: >= d
    Py_ssize_t ld_out
    Py_ssize_t ld_syn1
    Py_ssize_t window    # maximum window; each center draws its own from 1..window
    Py_ssize_t n_neg     # noise words per positive
    SigmoidTable sig
    NoiseTable noise
    # Architecture and hierarchical softmax (Mikolov et al. 2013a, 2013b):
    bint cbow_mean       # CBOW: h is the mean (1) or the sum (0) of the context rows
    bint hs              # hierarchical softmax on (the tree and syn1 below are set)
    float* syn1          # (V, d) inner-node weights; row V - 1 unused
    const uint8_t* codes        # Huffman codes, all words' paths back to back
    const int32_t* points       # inner nodes (syn1 rows) on those paths
    const int64_t* path_offsets # (V + 1,): word w's path is [path_offsets[w], path_offsets[w+1])
    # fastText's subword input (Bojanowski et al. 2017; cw2v.subwords): word w's input vector
    # is the mean of the W_in rows sub_rows[sub_offsets[w]:sub_offsets[w + 1]] (its own row,
    # then its n-gram buckets' rows, V + bucket rows in all). NULL: plain word2vec.
    const int64_t* sub_offsets  # (V + 1,)
    const int32_t* sub_rows
    # gensim's vectors_lockf: W_in row w's update is scaled by lockf[w] (0 freezes the row, 1
    # trains it as usual); NULL: no locking (every row 1, the path with no extra work).
    const float* lockf          # (V,) or NULL

# One worker's own state: its scratch buffers (owned by its KernelState) and its generator.
cdef struct WorkerState:
    float* grad          # d floats (exact: neu1e), 2 * d (CBOW: h, neu1e), or 2 * window * d
                         # (batched: dI)
    int32_t* plan_a      # a center's drawn noise words; one free slot before each plan
    int32_t* plan_b      # (the batched mode's positive goes there)
    int32_t* ctx         # 2 * window context ids (batched and CBOW)
    uint64_t rng         # the generator's state (splitmix64)
