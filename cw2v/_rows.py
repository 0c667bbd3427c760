"""Storage for the weight matrices (``W_in``, ``W_out``, ``syn1``): every row starts on a vector
boundary.

NumPy puts a large array 16 bytes past a page boundary, and a row of d float32 is 4d bytes long,
so most rows start inside a cache line: for d = 100 a quarter of the kernel's 32-byte loads and
stores straddle two lines, for d = 96 or 128 half of them, and a straddling store costs about
two. cw2v therefore allocates each matrix as the first d columns of a (V, ld) array: the array
starts on a 64-byte boundary and ld is d rounded up to the kernel copy's vector width (16, 32 or
64 bytes: ``cw2v._simd.row_bytes``), so that every row starts on a vector boundary. The model
holds the (V, d) view: its rows are contiguous (NumPy, BLAS and the kernel take it as it is), the
array as a whole is not. The padding (ld - d floats a row, 4 for d = 100 with AVX2) is never read
or written. Measured in ``bench/results/objectives-2core.txt``.
"""
from __future__ import annotations

import numpy as np

BASE_ALIGN = 64  # bytes: a cache line, and the widest vector (AVX-512)


def zeros(n_rows: int, d: int, row_bytes: int, dtype=np.float32) -> np.ndarray:
    """A zeroed (n_rows, d) array whose rows start on ``row_bytes`` boundaries (a power of two
    <= 64): the first d columns of an (n_rows, ld) array aligned to 64 bytes."""
    dtype = np.dtype(dtype)
    per_row = max(row_bytes // dtype.itemsize, 1)
    ld = -(-d // per_row) * per_row
    spare = BASE_ALIGN // dtype.itemsize
    buf = np.zeros(n_rows * ld + spare, dtype=dtype)  # calloc: pages are zeroed as touched
    start = (-buf.ctypes.data % BASE_ALIGN) // dtype.itemsize
    return buf[start:start + n_rows * ld].reshape(n_rows, ld)[:, :d]


def available_memory() -> int | None:
    """Bytes this machine can still give a process: MemAvailable + SwapFree of /proc/meminfo
    (Linux); None where that is not known."""
    try:
        with open("/proc/meminfo", "rb") as f:
            fields = dict(line.split(b":", 1) for line in f if b":" in line)
        return sum(int(fields[key].split()[0]) * 1024 for key in (b"MemAvailable", b"SwapFree"))
    except (OSError, KeyError, ValueError, IndexError):
        return None


def check_fits(what: str, rows: int, d: int, lower: str) -> None:
    """MemoryError saying ``what`` (``rows`` x ``d`` float32 in all), its size, the memory
    available and ``lower`` (what to lower), before anything is allocated, when it needs more
    than ``available_memory()``: a matrix allocated lazily past that would be killed by the
    system when its pages are touched, with no message."""
    need = int(rows) * int(d) * 4
    have = available_memory()
    if have is not None and need > have:
        raise MemoryError(f"{what} ({int(rows):,} rows x {int(d)} floats) need "
                          f"{need / 2**30:.1f} GiB; this machine has {have / 2**30:.1f} GiB "
                          f"available: {lower}")


def rows_contiguous(a: np.ndarray) -> bool:
    """Whether a 2-D array's rows are each contiguous and do not overlap (C-contiguous, or the
    first columns of a wider C-contiguous array): the layouts the kernel trains in place."""
    if a.ndim != 2:
        return False
    if a.flags.c_contiguous:
        return True
    return (a.strides[1] == a.itemsize and a.strides[0] % a.itemsize == 0
            and a.strides[0] >= a.shape[1] * a.itemsize)


def all_finite(a: np.ndarray, block_rows: int = 1 << 14) -> bool:
    """Whether every value of a 2-D array is finite, checked ``block_rows`` rows at a time: a
    temporary of one block, not a boolean array the size of the matrix (200 MB for fastText's
    2M x 100 bucket matrix, 900 MB for 3M x 300 vectors)."""
    return all(np.isfinite(a[lo:lo + block_rows]).all()
               for lo in range(0, a.shape[0], block_rows))
