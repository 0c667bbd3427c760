"""Type stub of the compiled SGNS kernel (src_c/sgns.pxi), the baseline copy.

``cw2v._kernel_avx2`` and ``cw2v._kernel_avx512`` are the same code compiled for wider
instruction sets; their stubs re-export this one. The kernel takes typed memoryviews, so any
C-contiguous buffer of the right dtype works; NumPy arrays are what cw2v passes. An array argument
that is ``None`` reads as empty and fails the kernel's shape checks, except where noted.
"""
import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_BATCH_INPUTS",
    "MAX_BATCH_OUTPUTS",
    "PairTrainer",
    "batched_window",
    "compiled_level",
    "cpu_level",
    "noise_draws",
    "rng_draws",
    "sgns_pair",
    "sgns_pairs",
    "sigmoid_lookup",
    "train_span",
]

_F32 = npt.NDArray[np.float32]
_I32 = npt.NDArray[np.int32]
_I64 = npt.NDArray[np.int64]
_U64 = npt.NDArray[np.uint64]

MAX_BATCH_INPUTS: int
MAX_BATCH_OUTPUTS: int

class PairTrainer:
    """One model's arrays, checked once and held as views, for fast single-pair updates."""

    n_neg: int
    lr: float
    sources: tuple[_F32, _F32, _F32, _U64]
    def __init__(
        self,
        W_in: _F32,
        W_out: _F32,
        noise_prob: _F32,
        noise_alias: _I32,
        rng_state: _U64,
        n_neg: int,
        lr: float,
        sigmoid: _F32,
        log_sigmoid: _F32,
        max_exp: float,
    ) -> None: ...
    def train(self, center: int, context: int) -> float:
        """One SGNS update with n_neg drawn noise words; returns the pair's loss."""

def compiled_level() -> str:
    """The instruction set this copy was compiled for: "baseline", "avx2" or "avx512"."""

def cpu_level() -> int:
    """The widest instruction set the CPU and OS support: 0 baseline, 1 AVX2+FMA, 2 AVX-512."""

def sgns_pair(
    W_in: _F32,
    W_out: _F32,
    center: int,
    context: int,
    negatives: _I32 | None,
    n_neg: int,
    noise_prob: _F32 | None,
    noise_alias: _I32 | None,
    rng_state: _U64 | None,
    lr: float,
    sigmoid: _F32,
    log_sigmoid: _F32,
    max_exp: float,
) -> float:
    """One SGNS update of ``W_in[center]``; the noise table and ``rng_state`` are only read
    when ``negatives`` is None. Returns the pair's loss."""

def sgns_pairs(
    W_in: _F32,
    W_out: _F32,
    centers: _I32,
    contexts: _I32,
    negatives: _I32 | None,
    n_neg: int,
    noise_prob: _F32 | None,
    noise_alias: _I32 | None,
    rng_state: _U64 | None,
    lr: float,
    sigmoid: _F32,
    log_sigmoid: _F32,
    max_exp: float,
) -> float:
    """SGNS updates for many pairs in order; ``negatives`` has shape (n, n_neg) or is None to
    draw from the noise table. Returns the summed loss."""

def batched_window(
    W_in: _F32,
    W_out: _F32,
    inputs: _I32,
    outputs: _I32,
    lr: float,
    sigmoid: _F32,
    log_sigmoid: _F32,
    max_exp: float,
) -> float:
    """One HogBatch step of ``inputs`` against ``outputs`` (``outputs[0]`` positive). Returns
    the summed loss."""

def train_span(
    W_in: _F32,
    W_out: _F32,
    tokens: _I32,
    bounds: _I64,
    keep_prob: _F32,
    noise_prob: _F32,
    noise_alias: _I32,
    rng_state: _U64,
    window: int,
    n_neg: int,
    lr_start: float,
    lr_end: float,
    batched: bool,
    sigmoid: _F32,
    log_sigmoid: _F32,
    max_exp: float,
) -> tuple[int, int, int, float]:
    """Train skip-gram on one span. Returns (raw_words, kept_words, pairs, loss)."""

def rng_draws(seed: int, n: int) -> _U64:
    """``n`` raw outputs of the kernel's generator started from state ``seed``."""

def noise_draws(noise_prob: _F32, noise_alias: _I32, rng_state: _U64, n: int) -> _I32:
    """``n`` draws from an alias table; ``rng_state[0]`` advances."""

def sigmoid_lookup(x: _F32, sigmoid: _F32, log_sigmoid: _F32, max_exp: float) -> _F32:
    """The kernel's table sigmoid of each x."""
