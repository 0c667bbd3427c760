# cython: language_level=3
"""The combine step of distributed training (``cw2v.distributed.combine_matrix``), fused.

A combine reads each matrix's rows a few times: which rows this rank changed since the last
combine, their deltas, and the combined step written back. NumPy does each as a pass over the
whole matrix with a matrix-sized temporary (about ten passes a combine); these loops do each in
one pass, touching only the rows that need it, with the GIL released (the in-process group's
ranks are threads). The arithmetic is the rules' (``Rule.combine``, the NumPy form the tests
hold these loops to), in the same float32 operations and order.

Every function checks its arguments' shapes and row indices before its loop. ``W`` may be a
view of wider rows (the model's padded matrices, ``cw2v._rows``): its rows must be contiguous.
"""
from libc.stdint cimport int64_t, uint8_t
from libc.string cimport memcmp


cdef int _check_rows(const int64_t[::1] rows, Py_ssize_t n, str what) except -1:
    """IndexError unless every rows[k] lies in [0, n)."""
    cdef Py_ssize_t k
    for k in range(rows.shape[0]):
        if rows[k] < 0 or rows[k] >= n:
            raise IndexError(f"{what}: row {rows[k]} outside a matrix of {n} rows")
    return 0


cdef int _check_pair(const float[:, :] W, const float[:, ::1] R) except -1:
    if W.shape[1] > 1 and W.strides[1] != <Py_ssize_t>sizeof(float):
        raise ValueError(f"the weights' rows must be contiguous, got a column stride of "
                         f"{W.strides[1]} bytes")
    if W.shape[0] != R.shape[0] or W.shape[1] != R.shape[1]:
        raise ValueError(f"the weights ({W.shape[0]}, {W.shape[1]}) and their reference "
                         f"({R.shape[0]}, {R.shape[1]}) differ in shape")
    return 0


def changed_rows(const float[:, :] W, const float[:, ::1] R, const int64_t[::1] due,
                 uint8_t[::1] out) -> int:
    """out[k] = 1 where row due[k] of W differs from R's (bit for bit: its delta W - R is not
    all zeros), else 0. Returns how many rows changed."""
    _check_pair(W, R)
    _check_rows(due, W.shape[0], "changed_rows")
    if out.shape[0] != due.shape[0]:
        raise ValueError("changed_rows: out must hold one flag a due row")
    cdef Py_ssize_t k, n = due.shape[0], d = W.shape[1]
    cdef int64_t count = 0
    cdef size_t row_bytes = d * sizeof(float)
    with nogil:
        for k in range(n):
            out[k] = memcmp(&W[due[k], 0], &R[due[k], 0], row_bytes) != 0
            count += out[k]
    return count


def gather_deltas(const float[:, :] W, const float[:, ::1] R, const int64_t[::1] rows,
                  float[:, ::1] out) -> None:
    """out[k] = W[rows[k]] - R[rows[k]]."""
    _check_pair(W, R)
    _check_rows(rows, W.shape[0], "gather_deltas")
    if out.shape[0] != rows.shape[0] or out.shape[1] != W.shape[1]:
        raise ValueError("gather_deltas: out must be (len(rows), d)")
    cdef Py_ssize_t k, t, d = W.shape[1]
    cdef const float* w
    cdef const float* ref
    cdef float* o
    with nogil:
        for k in range(rows.shape[0]):
            w, ref, o = &W[rows[k], 0], &R[rows[k], 0], &out[k, 0]
            for t in range(d):
                o[t] = w[t] - ref[t]


def add_rows(float[:, :] W, float[:, ::1] R, const int64_t[::1] rows,
             const float[:, ::1] step) -> None:
    """R[rows[k]] += step[k], then W[rows[k]] = R[rows[k]]: the group's step applied and the
    rank's weights set to the group's."""
    _check_pair(W, R)
    _check_rows(rows, W.shape[0], "add_rows")
    if step.shape[0] != rows.shape[0] or step.shape[1] != W.shape[1]:
        raise ValueError("add_rows: step must be (len(rows), d)")
    cdef Py_ssize_t k, t, d = W.shape[1]
    cdef float* w
    cdef float* ref
    cdef const float* s
    cdef float x
    with nogil:
        for k in range(rows.shape[0]):
            w, ref, s = &W[rows[k], 0], &R[rows[k], 0], &step[k, 0]
            for t in range(d):
                x = ref[t] + s[t]
                ref[t] = x
                w[t] = x


def block_momentum(float[:, :] W, float[:, ::1] R, float[:, ::1] G, const int64_t[::1] due,
                   const int64_t[::1] where, const float[:, ::1] total, float momentum,
                   float size) -> None:
    """BMUF's step (Chen & Huo 2016, eq. 3-4) over rows due: G = momentum * G + total / size,
    R += G, W = R, where total is row where[k]'s summed delta (``where``: ascending positions
    in ``due``) and 0 for the other due rows. A due row with G all zeros and no delta stays
    as it is (the step would add zeros)."""
    _check_pair(W, R)
    _check_pair(G, R)
    _check_rows(due, W.shape[0], "block_momentum")
    _check_rows(where, due.shape[0], "block_momentum")
    if total.shape[0] != where.shape[0] or total.shape[1] != W.shape[1]:
        raise ValueError("block_momentum: total must be (len(where), d)")
    cdef Py_ssize_t j, k = 0, t, i, d = W.shape[1], n_where = where.shape[0]
    cdef float g, x
    cdef float* w
    cdef float* ref
    cdef float* gm
    cdef const float* tot
    cdef bint hit, idle
    for j in range(1, n_where):
        if where[j] <= where[j - 1]:
            raise ValueError("block_momentum: where must be ascending")
    with nogil:
        for j in range(due.shape[0]):
            i = due[j]
            w, ref, gm = &W[i, 0], &R[i, 0], &G[i, 0]
            hit = k < n_where and where[k] == j
            if hit:
                tot = &total[k, 0]
                for t in range(d):
                    g = gm[t] * momentum + tot[t] / size
                    gm[t] = g
                    x = ref[t] + g
                    ref[t] = x
                    w[t] = x
                k += 1
                continue
            idle = True
            for t in range(d):
                if gm[t] != 0:
                    idle = False
                    break
            if idle:
                continue
            for t in range(d):
                g = gm[t] * momentum + <float>0.0  # (+ 0: the NumPy form adds the zero delta)
                gm[t] = g
                x = ref[t] + g
                ref[t] = x
                w[t] = x
