"""Vocabulary: ordering, filtering, validation and the tables derived from counts."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from cw2v.tables import keep_probabilities
from cw2v.vocab import Vocabulary, select_words


def test_from_counts_sorts_by_count_then_mapping_order():
    # Ties (b/c at 3, d/a/e at 1) keep the mapping's order.
    counts = {"d": 1, "b": 3, "a": 1, "c": 3, "e": 1, "f": 7}
    vocab = Vocabulary.from_counts(counts)
    assert vocab.words == ["f", "b", "c", "d", "a", "e"]
    assert vocab.counts.tolist() == [7, 3, 3, 1, 1, 1]
    assert vocab.counts.dtype == np.int64
    assert vocab.w2i == {"f": 0, "b": 1, "c": 2, "d": 3, "a": 4, "e": 5}
    assert len(vocab) == 6
    assert "c" in vocab and "z" not in vocab
    assert vocab.total_words == 16


def test_counter_from_a_corpus_keeps_first_appearance_among_ties():
    tokens = "y x z x y z w".split()
    vocab = Vocabulary.from_counts(Counter(tokens))
    assert vocab.words == ["y", "x", "z", "w"]


def test_many_ties_keep_mapping_order():
    # Large enough that an unstable sort would scramble equal counts.
    rng = np.random.default_rng(0)
    counts = {f"w{i}": int(c) for i, c in enumerate(rng.integers(1, 4, 2000))}
    vocab = Vocabulary.from_counts(counts)
    assert vocab.words == [w for c in (3, 2, 1) for w in counts if counts[w] == c]


def test_min_count_and_max_vocab():
    counts = {"a": 5, "b": 2, "c": 4, "d": 1, "e": 4}
    vocab = Vocabulary.from_counts(counts, min_count=2)
    assert vocab.words == ["a", "c", "e", "b"]
    # total_words counts the dropped words too.
    assert vocab.total_words == 16
    # max_vocab cuts between the tied c and e by mapping order.
    assert Vocabulary.from_counts(counts, max_vocab=2).words == ["a", "c"]
    assert Vocabulary.from_counts(counts, min_count=5, max_vocab=3).words == ["a"]
    assert Vocabulary.from_counts(counts, max_vocab=100).words == ["a", "c", "e", "b", "d"]


def test_min_count_boundary_is_inclusive():
    vocab = Vocabulary.from_counts({"a": 3, "b": 2}, min_count=2)
    assert vocab.words == ["a", "b"]


@pytest.mark.parametrize("kwargs, name", [
    ({"min_count": 0}, "min_count"),
    ({"min_count": -3}, "min_count"),
    ({"min_count": 2.5}, "min_count"),
    ({"max_vocab": 0}, "max_vocab"),
    ({"max_vocab": -1}, "max_vocab"),
])
def test_bad_parameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Vocabulary.from_counts({"a": 1}, **kwargs)


def test_no_word_reaching_min_count_names_the_largest_count():
    with pytest.raises(ValueError, match=r"min_count=10.*occurs 7 times"):
        Vocabulary.from_counts({"a": 7, "b": 3}, min_count=10)


def test_bad_counts():
    with pytest.raises(ValueError, match="empty"):
        Vocabulary.from_counts({})
    with pytest.raises(ValueError, match=">= 0"):
        Vocabulary.from_counts({"a": 2, "b": -1})
    with pytest.raises(TypeError, match="whole numbers"):
        Vocabulary.from_counts({"a": 2.5})
    with pytest.raises(TypeError, match="whole numbers"):
        Vocabulary(["a"], ["3"])
    # Counts kept as floats (as a model's set_freq does) are fine when whole.
    vocab = Vocabulary.from_counts({"a": 2.0, "b": 3.0})
    assert vocab.words == ["b", "a"] and vocab.counts.dtype == np.int64
    with pytest.raises(TypeError, match="mapping"):
        Vocabulary.from_counts([("a", 1)])
    with pytest.raises(TypeError, match="str"):
        Vocabulary.from_counts({"a": 2, 3: 1})


def test_constructor_checks_its_invariants():
    vocab = Vocabulary(["a", "b"], [3, 3], total_words=10)
    assert vocab.w2i == {"a": 0, "b": 1} and vocab.total_words == 10
    assert Vocabulary(["a", "b"], [3, 1]).total_words == 4
    with pytest.raises(ValueError, match="descending"):
        Vocabulary(["a", "b"], [1, 3])
    with pytest.raises(ValueError, match="duplicate word 'a'"):
        Vocabulary(["a", "b", "a"], [3, 2, 1])
    with pytest.raises(ValueError, match="one count per word"):
        Vocabulary(["a", "b"], [3])
    with pytest.raises(ValueError, match="at least one word"):
        Vocabulary([], [])


def test_select_words_is_a_stable_descending_order():
    counts = np.array([2, 9, 2, 9, 0, 5])
    assert select_words(counts).tolist() == [1, 3, 5, 0, 2]
    assert select_words(counts, min_count=3).tolist() == [1, 3, 5]
    assert select_words(counts, max_vocab=4).tolist() == [1, 3, 5, 0]


def test_keep_prob_follows_word2vec_formula():
    vocab = Vocabulary(["a", "b", "c"], [100, 10, 1])
    sample = 0.01
    keep = keep_probabilities(vocab.counts, sample)
    assert keep.dtype == np.float32 and keep.shape == (3,)
    # word2vec.c: keep = (sqrt(f / t) + 1) * t / f with f = count / total, capped at 1.
    # a: f = 100/111, f/t = 90.090 -> (9.49158 + 1) * 0.0111 = 0.116457
    # b: f = 10/111,  f/t = 9.0090 -> (3.00150 + 1) * 0.111  = 0.444167
    # c: f = 1/111,   f/t = 0.9009 -> (0.94916 + 1) * 1.11   = 2.16 -> capped at 1
    np.testing.assert_allclose(keep, [0.116457, 0.444167, 1.0], rtol=2e-5)
    # The most frequent word is kept least often.
    assert np.all(np.diff(keep_probabilities(vocab.counts, 1e-4)) >= 0)
    assert np.all(keep_probabilities(vocab.counts, 0) == 1.0)
    with pytest.raises(ValueError, match="sample"):
        keep_probabilities(vocab.counts, -1e-3)


def test_noise_weights():
    vocab = Vocabulary(["a", "b", "c"], [81, 16, 1])
    w = vocab.noise_weights()
    assert w.dtype == np.float64
    np.testing.assert_allclose(w, [27.0, 8.0, 1.0])  # 81**0.75, 16**0.75, 1
    np.testing.assert_allclose(vocab.noise_weights(0.5), [9.0, 4.0, 1.0])
    np.testing.assert_array_equal(vocab.noise_weights(0.0), [1.0, 1.0, 1.0])
