"""Lookup tables shared by the Cython kernel and the NumPy reference (pure NumPy).

The model owns its tables and passes them to the kernel as read-only arrays, so tests can
inspect them: the sigmoid table, the noise distribution's alias table and the subsampling
keep-probabilities.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

SIGMOID_TABLE_SIZE = 1000
MAX_EXP = 6.0


class SigmoidTables(NamedTuple):
    """sigmoid and log-sigmoid sampled at the centres of ``size`` buckets over [-max_exp, max_exp)."""

    sigmoid: np.ndarray
    log_sigmoid: np.ndarray
    max_exp: float


def sigmoid_tables(size: int = SIGMOID_TABLE_SIZE, max_exp: float = MAX_EXP) -> SigmoidTables:
    """Build the sigmoid lookup table (word2vec.c: 1000 entries, MAX_EXP = 6).

    Entry i holds sigmoid at the centre of bucket i, x_i = -max_exp + (i + 0.5) * 2 max_exp / size,
    so the lookup error is at most sigmoid' <= 1/4 times half a bucket: max_exp / (4 size).
    (word2vec.c samples the left edge, which doubles the error.) Outside the range the
    sigmoid saturates to 0 or 1.
    """
    if size < 2:
        raise ValueError(f"sigmoid table size must be >= 2, got {size}")
    if not max_exp > 0:
        raise ValueError(f"max_exp must be > 0, got {max_exp}")
    x = -max_exp + (np.arange(size, dtype=np.float64) + 0.5) * (2.0 * max_exp / size)
    sig = 1.0 / (1.0 + np.exp(-x))
    return SigmoidTables(sig.astype(np.float32), np.log(sig).astype(np.float32), float(max_exp))


def table_sigmoid(f: np.ndarray, tables: SigmoidTables) -> np.ndarray:
    """The table sigmoid of float32 ``f``, by exactly the kernel's rule (for the reference)."""
    f = np.asarray(f, dtype=np.float32)
    size = tables.sigmoid.shape[0]
    max_exp = np.float32(tables.max_exp)
    scale = np.float32(np.float32(size) / (np.float32(2.0) * max_exp))
    idx = np.clip(((f + max_exp) * scale).astype(np.int64), 0, size - 1)
    out = tables.sigmoid[idx]
    out = np.where(f >= max_exp, np.float32(1.0), out)
    return np.where(f <= -max_exp, np.float32(0.0), out).astype(np.float32)


class AliasTable(NamedTuple):
    """Walker/Vose alias table: bucket i is kept with probability prob[i], else alias[i]."""

    prob: np.ndarray  # float32 (V,)
    alias: np.ndarray  # int32 (V,)


def alias_table(weights: np.ndarray) -> AliasTable:
    """Build a Walker/Vose alias table for sampling index i with probability weights[i] / sum.

    Vose (1991), "A linear algorithm for generating random numbers with a given distribution".
    A draw picks a bucket uniformly, then keeps it with probability prob[i] or takes alias[i].
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError("noise weights must be a non-empty 1-D array")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("noise weights must be finite, >= 0 and not all zero")
    n = w.size
    scaled = w * (n / w.sum())
    prob = np.ones(n, dtype=np.float64)
    alias = np.arange(n, dtype=np.int64)
    small = np.flatnonzero(scaled < 1.0)
    large = np.flatnonzero(scaled >= 1.0)
    # Pair small and large buckets a batch at a time; a large bucket that drops below 1 joins
    # the small ones. Each round retires min(len(small), len(large)) small buckets.
    while small.size and large.size:
        k = min(small.size, large.size)
        s, l = small[:k], large[:k]
        prob[s] = scaled[s]
        alias[s] = l
        np.subtract.at(scaled, l, 1.0 - scaled[s])
        still_large = l[scaled[l] >= 1.0]
        now_small = l[scaled[l] < 1.0]
        small = np.concatenate([small[k:], now_small])
        large = np.concatenate([still_large, large[k:]])
    # Whatever is left is 1 up to rounding: always kept.
    prob[small] = 1.0
    prob[large] = 1.0
    return AliasTable(prob.astype(np.float32), alias.astype(np.int32))


def alias_probabilities(table: AliasTable) -> np.ndarray:
    """The distribution an alias table samples from (float64), for tests."""
    n = table.prob.size
    p = table.prob.astype(np.float64) / n
    np.add.at(p, table.alias, (1.0 - table.prob.astype(np.float64)) / n)
    return p


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec.c's subsampling: keep a word of corpus frequency f = count / total with
    probability (sqrt(f / sample) + 1) * sample / f, capped at 1. ``sample <= 0`` keeps all."""
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0 or counts.size == 0:
        return np.ones(counts.size, dtype=np.float32)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore"):
        p = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    return np.minimum(p, 1.0).astype(np.float32)
