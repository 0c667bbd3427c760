"""Hierarchical softmax's Huffman tree: cw2v.tables' construction (word2vec.c's two pointers)
against the reference's independent heap construction, and the properties of a Huffman code."""
from __future__ import annotations

import heapq
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cw2v import reference, tables

from conftest import shared_file


def assert_same_tree(a: tables.HuffmanTree, b: tables.HuffmanTree) -> None:
    for name, x, y in zip(a._fields, a, b):
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)


def heap_cost(counts) -> float:
    """The cost sum(count * depth) of an optimal prefix code (plain heapq Huffman)."""
    heap = [float(c) for c in counts]
    heapq.heapify(heap)
    cost = 0.0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


def check_huffman_properties(tree: tables.HuffmanTree, counts) -> None:
    V = len(counts)
    lengths = np.diff(tree.offsets)
    assert tree.offsets[0] == 0 and np.all(lengths >= (1 if V > 1 else 0))
    assert tree.codes.size == tree.points.size == tree.offsets[-1]
    assert set(np.unique(tree.codes)) <= {0, 1}
    if V == 1:
        return
    # Inner nodes are syn1 rows 0..V-2, every path starts at the root V - 2.
    assert tree.points.min() >= 0 and tree.points.max() == V - 2
    assert all(tree.point(w)[0] == V - 2 for w in range(V))
    # Kraft's equality: a full binary tree.
    assert sum(Fraction(1, 2 ** int(n)) for n in lengths) == 1
    # Prefix-free.
    words = sorted("".join(map(str, tree.code(w))) for w in range(V))
    assert all(not b.startswith(a) for a, b in zip(words, words[1:]))
    # Optimal: the same cost as any Huffman code of these counts.
    assert float(np.dot(np.asarray(counts, np.float64), lengths)) == pytest.approx(
        heap_cost(counts), rel=1e-12)
    # A node's path is consistent: the same inner node always has the same code prefix.
    seen = {}
    for w in range(V):
        for k, p in enumerate(tree.point(w)):
            prefix = tuple(tree.code(w)[:k])
            assert seen.setdefault(int(p), prefix) == prefix


def test_small_tree_is_word2vec_c():
    """Counts 5 3 3 2 1 1, worked by hand through word2vec.c's CreateBinaryTree."""
    tree = tables.huffman_tree([5, 3, 3, 2, 1, 1])
    # Merges (inner node: first, second child): 0: w5, w4; 1: node 0, w3 (count 2 each: the
    # tie goes to the inner node); 2: w2, w1; 3: node 1, w0; 4 (the root): node 2, node 3.
    assert [tree.code(w).tolist() for w in range(6)] == [
        [1, 1], [0, 1], [0, 0], [1, 0, 1], [1, 0, 0, 1], [1, 0, 0, 0]]
    assert [tree.point(w).tolist() for w in range(6)] == [
        [4, 3], [4, 2], [4, 2], [4, 3, 1], [4, 3, 1, 0], [4, 3, 1, 0]]
    check_huffman_properties(tree, [5, 3, 3, 2, 1, 1])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=80), st.booleans())
def test_tree_matches_reference(counts, sort):
    if sort:
        counts = sorted(counts, reverse=True)
    tree = tables.huffman_tree(counts)
    assert_same_tree(tree, reference.huffman_tree(counts))
    check_huffman_properties(tree, counts)


def test_tree_paths_longer_than_word2vec_c_max_code_length():
    """Fibonacci counts make a path of V - 1 nodes; word2vec.c's MAX_CODE_LENGTH is 40, cw2v's
    flat layout has no such limit."""
    fib = [1, 1]
    while len(fib) < 60:
        fib.append(fib[-1] + fib[-2])
    counts = fib[::-1]
    tree = tables.huffman_tree(counts)
    assert np.diff(tree.offsets).max() == len(counts) - 1
    assert_same_tree(tree, reference.huffman_tree(counts))
    check_huffman_properties(tree, counts)


def test_tree_bad_counts():
    for bad in ([], [[1, 2]], [1, -1], [1.0, np.nan], ["a"]):
        with pytest.raises(ValueError, match="counts"):
            tables.huffman_tree(np.array(bad))


@pytest.mark.corpus
def test_tree_on_wiki8_1m_vocabulary():
    from cw2v import corpus

    vocab, _ = corpus.build(shared_file("corpus/wiki8-1m.txt.xz"), min_count=5)
    counts = np.asarray(vocab.counts, dtype=np.int64)
    tree = tables.huffman_tree(counts)
    assert_same_tree(tree, reference.huffman_tree(counts))
    check_huffman_properties(tree, counts)
