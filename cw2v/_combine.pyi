"""Type stub of the compiled combine step of distributed training (src_c/_combine.pyx;
``cw2v.distributed.combine_matrix`` is its API)."""
import numpy as np
from numpy.typing import NDArray

def changed_rows(W: NDArray[np.float32], R: NDArray[np.float32], due: NDArray[np.int64],
                 out: NDArray[np.uint8]) -> int: ...
def gather_deltas(W: NDArray[np.float32], R: NDArray[np.float32], rows: NDArray[np.int64],
                  out: NDArray[np.float32]) -> None: ...
def add_rows(W: NDArray[np.float32], R: NDArray[np.float32], rows: NDArray[np.int64],
             step: NDArray[np.float32]) -> None: ...
def block_momentum(W: NDArray[np.float32], R: NDArray[np.float32], G: NDArray[np.float32],
                   due: NDArray[np.int64], where: NDArray[np.int64], total: NDArray[np.float32],
                   momentum: float, size: float) -> None: ...
