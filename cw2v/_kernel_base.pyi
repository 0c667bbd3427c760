"""Type stub of the compiled word2vec kernel (src_c/kernel.pxi), the baseline copy.

``cw2v._kernel_avx2`` and ``cw2v._kernel_avx512`` are the same code compiled for wider
instruction sets; their stubs re-export this one. The kernel takes typed memoryviews, so any
C-contiguous buffer of the right dtype works; NumPy arrays are what cw2v passes.
"""
import numpy as np
import numpy.typing as npt

from cw2v.tables import AliasTable, HuffmanTree, SigmoidTables

__all__ = [
    "MAX_BATCH_INPUTS",
    "MAX_BATCH_OUTPUTS",
    "MAX_DIM",
    "MAX_NEG",
    "MAX_WINDOW",
    "OBJECTIVES",
    "KERNEL_FUNCTIONS",
    "KernelState",
    "compiled_level",
    "cpu_level",
]

_F32 = npt.NDArray[np.float32]
_I32 = npt.NDArray[np.int32]
_I64 = npt.NDArray[np.int64]
_U64 = npt.NDArray[np.uint64]

MAX_BATCH_INPUTS: int  # 64: the batched objective's 2 * window
MAX_BATCH_OUTPUTS: int  # 33: the batched objective's n_neg + 1
MAX_WINDOW: int  # 10,000
MAX_NEG: int  # 10,000
MAX_DIM: int  # 100,000
OBJECTIVES: tuple[str, ...]  # ("exact", "batched")
KERNEL_FUNCTIONS: tuple[str, ...]  # sg_ns_exact, sg_ns_batched, sg_hs, cbow, sg_hs_batched

class KernelState:
    """One worker's kernel-side state: weights, sigmoid and noise tables, keep-probabilities,
    Huffman tree, generator and scratch buffers, checked and allocated once. One thread at a
    time."""

    n_neg: int
    window: int
    objective: str
    sg: int
    hs: int
    cbow_mean: int
    kernel_function: str
    sources: tuple[_F32, _F32, SigmoidTables, AliasTable, _F32 | None]
    rng_state: int
    def __init__(
        self,
        W_in: _F32,
        W_out: _F32,
        sigmoid: SigmoidTables,
        noise: AliasTable,
        n_neg: int,
        rng_state: int,
        *,
        keep_prob: _F32 | None = None,
        window: int = 1,
        objective: str = "exact",
        sg: int = 1,
        hs: int = 0,
        cbow_mean: int = 1,
        tree: HuffmanTree | None = None,
        syn1: _F32 | None = None,
        sub_offsets: npt.NDArray[np.int64] | None = None,
        sub_rows: _I32 | None = None,
        lockf: _F32 | None = None,
    ) -> None: ...
    def train_example(
        self, inputs: _I32, target: int, lr: float, negatives: _I32 | None = None
    ) -> float:
        """One example of the state's architecture and objective (skip-gram: one input word;
        CBOW: the window's words). Returns its loss."""
    def train_pair(
        self, center: int, context: int, lr: float, negatives: _I32 | None = None
    ) -> float:
        """One SGNS update of ``W_in[center]``; noise words drawn unless given. Returns the
        pair's loss."""
    def train_pairs(
        self, centers: _I32, contexts: _I32, lr: float, negatives: _I32 | None = None
    ) -> float:
        """SGNS updates for many pairs in order; ``negatives`` has shape (n, k) or is None to
        draw n_neg a pair. Returns the summed loss."""
    def train_span(
        self, tokens: _I32, bounds: _I64, lr_start: float, lr_end: float
    ) -> tuple[int, int, int, float]:
        """Train the state's objective on one span. Returns (words, kept_words, examples,
        loss)."""

def compiled_level() -> str:
    """The instruction set this copy was compiled for: "baseline", "avx2" or "avx512"."""

def cpu_level() -> int:
    """The widest instruction set the CPU and OS support: 0 baseline, 1 AVX2+FMA, 2 AVX-512."""

# -- benchmark and test doors (private) --------------------------------------------------------


def _rng_draws(seed: int, n: int) -> _U64:
    """``n`` raw outputs of the kernel's generator started from state ``seed``."""

def _noise_draws(noise: AliasTable, seed: int, n: int) -> _I32:
    """``n`` draws from an alias table, the generator started from state ``seed``."""

def _sigmoid_lookup(x: _F32, sigmoid: SigmoidTables) -> _F32:
    """The kernel's table sigmoid of each x."""

def _batched_window(
    W_in: _F32, W_out: _F32, inputs: _I32, outputs: _I32, lr: float, sigmoid: SigmoidTables,
    lockf: _F32 | None = None,
) -> float:
    """One HogBatch step of ``inputs`` against ``outputs`` (``outputs[0]`` positive). Returns
    the summed loss."""

def _batched_hs_window(
    W_in: _F32, syn1: _F32, tree: HuffmanTree, inputs: _I32, target: int, lr: float,
    sigmoid: SigmoidTables, lockf: _F32 | None = None,
) -> float:
    """One HogBatch hierarchical-softmax step of ``inputs`` against ``target``'s path.
    Returns the summed loss."""
