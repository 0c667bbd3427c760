"""Lookup tables shared by the Cython kernel and the NumPy reference (pure NumPy).

The model owns its tables and passes them to the kernel as read-only arrays, so tests can
inspect them: the sigmoid table, the noise distribution's alias table and the subsampling
keep-probabilities.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from . import params

SIGMOID_TABLE_SIZE = 1000
MAX_EXP = 6.0


class SigmoidTables(NamedTuple):
    """sigmoid and log-sigmoid at ``size + 1`` evenly spaced knots over [-max_exp, max_exp]."""

    sigmoid: np.ndarray
    log_sigmoid: np.ndarray
    max_exp: float


def sigmoid_tables(size: int = SIGMOID_TABLE_SIZE, max_exp: float = MAX_EXP) -> SigmoidTables:
    """Build the sigmoid lookup table: ``size`` buckets over [-max_exp, max_exp] (word2vec.c:
    1000 buckets, MAX_EXP = 6), read with linear interpolation between the bucket's two knots.

    Interpolation makes the looked-up sigmoid continuous in f, so two dot products that differ
    in the last bit (SIMD vs NumPy summation order) give gradients that differ in the last bit
    too, rather than a whole table step; and it cuts the error from word2vec.c's
    sigmoid' * width = 3e-3 to width**2 / 8 * max|sigmoid''| (about 1.7e-6 here). Outside the
    range the sigmoid saturates to 0 or 1, as in word2vec.c.
    """
    if size < 2:
        raise ValueError(f"sigmoid table size must be >= 2, got {size}")
    if not max_exp > 0:
        raise ValueError(f"max_exp must be > 0, got {max_exp}")
    x = np.linspace(-max_exp, max_exp, size + 1, dtype=np.float64)
    sig = 1.0 / (1.0 + np.exp(-x))
    return SigmoidTables(sig.astype(np.float32), np.log(sig).astype(np.float32), float(max_exp))


def table_lookup(f: npt.ArrayLike, table: np.ndarray, max_exp: float) -> np.ndarray:
    """Linear interpolation in ``table`` at float32 ``f`` inside (-max_exp, max_exp), by
    exactly the kernel's float32 steps (for the reference)."""
    f = np.asarray(f, dtype=np.float32)
    size = table.shape[0] - 1
    m = np.float32(max_exp)
    scale = np.float32(np.float32(size) / (np.float32(2.0) * m))
    pos = ((f + m) * scale).astype(np.float32)
    i = np.clip(np.nan_to_num(pos).astype(np.int64), 0, size - 1)
    frac = (pos - i.astype(np.float32)).astype(np.float32)
    return (table[i] + frac * (table[i + 1] - table[i])).astype(np.float32)


def table_sigmoid(f: npt.ArrayLike, tables: SigmoidTables) -> np.ndarray:
    """The table sigmoid of float32 ``f``, by the kernel's rule (saturating outside the range)."""
    f = np.asarray(f, dtype=np.float32)
    out = table_lookup(f, tables.sigmoid, tables.max_exp)
    out = np.where(f >= tables.max_exp, np.float32(1.0), out)
    return np.where(f <= -tables.max_exp, np.float32(0.0), out).astype(np.float32)


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
    probability (sqrt(f / sample) + 1) * sample / f, capped at 1 (float32, one per word).
    ``sample == 0`` keeps all; a negative or non-finite ``sample`` is a ValueError."""
    sample = params.check("sample", sample)
    counts = np.asarray(counts, dtype=np.float64)
    if sample == 0 or counts.size == 0:
        return np.ones(counts.size, dtype=np.float32)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore"):
        p = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    return np.minimum(p, 1.0).astype(np.float32)


class HuffmanTree(NamedTuple):
    """Hierarchical softmax's binary tree over V words, word2vec.c's, in a flat CSR layout.

    Word w's path from the root runs over ``offsets[w]:offsets[w + 1]`` of ``points`` (the inner
    nodes, rows of ``syn1`` in [0, V - 1), the root V - 2 first) and ``codes`` (the branch taken
    at each, 0 or 1). Hierarchical softmax's label at a node is 1 - code (Mikolov et al. 2013b,
    eq. 3, in word2vec.c's convention).
    """

    codes: np.ndarray    # uint8 (sum of code lengths,)
    points: np.ndarray   # int32 (sum of code lengths,)
    offsets: np.ndarray  # int64 (V + 1,)

    def code(self, w: int) -> np.ndarray:
        """Word ``w``'s code, root first."""
        return self.codes[self.offsets[w]:self.offsets[w + 1]]

    def point(self, w: int) -> np.ndarray:
        """The inner nodes on word ``w``'s path, root first."""
        return self.points[self.offsets[w]:self.offsets[w + 1]]


def huffman_tree(counts: npt.ArrayLike) -> HuffmanTree:
    """word2vec.c's Huffman tree (``CreateBinaryTree``) over word counts.

    word2vec.c sorts its vocabulary by descending count, then merges the two lightest nodes
    V - 1 times with two pointers: one walking the leaves from the rarest up, one walking the
    inner nodes in the order they were made; on a tie the inner node is taken (its test is
    ``count[leaf] < count[inner]``). Inner node a (made by merge a) is ``syn1`` row a; the
    second node taken by a merge gets code bit 1. ``counts`` need not be sorted: the words are
    taken in a stable descending order (the model's own order is already sorted, so its tree
    is word2vec.c's exactly). V = 1 gives an empty path. Paths are as long as the counts make
    them (up to V - 1, for Fibonacci-like counts): no fixed MAX_CODE_LENGTH.
    """
    c = np.asarray(counts)
    if c.ndim != 1 or c.size == 0:
        raise ValueError("counts must be a non-empty 1-D array")
    if c.dtype.kind not in "iuf" or not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError("counts must be finite numbers >= 0")
    V = c.size
    order = np.argsort(-c.astype(np.float64), kind="stable")   # row in sorted order -> word
    count = [float(x) for x in c[order]] + [0.0] * (V - 1)    # leaves, then inner nodes
    parent = [0] * (2 * V - 1)
    binary = [0] * (2 * V - 1)
    pos1, pos2 = V - 1, V
    for a in range(V - 1):
        picked = []
        for _ in range(2):
            if pos1 >= 0 and (pos2 >= V + a or count[pos1] < count[pos2]):
                picked.append(pos1)
                pos1 -= 1
            else:
                picked.append(pos2)
                pos2 += 1
        count[V + a] = count[picked[0]] + count[picked[1]]
        parent[picked[0]] = parent[picked[1]] = V + a
        binary[picked[1]] = 1
    # Paths top-down: a node's parent is made after it, so walking nodes from the root down
    # finds each parent's path already built.
    root = 2 * V - 2
    path_codes: list[list[int]] = [[] for _ in range(2 * V - 1)]
    path_points: list[list[int]] = [[] for _ in range(2 * V - 1)]
    for node in range(root - 1, -1, -1):
        p = parent[node]
        path_codes[node] = path_codes[p] + [binary[node]]
        path_points[node] = path_points[p] + [p - V]
    lengths = np.zeros(V, dtype=np.int64)
    lengths[order] = [len(path_codes[r]) for r in range(V)]
    offsets = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    codes = np.zeros(offsets[-1], dtype=np.uint8)
    points = np.zeros(offsets[-1], dtype=np.int32)
    for r in range(V):
        w = order[r]
        codes[offsets[w]:offsets[w + 1]] = path_codes[r]
        points[offsets[w]:offsets[w + 1]] = path_points[r]
    return HuffmanTree(codes, points, offsets)
